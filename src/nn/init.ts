/** Weight initialisers of torch, as ncps uses them, drawn from our seeded generator. */
import type { Rng } from "./rng.js";

/** xavier_uniform_ on a [fanOut, fanIn] weight: U(-a, a), a = gain * sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform(out: Float64Array, fanOut: number, fanIn: number, rng: Rng, gain = 1): void {
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < out.length; i++) out[i] = rng.range(-a, a);
}

/** torch.nn.Linear's default (kaiming_uniform a=sqrt(5) on weights, and the bias rule): U(+-1/sqrt(fanIn)). */
export function linearDefault(out: Float64Array, fanIn: number, rng: Rng): void {
  const a = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  for (let i = 0; i < out.length; i++) out[i] = rng.range(-a, a);
}

export function uniform(out: Float64Array, low: number, high: number, rng: Rng): void {
  for (let i = 0; i < out.length; i++) out[i] = rng.range(low, high);
}

/**
 * orthogonal_ on a [rows, cols] matrix: QR of a Gaussian matrix with the sign of R's diagonal folded in,
 * so the result is uniformly distributed over (semi-)orthogonal matrices.
 */
export function orthogonal(out: Float64Array, rows: number, cols: number, rng: Rng): void {
  const tall = rows >= cols;
  const n = tall ? rows : cols; // length of each vector to orthonormalise
  const k = tall ? cols : rows; // how many vectors
  const q: Float64Array[] = [];
  for (let v = 0; v < k; v++) {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = rng.normal();
    // modified Gram-Schmidt, twice for stability
    for (let pass = 0; pass < 2; pass++) {
      for (const u of q) {
        let d = 0;
        for (let i = 0; i < n; i++) d += u[i] * x[i];
        for (let i = 0; i < n; i++) x[i] -= d * u[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += x[i] * x[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) x[i] /= norm;
    q.push(x);
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = tall ? q[c][r] : q[r][c];
  }
}
