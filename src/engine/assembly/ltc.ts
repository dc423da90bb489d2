// LTC kernels (engine.ts, "LTC" section): softplus, the input/output maps, the sensory synapse sums and
// the fused ODE solver, forward and backward. Synapse matrices are [source, destination] with row stride
// `units`.
//
// Nearly all the time goes into the synapses: rows x units^2 sigmoids per ODE sub-step, once in the
// forward pass and once more in the backward pass, which recomputes them rather than storing K x units^2
// values per row. So the solver kernels
//  - copy the synapse parameters once per call into a "pack" in their scratch: 16-byte vectors of four
//    destinations, one block per (source, four destinations), so an inner loop reads a single stream
//    at constant offsets, with constants folded in (sigma * -log2 e: the sigmoid needs no extra multiply);
//  - run two batch rows through each block, which halves the parameter loads and, in the backward pass,
//    the read-modify-writes of the gradient accumulators (kept in the pack for the whole call);
//  - in the backward pass, compute the sigmoids of a sub-step into a buffer first and the gradients in a
//    second loop: V8 spills and stalls on one large loop doing both (measured ~30% slower);
//  - take the sigmoid from 2^f by its [3/3] Pade approximant (sigmoidOfLog2), cheaper than approx.ts's
//    sigmoidV and as accurate in absolute terms, which is what a sum of synapse activities needs.
// The sensory kernels have no scratch; they run two rows at a time straight from the matrices.
import { at, hsum, loadN, storeN } from "./memory";
import { expV } from "./approx";

/** torch Softplus threshold (beta 1): above it the input passes through. */
// @ts-ignore: decorator
@inline const SOFTPLUS_THRESHOLD: f32 = 20.0;

export function ltcSoftplus(n: i32, x: i32, y: i32): void {
  // log1p has no vector form here, and this runs once per forward over the weights only.
  const px = at(x);
  const py = at(y);
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 2;
    const v = load<f32>(px + o);
    store<f32>(py + o, v > SOFTPLUS_THRESHOLD ? v : Mathf.log1p(Mathf.exp(v)));
  }
}

// @ts-ignore: decorator
@inline function softplusGradChunk(px: usize, pdy: usize, pdx: usize, count: i32): void {
  const v = loadN(px, count);
  const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expV(f32x4.neg(v))));
  const g = v128.bitselect(f32x4.splat(1), s, f32x4.gt(v, f32x4.splat(SOFTPLUS_THRESHOLD)));
  storeN(pdx, f32x4.mul(loadN(pdy, count), g), count);
}

export function ltcSoftplusBackward(n: i32, x: i32, dy: i32, dx: i32): void {
  const body = n & ~3;
  for (let i = 0; i < body; i += 4) {
    const o = (<usize>i) << 2;
    softplusGradChunk(at(x) + o, at(dy) + o, at(dx) + o, 4);
  }
  if (n > body) {
    const o = (<usize>body) << 2;
    softplusGradChunk(at(x) + o, at(dy) + o, at(dx) + o, n - body);
  }
}

// Optional operands are flagged explicitly (never by address 0) so the kernels hold for any heap layout.

// @ts-ignore: decorator
@inline function mapChunk(px: usize, hasW: bool, pw: usize, hasB: bool, pb: usize, py: usize, count: i32): void {
  let v = loadN(px, count);
  if (hasW) v = f32x4.mul(v, loadN(pw, count));
  if (hasB) v = f32x4.add(v, loadN(pb, count));
  storeN(py, v, count);
}

export function ltcMap(rows: i32, cols: i32, x: i32, ldx: i32, w: i32, b: i32, y: i32, ldy: i32): void {
  const hasW = w >= 0;
  const hasB = b >= 0;
  const pw = at(hasW ? w : 0);
  const pb = at(hasB ? b : 0);
  const body = cols & ~3;
  const rest = cols - body;
  for (let r = 0; r < rows; r++) {
    const px = at(x + r * ldx);
    const py = at(y + r * ldy);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      mapChunk(px + o, hasW, pw + o, hasB, pb + o, py + o, 4);
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      mapChunk(px + o, hasW, pw + o, hasB, pb + o, py + o, rest);
    }
  }
}

// @ts-ignore: decorator
@inline function mapBackwardChunk(px: usize, hasW: bool, pw: usize, pdy: usize, hasDx: bool, pdx: usize, hasDw: bool, pdw: usize, hasDb: bool, pdb: usize, count: i32): void {
  const g = loadN(pdy, count);
  if (hasDx) storeN(pdx, f32x4.add(loadN(pdx, count), hasW ? f32x4.mul(g, loadN(pw, count)) : g), count);
  if (hasDw) storeN(pdw, f32x4.add(loadN(pdw, count), f32x4.mul(g, loadN(px, count))), count);
  if (hasDb) storeN(pdb, f32x4.add(loadN(pdb, count), g), count);
}

export function ltcMapBackward(rows: i32, cols: i32, x: i32, ldx: i32, w: i32, dy: i32, ldDy: i32, dx: i32, ldDx: i32, dw: i32, db: i32): void {
  const hasW = w >= 0;
  const hasDx = dx >= 0;
  const hasDw = dw >= 0;
  const hasDb = db >= 0;
  const pw = at(hasW ? w : 0);
  const pdw = at(hasDw ? dw : 0);
  const pdb = at(hasDb ? db : 0);
  const body = cols & ~3;
  const rest = cols - body;
  for (let r = 0; r < rows; r++) {
    const px = at(x + r * ldx);
    const pdy = at(dy + r * ldDy);
    const pdx = at(hasDx ? dx + r * ldDx : 0);
    for (let j = 0; j < body; j += 4) {
      const o = (<usize>j) << 2;
      mapBackwardChunk(px + o, hasW, pw + o, pdy + o, hasDx, pdx + o, hasDw, pdw + o, hasDb, pdb + o, 4);
    }
    if (rest > 0) {
      const o = (<usize>body) << 2;
      mapBackwardChunk(px + o, hasW, pw + o, pdy + o, hasDx, pdx + o, hasDw, pdw + o, hasDb, pdb + o, rest);
    }
  }
}

