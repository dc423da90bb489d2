// Fused CfC cell epilogues (engine.ts cfcForward / cfcBackward / cfcPureForward / cfcPureBackward).
// Each kernel walks a row four hidden units at a time; the row tail runs the same code on a partial vector.
import { at, hsum, loadN, storeN } from "./memory";
import { expV, sigmoidV } from "./approx";
import { activate, activateGradFromOutput } from "./activations";

// The gated kernels take the head activation (identity 0, lecun_tanh 1, tanh 4: ncps keras, the paper,
// ncps torch) and switch on it once, running a loop specialised for it; `t` is the elapsed time already
// multiplied by the gate sign.

// @ts-ignore: decorator
@inline function cfcForwardChunk(mode: i32, act: i32, row: usize, pb: usize, hb: usize, t: v128, ph: usize, count: i32): void {
  const ff1 = activate(act, f32x4.add(loadN(row, count), loadN(pb, count)));
  const ff2 = activate(act, f32x4.add(loadN(row + hb, count), loadN(pb + hb, count)));
  const ta = f32x4.add(loadN(row + 2 * hb, count), loadN(pb + 2 * hb, count));
  const tb = f32x4.add(loadN(row + 3 * hb, count), loadN(pb + 3 * hb, count));
  const s = sigmoidV(f32x4.add(f32x4.mul(ta, t), tb));
  storeN(row, ff1, count);
  storeN(row + hb, ff2, count);
  storeN(row + 2 * hb, ta, count);
  storeN(row + 3 * hb, s, count);
  const gated = mode == 0
    ? f32x4.add(f32x4.mul(ff1, f32x4.sub(f32x4.splat(1), s)), f32x4.mul(s, ff2))
    : f32x4.add(ff1, f32x4.mul(s, ff2));
  storeN(ph, gated, count);
}

// @ts-ignore: decorator
@inline function cfcForwardLoop(mode: i32, act: i32, sign: f32, rows: i32, hidden: i32, heads: i32, bias: i32, ts: i32, h: i32, ldh: i32): void {
  const hb = (<usize>hidden) << 2;
  const pb = at(bias);
  const body = hidden & ~3;
  const rest = hidden - body;
  for (let r = 0; r < rows; r++) {
    const row = at(heads + r * 4 * hidden);
    const ph = at(h + r * ldh);
    const t = f32x4.splat(sign * load<f32>(at(ts + r)));
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      cfcForwardChunk(mode, act, row + o, pb + o, hb, t, ph + o, 4);
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      cfcForwardChunk(mode, act, row + o, pb + o, hb, t, ph + o, rest);
    }
  }
}

export function cfcForward(mode: i32, rows: i32, hidden: i32, heads: i32, bias: i32, ts: i32, h: i32, ldh: i32, headAct: i32, gateSign: f32): void {
  switch (headAct) {
    case 0: cfcForwardLoop(mode, 0, gateSign, rows, hidden, heads, bias, ts, h, ldh); break;
    case 1: cfcForwardLoop(mode, 1, gateSign, rows, hidden, heads, bias, ts, h, ldh); break;
    default: cfcForwardLoop(mode, 4, gateSign, rows, hidden, heads, bias, ts, h, ldh);
  }
}

/** Returns this chunk's contribution to d loss / d ts (per lane). */
// @ts-ignore: decorator
@inline function cfcBackwardChunk(mode: i32, act: i32, row: usize, drow: usize, hb: usize, t: v128, pdh: usize, count: i32): v128 {
  const ff1 = loadN(row, count);
  const ff2 = loadN(row + hb, count);
  const ta = loadN(row + 2 * hb, count);
  const s = loadN(row + 3 * hb, count);
  const g = loadN(pdh, count);
  const one = f32x4.splat(1);
  const oneMinusS = f32x4.sub(one, s);
  const dff1 = mode == 0 ? f32x4.mul(g, oneMinusS) : g;
  const dff2 = f32x4.mul(g, s);
  const ds = mode == 0 ? f32x4.mul(g, f32x4.sub(ff2, ff1)) : f32x4.mul(g, ff2);
  const dpre = f32x4.mul(f32x4.mul(ds, s), oneMinusS);
  storeN(drow, f32x4.mul(dff1, activateGradFromOutput(act, ff1)), count);
  storeN(drow + hb, f32x4.mul(dff2, activateGradFromOutput(act, ff2)), count);
  storeN(drow + 2 * hb, f32x4.mul(dpre, t), count);
  storeN(drow + 3 * hb, dpre, count);
  // Lanes past a row tail were loaded as zeros, so g = 0 there and they add nothing.
  return f32x4.mul(dpre, ta);
}

// @ts-ignore: decorator
@inline function cfcBackwardLoop(mode: i32, act: i32, sign: f32, rows: i32, hidden: i32, heads: i32, ts: i32, dh: i32, ldDh: i32, dHeads: i32, dts: i32): void {
  const hb = (<usize>hidden) << 2;
  const body = hidden & ~3;
  const rest = hidden - body;
  for (let r = 0; r < rows; r++) {
    const row = at(heads + r * 4 * hidden);
    const drow = at(dHeads + r * 4 * hidden);
    const pdh = at(dh + r * ldDh);
    const t = f32x4.splat(sign * load<f32>(at(ts + r)));
    let dt = f32x4.splat(0);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      dt = f32x4.add(dt, cfcBackwardChunk(mode, act, row + o, drow + o, hb, t, pdh + o, 4));
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      dt = f32x4.add(dt, cfcBackwardChunk(mode, act, row + o, drow + o, hb, t, pdh + o, rest));
    }
    store<f32>(at(dts + r), sign * hsum(dt));
  }
}

