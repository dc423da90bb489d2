// C (m x n) = A (m x k) . B (k x n) [+ C], row-major with arbitrary leading dimensions.
//
// Register tiling: a tile of C stays in vector registers for the whole k loop, each k step broadcasting
// one element of A per tile row (v128.load32_splat) against one or more vectors of a row of B. `gemm`
// takes rows five at a time in 5 x 8 tiles (ten accumulators), the 1 to 4 rows left over (and m = 2..4)
// in 2 x 16 tiles, and a last odd row as a matrix-vector product. The kernels are bound by issuing
// instructions rather than by the adders, so the shape with the most multiply-adds per load and address
// computation wins as long as it fits V8's fifteen usable vector registers: 5x8 ran 5-10% faster than
// 2x16 or 4x8 at the CfC training sizes and 10-25% faster at the weight gradients (k = batch x time);
// 6x8, 4x12, 3x16 and k-unrolled tiles spill and ran 20-30% slower (bench/gemm.ts and paired runs).
//
// A single row (m = 1, batch-1 streaming) streams B once, 48 or 64 columns (twelve or sixteen
// accumulators) per pass: 16-column passes left the four accumulator chains waiting on the adder.
// Edges use narrower tiles and a scalar loop for the last one to three columns, so every size works.
//
// Every tile is its own WebAssembly function, called through a function reference (call_indirect).
// V8 allocates registers per function: tiles that binaryen inlined into a driver with other loops came
// out with register moves at every loop back edge or spilled accumulators, and a driver looping over
// the tiles itself got its B loads hoisted and spilled (10-35% slower); the indirect call keeps
// binaryen from inlining. A call costs a few ns against k loop iterations.
// Large products (and every layer's forward and input-gradient product, on weights packed once per
// pass: packMatrix, gemmPrepacked) read B from packed 8-column panels, cache-blocked (see "cache
// blocking" below). Each C element is accumulated in k order from its initial value, exactly as the
// reference does; the relaxed-SIMD build fuses each multiply-add (madd) and so rounds once per step.
import { at } from "./memory";

/**
 * c + a b. The relaxed-SIMD build (scripts/build-wasm.mjs; chosen at load time where the runtime has
 * relaxed SIMD) fuses it into one instruction, rounding once, where the CPU has fused multiply-add; the
 * plain SIMD build multiplies and adds, rounding twice.
 */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** Signature of the multi-row tiles: byte strides sa, sb, sc. */
type Tile = (k: i32, pa: usize, sa: usize, pb: usize, sb: usize, pc: usize, sc: usize, acc: bool) => void;
/** Signature of the 1-row tiles. */
type RowTile = (k: i32, pa: usize, pb: usize, sb: usize, pc: usize, acc: bool) => void;

// ---- 5-row tiles ---------------------------------------------------------------------------------

function tile5x8(k: i32, pa: usize, sa: usize, pb: usize, sb: usize, pc: usize, sc: usize, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  const pc1 = pc + sc, pc2 = pc1 + sc, pc3 = pc2 + sc, pc4 = pc3 + sc;
  if (acc) {
    c00 = v128.load(pc); c01 = v128.load(pc, 16);
    c10 = v128.load(pc1); c11 = v128.load(pc1, 16);
    c20 = v128.load(pc2); c21 = v128.load(pc2, 16);
    c30 = v128.load(pc3); c31 = v128.load(pc3, 16);
    c40 = v128.load(pc4); c41 = v128.load(pc4, 16);
  }
  const d1 = sa, d2 = sa * 2, d3 = sa * 3, d4 = sa * 4;
  for (const end = pa + ((<usize>k) << 2); pa < end; pa += 4) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let av = v128.load32_splat(pa);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    av = v128.load32_splat(pa + d1);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    av = v128.load32_splat(pa + d2);
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
    av = v128.load32_splat(pa + d3);
    c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
    av = v128.load32_splat(pa + d4);
    c40 = madd(av, b0, c40); c41 = madd(av, b1, c41);
    pb += sb;
  }
  v128.store(pc, c00); v128.store(pc, c01, 16);
  v128.store(pc1, c10); v128.store(pc1, c11, 16);
  v128.store(pc2, c20); v128.store(pc2, c21, 16);
  v128.store(pc3, c30); v128.store(pc3, c31, 16);
  v128.store(pc4, c40); v128.store(pc4, c41, 16);
}

