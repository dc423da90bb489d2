// LTC kernels (engine.ts, "LTC" section): softplus, the input/output maps, the sensory synapse sums and
// the fused ODE solver, forward and backward. Synapse matrices are [source, destination] with row stride
// `units`, so the inner loops run over four destinations at a time for one source; the backward pass
// recomputes each synapse's sigmoid instead of storing K x units^2 values per row.
import { at, hsum, loadN, storeN } from "./memory";
import { expV, sigmoidComplementV } from "./approx";

/** torch Softplus threshold (beta 1): above it the input passes through. */
// @ts-ignore: decorator
@inline const SOFTPLUS_THRESHOLD: f32 = 20.0;

export function ltcSoftplus(n: i32, x: i32, y: i32): void {
  // log1p has no vector form here, and this runs once per forward over the weights only.
  const px = at(x);
  const py = at(y);
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 2;
    const v = load<f32>(px + o);
    store<f32>(py + o, v > SOFTPLUS_THRESHOLD ? v : Mathf.log1p(Mathf.exp(v)));
  }
}

// @ts-ignore: decorator
@inline function softplusGradChunk(px: usize, pdy: usize, pdx: usize, count: i32): void {
  const v = loadN(px, count);
  const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expV(f32x4.neg(v))));
  const g = v128.bitselect(f32x4.splat(1), s, f32x4.gt(v, f32x4.splat(SOFTPLUS_THRESHOLD)));
  storeN(pdx, f32x4.mul(loadN(pdy, count), g), count);
}

export function ltcSoftplusBackward(n: i32, x: i32, dy: i32, dx: i32): void {
  const body = n & ~3;
  for (let i = 0; i < body; i += 4) {
    const o = (<usize>i) << 2;
    softplusGradChunk(at(x) + o, at(dy) + o, at(dx) + o, 4);
  }
  if (n > body) {
    const o = (<usize>body) << 2;
    softplusGradChunk(at(x) + o, at(dy) + o, at(dx) + o, n - body);
  }
}

// Optional operands are flagged explicitly (never by address 0) so the kernels hold for any heap layout.

// @ts-ignore: decorator
@inline function mapChunk(px: usize, hasW: bool, pw: usize, hasB: bool, pb: usize, py: usize, count: i32): void {
  let v = loadN(px, count);
  if (hasW) v = f32x4.mul(v, loadN(pw, count));
  if (hasB) v = f32x4.add(v, loadN(pb, count));
  storeN(py, v, count);
}

export function ltcMap(rows: i32, cols: i32, x: i32, ldx: i32, w: i32, b: i32, y: i32, ldy: i32): void {
  const hasW = w >= 0;
  const hasB = b >= 0;
  const pw = at(hasW ? w : 0);
  const pb = at(hasB ? b : 0);
  const body = cols & ~3;
  const rest = cols - body;
  for (let r = 0; r < rows; r++) {
    const px = at(x + r * ldx);
    const py = at(y + r * ldy);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      mapChunk(px + o, hasW, pw + o, hasB, pb + o, py + o, 4);
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      mapChunk(px + o, hasW, pw + o, hasB, pb + o, py + o, rest);
    }
  }
}

// @ts-ignore: decorator
@inline function mapBackwardChunk(px: usize, hasW: bool, pw: usize, pdy: usize, hasDx: bool, pdx: usize, hasDw: bool, pdw: usize, hasDb: bool, pdb: usize, count: i32): void {
  const g = loadN(pdy, count);
  if (hasDx) storeN(pdx, f32x4.add(loadN(pdx, count), hasW ? f32x4.mul(g, loadN(pw, count)) : g), count);
  if (hasDw) storeN(pdw, f32x4.add(loadN(pdw, count), f32x4.mul(g, loadN(px, count))), count);
  if (hasDb) storeN(pdb, f32x4.add(loadN(pdb, count), g), count);
}

export function ltcMapBackward(rows: i32, cols: i32, x: i32, ldx: i32, w: i32, dy: i32, ldDy: i32, dx: i32, ldDx: i32, dw: i32, db: i32): void {
  const hasW = w >= 0;
  const hasDx = dx >= 0;
  const hasDw = dw >= 0;
  const hasDb = db >= 0;
  const pw = at(hasW ? w : 0);
  const pdw = at(hasDw ? dw : 0);
  const pdb = at(hasDb ? db : 0);
  const body = cols & ~3;
  const rest = cols - body;
  for (let r = 0; r < rows; r++) {
    const px = at(x + r * ldx);
    const pdy = at(dy + r * ldDy);
    const pdx = at(hasDx ? dx + r * ldDx : 0);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      mapBackwardChunk(px + o, hasW, pw + o, pdy + o, hasDx, pdx + o, hasDw, pdw + o, hasDb, pdb + o, 4);
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      mapBackwardChunk(px + o, hasW, pw + o, pdy + o, hasDx, pdx + o, hasDw, pdw + o, hasDb, pdb + o, rest);
    }
  }
}

