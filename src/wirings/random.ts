/**
 * A random sparse wiring: round(units^2 * (1 - sparsity)) distinct synapses, each with polarity
 * drawn from [-1, 1, 1], and the same fraction of input -> neuron synapses once built. Draws
 * follow ncps exactly (`default_rng(randomSeed)`, `choice(pairs, size, replace=False)`), including
 * ncps's second, discarded polarity draw after every sensory synapse.
 */
import { defaultRng, type Generator } from "./pcg64.js";
import { checkNonNegativeInt, describeValue, Wiring } from "./wiring.js";

const POLARITIES = [-1, 1, 1] as const;

export interface RandomOptions {
  /** Fraction of synapses left out, in [0, 1) (default 0). */
  sparsityLevel?: number;
  /** Seed of all draws (ncps `random_seed`, default 1111). */
  randomSeed?: number;
}

/** Python's `round()` / `np.round` of a double: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export class Random extends Wiring {
  readonly sparsityLevel: number;
  readonly randomSeed: number;
  private readonly rng: Generator;

  constructor(units: number, outputDim?: number | null, options: RandomOptions = {}) {
    super(units, outputDim ?? undefined);
    const s = options.sparsityLevel ?? 0;
    if (typeof s !== "number" || !(s >= 0 && s < 1)) {
      throw new Error(`Random: sparsity_level must be in [0, 1), got ${describeValue(s)}`);
    }
    this.sparsityLevel = s;
    this.randomSeed = checkNonNegativeInt(options.randomSeed ?? 1111, "random_seed", "Random");
    this.rng = defaultRng(this.randomSeed);
    const count = roundHalfEven(this.units * this.units * (1 - s));
    for (const pair of this.rng.choice(this.units * this.units, count, false)) {
      const src = Math.floor(pair / this.units);
      this.addSynapse(src, pair - src * this.units, this.rng.choice(POLARITIES));
    }
  }

  override get kind(): string {
    return "Random";
  }

  protected override buildSensory(inputDim: number): void {
    const count = roundHalfEven(inputDim * this.units * (1 - this.sparsityLevel));
    for (const pair of this.rng.choice(inputDim * this.units, count, false)) {
      const src = Math.floor(pair / this.units);
      // ncps draws a polarity, then draws again and keeps the second; both draws are replayed to
      // stay in step with numpy.
      this.rng.choice(POLARITIES);
      this.addSensorySynapse(src, pair - src * this.units, this.rng.choice(POLARITIES));
    }
  }

  override getConfig(): Record<string, unknown> {
    return { units: this.units, output_dim: this.outputDim, sparsity_level: this.sparsityLevel, random_seed: this.randomSeed };
  }
}
