// Optimizer updates over a parameter block (engine.ts adamUpdate): torch.optim.Adam / AdamW's float32
// update, element by element in exactly the operations and roundings of the float32 path of
// src/train/optimizers.ts, so the two give the same bits. Every f32 operation here is what that path
// writes as Math.fround of a double operation on float32 values (for +, -, *, / and sqrt the two agree
// exactly); the one product with a double scalar (torch.lerp's weight, 1 - beta1, kept in double there)
// is done in f64 and rounded.
import { at, loadN, storeN } from "./memory";

/** Two f64x2 products of the four lanes of `d` with `w`, rounded back to four f32 lanes. */
// @ts-ignore: decorator
@inline function mulDouble(d: v128, w: v128): v128 {
  const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(d), w));
  const hi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(d, d, 2, 3, 0, 1)), w));
  return i32x4.shuffle(lo, hi, 0, 1, 4, 5);
}

// @ts-ignore: decorator
@inline function adamLanes(p0: v128, g: v128, mOld: v128, vOld: v128, shrink: f32, l2: f32, w1: f64, keep1: f32,
  b2: f32, c2: f32, bias2Sqrt: f32, eps: f32, stepSize: f32, pm: usize, pv: usize, pvalue: usize): void {
  if (shrink != 1) p0 = f32x4.mul(p0, f32x4.splat(shrink));
  if (l2 != 0) g = f32x4.add(g, f32x4.mul(f32x4.splat(l2), p0));
  // torch.lerp(m, g, w1), its two-branch formula
  const diff = f32x4.sub(g, mOld);
  let m: v128;
  if (w1 < 0.5) m = f32x4.add(mOld, mulDouble(diff, f64x2.splat(w1)));
  else m = f32x4.sub(g, f32x4.mul(diff, f32x4.splat(keep1)));
  const v = f32x4.add(f32x4.mul(f32x4.splat(b2), vOld), f32x4.mul(f32x4.splat(c2), f32x4.mul(g, g)));
  v128.store(pm, m);
  v128.store(pv, v);
  const denom = f32x4.add(f32x4.div(f32x4.sqrt(v), f32x4.splat(bias2Sqrt)), f32x4.splat(eps));
  v128.store(pvalue, f32x4.sub(p0, f32x4.div(f32x4.mul(f32x4.splat(stepSize), m), denom)));
}

/**
 * value, m, v (n each) updated in place from grad: see Engine.adamUpdate. The last n mod 4 elements go
 * through a four-float scratch block `tail` so that the vector code never reads or writes past n.
 */
export function adamUpdate(n: i32, value: i32, grad: i32, m: i32, v: i32, shrink: f32, l2: f32, w1: f64, keep1: f32,
  b2: f32, c2: f32, bias2Sqrt: f32, eps: f32, stepSize: f32, tail: i32): void {
  const body = n & ~3;
  for (let i = 0; i < body; i += 4) {
    const pm = at(m + i);
    const pv = at(v + i);
    const pvalue = at(value + i);
    adamLanes(v128.load(pvalue), v128.load(at(grad + i)), v128.load(pm), v128.load(pv), shrink, l2, w1, keep1, b2, c2, bias2Sqrt, eps, stepSize, pm, pv, pvalue);
  }
  const rest = n - body;
  if (rest == 0) return;
  // tail block: [value | grad | m | v], four floats each, zero-padded
  const t = at(tail);
  memory.fill(t, 0, 64);
  for (let j = 0; j < rest; j++) {
    const o = (<usize>j) << 2;
    store<f32>(t + o, load<f32>(at(value + body + j)));
    store<f32>(t + o, load<f32>(at(grad + body + j)), 16);
    store<f32>(t + o, load<f32>(at(m + body + j)), 32);
    store<f32>(t + o, load<f32>(at(v + body + j)), 48);
  }
  adamLanes(v128.load(t), v128.load(t, 16), v128.load(t, 32), v128.load(t, 48), shrink, l2, w1, keep1, b2, c2, bias2Sqrt, eps, stepSize, t + 32, t + 48, t);
  for (let j = 0; j < rest; j++) {
    const o = (<usize>j) << 2;
    store<f32>(at(value + body + j), load<f32>(t + o));
    store<f32>(at(m + body + j), load<f32>(t + o, 32));
    store<f32>(at(v + body + j), load<f32>(t + o, 48));
  }
}

// ---- RMSprop and SGD: same rule as Adam's kernel (the float32 path's operations and roundings) ----------