/**
 * Four (or `count`) destinations of the synapse sums: num = sum_i wErev s, den = sum_i w s over the
 * sources i, with s = sigmoid(sigma (src_i - mu)). The accumulators stay in registers across sources.
 */
// @ts-ignore: decorator
@inline function synapseSumsChunk(src: usize, sources: i32, stride: usize, w: usize, wErev: usize, sigma: usize, mu: usize, num: usize, den: usize, count: i32): void {
  let accN = f32x4.splat(0);
  let accD = f32x4.splat(0);
  let o: usize = 0;
  for (let i = 0; i < sources; i++) {
    const v = f32x4.splat(load<f32>(src + ((<usize>i) << 2)));
    const z = f32x4.mul(loadN(sigma + o, count), f32x4.sub(v, loadN(mu + o, count)));
    const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expV(f32x4.neg(z))));
    accN = f32x4.add(accN, f32x4.mul(loadN(wErev + o, count), s));
    accD = f32x4.add(accD, f32x4.mul(loadN(w + o, count), s));
    o += stride;
  }
  storeN(num, accN, count);
  storeN(den, accD, count);
}

/** Synapse sums of one row (byte addresses): src has `sources` values, num and den `units`. */
function synapseSums(src: usize, sources: i32, units: i32, w: usize, wErev: usize, sigma: usize, mu: usize, num: usize, den: usize): void {
  const stride = (<usize>units) << 2;
  const body = units & ~3;
  for (let j = 0; j < body; j += 4) {
    const o = (<usize>j) << 2;
    synapseSumsChunk(src, sources, stride, w + o, wErev + o, sigma + o, mu + o, num + o, den + o, 4);
  }
  if (units > body) {
    const o = (<usize>body) << 2;
    synapseSumsChunk(src, sources, stride, w + o, wErev + o, sigma + o, mu + o, num + o, den + o, units - body);
  }
}

/**
 * Backward of the synapse sums for one source value v over four (or `count`) destinations given dn
 * (d/d num) and dd (d/d den); accumulates the matrices and returns the lanes of d/d v.
 */
// @ts-ignore: decorator
@inline function synapseBackwardChunk(v: v128, w: usize, erev: usize, sigma: usize, mu: usize, dn: usize, dd: usize, accP: usize, accQ: usize, dSigma: usize, dMu: usize, count: i32): v128 {
  const sg = loadN(sigma, count);
  const diff = f32x4.sub(v, loadN(mu, count));
  const z = f32x4.mul(sg, diff);
  const e = expV(f32x4.neg(z));
  const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
  const sc = sigmoidComplementV(z, e, s);
  const gn = loadN(dn, count);
  const gd = loadN(dd, count);
  storeN(accP, f32x4.add(loadN(accP, count), f32x4.mul(gn, s)), count);
  storeN(accQ, f32x4.add(loadN(accQ, count), f32x4.mul(gd, s)), count);
  const ds = f32x4.mul(f32x4.add(f32x4.mul(gn, loadN(erev, count)), gd), loadN(w, count));
  const dz = f32x4.mul(ds, f32x4.mul(s, sc));
  storeN(dSigma, f32x4.add(loadN(dSigma, count), f32x4.mul(dz, diff)), count);
  storeN(dMu, f32x4.sub(loadN(dMu, count), f32x4.mul(dz, sg)), count);
  return f32x4.mul(dz, sg);
}

/** Backward of synapseSums for one row (byte addresses); dSrc[i] += d/d src_i. */
function synapseBackward(src: usize, sources: i32, units: i32, w: usize, erev: usize, sigma: usize, mu: usize, dn: usize, dd: usize, dSrc: usize, accP: usize, accQ: usize, dSigma: usize, dMu: usize): void {
  const stride = (<usize>units) << 2;
  const body = units & ~3;
  let row: usize = 0;
  for (let i = 0; i < sources; i++) {
    const v = f32x4.splat(load<f32>(src + ((<usize>i) << 2)));
    let acc = f32x4.splat(0);
    for (let j = 0; j < body; j += 4) {
      const o = row + ((<usize>j) << 2);
      const jo = (<usize>j) << 2;
      acc = f32x4.add(acc, synapseBackwardChunk(v, w + o, erev + o, sigma + o, mu + o, dn + jo, dd + jo, accP + o, accQ + o, dSigma + o, dMu + o, 4));
    }
    if (units > body) {
      const o = row + ((<usize>body) << 2);
      const jo = (<usize>body) << 2;
      acc = f32x4.add(acc, synapseBackwardChunk(v, w + o, erev + o, sigma + o, mu + o, dn + jo, dd + jo, accP + o, accQ + o, dSigma + o, dMu + o, units - body));
    }
    const pd = dSrc + ((<usize>i) << 2);
    store<f32>(pd, load<f32>(pd) + hsum(acc));
    row += stride;
  }
}

