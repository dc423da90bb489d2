/**
 * The per-row kernels of the ODE solvers (rowAxpy, rowDot, rowErrorNorm, copyRowsWhere, nonFiniteIndex):
 * the WebAssembly engine against the float64 reference at row widths that are not multiples of 4, with
 * strided rows and unaligned offsets, whole buffers compared so that padding must stay untouched.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ReferenceEngine, WasmEngine } from "../src/engine/index.js";
import type { Engine } from "../src/engine/index.js";
import { TestRng } from "./helpers/gradcheck.js";

interface Buf {
  readonly n: number;
  readonly w: number;
  readonly r: number;
}

/** A wasm and a reference engine driven in lockstep with the same (float32-representable) data. */
class Twin {
  readonly wasm = new WasmEngine();
  readonly ref = new ReferenceEngine();
  readonly rng: TestRng;
  constructor(seed: number) {
    this.rng = new TestRng(seed);
  }
  buf(n: number, lo = -1, hi = 1): Buf {
    const b = { n, w: this.wasm.alloc(n), r: this.ref.alloc(n) };
    for (let i = 0; i < n; i++) this.set(b, i, this.rng.range(lo, hi));
    return b;
  }
  set(b: Buf, i: number, v: number): void {
    this.wasm.heap()[b.w + i] = Math.fround(v);
    this.ref.heap()[b.r + i] = Math.fround(v);
  }
  run<T>(call: (e: Engine, o: (b: Buf, shift?: number) => number) => T): [T, T] {
    return [call(this.wasm, (b, s = 0) => b.w + s), call(this.ref, (b, s = 0) => b.r + s)];
  }
  expectClose(b: Buf, label: string, tol = 1e-5): void {
    const w = this.wasm.heap().subarray(b.w, b.w + b.n);
    const r = this.ref.heap().subarray(b.r, b.r + b.n);
    let scale = 1e-30;
    for (let i = 0; i < b.n; i++) scale = Math.max(scale, Math.abs(r[i]));
    for (let i = 0; i < b.n; i++) {
      const ok = Number.isNaN(r[i]) ? Number.isNaN(w[i]) : Math.abs(w[i] - r[i]) <= tol * scale || w[i] === r[i];
      if (!ok) assert.fail(`${label}: element ${i} is ${w[i]}, reference ${r[i]}`);
    }
  }
}

const SHAPES: Array<[number, number]> = [[1, 1], [1, 3], [2, 5], [3, 4], [4, 7], [5, 9], [7, 13], [3, 31], [6, 33], [2, 64]];