// ---- the synapse sigmoid ---------------------------------------------------------------------------
// sigmoid(z) = 1 / (1 + 2^y) with y = -z log2(e), clamped to [-125, 125] (where the sigmoid is 0 or 1 to
// float32 precision and 2^y times the factor below stays a normal number). y = n + f with n an integer
// and |f| <= 1/2; 2^f = P(f) / P(-f) with P(f) = 1 + c1 f + c2 f^2 + c3 f^3, the [3/3] Pade approximant
// of exp(f ln 2) (relative error < 1e-8 on the range), so
//   sigmoid = P(-f) / (P(-f) + 2^n P(f)).
// In float32 the result is within 1e-7 of the true sigmoid (absolute; s - s^2 within 1.2e-7), checked
// against float64 over a dense grid of z in [-100, 100]: the accuracy of a float32 sigmoid computed from
// a correctly rounded exp.

// @ts-ignore: decorator
@inline const NEG_LOG2E: f32 = -1.4426950408889634;
// @ts-ignore: decorator
@inline const NEG_LN2: f32 = -0.6931471805599453;
// @ts-ignore: decorator
@inline const EXP2_LIMIT: f32 = 125.0;
/**
 * 1.5 * 2^23 + 127: added to an integer n (|n| < 2^22) it leaves n plus the float32 exponent bias in
 * the low mantissa bits, ready to be shifted into an exponent field.
 */
// @ts-ignore: decorator
@inline const ROUND_MAGIC_BIASED: f32 = 12583039.0;
/** ln 2 / 2, (ln 2)^2 / 10, (ln 2)^3 / 120 */
// @ts-ignore: decorator
@inline const PADE_C1: f32 = 0.34657359027997264;
// @ts-ignore: decorator
@inline const PADE_C2: f32 = 0.04804530139182014;
// @ts-ignore: decorator
@inline const PADE_C3: f32 = 0.0027752054332410786;

/**
 * The sigmoid's constants, each in all four lanes, read from memory where they are used: V8 does not
 * hoist vector constants out of loops but rebuilds each from an immediate (three instructions) at every
 * use, whereas a load is one instruction and holds no register across the loop.
 */
const SIGMOID_CONSTANTS: usize = memory.data<f32>([
  -EXP2_LIMIT, -EXP2_LIMIT, -EXP2_LIMIT, -EXP2_LIMIT,
  EXP2_LIMIT, EXP2_LIMIT, EXP2_LIMIT, EXP2_LIMIT,
  ROUND_MAGIC_BIASED, ROUND_MAGIC_BIASED, ROUND_MAGIC_BIASED, ROUND_MAGIC_BIASED,
  PADE_C2, PADE_C2, PADE_C2, PADE_C2,
  1, 1, 1, 1,
  PADE_C3, PADE_C3, PADE_C3, PADE_C3,
  PADE_C1, PADE_C1, PADE_C1, PADE_C1,
], 16);

/** 1 / (1 + 2^y) per lane, i.e. the sigmoid of -y ln 2. */
// @ts-ignore: decorator
@inline function sigmoidOfLog2(y: v128): v128 {
  const c = SIGMOID_CONSTANTS;
  const yc = f32x4.pmin(f32x4.pmax(y, v128.load(c)), v128.load(c, 16));
  // n = round(yc); k = n + ROUND_MAGIC_BIASED (exact) holds n + 127 in its low mantissa bits
  const n = f32x4.nearest(yc);
  const k = f32x4.add(n, v128.load(c, 32));
  const f = f32x4.sub(yc, n);
  const f2 = f32x4.mul(f, f);
  const even = f32x4.add(f32x4.mul(v128.load(c, 48), f2), v128.load(c, 64));
  const odd = f32x4.mul(f32x4.add(f32x4.mul(v128.load(c, 80), f2), v128.load(c, 96)), f);
  const pNeg = f32x4.sub(even, odd);
  // the low bits of k shifted into the exponent field make 2^n
  const scaledPos = f32x4.mul(f32x4.add(even, odd), i32x4.shl(k, 23));
  return f32x4.div(pNeg, f32x4.add(scaledPos, pNeg));
}

// ---- packed synapse parameters ---------------------------------------------------------------------
// A sources x units parameter set is copied into blocks of four destinations ("chunks"); lanes past
// `units` are zero (w = 0), so their synapses contribute nothing.

// @ts-ignore: decorator
@inline const FWD_BLOCK: usize = 64;
// @ts-ignore: decorator
@inline const BWD_BLOCK: usize = 128;
/** Bytes per block of the backward pass's sigmoid buffer: one vector for each of two rows. */
// @ts-ignore: decorator
@inline const SIG_BLOCK: usize = 32;

/**
 * Forward pack, chunk-major: for chunk c and source i the block at pack + (c * sources + i) * 64 holds
 * [sigma * -log2 e | mu | w | wErev] of destinations 4c..4c+3.
 */
function packForward(sources: i32, units: i32, sigma: usize, mu: usize, w: usize, wErev: usize, pack: usize): void {
  const chunks = (units + 3) >> 2;
  const rowBytes = (<usize>units) << 2;
  let p = pack;
  for (let c = 0; c < chunks; c++) {
    const count = min(4, units - (c << 2));
    let o = (<usize>c) << 4;
    for (let i = 0; i < sources; i++) {
      v128.store(p, f32x4.mul(loadN(sigma + o, count), f32x4.splat(NEG_LOG2E)));
      v128.store(p, loadN(mu + o, count), 16);
      v128.store(p, loadN(w + o, count), 32);
      v128.store(p, loadN(wErev + o, count), 48);
      p += FWD_BLOCK;
      o += rowBytes;
    }
  }
}

