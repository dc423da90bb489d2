// Gradient-clipping kernels (engine.ts sumSquares, scale): the global norm is summed in float64, as the
// JavaScript path does, so the clip decision does not depend on float32 accumulation order.
import { at } from "./memory";

export function sumSquares(n: i32, x: i32): f64 {
  const p = at(x);
  const body = n & ~3;
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  for (let i = 0; i < body; i += 4) {
    const v = v128.load(p + ((<usize>i) << 2));
    const a = f64x2.promote_low_f32x4(v);
    const b = f64x2.promote_low_f32x4(i8x16.shuffle(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
    lo = f64x2.add(lo, f64x2.mul(a, a));
    hi = f64x2.add(hi, f64x2.mul(b, b));
  }
  const both = f64x2.add(lo, hi);
  let sum = f64x2.extract_lane(both, 0) + f64x2.extract_lane(both, 1);
  for (let i = body; i < n; i++) {
    const s = <f64>load<f32>(p + ((<usize>i) << 2));
    sum += s * s;
  }
  return sum;
}

export function scale(n: i32, alpha: f32, x: i32): void {
  const p = at(x);
  const body = n & ~3;
  const va = f32x4.splat(alpha);
  for (let i = 0; i < body; i += 4) {
    const o = p + ((<usize>i) << 2);
    v128.store(o, f32x4.mul(v128.load(o), va));
  }
  for (let i = body; i < n; i++) {
    const o = p + ((<usize>i) << 2);
    store<f32>(o, load<f32>(o) * alpha);
  }
}
