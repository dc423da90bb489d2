/**
 * The WebAssembly engine against the float64 reference, kernel by kernel: seeded random inputs at many
 * shapes (1, odd sizes, non-multiples of 4/8/16, strided rows, unaligned offsets), outputs compared to a
 * relative tolerance of each output's largest magnitude, whole buffers compared so that padding between
 * strided rows must stay untouched. Activations are also driven far into saturation, and the heap's
 * allocator is checked for alignment, zero-fill and growth.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Act, CfcMode, createEngine, initWasm, packedSize, ReferenceEngine, wasmSimdSupported, WasmEngine } from "../src/engine/index.js";
import type { Engine } from "../src/engine/index.js";

/** mulberry32: a tiny seeded generator, so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One buffer allocated in both engines with identical contents. */
interface Buf {
  readonly n: number;
  readonly w: number;
  readonly r: number;
}

/** A wasm engine and a reference engine driven in lockstep. */
class Twin {
  readonly wasm = new WasmEngine();
  readonly ref = new ReferenceEngine();
  readonly rand: () => number;

  constructor(seed: number) {
    this.rand = rng(seed);
  }

  /** A buffer of n values uniform in [lo, hi) (rounded to float32 so both engines start equal). */
  buf(n: number, lo = -1, hi = 1): Buf {
    const b = { n, w: this.wasm.alloc(n), r: this.ref.alloc(n) };
    const hw = this.wasm.heap();
    const hr = this.ref.heap();
    for (let i = 0; i < n; i++) {
      const v = Math.fround(lo + (hi - lo) * this.rand());
      hw[b.w + i] = v;
      hr[b.r + i] = v;
    }
    return b;
  }

  /** Writes the same values into a buffer of both engines. */
  set(b: Buf, values: ArrayLike<number>, at = 0): void {
    for (let i = 0; i < values.length; i++) {
      this.wasm.heap()[b.w + at + i] = values[i];
      this.ref.heap()[b.r + at + i] = values[i];
    }
  }

  /** Runs the same call on both engines; `o` maps a buffer (plus an element shift) to that engine's offset. */
  run(call: (e: Engine, o: (b: Buf, shift?: number) => number) => void): void {
    call(this.wasm, (b, shift = 0) => b.w + shift);
    call(this.ref, (b, shift = 0) => b.r + shift);
  }

  /** Asserts the two engines hold the same values in `b`, to `tol` times the largest reference magnitude. */
  expectClose(b: Buf, label: string, tol = 1e-5): void {
    const w = this.wasm.heap().subarray(b.w, b.w + b.n);
    const r = this.ref.heap().subarray(b.r, b.r + b.n);
    let scale = 0;
    for (let i = 0; i < b.n; i++) scale = Math.max(scale, Math.abs(r[i]));
    const bound = tol * Math.max(scale, 1e-30);
    for (let i = 0; i < b.n; i++) {
      if (Number.isNaN(w[i]) || !(Math.abs(w[i] - r[i]) <= bound)) {
        assert.fail(`${label}: element ${i} is ${w[i]}, reference ${r[i]} (allowed error ${bound.toExponential(2)})`);
      }
    }
  }
}

/** Shapes exercising every tile and remainder path: 1, odd, non-multiples of 4/8/16, and typical sizes. */
const GEMM_SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 3, 2], [2, 5, 3], [3, 7, 1], [4, 8, 4], [4, 4, 9], [5, 9, 17], [7, 13, 31], [2, 16, 8], [6, 33, 19],
  [9, 20, 5], [17, 31, 40], [8, 24, 12], [3, 48, 7], [1, 256, 80], [64, 128, 80], [11, 17, 0],
  // single rows split into 64- and 48-column passes and narrower ones: 2 x 64, 64 + 48, 48 + 32 + 8 + 4 + 3, 2 x 48 + 4
  [1, 128, 9], [1, 112, 5], [1, 95, 7], [1, 100, 3],
  // 5-row blocks with every count of leftover rows (1 to 4) and 5x4 / tail columns
  [5, 8, 3], [10, 12, 70], [13, 45, 6], [8, 20, 9], [14, 7, 11],
];