/** torch.lerp(a, b, w) with w in double, as the float32 path of train/optimizers.ts computes it. */
// @ts-ignore: decorator
@inline function lerpLanes(a: v128, b: v128, w: f64, keep: f32): v128 {
  const diff = f32x4.sub(b, a);
  if (w < 0.5) return f32x4.add(a, mulDouble(diff, f64x2.splat(w)));
  return f32x4.sub(b, f32x4.mul(diff, f32x4.splat(keep)));
}

// @ts-ignore: decorator
@inline function rmspropLanes(i: i32, count: i32, value: i32, grad: i32, sq: i32, gAvg: i32, buf: i32, wd: f32, alpha: f32, c: f32, w: f64, keepW: f32, eps: f32, mom: f32, lr: f32): void {
  const pvalue = at(value + i);
  const psq = at(sq + i);
  const p0 = loadN(pvalue, count);
  let g = loadN(at(grad + i), count);
  if (wd != 0) g = f32x4.add(g, f32x4.mul(f32x4.splat(wd), p0));
  const s = f32x4.add(f32x4.mul(f32x4.splat(alpha), loadN(psq, count)), f32x4.mul(f32x4.splat(c), f32x4.mul(g, g)));
  storeN(psq, s, count);
  let avg: v128;
  if (gAvg >= 0) {
    const pga = at(gAvg + i);
    const ga = lerpLanes(loadN(pga, count), g, w, keepW);
    storeN(pga, ga, count);
    avg = f32x4.sqrt(f32x4.sub(s, f32x4.mul(ga, ga)));
  } else {
    avg = f32x4.sqrt(s);
  }
  avg = f32x4.add(avg, f32x4.splat(eps));
  if (buf >= 0) {
    const pbuf = at(buf + i);
    const b = f32x4.add(f32x4.mul(f32x4.splat(mom), loadN(pbuf, count)), f32x4.div(g, avg));
    storeN(pbuf, b, count);
    storeN(pvalue, f32x4.sub(p0, f32x4.mul(f32x4.splat(lr), b)), count);
  } else {
    storeN(pvalue, f32x4.sub(p0, f32x4.mul(f32x4.splat(lr), f32x4.div(g, avg))), count);
  }
}

/** torch.optim.RMSprop over n parameters: see Engine.rmspropUpdate (gAvg, buf < 0: not used). */
export function rmspropUpdate(n: i32, value: i32, grad: i32, sq: i32, gAvg: i32, buf: i32, wd: f32, alpha: f32, c: f32, w: f64, keepW: f32, eps: f32, mom: f32, lr: f32): void {
  const body = n & ~3;
  for (let i = 0; i < body; i += 4) rmspropLanes(i, 4, value, grad, sq, gAvg, buf, wd, alpha, c, w, keepW, eps, mom, lr);
  if (body < n) rmspropLanes(body, n - body, value, grad, sq, gAvg, buf, wd, alpha, c, w, keepW, eps, mom, lr);
}

// @ts-ignore: decorator
@inline function sgdLanes(i: i32, count: i32, value: i32, grad: i32, buf: i32, wd: f32, mom: f32, keep: f32, lr: f32, first: bool, nesterov: bool): void {
  const pvalue = at(value + i);
  const p0 = loadN(pvalue, count);
  let g = loadN(at(grad + i), count);
  if (wd != 0) g = f32x4.add(g, f32x4.mul(f32x4.splat(wd), p0));
  if (buf >= 0) {
    const pbuf = at(buf + i);
    const b = first ? g : f32x4.add(f32x4.mul(f32x4.splat(mom), loadN(pbuf, count)), f32x4.mul(f32x4.splat(keep), g));
    storeN(pbuf, b, count);
    g = nesterov ? f32x4.add(g, f32x4.mul(f32x4.splat(mom), b)) : b;
  }
  storeN(pvalue, f32x4.sub(p0, f32x4.mul(f32x4.splat(lr), g)), count);
}

/** torch.optim.SGD over n parameters: see Engine.sgdUpdate (buf < 0: no momentum). */
export function sgdUpdate(n: i32, value: i32, grad: i32, buf: i32, wd: f32, mom: f32, keep: f32, lr: f32, first: bool, nesterov: bool): void {
  const body = n & ~3;
  for (let i = 0; i < body; i += 4) sgdLanes(i, 4, value, grad, buf, wd, mom, keep, lr, first, nesterov);
  if (body < n) sgdLanes(body, n - body, value, grad, buf, wd, mom, keep, lr, first, nesterov);
}
