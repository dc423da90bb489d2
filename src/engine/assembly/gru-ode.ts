// GRU-ODE field epilogues (engine.ts gruOdeGatesForward, gruOdeForward and their backward), four hidden
// units at a time. A row's cache is [r | z | g | r * h], 4H wide.
import { at, loadN, storeN } from "./memory";
import { sigmoidV, tanhV } from "./approx";

// @ts-ignore: decorator
@inline function gatesForwardChunk(c: usize, hb: usize, ph: usize, count: i32): void {
  const reset = sigmoidV(loadN(c, count));
  storeN(c, reset, count);
  storeN(c + hb, sigmoidV(loadN(c + hb, count)), count);
  storeN(c + 3 * hb, f32x4.mul(reset, loadN(ph, count)), count);
}

export function gruOdeGatesForward(rows: i32, hidden: i32, gates: i32, h: i32, ldh: i32): void {
  const hb = (<usize>hidden) << 2;
  const body = hidden & ~3;
  const rest = hidden - body;
  for (let r = 0; r < rows; r++) {
    const c = at(gates + r * 4 * hidden);
    const ph = at(h + r * ldh);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      gatesForwardChunk(c + o, hb, ph + o, 4);
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      gatesForwardChunk(c + o, hb, ph + o, rest);
    }
  }
}

// @ts-ignore: decorator
@inline function fieldForwardChunk(c: usize, hb: usize, ph: usize, pOut: usize, count: i32): void {
  const candidate = tanhV(loadN(c + 2 * hb, count));
  storeN(c + 2 * hb, candidate, count);
  const update = loadN(c + hb, count);
  storeN(pOut, f32x4.mul(f32x4.sub(f32x4.splat(1), update), f32x4.sub(candidate, loadN(ph, count))), count);
}

export function gruOdeForward(rows: i32, hidden: i32, gates: i32, h: i32, ldh: i32, dhdt: i32, ldDhdt: i32): void {
  const hb = (<usize>hidden) << 2;
  const body = hidden & ~3;
  const rest = hidden - body;
  for (let r = 0; r < rows; r++) {
    const c = at(gates + r * 4 * hidden);
    const ph = at(h + r * ldh);
    const pOut = at(dhdt + r * ldDhdt);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      fieldForwardChunk(c + o, hb, ph + o, pOut + o, 4);
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      fieldForwardChunk(c + o, hb, ph + o, pOut + o, rest);
    }
  }
}

// @ts-ignore: decorator
@inline function fieldBackwardChunk(c: usize, d: usize, hb: usize, ph: usize, pg: usize, pdh: usize, count: i32): void {
  const one = f32x4.splat(1);
  const update = loadN(c + hb, count);
  const candidate = loadN(c + 2 * hb, count);
  const dOut = loadN(pg, count);
  const keep = f32x4.sub(one, update);
  storeN(d + hb, f32x4.neg(f32x4.mul(f32x4.mul(f32x4.mul(dOut, f32x4.sub(candidate, loadN(ph, count))), update), keep)), count);
  storeN(d + 2 * hb, f32x4.mul(f32x4.mul(dOut, keep), f32x4.sub(one, f32x4.mul(candidate, candidate))), count);
  storeN(pdh, f32x4.sub(loadN(pdh, count), f32x4.mul(dOut, keep)), count);
}

export function gruOdeBackward(rows: i32, hidden: i32, gates: i32, h: i32, ldh: i32, dDhdt: i32, ldDDhdt: i32, dGates: i32, dh: i32, ldDh: i32): void {
  const hb = (<usize>hidden) << 2;
  const body = hidden & ~3;
  const rest = hidden - body;
  for (let r = 0; r < rows; r++) {
    const c = at(gates + r * 4 * hidden);
    const d = at(dGates + r * 4 * hidden);
    const ph = at(h + r * ldh);
    const pg = at(dDhdt + r * ldDDhdt);
    const pdh = at(dh + r * ldDh);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      fieldBackwardChunk(c + o, d + o, hb, ph + o, pg + o, pdh + o, 4);
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      fieldBackwardChunk(c + o, d + o, hb, ph + o, pg + o, pdh + o, rest);
    }
  }
}

// @ts-ignore: decorator
@inline function gatesBackwardChunk(c: usize, d: usize, hb: usize, ph: usize, pdh: usize, count: i32): void {
  const reset = loadN(c, count);
  const dProduct = loadN(d + 3 * hb, count);
  storeN(d, f32x4.mul(f32x4.mul(f32x4.mul(dProduct, loadN(ph, count)), reset), f32x4.sub(f32x4.splat(1), reset)), count);
  storeN(pdh, f32x4.add(loadN(pdh, count), f32x4.mul(dProduct, reset)), count);
}

export function gruOdeGatesBackward(rows: i32, hidden: i32, gates: i32, h: i32, ldh: i32, dGates: i32, dh: i32, ldDh: i32): void {
  const hb = (<usize>hidden) << 2;
  const body = hidden & ~3;
  const rest = hidden - body;
  for (let r = 0; r < rows; r++) {
    const c = at(gates + r * 4 * hidden);
    const d = at(dGates + r * 4 * hidden);
    const ph = at(h + r * ldh);
    const pdh = at(dh + r * ldDh);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      gatesBackwardChunk(c + o, d + o, hb, ph + o, pdh + o, 4);
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      gatesBackwardChunk(c + o, d + o, hb, ph + o, pdh + o, rest);
    }
  }
}