describe("per-row kernels: wasm vs reference", () => {
  test("rowAxpy scales each row by its own factor (also in place)", () => {
    const t = new Twin(11);
    for (const [rows, cols] of SHAPES) {
      const ld = cols + 3;
      const s = t.buf(rows + 2, -2, 2);
      const x = t.buf(rows * ld + 2);
      const y = t.buf(rows * (ld + 1) + 3);
      t.run((e, o) => e.rowAxpy(rows, cols, -0.375, o(s, 1), o(x, 1), ld, o(y, 2), ld + 1));
      t.expectClose(y, `rowAxpy ${rows}x${cols}`);
      t.run((e, o) => e.rowAxpy(rows, cols, 1.5, o(s, 1), o(y, 2), ld + 1, o(y, 2), ld + 1));
      t.expectClose(y, `rowAxpy in place ${rows}x${cols}`);
    }
  });

  test("rowAxpy matches its definition", () => {
    const e = new ReferenceEngine();
    const s = e.alloc(2);
    const x = e.alloc(6);
    const y = e.alloc(6);
    e.heap().set([2, -1], s);
    e.heap().set([1, 2, 3, 4, 5, 6], x);
    e.heap().set([1, 1, 1, 1, 1, 1], y);
    e.rowAxpy(2, 3, 0.5, s, x, 3, y, 3);
    assert.deepEqual([...e.heap().subarray(y, y + 6)], [2, 3, 4, -1, -1.5, -2]);
  });

  test("rowDot accumulates alpha times each row's dot product", () => {
    const t = new Twin(12);
    for (const [rows, cols] of SHAPES) {
      const a = t.buf(rows * (cols + 1) + 1);
      const b = t.buf(rows * (cols + 2) + 2);
      const out = t.buf(rows + 3);
      t.run((e, o) => e.rowDot(rows, cols, 0.75, o(a, 1), cols + 1, o(b, 2), cols + 2, o(out, 1)));
      t.expectClose(out, `rowDot ${rows}x${cols}`, 1e-5);
    }
    const e = new ReferenceEngine();
    const a = e.alloc(4);
    const out = e.alloc(2);
    e.heap().set([1, 2, 3, 4], a);
    e.heap().set([10, 20], out);
    e.rowDot(2, 2, 2, a, 2, a, 2, out);
    assert.deepEqual([...e.heap().subarray(out, out + 2)], [10 + 2 * 5, 20 + 2 * 25]);
  });

  test("rowErrorNorm: RMS of the scaled error, with and without atol, non-finite values propagate", () => {
    const t = new Twin(13);
    for (const [rows, cols] of SHAPES) {
      const e = t.buf(rows * (cols + 1), -1e-3, 1e-3);
      const y0 = t.buf(rows * cols + 1, -3, 3);
      const y1 = t.buf(rows * (cols + 2), -3, 3);
      const out = t.buf(rows + 2);
      for (const [atol, rtol] of [[1e-6, 1e-3], [0, 1e-2], [1e-4, 0]]) {
        t.run((en, o) => en.rowErrorNorm(rows, cols, o(e), cols + 1, o(y0, 1), cols, o(y1), cols + 2, atol, rtol, o(out, 1)));
        t.expectClose(out, `rowErrorNorm ${rows}x${cols} atol ${atol} rtol ${rtol}`, 1e-5);
      }
      t.set(e, (rows - 1) * (cols + 1) + cols - 1, Infinity);
      t.set(e, 0, Number.NaN);
      t.run((en, o) => en.rowErrorNorm(rows, cols, o(e), cols + 1, o(y0, 1), cols, o(y1), cols + 2, 1e-6, 1e-3, o(out, 1)));
      const [w, r] = t.run((en, o) => [...en.heap().subarray(o(out, 1), o(out, 1) + rows)]);
      assert.ok(Number.isNaN(w[0]) && Number.isNaN(r[0]), `rowErrorNorm ${rows}x${cols}: NaN in row 0 gives NaN`);
      if (rows > 1) {
        assert.equal(w[rows - 1], Infinity);
        assert.equal(r[rows - 1], Infinity);
      }
    }
    const en = new ReferenceEngine();
    const e = en.alloc(2);
    const y = en.alloc(2);
    const out = en.alloc(1);
    en.heap().set([3, 4], e);
    en.heap().set([1, -2], y);
    en.rowErrorNorm(1, 2, e, 2, y, 2, y, 2, 1, 0.5, out); // scales 1.5 and 2
    assert.ok(Math.abs(en.heap()[out] - Math.sqrt((4 + 4) / 2)) < 1e-15);
  });

  test("copyRowsWhere copies only the masked rows", () => {
    const t = new Twin(14);
    for (const [rows, cols] of SHAPES) {
      const mask = t.buf(rows + 1);
      for (let r = 0; r < rows; r++) t.set(mask, r + 1, r % 3 === 1 ? 0 : r % 3 === 2 ? -1 : 1);
      const src = t.buf(rows * (cols + 2));
      const dst = t.buf(rows * (cols + 1) + 3);
      const [, before] = t.run((e, o) => Float64Array.from(e.heap().subarray(o(dst), o(dst) + dst.n)));
      t.run((e, o) => e.copyRowsWhere(rows, cols, o(mask, 1), o(src), cols + 2, o(dst, 1), cols + 1));
      t.expectClose(dst, `copyRowsWhere ${rows}x${cols}`, 0);
      const after = t.ref.heap().subarray(dst.r, dst.r + dst.n);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < cols; j++) {
          const want = r % 3 === 1 ? before[1 + r * (cols + 1) + j] : t.ref.heap()[src.r + r * (cols + 2) + j];
          assert.equal(after[1 + r * (cols + 1) + j], want);
        }
      }
    }
  });

  test("nonFiniteIndex finds the first NaN or infinity at every position", () => {
    const t = new Twin(15);
    for (const n of [0, 1, 3, 4, 5, 8, 11, 33]) {
      const x = t.buf(n + 5);
      const [w0, r0] = t.run((e, o) => e.nonFiniteIndex(n, o(x, 1)));
      assert.equal(w0, -1);
      assert.equal(r0, -1);
      for (const bad of [Number.NaN, Infinity, -Infinity]) {
        for (let i = 0; i < n; i++) {
          t.set(x, 1 + i, bad);
          if (i + 2 < n) t.set(x, 1 + i + 2, Number.NaN); // a later one must not win
          const [w, r] = t.run((e, o) => e.nonFiniteIndex(n, o(x, 1)));
          assert.equal(w, i, `wasm, n ${n}, ${bad} at ${i}`);
          assert.equal(r, i, `reference, n ${n}, ${bad} at ${i}`);
          t.set(x, 1 + i, 0.5);
          if (i + 2 < n) t.set(x, 1 + i + 2, 0.5);
        }
      }
      t.set(x, n + 1, Number.NaN); // just past the end: not seen
      const [w1, r1] = t.run((e, o) => e.nonFiniteIndex(n, o(x, 1)));
      assert.equal(w1, -1);
      assert.equal(r1, -1);
    }
  });
});
