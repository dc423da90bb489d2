// Optimizer updates over a parameter block (engine.ts adamUpdate): torch.optim.Adam / AdamW's float32
// update, element by element in exactly the operations and roundings of the float32 path of
// src/train/optimizers.ts, so the two give the same bits. Every f32 operation here is what that path
// writes as Math.fround of a double operation on float32 values (for +, -, *, / and sqrt the two agree
// exactly); the one product with a double scalar (torch.lerp's weight, 1 - beta1, kept in double there)
// is done in f64 and rounded.
import { at } from "./memory";

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
