/**
 * Neural circuit policy wiring: sensory inputs -> inter neurons -> command neurons (with recurrent
 * command synapses) -> motor neurons. A port of ncps's `NCP` that makes the same draws from
 * numpy's legacy `RandomState(seed)` in the same order, so the matrices equal ncps's for any sizes
 * and seed.
 *
 * Neuron ids: motor [0, M), command [M, M + C), inter [M + C, M + C + I). Layers: 0 = inter,
 * 1 = command, 2 = motor.
 */
import { RandomState } from "./mt19937.js";
import { checkNonNegativeInt, checkPositiveInt, describeValue, type NeuronType, Wiring } from "./wiring.js";

const POLARITIES = [-1, 1] as const;

/** The seven NCP size parameters, named as ncps's constructor arguments. */
export interface NcpSizes {
  interNeurons: number;
  commandNeurons: number;
  motorNeurons: number;
  sensoryFanout: number;
  interFanout: number;
  recurrentCommandSynapses: number;
  motorFanin: number;
}

/** numpy's `np.clip(x, lo, hi)` for scalars (`hi` wins if the bounds cross). */
function clip(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}

export class NCP extends Wiring {
  readonly ncpSizes: Readonly<NcpSizes>;
  readonly seed: number;
  readonly motorNeuronIds: readonly number[];
  readonly commandNeuronIds: readonly number[];
  readonly interNeuronIds: readonly number[];
  private readonly rng: RandomState;

