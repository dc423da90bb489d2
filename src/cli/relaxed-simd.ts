/**
 * Node 20 and 21 have WebAssembly relaxed SIMD only behind a V8 flag; the engine's relaxed build (fused
 * multiply-add in the matrix products: ~20-25% faster CfC training steps on this project's machine,
 * BENCHMARKS.md) is then not chosen. The CLI sets the flag for its own process before any module is
 * compiled (V8 reads it at validation time; worker threads share it). Node 22 and later need nothing.
 */
import { setFlagsFromString } from "node:v8";

export function enableRelaxedSimd(): void {
  const major = Number(process.versions.node.split(".")[0]);
  if (major >= 22) return;
  try {
    setFlagsFromString("--experimental-wasm-relaxed-simd");
  } catch {
    // a runtime that refuses the flag keeps the plain SIMD build
  }
}
