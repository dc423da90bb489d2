/** The reference engine's scalar math against independent values. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { activate, activateGrad, erf, erfc } from "../src/engine/math.js";

// erf values from Abramowitz & Stegun table 7.1 and standard tables (to the digits printed there)
const ERF: Array<[number, number]> = [
  [0, 0],
  [0.1, 0.1124629160182849],
  [0.5, 0.5204998778130465],
  [1, 0.8427007929497149],
  [1.5, 0.9661051464753108],
  [2, 0.9953222650189527],
  [2.5, 0.9995930479825550],
  [3, 0.9999779095030014],
];

test("erf matches tabulated values and is odd", () => {
  for (const [x, v] of ERF) {
    assert.ok(Math.abs(erf(x) - v) < 1e-15, `erf(${x})`);
    assert.ok(Math.abs(erf(-x) + v) < 1e-15, `erf(-${x})`);
  }
});

test("erfc keeps relative accuracy in the tail", () => {
  // erfc(5) = 1.5374597944280349e-12, erfc(10) = 2.0884875837625447e-45
  assert.ok(Math.abs(erfc(5) / 1.5374597944280349e-12 - 1) < 1e-12);
  assert.ok(Math.abs(erfc(10) / 2.0884875837625447e-45 - 1) < 1e-12);
  assert.ok(Math.abs(erfc(-1) - (1 + 0.8427007929497149)) < 1e-15);
});

test("GELU (exact erf form) and its derivative, including the far negative tail", () => {
  const gelu = (x: number) => activate(5, x);
  assert.ok(Math.abs(gelu(1) - 0.8413447460685429) < 1e-15);
  // 0.5 x erfc(8.37/sqrt 2) is about -2.3e-16: it must not collapse to 0
  const tail = gelu(-8.3744);
  assert.ok(tail < 0 && Math.abs(tail / (-8.3744 * 0.5 * erfc(8.3744 / Math.SQRT2)) - 1) < 1e-12);
  for (const x of [-7, -3, -0.5, 0, 0.3, 2, 6]) {
    const h = 1e-6;
    const numeric = (gelu(x + h) - gelu(x - h)) / (2 * h);
    assert.ok(Math.abs(numeric - activateGrad(5, x)) < 1e-8, `gelu'(${x})`);
  }
});

test("every activation's derivative matches finite differences", () => {
  for (const act of [0, 1, 2, 3, 4, 6]) {
    for (const x of [-4, -1.3, -0.2, 0.7, 2.5]) {
      const h = 1e-6;
      const numeric = (activate(act, x + h) - activate(act, x - h)) / (2 * h);
      assert.ok(Math.abs(numeric - activateGrad(act, x)) < 1e-8, `act ${act} at ${x}`);
    }
  }
  assert.equal(activate(1, 1), 1.7159 * Math.tanh(0.666));
});
