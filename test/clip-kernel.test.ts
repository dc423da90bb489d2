// The gradient-clipping kernels (Engine.sumSquares, Engine.scale) against the float64 reference engine,
// and clipGradNorm over engine-heap gradients against its plain-array loops.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ReferenceEngine, WasmEngine } from "../src/engine/index.js";
import type { Engine } from "../src/engine/engine.js";
import { clipGradNorm, gradNorm } from "../src/train/clip.js";
import type { ParamRef } from "../src/nn/param-ref.js";

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** `lengths` parameters whose gradients are views of `engine`'s heap, filled with the same values on every engine. */
function heapParams(engine: Engine, lengths: number[], seed: number): ParamRef[] {
  const rand = lcg(seed);
  const offsets = lengths.map((n) => [engine.alloc(n), engine.alloc(n)]);
  const heap = engine.heap();
  return lengths.map((n, k) => {
    const [v, g] = offsets[k];
    const grad = heap.subarray(g, g + n);
    for (let i = 0; i < n; i++) grad[i] = Math.fround(3 * rand());
    return { name: `p${k}`, value: heap.subarray(v, v + n), grad };
  });
}

const SIZES = [1, 3, 5, 7, 33, 1023, 4099];

describe("sumSquares and scale kernels", () => {
  for (const n of SIZES) {
    test(`match the reference engine at n = ${n}`, () => {
      const ref = new ReferenceEngine();
      const wasm = new WasmEngine();
      const [r] = heapParams(ref, [n], n);
      const [w] = heapParams(wasm, [n], n);
      const offR = r.grad.byteOffset / 8;
      const offW = w.grad.byteOffset / 4;
      const expected = ref.sumSquares(n, offR);
      const actual = wasm.sumSquares(n, offW);
      // float64 sums of the same float32 squares: only the summation order differs
      assert.ok(Math.abs(actual - expected) <= 1e-12 * expected, `sumSquares ${actual} vs ${expected}`);
      const alpha = 0.3712345;
      ref.scale(n, Math.fround(alpha), offR);
      wasm.scale(n, alpha, offW);
      const hr = ref.heap();
      const hw = wasm.heap();
      for (let i = 0; i < n; i++) assert.equal(hw[offW + i], Math.fround(hr[offR + i]), `scale at ${i}`);
    });
  }

  test("sumSquares propagates non-finite values", () => {
    const wasm = new WasmEngine();
    for (const bad of [NaN, Infinity]) {
      const [p] = heapParams(wasm, [9], 1);
      p.grad[6] = bad;
      const s = wasm.sumSquares(9, p.grad.byteOffset / 4);
      assert.ok(bad === Infinity ? s === Infinity : Number.isNaN(s));
    }
  });
});

describe("clipGradNorm with the engine's kernels", () => {
  for (const maxNorm of [1, 1e6]) {
    test(`gives the plain loops' norm and gradients (maxNorm ${maxNorm})`, () => {
      const lengths = [5, 130, 1, 67, 1031];
      const wasm = new WasmEngine();
      const onHeap = heapParams(wasm, lengths, 7);
      const plain = onHeap.map((p) => ({ name: p.name, value: new Float32Array(p.value), grad: new Float32Array(p.grad) }));
      const ref = new ReferenceEngine();
      const oracle = heapParams(ref, lengths, 7);
      const normOracle = clipGradNorm(oracle, maxNorm, ref);
      const normPlain = clipGradNorm(plain, maxNorm);
      const normKernel = clipGradNorm(onHeap, maxNorm, wasm);
      assert.ok(Math.abs(normKernel - normPlain) <= 1e-12 * normPlain, `${normKernel} vs ${normPlain}`);
      assert.ok(Math.abs(normKernel - normOracle) <= 1e-12 * normOracle, `${normKernel} vs ${normOracle}`);
      if (maxNorm === 1) assert.ok(normPlain > 1, "the case clips");
      for (let k = 0; k < lengths.length; k++) {
        assert.deepEqual([...onHeap[k].grad], [...plain[k].grad], `gradient ${k}`);
        // two float32 roundings (the coefficient, the product) against float64
        for (let i = 0; i < lengths[k]; i++) {
          const o = oracle[k].grad[i];
          assert.ok(Math.abs(onHeap[k].grad[i] - o) <= 2 ** -22 * Math.abs(o) + 1e-30, `gradient ${k}[${i}]`);
        }
      }
      assert.ok(Math.abs(gradNorm(onHeap, wasm) - gradNorm(plain)) <= 1e-12 * normPlain);
    });
  }
});
