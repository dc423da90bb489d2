import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { SequenceDataset } from "../src/data/dataset.js";
import { CfC, type CfCOptions } from "../src/models/cfc.js";
import type { RecurrentModel } from "../src/models/recurrent.js";
import { evaluate, fit, predictDataset, type BatchInfo, type EpochInfo } from "../src/train/index.js";
import { signDataset, sineDataset, withFields } from "./helpers/synthetic-data.js";

function sineModel(seed = 3, extra: CfCOptions = {}): CfC {
  return new CfC(1, 8, { backboneUnits: 16, projSize: 1, backend: "reference", seed, ...extra });
}

function signModel(seed = 3, extra: CfCOptions = {}): CfC {
  return new CfC(2, 8, { backboneUnits: 16, projSize: 2, backend: "reference", seed, ...extra });
}

function weightsOf(model: RecurrentModel): Map<string, number[]> {
  return new Map([...model.stateDict()].map(([k, t]) => [k, Array.from(t.data)]));
}

function sameWeights(a: Map<string, number[]>, b: Map<string, number[]>): boolean {
  for (const [k, v] of a) {
    const w = b.get(k)!;
    for (let i = 0; i < v.length; i++) if (!Object.is(v[i], w[i])) return false;
  }
  return true;
}

function gradNorm(model: RecurrentModel): number {
  let s = 0;
  for (const p of model.parameters()) for (const g of p.grad) s += g * g;
  return Math.sqrt(s);
}

/** Softmax cross-entropy of one row of logits, written out independently of the library. */
function crossEntropy(logits: ArrayLike<number>, target: number): number {
  const m = Math.max(...Array.from(logits));
  let z = 0;
  for (let k = 0; k < logits.length; k++) z += Math.exp(logits[k] - m);
  return m + Math.log(z) - logits[target];
}

describe("fit learns", () => {
  test("per-step regression of a sine sampled at irregular times (timespans, masks)", async () => {
    const train = sineDataset(96, 16, 1);
    const valid = sineDataset(32, 16, 2);
    const model = sineModel();
    const before = evaluate(model, valid).loss;
    const result = await fit(model, train, { epochs: 25, batchSize: 16, lr: 0.02, valid });
    const after = evaluate(model, valid);
    assert.ok(before > 0.3, `an untrained model should be poor, mse ${before}`);
    assert.ok(after.loss < 0.05, `validation mse after training ${after.loss} (before ${before})`);
    assert.equal(result.history.length, 25);
    assert.equal(result.stopReason, "completed");
    assert.ok(Math.abs(result.history[24].validLoss! - after.loss) < 1e-12, "the last epoch's validation loss is the model's");
    assert.ok(Math.abs(after.metrics.mse - after.loss) < 1e-12, "mse metric equals the mse loss");
  });

  test("two-class sequence classification read at each sequence's last real step", async () => {
    const train = signDataset(128, 12, 1);
    const valid = signDataset(64, 12, 2);
    const model = signModel();
    await fit(model, train, { epochs: 10, batchSize: 16, lr: 0.02, valid });
    const { metrics } = evaluate(model, valid);
    assert.ok(metrics.accuracy >= 0.85, `validation accuracy ${metrics.accuracy} (chance is about 0.5)`);
  });
});

