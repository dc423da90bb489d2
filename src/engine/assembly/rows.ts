// Per-row kernels of the ODE solvers (engine.ts rowAxpy, rowDot, rowErrorNorm, copyRowsWhere,
// nonFiniteIndex): every row of a batch has its own scalar (step size, accept flag), read from the heap.
import { at, hsum, loadTail, storeTail } from "./memory";

export function rowAxpy(rows: i32, cols: i32, alpha: f32, s: i32, x: i32, ldx: i32, y: i32, ldy: i32): void {
  const body = cols & ~3;
  const rest = cols - body;
  for (let r = 0; r < rows; r++) {
    const c = alpha * load<f32>(at(s + r));
    const vc = f32x4.splat(c);
    const px = at(x + r * ldx);
    const py = at(y + r * ldy);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      v128.store(py + o, f32x4.add(v128.load(py + o), f32x4.mul(vc, v128.load(px + o))));
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      storeTail(py + o, f32x4.add(loadTail(py + o, rest), f32x4.mul(vc, loadTail(px + o, rest))), rest);
    }
  }
}

export function rowDot(rows: i32, cols: i32, alpha: f32, a: i32, lda: i32, b: i32, ldb: i32, out: i32): void {
  const body = cols & ~3;
  const rest = cols - body;
  for (let r = 0; r < rows; r++) {
    const pa = at(a + r * lda);
    const pb = at(b + r * ldb);
    let acc = f32x4.splat(0);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      acc = f32x4.add(acc, f32x4.mul(v128.load(pa + o), v128.load(pb + o)));
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      acc = f32x4.add(acc, f32x4.mul(loadTail(pa + o, rest), loadTail(pb + o, rest)));
    }
    const po = at(out + r);
    store<f32>(po, load<f32>(po) + alpha * hsum(acc));
  }
}

/** Squared scaled errors of up to four columns; lanes past a row tail hold e = 0 and add nothing. */
// @ts-ignore: decorator
@inline function scaledSquares(e: v128, y0: v128, y1: v128, atol: v128, rtol: v128): v128 {
  // f32x4.max propagates NaN, as the reference's Math.max does
  const scale = f32x4.add(atol, f32x4.mul(rtol, f32x4.max(f32x4.abs(y0), f32x4.abs(y1))));
  const q = f32x4.div(e, scale);
  return f32x4.mul(q, q);
}

export function rowErrorNorm(rows: i32, cols: i32, e: i32, lde: i32, y0: i32, ldy0: i32, y1: i32, ldy1: i32, atol: f32, rtol: f32, out: i32): void {
  const body = cols & ~3;
  const rest = cols - body;
  const va = f32x4.splat(atol);
  const vr = f32x4.splat(rtol);
  const inv = <f32>1 / <f32>cols;
  for (let r = 0; r < rows; r++) {
    const pe = at(e + r * lde);
    const p0 = at(y0 + r * ldy0);
    const p1 = at(y1 + r * ldy1);
    let acc = f32x4.splat(0);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      acc = f32x4.add(acc, scaledSquares(v128.load(pe + o), v128.load(p0 + o), v128.load(p1 + o), va, vr));
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      // tail lanes: e = 0 over a scale of atol > 0 (or 0/0 = NaN when atol is 0, so mask them out)
      const sq = scaledSquares(loadTail(pe + o, rest), loadTail(p0 + o, rest), loadTail(p1 + o, rest), va, vr);
      const lanes = rest == 1 ? i32x4(-1, 0, 0, 0) : rest == 2 ? i32x4(-1, -1, 0, 0) : i32x4(-1, -1, -1, 0);
      acc = f32x4.add(acc, v128.and(sq, lanes));
    }
    store<f32>(at(out + r), <f32>Mathf.sqrt(hsum(acc) * inv));
  }
}

export function copyRowsWhere(rows: i32, cols: i32, mask: i32, src: i32, ldSrc: i32, dst: i32, ldDst: i32): void {
  const body = cols & ~3;
  const rest = cols - body;
  for (let r = 0; r < rows; r++) {
    if (load<f32>(at(mask + r)) == 0) continue;
    const s = at(src + r * ldSrc);
    const d = at(dst + r * ldDst);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      v128.store(d + o, v128.load(s + o));
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      storeTail(d + o, loadTail(s + o, rest), rest);
    }
  }
}

export function nonFiniteIndex(n: i32, x: i32): i32 {
  const p = at(x);
  const body = n & ~3;
  const zero = f32x4.splat(0);
  // v - v is 0 for finite v and NaN for NaN or an infinity
  for (let i = 0; i < body; i += 4) {
    const v = v128.load(p + ((<usize>i) << 2));
    if (v128.any_true(f32x4.ne(f32x4.sub(v, v), zero))) {
      for (let k = i; k < i + 4; k++) {
        const s = load<f32>(p + ((<usize>k) << 2));
        if (s - s != 0) return k;
      }
    }
  }
  for (let i = body; i < n; i++) {
    const s = load<f32>(p + ((<usize>i) << 2));
    if (s - s != 0) return i;
  }
  return -1;
}
