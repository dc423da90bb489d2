/**
 * Float64 scalar math for the reference engine: the activations of ncps and their derivatives.
 * `erf` is computed to near double precision (series near zero, continued fraction for the tail)
 * because torch's GELU is the exact erf form and the reference must match it to ~1e-12.
 */
const TWO_OVER_SQRT_PI = 1.1283791670955126;
const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327;

/** erfc(x) for x >= 2 by the Lentz continued fraction of the complementary error function. */
function erfcTail(x: number): number {
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...)))))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    d = x + an * d;
    d = d === 0 ? tiny : 1 / d;
    c = x + an / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-17) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return TWO_OVER_SQRT_PI * sum;
  }
  const r = 1 - erfcTail(ax);
  return x < 0 ? -r : r;
}

/** erfc without cancellation in the tails (GELU of large negative inputs needs it). */
export function erfc(x: number): number {
  if (x >= 2.5) return erfcTail(x);
  if (x <= -2.5) return 2 - erfcTail(-x);
  return 1 - erf(x);
}

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

const LECUN_SCALE = 1.7159;
const LECUN_SLOPE = 0.666;

/** act(x) for the activation codes of engine.ts (Act). */
export function activate(act: number, x: number): number {
  switch (act) {
    case 0: return x;
    case 1: return LECUN_SCALE * Math.tanh(LECUN_SLOPE * x);
    case 2: return x * sigmoid(x);
    case 3: return x > 0 ? x : 0;
    case 4: return Math.tanh(x);
    case 5: return 0.5 * x * erfc(-x * SQRT1_2);
    case 6: return sigmoid(x);
    default: throw new Error(`unknown activation code ${act}`);
  }
}

/** d act / dx at pre-activation x (relu'(0) = 0, as torch). */
export function activateGrad(act: number, x: number): number {
  switch (act) {
    case 0: return 1;
    case 1: {
      const t = Math.tanh(LECUN_SLOPE * x);
      return LECUN_SCALE * LECUN_SLOPE * (1 - t * t);
    }
    case 2: {
      const s = sigmoid(x);
      return s * (1 + x * (1 - s));
    }
    case 3: return x > 0 ? 1 : 0;
    case 4: {
      const t = Math.tanh(x);
      return 1 - t * t;
    }
    case 5: return 0.5 * erfc(-x * SQRT1_2) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case 6: {
      const s = sigmoid(x);
      return s * (1 - s);
    }
    default: throw new Error(`unknown activation code ${act}`);
  }
}

/**
 * d act / dx written in terms of the output y = act(x), for the activations whose derivative is a
 * function of their output (the CfC heads keep only their outputs for backward).
 */
export function activateGradFromOutput(act: number, y: number): number {
  switch (act) {
    case 0: return 1;
    case 1: return LECUN_SLOPE * (LECUN_SCALE - (y * y) / LECUN_SCALE);
    case 4: return 1 - y * y;
    default: throw new Error(`activation code ${act} has no derivative from its output`);
  }
}
