/**
 * What the ODE models (CTRNN, GRUODE, ODERNN, ODELSTM) share: their common options (the recurrent
 * model's and the solver's, given flat) with their resolver and snake_case config names, ODERNN's and
 * ODELSTM's odeUnits on top, and `ObservationSolver`, one ODE solve per observation of a sequence: the
 * solver, the engine memory its records grow in, the record of every step of a pass with grad, and the
 * observation index the solver names in its errors.
 *
 * Each solve is `OdeSolver.solve` with the observation index set to the step of the sequence (counted
 * from the start of the pass), so a wrapper of `solver.solve` can tell the observations apart (e.g. to
 * replay dopri5's accepted grids in finite-difference checks).
 */
import type { Engine } from "../engine/engine.js";
import {
  EngineArena,
  OdeSolver,
  type OdeSolverOptions,
  type ResolvedOdeOptions,
  type SolveTape,
  type VectorField,
  odeOptionsToArgs,
  resolveOdeOptions,
} from "./ode-solver.js";
import { SEQUENCE_MODEL_OPTION_NAMES, type SequenceModelOptions, rejectUnknownOptions } from "./options.js";
import { GruCache, type GruCell } from "../nn/gru-cell.js";
import type { Rng } from "../nn/rng.js";
import { type PassMode, RecurrentModel, type RecurrentOptions } from "./recurrent.js";

/**
 * Options every ODE model takes: the solver's (see ode-solver.ts, given flat among the model's) and the
 * recurrent model's. Each model adds its own (CTRNN mixedMemory, ODERNN and ODELSTM odeUnits).
 */
export interface OdeModelOptions extends OdeSolverOptions, SequenceModelOptions {}

const SOLVER_OPTION_NAMES = Object.keys({
  solver: true, stepSize: true, stepsPerGap: true, rtol: true, atol: true, safety: true, minFactor: true, maxFactor: true,
  firstStep: true, minStep: true, maxStep: true, maxSteps: true,
} satisfies Record<keyof OdeSolverOptions, true>);

/** The option names of an ODE model whose own options are `extras` (listed first). */
export function odeModelOptionNames(extras: readonly string[] = []): string[] {
  return [...extras, ...SEQUENCE_MODEL_OPTION_NAMES, ...SOLVER_OPTION_NAMES];
}

/** The common options of an ODE model with every default filled in. */
export interface ResolvedOdeModelOptions {
  projSize: number | null;
  returnSequences: boolean;
  batchFirst: boolean;
  seed: number;
  ode: ResolvedOdeOptions;
}

/**
 * Validates the options of `owner` (unknown names, unless `names` is null because the model checked
 * them itself; then `sizes`, each a positive integer; then the solver's) and fills in the defaults.
 */
export function resolveOdeModelOptions(owner: string, options: OdeModelOptions, names: readonly string[] | null, sizes: Record<string, number>): ResolvedOdeModelOptions {
  if (names) rejectUnknownOptions(owner, options, names);
  for (const [name, size] of Object.entries(sizes)) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`${owner}: ${name} must be a positive integer, got ${String(size)}`);
  }
  const solverOptions: Record<string, unknown> = {};
  for (const k of SOLVER_OPTION_NAMES) if ((options as Record<string, unknown>)[k] !== undefined) solverOptions[k] = (options as Record<string, unknown>)[k];
  return {
    projSize: options.projSize ?? null,
    returnSequences: options.returnSequences ?? true,
    batchFirst: options.batchFirst ?? true,
    seed: options.seed ?? 0,
    ode: resolveOdeOptions(solverOptions as OdeSolverOptions, owner),
  };
}

/** RecurrentModel's settings from resolved options. */
export function odeModelSettings(o: ResolvedOdeModelOptions, mixedMemory = false): RecurrentOptions {
  return { returnSequences: o.returnSequences, batchFirst: o.batchFirst, mixedMemory, projSize: o.projSize, seed: o.seed };
}

/** The recurrent model's constructor arguments, snake_case (the solver's come from odeOptionsToArgs). */
export function odeModelArgs(o: Pick<ResolvedOdeModelOptions, "projSize" | "returnSequences" | "batchFirst">): Record<string, unknown> {
  return { proj_size: o.projSize, return_sequences: o.returnSequences, batch_first: o.batchFirst };
}

