/**
 * Builds a model from an ncps-style description: `{ model: "CfC" | "LTC" | "LSTM" | "GRU" | "CTRNN" |
 * "GRUODE" | "ODERNN" | "ODELSTM", constructor_args: {...} }` with ncps's snake_case argument names, `units` an int or
 * `{ wiring: { kind, args } }`; the ODE baselines take their solver's options as snake_case arguments too. This is the format of
 * the PyTorch reference cases and of checkpoint metadata, so a file alone is enough to rebuild a model.
 */
import type { BackendKind, Engine } from "../engine/engine.js";
import { wiringFromSpec } from "../wirings/spec.js";
import { CfC, type CfCOptions } from "./cfc.js";
import { LTC, type LTCOptions } from "./ltc.js";
import { GRU } from "./gru.js";
import { LSTM } from "./lstm.js";
import { CTRNN } from "./ct-rnn.js";
import { GRUODE } from "./gru-ode.js";
import { ODELSTM } from "./ode-lstm.js";
import { ODERNN } from "./ode-rnn.js";
import { type OdeSolverOptions, odeOptionsFromArgs } from "./ode-solver.js";
import type { RecurrentModel } from "./recurrent.js";
import { checkConfigLimits } from "./config-limits.js";

export interface ModelConfig {
  model: string;
  constructor_args: Record<string, unknown>;
}

/** Options every ODE baseline takes besides its solver's. */
interface OdeModelOptions extends OdeSolverOptions {
  projSize?: number | null;
  returnSequences?: boolean;
  batchFirst?: boolean;
  mixedMemory?: boolean;
  odeUnits?: number;
  seed?: number;
  backend?: BackendKind;
  engine?: Engine;
}

/**
 * The ODE baselines: each is built from input_size, its size argument, the common arguments below and
 * its solver's (odeOptionsFromArgs). `extra` maps further snake_case arguments to options.
 */
const ODE_MODELS: Record<string, { size: string; extra?: Record<string, keyof OdeModelOptions>; create(inputSize: number, size: number, options: OdeModelOptions): RecurrentModel }> = {
  CTRNN: { size: "units", extra: { mixed_memory: "mixedMemory" }, create: (i, n, o) => new CTRNN(i, n, o) },
  GRUODE: { size: "hidden_size", create: (i, n, o) => new GRUODE(i, n, o) },
  ODERNN: { size: "hidden_size", extra: { ode_units: "odeUnits" }, create: (i, n, o) => new ODERNN(i, n, o) },
  ODELSTM: { size: "hidden_size", extra: { ode_units: "odeUnits" }, create: (i, n, o) => new ODELSTM(i, n, o) },
};
const ODE_COMMON_ARGS: Record<string, keyof OdeModelOptions> = { proj_size: "projSize", return_sequences: "returnSequences", batch_first: "batchFirst" };
const ODE_SOLVER_ARGS = ["solver", "step_size", "steps_per_gap", "rtol", "atol", "safety", "min_factor", "max_factor", "first_step", "min_step", "max_step", "max_steps"];

/** The model kinds a config can name (`config.model`). */
export const MODEL_KINDS: readonly string[] = ["CfC", "LTC", "LSTM", "GRU", ...Object.keys(ODE_MODELS)];

export interface BuildOptions {
  backend?: BackendKind;
  engine?: Engine;
  seed?: number;
}


const CFC_ARGS: Record<string, keyof CfCOptions | null> = {
  input_size: null,
  units: null,
  proj_size: "projSize",
  return_sequences: "returnSequences",
  batch_first: "batchFirst",
  mixed_memory: "mixedMemory",
  forget_bias: "forgetBias",
  mode: "mode",
  variant: "variant",
  activation: "activation",
  backbone_units: "backboneUnits",
  backbone_layers: "backboneLayers",
  backbone_dropout: "backboneDropout",
  wiring_recurrence: "wiringRecurrence",
};

const LTC_ARGS: Record<string, keyof LTCOptions | null> = {
  input_size: null,
  units: null,
  return_sequences: "returnSequences",
  batch_first: "batchFirst",
  mixed_memory: "mixedMemory",
  input_mapping: "inputMapping",
  output_mapping: "outputMapping",
  ode_unfolds: "odeUnfolds",
  epsilon: "epsilon",
  implicit_param_constraints: "implicitParamConstraints",
};
/** Arguments where null is a value of its own (identity mapping), not "use the default". */
const LTC_NULLABLE = new Set(["input_mapping", "output_mapping"]);

