// brain.js contestant: recurrent.LSTMTimeStep with its own training step (trainPattern: forward,
// backpropagation through time, its RMSprop-style update with per-weight clipping). LSTMTimeStep's
// train() only learns next-step forecasting (outputs = inputs), so the input-to-target mapping is
// supplied as its trainInput: each step's equation is asked for that step's target, the same way its
// own trainArrays asks for the next input. One sequence per update: brain.js has no mini-batches.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import brain from "brain.js";
import { makeSplits, mulberry32, shuffledOrder } from "../task.mjs";

const require = createRequire(import.meta.url);
const version = JSON.parse(readFileSync(require.resolve("brain.js/package.json"), "utf8")).version;

/** A dataset as brain.js wants it: one small array per step. */
function toSequences(ds) {
  const { steps: L, features: F } = ds;
  return Array.from({ length: ds.size }, (_, n) => ({
    x: Array.from({ length: L }, (_, t) => ds.x.subarray((n * L + t) * F, (n * L + t + 1) * F)),
    y: Array.from({ length: L }, (_, t) => ds.y.subarray(n * L + t, n * L + t + 1)),
  }));
}

export async function create(spec, sizes) {
  const splits = makeSplits(sizes, true);
  const { steps: L, batch: B } = sizes;
  const net = new brain.recurrent.LSTMTimeStep({ inputSize: splits.train.features, hiddenLayers: [spec.hidden], outputSize: 1 });
  net.trainOpts.learningRate = spec.lr;
  net.initialize();
  const equations = net.model.equations;
  const bindSteps = (n) => {
    while (equations.length < n) net.bindEquation();
  };
  // Exactly one equation per step, all of them used: backpropagate() runs through every bound equation.
  // No end() after a sequence as trainArrays does: it feeds the last equation outputSize zeros, which
  // only works when inputs and outputs have the same size (here it makes every gradient NaN).
  net.trainInput = (seq) => {
    bindSteps(seq.x.length);
    let error = 0;
    for (let t = 0; t < seq.x.length; t++) error += equations[t].predictTarget(seq.x[t], seq.y[t]);
    return error / seq.x.length;
  };
  const train = toSequences(splits.train);
  const params = net.model.allMatrices.reduce((s, m) => s + m.weights.length, 0);
  const rng = mulberry32(spec.seed);

  return {
    describe: {
      library: "brain.js",
      version,
      backend: "cpu (pure JavaScript, 1 thread)",
      params,
      optimizer: `brain.js's own RMSprop-style update (decay 0.999, per-weight clip 5, L2 1e-6), lr ${spec.lr}; no Adam`,
      inputs: "pulse and elapsed time as 2 input features",
      batchNote: `batch size 1 (one sequence per update; brain.js has no mini-batches); the budget is checked every ${B} sequences`,
      notes: "recurrent.LSTMTimeStep with a per-step target mapping supplied as trainInput (its train() only forecasts the next input); training loss is its mean absolute error",
    },
    async trainTurn(budgetSeconds) {
      const started = performance.now();
      const order = shuffledOrder(train.length, rng);
      let sum = 0;
      for (let i = 0; i < order.length; i++) {
        sum += net.trainPattern(train[order[i]], true);
        const atCheck = (i + 1) % B === 0 && i + 1 < order.length;
        if (atCheck && (performance.now() - started) / 1000 >= budgetSeconds) {
          return { seconds: (performance.now() - started) / 1000, complete: false, loss: sum / (i + 1), budgetSpent: true };
        }
      }
      return { seconds: (performance.now() - started) / 1000, complete: true, loss: sum / order.length, budgetSpent: false };
    },
    predict(split) {
      const ds = splits[split];
      const out = new Float32Array(ds.size * L);
      bindSteps(L);
      for (const [n, seq] of toSequences(ds).entries()) {
        for (let t = 0; t < L; t++) out[n * L + t] = equations[t].runInput(seq.x[t]).weights[0];
      }
      return out;
    },
    splits,
    async close() {},
  };
}
