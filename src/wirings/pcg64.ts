/**
 * numpy's `np.random.default_rng(seed)`: SeedSequence seeding, the PCG64 bit generator and the
 * `Generator` methods that ncps's FullyConnected and Random wirings call. Each method consumes
 * the generator exactly as numpy does (including PCG64's buffering of the second half of a 64-bit
 * output for the next 32-bit draw), so call sequences reproduce numpy's results draw for draw.
 *
 * Unlike the legacy RandomState, numpy does not promise that `Generator` streams never change; the
 * algorithms ported here are those of numpy 1.17 through 2.x (checked against 1.24 and 2.4).
 *
 * 128-bit arithmetic uses BigInt: simple and exact, and fast enough for wiring construction.
 */

const MASK32 = 0xffffffffn;
const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;
const PCG_MULTIPLIER = 0x2360ed051fc65da44385df649fccf645n;

// SeedSequence hashing constants (numpy/random/bit_generator.pyx).
const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const XSHIFT = 16;
const POOL_SIZE = 4;

/** A non-negative integer seed split into little-endian 32-bit words (`[0]` for zero). */
function seedWords(seed: number | bigint): number[] {
  let n: bigint;
  if (typeof seed === "bigint") n = seed;
  else {
    if (!Number.isSafeInteger(seed)) throw new Error(`SeedSequence entropy must be a non-negative integer, got ${seed}`);
    n = BigInt(seed);
  }
  if (n < 0n) throw new Error(`SeedSequence entropy must be a non-negative integer, got ${seed}`);
  if (n === 0n) return [0];
  const words: number[] = [];
  while (n > 0n) {
    words.push(Number(n & MASK32));
    n >>= 32n;
  }
  return words;
}

/** numpy's SeedSequence for an integer entropy with no spawn key: a 4-word hashed entropy pool. */
export class SeedSequence {
  readonly pool: Uint32Array;

  constructor(readonly entropy: number | bigint) {
    this.pool = SeedSequence.mixEntropy(seedWords(entropy));
  }

  private static mixEntropy(entropy: number[]): Uint32Array {
    const mixer = new Uint32Array(POOL_SIZE);
    let hashConst = INIT_A;
    const hashmix = (value: number): number => {
      value = (value ^ hashConst) >>> 0;
      hashConst = Math.imul(hashConst, MULT_A) >>> 0;
      value = Math.imul(value, hashConst) >>> 0;
      return (value ^ (value >>> XSHIFT)) >>> 0;
    };
    const mix = (x: number, y: number): number => {
      const r = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
      return (r ^ (r >>> XSHIFT)) >>> 0;
    };
    for (let i = 0; i < POOL_SIZE; i++) mixer[i] = hashmix(i < entropy.length ? entropy[i] : 0);
    // Mix every word into every other so that late entropy words affect early pool words.
    for (let src = 0; src < POOL_SIZE; src++) {
      for (let dst = 0; dst < POOL_SIZE; dst++) {
        if (src !== dst) mixer[dst] = mix(mixer[dst], hashmix(mixer[src]));
      }
    }
    for (let src = POOL_SIZE; src < entropy.length; src++) {
      for (let dst = 0; dst < POOL_SIZE; dst++) mixer[dst] = mix(mixer[dst], hashmix(entropy[src]));
    }
    return mixer;
  }

  /** `generate_state(nWords, uint32)`. */
  generateState32(nWords: number): Uint32Array {
    const out = new Uint32Array(nWords);
    let hashConst = INIT_B;
    for (let i = 0; i < nWords; i++) {
      let v = (this.pool[i % POOL_SIZE] ^ hashConst) >>> 0;
      hashConst = Math.imul(hashConst, MULT_B) >>> 0;
      v = Math.imul(v, hashConst) >>> 0;
      out[i] = (v ^ (v >>> XSHIFT)) >>> 0;
    }
    return out;
  }

  /** `generate_state(nWords, uint64)`: pairs of 32-bit words, little-endian. */
  generateState64(nWords: number): bigint[] {
    const w = this.generateState32(2 * nWords);
    const out: bigint[] = [];
    for (let i = 0; i < nWords; i++) out.push(BigInt(w[2 * i]) | (BigInt(w[2 * i + 1]) << 32n));
    return out;
  }
}

