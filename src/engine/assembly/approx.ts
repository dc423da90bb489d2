// Float32 approximations of exp, tanh, sigmoid and the normal CDF (erf) on four lanes at once. They live
// inside the module because calling JavaScript's Math per element would cost more than a whole kernel.
// Accuracy, checked against float64 over dense grids: exp within ~1.5 ulp, tanh ~5 ulp, sigmoid ~3 ulp,
// 1 + erf(x/sqrt 2) within ~4e-7 relative everywhere (so erf within ~1e-7 absolute). Large inputs
// saturate (exp to +inf or 0, tanh and sigmoid to their limits) and NaN propagates; no finite input
// gives NaN.
//
// The coefficients were fitted for this project: polynomials by iteratively reweighted least squares on
// Chebyshev nodes (near-minimax), the tanh rational function by the same with Loeb's linearisation.

/** Lane mask of the sign bit. */
// @ts-ignore: decorator
@inline const SIGN_MASK: i32 = -2147483648; // 0x80000000

// exp: x = n ln2 + r with |r| <= ln2/2; exp(r) = 1 + r + r^2 P(r).
// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.4426950408889634;
// ln 2 split so that n * LN2_HI is exact for |n| < 2^8 (Cody and Waite).
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.12194440e-4;
/** 1.5 * 2^23: adding it rounds to an integer and leaves that integer in the low mantissa bits. */
// @ts-ignore: decorator
@inline const ROUND_MAGIC: f32 = 12582912.0;
/** exp overflows float32 above ~88.72; clamping at 89 still overflows to +inf, by rounding. */
// @ts-ignore: decorator
@inline const EXP_MAX_ARG: f32 = 89.0;
/** Below this exp(x) < 1.9e-38 is flushed to 0 (keeps 2^(n-1) a normal number). */
// @ts-ignore: decorator
@inline const EXP_MIN_ARG: f32 = -86.9;
// P(r) on [-0.357, 0.357], relative weight.
// @ts-ignore: decorator
@inline const E0: f32 = 0.49999991059303284;
// @ts-ignore: decorator
@inline const E1: f32 = 0.16666503250598907;
// @ts-ignore: decorator
@inline const E2: f32 = 0.041668593883514404;
// @ts-ignore: decorator
@inline const E3: f32 = 0.008370774798095226;
// @ts-ignore: decorator
@inline const E4: f32 = 0.0013810336822643876;

/** exp(x) per lane. */
// @ts-ignore: decorator
@inline export function expV(x: v128): v128 {
  // pmin/pmax (not min/max) are single instructions and still pass NaN through: the comparison is false.
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(EXP_MIN_ARG)), f32x4.splat(EXP_MAX_ARG));
  const k = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E)), f32x4.splat(ROUND_MAGIC));
  const n = f32x4.sub(k, f32x4.splat(ROUND_MAGIC));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.add(f32x4.mul(f32x4.splat(E4), r), f32x4.splat(E3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E0));
  p = f32x4.add(f32x4.add(f32x4.splat(1), r), f32x4.mul(f32x4.mul(r, r), p));
  // The low mantissa bits of k hold n; shifted into the exponent field with bias 126 they make 2^(n-1),
  // a normal number for n in [-125, 128]; the final doubling overflows to +inf exactly when exp does.
  const scale = i32x4.add(i32x4.shl(k, 23), i32x4.splat(126 << 23));
  const y = f32x4.mul(f32x4.mul(p, scale), f32x4.splat(2));
  return v128.andnot(y, f32x4.lt(x, f32x4.splat(EXP_MIN_ARG)));
}

// tanh(x) = x P(x^2) / Q(x^2) for |x| < TANH_SATURATION (P degree 6, Q degree 3 in x^2, fitted on
// [0, 9] for relative error; ~1e-8 in exact arithmetic, within ~5 ulp once evaluated in float32). One
// division and no exp: about half the cost of the exp-based form, and the relative accuracy near 0
// comes for free from the factor x.
/** tanh(9) = 1 - 3e-8 rounds to 1 in float32; from there on the result is exactly +-1. */
// @ts-ignore: decorator
@inline const TANH_SATURATION: f32 = 9.0;
// @ts-ignore: decorator
@inline const TP1: f32 = 0.13084006309509277;
// @ts-ignore: decorator
@inline const TP2: f32 = 0.003103952156379819;
// @ts-ignore: decorator
@inline const TP3: f32 = 0.000011154266758239828;
// @ts-ignore: decorator
@inline const TP4: f32 = -2.0225066066359432e-8;
// @ts-ignore: decorator
@inline const TP5: f32 = 5.277876052867114e-11;
// @ts-ignore: decorator
@inline const TP6: f32 = -8.488537292777182e-14;
// @ts-ignore: decorator
@inline const TQ1: f32 = 0.4641733467578888;
// @ts-ignore: decorator
@inline const TQ2: f32 = 0.024495162069797516;
// @ts-ignore: decorator
@inline const TQ3: f32 = 0.0002546139294281602;