/**
 * Backward pack, source-major: for source i and chunk c the block at pack + (i * chunks + c) * 128 holds
 * [sigma * -log2 e | mu | w * -ln 2 | w erev * -ln 2] and four accumulators [P | Q | S | M], zeroed (see
 * packedBackward). With both factors scaled, the gradient of the scaled argument y times the scaled
 * sigma is the gradient of the true one (-ln 2 * -log2 e = 1).
 */
function packBackward(sources: i32, units: i32, sigma: usize, mu: usize, w: usize, erev: usize, pack: usize): void {
  const chunks = (units + 3) >> 2;
  let p = pack;
  for (let i = 0; i < sources; i++) {
    const row = (<usize>(i * units)) << 2;
    for (let c = 0; c < chunks; c++) {
      const count = min(4, units - (c << 2));
      const o = row + ((<usize>c) << 4);
      const wScaled = f32x4.mul(loadN(w + o, count), f32x4.splat(NEG_LN2));
      v128.store(p, f32x4.mul(loadN(sigma + o, count), f32x4.splat(NEG_LOG2E)));
      v128.store(p, loadN(mu + o, count), 16);
      v128.store(p, wScaled, 32);
      v128.store(p, f32x4.mul(wScaled, loadN(erev + o, count)), 48);
      v128.store(p, f32x4.splat(0), 64);
      v128.store(p, f32x4.splat(0), 80);
      v128.store(p, f32x4.splat(0), 96);
      v128.store(p, f32x4.splat(0), 112);
      p += BWD_BLOCK;
    }
  }
}

/**
 * Adds the accumulators of a backward pack to the caller's matrices: accP += P, accQ += Q,
 * dSigma += S * -log2 e (S was summed against the scaled argument), dMu -= M.
 */
function unpackBackward(sources: i32, units: i32, pack: usize, accP: usize, accQ: usize, dSigma: usize, dMu: usize): void {
  const chunks = (units + 3) >> 2;
  let p = pack;
  for (let i = 0; i < sources; i++) {
    const row = (<usize>(i * units)) << 2;
    for (let c = 0; c < chunks; c++) {
      const count = min(4, units - (c << 2));
      const o = row + ((<usize>c) << 4);
      storeN(accP + o, f32x4.add(loadN(accP + o, count), v128.load(p, 64)), count);
      storeN(accQ + o, f32x4.add(loadN(accQ + o, count), v128.load(p, 80)), count);
      storeN(dSigma + o, f32x4.add(loadN(dSigma + o, count), f32x4.mul(v128.load(p, 96), f32x4.splat(NEG_LOG2E))), count);
      storeN(dMu + o, f32x4.sub(loadN(dMu + o, count), v128.load(p, 112)), count);
      p += BWD_BLOCK;
    }
  }
}

// ---- synapse sums (forward) ------------------------------------------------------------------------

/** sigmoid(sigma (v - mu)) of the forward or backward pack block at p, v the source value at src. */
// @ts-ignore: decorator
@inline function blockSigmoid(p: usize, src: usize): v128 {
  return sigmoidOfLog2(f32x4.mul(v128.load(p), f32x4.sub(v128.load32_splat(src), v128.load(p, 16))));
}

/**
 * Synapse sums of one or (when `two`) two rows from a forward pack: num = sum_i wErev s and
 * den = sum_i w s for every destination, with s = sigmoid(sigma (src_i - mu)). src0/src1 hold `sources`
 * values; num/den are padded to whole chunks. The source loop takes two at a time: V8 spends ~8
 * instructions per iteration on the loop itself (measured: unrolled 10-15% faster).
 */
// @ts-ignore: decorator
@inline function packedSums(two: bool, pack: usize, sources: i32, chunks: i32, src0: usize, src1: usize, num0: usize, den0: usize, num1: usize, den1: usize): void {
  let p = pack;
  for (let c = 0; c < chunks; c++) {
    let n0 = f32x4.splat(0);
    let d0 = f32x4.splat(0);
    let n1 = f32x4.splat(0);
    let d1 = f32x4.splat(0);
    let a = src0;
    let b = src1;
    let i = 0;
    for (; i + 1 < sources; i += 2) {
      let s0 = blockSigmoid(p, a);
      n0 = f32x4.add(n0, f32x4.mul(v128.load(p, 48), s0));
      d0 = f32x4.add(d0, f32x4.mul(v128.load(p, 32), s0));
      if (two) {
        const s1 = blockSigmoid(p, b);
        n1 = f32x4.add(n1, f32x4.mul(v128.load(p, 48), s1));
        d1 = f32x4.add(d1, f32x4.mul(v128.load(p, 32), s1));
      }
      const q = p + FWD_BLOCK;
      s0 = blockSigmoid(q, a + 4);
      n0 = f32x4.add(n0, f32x4.mul(v128.load(q, 48), s0));
      d0 = f32x4.add(d0, f32x4.mul(v128.load(q, 32), s0));
      if (two) {
        const s1 = blockSigmoid(q, b + 4);
        n1 = f32x4.add(n1, f32x4.mul(v128.load(q, 48), s1));
        d1 = f32x4.add(d1, f32x4.mul(v128.load(q, 32), s1));
      }
      p += 2 * FWD_BLOCK;
      a += 8;
      b += 8;
    }
    if (i < sources) {
      const s0 = blockSigmoid(p, a);
      n0 = f32x4.add(n0, f32x4.mul(v128.load(p, 48), s0));
      d0 = f32x4.add(d0, f32x4.mul(v128.load(p, 32), s0));
      if (two) {
        const s1 = blockSigmoid(p, b);
        n1 = f32x4.add(n1, f32x4.mul(v128.load(p, 48), s1));
        d1 = f32x4.add(d1, f32x4.mul(v128.load(p, 32), s1));
      }
      p += FWD_BLOCK;
    }
    const co = (<usize>c) << 4;
    v128.store(num0 + co, n0);
    v128.store(den0 + co, d0);
    if (two) {
      v128.store(num1 + co, n1);
      v128.store(den1 + co, d1);
    }
  }
}