/** The PCG64 (XSL-RR 128/64) bit generator, seeded as numpy's `PCG64(seed)` is. */
export class PCG64 {
  private state = 0n;
  private inc = 0n;
  /** The upper half of the last 64-bit output, waiting to be served by the next `next32()`. */
  private pendingUpper: number | null = null;

  constructor(seed: number | bigint | SeedSequence) {
    const seq = seed instanceof SeedSequence ? seed : new SeedSequence(seed);
    const [s0, s1, i0, i1] = seq.generateState64(4);
    const initState = (s0 << 64n) | s1;
    const initSeq = (i0 << 64n) | i1;
    this.inc = ((initSeq << 1n) | 1n) & MASK128;
    this.state = 0n;
    this.step();
    this.state = (this.state + initState) & MASK128;
    this.step();
  }

  private step(): void {
    this.state = (this.state * PCG_MULTIPLIER + this.inc) & MASK128;
  }

  /** Next raw 64-bit output (numpy `random_raw()`), as a BigInt. */
  next64(): bigint {
    this.step();
    const s = this.state;
    const xored = ((s >> 64n) ^ s) & MASK64;
    const rot = s >> 122n;
    return ((xored >> rot) | (xored << ((64n - rot) & 63n))) & MASK64;
  }

  /** Next 32-bit output: the low half of a fresh 64-bit output, then its high half. */
  next32(): number {
    if (this.pendingUpper !== null) {
      const v = this.pendingUpper;
      this.pendingUpper = null;
      return v;
    }
    const x = this.next64();
    this.pendingUpper = Number(x >> 32n);
    return Number(x & MASK32);
  }

  /** A double in [0, 1) from the top 53 bits of a 64-bit output. */
  nextDouble(): number {
    return Number(this.next64() >> 11n) / 9007199254740992;
  }
}

function maskCovering32(max: number): number {
  let m = max >>> 0;
  m |= m >>> 1;
  m |= m >>> 2;
  m |= m >>> 4;
  m |= m >>> 8;
  m |= m >>> 16;
  return m >>> 0;
}

