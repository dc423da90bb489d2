/**
 * `ncps demo` (npm run demo): trains a CfC and an LSTM on a generated, irregularly sampled task and
 * reports what each learned and how fast, with plots. No data files, no network.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { leakyMemoryTask } from "../data/synthetic.js";
import type { SequenceDataset } from "../data/dataset.js";
import { writeFileAtomic } from "../io/atomic.js";
import { CfC } from "../models/cfc.js";
import { LSTM } from "../models/lstm.js";
import type { RecurrentModel } from "../models/recurrent.js";
import { figureSvg, type LineSeries } from "../plot/svg-plot.js";
import { evaluate, predictDataset } from "../train/evaluate.js";
import { fit } from "../train/trainer.js";
import { CliError, type CliIO, intFlag, parseArgs } from "./util.js";

const USAGE = `usage: ncps demo [--epochs N] [--out-dir DIR] [--threads N] [--seed N]

Generates the "leaky memory" task: pulses observed at irregular times, the target is their
exponentially decaying sum (it depends on the elapsed time between observations). Trains a CfC
(elapsed times as its timespans) and an LSTM (elapsed time as an extra input), prints the test
error (also on sequences sampled more sparsely than any training sequence), the time per epoch and
the parameter counts, and writes curves.svg and predictions.svg.`;

interface Outcome {
  name: string;
  params: number;
  testMse: number;
  sparseMse: number;
  secondsPerEpoch: number;
  curve: number[];
  predictions: Float64Array;
}

async function trainOne(name: string, model: RecurrentModel, train: SequenceDataset, valid: SequenceDataset, test: SequenceDataset, sparse: SequenceDataset, epochs: number, threads: number, seed: number, io: CliIO): Promise<Outcome> {
  io.err(`\n${name}: ${model.parameterCount()} parameters\n`);
  const curve: number[] = [];
  const result = await fit(model, train, {
    epochs,
    batchSize: 32,
    lr: 0.01,
    schedule: "exp:0.95",
    valid,
    seed,
    threads,
    callbacks: {
      onEpochEnd(info) {
        curve.push(info.validLoss ?? NaN);
        io.err(`  epoch ${String(info.epoch).padStart(2)}  train ${info.trainLoss.toFixed(4)}  valid ${(info.validLoss ?? NaN).toFixed(4)}  ${info.seconds.toFixed(2)} s\n`);
      },
    },
  });
  const seconds = result.history.reduce((s, r) => s + r.trainSeconds, 0) / Math.max(1, result.history.length);
  const r = evaluate(model, test);
  const s = evaluate(model, sparse);
  return { name, params: model.parameterCount(), testMse: r.metrics.mse ?? r.loss, sparseMse: s.metrics.mse ?? s.loss, secondsPerEpoch: seconds, curve, predictions: Float64Array.from(predictDataset(model, test)) };
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { flags } = parseArgs(argv, { epochs: { type: "string", default: "20" }, "out-dir": { type: "string", default: "demo-output" }, threads: { type: "string", default: "1" }, seed: { type: "string", default: "1" } }, USAGE);
  const epochs = intFlag(flags, "epochs", USAGE, 1)!;
  const threads = intFlag(flags, "threads", USAGE, 1)!;
  const seed = intFlag(flags, "seed", USAGE, 0)!;
  const outDir = flags["out-dir"] as string;
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create ${outDir}: ${(e as Error).message}`);
  }
  const sizes = { train: 2048, valid: 256, test: 512, steps: 64 };
  const make = (n: number, s: number, elapsedAsFeature: boolean, maxGap = 3) => leakyMemoryTask({ sequences: n, steps: sizes.steps, seed: s, elapsedAsFeature, maxGap });
  io.err(`leaky memory task: ${sizes.train} training, ${sizes.valid} validation, ${sizes.test} test sequences of ${sizes.steps} irregularly spaced observations\n`);
  // the last set is sampled more sparsely than training ever was (gaps up to 8 instead of 3)
  const cfcData = [make(sizes.train, 1, false), make(sizes.valid, 2, false), make(sizes.test, 3, false), make(sizes.test, 4, false, 8)];
  const lstmData = [make(sizes.train, 1, true), make(sizes.valid, 2, true), make(sizes.test, 3, true), make(sizes.test, 4, true, 8)];
  const test = cfcData[2];
  let variance = 0;
  for (const v of test.y) variance += v * v;
  variance /= test.y.length;

  const cfc = await trainOne("CfC (elapsed time as timespans)", new CfC(1, 32, { backboneUnits: 64, projSize: 1, seed }), cfcData[0], cfcData[1], cfcData[2], cfcData[3], epochs, threads, seed, io);
  const lstm = await trainOne("LSTM (elapsed time as an input)", new LSTM(2, 48, { projSize: 1, seed }), lstmData[0], lstmData[1], lstmData[2], lstmData[3], epochs, threads, seed, io);

  const ep = Array.from({ length: epochs }, (_, i) => i + 1);
  const curves = figureSvg(
    [{ title: "validation mean squared error", xLabel: "epoch", yLabel: "MSE", logY: true, series: [{ name: "CfC", x: ep, y: cfc.curve }, { name: "LSTM", x: ep, y: lstm.curve }] }],
    { title: "leaky memory task: training curves" },
  );
  const panels = [0, 1, 2].map((n) => {
    const L = test.steps;
    const time: number[] = [];
    let t = 0;
    for (let k = 0; k < L; k++) time.push((t += test.timespans![n * L + k]));
    const pick = (a: ArrayLike<number>) => Array.from({ length: L }, (_, k) => a[n * L + k]);
    const series: LineSeries[] = [
      { name: "target", x: time, y: pick(test.y) },
      { name: "CfC", x: time, y: pick(cfc.predictions), dashed: true },
      { name: "LSTM", x: time, y: pick(lstm.predictions), dashed: true },
    ];
    return { title: `test sequence ${n}`, xLabel: "time", yLabel: "value", series };
  });
  const preds = figureSvg(panels, { title: "leaky memory task: predictions on test sequences" });
  writeFileAtomic(path.join(outDir, "curves.svg"), curves);
  writeFileAtomic(path.join(outDir, "predictions.svg"), preds);

  const rows = [cfc, lstm].map((o) => `  ${o.name.padEnd(34)} test MSE ${o.testMse.toFixed(5)}  sparser test MSE ${o.sparseMse.toFixed(5)}  ${(o.secondsPerEpoch * 1000).toFixed(0)} ms/epoch  ${o.params} parameters`);
  io.out(
    `\nresults (predicting 0 everywhere scores MSE ${variance.toFixed(4)}; "sparser": observation gaps up to 8, training saw up to 3):\n` +
      `${rows.join("\n")}\nplots: ${path.join(outDir, "curves.svg")}, ${path.join(outDir, "predictions.svg")}\n`,
  );
  return 0;
}
