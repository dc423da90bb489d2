/**
 * The API outside Node: datasetFromArrays (nested arrays, typed arrays, tensors, ragged sequences,
 * masks, times, each target layout), the checked `tensor` helper, `forward` taking nested arrays and
 * refusing a tensor whose data does not fit its shape, and the portable one-thread `fit`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as core from "../src/index.js";
import { datasetFromArrays } from "../src/data/arrays.js";
import { CfC } from "../src/models/cfc.js";
import { CfCCell } from "../src/models/cfc-cell.js";
import { LTCCell } from "../src/models/ltc-cell.js";
import { fit } from "../src/train/fit.js";
import { evaluate } from "../src/train/evaluate.js";
import { tensor } from "../src/tensor.js";
import { FullyConnected } from "../src/wirings/index.js";
import { TestRng } from "./helpers/gradcheck.js";

describe("datasetFromArrays", () => {
  test("ragged nested sequences are padded, with lengths, elapsed times and per-step targets as given", () => {
    const x = [
      [[1, 10], [2, 20], [3, 30]],
      [[4, 40]],
    ];
    const ds = datasetFromArrays({ x, y: [[0.5, 0.6, 0.7], [0.8]], time: [[1, 2, 0.5], [3]], task: "regress" });
    assert.equal(ds.size, 2);
    assert.equal(ds.steps, 3);
    assert.equal(ds.features, 2);
    assert.deepEqual(Array.from(ds.lengths!), [3, 1]);
    assert.deepEqual(Array.from(ds.x.subarray(0, 6)), [1, 10, 2, 20, 3, 30]);
    assert.deepEqual(Array.from(ds.x.subarray(6, 8)), [4, 40]);
    assert.deepEqual(Array.from(ds.timespans!.subarray(0, 4)), [1, 2, 0.5, 3]);
    assert.equal(ds.targetMode, "per_step");
    assert.deepEqual(Array.from(ds.y.subarray(0, 4)), [0.5, 0.6, 0.7, 0.8].map(Math.fround));
    assert.deepEqual(ds.featureNames, ["x0", "x1"]);
  });

  test("typed arrays per step, a tensor {shape, data} and nested arrays give the same dataset", () => {
    const flat = Float32Array.from({ length: 2 * 3 * 2 }, (_, i) => i / 4);
    const nested = [0, 1].map((n) => [0, 1, 2].map((t) => Array.from(flat.subarray((n * 3 + t) * 2, (n * 3 + t + 1) * 2))));
    const typedSteps = [0, 1].map((n) => [0, 1, 2].map((t) => flat.subarray((n * 3 + t) * 2, (n * 3 + t + 1) * 2)));
    const y = { shape: [2], data: [1.5, -2] };
    const a = datasetFromArrays({ x: nested, y: [1.5, -2], task: "regress" });
    const b = datasetFromArrays({ x: typedSteps, y, task: "regress" });
    const c = datasetFromArrays({ x: { shape: [2, 3, 2], data: flat }, y: Float64Array.of(1.5, -2), task: "regress" });
    for (const ds of [b, c]) {
      assert.deepEqual(Array.from(ds.x), Array.from(a.x));
      assert.deepEqual(Array.from(ds.y), Array.from(a.y));
      assert.equal(ds.targetMode, "last");
    }
  });

  test("one (L, F) sequence; missing values (NaN or mask 0) are forward-filled with observation masks", () => {
    const x = [[1, 5], [NaN, 6], [3, 7], [4, 8]];
    const mask = [[1, 1], [1, 1], [1, 0], [1, 1]];
    const ds = datasetFromArrays({ x, mask, y: [0, 1, 1, 0], task: "classify" });
    assert.equal(ds.size, 1);
    assert.equal(ds.features, 4, "two values and two observation masks");
    assert.deepEqual(ds.featureNames, ["x0", "x1", "x0_observed", "x1_observed"]);
    const rows = [0, 1, 2, 3].map((t) => Array.from(ds.x.subarray(t * 4, t * 4 + 4)));
    assert.deepEqual(rows, [
      [1, 5, 1, 1],
      [1, 6, 0, 1],
      [3, 6, 1, 0],
      [4, 8, 1, 1],
    ]);
    assert.equal(ds.numClasses, 2);
    assert.equal(ds.targetMode, "per_step");
  });

  test("absolute times become gaps; the first step gets the median gap", () => {
    const ds = datasetFromArrays({ x: [[[0], [0], [0]], [[0], [0]]], time: [[10, 11, 14], [0, 2]], timeKind: "absolute", task: "regress" });
    // gaps 1, 3, 2: median 2
    assert.deepEqual(Array.from(ds.timespans!.subarray(0, 3)), [2, 1, 3]);
    assert.deepEqual(Array.from(ds.timespans!.subarray(3, 5)), [2, 2]);
  });

  test("sequence classification: one class index per sequence, classes counted from y", () => {
    const ds = datasetFromArrays({ x: [[[1]], [[2]], [[3]]], y: [0, 2, 1], task: "classify" });
    assert.equal(ds.targetMode, "last");
    assert.equal(ds.numClasses, 3);
    assert.deepEqual(Array.from(ds.y), [0, 2, 1]);
  });

  test("bad shapes are refused naming the argument, the position, expected and actual", () => {
    const x = [[[1, 2], [3, 4]], [[5, 6], [7, 8], [9, 10]]];
    const cases: Array<[Parameters<typeof datasetFromArrays>[0], RegExp]> = [
      [{ x: [[[1, 2], [3]]], task: "regress" }, /^x\[0\]\[1\]: expected 2 features \(as x\[0\]\[0\]\), got an array of length 1$/],
      [{ x, y: [[1, 2], [1, 2]], task: "regress" }, /^y\[1\]: has 2 value\(s\) per sequence, y\[0\] has 1 value\(s\) per step/],
      [{ x, y: [[1, 2], [1, 2, 3, 4]], task: "classify" }, /^y\[1\]: expected 3 values, one per step of x\[1\], got 4$/],
      [{ x, y: [[[1, 0], [0, 1]], [[1, 0], [0, 1], [1, 0]]], task: "classify" }, /^y\[0\]\[0\]: classification takes one class index per step, got an array of length 2 \(one-hot labels\? pass the class index\)$/],
      [{ x, time: [[1, 1], [1, 1]], task: "regress" }, /^time\[1\]: expected 3 values \(one per step of x\[1\]\), got an array of length 2$/],
      [{ x, mask: [[[1, 1], [1, 1]], [[1, 1], [1, 1]]], task: "regress" }, /^mask\[1\]: expected 3 steps as x, got 2$/],
      [{ x: [[[1, "a"]]], task: "regress" } as never, /^x\[0\]\[0\]\[1\]: expected a number, got string "a"$/],
      [{ x: [[[1, Infinity]]], task: "regress" }, /^x\[0\]\[0\]\[1\]: Infinity is not finite \(use NaN for a missing value\)$/],
      [{ x: { shape: [2, 2, 2], data: new Float32Array(7) }, task: "regress" }, /^x: data has 7 values, shape \[2, 2, 2\] needs 8$/],
      [{ x, y: [0.5, 1], task: "classify" }, /^y\[0\]: a class index must be an integer, got 0\.5$/],
      [{ x, y: [0, 0], task: "classify" }, /^numClasses: classification needs at least 2 classes, got 1 \(the largest class index in y \+ 1\)$/],
      [{ x: [1, 2, 3], task: "regress" }, /^x: expected \(N, L, F\) sequences or \(L, F\) for one sequence, got a flat list/],
      [{ x, task: "forecast" } as never, /^task: expected "regress" or "classify", got "forecast"$/],
      [{ x, time: [[0, 2], [5, 4, 6]], timeKind: "absolute", task: "regress" }, /^time\[1\]\[1\]: time 4 is not after the previous step's 5/],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => datasetFromArrays(input),
        (e: Error) => {
          assert.match(e.message, message);
          return true;
        },
      );
    }
  });
});

describe("tensors are checked where they enter", () => {
  test("tensor(data, shape) checks the length and the shape; tensor(nested) reads the shape", () => {
    assert.deepEqual(tensor([1, 2, 3, 4, 5, 6], [2, 3]).shape, [2, 3]);
    assert.throws(() => tensor([1, 2, 3], [2, 2]), /^Error: tensor: expected 4 values for shape \[2, 2\], got 3$/);
    assert.throws(() => tensor([1, 2], [2, -1]), /tensor: shape\[1\] must be a non-negative integer, got -1/);
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual(Array.from(t.data), [1, 2, 3, 4, 5, 6]);
    assert.throws(() => tensor([[1, 2], [3]]), /tensor\[1\]: ragged nested array: expected length 2/);
  });

  test("forward refuses a tensor whose data does not fit its shape, and takes nested arrays", () => {
    const model = new CfC(3, 4, { backboneUnits: 8, seed: 2, backend: "reference" });
    const rng = new TestRng(3);
    const data = Float64Array.from({ length: 2 * 4 * 3 }, () => rng.range(-1, 1));
    assert.throws(() => model.forward({ shape: [2, 4, 3], data: data.subarray(0, 23) }), /^Error: input: data has 23 values, shape \[2, 4, 3\] needs 24$/);
    assert.throws(() => model.forward({ shape: [2, 4, 3], data }, { timespans: { shape: [2, 4], data: new Float64Array(7) } }), /^Error: timespans: data has 7 values, shape \[2, 4\] needs 8$/);
    const nested = [0, 1].map((b) => [0, 1, 2, 3].map((t) => Array.from(data.subarray((b * 4 + t) * 3, (b * 4 + t + 1) * 3))));
    const times = [[1, 0.5, 2, 1], [0.1, 0.2, 0.3, 0.4]];
    const a = model.forward({ shape: [2, 4, 3], data }, { timespans: { shape: [2, 4], data: Float64Array.from(times.flat()) } }).output;
    const b = model.forward(nested, { timespans: times }).output;
    assert.deepEqual(b.shape, a.shape);
    assert.deepEqual(Array.from(b.data), Array.from(a.data), "nested arrays give exactly the tensor's result");
    assert.throws(() => model.forward([[[1, 2, 3], [4, 5]]]), /input\[0\]\[1\]: ragged nested array: expected length 3/);
  });

  test("the cells check their arguments the same way", () => {
    const cell = new CfCCell(2, 3, { seed: 1, backend: "reference" });
    assert.throws(() => cell.forward({ shape: [2, 2], data: new Float64Array(3) }), /^Error: input: data has 3 values, shape \[2, 2\] needs 4$/);
    assert.deepEqual(cell.forward([[1, 2], [3, 4]]).shape, [2, 3]);
    const ltc = new LTCCell(new FullyConnected(3, 2), 2, { backend: "reference", seed: 1 });
    assert.throws(() => ltc.forward({ shape: [2], data: new Float64Array(1) }), /^Error: input: data has 1 values, shape \[2\] needs 2$/);
    assert.deepEqual(ltc.forward([0.5, -0.5]).output.shape, [2]);
  });
});

describe("the portable fit", () => {
  test("the core entry's fit trains one thread on arrays, and keeps the best validation epoch when asked", async () => {
    assert.equal(core.fit, fit);
    // y_t = x_{t-1}: remembering the previous input
    const rng = new TestRng(11);
    const make = (n: number) => {
      const x: number[][][] = [];
      const y: number[][] = [];
      for (let i = 0; i < n; i++) {
        const seq = Array.from({ length: 8 }, () => [rng.range(-1, 1)]);
        x.push(seq);
        y.push(seq.map((_, t) => (t === 0 ? 0 : seq[t - 1][0])));
      }
      return datasetFromArrays({ x, y, task: "regress" });
    };
    const train = make(64);
    const valid = make(16);
    const model = new CfC(1, 8, { backboneUnits: 16, projSize: 1, seed: 4, backend: "reference" });
    const before = evaluate(model, valid).loss;
    const result = await fit(model, train, { epochs: 12, batchSize: 16, lr: 0.02, valid, restoreBest: true });
    const after = evaluate(model, valid).loss;
    assert.ok(after < before * 0.5, `validation loss ${before} -> ${after}`);
    const best = result.best!;
    assert.equal(result.modelEpoch, best.epoch);
    assert.ok(Math.abs(after - best.value) < 1e-12, "the model holds the best epoch's weights");
    assert.ok(result.history.every((r) => r.validLoss! >= best.value));
  });

  test("options that need Node are refused with a pointer to the Node entry", async () => {
    const ds = datasetFromArrays({ x: [[[1], [2]]], y: [[1, 2]], task: "regress" });
    const model = new CfC(1, 4, { projSize: 1, backend: "reference" });
    await assert.rejects(fit(model, ds, { epochs: 1, threads: 2 } as never), /^Error: fit: option threads \(2\) needs Node \(worker threads and files\); import \{ fit \} from "ncps-ts\/node"/);
    await assert.rejects(fit(model, ds, { epochs: 1, checkpointPath: "m.safetensors" } as never), /fit: option checkpointPath/);
    await assert.rejects(fit(model, ds, { epochs: 1, restoreBest: true }), /fit: restoreBest keeps the best validation epoch; pass options.valid/);
  });
});