describe("what counts in the loss", () => {
  test("targets at masked and padded steps change nothing; labelled ones do", async () => {
    const base = withFields(sineDataset(24, 10, 5), {});
    const lengths = new Int32Array(24).map((_, i) => 6 + (i % 5));
    const ds = withFields(base, { lengths });
    const run = async (data: SequenceDataset) => {
      const model = sineModel(7);
      await fit(model, data, { epochs: 2, batchSize: 8, lr: 0.01 });
      return weightsOf(model);
    };
    const reference = await run(ds);
    const y = Float32Array.from(ds.y);
    for (let i = 0; i < ds.size; i++) {
      for (let t = 0; t < ds.steps; t++) {
        const masked = ds.targetMask![i * ds.steps + t] === 0;
        const padded = t >= lengths[i];
        if (masked || padded) y[i * ds.steps + t] = t % 2 ? NaN : 1e6;
      }
    }
    assert.ok(sameWeights(reference, await run(withFields(ds, { y }))), "masked/padded targets must not matter");
    const y2 = Float32Array.from(ds.y);
    y2[1 * ds.steps + 4] += 0.5; // step 4 of sample 1: labelled and real
    assert.ok(!sameWeights(reference, await run(withFields(ds, { y: y2 }))), "a labelled target must matter");
  });

  test("last-step targets: predictions read at lengths - 1, padding never matters", async () => {
    const ds = signDataset(20, 9, 11);
    const model = signModel(2);
    const preds = predictDataset(model, ds, { batchSize: 7 });
    assert.equal(preds.length, ds.size * 2);
    let ce = 0;
    for (let i = 0; i < ds.size; i++) {
      const len = ds.lengths![i];
      // Independent: run the model on the real steps only and take the last output.
      const x = Float64Array.from(ds.x.subarray(i * 9 * 2, (i * 9 + len) * 2));
      const out = model.predict({ shape: [1, len, 2], data: x }).output.data;
      const last = out.subarray((len - 1) * 2, len * 2);
      assert.ok(Math.abs(preds[2 * i] - last[0]) < 1e-12 && Math.abs(preds[2 * i + 1] - last[1]) < 1e-12, `sample ${i}`);
      ce += crossEntropy(last, ds.y[i]);
    }
    const ev = evaluate(model, ds, { metrics: ["accuracy"] });
    assert.ok(Math.abs(ev.loss - ce / ds.size) < 1e-12, `evaluate loss ${ev.loss} vs ${ce / ds.size}`);

    const trainOn = async (data: SequenceDataset) => {
      const m = signModel(4);
      await fit(m, data, { epochs: 2, batchSize: 5, lr: 0.01 });
      return weightsOf(m);
    };
    const x2 = Float32Array.from(ds.x);
    for (let i = 0; i < ds.size; i++) for (let t = ds.lengths![i]; t < 9; t++) x2[(i * 9 + t) * 2] = 50 + t;
    assert.ok(sameWeights(await trainOn(ds), await trainOn(withFields(ds, { x: x2 }))), "inputs after the last real step must not matter");
  });

  test("a model that cannot produce the needed outputs is rejected with a clear error", async () => {
    const perStep = sineDataset(4, 5, 1);
    const last = new CfC(1, 4, { backboneUnits: 4, projSize: 1, returnSequences: false, backend: "reference" });
    await assert.rejects(fit(last, perStep, { epochs: 1 }), /returnSequences: true/);
    const padded = signDataset(6, 8, 1);
    const lastOnly = new CfC(2, 4, { backboneUnits: 4, projSize: 2, returnSequences: false, backend: "reference" });
    await assert.rejects(fit(lastOnly, padded, { epochs: 1 }), /sequence \d+ has \d+ real steps/);
    await assert.rejects(fit(new CfC(1, 4, { backboneUnits: 4, backend: "reference" }), perStep, { epochs: 1 }), /outputs 4 values per step but the dataset has 1 target/);
    await assert.rejects(fit(signModel(), padded, { epochs: 1, loss: "mse" }), /mse: needs a regression dataset/);
  });

  test("dropout is on in training and off in evaluation", async () => {
    const ds = sineDataset(16, 8, 3);
    // ncps applies backbone dropout only after the second and later backbone layers
    const model = sineModel(5, { backboneLayers: 2, backboneDropout: 0.5 });
    const e1 = evaluate(model, ds);
    const e2 = evaluate(model, ds);
    assert.equal(e1.loss, e2.loss, "evaluation is deterministic");
    let manual = 0;
    let count = 0;
    const out = model.predict({ shape: [16, 8, 1], data: Float64Array.from(ds.x) }, { timespans: { shape: [16, 8], data: Float64Array.from(ds.timespans!) } }).output.data;
    for (let r = 0; r < 16 * 8; r++) {
      if (!ds.targetMask![r]) continue;
      manual += (out[r] - ds.y[r]) ** 2;
      count++;
    }
    assert.ok(Math.abs(e1.loss - manual / count) < 1e-12, "evaluation uses the model without dropout");
    // With a zero learning rate nothing moves, so the training loss differs from the evaluation loss only by dropout.
    const r = await fit(model, ds, { epochs: 1, batchSize: 16, optimizer: "sgd", lr: 0, shuffle: false });
    assert.notEqual(r.history[0].trainLoss, e1.loss);
    assert.equal(evaluate(model, ds).loss, e1.loss);
  });
});