function packedSums2(pack: usize, sources: i32, chunks: i32, src0: usize, src1: usize, num0: usize, den0: usize, num1: usize, den1: usize): void {
  packedSums(true, pack, sources, chunks, src0, src1, num0, den0, num1, den1);
}

function packedSums1(pack: usize, sources: i32, chunks: i32, src: usize, num: usize, den: usize): void {
  packedSums(false, pack, sources, chunks, src, src, num, den, num, den);
}

/**
 * Sensory synapse sums of one or two rows for four (or `count`) destinations, straight from the
 * parameter matrices (row stride `stride` bytes).
 */
// @ts-ignore: decorator
@inline function sensorySumsChunk(two: bool, src0: usize, src1: usize, sources: i32, stride: usize, w: usize, wErev: usize, sigma: usize, mu: usize, num0: usize, den0: usize, num1: usize, den1: usize, count: i32): void {
  let n0 = f32x4.splat(0);
  let d0 = f32x4.splat(0);
  let n1 = f32x4.splat(0);
  let d1 = f32x4.splat(0);
  let o: usize = 0;
  for (let i = 0; i < sources; i++) {
    const io = (<usize>i) << 2;
    const sg = f32x4.mul(loadN(sigma + o, count), f32x4.splat(NEG_LOG2E));
    const muv = loadN(mu + o, count);
    const we = loadN(wErev + o, count);
    const wv = loadN(w + o, count);
    const s0 = sigmoidOfLog2(f32x4.mul(sg, f32x4.sub(v128.load32_splat(src0 + io), muv)));
    n0 = f32x4.add(n0, f32x4.mul(we, s0));
    d0 = f32x4.add(d0, f32x4.mul(wv, s0));
    if (two) {
      const s1 = sigmoidOfLog2(f32x4.mul(sg, f32x4.sub(v128.load32_splat(src1 + io), muv)));
      n1 = f32x4.add(n1, f32x4.mul(we, s1));
      d1 = f32x4.add(d1, f32x4.mul(wv, s1));
    }
    o += stride;
  }
  storeN(num0, n0, count);
  storeN(den0, d0, count);
  if (two) {
    storeN(num1, n1, count);
    storeN(den1, d1, count);
  }
}

// @ts-ignore: decorator
@inline function sensorySums(two: bool, src0: usize, src1: usize, sources: i32, units: i32, w: usize, wErev: usize, sigma: usize, mu: usize, num0: usize, den0: usize, num1: usize, den1: usize): void {
  const stride = (<usize>units) << 2;
  const body = units & ~3;
  for (let j = 0; j < body; j += 4) {
    const o = (<usize>j) << 2;
    sensorySumsChunk(two, src0, src1, sources, stride, w + o, wErev + o, sigma + o, mu + o, num0 + o, den0 + o, num1 + o, den1 + o, 4);
  }
  if (units > body) {
    const o = (<usize>body) << 2;
    sensorySumsChunk(two, src0, src1, sources, stride, w + o, wErev + o, sigma + o, mu + o, num0 + o, den0 + o, num1 + o, den1 + o, units - body);
  }
}

export function ltcSensory(rows: i32, sources: i32, units: i32, x: i32, ldx: i32, w: i32, wErev: i32, sigma: i32, mu: i32, num: i32, den: i32): void {
  let r = 0;
  for (; r + 1 < rows; r += 2) {
    sensorySums(true, at(x + r * ldx), at(x + (r + 1) * ldx), sources, units, at(w), at(wErev), at(sigma), at(mu),
      at(num + r * units), at(den + r * units), at(num + (r + 1) * units), at(den + (r + 1) * units));
  }
  if (r < rows) {
    const n = at(num + r * units);
    const d = at(den + r * units);
    sensorySums(false, at(x + r * ldx), 0, sources, units, at(w), at(wErev), at(sigma), at(mu), n, d, n, d);
  }
}

// ---- synapse backward ------------------------------------------------------------------------------

/** The sigmoids of one or two rows over a backward pack, into sig (SIG_BLOCK bytes per block). */
// @ts-ignore: decorator
@inline function packedSigmoids(two: bool, pack: usize, sources: i32, chunks: i32, src0: usize, src1: usize, sig: usize): void {
  let p = pack;
  let q = sig;
  for (let i = 0; i < sources; i++) {
    const io = (<usize>i) << 2;
    const v0 = v128.load32_splat(src0 + io);
    const v1 = two ? v128.load32_splat(src1 + io) : v0;
    for (let c = 0; c < chunks; c++) {
      const sg = v128.load(p);
      const mu = v128.load(p, 16);
      v128.store(q, sigmoidOfLog2(f32x4.mul(sg, f32x4.sub(v0, mu))));
      if (two) v128.store(q, sigmoidOfLog2(f32x4.mul(sg, f32x4.sub(v1, mu))), 16);
      p += BWD_BLOCK;
      q += SIG_BLOCK;
    }
  }
}

/**
 * Backward of the synapse sums of one or two rows over a backward pack. For row r with presynaptic
 * values src_r, incoming gradients gn = d/d num and gd = d/d den (padded rows, zero past `units`) and
 * dz = (gn wErev + gd w) s (1 - s), the gradient of sigma (src - mu), it adds to the block accumulators
 *   P += gn s    Q += gd s    S += -ln 2 dz (src - mu)    M += dz sigma
 * and dSrc_r[i] += sum_j dz sigma. sig is scratch for the sigmoids (SIG_BLOCK bytes per block).
 */
