import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { bceWithLogitsLoss, crossEntropyLoss, mseLoss } from "../src/train/losses.js";

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: got ${actual}, expected ${expected}`);
}

function closeArray(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) close(actual[i], expected[i], tol, `${what}[${i}]`);
}

/** Central finite differences of a scalar function of the predictions. */
function numericGrad(f: (x: Float64Array) => number, x0: ArrayLike<number>, h = 1e-6): Float64Array {
  const x = Float64Array.from(x0);
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i];
    x[i] = keep + h;
    const up = f(x);
    x[i] = keep - h;
    const down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

// A small deterministic pseudo-random source so the finite-difference checks use varied values.
function values(n: number, seed: number, scale = 2): Float64Array {
  const out = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648 - 0.5) * 2 * scale;
  }
  return out;
}

describe("mseLoss", () => {
  test("hand values: mean over all elements, gradient 2 (p - t) / count", () => {
    const { loss, grad, weight } = mseLoss([1, 2, 3, 4], [0, 2, 5, 4], 2, 2);
    assert.equal(loss, 1.25);
    assert.equal(weight, 4);
    assert.deepEqual([...grad], [0.5, 0, -1, 0]);
  });

  test("mask: only counted rows enter the mean; NaN targets in masked-out rows do no harm", () => {
    const { loss, grad, weight } = mseLoss([1, 2, 3, 4], [NaN, NaN, 5, 4], 2, 2, [0, 1]);
    assert.equal(loss, 2);
    assert.equal(weight, 2);
    assert.deepEqual([...grad], [0, 0, -2, 0]);
  });

  test("gradient matches central differences", () => {
    const pred = values(12, 1);
    const target = values(12, 2);
    const mask = [1, 0, 1, 1];
    const { grad } = mseLoss(pred, target, 4, 3, mask);
    closeArray(grad, numericGrad((x) => mseLoss(x, target, 4, 3, mask).loss, pred), 1e-8, "mse grad");
  });

  test("writes into a provided gradient array, clearing stale values; nothing counted gives 0", () => {
    const out = new Float32Array([9, 9, 9, 9]);
    const r = mseLoss([1, 2, 3, 4], [0, 0, 0, 0], 2, 2, [1, 0], out);
    assert.equal(r.grad, out);
    assert.deepEqual([...out], [1, 2, 0, 0]);
    const none = mseLoss([1, 2], [NaN, NaN], 1, 2, [0]);
    assert.equal(none.loss, 0);
    assert.equal(none.weight, 0);
    assert.deepEqual([...none.grad], [0, 0]);
  });

  test("length and mask errors name the argument", () => {
    assert.throws(() => mseLoss([1, 2, 3], [1, 2, 3, 4], 2, 2), /predictions has length 3, expected 4/);
    assert.throws(() => mseLoss([1, 2, 3, 4], [1, 2, 3], 2, 2), /targets has length 3, expected 4/);
    assert.throws(() => mseLoss([1, 2, 3, 4], [1, 2, 3, 4], 2, 2, [1]), /mask has length 1, expected 2/);
    assert.throws(() => mseLoss([1, 2, 3, 4], [1, 2, 3, 4], 2, 2, [1, 2]), /mask\[1\] must be 0 or 1, got 2/);
    assert.throws(() => mseLoss([1, 2, 3, 4], [1, 2, 3, 4], 2, 2, undefined, new Float64Array(3)), /gradOut has length 3/);
  });
});

describe("crossEntropyLoss", () => {
  // Row 0: logits [0, 0], target 0 -> softmax [1/2, 1/2], loss ln 2.
  // Row 1: logits [0, ln 3], target 1 -> softmax [1/4, 3/4], loss -ln(3/4).
  const logits = [0, 0, 0, Math.log(3)];
  const targets = new Int32Array([0, 1]);

  test("hand values: mean over rows of -log softmax[target], gradient (softmax - onehot) / n", () => {
    const { loss, grad, weight } = crossEntropyLoss(logits, targets, 2, 2);
    close(loss, (Math.LN2 - Math.log(0.75)) / 2, 1e-15, "loss");
    assert.equal(weight, 2);
    closeArray(grad, [-0.25, 0.25, 0.125, -0.125], 1e-15, "grad");
  });

  test("class weights: the weighted sum is divided by the total weight of the counted targets (torch)", () => {
    const { loss, grad, weight } = crossEntropyLoss(logits, targets, 2, 2, { classWeights: [1, 3] });
    assert.equal(weight, 4);
    close(loss, (1 * Math.LN2 + 3 * -Math.log(0.75)) / 4, 1e-15, "loss");
    closeArray(grad, [(1 * -0.5) / 4, (1 * 0.5) / 4, (3 * 0.25) / 4, (3 * -0.25) / 4], 1e-15, "grad");
  });

  test("mask: padding rows with label -1 or NaN and NaN logits are skipped", () => {
    const padded = [0, 0, NaN, NaN, 0, Math.log(3)];
    const { loss, grad, weight } = crossEntropyLoss(padded, new Float64Array([0, NaN, 1]), 3, 2, { mask: [1, 0, 1], classWeights: [1, 3] });
    assert.equal(weight, 4);
    close(loss, (Math.LN2 + 3 * -Math.log(0.75)) / 4, 1e-15, "loss");
    assert.deepEqual([grad[2], grad[3]], [0, 0]);
    const r2 = crossEntropyLoss([5, 1], new Int32Array([-1]), 1, 2, { mask: [0] });
    assert.equal(r2.loss, 0);
  });

  test("huge logits stay finite (stable log-softmax)", () => {
    const { loss, grad } = crossEntropyLoss([1000, 0, -1000, 1000], new Int32Array([1, 0]), 2, 2);
    close(loss, (1000 + 2000) / 2, 1e-12, "loss");
    closeArray(grad, [0.5, -0.5, -0.5, 0.5], 1e-12, "grad");
  });

  test("gradient matches central differences (weights and mask, 4 classes)", () => {
    const x = values(20, 7, 3);
    const t = new Int32Array([3, 0, 2, 1, 2]);
    const opts = { classWeights: [0.5, 2, 1, 4], mask: [1, 1, 0, 1, 1] };
    const { grad } = crossEntropyLoss(x, t, 5, 4, opts);
    closeArray(grad, numericGrad((v) => crossEntropyLoss(v, t, 5, 4, opts).loss, x), 1e-8, "ce grad");
  });

  test("bad targets and weights give clear errors", () => {
    assert.throws(() => crossEntropyLoss(logits, new Int32Array([0, 2]), 2, 2), /target of row 1 must be a class index in \[0, 1\], got 2/);
    assert.throws(() => crossEntropyLoss(logits, new Float64Array([0.5, 1]), 2, 2), /target of row 0/);
    assert.throws(() => crossEntropyLoss(logits, new Int32Array([0]), 2, 2), /targets has length 1, expected 2/);
    assert.throws(() => crossEntropyLoss(logits, targets, 2, 2, { classWeights: [1] }), /classWeights has length 1, expected 2/);
    assert.throws(() => crossEntropyLoss(logits, targets, 2, 2, { classWeights: [1, -1] }), /classWeights\[1\]/);
  });
});

describe("bceWithLogitsLoss", () => {
  const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
  // The textbook form, fine for moderate logits.
  const naive = (x: number, y: number, pw: number): number => -(pw * y * Math.log(sigmoid(x)) + (1 - y) * Math.log(1 - sigmoid(x)));

  test("hand values at logit 0", () => {
    const { loss, grad } = bceWithLogitsLoss([0, 0], [1, 0], 1, 2);
    close(loss, Math.LN2, 1e-15, "loss");
    closeArray(grad, [-0.5 / 2, 0.5 / 2], 1e-15, "grad");
    const weighted = bceWithLogitsLoss([0], [1], 1, 1, { posWeight: 3 });
    close(weighted.loss, 3 * Math.LN2, 1e-15, "pos weight loss");
    close(weighted.grad[0], -1.5, 1e-15, "pos weight grad");
  });

  test("soft labels and per-column pos weights match the textbook formula", () => {
    const x = [2, -1.5, 0.3, 0.7];
    const y = [0.3, 1, 0, 0.8];
    const pw = [2, 0.5];
    const { loss } = bceWithLogitsLoss(x, y, 2, 2, { posWeight: pw });
    const expected = (naive(2, 0.3, 2) + naive(-1.5, 1, 0.5) + naive(0.3, 0, 2) + naive(0.7, 0.8, 0.5)) / 4;
    close(loss, expected, 1e-14, "loss");
  });

  test("extreme logits stay finite", () => {
    const { loss, grad } = bceWithLogitsLoss([-1000, 1000], [1, 0], 2, 1);
    close(loss, 1000, 1e-12, "loss");
    closeArray(grad, [-0.5, 0.5], 1e-12, "grad");
  });

  test("gradient matches central differences (mask, pos weights, soft labels)", () => {
    const x = values(12, 3, 4);
    const y = values(12, 4, 0.5).map((v) => v + 0.5);
    const opts = { posWeight: [1.5, 0.2, 3], mask: [1, 0, 1, 1] };
    const { grad } = bceWithLogitsLoss(x, y, 4, 3, opts);
    closeArray(grad, numericGrad((v) => bceWithLogitsLoss(v, y, 4, 3, opts).loss, x), 1e-8, "bce grad");
  });

  test("mask skips NaN targets; bad pos weights are rejected", () => {
    const { loss, grad } = bceWithLogitsLoss([0, 5], [1, NaN], 2, 1, { mask: [1, 0] });
    close(loss, Math.LN2, 1e-15, "loss");
    assert.equal(grad[1], 0);
    assert.throws(() => bceWithLogitsLoss([0, 0], [1, 0], 1, 2, { posWeight: [1] }), /posWeight has length 1, expected 2/);
    assert.throws(() => bceWithLogitsLoss([0], [1], 1, 1, { posWeight: -1 }), /posWeight must be a non-negative/);
  });
});