export function ltcSensory(rows: i32, sources: i32, units: i32, x: i32, ldx: i32, w: i32, wErev: i32, sigma: i32, mu: i32, num: i32, den: i32): void {
  for (let r = 0; r < rows; r++) {
    synapseSums(at(x + r * ldx), sources, units, at(w), at(wErev), at(sigma), at(mu), at(num + r * units), at(den + r * units));
  }
}

export function ltcSensoryBackward(rows: i32, sources: i32, units: i32, x: i32, ldx: i32, w: i32, erev: i32, sigma: i32, mu: i32, dNum: i32, dDen: i32, dx: i32, ldDx: i32, accP: i32, accQ: i32, dSigma: i32, dMu: i32): void {
  for (let r = 0; r < rows; r++) {
    synapseBackward(at(x + r * ldx), sources, units, at(w), at(erev), at(sigma), at(mu), at(dNum + r * units), at(dDen + r * units),
      at(dx + r * ldDx), at(accP), at(accQ), at(dSigma), at(dMu));
  }
}

function copyFloats(src: usize, dst: usize, n: i32): void {
  memory.copy(dst, src, (<usize>n) << 2);
}

/** One sub-step's update for four (or `count`) neurons; stores the new v (and den when keepDen). */
// @ts-ignore: decorator
@inline function unfoldChunk(cur: usize, next: usize, numS: usize, denS: usize, sensNum: usize, sensDen: usize, cm: usize, gleak: usize, gleakVleak: usize, dt: v128, eps: v128, keepDen: bool, pden: usize, count: i32): void {
  const cmT = f32x4.div(loadN(cm, count), dt);
  const num = f32x4.add(f32x4.add(f32x4.mul(cmT, loadN(cur, count)), loadN(gleakVleak, count)), f32x4.add(loadN(numS, count), loadN(sensNum, count)));
  const den = f32x4.add(f32x4.add(f32x4.add(cmT, loadN(gleak, count)), f32x4.add(loadN(denS, count), loadN(sensDen, count))), eps);
  storeN(next, f32x4.div(num, den), count);
  if (keepDen) storeN(pden, den, count);
}

export function ltcForward(rows: i32, units: i32, unfolds: i32, epsilon: f32, v0: i32, ldv0: i32, ts: i32, cm: i32, gleak: i32, gleakVleak: i32, w: i32, wErev: i32, sigma: i32, mu: i32, sensNum: i32, sensDen: i32, vOut: i32, ldOut: i32, states: i32, dens: i32, scratch: i32): void {
  const U = units;
  const K = unfolds;
  const ub = (<usize>U) << 2;
  const bufA = at(scratch);
  const bufB = bufA + ub;
  const numS = bufB + ub;
  const denS = numS + ub;
  const eps = f32x4.splat(epsilon);
  const body = U & ~3;
  const caching = states >= 0;
  for (let r = 0; r < rows; r++) {
    const dt = f32x4.splat(load<f32>(at(ts + r)) / <f32>K);
    const out = at(vOut + r * ldOut);
    let cur: usize = caching ? at(states + r * (K + 1) * U) : bufA;
    copyFloats(at(v0 + r * ldv0), cur, U);
    const sn = at(sensNum + r * U);
    const sd = at(sensDen + r * U);
    for (let k = 0; k < K; k++) {
      const next: usize = caching ? cur + ub : k == K - 1 ? out : cur == bufA ? bufB : bufA;
      const pden = at(caching ? dens + (r * K + k) * U : 0);
      synapseSums(cur, U, U, at(w), at(wErev), at(sigma), at(mu), numS, denS);
      for (let j = 0; j < body; j += 4) {
        const o = (<usize>j) << 2;
        unfoldChunk(cur + o, next + o, numS + o, denS + o, sn + o, sd + o, at(cm) + o, at(gleak) + o, at(gleakVleak) + o, dt, eps, caching, pden + o, 4);
      }
      if (U > body) {
        const o = (<usize>body) << 2;
        unfoldChunk(cur + o, next + o, numS + o, denS + o, sn + o, sd + o, at(cm) + o, at(gleak) + o, at(gleakVleak) + o, dt, eps, caching, pden + o, U - body);
      }
      cur = next;
    }
    if (caching) copyFloats(cur, out, U);
  }
}