// @ts-ignore: decorator
@inline function packedBackward(two: bool, pack: usize, sources: i32, chunks: i32, src0: usize, src1: usize, gn0: usize, gd0: usize, gn1: usize, gd1: usize, dSrc0: usize, dSrc1: usize, sig: usize): void {
  packedSigmoids(two, pack, sources, chunks, src0, src1, sig);
  let p = pack;
  let q = sig;
  for (let i = 0; i < sources; i++) {
    const io = (<usize>i) << 2;
    const v0 = v128.load32_splat(src0 + io);
    const v1 = two ? v128.load32_splat(src1 + io) : v0;
    let acc0 = f32x4.splat(0);
    let acc1 = f32x4.splat(0);
    for (let c = 0; c < chunks; c++) {
      const co = (<usize>c) << 4;
      // sg, w, we carry the scale factors of the pack; dz0 below is -ln 2 times the true dz
      const sg = v128.load(p);
      const mu = v128.load(p, 16);
      const w = v128.load(p, 32);
      const we = v128.load(p, 48);
      const diff0 = f32x4.sub(v0, mu);
      const s0 = v128.load(q);
      const n0 = v128.load(gn0 + co);
      const e0 = v128.load(gd0 + co);
      const dz0 = f32x4.mul(f32x4.add(f32x4.mul(n0, we), f32x4.mul(e0, w)), f32x4.sub(s0, f32x4.mul(s0, s0)));
      const ds0 = f32x4.mul(dz0, sg);
      acc0 = f32x4.add(acc0, ds0);
      if (two) {
        const diff1 = f32x4.sub(v1, mu);
        const s1 = v128.load(q, 16);
        const n1 = v128.load(gn1 + co);
        const e1 = v128.load(gd1 + co);
        const dz1 = f32x4.mul(f32x4.add(f32x4.mul(n1, we), f32x4.mul(e1, w)), f32x4.sub(s1, f32x4.mul(s1, s1)));
        const ds1 = f32x4.mul(dz1, sg);
        acc1 = f32x4.add(acc1, ds1);
        v128.store(p, f32x4.add(v128.load(p, 64), f32x4.add(f32x4.mul(n0, s0), f32x4.mul(n1, s1))), 64);
        v128.store(p, f32x4.add(v128.load(p, 80), f32x4.add(f32x4.mul(e0, s0), f32x4.mul(e1, s1))), 80);
        v128.store(p, f32x4.add(v128.load(p, 96), f32x4.add(f32x4.mul(dz0, diff0), f32x4.mul(dz1, diff1))), 96);
        v128.store(p, f32x4.add(v128.load(p, 112), f32x4.add(ds0, ds1)), 112);
      } else {
        v128.store(p, f32x4.add(v128.load(p, 64), f32x4.mul(n0, s0)), 64);
        v128.store(p, f32x4.add(v128.load(p, 80), f32x4.mul(e0, s0)), 80);
        v128.store(p, f32x4.add(v128.load(p, 96), f32x4.mul(dz0, diff0)), 96);
        v128.store(p, f32x4.add(v128.load(p, 112), ds0), 112);
      }
      p += BWD_BLOCK;
      q += SIG_BLOCK;
    }
    store<f32>(dSrc0 + io, load<f32>(dSrc0 + io) + hsum(acc0));
    if (two) store<f32>(dSrc1 + io, load<f32>(dSrc1 + io) + hsum(acc1));
  }
}

function packedBackward2(pack: usize, sources: i32, chunks: i32, src0: usize, src1: usize, gn0: usize, gd0: usize, gn1: usize, gd1: usize, dSrc0: usize, dSrc1: usize, sig: usize): void {
  packedBackward(true, pack, sources, chunks, src0, src1, gn0, gd0, gn1, gd1, dSrc0, dSrc1, sig);
}

function packedBackward1(pack: usize, sources: i32, chunks: i32, src: usize, gn: usize, gd: usize, dSrc: usize, sig: usize): void {
  packedBackward(false, pack, sources, chunks, src, src, gn, gd, gn, gd, dSrc, dSrc, sig);
}

/**
 * Per-row lane sums of d/d src in the sensory backward (two vectors). They live in the module's static
 * data, below the heap the engine allocates from, so that the chunk helper can add to both rows.
 */
const SENSORY_LANES: usize = memory.data(32, 16);

/**
 * Sensory backward of one or two rows for four (or `count`) destinations of source value(s) v0/v1,
 * accumulating straight into the caller's matrices and d/d src lanes into SENSORY_LANES.
 */
