import type { ParamRef } from "../nn/param-ref.js";

/**
 * Global-norm gradient clipping with torch.nn.utils.clip_grad_norm_ semantics: the L2 norm is taken
 * over all gradients together, and when it exceeds `maxNorm` every gradient is scaled by
 * maxNorm / (norm + 1e-6). Returns the norm before clipping. The norm is accumulated in float64 (more
 * accurate than torch's per-tensor float32 norms); the scale factor is rounded to the gradients' dtype
 * before multiplying, as torch's float32 coefficient tensor is. A non-finite norm makes the scale
 * non-finite too, as in torch with error_if_nonfinite=False, so the caller sees the poisoned step.
 */
export function clipGradNorm(params: readonly ParamRef[], maxNorm: number): number {
  if (typeof maxNorm !== "number" || !(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new Error(`clipGradNorm: maxNorm must be a positive finite number, got ${JSON.stringify(maxNorm)}`);
  }
  const norm = gradNorm(params);
  const coefficient = Math.min(maxNorm / (norm + 1e-6), 1);
  // Multiplying by exactly 1 changes nothing, so only clipped (or non-finite) cases touch the gradients.
  if (!(coefficient >= 1)) {
    for (const p of params) {
      const g = p.grad;
      const c = g instanceof Float32Array ? Math.fround(coefficient) : coefficient;
      for (let i = 0; i < g.length; i++) g[i] *= c;
    }
  }
  return norm;
}

/** Global L2 norm of all gradients, without changing them. */
export function gradNorm(params: readonly ParamRef[]): number {
  let sumSquares = 0;
  for (const p of params) {
    const g = p.grad;
    for (let i = 0; i < g.length; i++) sumSquares += g[i] * g[i];
  }
  return Math.sqrt(sumSquares);
}
