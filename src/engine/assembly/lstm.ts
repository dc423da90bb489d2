// Fused LSTM cell epilogues (engine.ts lstmForward / lstmBackward), four hidden units at a time.
import { at, loadN, storeN } from "./memory";
import { sigmoidV, tanhV } from "./approx";

// @ts-ignore: decorator
@inline function lstmForwardChunk(g: usize, hb: usize, fb: v128, pc: usize, pcOut: usize, ph: usize, count: i32): void {
  const ia = tanhV(loadN(g, count));
  const ig = sigmoidV(loadN(g + hb, count));
  const fg = sigmoidV(f32x4.add(loadN(g + 2 * hb, count), fb));
  const og = sigmoidV(loadN(g + 3 * hb, count));
  storeN(g, ia, count);
  storeN(g + hb, ig, count);
  storeN(g + 2 * hb, fg, count);
  storeN(g + 3 * hb, og, count);
  const cn = f32x4.add(f32x4.mul(loadN(pc, count), fg), f32x4.mul(ia, ig));
  storeN(pcOut, cn, count);
  storeN(ph, f32x4.mul(tanhV(cn), og), count);
}

export function lstmForward(rows: i32, hidden: i32, gates: i32, c: i32, ldc: i32, cOut: i32, hOut: i32, ldh: i32, forgetBias: f32): void {
  const hb = (<usize>hidden) << 2;
  const fb = f32x4.splat(forgetBias);
  const body = hidden & ~3;
  const rest = hidden - body;
  for (let r = 0; r < rows; r++) {
    const g = at(gates + r * 4 * hidden);
    const pc = at(c + r * ldc);
    const pcOut = at(cOut + r * ldc);
    const ph = at(hOut + r * ldh);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      lstmForwardChunk(g + o, hb, fb, pc + o, pcOut + o, ph + o, 4);
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      lstmForwardChunk(g + o, hb, fb, pc + o, pcOut + o, ph + o, rest);
    }
  }
}

// @ts-ignore: decorator
@inline function lstmBackwardChunk(g: usize, dg: usize, hb: usize, pc: usize, pcOut: usize, pdh: usize, pdc: usize, count: i32): void {
  const one = f32x4.splat(1);
  const ia = loadN(g, count);
  const ig = loadN(g + hb, count);
  const fg = loadN(g + 2 * hb, count);
  const og = loadN(g + 3 * hb, count);
  const tc = tanhV(loadN(pcOut, count));
  const dhv = loadN(pdh, count);
  const dcv = f32x4.add(loadN(pdc, count), f32x4.mul(f32x4.mul(dhv, og), f32x4.sub(one, f32x4.mul(tc, tc))));
  storeN(dg, f32x4.mul(f32x4.mul(dcv, ig), f32x4.sub(one, f32x4.mul(ia, ia))), count);
  storeN(dg + hb, f32x4.mul(f32x4.mul(f32x4.mul(dcv, ia), ig), f32x4.sub(one, ig)), count);
  storeN(dg + 2 * hb, f32x4.mul(f32x4.mul(f32x4.mul(dcv, loadN(pc, count)), fg), f32x4.sub(one, fg)), count);
  storeN(dg + 3 * hb, f32x4.mul(f32x4.mul(f32x4.mul(dhv, tc), og), f32x4.sub(one, og)), count);
  storeN(pdc, f32x4.mul(dcv, fg), count);
}

export function lstmBackward(rows: i32, hidden: i32, gates: i32, c: i32, ldc: i32, cOut: i32, dh: i32, ldDh: i32, dc: i32, dGates: i32): void {
  const hb = (<usize>hidden) << 2;
  const body = hidden & ~3;
  const rest = hidden - body;
  for (let r = 0; r < rows; r++) {
    const g = at(gates + r * 4 * hidden);
    const dg = at(dGates + r * 4 * hidden);
    const pc = at(c + r * ldc);
    const pcOut = at(cOut + r * ldc);
    const pdh = at(dh + r * ldDh);
    // dc is dense (rows x hidden), unlike c and cOut, as in the reference.
    const pdc = at(dc + r * hidden);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      lstmBackwardChunk(g + o, dg + o, hb, pc + o, pcOut + o, pdh + o, pdc + o, 4);
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      lstmBackwardChunk(g + o, dg + o, hb, pc + o, pcOut + o, pdh + o, pdc + o, rest);
    }
  }
}
