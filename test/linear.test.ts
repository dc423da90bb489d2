/** The linear layer (nn/linear.ts) on both engines against a direct float64 computation, and finite differences. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Act, type BackendKind, type Engine } from "../src/engine/engine.js";
import { createEngine } from "../src/engine/index.js";
import { type Linear, addLinear, linearBackwardInput, linearBackwardWeights, linearForward, linearMatmul, linearPrepare } from "../src/nn/linear.js";
import { ParameterSet } from "../src/nn/parameters.js";
import { TestRng } from "./helpers/gradcheck.js";

const IN = 5;
const OUT = 7;
const ROWS = 6;
/** row strides wider than the rows, so strided access is exercised */
const LDX = IN + 3;
const LDY = OUT + 2;

interface Setup {
  e: Engine;
  params: ParameterSet;
  layer: Linear;
  w: Float64Array; // [OUT, IN]
  b: Float64Array | null;
  x: Float64Array; // ROWS x LDX
  xOff: number;
  pre: number;
  y: number;
  dy: number;
  dx: number;
  dyT: number;
}

function setup(kind: BackendKind, bias: boolean, seed: number): Setup {
  const rng = new TestRng(seed);
  const e = createEngine(kind);
  const params = new ParameterSet(e);
  const layer = addLinear(params, "lin", IN, OUT, bias);
  const xOff = e.alloc(ROWS * LDX);
  const pre = e.alloc(ROWS * LDY);
  const y = e.alloc(ROWS * LDY);
  const dy = e.alloc(ROWS * LDY);
  const dx = e.alloc(ROWS * LDX);
  const dyT = e.alloc(OUT * ROWS);
  const w = rng.tensor([OUT, IN]).data as Float64Array;
  const b = bias ? (rng.tensor([OUT]).data as Float64Array) : null;
  const x = rng.tensor([ROWS, LDX]).data as Float64Array;
  const heap = e.heap();
  heap.set(w, layer.weight.value);
  if (b) heap.set(b, layer.bias!.value);
  heap.set(x, xOff);
  // values the exact float32 engine holds, so both sides compute from the same numbers
  const read = (off: number, n: number) => Float64Array.from(e.heap().subarray(off, off + n));
  return { e, params, layer, w: read(layer.weight.value, OUT * IN), b: b ? read(layer.bias!.value, OUT) : null, x: read(xOff, ROWS * LDX), xOff, pre, y, dy, dx, dyT };
}

/** x W^T + b in float64, ROWS x OUT (dense). */
function direct(s: Setup): Float64Array {
  const out = new Float64Array(ROWS * OUT);
  for (let r = 0; r < ROWS; r++) {
    for (let o = 0; o < OUT; o++) {
      let v = s.b ? s.b[o] : 0;
      for (let i = 0; i < IN; i++) v += s.x[r * LDX + i] * s.w[o * IN + i];
      out[r * OUT + o] = v;
    }
  }
  return out;
}

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

