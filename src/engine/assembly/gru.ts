// Fused GRU gate epilogues (engine.ts gruForward / gruBackward), four hidden units at a time.
import { at, loadN, storeN } from "./memory";
import { sigmoidV, tanhV } from "./approx";

// @ts-ignore: decorator
@inline function gruForwardChunk(gi: usize, gh: usize, hb: usize, ph: usize, phOut: usize, count: i32): void {
  const reset = sigmoidV(f32x4.add(loadN(gi, count), loadN(gh, count)));
  const update = sigmoidV(f32x4.add(loadN(gi + hb, count), loadN(gh + hb, count)));
  const candidate = tanhV(f32x4.add(loadN(gi + 2 * hb, count), f32x4.mul(reset, loadN(gh + 2 * hb, count))));
  storeN(gi, reset, count);
  storeN(gi + hb, update, count);
  storeN(gi + 2 * hb, candidate, count);
  // (1 - z) n + z h as the reference forms it
  const hNew = f32x4.add(f32x4.mul(f32x4.sub(f32x4.splat(1), update), candidate), f32x4.mul(update, loadN(ph, count)));
  storeN(phOut, hNew, count);
}

export function gruForward(rows: i32, hidden: i32, inputGates: i32, hiddenGates: i32, h: i32, ldh: i32, hOut: i32, ldhOut: i32): void {
  const hb = (<usize>hidden) << 2;
  const body = hidden & ~3;
  const rest = hidden - body;
  for (let r = 0; r < rows; r++) {
    const gi = at(inputGates + r * 3 * hidden);
    const gh = at(hiddenGates + r * 3 * hidden);
    const ph = at(h + r * ldh);
    const phOut = at(hOut + r * ldhOut);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      gruForwardChunk(gi + o, gh + o, hb, ph + o, phOut + o, 4);
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      gruForwardChunk(gi + o, gh + o, hb, ph + o, phOut + o, rest);
    }
  }
}

// @ts-ignore: decorator
@inline function gruBackwardChunk(g: usize, gh: usize, dgi: usize, dgh: usize, hb: usize, ph: usize, pdh: usize, pdhPrev: usize, count: i32): void {
  const one = f32x4.splat(1);
  const reset = loadN(g, count);
  const update = loadN(g + hb, count);
  const candidate = loadN(g + 2 * hb, count);
  const dOut = loadN(pdh, count);
  const dCandidatePre = f32x4.mul(f32x4.mul(dOut, f32x4.sub(one, update)), f32x4.sub(one, f32x4.mul(candidate, candidate)));
  const dUpdatePre = f32x4.mul(f32x4.mul(f32x4.mul(dOut, f32x4.sub(loadN(ph, count), candidate)), update), f32x4.sub(one, update));
  const dResetPre = f32x4.mul(f32x4.mul(f32x4.mul(dCandidatePre, loadN(gh + 2 * hb, count)), reset), f32x4.sub(one, reset));
  storeN(dgi, dResetPre, count);
  storeN(dgi + hb, dUpdatePre, count);
  storeN(dgi + 2 * hb, dCandidatePre, count);
  storeN(dgh, dResetPre, count);
  storeN(dgh + hb, dUpdatePre, count);
  storeN(dgh + 2 * hb, f32x4.mul(dCandidatePre, reset), count);
  storeN(pdhPrev, f32x4.add(loadN(pdhPrev, count), f32x4.mul(dOut, update)), count);
}

export function gruBackward(rows: i32, hidden: i32, gates: i32, hiddenGates: i32, h: i32, ldh: i32, dh: i32, ldDh: i32, dInputGates: i32, dHiddenGates: i32, dhPrev: i32, ldDhPrev: i32): void {
  const hb = (<usize>hidden) << 2;
  const body = hidden & ~3;
  const rest = hidden - body;
  for (let r = 0; r < rows; r++) {
    const g = at(gates + r * 3 * hidden);
    const gh = at(hiddenGates + r * 3 * hidden);
    const dgi = at(dInputGates + r * 3 * hidden);
    const dgh = at(dHiddenGates + r * 3 * hidden);
    const ph = at(h + r * ldh);
    const pdh = at(dh + r * ldDh);
    const pdhPrev = at(dhPrev + r * ldDhPrev);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      gruBackwardChunk(g + o, gh + o, dgi + o, dgh + o, hb, ph + o, pdh + o, pdhPrev + o, 4);
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      gruBackwardChunk(g + o, gh + o, dgi + o, dgh + o, hb, ph + o, pdh + o, pdhPrev + o, rest);
    }
  }
}