// @ts-ignore: decorator
@inline function sensoryBackwardChunk(two: bool, v0: v128, v1: v128, w: usize, erev: usize, sigma: usize, mu: usize, dn0: usize, dd0: usize, dn1: usize, dd1: usize, accP: usize, accQ: usize, dSigma: usize, dMu: usize, count: i32): void {
  const lanes = SENSORY_LANES;
  const sg = loadN(sigma, count);
  const sgScaled = f32x4.mul(sg, f32x4.splat(NEG_LOG2E));
  const muv = loadN(mu, count);
  const er = loadN(erev, count);
  const wv = loadN(w, count);
  const diff0 = f32x4.sub(v0, muv);
  const s0 = sigmoidOfLog2(f32x4.mul(sgScaled, diff0));
  const n0 = loadN(dn0, count);
  const e0 = loadN(dd0, count);
  const dz0 = f32x4.mul(f32x4.mul(f32x4.add(f32x4.mul(n0, er), e0), wv), f32x4.sub(s0, f32x4.mul(s0, s0)));
  const ds0 = f32x4.mul(dz0, sg);
  let p = f32x4.mul(n0, s0);
  let q = f32x4.mul(e0, s0);
  let sgm = f32x4.mul(dz0, diff0);
  let m = ds0;
  v128.store(lanes, f32x4.add(v128.load(lanes), ds0));
  if (two) {
    const diff1 = f32x4.sub(v1, muv);
    const s1 = sigmoidOfLog2(f32x4.mul(sgScaled, diff1));
    const n1 = loadN(dn1, count);
    const e1 = loadN(dd1, count);
    const dz1 = f32x4.mul(f32x4.mul(f32x4.add(f32x4.mul(n1, er), e1), wv), f32x4.sub(s1, f32x4.mul(s1, s1)));
    const ds1 = f32x4.mul(dz1, sg);
    p = f32x4.add(p, f32x4.mul(n1, s1));
    q = f32x4.add(q, f32x4.mul(e1, s1));
    sgm = f32x4.add(sgm, f32x4.mul(dz1, diff1));
    m = f32x4.add(m, ds1);
    v128.store(lanes, f32x4.add(v128.load(lanes, 16), ds1), 16);
  }
  storeN(accP, f32x4.add(loadN(accP, count), p), count);
  storeN(accQ, f32x4.add(loadN(accQ, count), q), count);
  storeN(dSigma, f32x4.add(loadN(dSigma, count), sgm), count);
  storeN(dMu, f32x4.sub(loadN(dMu, count), m), count);
}

/** Backward of sensorySums for one or two rows; dSrc_r[i] += d/d src_r[i]. */
// @ts-ignore: decorator
@inline function sensoryBackward(two: bool, src0: usize, src1: usize, sources: i32, units: i32, w: usize, erev: usize, sigma: usize, mu: usize, dn0: usize, dd0: usize, dn1: usize, dd1: usize, dSrc0: usize, dSrc1: usize, accP: usize, accQ: usize, dSigma: usize, dMu: usize): void {
  const lanes = SENSORY_LANES;
  const stride = (<usize>units) << 2;
  const body = units & ~3;
  let row: usize = 0;
  for (let i = 0; i < sources; i++) {
    const io = (<usize>i) << 2;
    const v0 = v128.load32_splat(src0 + io);
    const v1 = two ? v128.load32_splat(src1 + io) : v0;
    v128.store(lanes, f32x4.splat(0));
    v128.store(lanes, f32x4.splat(0), 16);
    for (let j = 0; j < body; j += 4) {
      const o = row + ((<usize>j) << 2);
      const jo = (<usize>j) << 2;
      sensoryBackwardChunk(two, v0, v1, w + o, erev + o, sigma + o, mu + o, dn0 + jo, dd0 + jo, dn1 + jo, dd1 + jo, accP + o, accQ + o, dSigma + o, dMu + o, 4);
    }
    if (units > body) {
      const o = row + ((<usize>body) << 2);
      const jo = (<usize>body) << 2;
      sensoryBackwardChunk(two, v0, v1, w + o, erev + o, sigma + o, mu + o, dn0 + jo, dd0 + jo, dn1 + jo, dd1 + jo, accP + o, accQ + o, dSigma + o, dMu + o, units - body);
    }
    store<f32>(dSrc0 + io, load<f32>(dSrc0 + io) + hsum(v128.load(lanes)));
    if (two) store<f32>(dSrc1 + io, load<f32>(dSrc1 + io) + hsum(v128.load(lanes, 16)));
    row += stride;
  }
}

export function ltcSensoryBackward(rows: i32, sources: i32, units: i32, x: i32, ldx: i32, w: i32, erev: i32, sigma: i32, mu: i32, dNum: i32, dDen: i32, dx: i32, ldDx: i32, accP: i32, accQ: i32, dSigma: i32, dMu: i32): void {
  let r = 0;
  for (; r + 1 < rows; r += 2) {
    sensoryBackward(true, at(x + r * ldx), at(x + (r + 1) * ldx), sources, units, at(w), at(erev), at(sigma), at(mu),
      at(dNum + r * units), at(dDen + r * units), at(dNum + (r + 1) * units), at(dDen + (r + 1) * units),
      at(dx + r * ldDx), at(dx + (r + 1) * ldDx), at(accP), at(accQ), at(dSigma), at(dMu));
  }
  if (r < rows) {
    const dn = at(dNum + r * units);
    const dd = at(dDen + r * units);
    const d = at(dx + r * ldDx);
    sensoryBackward(false, at(x + r * ldx), 0, sources, units, at(w), at(erev), at(sigma), at(mu), dn, dd, dn, dd, d, d,
      at(accP), at(accQ), at(dSigma), at(dMu));
  }
}

// ---- the fused ODE solver --------------------------------------------------------------------------
// Scratch layout (engine.ts ltcScratchSize): the pack first, then per-row work vectors padded to whole
// chunks (`vb` bytes each) and, in the backward pass, the sigmoid buffer.

/** One sub-step's update for four (or `count`) neurons; stores the new v (and den when keepDen). */
// @ts-ignore: decorator
@inline function unfoldChunk(cur: usize, next: usize, numS: usize, denS: usize, sensNum: usize, sensDen: usize, cm: usize, gleak: usize, gleakVleak: usize, dt: v128, eps: v128, keepDen: bool, pden: usize, count: i32): void {
  const cmT = f32x4.div(loadN(cm, count), dt);
  const num = f32x4.add(f32x4.add(f32x4.mul(cmT, loadN(cur, count)), loadN(gleakVleak, count)), f32x4.add(loadN(numS, count), loadN(sensNum, count)));
  const den = f32x4.add(f32x4.add(f32x4.add(cmT, loadN(gleak, count)), f32x4.add(loadN(denS, count), loadN(sensDen, count))), eps);
  storeN(next, f32x4.div(num, den), count);
  if (keepDen) storeN(pden, den, count);
}