describe("WasmEngine", () => {
  test("createEngine builds distinct engines of each kind and rejects unknown kinds", async () => {
    assert.equal(wasmSimdSupported(), true);
    await initWasm();
    const a = createEngine("wasm");
    const b = createEngine("wasm");
    assert.equal(a.kind, "wasm");
    assert.equal(a.dtype, "float32");
    assert.ok(a instanceof WasmEngine);
    const oa = a.alloc(4);
    const ob = b.alloc(4);
    a.fill(oa, 4, 7);
    assert.deepEqual([...b.heap().subarray(ob, ob + 4)], [0, 0, 0, 0], "engines must not share memory");
    const r = createEngine("reference");
    assert.equal(r.kind, "reference");
    assert.equal(r.dtype, "float64");
    assert.throws(() => createEngine("gpu" as never), /unknown backend "gpu"/);
  });

  test("createEngine('wasm') without WebAssembly SIMD points to the reference backend", () => {
    const validate = WebAssembly.validate;
    WebAssembly.validate = () => false;
    try {
      assert.equal(wasmSimdSupported(), false);
      assert.throws(() => createEngine("wasm"), /needs WebAssembly SIMD.*use backend "reference"/);
    } finally {
      WebAssembly.validate = validate;
    }
    assert.equal(wasmSimdSupported(), true);
  });

  test("alloc: 4-element alignment, zero fill, growth that preserves data and refreshes heap()", () => {
    const e = new WasmEngine();
    for (const n of [0, 1, 3, 4, 5, 17]) assert.equal(e.alloc(n) % 4, 0, `alloc(${n}) offset must be a multiple of 4`);
    const a = e.alloc(10);
    const b = e.alloc(3);
    assert.ok(b >= a + 10, "allocations must not overlap");
    const before = e.heap();
    for (let i = 0; i < 10; i++) before[a + i] = i + 0.5;
    const big = before.length + 1_000_000; // more than the whole current memory
    const c = e.alloc(big);
    const after = e.heap();
    assert.notEqual(after, before, "heap() must return a fresh view after memory grew");
    assert.ok(after.length >= c + big, "heap() must cover the new allocation");
    for (let i = 0; i < 10; i++) assert.equal(after[a + i], i + 0.5, "old data must survive growth");
    assert.equal(after[c], 0);
    assert.equal(after[c + big - 1], 0);
    assert.equal(e.heap(), after, "heap() is re-created only when memory changes");
    // Kernels see the grown memory.
    e.fill(c + big - 5, 5, 2);
    assert.deepEqual([...e.heap().subarray(c + big - 6, c + big)], [0, 2, 2, 2, 2, 2]);
    // An allocation is zero-filled even where a kernel wrote past the previous end.
    const d = e.alloc(4);
    e.fill(d, 12, 9);
    const f = e.alloc(8);
    assert.deepEqual([...e.heap().subarray(f, f + 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.throws(() => e.alloc(-1), /alloc: element count must be a non-negative integer, got -1/);
    assert.throws(() => e.alloc(2.5), /alloc/);
  });

  test("fill, copy, copyRows, addRows, transpose on strided and unaligned views", () => {
    const t = new Twin(1);
    for (const [rows, cols] of [[1, 1], [1, 7], [3, 5], [4, 4], [5, 9], [8, 16], [13, 6], [6, 33]]) {
      const ld = cols + 3;
      const src = t.buf(rows * ld + 4);
      const dst = t.buf(rows * (ld + 2) + 4);
      t.run((e, o) => e.copyRows(rows, cols, o(src, 1), ld, o(dst, 2), ld + 2));
      t.expectClose(dst, `copyRows ${rows}x${cols}`, 0);
      t.run((e, o) => e.addRows(rows, cols, o(src, 3), ld, o(dst, 1), ld + 2));
      t.expectClose(dst, `addRows ${rows}x${cols}`);
      const tr = t.buf(cols * (rows + 5) + 3);
      t.run((e, o) => e.transpose(rows, cols, o(src, 1), ld, o(tr, 3), rows + 5));
      t.expectClose(tr, `transpose ${rows}x${cols}`, 0);
    }
    for (const n of [0, 1, 3, 4, 7, 16, 33]) {
      const a = t.buf(n + 8);
      const b = t.buf(n + 8);
      t.run((e, o) => e.fill(o(a, 1), n, -2.5));
      t.expectClose(a, `fill ${n}`, 0);
      t.run((e, o) => e.copy(o(a, 3), o(b, 2), n));
      t.expectClose(b, `copy ${n}`, 0);
    }
  });

  test("mul (also in place), axpy and colSum", () => {
    const t = new Twin(2);
    for (const n of [1, 2, 5, 8, 13, 64, 67]) {
      const a = t.buf(n + 4);
      const b = t.buf(n + 4);
      const d = t.buf(n + 4);
      t.run((e, o) => e.mul(n, o(a, 1), o(b, 2), o(d, 3)));
      t.expectClose(d, `mul ${n}`);
      t.run((e, o) => e.mul(n, o(a, 1), o(b, 2), o(a, 1)));
      t.expectClose(a, `mul in place ${n}`);
      t.run((e, o) => e.axpy(n, -0.75, o(b, 1), o(d, 2)));
      t.expectClose(d, `axpy ${n}`);
    }
    for (const [rows, cols] of [[1, 1], [3, 3], [5, 4], [2, 16], [7, 21], [64, 37], [9, 48]]) {
      const ld = cols + 2;
      const src = t.buf(rows * ld + 1);
      const dst = t.buf(cols + 5);
      t.run((e, o) => e.colSum(rows, cols, o(src, 1), ld, o(dst, 3)));
      t.expectClose(dst, `colSum ${rows}x${cols}`);
    }
  });

  test("gemm: every tile remainder, strides, offsets, accumulate true and false", () => {
    const t = new Twin(3);
    for (const [m, n, k] of GEMM_SHAPES) {
      for (const [pad, shift] of [[0, 0], [3, 1], [5, 2]]) {
        const lda = k + pad;
        const ldb = n + pad;
        const ldc = n + pad + 1;
        const a = t.buf(m * lda + 4);
        const b = t.buf(k * ldb + 4);
        const c = t.buf(m * ldc + 4);
        for (const accumulate of [false, true]) {
          t.run((e, o) => e.gemm(m, n, k, o(a, shift), lda, o(b, shift + 1), ldb, o(c, 3 - shift), ldc, accumulate));
          t.expectClose(c, `gemm ${m}x${n}x${k} pad ${pad} shift ${shift} accumulate ${accumulate}`);
        }
      }
    }
  });

  test("gemm: every register-tile family (the benchmark's alternatives) matches the reference", () => {
    type Family = (m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: number, kc: number) => void;
    const t = new Twin(11);
    const exportsOf = (t.wasm as unknown as { k: Record<string, Family> }).k;
    for (const family of ["gemmTiles4x8", "gemmTiles2x16", "gemmTiles5x8"]) {
      for (const [m, n, k] of [[1, 3, 2], [5, 9, 17], [7, 13, 31], [6, 33, 19], [9, 20, 5], [3, 48, 300], [12, 22, 300]]) {
        const a = t.buf(m * (k + 1) + 1);
        const b = t.buf(k * (n + 2) + 1);
        const c = t.buf(m * (n + 3) + 1);
        for (const accumulate of [false, true]) {
          exportsOf[family](m, n, k, a.w + 1, k + 1, b.w, n + 2, c.w + 1, n + 3, accumulate ? 1 : 0, 128);
          t.ref.gemm(m, n, k, a.r + 1, k + 1, b.r, n + 2, c.r + 1, n + 3, accumulate);
          t.expectClose(c, `${family} ${m}x${n}x${k} accumulate ${accumulate}`);
        }
      }
    }
  });

  test("gemm: the packed (cache-blocked) path at shapes off every block and tile edge, and engine.gemm above its threshold", () => {
    type Product = (m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: number) => void;
    const t = new Twin(12);
    const exportsOf = (t.wasm as unknown as { k: Record<string, Product> }).k;
    // k above the 256-deep panels, n above the 256-wide packed blocks and off multiples of 8, m off 5 and 2
    for (const [m, n, k] of [[1, 9, 3], [2, 8, 1], [4, 17, 5], [7, 263, 301], [13, 520, 257], [16, 31, 600], [23, 7, 40]]) {
      const lda = k + 3;
      const ldb = n + 5;
      const ldc = n + 1;
      const a = t.buf(m * lda + 2);
      const b = t.buf(k * ldb + 2);
      const c = t.buf(m * ldc + 2);
      for (const accumulate of [false, true]) {
        exportsOf.gemmPackedAlways(m, n, k, a.w + 1, lda, b.w + 2, ldb, c.w, ldc, accumulate ? 1 : 0);
        t.ref.gemm(m, n, k, a.r + 1, lda, b.r + 2, ldb, c.r, ldc, accumulate);
        t.expectClose(c, `gemmPackedAlways ${m}x${n}x${k} accumulate ${accumulate}`);
      }
    }
    // engine.gemm takes the packed path here (many rows, B over the size threshold)
    for (const [m, n, k] of [[37, 300, 230], [261, 67, 250]]) {
      const a = t.buf(m * k);
      const b = t.buf(k * n);
      const c = t.buf(m * n);
      for (const accumulate of [false, true]) {
        t.run((e, o) => e.gemm(m, n, k, o(a), k, o(b), n, o(c), n, accumulate));
        t.expectClose(c, `gemm ${m}x${n}x${k} accumulate ${accumulate}`);
      }
    }
  });

  test("packB + gemmPrepacked: every block and tile edge, strides, accumulate, against the reference gemm", () => {
    const t = new Twin(13);
    for (const [m, n, k] of [[1, 9, 3], [3, 16, 7], [4, 8, 1], [5, 263, 301], [13, 520, 257], [16, 31, 600], [64, 7, 40], [9, 300, 12]]) {
      const lda = k + 1;
      const ldb = n + 3;
      const ldc = n + 2;
      const a = t.buf(m * lda + 1);
      const b = t.buf(k * ldb + 1);
      const c = t.buf(m * ldc + 1);
      const packed = t.buf(packedSize(k, n) + 1);
      t.run((e, o) => e.packB(k, n, o(b, 1), ldb, o(packed)));
      for (const accumulate of [false, true]) {
        t.run((e, o) => e.gemmPrepacked(m, n, k, o(a), lda, o(packed), o(b, 1), ldb, o(c, 1), ldc, accumulate));
        t.expectClose(c, `gemmPrepacked ${m}x${n}x${k} accumulate ${accumulate}`);
      }
    }
  });

  test("gemm: deep k (split into panels) and a product checked by hand", () => {
    const t = new Twin(4);
    for (const [m, n, k] of [[5, 19, 600], [6, 40, 257], [1, 9, 1000]]) {
      const a = t.buf(m * k);
      const b = t.buf(k * n);
      const c = t.buf(m * n);
      for (const accumulate of [false, true]) {
        t.run((e, o) => e.gemm(m, n, k, o(a), k, o(b), n, o(c), n, accumulate));
        t.expectClose(c, `gemm ${m}x${n}x${k} accumulate ${accumulate}`);
      }
    }
    const e = new WasmEngine();
    const a = e.alloc(4);
    const b = e.alloc(4);
    const c = e.alloc(4);
    e.heap().set([1, 2, 3, 4], a);
    e.heap().set([5, 6, 7, 8], b);
    e.heap().set([100, 100, 100, 100], c);
    e.gemm(2, 2, 2, a, 2, b, 2, c, 2, false);
    assert.deepEqual([...e.heap().subarray(c, c + 4)], [19, 22, 43, 50]);
    e.gemm(2, 2, 2, a, 2, b, 2, c, 2, true);
    assert.deepEqual([...e.heap().subarray(c, c + 4)], [38, 44, 86, 100]);
  });

  test("biasAct and actBackward for every activation, with and without bias, strided", () => {
    const t = new Twin(5);
    for (const act of Object.values(Act)) {
      for (const [rows, cols] of [[1, 1], [2, 3], [3, 5], [4, 16], [5, 17], [3, 33]]) {
        for (const withBias of [true, false]) {
          const ldx = cols + 2;
          const ldy = cols + 1;
          const x = t.buf(rows * ldx + 4, -4, 4);
          const bias = t.buf(cols + 4, -1, 1);
          const y = t.buf(rows * ldy + 4);
          t.run((e, o) => e.biasAct(rows, cols, act, o(x, 1), ldx, withBias ? o(bias, 2) : -1, o(y, 3), ldy));
          const label = `act ${act} ${rows}x${cols} bias ${withBias}`;
          t.expectClose(x, `biasAct x ${label}`);
          t.expectClose(y, `biasAct y ${label}`);
          const dy = t.buf(rows * ldy + 4);
          const dx = t.buf(rows * ldx + 4);
          t.run((e, o) => e.actBackward(rows, cols, act, o(x, 1), ldx, o(dy, 2), ldy, o(dx, 3), ldx));
          t.expectClose(dx, `actBackward ${label}`);
          t.run((e, o) => e.actBackward(rows, cols, act, o(x, 1), ldx, o(dy, 2), ldy, o(dy, 2), ldy));
          t.expectClose(dy, `actBackward in place ${label}`);
        }
      }
    }
    // identity may write y over x
    const x = t.buf(9);
    const bias = t.buf(3);
    t.run((e, o) => e.biasAct(3, 3, Act.identity, o(x), 3, o(bias), o(x), 3));
    t.expectClose(x, "biasAct identity in place");
  });

  test("activations saturate without NaN far from zero", () => {
    const inputs = [-1e4, -200, -100, -89, -88.7, -60, -50, -20, -9, -1e-30, 0, 1e-30, 9, 20, 50, 60, 88.7, 89, 100, 200, 1e4];
    const lecunMax = Math.fround(1.7159);
    // [act, f(-1e4), f(1e4), f'(-1e4), f'(1e4)], known in closed form.
    const limits: Array<[number, number, number, number, number]> = [
      [Act.identity, -1e4, 1e4, 1, 1],
      [Act.lecun_tanh, -lecunMax, lecunMax, 0, 0],
      [Act.silu, 0, 1e4, 0, 1],
      [Act.relu, 0, 1e4, 0, 1],
      [Act.tanh, -1, 1, 0, 0],
      [Act.gelu, 0, 1e4, 0, 1],
      [Act.sigmoid, 0, 1, 0, 0],
    ];
    const t = new Twin(6);
    const n = inputs.length + 64;
    for (const [act, lo, hi, dlo, dhi] of limits) {
      const x = t.buf(n, -60, 60);
      t.set(x, inputs);
      const y = t.buf(n);
      const dy = t.buf(n, 1, 1);
      const dx = t.buf(n);
      t.run((e, o) => e.biasAct(1, n, act, o(x), n, -1, o(y), n));
      t.run((e, o) => e.actBackward(1, n, act, o(x), n, o(dy), n, o(dx), n));
      const h = t.wasm.heap();
      const ref = t.ref.heap();
      for (let i = 0; i < n; i++) {
        const v = h[y.w + i];
        const g = h[dx.w + i];
        const label = `act ${act} at x = ${h[x.w + i]}`;
        assert.ok(Number.isFinite(v) && Number.isFinite(g), `${label}: got ${v}, derivative ${g}`);
        assert.ok(Math.abs(v - ref[y.r + i]) <= 1e-6 * Math.max(1, Math.abs(ref[y.r + i])), `${label}: ${v} vs reference ${ref[y.r + i]}`);
        assert.ok(Math.abs(g - ref[dx.r + i]) <= 1e-6 * Math.max(1, Math.abs(ref[dx.r + i])), `${label}: derivative ${g} vs reference ${ref[dx.r + i]}`);
      }
      const w = t.wasm.heap();
      assert.equal(w[y.w] + 0, lo, `act ${act}(-1e4)`);
      assert.equal(w[y.w + inputs.length - 1], hi, `act ${act}(1e4)`);
      assert.equal(w[dx.w] + 0, dlo, `act ${act}'(-1e4)`);
      assert.equal(w[dx.w + inputs.length - 1], dhi, `act ${act}'(1e4)`);
    }
  });

  test("activations match float64 closely near zero and in the tails", () => {
    // Relative accuracy where outputs are tiny: tanh and sigmoid near 0, GELU's negative tail.
    const t = new Twin(7);
    const n = 4000;
    for (const [act, lo, hi, tol] of [
      [Act.tanh, -1e-3, 1e-3, 4e-7],
      [Act.tanh, -9, 9, 4e-7],
      [Act.sigmoid, -30, 30, 6e-7],
      [Act.silu, -30, 30, 6e-7],
      // Below x = -6 the float64 reference itself loses digits (it forms 1 + erf by cancellation).
      [Act.gelu, -6, 7.5, 6e-7],
      [Act.lecun_tanh, -5, 5, 6e-7],
    ] as Array<[number, number, number, number]>) {
      const x = t.buf(n, lo, hi);
      const y = t.buf(n);
      t.run((e, o) => e.biasAct(1, n, act, o(x), n, -1, o(y), n));
      const w = t.wasm.heap();
      const r = t.ref.heap();
      for (let i = 0; i < n; i++) {
        const want = r[y.r + i];
        const err = Math.abs(w[y.w + i] - want);
        assert.ok(err <= tol * Math.abs(want) + 1e-37, `act ${act} at ${r[x.r + i]}: ${w[y.w + i]} vs ${want} (relative ${(err / Math.abs(want)).toExponential(2)})`);
      }
    }
  });

  test("cfcForward and cfcBackward, both gated modes", () => {
    const t = new Twin(8);
    for (const mode of [CfcMode.default, CfcMode.no_gate]) {
      for (const [rows, hidden] of [[1, 1], [2, 3], [3, 4], [1, 5], [4, 8], [2, 13], [3, 64]]) {
        const H = hidden;
        const ldh = H + 3;
        const heads = t.buf(rows * 4 * H + 4, -3, 3);
        const bias = t.buf(4 * H + 4);
        const ts = t.buf(rows + 4, 0.1, 2);
        const h = t.buf(rows * ldh + 4);
        const label = `mode ${mode} rows ${rows} hidden ${H}`;
        t.run((e, o) => e.cfcForward(mode, rows, H, o(heads, 1), o(bias, 2), o(ts, 3), o(h, 1), ldh));
        t.expectClose(heads, `cfcForward cache ${label}`);
        t.expectClose(h, `cfcForward h ${label}`);
        // Backward from an exact, shared cache so that only the kernel is compared.
        const cache = t.buf(rows * 4 * H + 4);
        for (let r = 0; r < rows; r++) {
          const row = 1 + r * 4 * H;
          const vals: number[] = [];
          for (let j = 0; j < 2 * H; j++) vals.push(Math.fround(2 * t.rand() - 1));
          for (let j = 0; j < H; j++) vals.push(Math.fround(4 * t.rand() - 2));
          for (let j = 0; j < H; j++) vals.push(Math.fround(t.rand()));
          t.set(cache, vals, row);
        }
        const dh = t.buf(rows * ldh + 4);
        const dHeads = t.buf(rows * 4 * H + 4);
        const dts = t.buf(rows + 4);
        t.run((e, o) => e.cfcBackward(mode, rows, H, o(cache, 1), o(ts, 3), o(dh, 2), ldh, o(dHeads, 3), o(dts, 1)));
        t.expectClose(dHeads, `cfcBackward dHeads ${label}`);
        t.expectClose(dts, `cfcBackward dts ${label}`);
      }
    }
  });

  test("cfcPureForward and cfcPureBackward", () => {
    const t = new Twin(9);
    for (const [rows, hidden] of [[1, 1], [2, 3], [3, 4], [1, 7], [4, 16], [2, 21], [3, 64]]) {
      const H = hidden;
      const ldh = H + 2;
      const ff1 = t.buf(rows * H + 4, -3, 3);
      const bias = t.buf(H + 4);
      const ts = t.buf(rows + 4, 0.1, 2);
      const wTau = t.buf(H + 4, -1, 1);
      t.set(wTau, [0], 1); // sign(0) = 0 in the w_tau gradient
      const a = t.buf(H + 4, -2, 2);
      const h = t.buf(rows * ldh + 4);
      const label = `rows ${rows} hidden ${H}`;
      t.run((e, o) => e.cfcPureForward(rows, H, o(ff1, 1), o(bias, 2), o(ts, 3), o(wTau, 1), o(a, 2), o(h, 3), ldh));
      t.expectClose(ff1, `cfcPureForward f ${label}`);
      t.expectClose(h, `cfcPureForward h ${label}`);
      const dh = t.buf(rows * ldh + 4);
      const dff1 = t.buf(rows * H + 4);
      const dts = t.buf(rows + 4);
      const dW = t.buf(H + 4);
      const dA = t.buf(H + 4);
      t.run((e, o) => e.cfcPureBackward(rows, H, o(ff1, 1), o(ts, 3), o(wTau, 1), o(a, 2), o(dh, 1), ldh, o(dff1, 2), o(dts, 1), o(dW, 3), o(dA, 2)));
      t.expectClose(dff1, `cfcPureBackward dff1 ${label}`);
      t.expectClose(dts, `cfcPureBackward dts ${label}`);
      t.expectClose(dW, `cfcPureBackward dWTau ${label}`);
      t.expectClose(dA, `cfcPureBackward dA ${label}`);
    }
  });

  test("lstmForward and lstmBackward", () => {
    const t = new Twin(10);
    for (const [rows, hidden] of [[1, 1], [2, 3], [3, 4], [1, 6], [4, 8], [2, 19], [3, 64]]) {
      const H = hidden;
      const ldc = H + 3;
      const ldh = H + 1;
      const gates = t.buf(rows * 4 * H + 4, -3, 3);
      const c = t.buf(rows * ldc + 4, -2, 2);
      const cOut = t.buf(rows * ldc + 4);
      const h = t.buf(rows * ldh + 4);
      const label = `rows ${rows} hidden ${H}`;
      t.run((e, o) => e.lstmForward(rows, H, o(gates, 1), o(c, 2), ldc, o(cOut, 3), o(h, 1), ldh));
      t.expectClose(gates, `lstmForward cache ${label}`);
      t.expectClose(cOut, `lstmForward c' ${label}`);
      t.expectClose(h, `lstmForward h' ${label}`);
      const dh = t.buf(rows * ldh + 4);
      const dc = t.buf(rows * H + 4);
      const dGates = t.buf(rows * 4 * H + 4);
      t.run((e, o) => e.lstmBackward(rows, H, o(gates, 1), o(c, 2), ldc, o(cOut, 3), o(dh, 1), ldh, o(dc, 2), o(dGates, 3)));
      t.expectClose(dGates, `lstmBackward dGates ${label}`);
      t.expectClose(dc, `lstmBackward dc ${label}`);
    }
  });
});
