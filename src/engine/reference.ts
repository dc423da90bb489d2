/**
 * The float64 reference engine: every kernel of engine.ts as plain loops. It is the oracle for tests and
 * finite-difference gradient checks, and the fallback where WebAssembly SIMD is unavailable.
 */
import { Act, type AdamStepScalars, CfcMode, type Engine, type RmspropStepScalars, type SgdStepScalars } from "./engine.js";
import { HeapAllocator } from "./heap-allocator.js";
import { activate, activateGrad, activateGradFromOutput, sigmoid } from "./math.js";

/** torch Softplus: above this input it returns x itself. */
const SOFTPLUS_THRESHOLD = 20;

export class ReferenceEngine implements Engine {
  readonly kind = "reference" as const;
  readonly dtype = "float64" as const;
  private h = new Float64Array(1024);
  private readonly memory = new HeapAllocator(0);

  alloc(n: number): number {
    if (!Number.isInteger(n) || n < 0) throw new Error(`alloc: bad element count ${n}`);
    const off = this.memory.alloc(n, (end) => {
      if (end <= this.h.length) return;
      let cap = this.h.length;
      while (cap < end) cap *= 2;
      const next = new Float64Array(cap);
      next.set(this.h);
      this.h = next;
    });
    this.h.fill(0, off, off + HeapAllocator.size(n)); // freed memory is reused
    return off;
  }

  mark(): number {
    return this.memory.mark();
  }

  release(mark: number): void {
    this.memory.release(mark);
  }

  free(offset: number, n: number): void {
    this.memory.free(offset, n);
  }