export function cfcBackward(mode: i32, rows: i32, hidden: i32, heads: i32, ts: i32, dh: i32, ldDh: i32, dHeads: i32, dts: i32, headAct: i32, gateSign: f32): void {
  switch (headAct) {
    case 0: cfcBackwardLoop(mode, 0, gateSign, rows, hidden, heads, ts, dh, ldDh, dHeads, dts); break;
    case 1: cfcBackwardLoop(mode, 1, gateSign, rows, hidden, heads, ts, dh, ldDh, dHeads, dts); break;
    default: cfcBackwardLoop(mode, 4, gateSign, rows, hidden, heads, ts, dh, ldDh, dHeads, dts);
  }
}

// @ts-ignore: decorator
@inline function cfcPureForwardChunk(pf: usize, pb: usize, pw: usize, pa: usize, t: v128, ph: usize, count: i32): void {
  const f = f32x4.add(loadN(pf, count), loadN(pb, count));
  storeN(pf, f, count);
  const A = loadN(pa, count);
  const k = f32x4.add(f32x4.abs(loadN(pw, count)), f32x4.abs(f));
  const e = expV(f32x4.neg(f32x4.mul(t, k)));
  storeN(ph, f32x4.sub(A, f32x4.mul(f32x4.mul(A, e), f)), count);
}

export function cfcPureForward(rows: i32, hidden: i32, ff1: i32, bias: i32, ts: i32, wTau: i32, a: i32, h: i32, ldh: i32): void {
  const pb = at(bias);
  const pw = at(wTau);
  const pa = at(a);
  const body = hidden & ~3;
  const rest = hidden - body;
  for (let r = 0; r < rows; r++) {
    const pf = at(ff1 + r * hidden);
    const ph = at(h + r * ldh);
    const t = v128.load32_splat(at(ts + r));
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      cfcPureForwardChunk(pf + o, pb + o, pw + o, pa + o, t, ph + o, 4);
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      cfcPureForwardChunk(pf + o, pb + o, pw + o, pa + o, t, ph + o, rest);
    }
  }
}

/** torch's sign: -1, 0 or 1. */
// @ts-ignore: decorator
@inline function signV(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.sub(v128.and(f32x4.gt(x, f32x4.splat(0)), one), v128.and(f32x4.lt(x, f32x4.splat(0)), one));
}

// @ts-ignore: decorator
@inline function cfcPureBackwardChunk(pf: usize, pw: usize, pa: usize, t: v128, pdh: usize, pdf: usize, pdw: usize, pda: usize, count: i32): v128 {
  const f = loadN(pf, count);
  const A = loadN(pa, count);
  const w = loadN(pw, count);
  const absF = f32x4.abs(f);
  const k = f32x4.add(f32x4.abs(w), absF);
  const e = expV(f32x4.neg(f32x4.mul(t, k)));
  const g = loadN(pdh, count);
  const one = f32x4.splat(1);
  storeN(pda, f32x4.add(loadN(pda, count), f32x4.mul(g, f32x4.sub(one, f32x4.mul(e, f)))), count);
  const gAe = f32x4.mul(f32x4.mul(g, A), e);
  storeN(pdf, f32x4.neg(f32x4.mul(gAe, f32x4.sub(one, f32x4.mul(t, absF)))), count);
  const gAfe = f32x4.mul(f32x4.mul(f32x4.mul(g, A), f), e);
  storeN(pdw, f32x4.add(loadN(pdw, count), f32x4.mul(f32x4.mul(gAfe, t), signV(w))), count);
  return f32x4.mul(gAfe, k);
}

export function cfcPureBackward(rows: i32, hidden: i32, ff1: i32, ts: i32, wTau: i32, a: i32, dh: i32, ldDh: i32, dff1: i32, dts: i32, dWTau: i32, dA: i32): void {
  const pw = at(wTau);
  const pa = at(a);
  const pdw = at(dWTau);
  const pda = at(dA);
  const body = hidden & ~3;
  const rest = hidden - body;
  for (let r = 0; r < rows; r++) {
    const pf = at(ff1 + r * hidden);
    const pdf = at(dff1 + r * hidden);
    const pdh = at(dh + r * ldDh);
    const t = v128.load32_splat(at(ts + r));
    let dt = f32x4.splat(0);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      dt = f32x4.add(dt, cfcPureBackwardChunk(pf + o, pw + o, pa + o, t, pdh + o, pdf + o, pdw + o, pda + o, 4));
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      dt = f32x4.add(dt, cfcPureBackwardChunk(pf + o, pw + o, pa + o, t, pdh + o, pdf + o, pdw + o, pda + o, rest));
    }
    store<f32>(at(dts + r), hsum(dt));
  }
}
