/**
 * Bounds on a model config, checked before anything is built. A config read from a file is untrusted:
 * one changed digit can ask for 2^31 backbone layers (V8 aborts growing an array that long) or a
 * 30,000-neuron wiring (a 900-million-entry adjacency matrix), and building either would crash or run
 * for minutes before the tensor list could show the file is wrong. The limits are far above any model
 * this library trains in practice and keep a build within seconds and a few GB:
 *  - widths (input_size, units, hidden_size, backbone_units, proj_size, ode_units): integers <= 65536;
 *  - backbone_layers <= 1000, ode_unfolds <= 10000, steps_per_gap <= 10000, max_steps <= 1e6;
 *  - neurons of a wiring <= 4096 (its adjacency matrices are dense);
 *  - the parameter count the config implies (an estimate that errs high) <= 2e8.
 * Only sizes are checked here; types, ranges and combinations are the constructors' job.
 */
import type { ModelConfig } from "./build.js";

export const CONFIG_LIMITS = {
  width: 65536,
  backboneLayers: 1000,
  odeUnfolds: 10000,
  stepsPerGap: 10000,
  maxSteps: 1_000_000,
  wiringNeurons: 4096,
  parameters: 2e8,
} as const;

const WIDTH_ARGS = ["input_size", "units", "hidden_size", "backbone_units", "proj_size", "ode_units"];
const COUNT_ARGS: Record<string, number> = {
  backbone_layers: CONFIG_LIMITS.backboneLayers,
  ode_unfolds: CONFIG_LIMITS.odeUnfolds,
  steps_per_gap: CONFIG_LIMITS.stepsPerGap,
  max_steps: CONFIG_LIMITS.maxSteps,
};

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function checkCount(value: unknown, where: string, max: number): void {
  if (typeof value !== "number") return; // not a number: the constructor reports the type
  if (Number.isInteger(value) && value > max) throw new Error(`${where} is ${value}, above the limit of ${max}`);
}

/** Neurons of a wiring spec, without building it; 0 when the spec is not understood (the builder reports it). */
function wiringNeurons(spec: unknown, where: string): number {
  if (!isObject(spec) || !isObject(spec.args)) return 0;
  const a = spec.args;
  const num = (k: string): number => (typeof a[k] === "number" && Number.isFinite(a[k]) ? (a[k] as number) : 0);
  let neurons: number;
  let name: string;
  if (spec.kind === "NCP") {
    neurons = num("inter_neurons") + num("command_neurons") + num("motor_neurons");
    name = "inter_neurons + command_neurons + motor_neurons";
    for (const k of ["sensory_fanout", "inter_fanout", "recurrent_command_synapses", "motor_fanin"]) checkCount(a[k], `${where}.args.${k}`, CONFIG_LIMITS.wiringNeurons * CONFIG_LIMITS.wiringNeurons);
  } else {
    neurons = num("units");
    name = "units";
  }
  if (neurons > CONFIG_LIMITS.wiringNeurons) throw new Error(`${where}.args.${name} is ${neurons} neurons, above the limit of ${CONFIG_LIMITS.wiringNeurons}`);
  return neurons;
}

/**
 * Throws an Error naming the argument when a config asks for a model beyond CONFIG_LIMITS; `owner`
 * prefixes the message (e.g. "constructor_args").
 */
export function checkConfigLimits(config: ModelConfig, owner = "constructor_args"): void {
  const parameters = impliedParameterCount(config, owner);
  if (parameters > CONFIG_LIMITS.parameters) {
    throw new Error(`${owner}: the config implies about ${parameters.toExponential(2)} parameters, above the limit of ${CONFIG_LIMITS.parameters.toExponential(0)}`);
  }
}