for (const kind of ["reference", "wasm"] as BackendKind[]) {
  const tol = kind === "reference" ? 1e-13 : 1e-5;
  for (const bias of [true, false]) {
    describe(`linear layer on the ${kind} engine, ${bias ? "with" : "without"} bias`, () => {
      test("registers torch's names and shapes", () => {
        const s = setup(kind, bias, 1);
        assert.deepEqual(s.params.entries().map((p) => `${p.name}[${p.shape.join(",")}]`), bias ? ["lin.weight[7,5]", "lin.bias[7]"] : ["lin.weight[7,5]"]);
      });

      test("forward: pre = x W^T + b and y = act(pre); the matmul alone can accumulate", () => {
        const s = setup(kind, bias, 2);
        linearPrepare(s.e, s.layer);
        linearForward(s.e, s.layer, ROWS, s.xOff, LDX, s.pre, LDY, Act.tanh, s.y, LDY);
        const want = direct(s);
        let heap = s.e.heap();
        for (let r = 0; r < ROWS; r++) {
          for (let o = 0; o < OUT; o++) {
            close(heap[s.pre + r * LDY + o], want[r * OUT + o], tol, `pre[${r},${o}]`);
            close(heap[s.y + r * LDY + o], Math.tanh(want[r * OUT + o]), tol, `y[${r},${o}]`);
          }
        }
        // identity into the same buffer, then y += x W^T: twice the product plus the bias
        linearForward(s.e, s.layer, ROWS, s.xOff, LDX, s.y, LDY);
        linearMatmul(s.e, s.layer, ROWS, s.xOff, LDX, s.y, LDY, true);
        heap = s.e.heap();
        for (let r = 0; r < ROWS; r++) {
          for (let o = 0; o < OUT; o++) {
            const b = s.b ? s.b[o] : 0;
            close(heap[s.y + r * LDY + o], 2 * want[r * OUT + o] - b, tol, `accumulated y[${r},${o}]`);
          }
        }
      });

      test("backward: dx = dy W (or a column range of it, accumulated), dW += dy^T x, db += column sums of dy", () => {
        const s = setup(kind, bias, 3);
        const rng = new TestRng(33);
        const dyValues = rng.tensor([ROWS, LDY]).data;
        const dxStart = rng.tensor([ROWS, LDX]).data;
        let heap = s.e.heap();
        heap.set(dyValues, s.dy);
        const dyv = Float64Array.from(heap.subarray(s.dy, s.dy + ROWS * LDY));
        const gw0 = rng.tensor([OUT, IN]).data;
        heap.set(gw0, s.layer.weight.grad);
        const gw0v = Float64Array.from(heap.subarray(s.layer.weight.grad, s.layer.weight.grad + OUT * IN));
        let gb0v: Float64Array | null = null;
        if (s.layer.bias) {
          heap.set(rng.tensor([OUT]).data, s.layer.bias.grad);
          gb0v = Float64Array.from(heap.subarray(s.layer.bias.grad, s.layer.bias.grad + OUT));
        }
        const dxExact = (r: number, i: number) => {
          let v = 0;
          for (let o = 0; o < OUT; o++) v += dyv[r * LDY + o] * s.w[o * IN + i];
          return v;
        };

        linearBackwardInput(s.e, s.layer, ROWS, s.dy, LDY, s.dx, LDX, false);
        heap = s.e.heap();
        for (let r = 0; r < ROWS; r++) for (let i = 0; i < IN; i++) close(heap[s.dx + r * LDX + i], dxExact(r, i), tol, `dx[${r},${i}]`);

        // columns 2..4 only, accumulated onto existing values, written from column 0 of the destination
        heap.set(dxStart, s.dx);
        const start = Float64Array.from(heap.subarray(s.dx, s.dx + ROWS * LDX));
        linearBackwardInput(s.e, s.layer, ROWS, s.dy, LDY, s.dx, LDX, true, 2, 3);
        heap = s.e.heap();
        for (let r = 0; r < ROWS; r++) {
          for (let j = 0; j < LDX; j++) {
            const want = j < 3 ? start[r * LDX + j] + dxExact(r, 2 + j) : start[r * LDX + j];
            close(heap[s.dx + r * LDX + j], want, tol, `dx columns 2..4 [${r},${j}]`);
          }
        }

        linearBackwardWeights(s.e, s.layer, ROWS, s.dy, LDY, s.xOff, LDX, s.dyT);
        // a second layer fed by the same dy can reuse the transpose
        linearBackwardWeights(s.e, s.layer, ROWS, s.dy, LDY, s.xOff, LDX, s.dyT, true);
        heap = s.e.heap();
        for (let o = 0; o < OUT; o++) {
          for (let i = 0; i < IN; i++) {
            let v = 0;
            for (let r = 0; r < ROWS; r++) v += dyv[r * LDY + o] * s.x[r * LDX + i];
            close(heap[s.layer.weight.grad + o * IN + i], gw0v[o * IN + i] + 2 * v, tol, `dW[${o},${i}]`);
          }
          if (s.layer.bias) {
            let v = 0;
            for (let r = 0; r < ROWS; r++) v += dyv[r * LDY + o];
            close(heap[s.layer.bias.grad + o], gb0v![o] + 2 * v, tol, `db[${o}]`);
          }
        }
      });
    });
  }
}

describe("linear layer backward matches central finite differences (float64)", () => {
  for (const bias of [true, false]) {
    test(`loss = sum(c * silu(x W^T + b)), ${bias ? "with" : "without"} bias`, () => {
      const s = setup("reference", bias, 4);
      const rng = new TestRng(44);
      const c = rng.tensor([ROWS, OUT]).data;
      const e = s.e;
      const loss = (): number => {
        linearPrepare(e, s.layer);
        linearForward(e, s.layer, ROWS, s.xOff, LDX, s.pre, LDY, Act.silu, s.y, LDY);
        const heap = e.heap();
        let v = 0;
        for (let r = 0; r < ROWS; r++) for (let o = 0; o < OUT; o++) v += c[r * OUT + o] * heap[s.y + r * LDY + o];
        return v;
      };
      loss();
      let heap = e.heap();
      for (let r = 0; r < ROWS; r++) for (let o = 0; o < OUT; o++) heap[s.dy + r * LDY + o] = c[r * OUT + o];
      e.actBackward(ROWS, OUT, Act.silu, s.pre, LDY, s.dy, LDY, s.dy, LDY);
      linearBackwardInput(e, s.layer, ROWS, s.dy, LDY, s.dx, LDX, false);
      linearBackwardWeights(e, s.layer, ROWS, s.dy, LDY, s.xOff, LDX, s.dyT);
      heap = e.heap();
      const checks: Array<[string, number, number, number]> = [
        ["x", s.xOff, s.dx, ROWS * LDX],
        ["weight", s.layer.weight.value, s.layer.weight.grad, OUT * IN],
      ];
      if (s.layer.bias) checks.push(["bias", s.layer.bias.value, s.layer.bias.grad, OUT]);
      const eps = 1e-6;
      for (const [name, valueOff, gradOff, n] of checks) {
        const grad = Float64Array.from(e.heap().subarray(gradOff, gradOff + n));
        for (let i = 0; i < n; i++) {
          if (name === "x" && i % LDX >= IN) continue; // padding between rows
          const h = e.heap();
          const orig = h[valueOff + i];
          h[valueOff + i] = orig + eps;
          const plus = loss();
          e.heap()[valueOff + i] = orig - eps;
          const minus = loss();
          e.heap()[valueOff + i] = orig;
          const numeric = (plus - minus) / (2 * eps);
          assert.ok(Math.abs(numeric - grad[i]) < 1e-7 * Math.max(1, Math.abs(numeric)), `${name}[${i}]: analytic ${grad[i]} vs numeric ${numeric}`);
        }
      }
    });
  }
});