/** The neuron-wise update of one row's sub-step (numS, denS: its synapse sums). */
function unfoldRow(units: i32, cur: usize, next: usize, numS: usize, denS: usize, sensNum: usize, sensDen: usize, cm: usize, gleak: usize, gleakVleak: usize, dt: v128, eps: v128, keepDen: bool, pden: usize): void {
  const body = units & ~3;
  for (let j = 0; j < body; j += 4) {
    const o = (<usize>j) << 2;
    unfoldChunk(cur + o, next + o, numS + o, denS + o, sensNum + o, sensDen + o, cm + o, gleak + o, gleakVleak + o, dt, eps, keepDen, pden + o, 4);
  }
  if (units > body) {
    const o = (<usize>body) << 2;
    unfoldChunk(cur + o, next + o, numS + o, denS + o, sensNum + o, sensDen + o, cm + o, gleak + o, gleakVleak + o, dt, eps, keepDen, pden + o, units - body);
  }
}

export function ltcForward(rows: i32, units: i32, unfolds: i32, epsilon: f32, v0: i32, ldv0: i32, ts: i32, cm: i32, gleak: i32, gleakVleak: i32, w: i32, wErev: i32, sigma: i32, mu: i32, sensNum: i32, sensDen: i32, vOut: i32, ldOut: i32, states: i32, dens: i32, scratch: i32): void {
  const U = units;
  const K = unfolds;
  const chunks = (U + 3) >> 2;
  const ub = (<usize>U) << 2;
  const vb = (<usize>chunks) << 4;
  const pack = at(scratch);
  packForward(U, U, at(sigma), at(mu), at(w), at(wErev), pack);
  // per row of a pair: synapse sums and two state buffers (used when not caching)
  const numS0 = pack + (<usize>(chunks * U)) * FWD_BLOCK;
  const denS0 = numS0 + vb;
  const numS1 = denS0 + vb;
  const denS1 = numS1 + vb;
  const bufA0 = denS1 + vb;
  const bufB0 = bufA0 + vb;
  const bufA1 = bufB0 + vb;
  const bufB1 = bufA1 + vb;
  const eps = f32x4.splat(epsilon);
  const caching = states >= 0;
  for (let r = 0; r < rows; r += 2) {
    // rows go in pairs; a last odd row runs alone (r1 = r, and nothing is written for it)
    const two = r + 1 < rows;
    const r1 = two ? r + 1 : r;
    const dt0 = f32x4.splat(load<f32>(at(ts + r)) / <f32>K);
    const dt1 = f32x4.splat(load<f32>(at(ts + r1)) / <f32>K);
    const out0 = at(vOut + r * ldOut);
    const out1 = at(vOut + r1 * ldOut);
    let cur0: usize = caching ? at(states + r * (K + 1) * U) : bufA0;
    let cur1: usize = caching ? at(states + r1 * (K + 1) * U) : bufA1;
    memory.copy(cur0, at(v0 + r * ldv0), ub);
    if (two) memory.copy(cur1, at(v0 + r1 * ldv0), ub);
    const sn0 = at(sensNum + r * U);
    const sd0 = at(sensDen + r * U);
    const sn1 = at(sensNum + r1 * U);
    const sd1 = at(sensDen + r1 * U);
    for (let k = 0; k < K; k++) {
      const last = k == K - 1;
      const next0: usize = caching ? cur0 + ub : last ? out0 : cur0 == bufA0 ? bufB0 : bufA0;
      const next1: usize = caching ? cur1 + ub : last ? out1 : cur1 == bufA1 ? bufB1 : bufA1;
      if (two) packedSums2(pack, U, chunks, cur0, cur1, numS0, denS0, numS1, denS1);
      else packedSums1(pack, U, chunks, cur0, numS0, denS0);
      unfoldRow(U, cur0, next0, numS0, denS0, sn0, sd0, at(cm), at(gleak), at(gleakVleak), dt0, eps, caching, at(caching ? dens + (r * K + k) * U : 0));
      if (two) unfoldRow(U, cur1, next1, numS1, denS1, sn1, sd1, at(cm), at(gleak), at(gleakVleak), dt1, eps, caching, at(caching ? dens + (r1 * K + k) * U : 0));
      cur0 = next0;
      cur1 = next1;
    }
    if (caching) {
      memory.copy(out0, cur0, ub);
      if (two) memory.copy(out1, cur1, ub);
    }
  }
}

/**
 * The neuron-wise part of one sub-step's backward for four (or `count`) neurons: from the incoming
 * gradient g of v_next it writes q = g / den and dd = -q v_next (the gradients of num and den), the
 * direct part of d/d v (q cmT) and accumulates the neuron parameter gradients; returns the lanes of
 * q (v - v_next) cmT, whose sum over neurons times -1/ts is this sub-step's d/d ts.
 */
// @ts-ignore: decorator
@inline function unfoldBackwardChunk(g: usize, vk: usize, vn: usize, pden: usize, cm: usize, gleak: usize, vleak: usize, invDt: v128, q: usize, dd: usize, gPrev: usize, dNum: usize, dDen: usize, dCm: usize, dGleak: usize, dVleak: usize, count: i32): v128 {
  const qv = f32x4.div(loadN(g, count), loadN(pden, count));
  const vnv = loadN(vn, count);
  const ddv = f32x4.neg(f32x4.mul(qv, vnv));
  const cmT = f32x4.mul(loadN(cm, count), invDt);
  const dCmT = f32x4.mul(qv, f32x4.sub(loadN(vk, count), vnv));
  storeN(q, qv, count);
  storeN(dd, ddv, count);
  storeN(gPrev, f32x4.mul(qv, cmT), count);
  storeN(dNum, f32x4.add(loadN(dNum, count), qv), count);
  storeN(dDen, f32x4.add(loadN(dDen, count), ddv), count);
  storeN(dCm, f32x4.add(loadN(dCm, count), f32x4.mul(dCmT, invDt)), count);
  storeN(dGleak, f32x4.add(loadN(dGleak, count), f32x4.mul(qv, f32x4.sub(loadN(vleak, count), vnv))), count);
  storeN(dVleak, f32x4.add(loadN(dVleak, count), f32x4.mul(qv, loadN(gleak, count))), count);
  const span = f32x4.mul(dCmT, cmT);
  // lanes past `count` divided 0 by 0; keep them out of the sum
  return count == 4 ? span : v128.and(span, i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(count)));
}

