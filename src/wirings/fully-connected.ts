/**
 * Every neuron connected to every neuron (optionally without self-connections), and every input
 * to every neuron once built. Polarities are drawn as ncps does: `default_rng(erevInitSeed)` and
 * `choice([-1, 1, 1])` per synapse (two thirds excitatory), recurrent synapses first in
 * (src, dest) row order, then the sensory ones from the same stream.
 */
import { defaultRng, type Generator } from "./pcg64.js";
import { checkNonNegativeInt, describeValue, Wiring } from "./wiring.js";

const POLARITIES = [-1, 1, 1] as const;

export interface FullyConnectedOptions {
  /** Seed of the polarity draws (ncps `erev_init_seed`, default 1111). */
  erevInitSeed?: number;
  /** Whether neurons synapse onto themselves (default true). */
  selfConnections?: boolean;
}

export class FullyConnected extends Wiring {
  readonly erevInitSeed: number;
  readonly selfConnections: boolean;
  private readonly rng: Generator;

  constructor(units: number, outputDim?: number | null, options: FullyConnectedOptions = {}) {
    super(units, outputDim ?? undefined);
    this.erevInitSeed = checkNonNegativeInt(options.erevInitSeed ?? 1111, "erev_init_seed", "FullyConnected");
    const self = options.selfConnections ?? true;
    if (typeof self !== "boolean") throw new Error(`FullyConnected: self_connections must be a boolean, got ${describeValue(self)}`);
    this.selfConnections = self;
    this.rng = defaultRng(this.erevInitSeed);
    for (let src = 0; src < this.units; src++) {
      for (let dest = 0; dest < this.units; dest++) {
        if (src === dest && !this.selfConnections) continue;
        this.addSynapse(src, dest, this.rng.choice(POLARITIES));
      }
    }
  }

  override get kind(): string {
    return "FullyConnected";
  }

  protected override buildSensory(inputDim: number): void {
    for (let src = 0; src < inputDim; src++) {
      for (let dest = 0; dest < this.units; dest++) this.addSensorySynapse(src, dest, this.rng.choice(POLARITIES));
    }
  }

  override getConfig(): Record<string, unknown> {
    return { units: this.units, output_dim: this.outputDim, erev_init_seed: this.erevInitSeed, self_connections: this.selfConnections };
  }
}
