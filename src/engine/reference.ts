/**
 * The float64 reference engine: every kernel of engine.ts as plain loops. It is the oracle for tests and
 * finite-difference gradient checks, and the fallback where WebAssembly SIMD is unavailable.
 */
import type { Engine } from "./engine.js";
import { activate, activateGrad, sigmoid } from "./math.js";

export class ReferenceEngine implements Engine {
  readonly kind = "reference" as const;
  readonly dtype = "float64" as const;
  private h = new Float64Array(1024);
  private top = 0;

  alloc(n: number): number {
    if (!Number.isInteger(n) || n < 0) throw new Error(`alloc: bad element count ${n}`);
    const off = this.top;
    this.top = off + ((n + 3) & ~3);
    if (this.top > this.h.length) {
      let cap = this.h.length;
      while (cap < this.top) cap *= 2;
      const next = new Float64Array(cap);
      next.set(this.h.subarray(0, off));
      this.h = next;
    }
    return off;
  }

  heap(): Float64Array {
    return this.h;
  }

  fill(dst: number, n: number, value: number): void {
    this.h.fill(value, dst, dst + n);
  }

  copy(src: number, dst: number, n: number): void {
    this.h.copyWithin(dst, src, src + n);
  }

  copyRows(rows: number, cols: number, src: number, ldSrc: number, dst: number, ldDst: number): void {
    const h = this.h;
    for (let r = 0; r < rows; r++) {
      const s = src + r * ldSrc;
      const d = dst + r * ldDst;
      for (let j = 0; j < cols; j++) h[d + j] = h[s + j];
    }
  }

