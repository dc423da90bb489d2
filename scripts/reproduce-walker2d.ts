// Reproduces the CfC paper's Walker2d per-time-step regression (Table 7 of arXiv v2: CfC 0.643 +- 0.006
// test MSE) with the paper's "default" configuration: 64 units, backbone 256 x 1 (silu), Adam lr 0.02
// decayed x0.95 per epoch, batch 256, gradient clipping 1, weight decay 1e-6, 50 epochs; the model
// with the best validation loss is evaluated on the test set.
// Usage: npx tsx scripts/reproduce-walker2d.ts [--data ../shared/data/walker2d] [--epochs 50]
//        [--model cfc|cfc-mixed|cfc-no_gate|ltc|lstm] [--lr X] [--threads 2] [--seed 1] [--out result.json]
import { writeFileSync } from "node:fs";
import path from "node:path";
import { loadWalker2d } from "../src/data/walker2d.js";
import { CfC } from "../src/models/cfc.js";
import { LSTM } from "../src/models/lstm.js";
import { LTC } from "../src/models/ltc.js";
import type { RecurrentModel } from "../src/models/recurrent.js";
import { evaluate } from "../src/train/evaluate.js";
import { fit } from "../src/train/trainer.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const dataDir = opt("data", path.resolve(import.meta.dirname ?? ".", "../../shared/data/walker2d"));
const epochs = Number(opt("epochs", "50"));
const kind = opt("model", "cfc");
const threads = Number(opt("threads", "2"));
const seed = Number(opt("seed", "1"));
const out = opt("out", "");

const data = loadWalker2d(dataDir);
console.error(`walker2d: ${data.train.size} train, ${data.valid.size} valid, ${data.test.size} test windows of 64 steps x 17`);
const models: Record<string, () => RecurrentModel> = {
  cfc: () => new CfC(17, 64, { backboneUnits: 256, backboneLayers: 1, activation: "silu", projSize: 17, seed }),
  "cfc-no_gate": () => new CfC(17, 256, { mode: "no_gate", backboneUnits: 128, activation: "lecun_tanh", projSize: 17, seed }),
  "cfc-mixed": () => new CfC(17, 128, { mixedMemory: true, backboneUnits: 128, backboneLayers: 2, backboneDropout: 0.2, projSize: 17, seed }),
  ltc: () => new LTC(17, 128, { seed }),
  lstm: () => new LSTM(17, 64, { projSize: 17, seed }),
};
const make = models[kind];
if (!make) throw new Error(`--model must be one of ${Object.keys(models).join(", ")}`);
const model = make();
const lr = Number(opt("lr", kind === "ltc" ? "0.05" : kind === "cfc" ? "0.02" : "0.005"));
const started = performance.now();
const result = await fit(model, data.train, {
  epochs,
  batchSize: 256,
  lr,
  schedule: "exp:0.95",
  clipNorm: 1,
  weightDecay: 1e-6,
  valid: data.valid,
  earlyStopping: { patience: epochs, metric: "loss" }, // keeps and restores the best validation epoch
  threads,
  seed,
  callbacks: {
    onEpochEnd: (e) => console.error(`epoch ${e.epoch}/${e.epochs} train ${e.trainLoss.toFixed(4)} valid ${e.validLoss?.toFixed(4)} ${e.trainSeconds.toFixed(1)} s`),
  },
});
const test = evaluate(model, data.test);
const secondsPerEpoch = result.history.reduce((s, r) => s + r.trainSeconds, 0) / result.history.length;
const summary = {
  task: "walker2d",
  model: kind,
  lr,
  parameters: model.parameterCount(),
  epochs: result.epochs,
  best_epoch: result.best?.epoch,
  best_valid_mse: result.best?.value,
  test_mse: test.metrics.mse,
  train_seconds_per_epoch: secondsPerEpoch,
  total_minutes: (performance.now() - started) / 60000,
  threads,
  seed,
  date: new Date().toISOString(),
};
console.log(JSON.stringify(summary));
if (out) writeFileSync(out, JSON.stringify(summary, null, 1) + "\n");