function tile5x4(k: i32, pa: usize, sa: usize, pb: usize, sb: usize, pc: usize, sc: usize, acc: bool): void {
  let c00 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c40 = f32x4.splat(0);
  const pc1 = pc + sc, pc2 = pc1 + sc, pc3 = pc2 + sc, pc4 = pc3 + sc;
  if (acc) {
    c00 = v128.load(pc);
    c10 = v128.load(pc1);
    c20 = v128.load(pc2);
    c30 = v128.load(pc3);
    c40 = v128.load(pc4);
  }
  const d1 = sa, d2 = sa * 2, d3 = sa * 3, d4 = sa * 4;
  for (const end = pa + ((<usize>k) << 2); pa < end; pa += 4) {
    const b0 = v128.load(pb);
    let av = v128.load32_splat(pa);
    c00 = madd(av, b0, c00);
    av = v128.load32_splat(pa + d1);
    c10 = madd(av, b0, c10);
    av = v128.load32_splat(pa + d2);
    c20 = madd(av, b0, c20);
    av = v128.load32_splat(pa + d3);
    c30 = madd(av, b0, c30);
    av = v128.load32_splat(pa + d4);
    c40 = madd(av, b0, c40);
    pb += sb;
  }
  v128.store(pc, c00);
  v128.store(pc1, c10);
  v128.store(pc2, c20);
  v128.store(pc3, c30);
  v128.store(pc4, c40);
}

// ---- 4-row tiles (the gemmTiles4x8 alternative for bench/gemm.ts) ---------------------------------

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
  const d1 = sa, d2 = sa * 2, d3 = sa * 3;
  for (const end = pa + ((<usize>k) << 2); pa < end; pa += 4) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let av = v128.load32_splat(pa);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    av = v128.load32_splat(pa + d1);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    av = v128.load32_splat(pa + d2);
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
    av = v128.load32_splat(pa + d3);
    c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
    pb += sb;
  }
  v128.store(pc, c00); v128.store(pc, c01, 16);
  v128.store(pc1, c10); v128.store(pc1, c11, 16);
  v128.store(pc2, c20); v128.store(pc2, c21, 16);
  v128.store(pc3, c30); v128.store(pc3, c31, 16);
}

function tile4x4(k: i32, pa: usize, sa: usize, pb: usize, sb: usize, pc: usize, sc: usize, acc: bool): void {
  let c00 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  const pc1 = pc + sc, pc2 = pc1 + sc, pc3 = pc2 + sc;
  if (acc) {
    c00 = v128.load(pc);
    c10 = v128.load(pc1);
    c20 = v128.load(pc2);
    c30 = v128.load(pc3);
  }
  const d1 = sa, d2 = sa * 2, d3 = sa * 3;
  for (const end = pa + ((<usize>k) << 2); pa < end; pa += 4) {
    const b0 = v128.load(pb);
    let av = v128.load32_splat(pa);
    c00 = madd(av, b0, c00);
    av = v128.load32_splat(pa + d1);
    c10 = madd(av, b0, c10);
    av = v128.load32_splat(pa + d2);
    c20 = madd(av, b0, c20);
    av = v128.load32_splat(pa + d3);
    c30 = madd(av, b0, c30);
    pb += sb;
  }
  v128.store(pc, c00);
  v128.store(pc1, c10);
  v128.store(pc2, c20);
  v128.store(pc3, c30);
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
  const d1 = sa;
  for (const end = pa + ((<usize>k) << 2); pa < end; pa += 4) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const b2 = v128.load(pb, 32);
    const b3 = v128.load(pb, 48);
    let av = v128.load32_splat(pa);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01); c02 = madd(av, b2, c02); c03 = madd(av, b3, c03);
    av = v128.load32_splat(pa + d1);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11); c12 = madd(av, b2, c12); c13 = madd(av, b3, c13);
    pb += sb;
  }
  v128.store(pc, c00); v128.store(pc, c01, 16); v128.store(pc, c02, 32); v128.store(pc, c03, 48);
  v128.store(pc1, c10); v128.store(pc1, c11, 16); v128.store(pc1, c12, 32); v128.store(pc1, c13, 48);
}