/** Options of ODERNN and ODELSTM. */
export interface OdeRecurrentOptions extends OdeModelOptions {
  /** width of the MLP field's hidden layer; default: the hidden size */
  odeUnits?: number;
}

export const ODE_RECURRENT_OPTION_NAMES = odeModelOptionNames(
  Object.keys({ odeUnits: true } satisfies Record<Exclude<keyof OdeRecurrentOptions, keyof OdeModelOptions>, true>),
);

/** The options of ODERNN or ODELSTM with every default filled in (its config). */
export interface ResolvedOdeRecurrentOptions extends ResolvedOdeModelOptions {
  hiddenSize: number;
  odeUnits: number;
}

/** Validates the options of `owner` (unknown names, sizes, the solver's) and fills in the defaults. */
export function resolveOdeRecurrentOptions(owner: string, hiddenSize: number, options: OdeRecurrentOptions): ResolvedOdeRecurrentOptions {
  const odeUnits = options.odeUnits ?? hiddenSize;
  const common = resolveOdeModelOptions(owner, options, ODE_RECURRENT_OPTION_NAMES, { hiddenSize, odeUnits });
  return { hiddenSize, odeUnits, ...common };
}

/** The constructor arguments of a config (`toConfig().constructor_args`), snake_case. */
export function odeRecurrentArgs(inputSize: number, o: ResolvedOdeRecurrentOptions): Record<string, unknown> {
  return {
    input_size: inputSize,
    hidden_size: o.hiddenSize,
    ode_units: o.odeUnits,
    ...odeModelArgs(o),
    ...odeOptionsToArgs(o.ode),
  };
}

/** A pass's solver buffers (part of a model's core cache). */
export interface ObservationSolveCache {
  readonly grad: boolean;
  readonly rows: number;
  /** the solver's workspace for `rows` rows */
  readonly work: number;
  /** per slot: the solve's record (grad only) */
  readonly tapes: Array<SolveTape | null>;
}

export class ObservationSolver {
  readonly solver: OdeSolver;
  /** the records of the last pass with grad, in memory that grows as needed */
  private readonly arena: EngineArena;
  /** observations since the pass began */
  private observation = 0;

  /** owner: the model, named in errors */
  constructor(readonly engine: Engine, field: VectorField, options: ResolvedOdeOptions, readonly owner: string) {
    this.solver = new OdeSolver(engine, field, options);
    this.arena = new EngineArena(engine);
  }

  /** At the start of a pass (a model's corePrepare). */
  startPass(): void {
    this.observation = 0;
  }

  /** Buffers for a pass of `steps` slots of `rows` rows (a model's coreCache). */
  cache(steps: number, rows: number, grad: boolean): ObservationSolveCache {
    const e = this.engine;
    // the model may just have released its tape memory (engine.release): drop arena chunks above it
    this.arena.forgetFrom(e.mark());
    return { grad, rows, work: e.alloc(this.solver.workspaceSize(rows)), tapes: new Array<SolveTape | null>(steps).fill(null) };
  }

  /**
   * Evolves y0 (rows x S, ld ldy0) over the elapsed times ts (rows) into yOut (ld ldOut; may be y0),
   * the field reading the per-row context ctx (ld ldCtx) when it has one.
   */
  solve(cache: ObservationSolveCache, slot: number, rows: number, y0: number, ldy0: number, ts: number, yOut: number, ldOut: number, ctx?: number, ldCtx?: number): void {
    if (cache.grad && slot === 0) this.arena.reset();
    const { tape } = this.solver.solve({
      rows, y0, ldy0, ctx, ldCtx, ts, yOut, ldOut, workspace: cache.work, tape: cache.grad ? this.arena : null, observation: this.observation++,
    });
    cache.tapes[slot] = tape;
  }