export function resolveUnits(units: unknown, where: string): number | ReturnType<typeof wiringFromSpec> {
  if (typeof units === "number") return units;
  if (units && typeof units === "object" && "wiring" in units) return wiringFromSpec((units as { wiring: unknown }).wiring);
  throw new Error(`${where}: units must be an integer or {"wiring": {"kind": ..., "args": {...}}}, got ${JSON.stringify(units)}`);
}

export function buildModel(config: ModelConfig, build: BuildOptions = {}): RecurrentModel {
  if (!config || typeof config !== "object") throw new Error(`model config must be an object, got ${JSON.stringify(config)}`);
  const args = config.constructor_args;
  if (!args || typeof args !== "object") throw new Error(`model config: constructor_args must be an object`);
  checkConfigLimits(config);
  const inputSize = args.input_size;
  if (!Number.isInteger(inputSize)) throw new Error(`constructor_args.input_size must be an integer, got ${JSON.stringify(inputSize)}`);
  if (config.model === "CfC") {
    const opts: CfCOptions = { backend: build.backend, engine: build.engine, seed: build.seed };
    for (const [k, v] of Object.entries(args)) {
      if (!(k in CFC_ARGS)) throw new Error(`CfC: unknown constructor argument '${k}' (known: ${Object.keys(CFC_ARGS).join(", ")})`);
      const name = CFC_ARGS[k];
      if (name && v !== null && v !== undefined) (opts as Record<string, unknown>)[name] = v;
    }
    return new CfC(inputSize as number, resolveUnits(args.units, "CfC"), opts);
  }
  if (config.model === "LTC") {
    const opts: LTCOptions = { backend: build.backend, engine: build.engine, seed: build.seed };
    for (const [k, v] of Object.entries(args)) {
      if (!(k in LTC_ARGS)) throw new Error(`LTC: unknown constructor argument '${k}' (known: ${Object.keys(LTC_ARGS).join(", ")})`);
      const name = LTC_ARGS[k];
      if (name && v !== undefined && (v !== null || LTC_NULLABLE.has(k))) (opts as Record<string, unknown>)[name] = v;
    }
    return new LTC(inputSize as number, resolveUnits(args.units, "LTC"), opts);
  }
  if (config.model === "LSTM" || config.model === "GRU") {
    const known = ["input_size", "hidden_size", "proj_size", "return_sequences", "batch_first"];
    for (const k of Object.keys(args)) if (!known.includes(k)) throw new Error(`${config.model}: unknown constructor argument '${k}' (known: ${known.join(", ")})`);
    const Baseline = config.model === "LSTM" ? LSTM : GRU;
    return new Baseline(inputSize as number, args.hidden_size as number, {
      projSize: (args.proj_size as number | null) ?? null,
      returnSequences: (args.return_sequences as boolean | undefined) ?? true,
      batchFirst: (args.batch_first as boolean | undefined) ?? true,
      backend: build.backend,
      engine: build.engine,
      seed: build.seed,
    });
  }
  const ode = Object.hasOwn(ODE_MODELS, config.model) ? ODE_MODELS[config.model] : undefined;
  if (ode) {
    const model = config.model;
    const known = ["input_size", ode.size, ...Object.keys(ODE_COMMON_ARGS), ...Object.keys(ode.extra ?? {}), ...ODE_SOLVER_ARGS];
    for (const k of Object.keys(args)) if (!known.includes(k)) throw new Error(`${model}: unknown constructor argument '${k}' (known: ${known.join(", ")})`);
    const size = args[ode.size];
    if (!Number.isInteger(size)) throw new Error(`${model}: constructor_args.${ode.size} must be an integer, got ${JSON.stringify(size)}`);
    const opts: OdeModelOptions = { ...odeOptionsFromArgs(args), backend: build.backend, engine: build.engine, seed: build.seed };
    for (const [k, name] of Object.entries({ ...ODE_COMMON_ARGS, ...ode.extra })) {
      if (args[k] !== null && args[k] !== undefined) (opts as Record<string, unknown>)[name] = args[k];
    }
    return ode.create(inputSize as number, size as number, opts);
  }
  throw new Error(`unknown model '${config.model}', expected one of ${MODEL_KINDS.map((k) => JSON.stringify(k)).join(", ")}`);
}