/** The neuron-wise backward of one row's sub-step; returns its sum of d/d ts terms (see above). */
function unfoldBackwardRow(units: i32, g: usize, vk: usize, pden: usize, cm: usize, gleak: usize, vleak: usize, invDt: v128, q: usize, dd: usize, gPrev: usize, dNum: usize, dDen: usize, dCm: usize, dGleak: usize, dVleak: usize): f32 {
  const vn = vk + ((<usize>units) << 2);
  const body = units & ~3;
  let span = f32x4.splat(0);
  for (let j = 0; j < body; j += 4) {
    const o = (<usize>j) << 2;
    span = f32x4.add(span, unfoldBackwardChunk(g + o, vk + o, vn + o, pden + o, cm + o, gleak + o, vleak + o, invDt,
      q + o, dd + o, gPrev + o, dNum + o, dDen + o, dCm + o, dGleak + o, dVleak + o, 4));
  }
  if (units > body) {
    const o = (<usize>body) << 2;
    span = f32x4.add(span, unfoldBackwardChunk(g + o, vk + o, vn + o, pden + o, cm + o, gleak + o, vleak + o, invDt,
      q + o, dd + o, gPrev + o, dNum + o, dDen + o, dCm + o, dGleak + o, dVleak + o, units - body));
  }
  return hsum(span);
}

export function ltcBackward(rows: i32, units: i32, unfolds: i32, ts: i32, cm: i32, gleak: i32, vleak: i32, w: i32, erev: i32, sigma: i32, mu: i32, states: i32, dens: i32, dv: i32, ldDv: i32, dNum: i32, dDen: i32, dCm: i32, dGleak: i32, dVleak: i32, accP: i32, accQ: i32, dSigma: i32, dMu: i32, dts: i32, scratch: i32): void {
  const U = units;
  const K = unfolds;
  const chunks = (U + 3) >> 2;
  const ub = (<usize>U) << 2;
  const vb = (<usize>chunks) << 4;
  const pack = at(scratch);
  packBackward(U, U, at(sigma), at(mu), at(w), at(erev), pack);
  // per row of a pair: q, dd (padded; their lanes past U stay 0) and gPrev; then the sigmoid buffer
  const q0 = pack + (<usize>(chunks * U)) * BWD_BLOCK;
  const dd0 = q0 + vb;
  const gp0 = dd0 + vb;
  const q1 = gp0 + vb;
  const dd1 = q1 + vb;
  const gp1 = dd1 + vb;
  const sig = gp1 + vb;
  memory.fill(q0, 0, 6 * vb);
  for (let r = 0; r < rows; r += 2) {
    // rows go in pairs; a last odd row runs alone (r1 = r, and nothing is written for it)
    const two = r + 1 < rows;
    const r1 = two ? r + 1 : r;
    const span0 = load<f32>(at(ts + r));
    const span1 = load<f32>(at(ts + r1));
    // 1 / dt: multiplying by it replaces two divisions per neuron and sub-step
    const invDt0 = f32x4.splat(<f32>K / span0);
    const invDt1 = f32x4.splat(<f32>K / span1);
    const g0 = at(dv + r * ldDv);
    const g1 = at(dv + r1 * ldDv);
    const pn0 = at(dNum + r * U);
    const pd0 = at(dDen + r * U);
    const pn1 = at(dNum + r1 * U);
    const pd1 = at(dDen + r1 * U);
    memory.fill(pn0, 0, ub);
    memory.fill(pd0, 0, ub);
    if (two) {
      memory.fill(pn1, 0, ub);
      memory.fill(pd1, 0, ub);
    }
    let spanSum0: f32 = 0;
    let spanSum1: f32 = 0;
    for (let k = K - 1; k >= 0; k--) {
      const vk0 = at(states + (r * (K + 1) + k) * U);
      const vk1 = at(states + (r1 * (K + 1) + k) * U);
      spanSum0 += unfoldBackwardRow(U, g0, vk0, at(dens + (r * K + k) * U), at(cm), at(gleak), at(vleak), invDt0, q0, dd0, gp0, pn0, pd0, at(dCm), at(dGleak), at(dVleak));
      if (two) {
        spanSum1 += unfoldBackwardRow(U, g1, vk1, at(dens + (r1 * K + k) * U), at(cm), at(gleak), at(vleak), invDt1, q1, dd1, gp1, pn1, pd1, at(dCm), at(dGleak), at(dVleak));
        packedBackward2(pack, U, chunks, vk0, vk1, q0, dd0, q1, dd1, gp0, gp1, sig);
        memory.copy(g1, gp1, ub);
      } else {
        packedBackward1(pack, U, chunks, vk0, q0, dd0, gp0, sig);
      }
      memory.copy(g0, gp0, ub);
    }
    const pt0 = at(dts + r);
    store<f32>(pt0, load<f32>(pt0) - spanSum0 / span0);
    if (two) {
      const pt1 = at(dts + r1);
      store<f32>(pt1, load<f32>(pt1) - spanSum1 / span1);
    }
  }
  unpackBackward(U, U, pack, at(accP), at(accQ), at(dSigma), at(dMu));
}