  recordAllocations(into: number[] | null): void {
    this.memory.recordAllocations(into);
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

  cfcForward(mode: number, rows: number, hidden: number, heads: number, bias: number, ts: number, hOut: number, ldh: number, headAct: number = Act.tanh, gateSign = 1): void {
    const h = this.h;
    const H = hidden;
    for (let r = 0; r < rows; r++) {
      const row = heads + r * 4 * H;
      const t = gateSign * h[ts + r];
      for (let j = 0; j < H; j++) {
        const ff1 = activate(headAct, h[row + j] + h[bias + j]);
        const ff2 = activate(headAct, h[row + H + j] + h[bias + H + j]);
        const ta = h[row + 2 * H + j] + h[bias + 2 * H + j];
        const tb = h[row + 3 * H + j] + h[bias + 3 * H + j];
        const s = sigmoid(ta * t + tb);
        h[row + j] = ff1;
        h[row + H + j] = ff2;
        h[row + 2 * H + j] = ta;
        h[row + 3 * H + j] = s;
        h[hOut + r * ldh + j] = mode === CfcMode.default ? ff1 * (1 - s) + s * ff2 : ff1 + s * ff2;
      }
    }
  }

  cfcBackward(mode: number, rows: number, hidden: number, heads: number, ts: number, dh: number, ldDh: number, dHeads: number, dts: number, headAct: number = Act.tanh, gateSign = 1): void {
    const h = this.h;
    const H = hidden;
    for (let r = 0; r < rows; r++) {
      const row = heads + r * 4 * H;
      const drow = dHeads + r * 4 * H;
      const t = gateSign * h[ts + r];
      let dt = 0;
      for (let j = 0; j < H; j++) {
        const ff1 = h[row + j];
        const ff2 = h[row + H + j];
        const ta = h[row + 2 * H + j];
        const s = h[row + 3 * H + j];
        const g = h[dh + r * ldDh + j];
        const dff1 = mode === CfcMode.default ? g * (1 - s) : g;
        const dff2 = g * s;
        const ds = mode === CfcMode.default ? g * (ff2 - ff1) : g * ff2;
        const dpre = ds * s * (1 - s);
        h[drow + j] = dff1 * activateGradFromOutput(headAct, ff1);
        h[drow + H + j] = dff2 * activateGradFromOutput(headAct, ff2);
        h[drow + 2 * H + j] = dpre * t;
        h[drow + 3 * H + j] = dpre;
        dt += dpre * ta;
      }
      h[dts + r] = gateSign * dt;
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

  lstmForward(rows: number, hidden: number, gates: number, c: number, ldc: number, cOut: number, hOut: number, ldh: number, forgetBias = 1): void {
    const h = this.h;
    const H = hidden;
    for (let r = 0; r < rows; r++) {
      const g = gates + r * 4 * H;
      for (let j = 0; j < H; j++) {
        const ia = Math.tanh(h[g + j]);
        const ig = sigmoid(h[g + H + j]);
        const fg = sigmoid(h[g + 2 * H + j] + forgetBias);
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
  // ---- LTC ------------------------------------------------------------------------------------------

  ltcSoftplus(n: number, x: number, y: number): void {
    const h = this.h;
    for (let i = 0; i < n; i++) {
      const v = h[x + i];
      h[y + i] = v > SOFTPLUS_THRESHOLD ? v : Math.log1p(Math.exp(v));
    }
  }

  ltcSoftplusBackward(n: number, x: number, dy: number, dx: number): void {
    const h = this.h;
    for (let i = 0; i < n; i++) {
      const v = h[x + i];
      if (v > SOFTPLUS_THRESHOLD) h[dx + i] = h[dy + i];
      else {
        // torch's softplus_backward form: z / (z + 1) with z = exp(x)
        const z = Math.exp(v);
        h[dx + i] = h[dy + i] * (z / (z + 1));
      }
    }
  }

  ltcMap(rows: number, cols: number, x: number, ldx: number, w: number, b: number, y: number, ldy: number): void {
    const h = this.h;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        let v = h[x + r * ldx + j];
        if (w >= 0) v *= h[w + j];
        if (b >= 0) v += h[b + j];
        h[y + r * ldy + j] = v;
      }
    }
  }

  ltcMapBackward(rows: number, cols: number, x: number, ldx: number, w: number, dy: number, ldDy: number, dx: number, ldDx: number, dw: number, db: number): void {
    const h = this.h;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        const g = h[dy + r * ldDy + j];
        if (dx >= 0) h[dx + r * ldDx + j] += w >= 0 ? g * h[w + j] : g;
        if (dw >= 0) h[dw + j] += g * h[x + r * ldx + j];
        if (db >= 0) h[db + j] += g;
      }
    }
  }

  ltcSensory(rows: number, sources: number, units: number, x: number, ldx: number, w: number, wErev: number, sigma: number, mu: number, num: number, den: number): void {
    const row = new Float64Array(sources);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < sources; i++) row[i] = this.h[x + r * ldx + i];
      this.synapseSums(row, sources, units, w, wErev, sigma, mu, num + r * units, den + r * units);
    }
  }