  transpose(rows: number, cols: number, src: number, ldSrc: number, dst: number, ldDst: number): void {
    const h = this.h;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) h[dst + j * ldDst + r] = h[src + r * ldSrc + j];
    }
  }

  addRows(rows: number, cols: number, src: number, ldSrc: number, dst: number, ldDst: number): void {
    const h = this.h;
    for (let r = 0; r < rows; r++) {
      const s = src + r * ldSrc;
      const d = dst + r * ldDst;
      for (let j = 0; j < cols; j++) h[d + j] += h[s + j];
    }
  }

  mul(n: number, a: number, b: number, dst: number): void {
    const h = this.h;
    for (let i = 0; i < n; i++) h[dst + i] = h[a + i] * h[b + i];
  }

  axpy(n: number, alpha: number, x: number, y: number): void {
    const h = this.h;
    for (let i = 0; i < n; i++) h[y + i] += alpha * h[x + i];
  }

  colSum(rows: number, cols: number, src: number, ld: number, dst: number): void {
    const h = this.h;
    for (let r = 0; r < rows; r++) {
      const s = src + r * ld;
      for (let j = 0; j < cols; j++) h[dst + j] += h[s + j];
    }
  }

  gemm(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean): void {
    const h = this.h;
    for (let i = 0; i < m; i++) {
      const ci = c + i * ldc;
      if (!accumulate) h.fill(0, ci, ci + n);
      const ai = a + i * lda;
      for (let p = 0; p < k; p++) {
        const av = h[ai + p];
        if (av === 0) continue;
        const bp = b + p * ldb;
        for (let j = 0; j < n; j++) h[ci + j] += av * h[bp + j];
      }
    }
  }

  biasAct(rows: number, cols: number, act: number, x: number, ldx: number, bias: number, y: number, ldy: number): void {
    const h = this.h;
    for (let r = 0; r < rows; r++) {
      const xr = x + r * ldx;
      const yr = y + r * ldy;
      for (let j = 0; j < cols; j++) {
        const v = bias >= 0 ? h[xr + j] + h[bias + j] : h[xr + j];
        h[xr + j] = v;
        h[yr + j] = activate(act, v);
      }
    }
  }

  actBackward(rows: number, cols: number, act: number, x: number, ldx: number, dy: number, ldDy: number, dx: number, ldDx: number): void {
    const h = this.h;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        h[dx + r * ldDx + j] = h[dy + r * ldDy + j] * activateGrad(act, h[x + r * ldx + j]);
      }
    }
  }

  cfcForward(mode: number, rows: number, hidden: number, heads: number, bias: number, ts: number, hOut: number, ldh: number): void {
    const h = this.h;
    const H = hidden;
    for (let r = 0; r < rows; r++) {
      const row = heads + r * 4 * H;
      const t = h[ts + r];
      for (let j = 0; j < H; j++) {
        const ff1 = Math.tanh(h[row + j] + h[bias + j]);
        const ff2 = Math.tanh(h[row + H + j] + h[bias + H + j]);
        const ta = h[row + 2 * H + j] + h[bias + 2 * H + j];
        const tb = h[row + 3 * H + j] + h[bias + 3 * H + j];
        const s = sigmoid(ta * t + tb);
        h[row + j] = ff1;
        h[row + H + j] = ff2;
        h[row + 2 * H + j] = ta;
        h[row + 3 * H + j] = s;
        h[hOut + r * ldh + j] = mode === 0 ? ff1 * (1 - s) + s * ff2 : ff1 + s * ff2;
      }
    }
  }

  cfcBackward(mode: number, rows: number, hidden: number, heads: number, ts: number, dh: number, ldDh: number, dHeads: number, dts: number): void {
    const h = this.h;
    const H = hidden;
    for (let r = 0; r < rows; r++) {
      const row = heads + r * 4 * H;
      const drow = dHeads + r * 4 * H;
      const t = h[ts + r];
      let dt = 0;
      for (let j = 0; j < H; j++) {
        const ff1 = h[row + j];
        const ff2 = h[row + H + j];
        const ta = h[row + 2 * H + j];
        const s = h[row + 3 * H + j];
        const g = h[dh + r * ldDh + j];
        const dff1 = mode === 0 ? g * (1 - s) : g;
        const dff2 = g * s;
        const ds = mode === 0 ? g * (ff2 - ff1) : g * ff2;
        const dpre = ds * s * (1 - s);
        h[drow + j] = dff1 * (1 - ff1 * ff1);
        h[drow + H + j] = dff2 * (1 - ff2 * ff2);
        h[drow + 2 * H + j] = dpre * t;
        h[drow + 3 * H + j] = dpre;
        dt += dpre * ta;
      }
      h[dts + r] = dt;
    }
  }

  cfcPureForward(rows: number, hidden: number, ff1: number, bias: number, ts: number, wTau: number, a: number, hOut: number, ldh: number): void {
    const h = this.h;
    const H = hidden;
    for (let r = 0; r < rows; r++) {
      const t = h[ts + r];
      for (let j = 0; j < H; j++) {
        const f = h[ff1 + r * H + j] + h[bias + j];
        h[ff1 + r * H + j] = f;
        const A = h[a + j];
        const e = Math.exp(-t * (Math.abs(h[wTau + j]) + Math.abs(f)));
        h[hOut + r * ldh + j] = -A * e * f + A;
      }
    }
  }

  cfcPureBackward(rows: number, hidden: number, ff1: number, ts: number, wTau: number, a: number, dh: number, ldDh: number, dff1: number, dts: number, dWTau: number, dA: number): void {
    const h = this.h;
    const H = hidden;
    for (let r = 0; r < rows; r++) {
      const t = h[ts + r];
      let dt = 0;
      for (let j = 0; j < H; j++) {
        const f = h[ff1 + r * H + j];
        const A = h[a + j];
        const w = h[wTau + j];
        const k = Math.abs(w) + Math.abs(f);
        const e = Math.exp(-t * k);
        const g = h[dh + r * ldDh + j];
        // h = A - A e f with e = exp(-t (|w| + |f|)); torch's d|x|/dx is sign(x), 0 at 0.
        h[dA + j] += g * (1 - e * f);
        h[dff1 + r * H + j] = -g * A * e * (1 - t * Math.abs(f));
        h[dWTau + j] += g * A * f * e * t * Math.sign(w);
        dt += g * A * f * e * k;
      }
      h[dts + r] = dt;
    }
  }

  lstmForward(rows: number, hidden: number, gates: number, c: number, ldc: number, cOut: number, hOut: number, ldh: number): void {
    const h = this.h;
    const H = hidden;
    for (let r = 0; r < rows; r++) {
      const g = gates + r * 4 * H;
      for (let j = 0; j < H; j++) {
        const ia = Math.tanh(h[g + j]);
        const ig = sigmoid(h[g + H + j]);
        const fg = sigmoid(h[g + 2 * H + j] + 1);
        const og = sigmoid(h[g + 3 * H + j]);
        h[g + j] = ia;
        h[g + H + j] = ig;
        h[g + 2 * H + j] = fg;
        h[g + 3 * H + j] = og;
        const cn = h[c + r * ldc + j] * fg + ia * ig;
        h[cOut + r * ldc + j] = cn;
        h[hOut + r * ldh + j] = Math.tanh(cn) * og;
      }
    }
  }

  lstmBackward(rows: number, hidden: number, gates: number, c: number, ldc: number, cOut: number, dh: number, ldDh: number, dc: number, dGates: number): void {
    const h = this.h;
    const H = hidden;
    for (let r = 0; r < rows; r++) {
      const g = gates + r * 4 * H;
      const dg = dGates + r * 4 * H;
      for (let j = 0; j < H; j++) {
        const ia = h[g + j];
        const ig = h[g + H + j];
        const fg = h[g + 2 * H + j];
        const og = h[g + 3 * H + j];
        const tc = Math.tanh(h[cOut + r * ldc + j]);
        const dhv = h[dh + r * ldDh + j];
        const dcv = h[dc + r * H + j] + dhv * og * (1 - tc * tc);
        h[dg + j] = dcv * ig * (1 - ia * ia);
        h[dg + H + j] = dcv * ia * ig * (1 - ig);
        h[dg + 2 * H + j] = dcv * h[c + r * ldc + j] * fg * (1 - fg);
        h[dg + 3 * H + j] = dhv * tc * og * (1 - og);
        h[dc + r * H + j] = dcv * fg;
      }
    }
  }
}