describe("fit options", () => {
  test("same seed: identical weights; another seed: other batches, other weights", async () => {
    const ds = sineDataset(40, 8, 9);
    const run = async (seed: number) => {
      const model = sineModel(1);
      await fit(model, ds, { epochs: 3, batchSize: 8, lr: 0.01, seed });
      return weightsOf(model);
    };
    const a = await run(42);
    assert.ok(sameWeights(a, await run(42)));
    assert.ok(!sameWeights(a, await run(43)));
  });

  test("early stopping stops after `patience` epochs without improvement and restores the best weights", async () => {
    const train = sineDataset(32, 8, 1);
    // Validation targets are the negated training targets: learning the task makes validation worse.
    const v = sineDataset(16, 8, 2);
    const valid = withFields(v, { y: v.y.map((y) => -y) });
    const snapshots: Array<Map<string, number[]>> = [];
    const model = sineModel(2);
    const result = await fit(model, train, {
      epochs: 30,
      batchSize: 8,
      lr: 0.02,
      valid,
      earlyStopping: { patience: 2 },
      callbacks: { onEpochEnd: () => void snapshots.push(weightsOf(model)) },
    });
    assert.equal(result.stopReason, "early_stopping");
    const losses = result.history.map((h) => h.validLoss!);
    const bestEpoch = losses.indexOf(Math.min(...losses)) + 1;
    assert.equal(result.best!.epoch, bestEpoch);
    assert.equal(result.history.length, bestEpoch + 2, `stops 2 epochs after the best (losses ${losses.map((l) => l.toFixed(3))})`);
    assert.ok(result.restoredBest);
    assert.ok(sameWeights(weightsOf(model), snapshots[bestEpoch - 1]), "weights are those of the best epoch");
    assert.ok(!sameWeights(weightsOf(model), snapshots[snapshots.length - 1]), "and not those of the last epoch");
  });

  test("callbacks: every batch and epoch reported; returning false or stop() ends the run", async () => {
    const ds = sineDataset(20, 6, 4);
    const batches: BatchInfo[] = [];
    const epochs: EpochInfo[] = [];
    await fit(sineModel(), ds, {
      epochs: 3,
      batchSize: 8,
      callbacks: { onBatchEnd: (b) => void batches.push(b), onEpochEnd: (e) => void epochs.push(e) },
    });
    assert.equal(batches.length, 9, "3 epochs x ceil(20 / 8) batches");
    assert.deepEqual(batches.map((b) => b.samples).slice(0, 3), [8, 8, 4]);
    assert.deepEqual(batches.map((b) => b.globalStep), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(epochs.map((e) => e.epoch), [1, 2, 3]);
    for (const e of epochs) assert.ok(e.seconds > 0 && e.samplesPerSecond > 0 && Number.isFinite(e.trainLoss));

    let n = 0;
    const r1 = await fit(sineModel(), ds, { epochs: 5, batchSize: 8, callbacks: { onEpochEnd: () => ++n < 2 } });
    assert.equal(r1.history.length, 2);
    assert.equal(r1.stopReason, "callback");
    let steps = 0;
    const r2 = await fit(sineModel(), ds, { epochs: 5, batchSize: 8, callbacks: { onBatchEnd: (b) => void (++steps === 4 && b.stop()) } });
    assert.equal(r2.globalStep, 4);
    assert.equal(r2.history.length, 2, "the epoch in progress ends early");
  });

  test("schedules set the learning rate per epoch, and the optimizer uses it", async () => {
    const ds = sineDataset(16, 6, 4);
    const model = sineModel();
    let previous = weightsOf(model);
    const seen: Array<{ epoch: number; lr: number; ratio: number }> = [];
    await fit(model, ds, {
      epochs: 4,
      batchSize: 8,
      optimizer: "sgd",
      lr: 0.1,
      schedule: "step:2:0.5",
      callbacks: {
        onBatchEnd: (b) => {
          // plain SGD: new = old - lr * grad, so (old - new) / grad recovers the rate actually used
          const now = weightsOf(model);
          const p = model.parameters().find((q) => q.name === "fc.bias")!;
          const ratio = (previous.get("fc.bias")![0] - now.get("fc.bias")![0]) / p.grad[0];
          seen.push({ epoch: b.epoch, lr: b.lr, ratio });
          previous = now;
        },
      },
    });
    const expected = [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05];
    assert.deepEqual(seen.map((s) => s.lr), expected);
    seen.forEach((s, i) => assert.ok(Math.abs(s.ratio - expected[i]) < 1e-9 * expected[i] + 1e-12, `step ${i}: applied rate ${s.ratio}`));
  });

  test("clipNorm rescales the gradient to the given global norm", async () => {
    const ds = sineDataset(16, 6, 4);
    const model = sineModel();
    const norms: Array<[number, number]> = [];
    await fit(model, ds, {
      epochs: 1,
      batchSize: 8,
      clipNorm: 1e-3,
      callbacks: { onBatchEnd: (b) => void norms.push([b.gradNorm!, gradNorm(model)]) },
    });
    assert.equal(norms.length, 2);
    for (const [before, after] of norms) {
      assert.ok(before > 1e-2, `the raw gradient norm ${before} exceeds the threshold`);
      assert.ok(Math.abs(after - 1e-3) < 1e-8, `clipped norm ${after}`);
    }
    const free: number[] = [];
    await fit(sineModel(), ds, { epochs: 1, batchSize: 8, callbacks: { onBatchEnd: (b) => void free.push(b.gradNorm ?? -1) } });
    assert.deepEqual(free, [-1, -1], "no norm is computed without clipNorm");
  });

  test("bad options are rejected by name", async () => {
    const ds = sineDataset(4, 4, 1);
    await assert.rejects(fit(sineModel(), ds, { epochs: -1 }), /epochs must be a non-negative integer/);
    await assert.rejects(fit(sineModel(), ds, { epochs: 1, batchSize: 0 }), /batchSize must be a positive integer/);
    await assert.rejects(fit(sineModel(), ds, { epochs: 1, earlyStopping: { patience: 2 } }), /pass options.valid/);
    await assert.rejects(fit(sineModel(), ds, { epochs: 1, optimizer: "adam", optimizerOptions: { momentum: 0.9 } }), /momentum/);
    await assert.rejects(fit(sineModel(), ds, { epochs: 1, schedule: "bogus" }), /unknown schedule/);
  });
});
