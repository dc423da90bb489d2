// C (m x n) = A (m x k) . B (k x n) [+ C], row-major with arbitrary leading dimensions.
//
// Register tiling: a tile of C stays in vector registers for the whole k loop, each step broadcasting
// one element of A per tile row (v128.load32_splat) against one to four vectors of a row of B. Two
// tile families are built, 4 rows x 8 columns and 2 rows x 16 columns (eight accumulators each; 4x16
// would need sixteen and spills). bench/gemm.ts times both: on this project's machine they tie within
// ~2% at the CfC sizes (paired runs favoured 2x16 by 0-2%), so `gemm` uses 2x16, which also leaves at
// most one row to the slower 1-row tiles. Edges use narrower tiles (x8, x4) and a scalar loop for the
// last one to three columns, so every size works.
// Each C element is accumulated in k order from its initial value, exactly as the reference does.
import { at } from "./memory";

// ---- 4-row tiles ---------------------------------------------------------------------------------

function tile4x8(k: i32, pa: usize, sa: usize, pb: usize, sb: usize, pc: usize, sc: usize, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const pc1 = pc + sc, pc2 = pc1 + sc, pc3 = pc2 + sc;
  if (acc) {
    c00 = v128.load(pc); c01 = v128.load(pc, 16);
    c10 = v128.load(pc1); c11 = v128.load(pc1, 16);
    c20 = v128.load(pc2); c21 = v128.load(pc2, 16);
    c30 = v128.load(pc3); c31 = v128.load(pc3, 16);
  }
  let a0 = pa, a1 = pa + sa, a2 = a1 + sa, a3 = a2 + sa;
  for (let p = 0; p < k; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let av = v128.load32_splat(a0);
    c00 = f32x4.add(c00, f32x4.mul(av, b0)); c01 = f32x4.add(c01, f32x4.mul(av, b1));
    av = v128.load32_splat(a1);
    c10 = f32x4.add(c10, f32x4.mul(av, b0)); c11 = f32x4.add(c11, f32x4.mul(av, b1));
    av = v128.load32_splat(a2);
    c20 = f32x4.add(c20, f32x4.mul(av, b0)); c21 = f32x4.add(c21, f32x4.mul(av, b1));
    av = v128.load32_splat(a3);
    c30 = f32x4.add(c30, f32x4.mul(av, b0)); c31 = f32x4.add(c31, f32x4.mul(av, b1));
    a0 += 4; a1 += 4; a2 += 4; a3 += 4;
    pb += sb;
  }
  v128.store(pc, c00); v128.store(pc, c01, 16);
  v128.store(pc1, c10); v128.store(pc1, c11, 16);
  v128.store(pc2, c20); v128.store(pc2, c21, 16);
  v128.store(pc3, c30); v128.store(pc3, c31, 16);
}

function tile4x4(k: i32, pa: usize, sa: usize, pb: usize, sb: usize, pc: usize, sc: usize, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  const pc1 = pc + sc, pc2 = pc1 + sc, pc3 = pc2 + sc;
  if (acc) {
    c0 = v128.load(pc); c1 = v128.load(pc1); c2 = v128.load(pc2); c3 = v128.load(pc3);
  }
  let a0 = pa, a1 = pa + sa, a2 = a1 + sa, a3 = a2 + sa;
  for (let p = 0; p < k; p++) {
    const b0 = v128.load(pb);
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(a0), b0));
    c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(a1), b0));
    c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(a2), b0));
    c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(a3), b0));
    a0 += 4; a1 += 4; a2 += 4; a3 += 4;
    pb += sb;
  }
  v128.store(pc, c0); v128.store(pc1, c1); v128.store(pc2, c2); v128.store(pc3, c3);
}

// ---- 2-row tiles ---------------------------------------------------------------------------------

function tile2x16(k: i32, pa: usize, sa: usize, pb: usize, sb: usize, pc: usize, sc: usize, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
  const pc1 = pc + sc;
  if (acc) {
    c00 = v128.load(pc); c01 = v128.load(pc, 16); c02 = v128.load(pc, 32); c03 = v128.load(pc, 48);
    c10 = v128.load(pc1); c11 = v128.load(pc1, 16); c12 = v128.load(pc1, 32); c13 = v128.load(pc1, 48);
  }
  let a0 = pa, a1 = pa + sa;
  for (let p = 0; p < k; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const b2 = v128.load(pb, 32);
    const b3 = v128.load(pb, 48);
    let av = v128.load32_splat(a0);
    c00 = f32x4.add(c00, f32x4.mul(av, b0)); c01 = f32x4.add(c01, f32x4.mul(av, b1));
    c02 = f32x4.add(c02, f32x4.mul(av, b2)); c03 = f32x4.add(c03, f32x4.mul(av, b3));
    av = v128.load32_splat(a1);
    c10 = f32x4.add(c10, f32x4.mul(av, b0)); c11 = f32x4.add(c11, f32x4.mul(av, b1));
    c12 = f32x4.add(c12, f32x4.mul(av, b2)); c13 = f32x4.add(c13, f32x4.mul(av, b3));
    a0 += 4; a1 += 4;
    pb += sb;
  }
  v128.store(pc, c00); v128.store(pc, c01, 16); v128.store(pc, c02, 32); v128.store(pc, c03, 48);
  v128.store(pc1, c10); v128.store(pc1, c11, 16); v128.store(pc1, c12, 32); v128.store(pc1, c13, 48);
}

