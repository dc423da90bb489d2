/**
 * An NCP sized automatically from the number of neurons, outputs and a sparsity level, with
 * ncps's `AutoNCP` formulas (40% of the non-motor neurons are command neurons, fan-outs scaled by
 * the density 1 - sparsity).
 */
import { NCP, type NcpSizes } from "./ncp.js";
import { checkPositiveInt, describeValue } from "./wiring.js";

export interface AutoNcpOptions {
  /** In [0.1, 1.0], default 0.5. */
  sparsityLevel?: number;
  /** Seed of numpy's legacy RandomState (default 22222). */
  seed?: number;
}

/** The NCP sizes AutoNCP derives, after ncps's checks. */
export function autoNcpSizes(units: number, outputSize: number, sparsityLevel = 0.5): NcpSizes {
  const owner = "AutoNCP";
  checkPositiveInt(units, "units", owner);
  checkPositiveInt(outputSize, "output_size", owner);
  if (outputSize >= units - 2) {
    throw new Error(`${owner}: output_size must be less than units - 2, got units=${units}, output_size=${outputSize}`);
  }
  // ncps's message says "between 0.0 and 0.9" but it accepts exactly [0.1, 1.0]; the check is kept.
  if (typeof sparsityLevel !== "number" || !(sparsityLevel >= 0.1 && sparsityLevel <= 1.0)) {
    throw new Error(`${owner}: sparsity_level must be between 0.1 and 1.0, got ${describeValue(sparsityLevel)}`);
  }
  const density = 1.0 - sparsityLevel;
  const interAndCommand = units - outputSize;
  const commandNeurons = Math.max(Math.trunc(0.4 * interAndCommand), 1);
  const interNeurons = interAndCommand - commandNeurons;
  return {
    interNeurons,
    commandNeurons,
    motorNeurons: outputSize,
    sensoryFanout: Math.max(Math.trunc(interNeurons * density), 1),
    interFanout: Math.max(Math.trunc(commandNeurons * density), 1),
    recurrentCommandSynapses: Math.max(Math.trunc(commandNeurons * density * 2), 1),
    motorFanin: Math.max(Math.trunc(commandNeurons * density), 1),
  };
}

export class AutoNCP extends NCP {
  readonly outputSize: number;
  readonly sparsityLevel: number;

  constructor(units: number, outputSize: number, options: AutoNcpOptions = {}) {
    const sparsityLevel = options.sparsityLevel ?? 0.5;
    const s = autoNcpSizes(units, outputSize, sparsityLevel);
    super(s.interNeurons, s.commandNeurons, s.motorNeurons, s.sensoryFanout, s.interFanout, s.recurrentCommandSynapses, s.motorFanin, {
      seed: options.seed ?? 22222,
    });
    this.outputSize = outputSize;
    this.sparsityLevel = sparsityLevel;
  }

  override get kind(): string {
    return "AutoNCP";
  }

  override getConfig(): Record<string, unknown> {
    return { units: this.units, output_size: this.outputSize, sparsity_level: this.sparsityLevel, seed: this.seed };
  }
}