/**
 * The neuron-wise part of one sub-step's backward for four (or `count`) neurons: from the incoming
 * gradient g of v_next it writes q = g / den and dd = -q v_next (the gradients of num and den), the
 * direct part of d/d v (q cmT) and accumulates the neuron parameter gradients; returns the lanes of
 * q (v - v_next) cmT, whose sum over neurons times -1/ts is this sub-step's d/d ts.
 */
// @ts-ignore: decorator
@inline function unfoldBackwardChunk(g: usize, vk: usize, vn: usize, pden: usize, cm: usize, gleak: usize, vleak: usize, dt: v128, q: usize, dd: usize, gPrev: usize, dNum: usize, dDen: usize, dCm: usize, dGleak: usize, dVleak: usize, count: i32): v128 {
  const qv = f32x4.div(loadN(g, count), loadN(pden, count));
  const vnv = loadN(vn, count);
  const ddv = f32x4.neg(f32x4.mul(qv, vnv));
  const cmT = f32x4.div(loadN(cm, count), dt);
  const dCmT = f32x4.mul(qv, f32x4.sub(loadN(vk, count), vnv));
  storeN(q, qv, count);
  storeN(dd, ddv, count);
  storeN(gPrev, f32x4.mul(qv, cmT), count);
  storeN(dNum, f32x4.add(loadN(dNum, count), qv), count);
  storeN(dDen, f32x4.add(loadN(dDen, count), ddv), count);
  storeN(dCm, f32x4.add(loadN(dCm, count), f32x4.div(dCmT, dt)), count);
  storeN(dGleak, f32x4.add(loadN(dGleak, count), f32x4.mul(qv, f32x4.sub(loadN(vleak, count), vnv))), count);
  storeN(dVleak, f32x4.add(loadN(dVleak, count), f32x4.mul(qv, loadN(gleak, count))), count);
  const span = f32x4.mul(dCmT, cmT);
  // lanes past `count` divided 0 by 0; keep them out of the sum
  return count == 4 ? span : v128.and(span, i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(count)));
}

export function ltcBackward(rows: i32, units: i32, unfolds: i32, ts: i32, cm: i32, gleak: i32, vleak: i32, w: i32, erev: i32, sigma: i32, mu: i32, states: i32, dens: i32, dv: i32, ldDv: i32, dNum: i32, dDen: i32, dCm: i32, dGleak: i32, dVleak: i32, accP: i32, accQ: i32, dSigma: i32, dMu: i32, dts: i32, scratch: i32): void {
  const U = units;
  const K = unfolds;
  const ub = (<usize>U) << 2;
  const gPrev = at(scratch);
  const q = gPrev + ub;
  const dd = q + ub;
  const body = U & ~3;
  for (let r = 0; r < rows; r++) {
    const span = load<f32>(at(ts + r));
    const dt = f32x4.splat(span / <f32>K);
    const g = at(dv + r * ldDv);
    const pn = at(dNum + r * U);
    const pd = at(dDen + r * U);
    memory.fill(pn, 0, ub);
    memory.fill(pd, 0, ub);
    let spanAcc = f32x4.splat(0);
    for (let k = K - 1; k >= 0; k--) {
      const vk = at(states + (r * (K + 1) + k) * U);
      const vn = vk + ub;
      const pden = at(dens + (r * K + k) * U);
      for (let j = 0; j < body; j += 4) {
        const o = (<usize>j) << 2;
        spanAcc = f32x4.add(spanAcc, unfoldBackwardChunk(g + o, vk + o, vn + o, pden + o, at(cm) + o, at(gleak) + o, at(vleak) + o, dt,
          q + o, dd + o, gPrev + o, pn + o, pd + o, at(dCm) + o, at(dGleak) + o, at(dVleak) + o, 4));
      }
      if (U > body) {
        const o = (<usize>body) << 2;
        spanAcc = f32x4.add(spanAcc, unfoldBackwardChunk(g + o, vk + o, vn + o, pden + o, at(cm) + o, at(gleak) + o, at(vleak) + o, dt,
          q + o, dd + o, gPrev + o, pn + o, pd + o, at(dCm) + o, at(dGleak) + o, at(dVleak) + o, U - body));
      }
      synapseBackward(vk, U, U, at(w), at(erev), at(sigma), at(mu), q, dd, gPrev, at(accP), at(accQ), at(dSigma), at(dMu));
      copyFloats(gPrev, g, U);
    }
    const pts = at(dts + r);
    store<f32>(pts, load<f32>(pts) - hsum(spanAcc) / span);
  }
}
