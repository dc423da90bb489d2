/**
 * The models `ncps bench` knows by name, each an ncps-style config built through buildModel, so a model
 * kind that another build adds (ODERNN, GRUODE, ODELSTM) is benchmarked as soon as buildModel knows it,
 * and reported as not available until then.
 *
 * ODE models take their size as their toConfig writes it (CTRNN `units`; ODERNN, ODELSTM, GRUODE
 * `hidden_size`, with ODERNN's and ODELSTM's field width `ode_units` left at its default, the hidden
 * size) and their solver flat among their constructor arguments, in odeOptionsToArgs's names:
 * `solver`, `steps_per_gap` (euler, rk4), `rtol`, `atol` (dopri5).
 */
import type { BackendKind } from "../engine/engine.js";
import { buildModel, MODEL_KINDS, type ModelConfig } from "../models/build.js";
import { ODE_SOLVERS, type OdeSolverName } from "../models/ode-solver.js";
import type { RecurrentModel } from "../models/recurrent.js";

/** Sizes every model of a benchmark shares. */
export interface BenchSizes {
  inputSize: number;
  /** hidden units (neurons of a wiring) */
  units: number;
  /** CfC backbone width and depth (the other models have no backbone) */
  backboneUnits: number;
  backboneLayers: number;
  /** LTC solver unfolds per observation */
  odeUnfolds: number;
}

/** An ODE model's solver as the bench sets it. */
export interface BenchSolver {
  solver: OdeSolverName;
  /** euler, rk4: steps per elapsed time */
  stepsPerGap?: number;
  /** dopri5 tolerances */
  rtol?: number;
  atol?: number;
}

/** The suite's two solver settings: classic RK4 with one step per observation, and dopri5 at rtol 1e-3 / atol 1e-4. */
export const RK4: BenchSolver = { solver: "rk4", stepsPerGap: 1 };
export const DOPRI5: BenchSolver = { solver: "dopri5", rtol: 1e-3, atol: 1e-4 };

export interface BenchModelKind {
  /** the --model name */
  name: string;
  /** the buildModel kind (`config.model`) */
  kind: string;
  /** whether it integrates an ODE with a choosable solver */
  ode: boolean;
  /** whether --wiring applies (CfC and LTC take a wiring as units) */
  wirable: boolean;
  /** constructor arguments besides input_size, units/hidden_size and the solver's */
  config(s: BenchSizes): Record<string, unknown>;
}

const cfc = (name: string, extra: Record<string, unknown>): BenchModelKind => ({
  name,
  kind: "CfC",
  ode: false,
  wirable: true,
  config: (s) => ({ units: s.units, backbone_units: s.backboneUnits, backbone_layers: s.backboneLayers, ...extra }),
});
const odeModel = (name: string, kind: string, sizeArg: "units" | "hidden_size"): BenchModelKind => ({ name, kind, ode: true, wirable: false, config: (s) => ({ [sizeArg]: s.units }) });

export const BENCH_MODELS: readonly BenchModelKind[] = [
  cfc("cfc", {}),
  cfc("cfc-no_gate", { mode: "no_gate" }),
  cfc("cfc-pure", { mode: "pure" }),
  cfc("cfc-mixed", { mixed_memory: true }),
  { name: "ltc", kind: "LTC", ode: false, wirable: true, config: (s) => ({ units: s.units, ode_unfolds: s.odeUnfolds }) },
  odeModel("ct-rnn", "CTRNN", "units"),
  odeModel("ode-rnn", "ODERNN", "hidden_size"),
  odeModel("gru-ode", "GRUODE", "hidden_size"),
  odeModel("ode-lstm", "ODELSTM", "hidden_size"),
  { name: "gru", kind: "GRU", ode: false, wirable: false, config: (s) => ({ hidden_size: s.units }) },
  { name: "lstm", kind: "LSTM", ode: false, wirable: false, config: (s) => ({ hidden_size: s.units }) },
];

export const BENCH_MODEL_NAMES = BENCH_MODELS.map((m) => m.name);

export function benchModelKind(name: string): BenchModelKind | undefined {
  return BENCH_MODELS.find((m) => m.name === name);
}

export function isSolverName(s: string): s is OdeSolverName {
  return (ODE_SOLVERS as readonly string[]).includes(s);
}

/** An AutoNCP wiring of `units` neurons as a spec: output_size units/8 (at least 1), as the bench has always used. */
export function autoNcpUnits(units: number, sparsityLevel: number): Record<string, unknown> {
  return { wiring: { kind: "AutoNCP", args: { units, output_size: Math.max(1, Math.floor(units / 8)), sparsity_level: sparsityLevel } } };
}

export interface BenchModelChoice {
  name: string;
  sizes: BenchSizes;
  /** ODE models: the solver (required for them, refused for the others by the callers) */
  solver?: BenchSolver;
  /** CfC, LTC: an AutoNCP wiring of `units` neurons with this sparsity instead of full connectivity */
  autoNcpSparsity?: number;
}

/** The buildModel config of a bench model. */
export function benchModelConfig(choice: BenchModelChoice): ModelConfig {
  const m = benchModelKind(choice.name);
  if (!m) throw new Error(`unknown bench model '${choice.name}', expected one of ${BENCH_MODEL_NAMES.join(", ")}`);
  const args: Record<string, unknown> = { input_size: choice.sizes.inputSize, ...m.config(choice.sizes) };
  if (choice.autoNcpSparsity !== undefined) {
    args.units = autoNcpUnits(choice.sizes.units, choice.autoNcpSparsity);
    // a wired CfC has no backbone of its own (ncps's WiredCfCCell)
    delete args.backbone_units;
    delete args.backbone_layers;
  }
  if (m.ode) {
    const s = choice.solver ?? DOPRI5;
    args.solver = s.solver;
    if (s.stepsPerGap !== undefined) args.steps_per_gap = s.stepsPerGap;
    if (s.rtol !== undefined) args.rtol = s.rtol;
    if (s.atol !== undefined) args.atol = s.atol;
  }
  return { model: m.kind, constructor_args: args };
}

/** Whether this build's buildModel knows the config's model kind. */
export function modelKindAvailable(config: ModelConfig): boolean {
  return (MODEL_KINDS as readonly string[]).includes(config.model);
}

/** Why a config cannot be benchmarked in this build, or null when it can. */
export function unavailableReason(config: ModelConfig): string | null {
  if (modelKindAvailable(config)) return null;
  return `${config.model} is not in this build (buildModel knows ${MODEL_KINDS.join(", ")})`;
}

export function buildBenchModel(config: ModelConfig, backend: BackendKind, seed = 1): RecurrentModel {
  return buildModel(config, { backend, seed });
}