/** Checks each size argument against its limit and returns an estimate (never below the truth) of the parameter count. */
export function impliedParameterCount(config: ModelConfig, owner = "constructor_args"): number {
  if (!isObject(config) || !isObject(config.constructor_args)) return 0;
  const args = config.constructor_args;
  for (const k of WIDTH_ARGS) {
    if (k === "units" && isObject(args.units)) continue;
    checkCount(args[k], `${owner}.${k}`, CONFIG_LIMITS.width);
  }
  for (const [k, max] of Object.entries(COUNT_ARGS)) checkCount(args[k], `${owner}.${k}`, max);
  const size = (k: string, fallback: number): number => (typeof args[k] === "number" && Number.isFinite(args[k]) && (args[k] as number) > 0 ? (args[k] as number) : fallback);
  const inputs = size("input_size", 1);
  const wired = isObject(args.units) ? wiringNeurons(args.units.wiring, `${owner}.units.wiring`) : 0;
  const units = wired || size("units", 0) || size("hidden_size", 0);
  const projection = units * size("proj_size", 0);
  let parameters: number;
  switch (config.model) {
    case "CfC": {
      const layers = size("backbone_layers", 1);
      const backbone = size("backbone_units", 128);
      const head = layers > 0 ? backbone : inputs + units;
      parameters = (inputs + units) * backbone + (layers - 1) * backbone * backbone + 4 * head * units + 4 * (inputs + units) * units;
      if (wired) parameters = 10 * (inputs + units) * units + 10 * units;
      break;
    }
    case "LTC":
      parameters = 9 * (inputs + units) * units + 2 * inputs + 10 * units;
      break;
    default: {
      const ode = size("ode_units", 0);
      parameters = 4 * (inputs + units + ode) * (units + ode) + 4 * (inputs + units) * units;
    }
  }
  // biases, time constants and other per-unit vectors
  return parameters + projection + 16 * (inputs + units + size("proj_size", 0) + size("ode_units", 0) + size("backbone_units", 128)) + 16;
}

/**
 * A count the model's state_dict surely reaches (its largest weight matrices), from the config alone:
 * a file whose tensors hold fewer values cannot be this model, and is refused before a build that
 * could take far longer than reading the file did. 0 when the config is not understood.
 */
export function minimumParameterCount(config: ModelConfig): number {
  if (!isObject(config) || !isObject(config.constructor_args)) return 0;
  const args = config.constructor_args;
  const size = (k: string, fallback: number): number => (typeof args[k] === "number" && Number.isInteger(args[k]) && (args[k] as number) > 0 ? (args[k] as number) : fallback);
  const inputs = size("input_size", 0);
  const wired = isObject(args.units);
  const units = wired ? wiringNeurons((args.units as Record<string, unknown>).wiring, "units.wiring") : size("units", 0) || size("hidden_size", 0);
  switch (config.model) {
    case "CfC": {
      if (wired) {
        // each layer's ff1 weight: its neurons by (the previous layer's neurons + its own)
        let count = 0;
        let previous = inputs;
        for (const neurons of wiringLayerSizes((args.units as Record<string, unknown>).wiring)) {
          count += neurons * (previous + neurons);
          previous = neurons;
        }
        return count;
      }
      const layers = typeof args.backbone_layers === "number" && Number.isInteger(args.backbone_layers) && args.backbone_layers >= 0 ? args.backbone_layers : 1;
      const backbone = size("backbone_units", 128);
      return layers > 0 ? (inputs + units) * backbone + (layers - 1) * backbone * backbone + units * backbone : (inputs + units) * units;
    }
    case "LTC":
      return units * units + inputs * units;
    case "LSTM":
      return 4 * units * (inputs + units);
    case "GRU":
      return 3 * units * (inputs + units);
    default:
      return units * (inputs + units);
  }
}

/** Neurons per layer of a wiring spec, as its class lays them out (ncps's formulas); one layer of all units otherwise. */
function wiringLayerSizes(spec: unknown): number[] {
  if (!isObject(spec) || !isObject(spec.args)) return [];
  const a = spec.args;
  const int = (k: string): number => (typeof a[k] === "number" && Number.isInteger(a[k]) && (a[k] as number) > 0 ? (a[k] as number) : 0);
  if (spec.kind === "NCP") return [int("inter_neurons"), int("command_neurons"), int("motor_neurons")];
  if (spec.kind === "AutoNCP") {
    const interAndCommand = int("units") - int("output_size");
    if (interAndCommand < 1) return [];
    const command = Math.max(Math.trunc(0.4 * interAndCommand), 1);
    return [interAndCommand - command, command, int("output_size")];
  }
  return [int("units")];
}