  constructor(
    interNeurons: number,
    commandNeurons: number,
    motorNeurons: number,
    sensoryFanout: number,
    interFanout: number,
    recurrentCommandSynapses: number,
    motorFanin: number,
    options: { seed?: number } = {},
  ) {
    const owner = "NCP";
    checkPositiveInt(interNeurons, "inter_neurons", owner);
    checkPositiveInt(commandNeurons, "command_neurons", owner);
    checkPositiveInt(motorNeurons, "motor_neurons", owner);
    checkNonNegativeInt(sensoryFanout, "sensory_fanout", owner);
    checkNonNegativeInt(interFanout, "inter_fanout", owner);
    checkNonNegativeInt(recurrentCommandSynapses, "recurrent_command_synapses", owner);
    checkNonNegativeInt(motorFanin, "motor_fanin", owner);
    const seed = options.seed ?? 22222;
    if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`${owner}: seed must be an integer between 0 and 2**32 - 1, got ${describeValue(seed)}`);
    }
    // Same checks and order as ncps.
    if (motorFanin > commandNeurons) {
      throw new Error(`${owner}: motor_fanin is ${motorFanin} but there are only ${commandNeurons} command neurons`);
    }
    if (sensoryFanout > interNeurons) {
      throw new Error(`${owner}: sensory_fanout is ${sensoryFanout} but there are only ${interNeurons} inter neurons`);
    }
    if (interFanout > commandNeurons) {
      throw new Error(`${owner}: inter_fanout is ${interFanout} but there are only ${commandNeurons} command neurons`);
    }
    super(interNeurons + commandNeurons + motorNeurons, motorNeurons);
    this.ncpSizes = Object.freeze({ interNeurons, commandNeurons, motorNeurons, sensoryFanout, interFanout, recurrentCommandSynapses, motorFanin });
    this.seed = seed;
    this.rng = new RandomState(seed);
    this.motorNeuronIds = range(0, motorNeurons);
    this.commandNeuronIds = range(motorNeurons, motorNeurons + commandNeurons);
    this.interNeuronIds = range(motorNeurons + commandNeurons, this.units);
  }

  override get kind(): string {
    return "NCP";
  }

  override get numLayers(): number {
    return 3;
  }

  override getNeuronsOfLayer(layer: number): number[] {
    if (layer === 0) return [...this.interNeuronIds];
    if (layer === 1) return [...this.commandNeuronIds];
    if (layer === 2) return [...this.motorNeuronIds];
    throw new Error(`${this.kind}: unknown layer ${describeValue(layer)}, expected 0 (inter), 1 (command) or 2 (motor)`);
  }

  override getTypeOfNeuron(neuronId: number): NeuronType {
    const base = super.getTypeOfNeuron(neuronId); // validates the id
    if (base === "motor") return "motor";
    return neuronId < this.ncpSizes.motorNeurons + this.ncpSizes.commandNeurons ? "command" : "inter";
  }

  private polarity(): number {
    return this.rng.choice(POLARITIES);
  }

  /** Draws `count` distinct members of `pool` (a full permutation, as numpy's legacy choice does). */
  private distinct(pool: readonly number[], count: number): number[] {
    return this.rng.choice(pool, count, false);
  }

  protected override buildSensory(inputDim: number): void {
    const sensory = range(0, inputDim);
    this.buildSensoryToInter(sensory);
    this.buildInterToCommand();
    this.buildRecurrentCommand();
    this.buildCommandToMotor();
  }

  private buildSensoryToInter(sensory: number[]): void {
    const { interNeurons, sensoryFanout } = this.ncpSizes;
    const unreached = new Set(this.interNeuronIds);
    for (const src of sensory) {
      for (const dest of this.distinct(this.interNeuronIds, sensoryFanout)) {
        unreached.delete(dest);
        this.addSensorySynapse(src, dest, this.polarity());
      }
    }
    // Inter neurons that no input reached get a few random inputs of their own.
    const fanin = clip(Math.trunc((sensory.length * sensoryFanout) / interNeurons), 1, sensory.length);
    for (const dest of this.interNeuronIds) {
      if (!unreached.has(dest)) continue;
      for (const src of this.distinct(sensory, fanin)) this.addSensorySynapse(src, dest, this.polarity());
    }
  }

  private buildInterToCommand(): void {
    const { interNeurons, commandNeurons, interFanout } = this.ncpSizes;
    const unreached = new Set(this.commandNeuronIds);
    for (const src of this.interNeuronIds) {
      for (const dest of this.distinct(this.commandNeuronIds, interFanout)) {
        unreached.delete(dest);
        this.addSynapse(src, dest, this.polarity());
      }
    }
    // ncps clips this count to the number of command neurons although it samples inter neurons;
    // the validation above keeps it within the inter neurons anyway.
    const fanin = clip(Math.trunc((interNeurons * interFanout) / commandNeurons), 1, commandNeurons);
    for (const dest of this.commandNeuronIds) {
      if (!unreached.has(dest)) continue;
      for (const src of this.distinct(this.interNeuronIds, fanin)) this.addSynapse(src, dest, this.polarity());
    }
  }

  private buildRecurrentCommand(): void {
    for (let i = 0; i < this.ncpSizes.recurrentCommandSynapses; i++) {
      const src = this.rng.choice(this.commandNeuronIds);
      const dest = this.rng.choice(this.commandNeuronIds);
      this.addSynapse(src, dest, this.polarity());
    }
  }

  private buildCommandToMotor(): void {
    const { commandNeurons, motorNeurons, motorFanin } = this.ncpSizes;
    const unreached = new Set(this.commandNeuronIds);
    for (const dest of this.motorNeuronIds) {
      for (const src of this.distinct(this.commandNeuronIds, motorFanin)) {
        unreached.delete(src);
        this.addSynapse(src, dest, this.polarity());
      }
    }
    // Command neurons that feed no motor neuron get a few random motor targets.
    const fanout = clip(Math.trunc((motorNeurons * motorFanin) / commandNeurons), 1, motorNeurons);
    for (const src of this.commandNeuronIds) {
      if (!unreached.has(src)) continue;
      for (const dest of this.distinct(this.motorNeuronIds, fanout)) this.addSynapse(src, dest, this.polarity());
    }
  }

  /** Constructor arguments in ncps names (ncps's own NCP config is broken; this one round-trips). */
  override getConfig(): Record<string, unknown> {
    const s = this.ncpSizes;
    return {
      inter_neurons: s.interNeurons,
      command_neurons: s.commandNeurons,
      motor_neurons: s.motorNeurons,
      sensory_fanout: s.sensoryFanout,
      inter_fanout: s.interFanout,
      recurrent_command_synapses: s.recurrentCommandSynapses,
      motor_fanin: s.motorFanin,
      seed: this.seed,
    };
  }
}