  ltcSensoryBackward(rows: number, sources: number, units: number, x: number, ldx: number, w: number, erev: number, sigma: number, mu: number, dNum: number, dDen: number, dx: number, ldDx: number, accP: number, accQ: number, dSigma: number, dMu: number): void {
    const h = this.h;
    const src = new Float64Array(sources);
    const dSrc = new Float64Array(sources);
    const dn = new Float64Array(units);
    const dd = new Float64Array(units);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < sources; i++) src[i] = h[x + r * ldx + i];
      for (let j = 0; j < units; j++) {
        dn[j] = h[dNum + r * units + j];
        dd[j] = h[dDen + r * units + j];
      }
      dSrc.fill(0);
      this.synapseBackward(src, sources, units, w, erev, sigma, mu, dn, dd, dSrc, accP, accQ, dSigma, dMu);
      for (let i = 0; i < sources; i++) h[dx + r * ldDx + i] += dSrc[i];
    }
  }

  ltcForward(rows: number, units: number, unfolds: number, epsilon: number, v0: number, ldv0: number, ts: number, cm: number, gleak: number, gleakVleak: number, w: number, wErev: number, sigma: number, mu: number, sensNum: number, sensDen: number, vOut: number, ldOut: number, states: number, dens: number, _scratch: number): void {
    const h = this.h;
    const U = units;
    const K = unfolds;
    let cur = new Float64Array(U);
    let next = new Float64Array(U);
    const ns = new Float64Array(U);
    const ds = new Float64Array(U);
    for (let r = 0; r < rows; r++) {
      const dt = h[ts + r] / K;
      for (let j = 0; j < U; j++) cur[j] = h[v0 + r * ldv0 + j];
      for (let k = 0; k < K; k++) {
        if (states >= 0) h.set(cur, states + (r * (K + 1) + k) * U);
        this.synapseSums(cur, U, U, w, wErev, sigma, mu, -1, -1, ns, ds);
        for (let j = 0; j < U; j++) {
          const cmT = h[cm + j] / dt;
          const num = cmT * cur[j] + h[gleakVleak + j] + (ns[j] + h[sensNum + r * U + j]);
          const den = cmT + h[gleak + j] + (ds[j] + h[sensDen + r * U + j]) + epsilon;
          next[j] = num / den;
          if (dens >= 0) h[dens + (r * K + k) * U + j] = den;
        }
        const t = cur;
        cur = next;
        next = t;
      }
      if (states >= 0) h.set(cur, states + (r * (K + 1) + K) * U);
      for (let j = 0; j < U; j++) h[vOut + r * ldOut + j] = cur[j];
    }
  }

  ltcBackward(rows: number, units: number, unfolds: number, ts: number, cm: number, gleak: number, vleak: number, w: number, erev: number, sigma: number, mu: number, states: number, dens: number, dv: number, ldDv: number, dNum: number, dDen: number, dCm: number, dGleak: number, dVleak: number, accP: number, accQ: number, dSigma: number, dMu: number, dts: number, _scratch: number): void {
    const h = this.h;
    const U = units;
    const K = unfolds;
    let g = new Float64Array(U);
    let gPrev = new Float64Array(U);
    const v = new Float64Array(U);
    const q = new Float64Array(U);
    const dd = new Float64Array(U);
    const sumNum = new Float64Array(U);
    const sumDen = new Float64Array(U);
    for (let r = 0; r < rows; r++) {
      const span = h[ts + r];
      const dt = span / K;
      for (let j = 0; j < U; j++) g[j] = h[dv + r * ldDv + j];
      sumNum.fill(0);
      sumDen.fill(0);
      let dSpan = 0;
      for (let k = K - 1; k >= 0; k--) {
        const vk = states + (r * (K + 1) + k) * U;
        const vn = vk + U;
        const dk = dens + (r * K + k) * U;
        for (let j = 0; j < U; j++) {
          // v_next = num / den: d num = g / den, d den = -g * v_next / den
          const qj = g[j] / h[dk + j];
          const vnj = h[vn + j];
          const vj = h[vk + j];
          const cmT = h[cm + j] / dt;
          q[j] = qj;
          dd[j] = -qj * vnj;
          v[j] = vj;
          const dCmT = qj * (vj - vnj);
          h[dCm + j] += dCmT / dt;
          dSpan -= (dCmT * cmT) / span; // cmT = cm * K / ts
          h[dGleak + j] += qj * (h[vleak + j] - vnj);
          h[dVleak + j] += qj * h[gleak + j];
          sumNum[j] += qj;
          sumDen[j] -= qj * vnj;
          gPrev[j] = qj * cmT;
        }
        this.synapseBackward(v, U, U, w, erev, sigma, mu, q, dd, gPrev, accP, accQ, dSigma, dMu);
        const t = g;
        g = gPrev;
        gPrev = t;
      }
      for (let j = 0; j < U; j++) {
        h[dv + r * ldDv + j] = g[j];
        h[dNum + r * U + j] = sumNum[j];
        h[dDen + r * U + j] = sumDen[j];
      }
      h[dts + r] += dSpan;
    }
  }

  // ---- per-row kernels (ODE solvers) ----------------------------------------------------------------

  rowAxpy(rows: number, cols: number, alpha: number, s: number, x: number, ldx: number, y: number, ldy: number): void {
    const h = this.h;
    for (let r = 0; r < rows; r++) {
      const c = alpha * h[s + r];
      const xr = x + r * ldx;
      const yr = y + r * ldy;
      for (let j = 0; j < cols; j++) h[yr + j] += c * h[xr + j];
    }
  }

  rowDot(rows: number, cols: number, alpha: number, a: number, lda: number, b: number, ldb: number, out: number): void {
    const h = this.h;
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let j = 0; j < cols; j++) sum += h[a + r * lda + j] * h[b + r * ldb + j];
      h[out + r] += alpha * sum;
    }
  }

  rowErrorNorm(rows: number, cols: number, e: number, lde: number, y0: number, ldy0: number, y1: number, ldy1: number, atol: number, rtol: number, out: number): void {
    const h = this.h;
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let j = 0; j < cols; j++) {
        const scale = atol + rtol * Math.max(Math.abs(h[y0 + r * ldy0 + j]), Math.abs(h[y1 + r * ldy1 + j]));
        const q = h[e + r * lde + j] / scale;
        sum += q * q;
      }
      h[out + r] = Math.sqrt(sum / cols);
    }
  }

  copyRowsWhere(rows: number, cols: number, mask: number, src: number, ldSrc: number, dst: number, ldDst: number): void {
    const h = this.h;
    for (let r = 0; r < rows; r++) {
      if (h[mask + r] === 0) continue;
      for (let j = 0; j < cols; j++) h[dst + r * ldDst + j] = h[src + r * ldSrc + j];
    }
  }

  nonFiniteIndex(n: number, x: number): number {
    const h = this.h;
    for (let i = 0; i < n; i++) if (!Number.isFinite(h[x + i])) return i;
    return -1;
  }

  /**
   * Sums over sources of the synapse activities w s and wErev s for presynaptic values src; written to
   * heap offsets num/den when >= 0, else to the arrays numArr/denArr.
   */
  private synapseSums(src: Float64Array, sources: number, units: number, w: number, wErev: number, sigma: number, mu: number, num: number, den: number, numArr?: Float64Array, denArr?: Float64Array): void {
    const h = this.h;
    for (let j = 0; j < units; j++) {
      let n = 0;
      let d = 0;
      for (let i = 0; i < sources; i++) {
        const e = i * units + j;
        const s = sigmoid(h[sigma + e] * (src[i] - h[mu + e]));
        n += h[wErev + e] * s;
        d += h[w + e] * s;
      }
      if (num >= 0) h[num + j] = n;
      else numArr![j] = n;
      if (den >= 0) h[den + j] = d;
      else denArr![j] = d;
    }
  }

  /** Backward of synapseSums for one row given dn (d/d num) and dd (d/d den); see ltcSensoryBackward. */
  private synapseBackward(src: Float64Array, sources: number, units: number, w: number, erev: number, sigma: number, mu: number, dn: Float64Array, dd: Float64Array, dSrc: Float64Array, accP: number, accQ: number, dSigma: number, dMu: number): void {
    const h = this.h;
    for (let i = 0; i < sources; i++) {
      const vi = src[i];
      let acc = 0;
      for (let j = 0; j < units; j++) {
        const e = i * units + j;
        const sg = h[sigma + e];
        const diff = vi - h[mu + e];
        const s = sigmoid(sg * diff);
        h[accP + e] += dn[j] * s;
        h[accQ + e] += dd[j] * s;
        const dz = (dn[j] * h[erev + e] + dd[j]) * h[w + e] * s * (1 - s);
        h[dSigma + e] += dz * diff;
        h[dMu + e] -= dz * sg;
        acc += dz * sg;
      }
      dSrc[i] += acc;
    }
  }

  // ---- GRU ------------------------------------------------------------------------------------------

  gruForward(rows: number, hidden: number, inputGates: number, hiddenGates: number, h: number, ldh: number, hOut: number, ldhOut: number): void {
    const m = this.h;
    const H = hidden;
    for (let r = 0; r < rows; r++) {
      const gi = inputGates + r * 3 * H;
      const gh = hiddenGates + r * 3 * H;
      for (let j = 0; j < H; j++) {
        const reset = sigmoid(m[gi + j] + m[gh + j]);
        const update = sigmoid(m[gi + H + j] + m[gh + H + j]);
        const candidate = Math.tanh(m[gi + 2 * H + j] + reset * m[gh + 2 * H + j]);
        m[gi + j] = reset;
        m[gi + H + j] = update;
        m[gi + 2 * H + j] = candidate;
        // h' = (1 - z) n + z h, read before the write because hOut may alias h
        m[hOut + r * ldhOut + j] = (1 - update) * candidate + update * m[h + r * ldh + j];
      }
    }
  }

  gruBackward(rows: number, hidden: number, gates: number, hiddenGates: number, h: number, ldh: number, dh: number, ldDh: number, dInputGates: number, dHiddenGates: number, dhPrev: number, ldDhPrev: number): void {
    const m = this.h;
    const H = hidden;
    for (let r = 0; r < rows; r++) {
      const g = gates + r * 3 * H;
      const gh = hiddenGates + r * 3 * H;
      const dgi = dInputGates + r * 3 * H;
      const dgh = dHiddenGates + r * 3 * H;
      for (let j = 0; j < H; j++) {
        const reset = m[g + j];
        const update = m[g + H + j];
        const candidate = m[g + 2 * H + j];
        const dOut = m[dh + r * ldDh + j];
        const dCandidatePre = dOut * (1 - update) * (1 - candidate * candidate);
        const dUpdatePre = dOut * (m[h + r * ldh + j] - candidate) * update * (1 - update);
        const dResetPre = dCandidatePre * m[gh + 2 * H + j] * reset * (1 - reset);
        m[dgi + j] = dResetPre;
        m[dgi + H + j] = dUpdatePre;
        m[dgi + 2 * H + j] = dCandidatePre;
        m[dgh + j] = dResetPre;
        m[dgh + H + j] = dUpdatePre;
        m[dgh + 2 * H + j] = dCandidatePre * reset;
        m[dhPrev + r * ldDhPrev + j] += dOut * update;
      }
    }
  }

  // ---- GRU-ODE --------------------------------------------------------------------------------------

  gruOdeGatesForward(rows: number, hidden: number, gates: number, h: number, ldh: number): void {
    const m = this.h;
    const H = hidden;
    for (let r = 0; r < rows; r++) {
      const c = gates + r * 4 * H;
      for (let j = 0; j < H; j++) {
        const reset = sigmoid(m[c + j]);
        m[c + j] = reset;
        m[c + H + j] = sigmoid(m[c + H + j]);
        m[c + 3 * H + j] = reset * m[h + r * ldh + j];
      }
    }
  }

  gruOdeForward(rows: number, hidden: number, gates: number, h: number, ldh: number, dhdt: number, ldDhdt: number): void {
    const m = this.h;
    const H = hidden;
    for (let r = 0; r < rows; r++) {
      const c = gates + r * 4 * H;
      for (let j = 0; j < H; j++) {
        const candidate = Math.tanh(m[c + 2 * H + j]);
        m[c + 2 * H + j] = candidate;
        m[dhdt + r * ldDhdt + j] = (1 - m[c + H + j]) * (candidate - m[h + r * ldh + j]);
      }
    }
  }

  gruOdeBackward(rows: number, hidden: number, gates: number, h: number, ldh: number, dDhdt: number, ldDDhdt: number, dGates: number, dh: number, ldDh: number): void {
    const m = this.h;
    const H = hidden;
    for (let r = 0; r < rows; r++) {
      const c = gates + r * 4 * H;
      const d = dGates + r * 4 * H;
      for (let j = 0; j < H; j++) {
        const update = m[c + H + j];
        const candidate = m[c + 2 * H + j];
        const dOut = m[dDhdt + r * ldDDhdt + j];
        m[d + H + j] = -dOut * (candidate - m[h + r * ldh + j]) * update * (1 - update);
        m[d + 2 * H + j] = dOut * (1 - update) * (1 - candidate * candidate);
        m[dh + r * ldDh + j] -= dOut * (1 - update);
      }
    }
  }

  gruOdeGatesBackward(rows: number, hidden: number, gates: number, h: number, ldh: number, dGates: number, dh: number, ldDh: number): void {
    const m = this.h;
    const H = hidden;
    for (let r = 0; r < rows; r++) {
      const c = gates + r * 4 * H;
      const d = dGates + r * 4 * H;
      for (let j = 0; j < H; j++) {
        const reset = m[c + j];
        const dProduct = m[d + 3 * H + j];
        m[d + j] = dProduct * m[h + r * ldh + j] * reset * (1 - reset);
        m[dh + r * ldDh + j] += dProduct * reset;
      }
    }
  }

  // ---- optimizer updates --------------------------------------------------------------------------------

  adamUpdate(n: number, value: number, grad: number, m: number, v: number, s: AdamStepScalars, _tail: number): void {
    const h = this.h;
    for (let i = 0; i < n; i++) {
      const p = s.shrink !== 1 ? h[value + i] * s.shrink : h[value + i];
      const g = h[grad + i] + s.l2 * p;
      const diff = g - h[m + i];
      const mi = s.w1 < 0.5 ? h[m + i] + s.w1 * diff : g - diff * s.keep1;
      const vi = s.b2 * h[v + i] + s.c2 * g * g;
      h[m + i] = mi;
      h[v + i] = vi;
      h[value + i] = p - (s.stepSize * mi) / (Math.sqrt(vi) / s.bias2Sqrt + s.eps);
    }
  }

  rmspropUpdate(n: number, value: number, grad: number, sq: number, gAvg: number, buf: number, s: RmspropStepScalars): void {
    const h = this.h;
    for (let i = 0; i < n; i++) {
      const p = h[value + i];
      const g = h[grad + i] + s.wd * p;
      const sqi = s.alpha * h[sq + i] + s.c * g * g;
      h[sq + i] = sqi;
      let avg: number;
      if (gAvg >= 0) {
        const diff = g - h[gAvg + i];
        const ga = s.w < 0.5 ? h[gAvg + i] + s.w * diff : g - diff * s.keepW;
        h[gAvg + i] = ga;
        avg = Math.sqrt(sqi - ga * ga) + s.eps;
      } else {
        avg = Math.sqrt(sqi) + s.eps;
      }
      if (buf >= 0) {
        h[buf + i] = s.momentum * h[buf + i] + g / avg;
        h[value + i] = p - s.lr * h[buf + i];
      } else {
        h[value + i] = p - s.lr * (g / avg);
      }
    }
  }

  sgdUpdate(n: number, value: number, grad: number, buf: number, s: SgdStepScalars): void {
    const h = this.h;
    for (let i = 0; i < n; i++) {
      const p = h[value + i];
      let g = h[grad + i] + s.wd * p;
      if (buf >= 0) {
        const b = s.first ? g : s.momentum * h[buf + i] + s.keep * g;
        h[buf + i] = b;
        g = s.nesterov ? g + s.momentum * b : b;
      }
      h[value + i] = p - s.lr * g;
    }
  }

  // ---- matrix products with B packed ahead of time: float64 has no packed layout; B is read as it is -------

  packB(_k: number, _n: number, _b: number, _ldb: number, _packed: number): void {}

  gemmPrepacked(m: number, n: number, k: number, a: number, lda: number, _packed: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean): void {
    this.gemm(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
  }

  // ---- gradient clipping ----------------------------------------------------------------------------

  sumSquares(n: number, x: number): number {
    const h = this.h;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += h[x + i] * h[x + i];
    return sum;
  }

  scale(n: number, alpha: number, x: number): void {
    const h = this.h;
    for (let i = 0; i < n; i++) h[x + i] *= alpha;
  }
}