/** tanh(x) per lane; exactly +-1 for |x| >= 9 (where the rational form would overflow to NaN). */
// @ts-ignore: decorator
@inline export function tanhV(x: v128): v128 {
  const z = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.mul(f32x4.splat(TP6), z), f32x4.splat(TP5));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(TP4));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(TP3));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(TP2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(TP1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1));
  let q = f32x4.add(f32x4.mul(f32x4.splat(TQ3), z), f32x4.splat(TQ2));
  q = f32x4.add(f32x4.mul(q, z), f32x4.splat(TQ1));
  q = f32x4.add(f32x4.mul(q, z), f32x4.splat(1));
  const t = f32x4.div(f32x4.mul(x, p), q);
  const saturated = v128.or(v128.and(x, i32x4.splat(SIGN_MASK)), f32x4.splat(1));
  return v128.bitselect(saturated, t, f32x4.ge(f32x4.abs(x), f32x4.splat(TANH_SATURATION)));
}

/**
 * tanh'(x) = 1 - tanh(x)^2 per lane, as torch forms it in float32: near saturation the result carries
 * an absolute error of ~1e-7 (the derivative itself is below that there).
 */
// @ts-ignore: decorator
@inline export function tanhGradV(x: v128): v128 {
  const t = tanhV(x);
  return f32x4.sub(f32x4.splat(1), f32x4.mul(t, t));
}

/** 1 / (1 + exp(-x)) per lane; for x << 0 exp(-x) overflows to +inf and the result is exactly 0. */
// @ts-ignore: decorator
@inline export function sigmoidV(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expV(f32x4.neg(x))));
}

/**
 * 1 - sigmoid(x) given e = exp(-x) and s = sigmoid(x): e s for x >= 0 (no cancellation), 1 - s below
 * (where s <= 1/2, and e s would be inf * 0 once exp overflows).
 */
// @ts-ignore: decorator
@inline export function sigmoidComplementV(x: v128, e: v128, s: v128): v128 {
  return v128.bitselect(f32x4.sub(f32x4.splat(1), s), f32x4.mul(e, s), f32x4.lt(x, f32x4.splat(0)));
}

// erf near zero: erf(z) = z S(z^2) for |z| < ERF_SMALL (S fitted on [0, 0.81^2]).
// @ts-ignore: decorator
@inline const ERF_SMALL: f32 = 0.8;
// @ts-ignore: decorator
@inline const S0: f32 = 1.128379225730896;
// @ts-ignore: decorator
@inline const S1: f32 = -0.37612637877464294;
// @ts-ignore: decorator
@inline const S2: f32 = 0.11283764988183975;
// @ts-ignore: decorator
@inline const S3: f32 = -0.02686369977891445;
// @ts-ignore: decorator
@inline const S4: f32 = 0.005213021766394377;
// @ts-ignore: decorator
@inline const S5: f32 = -0.0008296424639411271;
// @ts-ignore: decorator
@inline const S6: f32 = 0.0000910857052076608;
// erfc away from zero: erfc(u) = t exp(-u^2 + C(t)), t = 1 / (1 + u/2), C fitted for u in [0.79, 10.1]
// (the form of Numerical Recipes' erfcc; our own coefficients).
// @ts-ignore: decorator
@inline const C0: f32 = -1.265533447265625;
// @ts-ignore: decorator
@inline const C1: f32 = 1.0006333589553833;
// @ts-ignore: decorator
@inline const C2: f32 = 0.3668156862258911;
// @ts-ignore: decorator
@inline const C3: f32 = 0.14383608102798462;
// @ts-ignore: decorator
@inline const C4: f32 = -0.36810973286628723;
// @ts-ignore: decorator
@inline const C5: f32 = 0.7163341045379639;
// @ts-ignore: decorator
@inline const C6: f32 = -1.794407606124878;
// @ts-ignore: decorator
@inline const C7: f32 = 2.0917935371398926;
// @ts-ignore: decorator
@inline const C8: f32 = -1.1278425455093384;
// @ts-ignore: decorator
@inline const C9: f32 = 0.23644353449344635;
/** Beyond |x| = 14.5 (|z| > 10.2) erfc underflows float32; clamping keeps t and x^2 finite. */
// @ts-ignore: decorator
@inline const PHI_MAX_ARG: f32 = 14.5;
// @ts-ignore: decorator
@inline const SQRT1_2: f32 = 0.7071067811865476;
// @ts-ignore: decorator
@inline const INV_SQRT_2PI: f32 = 0.3989422804014327;
/** Keeps the high 12 significant bits of a float32, so that its square is exact. */
// @ts-ignore: decorator
@inline const HIGH_HALF_MASK: i32 = -4096; // 0xfffff000

/**
 * exp(a + b) per lane for a + b <= 0, where `a` may be large and exactly known and `b` is small: the
 * range reduction subtracts n ln2 from `a` alone (exactly) before adding `b`, so rounding a + b to
 * float32 costs nothing. Used for exp(-x^2/2), whose argument would otherwise carry an absolute rounding
 * error of ulp(x^2), i.e. a relative error growing like x^2 ulp in the result.
 */
