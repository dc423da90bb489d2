import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { saveNpy } from "../src/io/npy.js";
import { npyToDataset } from "../src/data/npy-dataset.js";
import { validateDataset } from "../src/data/dataset.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ncps-npy-dataset-test-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/** Writes a float64 (or int32) array to a fresh .npy file and returns its path. */
function npyFile(shape: number[], values: number[], int = false): string {
  const file = path.join(scratch, `a${counter++}.npy`);
  saveNpy(file, { shape, data: int ? Int32Array.from(values) : Float64Array.from(values) });
  return file;
}

const close = (actual: ArrayLike<number>, expected: readonly number[], tol = 1e-5) => {
  assert.equal(actual.length, expected.length, "length");
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}]: got ${actual[i]}, expected ${expected[i]}`);
};

describe("npyToDataset", () => {
  test("(N, L, F) regression per step with absolute times and missing values", () => {
    // 2 sequences, 3 steps, 2 features; NaN = not observed.
    const x = npyFile([2, 3, 2], [1, 10, NaN, 20, 3, NaN, 5, NaN, 7, 40, 9, 50]);
    const y = npyFile([2, 3], [1, 2, 3, 4, NaN, 6]);
    const time = npyFile([2, 3], [0, 1, 4, 10, 12, 13]);
    const r = npyToDataset({ x, y, time, task: "regress", timeKind: "absolute", normalize: false });
    validateDataset(r.train);
    assert.equal(r.targetMode, "per_step");
    assert.equal(r.train.features, 4);
    assert.deepEqual(r.featureNames, ["x0", "x1", "x0_observed", "x1_observed"]);
    // gaps 1, 3, 2, 1 -> median 1.5, but normalize false keeps the unit (timeScale 1); first = 1.5.
    close(r.train.timespans!, [1.5, 1, 3, 1.5, 2, 1]);
    // prettier-ignore
    close(r.train.x, [
      1, 10, 1, 1,
      1, 20, 0, 1, // feature 0 carried forward
      3, 20, 1, 0,
      5, 0, 1, 0, //  feature 1 not yet observed
      7, 40, 1, 1,
      9, 50, 1, 1,
    ]);
    close(r.train.y, [1, 2, 3, 4, 0, 6]);
    assert.deepEqual([...r.train.targetMask!], [1, 1, 1, 1, 0, 1]);
  });

  test("standardisation from the training split; validation indices", () => {
    const values = Array.from({ length: 10 * 2 }, (_, i) => Math.floor(i / 2) * 10 + (i % 2)); // sequence n: 10n, 10n+1
    const x = npyFile([10, 2, 1], values);
    const y = npyFile([10], Array.from({ length: 10 }, (_, n) => n * n));
    const r = npyToDataset({ x, y, task: "regress", validSplit: 0.3, seed: 1 });
    assert.equal(r.targetMode, "last");
    assert.equal(r.validIndex!.length, 3);
    assert.equal(r.trainIndex.length, 7);
    const trainValues = [...r.trainIndex].flatMap((n) => [10 * n, 10 * n + 1]);
    const m = trainValues.reduce((a, b) => a + b, 0) / trainValues.length;
    const s = Math.sqrt(trainValues.reduce((a, b) => a + (b - m) ** 2, 0) / trainValues.length);
    close(r.normalization.featureMean, [m], 1e-9);
    close(r.normalization.featureStd, [s], 1e-9);
    const v0 = r.validIndex![0];
    close([r.valid!.x[0]], [(10 * v0 - m) / s], 1e-4);
    const ty = [...r.trainIndex].map((n) => n * n);
    const ym = ty.reduce((a, b) => a + b, 0) / ty.length;
    assert.ok(Math.abs(r.normalization.targetMean![0] - ym) < 1e-9);
    assert.equal(r.train.timespans, null);
  });

  test("single (L, F) sequence; class indices per step, negatives unlabelled; elapsed times", () => {
    const x = npyFile([4, 1], [0, 1, 2, 3]);
    const y = npyFile([4], [0, 2, -100, 1], true);
    const time = npyFile([4], [0.5, 0.5, 1, 2]);
    const r = npyToDataset({ x, y, time, task: "classify", normalize: false });
    assert.equal(r.train.size, 1);
    assert.equal(r.train.numClasses, 3);
    assert.deepEqual(r.classes, ["0", "1", "2"]);
    assert.deepEqual([...r.train.y], [0, 2, 0, 1]);
    assert.deepEqual([...r.train.targetMask!], [1, 1, 0, 1]);
    close(r.train.timespans!, [0.5, 0.5, 1, 2]);
  });

  test("lengths trim padding; (N, T) targets per sequence", () => {
    const x = npyFile([2, 3, 1], [1, 2, 3, 4, 0, 0]);
    const y = npyFile([2, 2], [1, 2, 3, 4]);
    const lengths = npyFile([2], [3, 1], true);
    const r = npyToDataset({ x, y, lengths, task: "regress", normalize: false });
    assert.equal(r.targetMode, "last");
    assert.equal(r.train.targets, 2);
    assert.deepEqual([...r.train.lengths!], [3, 1]);
    close(r.train.y, [1, 2, 3, 4]);
  });

  test("shape errors name the file", () => {
    const x = npyFile([2, 3, 1], [1, 2, 3, 4, 5, 6]);
    const badY = npyFile([4, 7], new Array(28).fill(0));
    assert.throws(() => npyToDataset({ x, y: badY, task: "regress" }), (e: Error) => e.message.startsWith(`${badY}: y has shape (4, 7), which does not fit x (2, 3, 1) in ${x}: expected (2, 3[, T]) per step or (2[, T]) per sequence`));
    const x4 = npyFile([1, 1, 1, 1], [0]);
    assert.throws(() => npyToDataset({ x: x4, task: "regress" }), (e: Error) => e.message === `${x4}: x must have shape (N, L, F) or (L, F) for one sequence, got (1, 1, 1, 1)`);
    const badTime = npyFile([2, 2], [0, 1, 2, 3]);
    const y = npyFile([2, 3], [0, 1, 0, 1, 0, 1]);
    assert.throws(() => npyToDataset({ x, y, time: badTime, task: "regress" }), new RegExp(`time must have shape \\(2, 3\\) to match x`));
    const down = npyFile([2, 3], [0, 2, 1, 0, 1, 2]);
    assert.throws(() => npyToDataset({ x, y, time: down, task: "regress", timeKind: "absolute" }), /sequence 0, step 2: time 1 is not after the previous step's 2/);
    const oneHot = npyFile([2, 3, 2], new Array(12).fill(0));
    assert.throws(() => npyToDataset({ x, y: oneHot, task: "classify" }), /class indices \(2, 3\) per step.*one-hot/);
    const single = npyFile([2, 3], [0, 0, 0, 0, 0, 0]);
    assert.throws(() => npyToDataset({ x, y: single, task: "classify" }), /classification needs at least 2 classes, got 1/);
    assert.throws(() => npyToDataset({ x: path.join(scratch, "missing.npy"), task: "regress" }), /missing\.npy: cannot read \.npy file/);
  });
});