function tile2x8(k: i32, pa: usize, sa: usize, pb: usize, sb: usize, pc: usize, sc: usize, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  const pc1 = pc + sc;
  if (acc) {
    c00 = v128.load(pc); c01 = v128.load(pc, 16);
    c10 = v128.load(pc1); c11 = v128.load(pc1, 16);
  }
  const d1 = sa;
  for (const end = pa + ((<usize>k) << 2); pa < end; pa += 4) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let av = v128.load32_splat(pa);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    av = v128.load32_splat(pa + d1);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    pb += sb;
  }
  v128.store(pc, c00); v128.store(pc, c01, 16);
  v128.store(pc1, c10); v128.store(pc1, c11, 16);
}

function tile2x4(k: i32, pa: usize, sa: usize, pb: usize, sb: usize, pc: usize, sc: usize, acc: bool): void {
  let c00 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  const pc1 = pc + sc;
  if (acc) {
    c00 = v128.load(pc);
    c10 = v128.load(pc1);
  }
  const d1 = sa;
  for (const end = pa + ((<usize>k) << 2); pa < end; pa += 4) {
    const b0 = v128.load(pb);
    let av = v128.load32_splat(pa);
    c00 = madd(av, b0, c00);
    av = v128.load32_splat(pa + d1);
    c10 = madd(av, b0, c10);
    pb += sb;
  }
  v128.store(pc, c00);
  v128.store(pc1, c10);
}

// ---- 1-row tiles (the last row; batch-1 streaming) -----------------------------------------------

function tile1x64(k: i32, pa: usize, pb: usize, sb: usize, pc: usize, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  let c8 = f32x4.splat(0), c9 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c12 = f32x4.splat(0), c13 = f32x4.splat(0), c14 = f32x4.splat(0), c15 = f32x4.splat(0);
  if (acc) {
    c0 = v128.load(pc); c1 = v128.load(pc, 16); c2 = v128.load(pc, 32); c3 = v128.load(pc, 48);
    c4 = v128.load(pc, 64); c5 = v128.load(pc, 80); c6 = v128.load(pc, 96); c7 = v128.load(pc, 112);
    c8 = v128.load(pc, 128); c9 = v128.load(pc, 144); c10 = v128.load(pc, 160); c11 = v128.load(pc, 176);
    c12 = v128.load(pc, 192); c13 = v128.load(pc, 208); c14 = v128.load(pc, 224); c15 = v128.load(pc, 240);
  }
  for (const end = pa + ((<usize>k) << 2); pa < end; pa += 4) {
    const av = v128.load32_splat(pa);
    c0 = madd(av, v128.load(pb), c0);
    c1 = madd(av, v128.load(pb, 16), c1);
    c2 = madd(av, v128.load(pb, 32), c2);
    c3 = madd(av, v128.load(pb, 48), c3);
    c4 = madd(av, v128.load(pb, 64), c4);
    c5 = madd(av, v128.load(pb, 80), c5);
    c6 = madd(av, v128.load(pb, 96), c6);
    c7 = madd(av, v128.load(pb, 112), c7);
    c8 = madd(av, v128.load(pb, 128), c8);
    c9 = madd(av, v128.load(pb, 144), c9);
    c10 = madd(av, v128.load(pb, 160), c10);
    c11 = madd(av, v128.load(pb, 176), c11);
    c12 = madd(av, v128.load(pb, 192), c12);
    c13 = madd(av, v128.load(pb, 208), c13);
    c14 = madd(av, v128.load(pb, 224), c14);
    c15 = madd(av, v128.load(pb, 240), c15);
    pb += sb;
  }
  v128.store(pc, c0); v128.store(pc, c1, 16); v128.store(pc, c2, 32); v128.store(pc, c3, 48);
  v128.store(pc, c4, 64); v128.store(pc, c5, 80); v128.store(pc, c6, 96); v128.store(pc, c7, 112);
  v128.store(pc, c8, 128); v128.store(pc, c9, 144); v128.store(pc, c10, 160); v128.store(pc, c11, 176);
  v128.store(pc, c12, 192); v128.store(pc, c13, 208); v128.store(pc, c14, 224); v128.store(pc, c15, 240);
}

