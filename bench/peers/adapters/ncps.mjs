// ncps-ts contestants: CfC (elapsed time as timespans), LSTM and GRU (elapsed time as an input), trained
// by ncps-ts/node's fit. fit owns the epoch loop, so a turn is driven from its callbacks: onEpochEnd
// waits for the next turn, onBatchEnd stops the run once the time budget is spent.
import { readFileSync } from "node:fs";
import { CfC, GRU, LSTM, fit, predictDataset } from "../../../dist/node.js";
import { makeSplits } from "../task.mjs";

const rootPackage = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));

function buildModel(model, hidden, seed) {
  if (model === "cfc") return new CfC(1, hidden, { backboneUnits: 64, projSize: 1, seed });
  if (model === "lstm") return new LSTM(2, hidden, { projSize: 1, seed });
  if (model === "gru") return new GRU(2, hidden, { projSize: 1, seed });
  throw new Error(`ncps-ts contestant: model must be cfc, lstm or gru, got ${model}`);
}

export async function create(spec, sizes) {
  const splits = makeSplits(sizes, spec.model !== "cfc");
  const net = buildModel(spec.model, spec.hidden, spec.seed);
  let turn = null; // { started, budgetSeconds, resolve }
  let wakeNextTurn = null;
  let stoppedEarly = false;
  let run = null;

  const callbacks = {
    onBatchEnd(info) {
      if ((performance.now() - turn.started) / 1000 >= turn.budgetSeconds && info.batch < info.batches) {
        stoppedEarly = true;
        return false;
      }
    },
    onEpochEnd(info) {
      const t = turn;
      turn = null;
      t.resolve({ seconds: (performance.now() - t.started) / 1000, complete: !stoppedEarly, loss: info.trainLoss, budgetSpent: stoppedEarly });
      if (stoppedEarly) return false;
      return new Promise((resume) => (wakeNextTurn = resume));
    },
  };

  return {
    describe: {
      library: "ncps-ts",
      version: `${rootPackage.version}`,
      backend: `wasm simd engine, ${spec.threads} thread${spec.threads > 1 ? "s" : ""} (fit threads: ${spec.threads})`,
      params: net.parameterCount(),
      optimizer: `Adam (fit, lr ${spec.lr}, constant)`,
      inputs: spec.model === "cfc" ? "pulse; elapsed time as CfC timespans" : "pulse and elapsed time as 2 input features",
    },
    trainTurn(budgetSeconds) {
      return new Promise((resolve) => {
        turn = { started: performance.now(), budgetSeconds, resolve };
        if (run === null) {
          run = fit(net, splits.train, { epochs: 1_000_000, batchSize: sizes.batch, optimizer: "adam", lr: spec.lr, seed: spec.seed, threads: spec.threads, callbacks });
        } else {
          const wake = wakeNextTurn;
          wakeNextTurn = null;
          wake(true);
        }
      });
    },
    predict(split) {
      return predictDataset(net, splits[split]);
    },
    splits,
    async close() {
      // ends the run when the budget ran out exactly at an epoch's end (fit then stops its workers)
      if (wakeNextTurn) wakeNextTurn(false);
      if (run) await run;
    },
  };
}