  /**
   * Backward of slot's solve: dyOut (ld ldDyOut) is d loss / d yOut; accumulates d loss / d y0 into dy0
   * (ld ldDy0), d loss / d ts into dts (rows), d loss / d ctx into dCtx (ld ldDCtx; when given) and the
   * field's parameter gradients.
   */
  backward(cache: ObservationSolveCache, slot: number, dyOut: number, ldDyOut: number, dy0: number, ldDy0: number, dts: number, dCtx?: number, ldDCtx?: number): void {
    const tape = cache.tapes[slot];
    if (!tape) throw new Error(`${this.owner}: no solver record for step ${slot} (backward needs a forward with grad)`);
    this.solver.backward(tape, { dyOut, ldDyOut, dy0, ldDy0, dCtx, ldDCtx, dts, workspace: cache.work });
  }
}

interface EvolveThenGruCache {
  gru: GruCache;
  ode: ObservationSolveCache;
  /** per slot: the state evolved to the observation, which the GRU reads (slots x rows x H) */
  evolved: number;
  /** rows x H: d loss / d evolved state of one step (grad only) */
  dEvolved: number;
  /** the step the next coreForward runs, counted from the last coreMapInputs */
  nextStep: number;
}

/**
 * The recurrence of GRUODE and ODERNN, which differ only in their field and names: at each observation
 * the state h evolves over the elapsed time, then takes the observation by a GRU update,
 * h = GRUCell(x, h_evolved). The state and the output are h.
 */
export abstract class EvolveThenGruModel extends RecurrentModel {
  abstract readonly hiddenSize: number;
  abstract readonly field: VectorField & { prepare(): void };
  abstract readonly cell: GruCell;
  protected abstract readonly observations: ObservationSolver;

  protected corePrepare(): void {
    this.field.prepare();
    this.cell.prepare();
    this.observations.startPass();
  }

  protected coreCache(steps: number, rows: number, { grad, sequenceSteps }: PassMode): EvolveThenGruCache {
    const e = this.engine;
    const H = this.hiddenSize;
    return {
      gru: new GruCache(e, H, sequenceSteps, steps, rows, grad),
      ode: this.observations.cache(steps, rows, grad),
      evolved: e.alloc(steps * rows * H),
      dEvolved: grad ? e.alloc(rows * H) : -1,
      nextStep: 0,
    };
  }

  protected override coreMapInputs(cache: unknown, steps: number, _rows: number, x: number): void {
    const c = cache as EvolveThenGruCache;
    this.cell.mapInputs(c.gru, steps, x, this.inputSize);
    c.nextStep = 0;
  }

  protected coreForward(cache: unknown, slot: number, rows: number, _x: number, _ldx: number, hPrev: number, hOut: number, ts: number, y: number, _dropout: Rng | null): void {
    const c = cache as EvolveThenGruCache;
    const H = this.hiddenSize;
    const step = c.nextStep++;
    if (step >= c.gru.inputSteps) throw new Error(`${this.observations.owner}: step ${step} runs without mapped inputs (coreMapInputs mapped ${c.gru.inputSteps})`);
    const evolved = c.evolved + slot * rows * H;
    this.observations.solve(c.ode, slot, rows, hPrev, H, ts, evolved, H);
    this.cell.forwardStep(c.gru, step, slot, rows, evolved, H, hOut, H);
    this.engine.copyRows(rows, H, hOut, H, y, H);
  }

  protected coreBackward(cache: unknown, slot: number, rows: number, dy: number, dh: number, dx: number, ldDx: number, dhPrev: number, _ts: number, dts: number, _hPrev: number, _hOut: number): void {
    const c = cache as EvolveThenGruCache;
    const e = this.engine;
    const H = this.hiddenSize;
    // the output is h itself: its gradient joins the one from later steps
    e.addRows(rows, H, dy, H, dh, H);
    e.fill(c.dEvolved, rows * H, 0);
    this.cell.backwardStep(c.gru, slot, rows, c.evolved + slot * rows * H, H, dh, H, dx, ldDx, c.dEvolved, H);
    this.observations.backward(c.ode, slot, c.dEvolved, H, dhPrev, H, dts);
  }

  protected coreFinishBackward(cache: unknown, steps: number, x: number, _hPrev: number): void {
    const c = cache as EvolveThenGruCache;
    // the GRU update read the evolved states, not the previous ones
    this.cell.finishBackward(c.gru, steps, x, this.inputSize, c.evolved, this.hiddenSize);
  }
}
