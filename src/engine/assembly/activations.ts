// Bias + activation forward and the activation backward (codes of engine.ts Act).
import { at, loadTail, storeTail } from "./memory";
import { expV, normalPdfV, sigmoidComplementV, sigmoidV, tanhGradV, tanhV, twicePhiV } from "./approx";

// @ts-ignore: decorator
@inline const LECUN_SCALE: f32 = 1.7159;
// @ts-ignore: decorator
@inline const LECUN_SLOPE: f32 = 0.666;

/** act(x) per lane (`act` is a constant wherever this is inlined, so the switch folds away). */
// @ts-ignore: decorator
@inline export function activate(act: i32, x: v128): v128 {
  switch (act) {
    case 1: return f32x4.mul(f32x4.splat(LECUN_SCALE), tanhV(f32x4.mul(f32x4.splat(LECUN_SLOPE), x)));
    case 2: return f32x4.mul(x, sigmoidV(x));
    case 3: return v128.and(x, f32x4.gt(x, f32x4.splat(0))); // x > 0 ? x : 0, as the reference
    case 4: return tanhV(x);
    case 5: return f32x4.mul(f32x4.mul(f32x4.splat(0.5), x), twicePhiV(x));
    case 6: return sigmoidV(x);
    default: return x;
  }
}

/** act'(x) per lane (relu'(0) = 0 as torch). */
// @ts-ignore: decorator
@inline function activateGrad(act: i32, x: v128): v128 {
  switch (act) {
    case 1: return f32x4.mul(f32x4.splat(LECUN_SCALE * LECUN_SLOPE), tanhGradV(f32x4.mul(f32x4.splat(LECUN_SLOPE), x)));
    case 2: {
      const e = expV(f32x4.neg(x));
      const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
      return f32x4.mul(s, f32x4.add(f32x4.splat(1), f32x4.mul(x, sigmoidComplementV(x, e, s))));
    }
    case 3: return v128.and(f32x4.gt(x, f32x4.splat(0)), f32x4.splat(1));
    case 4: return tanhGradV(x);
    case 5: {
      return f32x4.add(f32x4.mul(f32x4.splat(0.5), twicePhiV(x)), f32x4.mul(x, normalPdfV(x)));
    }
    case 6: {
      const e = expV(f32x4.neg(x));
      const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
      return f32x4.mul(s, sigmoidComplementV(x, e, s));
    }
    default: return f32x4.splat(1);
  }
}

/** act'(x) per lane from the output y = act(x), for identity, lecun_tanh and tanh (the CfC head activations). */
// @ts-ignore: decorator
@inline export function activateGradFromOutput(act: i32, y: v128): v128 {
  switch (act) {
    case 1: return f32x4.mul(f32x4.splat(LECUN_SLOPE), f32x4.sub(f32x4.splat(LECUN_SCALE), f32x4.div(f32x4.mul(y, y), f32x4.splat(LECUN_SCALE))));
    case 4: return f32x4.sub(f32x4.splat(1), f32x4.mul(y, y));
    default: return f32x4.splat(1);
  }
}

// The public kernels switch on the activation once and run a loop specialised for it: with the switch
// inside the loop, the constants of every activation stay live across it and spill.

// @ts-ignore: decorator
@inline function biasActLoop(act: i32, rows: i32, cols: i32, x: i32, ldx: i32, bias: i32, y: i32, ldy: i32): void {
  const hasBias = bias >= 0;
  const pb = hasBias ? at(bias) : 0;
  const body = cols & ~3;
  const rest = cols - body;
  for (let r = 0; r < rows; r++) {
    const px = at(x + r * ldx);
    const py = at(y + r * ldy);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      let v = v128.load(px + o);
      if (hasBias) {
        v = f32x4.add(v, v128.load(pb + o));
        v128.store(px + o, v);
      }
      v128.store(py + o, activate(act, v));
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      let v = loadTail(px + o, rest);
      if (hasBias) {
        v = f32x4.add(v, loadTail(pb + o, rest));
        storeTail(px + o, v, rest);
      }
      storeTail(py + o, activate(act, v), rest);
    }
  }
}

export function biasAct(rows: i32, cols: i32, act: i32, x: i32, ldx: i32, bias: i32, y: i32, ldy: i32): void {
  switch (act) {
    case 1: biasActLoop(1, rows, cols, x, ldx, bias, y, ldy); break;
    case 2: biasActLoop(2, rows, cols, x, ldx, bias, y, ldy); break;
    case 3: biasActLoop(3, rows, cols, x, ldx, bias, y, ldy); break;
    case 4: biasActLoop(4, rows, cols, x, ldx, bias, y, ldy); break;
    case 5: biasActLoop(5, rows, cols, x, ldx, bias, y, ldy); break;
    case 6: biasActLoop(6, rows, cols, x, ldx, bias, y, ldy); break;
    default: biasActLoop(0, rows, cols, x, ldx, bias, y, ldy);
  }
}

// @ts-ignore: decorator
@inline function actBackwardLoop(act: i32, rows: i32, cols: i32, x: i32, ldx: i32, dy: i32, ldDy: i32, dx: i32, ldDx: i32): void {
  const body = cols & ~3;
  const rest = cols - body;
  for (let r = 0; r < rows; r++) {
    const px = at(x + r * ldx);
    const pdy = at(dy + r * ldDy);
    const pdx = at(dx + r * ldDx);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      v128.store(pdx + o, f32x4.mul(v128.load(pdy + o), activateGrad(act, v128.load(px + o))));
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      storeTail(pdx + o, f32x4.mul(loadTail(pdy + o, rest), activateGrad(act, loadTail(px + o, rest))), rest);
    }
  }
}

export function actBackward(rows: i32, cols: i32, act: i32, x: i32, ldx: i32, dy: i32, ldDy: i32, dx: i32, ldDx: i32): void {
  switch (act) {
    case 1: actBackwardLoop(1, rows, cols, x, ldx, dy, ldDy, dx, ldDx); break;
    case 2: actBackwardLoop(2, rows, cols, x, ldx, dy, ldDy, dx, ldDx); break;
    case 3: actBackwardLoop(3, rows, cols, x, ldx, dy, ldDy, dx, ldDx); break;
    case 4: actBackwardLoop(4, rows, cols, x, ldx, dy, ldDy, dx, ldDx); break;
    case 5: actBackwardLoop(5, rows, cols, x, ldx, dy, ldDy, dx, ldDx); break;
    case 6: actBackwardLoop(6, rows, cols, x, ldx, dy, ldDy, dx, ldDx); break;
    default: actBackwardLoop(0, rows, cols, x, ldx, dy, ldDy, dx, ldDx);
  }
}