function tile1x48(k: i32, pa: usize, pb: usize, sb: usize, pc: usize, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  let c8 = f32x4.splat(0), c9 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  if (acc) {
    c0 = v128.load(pc); c1 = v128.load(pc, 16); c2 = v128.load(pc, 32); c3 = v128.load(pc, 48);
    c4 = v128.load(pc, 64); c5 = v128.load(pc, 80); c6 = v128.load(pc, 96); c7 = v128.load(pc, 112);
    c8 = v128.load(pc, 128); c9 = v128.load(pc, 144); c10 = v128.load(pc, 160); c11 = v128.load(pc, 176);
  }
  for (const end = pa + ((<usize>k) << 2); pa < end; pa += 4) {
    const av = v128.load32_splat(pa);
    c0 = madd(av, v128.load(pb), c0);
    c1 = madd(av, v128.load(pb, 16), c1);
    c2 = madd(av, v128.load(pb, 32), c2);
    c3 = madd(av, v128.load(pb, 48), c3);
    c4 = madd(av, v128.load(pb, 64), c4);
    c5 = madd(av, v128.load(pb, 80), c5);
    c6 = madd(av, v128.load(pb, 96), c6);
    c7 = madd(av, v128.load(pb, 112), c7);
    c8 = madd(av, v128.load(pb, 128), c8);
    c9 = madd(av, v128.load(pb, 144), c9);
    c10 = madd(av, v128.load(pb, 160), c10);
    c11 = madd(av, v128.load(pb, 176), c11);
    pb += sb;
  }
  v128.store(pc, c0); v128.store(pc, c1, 16); v128.store(pc, c2, 32); v128.store(pc, c3, 48);
  v128.store(pc, c4, 64); v128.store(pc, c5, 80); v128.store(pc, c6, 96); v128.store(pc, c7, 112);
  v128.store(pc, c8, 128); v128.store(pc, c9, 144); v128.store(pc, c10, 160); v128.store(pc, c11, 176);
}

function tile1x32(k: i32, pa: usize, pb: usize, sb: usize, pc: usize, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  if (acc) {
    c0 = v128.load(pc); c1 = v128.load(pc, 16); c2 = v128.load(pc, 32); c3 = v128.load(pc, 48);
    c4 = v128.load(pc, 64); c5 = v128.load(pc, 80); c6 = v128.load(pc, 96); c7 = v128.load(pc, 112);
  }
  for (const end = pa + ((<usize>k) << 2); pa < end; pa += 4) {
    const av = v128.load32_splat(pa);
    c0 = madd(av, v128.load(pb), c0);
    c1 = madd(av, v128.load(pb, 16), c1);
    c2 = madd(av, v128.load(pb, 32), c2);
    c3 = madd(av, v128.load(pb, 48), c3);
    c4 = madd(av, v128.load(pb, 64), c4);
    c5 = madd(av, v128.load(pb, 80), c5);
    c6 = madd(av, v128.load(pb, 96), c6);
    c7 = madd(av, v128.load(pb, 112), c7);
    pb += sb;
  }
  v128.store(pc, c0); v128.store(pc, c1, 16); v128.store(pc, c2, 32); v128.store(pc, c3, 48);
  v128.store(pc, c4, 64); v128.store(pc, c5, 80); v128.store(pc, c6, 96); v128.store(pc, c7, 112);
}

function tile1x16(k: i32, pa: usize, pb: usize, sb: usize, pc: usize, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  if (acc) {
    c0 = v128.load(pc); c1 = v128.load(pc, 16); c2 = v128.load(pc, 32); c3 = v128.load(pc, 48);
  }
  for (const end = pa + ((<usize>k) << 2); pa < end; pa += 4) {
    const av = v128.load32_splat(pa);
    c0 = madd(av, v128.load(pb), c0);
    c1 = madd(av, v128.load(pb, 16), c1);
    c2 = madd(av, v128.load(pb, 32), c2);
    c3 = madd(av, v128.load(pb, 48), c3);
    pb += sb;
  }
  v128.store(pc, c0); v128.store(pc, c1, 16); v128.store(pc, c2, 32); v128.store(pc, c3, 48);
}