// @ts-ignore: decorator
@inline function expSumV(a: v128, b: v128): v128 {
  const x = f32x4.add(a, b);
  const xc = f32x4.pmax(x, f32x4.splat(EXP_MIN_ARG));
  const k = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E)), f32x4.splat(ROUND_MAGIC));
  const n = f32x4.sub(k, f32x4.splat(ROUND_MAGIC));
  let r = f32x4.sub(a, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.add(f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO))), b);
  let p = f32x4.add(f32x4.mul(f32x4.splat(E4), r), f32x4.splat(E3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E0));
  p = f32x4.add(f32x4.add(f32x4.splat(1), r), f32x4.mul(f32x4.mul(r, r), p));
  const scale = i32x4.add(i32x4.shl(k, 23), i32x4.splat(126 << 23));
  const y = f32x4.mul(f32x4.mul(p, scale), f32x4.splat(2));
  return v128.andnot(y, f32x4.lt(x, f32x4.splat(EXP_MIN_ARG)));
}

/** exp(-x^2 / 2) per lane, with x^2 split into an exact high part and a small low part. */
// @ts-ignore: decorator
@inline function expHalfSquareV(x: v128, extra: v128): v128 {
  const xh = v128.and(x, i32x4.splat(HIGH_HALF_MASK));
  const hi = f32x4.mul(f32x4.mul(f32x4.splat(-0.5), xh), xh);
  const lo = f32x4.mul(f32x4.mul(f32x4.splat(-0.5), f32x4.sub(x, xh)), f32x4.add(x, xh));
  return expSumV(hi, f32x4.add(lo, extra));
}

/** erf(z) for |z| < ERF_SMALL. */
// @ts-ignore: decorator
@inline function erfSmallV(z: v128): v128 {
  const z2 = f32x4.mul(z, z);
  let s = f32x4.add(f32x4.mul(f32x4.splat(S6), z2), f32x4.splat(S5));
  s = f32x4.add(f32x4.mul(s, z2), f32x4.splat(S4));
  s = f32x4.add(f32x4.mul(s, z2), f32x4.splat(S3));
  s = f32x4.add(f32x4.mul(s, z2), f32x4.splat(S2));
  s = f32x4.add(f32x4.mul(s, z2), f32x4.splat(S1));
  s = f32x4.add(f32x4.mul(s, z2), f32x4.splat(S0));
  return f32x4.mul(z, s);
}

/**
 * 2 Phi(x) = 1 + erf(x / sqrt 2) per lane (Phi the standard normal CDF), the factor of the exact GELU.
 * Near zero erf comes from its polynomial; further out from erfc(|x|/sqrt 2), which for x << 0 *is* the
 * result, so GELU keeps relative accuracy in its negative tail instead of cancelling 1 - 0.99999...
 */
// @ts-ignore: decorator
@inline export function twicePhiV(x: v128): v128 {
  const z = f32x4.mul(x, f32x4.splat(SQRT1_2));
  const xa = f32x4.pmin(f32x4.abs(x), f32x4.splat(PHI_MAX_ARG));
  const u = f32x4.mul(xa, f32x4.splat(SQRT1_2));
  const t = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(0.5), u)));
  let c = f32x4.add(f32x4.mul(f32x4.splat(C9), t), f32x4.splat(C8));
  c = f32x4.add(f32x4.mul(c, t), f32x4.splat(C7));
  c = f32x4.add(f32x4.mul(c, t), f32x4.splat(C6));
  c = f32x4.add(f32x4.mul(c, t), f32x4.splat(C5));
  c = f32x4.add(f32x4.mul(c, t), f32x4.splat(C4));
  c = f32x4.add(f32x4.mul(c, t), f32x4.splat(C3));
  c = f32x4.add(f32x4.mul(c, t), f32x4.splat(C2));
  c = f32x4.add(f32x4.mul(c, t), f32x4.splat(C1));
  c = f32x4.add(f32x4.mul(c, t), f32x4.splat(C0));
  // erfc(u) = t exp(-u^2 + C(t)) with u^2 = x^2 / 2
  const erfcU = f32x4.mul(t, expHalfSquareV(xa, c));
  const far = v128.bitselect(f32x4.sub(f32x4.splat(2), erfcU), erfcU, f32x4.ge(x, f32x4.splat(0)));
  const near = f32x4.add(f32x4.splat(1), erfSmallV(z));
  return v128.bitselect(near, far, f32x4.lt(f32x4.abs(z), f32x4.splat(ERF_SMALL)));
}

/** The standard normal density exp(-x^2/2) / sqrt(2 pi) per lane (0 far out, never NaN for finite x). */
// @ts-ignore: decorator
@inline export function normalPdfV(x: v128): v128 {
  const xa = f32x4.pmin(f32x4.abs(x), f32x4.splat(PHI_MAX_ARG));
  return f32x4.mul(f32x4.splat(INV_SQRT_2PI), expHalfSquareV(xa, f32x4.splat(0)));
}