function checkRange(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} must be a non-negative integer, got ${n}`);
}

/** numpy's `Generator` on PCG64, limited to the methods the wirings need. */
export class Generator {
  constructor(readonly bitGenerator: PCG64) {}

  /** A double in [0, 1) (`Generator.random()`). */
  random(): number {
    return this.bitGenerator.nextDouble();
  }

  /**
   * An integer in [0, max] by Lemire's multiply-shift method with rejection (numpy's
   * `random_bounded_uint64(..., use_masked=False)`): 32-bit draws when `max` fits 32 bits,
   * 64-bit draws beyond. `max = 0` consumes nothing.
   */
  boundedLemire(max: number): number {
    checkRange(max, "bounded draw maximum");
    if (max === 0) return 0;
    const bg = this.bitGenerator;
    if (max < 0xffffffff) {
      const rngExcl = max + 1;
      // The 32x32 -> 64-bit product as (hi, lo) words, exact in doubles by splitting x in 16-bit halves.
      const mul = (x: number): [number, number] => {
        const low = (x & 0xffff) * rngExcl; // < 2^48
        const high = (x >>> 16) * rngExcl; // < 2^48, weighted 2^16
        const highLow16 = high % 65536;
        const lowSum = highLow16 * 65536 + low; // < 2^49
        return [(high - highLow16) / 65536 + Math.floor(lowSum / 4294967296), lowSum % 4294967296];
      };
      let [hi, lo] = mul(bg.next32());
      if (lo < rngExcl) {
        const threshold = (0xffffffff - max) % rngExcl;
        while (lo < threshold) [hi, lo] = mul(bg.next32());
      }
      return hi;
    }
    if (max === 0xffffffff) return bg.next32();
    const rng = BigInt(max);
    const rngExcl = rng + 1n;
    let m = bg.next64() * rngExcl;
    let leftover = m & MASK64;
    if (leftover < rngExcl) {
      const threshold = (MASK64 - rng) % rngExcl;
      while (leftover < threshold) {
        m = bg.next64() * rngExcl;
        leftover = m & MASK64;
      }
    }
    return Number(m >> 64n);
  }

  /** An integer in [0, max] by masked rejection (numpy's `random_interval`, used by `shuffle`). */
  boundedMasked(max: number): number {
    checkRange(max, "bounded draw maximum");
    if (max === 0) return 0;
    if (max > 0xffffffff) throw new Error(`boundedMasked: maximum ${max} beyond 2**32 - 1 is not supported`);
    const mask = maskCovering32(max);
    let v: number;
    do {
      v = (this.bitGenerator.next32() & mask) >>> 0;
    } while (v > max);
    return v;
  }

  /** `integers(low, high)`: one integer in [low, high). */
  integers(low: number, high: number): number {
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || high <= low) {
      throw new Error(`integers: need integers low < high, got low=${low}, high=${high}`);
    }
    return low + this.boundedLemire(high - 1 - low);
  }

  /** `permutation(n)`: a shuffled `arange(n)` (Fisher-Yates from the end, masked draws). */
  permutation(n: number): number[] {
    checkRange(n, "permutation length");
    const arr = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i >= 1; i--) {
      const j = this.boundedMasked(i);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
    return arr;
  }

  /** Shuffles `data[first..n-1]` from the end with Lemire draws (numpy's internal `_shuffle_int`). */
  private shuffleTail(data: number[], first: number): void {
    for (let i = data.length - 1; i >= first; i--) {
      const j = this.boundedLemire(i);
      const t = data[i];
      data[i] = data[j];
      data[j] = t;
    }
  }

  /**
   * Indices of `size` distinct draws from `0..popSize-1` (`choice(popSize, size, replace=False)`
   * with numpy's default `shuffle=True`). Large populations with a large sample shuffle the tail
   * of a full index array; everything else uses Floyd's set sampling followed by a shuffle.
   */
  private sampleWithoutReplacement(popSize: number, size: number): number[] {
    if (popSize > 10000 && size > Math.floor(popSize / 50)) {
      const idx = Array.from({ length: popSize }, (_, i) => i);
      this.shuffleTail(idx, Math.max(popSize - size, 1));
      return idx.slice(popSize - size);
    }
    // Floyd: for each j in the last `size` positions, take a random value in [0, j], or j itself
    // if that value was already taken. The order is then shuffled.
    const taken = new Set<number>();
    const out: number[] = [];
    for (let j = popSize - size; j < popSize; j++) {
      const v = this.boundedLemire(j);
      const pick = taken.has(v) ? j : v;
      taken.add(pick);
      out.push(pick);
    }
    this.shuffleTail(out, 1);
    return out;
  }

  /**
   * `Generator.choice` (no probabilities, axis 0). With no size: one element, uniformly. With a
   * size: `size` elements with replacement (default) or distinct ones (`replace = false`).
   * `a` may be an array (rows of a list of tuples count as elements) or a population size n.
   */
  choice(a: number): number;
  choice<T>(a: readonly T[]): T;
  choice(a: number, size: number, replace?: boolean): number[];
  choice<T>(a: readonly T[], size: number, replace?: boolean): T[];
  choice<T>(a: readonly T[] | number, size?: number, replace = true): T | number | (T | number)[] {
    if (typeof a === "number" && (!Number.isSafeInteger(a) || a < 0)) {
      throw new Error(`choice: a must be a non-negative integer or an array, got ${a}`);
    }
    const popSize = typeof a === "number" ? a : a.length;
    const pick = (i: number): T | number => (typeof a === "number" ? i : a[i]);
    if (size === undefined) {
      if (popSize === 0) throw new Error("choice: a cannot be empty unless no samples are taken");
      return pick(this.integers(0, popSize));
    }
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`choice: size must be a non-negative integer, got ${size}`);
    if (popSize === 0 && size > 0) throw new Error("choice: a cannot be empty unless no samples are taken");
    if (replace) {
      const out: (T | number)[] = [];
      for (let k = 0; k < size; k++) out.push(pick(this.integers(0, popSize)));
      return out;
    }
    if (size > popSize) {
      throw new Error(`choice: cannot take a larger sample (${size}) than the population (${popSize}) when replace=false`);
    }
    return this.sampleWithoutReplacement(popSize, size).map(pick);
  }
}

/** `np.random.default_rng(seed)` for a non-negative integer seed. */
export function defaultRng(seed: number | bigint): Generator {
  return new Generator(new PCG64(seed));
}
