import type { Engine } from "../engine/engine.js";
import type { ParamRef } from "../nn/param-ref.js";
import type { FloatArray } from "../tensor.js";

/**
 * Global-norm gradient clipping with torch.nn.utils.clip_grad_norm_ semantics: the L2 norm is taken
 * over all gradients together, and when it exceeds `maxNorm` every gradient is scaled by
 * maxNorm / (norm + 1e-6). Returns the norm before clipping. The norm is accumulated in float64 (more
 * accurate than torch's per-tensor float32 norms); the scale factor is rounded to the gradients' dtype
 * before multiplying, as torch's float32 coefficient tensor is. A non-finite norm makes the scale
 * non-finite too, as in torch with error_if_nonfinite=False, so the caller sees the poisoned step.
 * Gradients that are views of `engine`'s heap (a model's) are summed and scaled by its sumSquares and
 * scale kernels (SIMD in the WebAssembly engine), with the same results as the loops here.
 */
export function clipGradNorm(params: readonly ParamRef[], maxNorm: number, engine?: Engine): number {
  if (typeof maxNorm !== "number" || !(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new Error(`clipGradNorm: maxNorm must be a positive finite number, got ${JSON.stringify(maxNorm)}`);
  }
  const norm = gradNorm(params, engine);
  const coefficient = Math.min(maxNorm / (norm + 1e-6), 1);
  // Multiplying by exactly 1 changes nothing, so only clipped (or non-finite) cases touch the gradients.
  if (!(coefficient >= 1)) {
    const heap = engine?.heap();
    for (const p of params) {
      const g = p.grad;
      const c = g instanceof Float32Array ? Math.fround(coefficient) : coefficient;
      const at = heapOffset(g, heap);
      if (at >= 0) engine!.scale(g.length, c, at);
      else for (let i = 0; i < g.length; i++) g[i] *= c;
    }
  }
  return norm;
}

/** Global L2 norm of all gradients, without changing them (`engine`: as in clipGradNorm). */
export function gradNorm(params: readonly ParamRef[], engine?: Engine): number {
  const heap = engine?.heap();
  let sumSquares = 0;
  for (const p of params) {
    const g = p.grad;
    const at = heapOffset(g, heap);
    if (at >= 0) {
      sumSquares += engine!.sumSquares(g.length, at);
      continue;
    }
    for (let i = 0; i < g.length; i++) sumSquares += g[i] * g[i];
  }
  return Math.sqrt(sumSquares);
}

/** The element offset of `a` in `heap` when `a` is a view of it, else -1. */
function heapOffset(a: FloatArray, heap: FloatArray | undefined): number {
  if (!heap || a.buffer !== heap.buffer || a.constructor !== heap.constructor) return -1;
  return a.byteOffset / a.BYTES_PER_ELEMENT;
}