function tile2x8(k: i32, pa: usize, sa: usize, pb: usize, sb: usize, pc: usize, sc: usize, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  const pc1 = pc + sc;
  if (acc) {
    c00 = v128.load(pc); c01 = v128.load(pc, 16);
    c10 = v128.load(pc1); c11 = v128.load(pc1, 16);
  }
  let a0 = pa, a1 = pa + sa;
  for (let p = 0; p < k; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let av = v128.load32_splat(a0);
    c00 = f32x4.add(c00, f32x4.mul(av, b0)); c01 = f32x4.add(c01, f32x4.mul(av, b1));
    av = v128.load32_splat(a1);
    c10 = f32x4.add(c10, f32x4.mul(av, b0)); c11 = f32x4.add(c11, f32x4.mul(av, b1));
    a0 += 4; a1 += 4;
    pb += sb;
  }
  v128.store(pc, c00); v128.store(pc, c01, 16);
  v128.store(pc1, c10); v128.store(pc1, c11, 16);
}

function tile2x4(k: i32, pa: usize, sa: usize, pb: usize, sb: usize, pc: usize, sc: usize, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  const pc1 = pc + sc;
  if (acc) {
    c0 = v128.load(pc); c1 = v128.load(pc1);
  }
  let a0 = pa, a1 = pa + sa;
  for (let p = 0; p < k; p++) {
    const b0 = v128.load(pb);
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(a0), b0));
    c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(a1), b0));
    a0 += 4; a1 += 4;
    pb += sb;
  }
  v128.store(pc, c0); v128.store(pc1, c1);
}

// ---- 1-row tiles (the last rows; also batch-1 streaming) -----------------------------------------

function tile1x16(k: i32, pa: usize, pb: usize, sb: usize, pc: usize, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  if (acc) {
    c0 = v128.load(pc); c1 = v128.load(pc, 16); c2 = v128.load(pc, 32); c3 = v128.load(pc, 48);
  }
  for (let p = 0; p < k; p++) {
    const av = v128.load32_splat(pa);
    c0 = f32x4.add(c0, f32x4.mul(av, v128.load(pb)));
    c1 = f32x4.add(c1, f32x4.mul(av, v128.load(pb, 16)));
    c2 = f32x4.add(c2, f32x4.mul(av, v128.load(pb, 32)));
    c3 = f32x4.add(c3, f32x4.mul(av, v128.load(pb, 48)));
    pa += 4;
    pb += sb;
  }
  v128.store(pc, c0); v128.store(pc, c1, 16); v128.store(pc, c2, 32); v128.store(pc, c3, 48);
}

function tile1x8(k: i32, pa: usize, pb: usize, sb: usize, pc: usize, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  if (acc) {
    c0 = v128.load(pc); c1 = v128.load(pc, 16);
  }
  for (let p = 0; p < k; p++) {
    const av = v128.load32_splat(pa);
    c0 = f32x4.add(c0, f32x4.mul(av, v128.load(pb)));
    c1 = f32x4.add(c1, f32x4.mul(av, v128.load(pb, 16)));
    pa += 4;
    pb += sb;
  }
  v128.store(pc, c0); v128.store(pc, c1, 16);
}

function tile1x4(k: i32, pa: usize, pb: usize, sb: usize, pc: usize, acc: bool): void {
  let c0 = f32x4.splat(0);
  if (acc) c0 = v128.load(pc);
  for (let p = 0; p < k; p++) {
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(pa), v128.load(pb)));
    pa += 4;
    pb += sb;
  }
  v128.store(pc, c0);
}

/** The last 1 to 3 columns of `rows` rows, one dot product per element. */
function tailColumns(rows: i32, cols: i32, k: i32, pa: usize, sa: usize, pb: usize, sb: usize, pc: usize, sc: usize, acc: bool): void {
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const pcij = pc + (<usize>i) * sc + ((<usize>j) << 2);
      let s: f32 = acc ? load<f32>(pcij) : 0;
      let ap = pa + (<usize>i) * sa;
      let bp = pb + ((<usize>j) << 2);
      for (let p = 0; p < k; p++) {
        s += load<f32>(ap) * load<f32>(bp);
        ap += 4;
        bp += sb;
      }
      store<f32>(pcij, s);
    }
  }
}