function tile1x8(k: i32, pa: usize, pb: usize, sb: usize, pc: usize, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  if (acc) {
    c0 = v128.load(pc); c1 = v128.load(pc, 16);
  }
  for (const end = pa + ((<usize>k) << 2); pa < end; pa += 4) {
    const av = v128.load32_splat(pa);
    c0 = madd(av, v128.load(pb), c0);
    c1 = madd(av, v128.load(pb, 16), c1);
    pb += sb;
  }
  v128.store(pc, c0); v128.store(pc, c1, 16);
}

function tile1x4(k: i32, pa: usize, pb: usize, sb: usize, pc: usize, acc: bool): void {
  let c0 = f32x4.splat(0);
  if (acc) {
    c0 = v128.load(pc);
  }
  for (const end = pa + ((<usize>k) << 2); pa < end; pa += 4) {
    const av = v128.load32_splat(pa);
    c0 = madd(av, v128.load(pb), c0);
    pb += sb;
  }
  v128.store(pc, c0);
}

const TILE_5X8: Tile = tile5x8;
const TILE_5X4: Tile = tile5x4;
const TILE_4X8: Tile = tile4x8;
const TILE_4X4: Tile = tile4x4;
const TILE_2X16: Tile = tile2x16;
const TILE_2X8: Tile = tile2x8;
const TILE_2X4: Tile = tile2x4;
const TILE_1X64: RowTile = tile1x64;
const TILE_1X48: RowTile = tile1x48;
const TILE_1X32: RowTile = tile1x32;
const TILE_1X16: RowTile = tile1x16;
const TILE_1X8: RowTile = tile1x8;
const TILE_1X4: RowTile = tile1x4;

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

/**
 * One row of C: a matrix-vector product. The widest tiles (twelve and sixteen accumulators) cover as much
 * of the row as they can: as many 48-column tiles as leave a multiple of 64 columns, then 64-column tiles
 * (n = 256: 64 + 4 x 48, n = 128: 2 x 64), else 48-column tiles and narrower ones for the rest. In
 * paired timings of 1x128x256 and 1x80x128 these splits beat 48s alone and 64s alone by ~5% each
 * (the 64-column tile spills a few accumulators; a narrow last tile costs more than that).
 */
