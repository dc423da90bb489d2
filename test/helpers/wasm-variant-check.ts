/**
 * Run in a child process by test/wasm-variants.test.ts (so that the module choice and V8 flags are its
 * own): loads the build named by argv[2] ("simd" or "relaxed-simd"), reports which one loaded, and runs
 * the matrix products (the kernels that differ between the builds; gemm and gemmPrepacked, every tile
 * path) against the float64 reference. Prints one JSON line: { variant, worst }, the worst error
 * relative to the largest reference magnitude.
 */
import { ReferenceEngine } from "../../src/engine/reference.js";
import { packedSize } from "../../src/engine/engine.js";
import { selectWasmVariant, wasmVariant, WasmEngine } from "../../src/engine/wasm.js";

const wanted = process.argv[2] as "simd" | "relaxed-simd";
selectWasmVariant(wanted);
const engines = [new WasmEngine(), new ReferenceEngine()] as const;
let seed = 7;
const rand = (): number => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return Math.fround(seed / 2 ** 32 - 0.5);
};
let worst = 0;
for (const [m, n, k] of [[1, 37, 19], [5, 8, 3], [7, 29, 300], [64, 263, 130], [300, 70, 40]]) {
  const a = Array.from({ length: m * k }, rand);
  const b = Array.from({ length: k * n }, rand);
  const c0 = Array.from({ length: m * n }, rand);
  for (const prepacked of [false, true]) {
    const out = engines.map((e) => {
      const pa = e.alloc(m * k);
      const pb = e.alloc(k * n);
      const pc = e.alloc(m * n);
      const pp = e.alloc(packedSize(k, n));
      e.heap().set(a, pa);
      e.heap().set(b, pb);
      e.heap().set(c0, pc);
      if (prepacked) {
        e.packB(k, n, pb, n, pp);
        e.gemmPrepacked(m, n, k, pa, k, pp, pb, n, pc, n, true);
      } else {
        e.gemm(m, n, k, pa, k, pb, n, pc, n, true);
      }
      return Array.from(e.heap().subarray(pc, pc + m * n));
    });
    const scale = Math.max(...out[1].map(Math.abs));
    for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs(out[0][i] - out[1][i]) / scale);
  }
}
console.log(JSON.stringify({ variant: wasmVariant(), worst }));