/** One row of C with 1-row tiles. */
function gemmRow(n: i32, k: i32, pa: usize, pb: usize, sb: usize, pc: usize, acc: bool): void {
  let j = 0;
  for (; j + 16 <= n; j += 16) tile1x16(k, pa, pb + ((<usize>j) << 2), sb, pc + ((<usize>j) << 2), acc);
  if (j + 8 <= n) {
    tile1x8(k, pa, pb + ((<usize>j) << 2), sb, pc + ((<usize>j) << 2), acc);
    j += 8;
  }
  if (j + 4 <= n) {
    tile1x4(k, pa, pb + ((<usize>j) << 2), sb, pc + ((<usize>j) << 2), acc);
    j += 4;
  }
  if (j < n) tailColumns(1, n - j, k, pa, 0, pb + ((<usize>j) << 2), sb, pc + ((<usize>j) << 2), 0, acc);
}

// ---- drivers (byte strides sa, sb, sc) -----------------------------------------------------------

function gemmBlock4x8(m: i32, n: i32, k: i32, pa: usize, sa: usize, pb: usize, sb: usize, pc: usize, sc: usize, acc: bool): void {
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const a = pa + (<usize>i) * sa;
    const c = pc + (<usize>i) * sc;
    let j = 0;
    for (; j + 8 <= n; j += 8) tile4x8(k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
    if (j + 4 <= n) {
      tile4x4(k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
      j += 4;
    }
    if (j < n) tailColumns(4, n - j, k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
  }
  for (; i < m; i++) gemmRow(n, k, pa + (<usize>i) * sa, pb, sb, pc + (<usize>i) * sc, acc);
}

function gemmBlock2x16(m: i32, n: i32, k: i32, pa: usize, sa: usize, pb: usize, sb: usize, pc: usize, sc: usize, acc: bool): void {
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const a = pa + (<usize>i) * sa;
    const c = pc + (<usize>i) * sc;
    let j = 0;
    for (; j + 16 <= n; j += 16) tile2x16(k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
    if (j + 8 <= n) {
      tile2x8(k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
      j += 8;
    }
    if (j + 4 <= n) {
      tile2x4(k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
      j += 4;
    }
    if (j < n) tailColumns(2, n - j, k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
  }
  if (i < m) gemmRow(n, k, pa + (<usize>i) * sa, pb, sb, pc + (<usize>i) * sc, acc);
}

/**
 * Splits k into panels of at most `kc` so that the rows of B a panel touches stay in cache while every
 * tile row passes over them (matters for weight gradients, where k is batch x time).
 */
// @ts-ignore: decorator
@inline function gemmWith(family: i32, kc: i32, m: i32, n: i32, k: i32, a: i32, lda: i32, b: i32, ldb: i32, c: i32, ldc: i32, accumulate: bool): void {
  const sa = (<usize>lda) << 2;
  const sb = (<usize>ldb) << 2;
  const sc = (<usize>ldc) << 2;
  const pc = at(c);
  let p0 = 0;
  do {
    const kk = min(kc, k - p0);
    const pa = at(a + p0);
    const pb = at(b + p0 * ldb);
    const acc = accumulate || p0 > 0;
    if (family == 0) gemmBlock4x8(m, n, kk, pa, sa, pb, sb, pc, sc, acc);
    else gemmBlock2x16(m, n, kk, pa, sa, pb, sb, pc, sc, acc);
    p0 += kc;
  } while (p0 < k);
}

/** Panel depth for the k split: 128 x 2048 x 256 ran ~15-30% faster split (bench/gemm.ts). */
// @ts-ignore: decorator
@inline const KC: i32 = 256;

export function gemm(m: i32, n: i32, k: i32, a: i32, lda: i32, b: i32, ldb: i32, c: i32, ldc: i32, accumulate: bool): void {
  gemmWith(1, KC, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

/** The 4x8 tile family alone (for bench/gemm.ts), with k panels of `kc`. */
export function gemmTiles4x8(m: i32, n: i32, k: i32, a: i32, lda: i32, b: i32, ldb: i32, c: i32, ldc: i32, accumulate: bool, kc: i32): void {
  gemmWith(0, kc, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

/** The 2x16 tile family alone (for bench/gemm.ts), with k panels of `kc`. */
export function gemmTiles2x16(m: i32, n: i32, k: i32, a: i32, lda: i32, b: i32, ldb: i32, c: i32, ldc: i32, accumulate: bool, kc: i32): void {
  gemmWith(1, kc, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}