function gemmRow(n: i32, k: i32, pa: usize, pb: usize, sb: usize, pc: usize, acc: bool): void {
  let n48 = n / 48;
  while (n48 > 0 && (n - 48 * n48) % 64 != 0) n48--;
  let n64 = (n - 48 * n48) / 64;
  if ((n - 48 * n48) % 64 != 0) {
    // no exact cover by 48s and 64s
    n48 = n / 48;
    n64 = 0;
  }
  let j = 0;
  for (; n64 > 0; n64--, j += 64) TILE_1X64(k, pa, pb + ((<usize>j) << 2), sb, pc + ((<usize>j) << 2), acc);
  for (; n48 > 0; n48--, j += 48) TILE_1X48(k, pa, pb + ((<usize>j) << 2), sb, pc + ((<usize>j) << 2), acc);
  if (j + 32 <= n) {
    TILE_1X32(k, pa, pb + ((<usize>j) << 2), sb, pc + ((<usize>j) << 2), acc);
    j += 32;
  }
  if (j + 16 <= n) {
    TILE_1X16(k, pa, pb + ((<usize>j) << 2), sb, pc + ((<usize>j) << 2), acc);
    j += 16;
  }
  if (j + 8 <= n) {
    TILE_1X8(k, pa, pb + ((<usize>j) << 2), sb, pc + ((<usize>j) << 2), acc);
    j += 8;
  }
  if (j + 4 <= n) {
    TILE_1X4(k, pa, pb + ((<usize>j) << 2), sb, pc + ((<usize>j) << 2), acc);
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
    for (; j + 8 <= n; j += 8) TILE_4X8(k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
    if (j + 4 <= n) {
      TILE_4X4(k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
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
    for (; j + 16 <= n; j += 16) TILE_2X16(k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
    if (j + 8 <= n) {
      TILE_2X8(k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
      j += 8;
    }
    if (j + 4 <= n) {
      TILE_2X4(k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
      j += 4;
    }
    if (j < n) tailColumns(2, n - j, k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
  }
  if (i < m) gemmRow(n, k, pa + (<usize>i) * sa, pb, sb, pc + (<usize>i) * sc, acc);
}

function gemmBlock5x8(m: i32, n: i32, k: i32, pa: usize, sa: usize, pb: usize, sb: usize, pc: usize, sc: usize, acc: bool): void {
  let i = 0;
  for (; i + 5 <= m; i += 5) {
    const a = pa + (<usize>i) * sa;
    const c = pc + (<usize>i) * sc;
    let j = 0;
    for (; j + 8 <= n; j += 8) TILE_5X8(k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
    if (j + 4 <= n) {
      TILE_5X4(k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
      j += 4;
    }
    if (j < n) tailColumns(5, n - j, k, a, sa, pb + ((<usize>j) << 2), sb, c + ((<usize>j) << 2), sc, acc);
  }
  if (i < m) gemmBlock2x16(m - i, n, k, pa + (<usize>i) * sa, sa, pb, sb, pc + (<usize>i) * sc, sc, acc);
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
    else if (family == 1) gemmBlock2x16(m, n, kk, pa, sa, pb, sb, pc, sc, acc);
    else gemmBlock5x8(m, n, kk, pa, sa, pb, sb, pc, sc, acc);
    p0 += kc;
  } while (p0 < k);
}

/** Panel depth for the k split: 128 x 2048 x 256 ran ~15-30% faster split (bench/gemm.ts). */
// @ts-ignore: decorator
@inline const KC: i32 = 256;

// ---- cache blocking with a packed B ----------------------------------------------------------------
//
// Unpacked, a 5x8 tile reads its eight columns of B one row at a time, ldb floats apart: for a wide B
// (the 256/512 CfC heads: 512 x 1024, rows 4 KB apart) every k step lands on a new page, the hardware
// prefetcher (which stops at page boundaries) cannot follow, and the whole k x n panel of B, too big
// for L2, is streamed again from L3 for every five rows of A. Packing copies a KC x NC block of B
// once into a static buffer as consecutive 8-column panels (row p of panel t at PACK + (t kk + p) 8),
// so every tile streams 32 contiguous bytes per k step from a block that stays in L2 while all the
// row groups of A pass over it. The copy costs one read and one write of the block, repaid once A has
// a few row groups (see PACK_MIN_ROWS).

/** Columns of B per packed block: KC x NC floats = 256 KB, half of this CPU's per-core L2. */
// @ts-ignore: decorator
@inline const NC: i32 = 256;
/** The packed block (static, so no allocator is involved; each engine instance has its own). */
const PACK: usize = memory.data(KC * NC * 4, 64);

/** Below this many rows of A the copy is not repaid (see bench/gemm.ts). */
// @ts-ignore: decorator
@inline const PACK_MIN_ROWS: i32 = 16;
/**
 * Below this many floats in B (k x n) unpacked tiles were as fast (64 x 128 x 256 ran ~20% slower
 * packed at 64 rows, 2048 x 128 x 256 ~30% faster: with many rows the copy costs nothing).
 */
// @ts-ignore: decorator
@inline const PACK_MIN_B: i32 = 65536;
// @ts-ignore: decorator
@inline const PACK_MIN_B_MANY_ROWS: i32 = 16384;
// @ts-ignore: decorator
@inline const MANY_ROWS: i32 = 256;

/** Copies the n8 (a multiple of 8) columns of B's kk rows to `to` as 8-column panels. */
function packB(kk: i32, n8: i32, pb: usize, sb: usize, to: usize): void {
  const panelBytes = (<usize>kk) << 5;
  for (let p = 0; p < kk; p++) {
    const src = pb + (<usize>p) * sb;
    let dst = to + ((<usize>p) << 5);
    for (let j = 0; j < n8; j += 8) {
      v128.store(dst, v128.load(src + ((<usize>j) << 2)));
      v128.store(dst, v128.load(src + ((<usize>j) << 2), 16), 16);
      dst += panelBytes;
    }
  }
}

/**
 * C[0..m, 0..n8) (+)= A . packed B (its panels from panels0) for one KC block. Rows go five at a time (5x8 tiles) and, so that no
 * rows are left for the narrow 2x8 tile (a third of the 5x8 tile's rate), the last m mod 5 groups of
 * five become groups of four (4x8 tiles): m = 64 is 12 x 5 + 4, m = 63 is 11 x 5 + 2 x 4. Only m below
 * 16 (or 7, 11) leaves one to three rows for 2x8 and 1x8 tiles.
 */
function gemmPackedBlock(m: i32, n8: i32, kk: i32, pa: usize, sa: usize, panels0: usize, pc: usize, sc: usize, acc: bool): void {
  const panelBytes = (<usize>kk) << 5;
  const panels = n8 >> 3;
  // 4 fours = m (mod 5): 0, 4, 3, 2, 1 groups of four for m mod 5 = 0, 1, 2, 3, 4
  let fours = (4 * (m % 5)) % 5;
  if (4 * fours > m) fours = 0;
  const fives = (m - 4 * fours) / 5;
  let i = 0;
  for (let g = 0; g < fives; g++, i += 5) {
    const a = pa + (<usize>i) * sa;
    const c = pc + (<usize>i) * sc;
    for (let t = 0; t < panels; t++) TILE_5X8(kk, a, sa, panels0 + (<usize>t) * panelBytes, 32, c + ((<usize>t) << 5), sc, acc);
  }
  for (let g = 0; g < fours; g++, i += 4) {
    const a = pa + (<usize>i) * sa;
    const c = pc + (<usize>i) * sc;
    for (let t = 0; t < panels; t++) TILE_4X8(kk, a, sa, panels0 + (<usize>t) * panelBytes, 32, c + ((<usize>t) << 5), sc, acc);
  }
  for (; i + 2 <= m; i += 2) {
    const a = pa + (<usize>i) * sa;
    const c = pc + (<usize>i) * sc;
    for (let t = 0; t < panels; t++) TILE_2X8(kk, a, sa, panels0 + (<usize>t) * panelBytes, 32, c + ((<usize>t) << 5), sc, acc);
  }
  if (i < m) {
    const a = pa + (<usize>i) * sa;
    const c = pc + (<usize>i) * sc;
    for (let t = 0; t < panels; t++) TILE_1X8(kk, a, panels0 + (<usize>t) * panelBytes, 32, c + ((<usize>t) << 5), acc);
  }
}

/**
 * gemm with B packed block by block (k in panels of KC, n in blocks of NC); the last n mod 8 columns
 * go through the unpacked tiles. Each C element still sums in k order from its initial value.
 */
function gemmPacked(m: i32, n: i32, k: i32, a: i32, lda: i32, b: i32, ldb: i32, c: i32, ldc: i32, accumulate: bool): void {
  const sa = (<usize>lda) << 2;
  const sb = (<usize>ldb) << 2;
  const sc = (<usize>ldc) << 2;
  const n8 = n & ~7;
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kk = min(KC, k - p0);
    const pa = at(a + p0);
    const pb = at(b + p0 * ldb);
    const acc = accumulate || p0 > 0;
    for (let j0 = 0; j0 < n8; j0 += NC) {
      const nn = min(NC, n8 - j0);
      packB(kk, nn, pb + ((<usize>j0) << 2), sb, PACK);
      gemmPackedBlock(m, nn, kk, pa, sa, PACK, at(c + j0), sc, acc);
    }
    if (n8 < n) gemmBlock5x8(m, n - n8, kk, pa, sa, pb + ((<usize>n8) << 2), sb, at(c + n8), sc, acc);
  }
}

export function gemm(m: i32, n: i32, k: i32, a: i32, lda: i32, b: i32, ldb: i32, c: i32, ldc: i32, accumulate: bool): void {
  if (m >= PACK_MIN_ROWS && n >= 8 && k * n >= (m >= MANY_ROWS ? PACK_MIN_B_MANY_ROWS : PACK_MIN_B)) gemmPacked(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
  else gemmWith(m >= 5 ? 2 : 1, KC, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

// ---- B packed ahead of time (a layer's weights, packed once per pass, used at every time step) -------
//
// The whole of B in the packed layout, block after block as gemmPacked copies them: the block of rows
// [p0, p0 + KC) and columns [j0, j0 + NC) starts at p0 n8 + j0 kk floats (kk its number of rows), so
// k x n8 floats in all; the last n mod 8 columns are read from B itself.

/** Packs B (k x n, ld ldb) into `packed` (k x (n & ~7) floats): see Engine.packB. */
export function packMatrix(k: i32, n: i32, b: i32, ldb: i32, packed: i32): void {
  const sb = (<usize>ldb) << 2;
  const n8 = n & ~7;
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kk = min(KC, k - p0);
    for (let j0 = 0; j0 < n8; j0 += NC) {
      packB(kk, min(NC, n8 - j0), at(b + p0 * ldb + j0), sb, at(packed + p0 * n8 + j0 * kk));
    }
  }
}

/** Rows of A from which the packed panels beat the row tiles that stream B itself (a few rows: always). */
// @ts-ignore: decorator
@inline const PREPACKED_MIN_ROWS: i32 = 4;

/** gemm with B given also in packMatrix's layout: see Engine.gemmPrepacked. */
export function gemmPrepacked(m: i32, n: i32, k: i32, a: i32, lda: i32, packed: i32, b: i32, ldb: i32, c: i32, ldc: i32, accumulate: bool): void {
  if (m < PREPACKED_MIN_ROWS || n < 8) {
    gemmWith(m >= 5 ? 2 : 1, KC, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    return;
  }
  const sa = (<usize>lda) << 2;
  const sb = (<usize>ldb) << 2;
  const sc = (<usize>ldc) << 2;
  const n8 = n & ~7;
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kk = min(KC, k - p0);
    const pa = at(a + p0);
    const acc = accumulate || p0 > 0;
    for (let j0 = 0; j0 < n8; j0 += NC) {
      gemmPackedBlock(m, min(NC, n8 - j0), kk, pa, sa, at(packed + p0 * n8 + j0 * kk), at(c + j0), sc, acc);
    }
    if (n8 < n) gemmBlock5x8(m, n - n8, kk, pa, sa, at(b + p0 * ldb + n8), sb, at(c + n8), sc, acc);
  }
}

/** The packed path whatever the size (for bench/gemm.ts and the tests). */
export function gemmPackedAlways(m: i32, n: i32, k: i32, a: i32, lda: i32, b: i32, ldb: i32, c: i32, ldc: i32, accumulate: bool): void {
  gemmPacked(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

/** The unpacked path whatever the size (for bench/gemm.ts and the tests). */
export function gemmUnpacked(m: i32, n: i32, k: i32, a: i32, lda: i32, b: i32, ldb: i32, c: i32, ldc: i32, accumulate: bool): void {
  gemmWith(m >= 5 ? 2 : 1, KC, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

/** The 4x8 tile family alone (for bench/gemm.ts), with k panels of `kc`. */
export function gemmTiles4x8(m: i32, n: i32, k: i32, a: i32, lda: i32, b: i32, ldb: i32, c: i32, ldc: i32, accumulate: bool, kc: i32): void {
  gemmWith(0, kc, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

/** The 2x16 tile family alone (for bench/gemm.ts), with k panels of `kc`. */
export function gemmTiles2x16(m: i32, n: i32, k: i32, a: i32, lda: i32, b: i32, ldb: i32, c: i32, ldc: i32, accumulate: bool, kc: i32): void {
  gemmWith(1, kc, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}

/** The 5x8 tile family (remaining rows by 2x16) alone (for bench/gemm.ts), with k panels of `kc`. */
export function gemmTiles5x8(m: i32, n: i32, k: i32, a: i32, lda: i32, b: i32, ldb: i32, c: i32, ldc: i32, accumulate: bool, kc: i32): void {
  gemmWith(2, kc, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
}
