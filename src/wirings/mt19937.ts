/**
 * numpy's legacy `np.random.RandomState(seed)`: the MT19937 Mersenne Twister plus the few
 * RandomState methods that ncps's NCP wiring calls. Every method consumes the generator exactly
 * as numpy does, so a sequence of calls here reproduces numpy's results draw for draw.
 *
 * The legacy API is frozen by numpy's compatibility policy, which is what makes bit-exact replay
 * of NCP wirings possible for any seed.
 */

const STATE_WORDS = 624;
const SHIFT_M = 397;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const MATRIX_A = 0x9908b0df;
const MAX_UINT32 = 0xffffffff;

/** Smears the highest set bit of `max` downwards: the smallest all-ones mask covering `max`. */
export function maskCovering(max: number): number {
  let mask = max >>> 0;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  return mask >>> 0;
}

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_UINT32) {
    throw new Error(`RandomState seed must be an integer between 0 and 2**32 - 1, got ${seed}`);
  }
}

function checkPopulation(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_UINT32) {
    throw new Error(`${what} must be an integer between 0 and 2**32 - 1, got ${n}`);
  }
}

export class RandomState {
  private readonly key = new Uint32Array(STATE_WORDS);
  private pos = STATE_WORDS;

  /** Seeds like `RandomState(seed)` with an int seed (MT19937 `init_genrand`). */
  constructor(seed: number) {
    checkSeed(seed);
    const key = this.key;
    key[0] = seed >>> 0;
    for (let i = 1; i < STATE_WORDS; i++) {
      const prev = key[i - 1];
      // 1812433253 * (prev ^ (prev >>> 30)) + i, modulo 2^32.
      key[i] = (Math.imul(1812433253, (prev ^ (prev >>> 30)) >>> 0) + i) >>> 0;
    }
    this.pos = STATE_WORDS;
  }

  /** Refills the whole state block (the MT19937 "twist"). */
  private twist(): void {
    const key = this.key;
    let i = 0;
    for (; i < STATE_WORDS - SHIFT_M; i++) {
      const y = (key[i] & UPPER_MASK) | (key[i + 1] & LOWER_MASK);
      key[i] = (key[i + SHIFT_M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)) >>> 0;
    }
    for (; i < STATE_WORDS - 1; i++) {
      const y = (key[i] & UPPER_MASK) | (key[i + 1] & LOWER_MASK);
      key[i] = (key[i + SHIFT_M - STATE_WORDS] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)) >>> 0;
    }
    const y = (key[STATE_WORDS - 1] & UPPER_MASK) | (key[0] & LOWER_MASK);
    key[STATE_WORDS - 1] = (key[SHIFT_M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0)) >>> 0;
    this.pos = 0;
  }

  /** The next raw 32-bit output (numpy `mt19937_next32`). */
  randomUint32(): number {
    if (this.pos >= STATE_WORDS) this.twist();
    let y = this.key[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A double in [0, 1) with 53 random bits, as `random_sample()`. */
  randomSample(): number {
    const a = this.randomUint32() >>> 5;
    const b = this.randomUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /**
   * An integer in [0, max] (inclusive) by masked rejection, as numpy's `random_interval` and the
   * legacy bounded-integer path: draw 32 bits, keep the bits under the covering mask, retry while
   * the value exceeds `max`. `max = 0` consumes nothing.
   */
  boundedInclusive(max: number): number {
    checkPopulation(max, "bounded draw maximum");
    if (max === 0) return 0;
    const mask = maskCovering(max);
    let value: number;
    do {
      value = (this.randomUint32() & mask) >>> 0;
    } while (value > max);
    return value;
  }

  /** `randint(0, n)`: an integer in [0, n). */
  randint(n: number): number {
    checkPopulation(n, "randint upper bound");
    if (n < 1) throw new Error(`randint: upper bound must be at least 1, got ${n}`);
    return this.boundedInclusive(n - 1);
  }

  /** `permutation(n)`: numpy's Fisher-Yates from the end, using masked-rejection draws. */
  permutation(n: number): number[] {
    checkPopulation(n, "permutation length");
    const arr = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i >= 1; i--) {
      const j = this.boundedInclusive(i);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }

  /**
   * Legacy `choice`. With no size: one element drawn uniformly (`a[randint(0, len(a))]`).
   * With a size and `replace = true` (numpy's default): `size` independent draws. With
   * `replace = false`: the first `size` entries of a full `permutation(len(a))`, which is why a
   * small sample without replacement still consumes a whole permutation's worth of draws.
   * `a` may be an array or a population size n (meaning `0..n-1`).
   */
  choice(a: number): number;
  choice<T>(a: readonly T[]): T;
  choice(a: number, size: number, replace?: boolean): number[];
  choice<T>(a: readonly T[], size: number, replace?: boolean): T[];
  choice<T>(a: readonly T[] | number, size?: number, replace = true): T | number | (T | number)[] {
    const pick = (i: number): T | number => (typeof a === "number" ? i : a[i]);
    const popSize = typeof a === "number" ? a : a.length;
    if (typeof a === "number") {
      if (!Number.isInteger(a) || a < 0) throw new Error(`choice: a must be a non-negative integer or an array, got ${a}`);
    }
    if (size === undefined) {
      if (popSize === 0) throw new Error("choice: 'a' cannot be empty unless no samples are taken");
      return pick(this.randint(popSize));
    }
    if (!Number.isInteger(size) || size < 0) throw new Error(`choice: size must be a non-negative integer, got ${size}`);
    if (popSize === 0 && size > 0) throw new Error("choice: 'a' cannot be empty unless no samples are taken");
    if (replace) {
      const out: (T | number)[] = [];
      for (let k = 0; k < size; k++) out.push(pick(this.randint(popSize)));
      return out;
    }
    if (size > popSize) {
      throw new Error(`choice: cannot take a larger sample (${size}) than the population (${popSize}) when replace=false`);
    }
    return this.permutation(popSize).slice(0, size).map(pick);
  }
}
