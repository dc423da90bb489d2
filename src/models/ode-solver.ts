/**
 * Batched ODE solvers for the ODE-based baselines (CT-RNN, ODE-RNN, GRU-ODE, ODE-LSTM): each sample's
 * state y (one row of a rows x S block on the engine heap) is carried through dy/dt = f(y; ctx) over its
 * own elapsed time ts[r], where f is a `VectorField` (its own forward and backward over heap offsets)
 * and ctx a per-row context held constant over the interval (for example W_x x + b of the observation).
 *
 * Solvers: "euler" and "rk4" (classic Runge-Kutta) with fixed steps, and "dopri5" (Dormand-Prince 5(4),
 * FSAL, the standard tableau) with error control as in scipy's RK45 and torchdiffeq: RMS error norm with
 * atol + rtol * max(|y|, |y_new|), Hairer's initial step selection, step factor safety * err^(-1/5)
 * bounded by [minFactor, maxFactor] (never growing right after a rejection), optional minStep/maxStep.
 *
 * How the batch is stepped. Every row takes its own steps: time is rescaled per row to s in [0, 1]
 * (t = s * ts[r]), each row keeps its own progress s and step ds in JavaScript, and a step of the
 * whole batch applies per-row step sizes dt[r] = ds[r] * ts[r] through per-row kernels (rowAxpy,
 * rowErrorNorm, copyRowsWhere). Step control decides in time units (tolerances, initial step,
 * minStep/maxStep are those of t), so rescaling changes nothing but the bookkeeping. The arithmetic of
 * a row never involves another row (on the float64 engine a sample gives the same bits alone or in any
 * batch). Rows that reach s = 1 leave the batch: the row's result is written out and the last active
 * row moves into its place, so the active rows stay a contiguous prefix and later steps evaluate the
 * field only on samples still integrating (with per-sample elapsed times of very different lengths the
 * batch shrinks instead of stepping finished samples with dt = 0).
 *
 * Gradients: discretise-then-optimise. Backward differentiates the computation that was done, through
 * every accepted step; the step grid is a constant: a row's steps are the fractions ds of its interval
 * chosen in the forward pass (fixed: ds = 1/n for its n steps; dopri5: what the controller accepted).
 * Rejected trial steps change nothing and get no gradient. What d/dts means, per solver:
 *  - euler, rk4: the exact derivative of the computed result with the step count n held fixed (the
 *    n equal steps all stretch with ts). With `stepSize`, n = ceil(ts / stepSize) jumps at multiples of
 *    stepSize; between jumps this is the derivative of the result, at a jump the one from below.
 *  - dopri5: the derivative of the computed result with the accepted grid stretched with ts (each step
 *    dt = ds * ts, ds fixed), i.e. not counting how the controller would have moved the steps. It
 *    approximates the exact dy(ts)/dts = f(y(ts)) to within the solver's tolerance.
 * A zero elapsed time takes one step of length zero, whose d/dts is exactly f(y0), the true one.
 * The same convention holds for the initial state, the field's parameters and the context: the
 * accepted grid is held fixed. `SolveRequest.grid` replays a solve's accepted grid (no step control),
 * which makes that computation a smooth function of every input, for finite-difference checks.
 *
 * Memory: a recorded solve keeps, per step and stage, the stage input, the stage derivative and the
 * field's record for the active rows (dopri5: 7 derivatives, 6 inputs, 6 records per step), in an
 * `EngineArena` whose length grows with the number of steps taken; the caller resets the arena when the
 * tape is no longer needed.
 *
 * Errors name the sample (row in the caller's order) and the observation when the caller gives its
 * index: a non-finite or negative elapsed time, a non-finite initial state, a non-finite state during
 * integration (fixed steps: at the step it appears; dopri5 rejects trial steps that produce non-finite
 * values, shrinks the step, and fails only if that cannot succeed), more than maxSteps steps, a step
 * size underflow, and a step rejected at minStep.
 */
import type { Engine } from "../engine/engine.js";

export type OdeSolverName = "euler" | "rk4" | "dopri5";
export const ODE_SOLVERS: readonly OdeSolverName[] = ["euler", "rk4", "dopri5"];

/**
 * The right-hand side f(y; ctx) of dy/dt = f, evaluated for a block of rows. Rows are independent: row
 * r of the output depends only on row r of y and ctx (and the field's parameters).
 */
export interface VectorField {
  /** Width S of the state y. */
  readonly stateSize: number;
  /** Width C of the per-row context (0: none; ctx offsets are then -1). */
  readonly contextSize: number;
  /** Floats per row that forward records for backward (rows x recordSize, contiguous). */
  readonly recordSize: number;
  /** Floats per row of scratch the field may use in forward and backward (contents undefined). */
  readonly scratchSize: number;
  /**
   * dydt[r, :] = f(y[r, :]; ctx[r, :]) for r < rows; writes the record when record >= 0. y and ctx are
   * read only; dydt does not alias them.
   */
  forward(rows: number, y: number, ldy: number, ctx: number, ldCtx: number, dydt: number, ldDydt: number, record: number, scratch: number): void;
  /**
   * Given g = d loss / d dydt (rows, ld ldG) and the forward's y, ctx and record: dy += J_y^T g (ld ldDy),
   * dCtx += J_ctx^T g (skipped when dCtx < 0), and the parameters' gradients accumulate. A record of
   * zeros with g = 0 must contribute zeros (the solver zeroes the tape rows of trial steps that produced
   * non-finite values).
   */
  backward(rows: number, y: number, ldy: number, ctx: number, ldCtx: number, record: number, g: number, ldG: number, dy: number, ldDy: number, dCtx: number, ldDCtx: number, scratch: number): void;
}

export interface OdeSolverOptions {
  /** "euler", "rk4" (fixed steps) or "dopri5" (adaptive); default "dopri5" */
  solver?: OdeSolverName;
  /**
   * euler/rk4: the largest step. Each elapsed time ts is split into n = max(1, ceil(ts / stepSize))
   * equal steps (a ts within one part in a million above a multiple of stepSize counts as that multiple,
   * so float32 times such as 0.3 with stepSize 0.1 take 3 steps). Exclusive with stepsPerGap.
   */
  stepSize?: number;
  /** euler/rk4: n equal steps per elapsed time, whatever its length; default 1 when stepSize is absent */
  stepsPerGap?: number;
  /** dopri5: relative tolerance (default 1e-3, as scipy; the float32 engine resolves about 1e-7) */
  rtol?: number;
  /** dopri5: absolute tolerance, > 0 (default 1e-6, as scipy) */
  atol?: number;
  /** dopri5: safety factor on the optimal step, in (0, 1] (default 0.9) */
  safety?: number;
  /** dopri5: smallest factor a step shrinks by after a rejection, in (0, 1] (default 0.2) */
  minFactor?: number;
  /** dopri5: largest factor a step grows by after an acceptance, >= 1 (default 10) */
  maxFactor?: number;
  /** dopri5: the first step in time units; absent: Hairer's selection (one extra field evaluation) */
  firstStep?: number;
  /** dopri5: smallest step in time units (default 0); a step rejected at minStep is an error */
  minStep?: number;
  /** dopri5: largest step in time units (default Infinity) */
  maxStep?: number;
  /** steps (accepted + rejected) one sample may take over one elapsed time before failing (default 10000) */
  maxSteps?: number;
}

/** Options with every default filled in; fields that do not apply to the solver are absent. */
export type ResolvedOdeOptions = Omit<OdeSolverOptions, "solver" | "maxSteps"> & { solver: OdeSolverName; maxSteps: number };

const FIXED_KEYS = ["stepSize", "stepsPerGap"] as const;
const ADAPTIVE_KEYS = ["rtol", "atol", "safety", "minFactor", "maxFactor", "firstStep", "minStep", "maxStep"] as const;
const ALL_KEYS: readonly string[] = ["solver", ...FIXED_KEYS, ...ADAPTIVE_KEYS, "maxSteps"];

/** Validates options (unknown names, options of another solver, ranges) and fills in the defaults. */
export function resolveOdeOptions(options: OdeSolverOptions = {}, owner = "OdeSolver"): ResolvedOdeOptions {
  for (const key of Object.keys(options)) {
    if (!ALL_KEYS.includes(key)) throw new Error(`${owner}: unknown solver option '${key}', expected one of ${ALL_KEYS.join(", ")}`);
  }
  const o = options as Record<string, unknown>;
  const solver = options.solver ?? "dopri5";
  if (!ODE_SOLVERS.includes(solver)) throw new Error(`${owner}: unknown solver '${String(solver)}', expected one of ${ODE_SOLVERS.join(", ")}`);
  const num = (key: string, ok: (v: number) => boolean, what: string): number | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !ok(v)) throw new Error(`${owner}: ${key} must be ${what}, got ${String(v)}`);
    return v;
  };
  const maxSteps = num("maxSteps", (v) => Number.isInteger(v) && v >= 1, "a positive integer") ?? 10000;
  if (solver !== "dopri5") {
    for (const key of ADAPTIVE_KEYS) {
      if (o[key] !== undefined) throw new Error(`${owner}: ${key} applies to the adaptive solver dopri5, not to ${solver}`);
    }
    const stepSize = num("stepSize", (v) => Number.isFinite(v) && v > 0, "a finite number > 0");
    const stepsPerGap = num("stepsPerGap", (v) => Number.isInteger(v) && v >= 1, "a positive integer");
    if (stepSize !== undefined && stepsPerGap !== undefined) throw new Error(`${owner}: give stepSize or stepsPerGap, not both`);
    return stepSize !== undefined ? { solver, stepSize, maxSteps } : { solver, stepsPerGap: stepsPerGap ?? 1, maxSteps };
  }
  for (const key of FIXED_KEYS) {
    if (o[key] !== undefined) throw new Error(`${owner}: ${key} applies to the fixed-step solvers euler and rk4, not to dopri5`);
  }
  const resolved: ResolvedOdeOptions = {
    solver,
    rtol: num("rtol", (v) => Number.isFinite(v) && v >= 0, "a finite number >= 0") ?? 1e-3,
    atol: num("atol", (v) => Number.isFinite(v) && v > 0, "a finite number > 0") ?? 1e-6,
    safety: num("safety", (v) => v > 0 && v <= 1, "in (0, 1]") ?? 0.9,
    minFactor: num("minFactor", (v) => v > 0 && v <= 1, "in (0, 1]") ?? 0.2,
    maxFactor: num("maxFactor", (v) => v >= 1 && v <= Infinity, ">= 1") ?? 10,
    minStep: num("minStep", (v) => Number.isFinite(v) && v >= 0, "a finite number >= 0") ?? 0,
    maxStep: num("maxStep", (v) => v > 0, "> 0 (Infinity allowed)") ?? Infinity,
    maxSteps,
  };
  const firstStep = num("firstStep", (v) => Number.isFinite(v) && v > 0, "a finite number > 0");
  if (firstStep !== undefined) resolved.firstStep = firstStep;
  if (resolved.minStep! > resolved.maxStep!) throw new Error(`${owner}: minStep (${resolved.minStep}) must not exceed maxStep (${resolved.maxStep})`);
  return resolved;
}

/** Resolved options as snake_case constructor arguments (checkpoint configs), and back. */
export function odeOptionsToArgs(o: ResolvedOdeOptions): Record<string, unknown> {
  const args: Record<string, unknown> = { solver: o.solver };
  const names: Array<[keyof ResolvedOdeOptions, string]> = [
    ["stepSize", "step_size"], ["stepsPerGap", "steps_per_gap"], ["rtol", "rtol"], ["atol", "atol"], ["safety", "safety"],
    ["minFactor", "min_factor"], ["maxFactor", "max_factor"], ["firstStep", "first_step"], ["minStep", "min_step"], ["maxStep", "max_step"],
    ["maxSteps", "max_steps"],
  ];
  for (const [key, name] of names) {
    const v = o[key];
    // JSON has no Infinity: an unbounded maxStep is written as null
    if (v !== undefined) args[name] = v === Infinity ? null : v;
  }
  return args;
}

export function odeOptionsFromArgs(args: Record<string, unknown>): OdeSolverOptions {
  const names: Record<string, keyof OdeSolverOptions> = {
    solver: "solver", step_size: "stepSize", steps_per_gap: "stepsPerGap", rtol: "rtol", atol: "atol", safety: "safety",
    min_factor: "minFactor", max_factor: "maxFactor", first_step: "firstStep", min_step: "minStep", max_step: "maxStep", max_steps: "maxSteps",
  };
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(args)) {
    const key = names[name];
    if (!key) continue;
    out[key] = name === "max_step" && v === null ? Infinity : v;
  }
  return out as OdeSolverOptions;
}

/** Work counters. Steps and row evaluations are summed over samples (per sample: divide by the rows). */
export interface OdeStepStats {
  /** accepted steps */
  accepted: number;
  /** rejected trial steps (dopri5) */
  rejected: number;
  /** field forward calls, each on a block of rows (solver loop iterations x stages, plus start-up) */
  evaluations: number;
  /** field evaluations summed over rows: the usual "number of function evaluations" times the batch */
  rowEvaluations: number;
}

export function emptyStats(): OdeStepStats {
  return { accepted: 0, rejected: 0, evaluations: 0, rowEvaluations: 0 };
}

/**
 * Engine memory for tapes whose length is known only as they are written: chunks allocated from the
 * engine and reused from the start after `reset()`. The engine's bump allocator cannot free a chunk on
 * its own; whoever releases engine memory (engine.release) must call `forgetFrom` with the released
 * mark so that chunks above it are dropped.
 */
export class EngineArena {
  private chunks: Array<{ offset: number; size: number }> = [];
  private chunk = 0;
  private used = 0;

  constructor(readonly engine: Engine, readonly minChunk = 1 << 16) {}

  alloc(n: number): number {
    const need = Math.ceil(n / 4) * 4;
    while (this.chunk < this.chunks.length) {
      const c = this.chunks[this.chunk];
      if (this.used + need <= c.size) {
        const off = c.offset + this.used;
        this.used += need;
        return off;
      }
      if (this.chunk + 1 >= this.chunks.length) break;
      this.chunk++;
      this.used = 0;
    }
    // grow geometrically so that a long tape takes few chunks
    const size = Math.max(need, this.minChunk, this.capacity());
    this.chunks.push({ offset: this.engine.alloc(size), size });
    this.chunk = this.chunks.length - 1;
    this.used = need;
    return this.chunks[this.chunk].offset;
  }

  /** Starts writing from the beginning again (earlier offsets become free for reuse). */
  reset(): void {
    this.chunk = 0;
    this.used = 0;
  }

  /** A position to roll back to. */
  mark(): { chunk: number; used: number } {
    return { chunk: this.chunk, used: this.used };
  }

  rollback(m: { chunk: number; used: number }): void {
    this.chunk = m.chunk;
    this.used = m.used;
  }

  /** Drops the chunks that engine.release(mark) freed (those reaching at or above `mark`). */
  forgetFrom(mark: number): void {
    this.chunks = this.chunks.filter((c) => c.offset + c.size <= mark);
    if (this.chunk >= this.chunks.length) {
      this.chunk = this.chunks.length;
      this.used = 0;
    }
  }

  /** Elements held. */
  capacity(): number {
    return this.chunks.reduce((s, c) => s + c.size, 0);
  }
}

/** An explicit Runge-Kutta tableau for an autonomous field (no c nodes needed). */
interface Tableau {
  /** a[i][j], j < i: stage i's input is y + dt * sum_j a[i][j] k_j */
  a: number[][];
  /** weights of the result (for FSAL tableaus, equal to the last row of a) */
  b: number[];
  /** b - b_hat: weights of the error estimate (adaptive tableaus) */
  e?: number[];
  /** the last stage is evaluated at the result (first same as last) */
  fsal: boolean;
}

const EULER: Tableau = { a: [[]], b: [1], fsal: false };
const RK4: Tableau = { a: [[], [0.5], [0, 0.5], [0, 0, 1]], b: [1 / 6, 1 / 3, 1 / 3, 1 / 6], fsal: false };
const DOPRI5_B = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0];
const DOPRI5: Tableau = {
  a: [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    DOPRI5_B.slice(0, 6),
  ],
  b: DOPRI5_B,
  e: [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40],
  fsal: true,
};
const TABLEAUS: Record<OdeSolverName, Tableau> = { euler: EULER, rk4: RK4, dopri5: DOPRI5 };
/** dopri5's error estimate is of order 4: the step factor is err^(-1/5) */
const ERROR_EXPONENT = -1 / 5;
/** a fixed-step elapsed time within this relative distance above a multiple of stepSize counts as that multiple */
const STEP_COUNT_SLACK = 1e-6;

/** Rows that finished after a step: written out, and the last active row moved into each one's place. */
type FinishRecord =
  /** every active row finished (the last step): active position p held caller row rows[p] */
  | { all: true; rows: Int32Array }
  /** triples (position, caller row, last active position before the move), in the order done */
  | { all: false; moves: number[] };

/** One step of the active rows, as recorded for backward. */
interface StepRecord {
  active: number;
  /** the caller's row at each active position */
  rows: Int32Array;
  /** per active position: the fraction of its interval this step covered */
  ds: Float64Array;
  /** heap: per active position dt = ds * ts */
  dt: number;
  /** heap: per active position 1 if accepted, 0 if rejected (dopri5; -1 for fixed steps: all accepted) */
  mask: number;
  /** heap offsets per stage (active x S, active x S, active x recordSize); -1 where not needed */
  ys: number[];
  ks: number[];
  recs: number[];
  finish: FinishRecord | null;
}

/** What backward needs from one solve. Valid while the arena it was written to is not reset. */
export interface SolveTape {
  readonly rows: number;
  readonly ctx: number;
  readonly ldCtx: number;
  /** dopri5: k1 = f(y0) over all rows (stage input and record) */
  readonly initial: { y: number; rec: number } | null;
  readonly steps: StepRecord[];
}

export interface SolveRequest {
  rows: number;
  /** initial states (rows x S, ld ldy0, default S) */
  y0: number;
  ldy0?: number;
  /** per-row contexts (rows x C, ld ldCtx, default C); must hold the same values when backward runs */
  ctx?: number;
  ldCtx?: number;
  /** per-row elapsed times (rows values, contiguous), >= 0 */
  ts: number;
  /** results (rows x S, ld ldOut, default S); may be y0 itself */
  yOut: number;
  ldOut?: number;
  /**
   * workspaceSize(rows) elements. Absent: the solver's own, allocated from the engine on first use and
   * grown when needed; a caller that gives engine memory back (engine.release) passes its own.
   */
  workspace?: number;
  /** record the solve for backward into this arena */
  tape?: EngineArena | null;
  /** index of the observation (time step of a sequence), named in error messages */
  observation?: number;
  /**
   * dopri5 only: take these steps instead of controlling them, every one accepted (per row, the
   * fractions of its interval, e.g. `acceptedSteps` of an earlier solve's tape). The same computation as
   * that solve's accepted steps, as a smooth function of y0, ctx, ts and the parameters: what
   * finite-difference checks of the discretise-then-optimise gradient compare against.
   */
  grid?: ReadonlyArray<ArrayLike<number>>;
}

export interface SolveResult {
  tape: SolveTape | null;
  stats: OdeStepStats;
}

export interface SolveGradients {
  /** d loss / d yOut (rows x S, ld ldDyOut, default S), read only */
  dyOut: number;
  ldDyOut?: number;
  /** += d loss / d y0 (ld ldDy0, default S) */
  dy0: number;
  ldDy0?: number;
  /** += d loss / d ctx (ld ldDCtx, default C); -1 to skip */
  dCtx?: number;
  ldDCtx?: number;
  /** += d loss / d ts (rows values); -1 to skip */
  dts?: number;
  /** as for solve (the same workspace may serve both) */
  workspace?: number;
}

/** Per-row bookkeeping of a solve, in active-position order. */
class RowState {
  readonly row: Int32Array;
  readonly ts: Float64Array;
  /** progress in [0, 1] */
  readonly s: Float64Array;
  /** next step (fraction of the interval) */
  readonly ds: Float64Array;
  /** fixed steps: the row's step count and the steps taken; dopri5: trial steps and accepted steps */
  readonly total: Int32Array;
  readonly taken: Int32Array;
  /** dopri5: a trial was rejected since the last accepted step */
  readonly rejected: Uint8Array;
  /** dopri5: trial steps that produced non-finite values */
  readonly nonFinite: Int32Array;

  constructor(n: number) {
    this.row = new Int32Array(n);
    this.ts = new Float64Array(n);
    this.s = new Float64Array(n);
    this.ds = new Float64Array(n);
    this.total = new Int32Array(n);
    this.taken = new Int32Array(n);
    this.rejected = new Uint8Array(n);
    this.nonFinite = new Int32Array(n);
  }

  /** Zero progress and counters of the first n rows (the arrays are reused from solve to solve). */
  clear(n: number): void {
    this.s.fill(0, 0, n);
    this.total.fill(0, 0, n);
    this.taken.fill(0, 0, n);
    this.rejected.fill(0, 0, n);
    this.nonFinite.fill(0, 0, n);
  }

  move(from: number, to: number): void {
    this.row[to] = this.row[from];
    this.ts[to] = this.ts[from];
    this.s[to] = this.s[from];
    this.ds[to] = this.ds[from];
    this.total[to] = this.total[from];
    this.taken[to] = this.taken[from];
    this.rejected[to] = this.rejected[from];
    this.nonFinite[to] = this.nonFinite[from];
  }
}

/** Offsets of the solver's workspace for `rows` rows (forward and backward share it). */
interface Workspace {
  // forward
  y: number;
  k1: number;
  ctx: number;
  ys: number[];
  ks: number[];
  err: number;
  zero: number;
  dt: number;
  mask: number;
  norm: number;
  aux: number;
  // backward
  yBar: number;
  k1Bar: number;
  dCtx: number;
  kBars: number[];
  yTmp: number;
  yNewBar: number;
  dtBar: number;
  // both
  fieldScratch: number;
  rows: number;
  base: number;
  size: number;
  // stage buffer lists of a pass without tape
  ysInPlace: number[];
  ksFsal: number[];
  noRecords: number[];
}

export class OdeSolver {
  readonly options: ResolvedOdeOptions;
  /** counters summed over every solve since construction or resetStats() */
  readonly stats: OdeStepStats = emptyStats();
  private readonly tableau: Tableau;
  private own = { offset: -1, rows: 0 };
  /** the last workspace layout, and the per-row bookkeeping arrays (solves are not re-entrant) */
  private lastLayout: Workspace | null = null;
  private rowState = new RowState(0);

  constructor(readonly engine: Engine, readonly field: VectorField, options: OdeSolverOptions = {}) {
    this.options = resolveOdeOptions(options);
    this.tableau = TABLEAUS[this.options.solver];
    for (const [name, v] of [["stateSize", field.stateSize], ["contextSize", field.contextSize], ["recordSize", field.recordSize], ["scratchSize", field.scratchSize]] as const) {
      if (!Number.isInteger(v) || v < (name === "stateSize" ? 1 : 0)) throw new Error(`OdeSolver: the field's ${name} must be a ${name === "stateSize" ? "positive" : "non-negative"} integer, got ${v}`);
    }
  }

  resetStats(): void {
    Object.assign(this.stats, emptyStats());
  }

  /** Elements of workspace that solve and backward need for `rows` rows. */
  workspaceSize(rows: number): number {
    return this.layout(rows, 0).size;
  }

  private layout(rows: number, base: number): Workspace {
    const S = this.field.stateSize;
    const C = this.field.contextSize;
    const stages = this.tableau.b.length;
    const block = (n: number) => Math.ceil(n / 4) * 4;
    const rs = block(rows * S);
    const rc = block(rows * C);
    const rv = block(rows);
    let top = base;
    const take = (n: number) => {
      const off = top;
      top += n;
      return off;
    };
    // used by forward and backward alike: the field's scratch, a row of zeros, the working contexts
    const fieldScratch = take(block(rows * this.field.scratchSize));
    const zero = take(block(Math.max(S, this.field.recordSize)));
    const ctx = take(rc);
    const common = top;
    const fwd = {
      y: take(rs), k1: take(rs), err: take(rs), dt: take(rv), mask: take(rv), norm: take(rv), aux: take(rv),
      ys: [] as number[], ks: [] as number[],
    };
    for (let i = 0; i < stages; i++) fwd.ys.push(take(rs));
    for (let i = 0; i < stages; i++) fwd.ks.push(take(rs));
    const fwdEnd = top;
    // backward overlays the forward's buffers
    top = common;
    const bwd = { yBar: take(rs), k1Bar: take(rs), dCtx: take(rc), yTmp: take(rs), yNewBar: take(rs), dtBar: take(rv), kBars: [] as number[] };
    for (let i = 0; i < stages; i++) bwd.kBars.push(take(rs));
    return {
      ...fwd, ...bwd, fieldScratch, zero, ctx, rows, base, size: Math.max(fwdEnd, top) - base,
      // without a tape, stage 1 reads y itself and (FSAL) its derivative is the carried k1
      ysInPlace: [fwd.y, ...fwd.ys.slice(1)], ksFsal: [fwd.k1, ...fwd.ks.slice(1)], noRecords: fwd.ys.map(() => -1),
    };
  }

  private workspace(rows: number, given: number | undefined): Workspace {
    let base = given ?? -1;
    if (base < 0) {
      if (this.own.offset < 0 || this.own.rows < rows) this.own = { offset: this.engine.alloc(this.workspaceSize(rows)), rows };
      base = this.own.offset;
    }
    const last = this.lastLayout;
    if (last && last.rows === rows && last.base === base) return last;
    this.lastLayout = this.layout(rows, base);
    return this.lastLayout;
  }

  private where(row: number, observation: number | undefined): string {
    return observation === undefined ? `sample ${row}` : `sample ${row} at observation ${observation}`;
  }

  /**
   * Integrates rows of y0 over their elapsed times ts into yOut. With `tape`, records what backward
   * needs. Returns the tape (or null) and this solve's step counts.
   */
  solve(req: SolveRequest): SolveResult {
    const e = this.engine;
    const f = this.field;
    const o = this.options;
    const R = req.rows;
    const S = f.stateSize;
    const C = f.contextSize;
    if (!Number.isInteger(R) || R < 0) throw new Error(`OdeSolver.solve: rows must be a non-negative integer, got ${R}`);
    const ctxIn = C > 0 ? (req.ctx ?? -1) : -1;
    if (C > 0 && ctxIn < 0) throw new Error(`OdeSolver.solve: the field reads a context of ${C} values per row, but no ctx was given`);
    const ldCtxIn = req.ldCtx ?? C;
    const ldy0 = req.ldy0 ?? S;
    const ldOut = req.ldOut ?? S;
    const stats = emptyStats();
    const arena = req.tape ?? null;
    const rec = arena !== null;
    const tape: SolveTape | null = rec ? { rows: R, ctx: ctxIn, ldCtx: ldCtxIn, initial: null, steps: [] } : null;
    if (R === 0) return { tape, stats };
    const w = this.workspace(R, req.workspace);
    const grid = req.grid ?? null;
    if (grid) {
      if (o.solver !== "dopri5") throw new Error(`OdeSolver(${o.solver}): grid replays dopri5 steps; fixed-step solvers take their own steps`);
      if (grid.length !== R) throw new Error(`OdeSolver(dopri5): grid must have one step list per row (${R}), got ${grid.length}`);
      grid.forEach((g, r) => {
        if (g.length === 0) throw new Error(`OdeSolver(dopri5): grid row ${r} has no steps`);
      });
    }

    // ---- start: validate, copy in, per-row step counts or first steps --------------------------------
    if (this.rowState.row.length < R) this.rowState = new RowState(R);
    const st = this.rowState;
    st.clear(R);
    {
      const heap = e.heap();
      for (let r = 0; r < R; r++) {
        const t = heap[req.ts + r];
        if (!Number.isFinite(t) || t < 0) throw new Error(`OdeSolver(${o.solver}): the elapsed time of ${this.where(r, req.observation)} must be finite and >= 0, got ${t}`);
        st.row[r] = r;
        st.ts[r] = t;
      }
    }
    e.copyRows(R, S, req.y0, ldy0, w.y, S);
    const bad = e.nonFiniteIndex(R * S, w.y);
    if (bad >= 0) throw new Error(`OdeSolver(${o.solver}): the initial state of ${this.where(Math.floor(bad / S), req.observation)} is not finite`);
    if (C > 0) e.copyRows(R, C, ctxIn, ldCtxIn, w.ctx, C);
    if (o.solver === "dopri5") this.startAdaptive(R, w, st, tape, arena, stats, req.observation, grid !== null);
    else this.startFixed(R, st, req.observation);

    // ---- the loop: one step of every active row per pass ---------------------------------------------
    let active = R;
    while (active > 0) {
      const before = arena?.mark();
      const step = o.solver === "dopri5"
        ? this.adaptiveStep(active, w, st, arena, stats, req.observation, grid)
        : this.fixedStep(active, w, st, arena, stats, req.observation);
      const rows = tape ? st.row.slice(0, active) : null;
      const finish = this.finishRows(active, w, st, step.done, req.yOut, ldOut);
      if (tape) {
        if (step.anyAccepted || finish) tape.steps.push({ ...step.record, rows: rows!, finish });
        else arena!.rollback(before!); // a pass in which every trial was rejected changed nothing
      }
      active = finish === null ? active : active - (finish.all ? finish.rows.length : finish.moves.length / 3);
    }
    this.stats.accepted += stats.accepted;
    this.stats.rejected += stats.rejected;
    this.stats.evaluations += stats.evaluations;
    this.stats.rowEvaluations += stats.rowEvaluations;
    return { tape, stats };
  }

  private evaluate(rows: number, y: number, ctx: number, out: number, record: number, w: Workspace, stats: OdeStepStats): void {
    this.field.forward(rows, y, this.field.stateSize, ctx, this.field.contextSize, out, this.field.stateSize, record, w.fieldScratch);
    stats.evaluations++;
    stats.rowEvaluations += rows;
  }

  private startFixed(R: number, st: RowState, observation: number | undefined): void {
    const o = this.options;
    for (let r = 0; r < R; r++) {
      const n = o.stepSize !== undefined ? Math.max(1, Math.ceil((st.ts[r] / o.stepSize) * (1 - STEP_COUNT_SLACK))) : o.stepsPerGap!;
      if (n > o.maxSteps) {
        throw new Error(`OdeSolver(${o.solver}): ${this.where(r, observation)} needs ${n} steps of at most ${o.stepSize} over its elapsed time ${st.ts[r]}, more than maxSteps = ${o.maxSteps}`);
      }
      st.total[r] = n;
      st.ds[r] = 1 / n;
    }
  }

  /** dopri5: k1 = f(y0) for every row, and each row's first step (given, or Hairer's selection). */
  private startAdaptive(R: number, w: Workspace, st: RowState, tape: SolveTape | null, arena: EngineArena | null, stats: OdeStepStats, observation: number | undefined, replay: boolean): void {
    const e = this.engine;
    const o = this.options;
    const S = this.field.stateSize;
    const C = this.field.contextSize;
    let y = w.y;
    let record = -1;
    if (tape && arena) {
      y = arena.alloc(R * S);
      record = arena.alloc(R * this.field.recordSize);
      e.copy(w.y, y, R * S);
      (tape as { initial: SolveTape["initial"] }).initial = { y, rec: record };
    }
    this.evaluate(R, y, C > 0 ? w.ctx : -1, w.k1, record, w, stats);
    const bad = e.nonFiniteIndex(R * S, w.k1);
    if (bad >= 0) throw new Error(`OdeSolver(dopri5): the derivative at the initial state of ${this.where(Math.floor(bad / S), observation)} is not finite`);
    if (replay) return;
    const dt0 = new Float64Array(R);
    if (o.firstStep !== undefined) dt0.fill(o.firstStep);
    else this.selectInitialSteps(R, w, stats, dt0);
    for (let r = 0; r < R; r++) {
      const t = st.ts[r];
      // a zero interval takes one step of length zero
      st.ds[r] = t === 0 ? 1 : Math.min(1, Math.min(o.maxStep!, Math.max(o.minStep!, dt0[r])) / t);
    }
  }

  /**
   * Hairer's starting step (Hairer, Norsett, Wanner, Solving ODEs I, II.4), per row in time units, as
   * scipy and torchdiffeq compute it: from the norms of y0, f(y0) and a difference quotient of f.
   */
  private selectInitialSteps(R: number, w: Workspace, stats: OdeStepStats, out: Float64Array): void {
    const e = this.engine;
    const o = this.options;
    const S = this.field.stateSize;
    const C = this.field.contextSize;
    e.rowErrorNorm(R, S, w.y, S, w.y, S, w.y, S, o.atol!, o.rtol!, w.norm);
    e.rowErrorNorm(R, S, w.k1, S, w.y, S, w.y, S, o.atol!, o.rtol!, w.aux);
    let heap = e.heap();
    const d0 = Float64Array.from(heap.subarray(w.norm, w.norm + R));
    const d1 = Float64Array.from(heap.subarray(w.aux, w.aux + R));
    const h0 = new Float64Array(R);
    for (let r = 0; r < R; r++) h0[r] = d0[r] < 1e-5 || d1[r] < 1e-5 ? 1e-6 : (0.01 * d0[r]) / d1[r];
    heap.set(h0, w.dt);
    // y1 = y0 + h0 f(y0); d2 = |f(y1) - f(y0)| / h0
    const y1 = w.ys[0];
    const f1 = w.ks[0];
    e.copy(w.y, y1, R * S);
    e.rowAxpy(R, S, 1, w.dt, w.k1, S, y1, S);
    this.evaluate(R, y1, C > 0 ? w.ctx : -1, f1, -1, w, stats);
    e.axpy(R * S, -1, w.k1, f1);
    e.rowErrorNorm(R, S, f1, S, w.y, S, w.y, S, o.atol!, o.rtol!, w.norm);
    heap = e.heap();
    for (let r = 0; r < R; r++) {
      const d2 = heap[w.norm + r] / h0[r];
      let h1: number;
      if (!Number.isFinite(d2)) h1 = h0[r];
      else if (d1[r] <= 1e-15 && d2 <= 1e-15) h1 = Math.max(1e-6, h0[r] * 1e-3);
      else h1 = (0.01 / Math.max(d1[r], d2)) ** -ERROR_EXPONENT;
      out[r] = Math.min(100 * h0[r], h1);
    }
  }

  /** Stage buffers of one pass: on the tape when recording, else the workspace's. */
  private stageBuffers(active: number, w: Workspace, arena: EngineArena | null, needY: (i: number) => boolean): { ys: number[]; ks: number[]; recs: number[]; dt: number; mask: number } {
    const S = this.field.stateSize;
    const stages = this.tableau.b.length;
    if (!arena) return { ys: w.ysInPlace, ks: this.tableau.fsal ? w.ksFsal : w.ks, recs: w.noRecords, dt: w.dt, mask: w.mask };
    const ys: number[] = [];
    const ks: number[] = [];
    const recs: number[] = [];
    for (let i = 0; i < stages; i++) {
      const y = needY(i);
      ys.push(y ? arena.alloc(active * S) : -1);
      ks.push(arena.alloc(active * S));
      recs.push(y ? arena.alloc(active * this.field.recordSize) : -1);
    }
    return { ys, ks, recs, dt: arena.alloc(active), mask: this.tableau.e ? arena.alloc(active) : -1 };
  }

  /** y_i = y + dt * sum_j a[i][j] k_j (into buffer `into`), then k_i = f(y_i). */
  private stage(i: number, active: number, w: Workspace, buf: { ys: number[]; ks: number[]; recs: number[]; dt: number }, stats: OdeStepStats): void {
    const e = this.engine;
    const S = this.field.stateSize;
    const a = this.tableau.a[i];
    let yi = buf.ys[i];
    if (yi < 0) yi = w.y;
    else if (yi !== w.y) {
      e.copy(w.y, yi, active * S);
      for (let j = 0; j < a.length; j++) if (a[j] !== 0) e.rowAxpy(active, S, a[j], buf.dt, buf.ks[j], S, yi, S);
    }
    this.evaluate(active, yi, this.field.contextSize > 0 ? w.ctx : -1, buf.ks[i], buf.recs[i], w, stats);
  }

  private fixedStep(active: number, w: Workspace, st: RowState, arena: EngineArena | null, stats: OdeStepStats, observation: number | undefined) {
    const e = this.engine;
    const S = this.field.stateSize;
    const tb = this.tableau;
    const buf = this.stageBuffers(active, w, arena, () => true);
    const ds = Float64Array.from(st.ds.subarray(0, active));
    const heap = e.heap();
    for (let p = 0; p < active; p++) heap[buf.dt + p] = st.ts[p] / st.total[p];
    for (let i = 0; i < tb.b.length; i++) this.stage(i, active, w, buf, stats);
    for (let i = 0; i < tb.b.length; i++) if (tb.b[i] !== 0) e.rowAxpy(active, S, tb.b[i], buf.dt, buf.ks[i], S, w.y, S);
    const bad = e.nonFiniteIndex(active * S, w.y);
    if (bad >= 0) {
      const p = Math.floor(bad / S);
      const k = st.taken[p] + 1;
      throw new Error(`OdeSolver(${this.options.solver}): non-finite state for ${this.where(st.row[p], observation)} at step ${k} of ${st.total[p]} (t = ${(k * st.ts[p]) / st.total[p]} of ${st.ts[p]})`);
    }
    const done = new Uint8Array(active);
    for (let p = 0; p < active; p++) {
      st.taken[p]++;
      done[p] = st.taken[p] === st.total[p] ? 1 : 0;
    }
    stats.accepted += active;
    return { done, anyAccepted: true, record: { active, ds, dt: buf.dt, mask: -1, ys: buf.ys, ks: buf.ks, recs: buf.recs } };
  }

  private adaptiveStep(active: number, w: Workspace, st: RowState, arena: EngineArena | null, stats: OdeStepStats, observation: number | undefined, grid: ReadonlyArray<ArrayLike<number>> | null) {
    const e = this.engine;
    const o = this.options;
    const S = this.field.stateSize;
    const K = this.field.recordSize;
    const tb = this.tableau;
    const last = tb.b.length - 1;
    // stage 1 is the previous step's last stage (k1 = f(y)): its input and record belong to that step
    const buf = this.stageBuffers(active, w, arena, (i) => i > 0);
    if (arena) e.copy(w.k1, buf.ks[0], active * S);
    const ds = new Float64Array(active);
    const final = new Uint8Array(active);
    let heap = e.heap();
    for (let p = 0; p < active; p++) {
      if (grid) {
        const g = grid[st.row[p]];
        ds[p] = g[st.taken[p]];
        final[p] = st.taken[p] === g.length - 1 ? 1 : 0;
      } else if (st.s[p] + st.ds[p] >= 1) {
        ds[p] = 1 - st.s[p];
        final[p] = 1;
      } else ds[p] = st.ds[p];
      heap[buf.dt + p] = ds[p] * st.ts[p];
    }
    for (let i = 1; i <= last; i++) this.stage(i, active, w, buf, stats);
    // error estimate dt * sum_j e_j k_j against the scale of y and the result y_7
    e.fill(w.err, active * S, 0);
    tb.e!.forEach((ej, j) => {
      if (ej !== 0) e.rowAxpy(active, S, ej, buf.dt, buf.ks[j], S, w.err, S);
    });
    const yNew = buf.ys[last];
    e.rowErrorNorm(active, S, w.err, S, w.y, S, yNew, S, o.atol!, o.rtol!, w.norm);
    heap = e.heap();
    const done = new Uint8Array(active);
    let anyAccepted = false;
    let anyNonFinite = false;
    for (let p = 0; p < active; p++) {
      // a replayed step is accepted whatever its error
      const err = grid ? 0 : heap[w.norm + p];
      const dtUsed = ds[p] * st.ts[p];
      st.total[p]++;
      if (err <= 1) {
        let factor = err === 0 ? o.maxFactor! : Math.min(o.maxFactor!, o.safety! * err ** ERROR_EXPONENT);
        if (st.rejected[p]) factor = Math.min(1, factor);
        st.s[p] = final[p] ? 1 : st.s[p] + ds[p];
        st.taken[p]++;
        st.ds[p] = this.boundStep(ds[p] * factor, st.ts[p]);
        st.rejected[p] = 0;
        done[p] = final[p];
        heap[buf.mask + p] = 1;
        anyAccepted = true;
        stats.accepted++;
      } else {
        const nonFinite = !Number.isFinite(err);
        anyNonFinite ||= nonFinite;
        const why = nonFinite ? "the trial step produced non-finite values" : "the error could not be reduced below the tolerance";
        if (o.minStep! > 0 && dtUsed <= o.minStep! * (1 + 1e-12) && !final[p]) {
          throw new Error(`OdeSolver(dopri5): ${this.where(st.row[p], observation)}: step rejected at minStep = ${o.minStep} (t = ${st.s[p] * st.ts[p]} of ${st.ts[p]}, ${why})`);
        }
        const factor = nonFinite ? o.minFactor! : Math.max(o.minFactor!, o.safety! * err ** ERROR_EXPONENT);
        st.ds[p] = this.boundStep(ds[p] * factor, st.ts[p]);
        st.rejected[p] = 1;
        st.nonFinite[p] += nonFinite ? 1 : 0;
        heap[buf.mask + p] = 0;
        stats.rejected++;
        // as scipy: a step below ten times the spacing of the numbers at the current time cannot go on
        if (st.ds[p] <= 10 * Number.EPSILON * st.s[p] || st.ds[p] * st.ts[p] === 0) {
          throw new Error(`OdeSolver(dopri5): ${this.where(st.row[p], observation)}: step size underflow at t = ${st.s[p] * st.ts[p]} of ${st.ts[p]} (step ${st.ds[p] * st.ts[p]}; ${why})`);
        }
      }
      if (!done[p] && st.total[p] >= o.maxSteps) {
        throw new Error(`OdeSolver(dopri5): ${this.where(st.row[p], observation)} took maxSteps = ${o.maxSteps} steps and reached t = ${st.s[p] * st.ts[p]} of ${st.ts[p]} with step size ${st.ds[p] * st.ts[p]}${st.nonFinite[p] ? ` (${st.nonFinite[p]} trial steps produced non-finite values)` : ""}`);
      }
    }
    // accepted rows take the result and its derivative (first same as last)
    e.copyRowsWhere(active, S, buf.mask, yNew, S, w.y, S);
    e.copyRowsWhere(active, S, buf.mask, buf.ks[last], S, w.k1, S);
    if (anyAccepted) {
      const bad = e.nonFiniteIndex(active * S, w.y);
      if (bad >= 0) throw new Error(`OdeSolver(dopri5): non-finite state for ${this.where(st.row[Math.floor(bad / S)], observation)}`);
    }
    if (arena && anyNonFinite) {
      // tape rows of non-finite trials would turn zero gradients into NaN (0 * inf): zero them
      e.fill(w.zero, Math.max(S, K), 0); // a caller's workspace need not start zeroed
      heap = e.heap();
      for (let p = 0; p < active; p++) heap[w.aux + p] = Number.isFinite(heap[w.norm + p]) ? 0 : 1;
      for (let i = 1; i <= last; i++) {
        e.copyRowsWhere(active, S, w.aux, w.zero, 0, buf.ys[i], S);
        e.copyRowsWhere(active, S, w.aux, w.zero, 0, buf.ks[i], S);
        if (K > 0) e.copyRowsWhere(active, K, w.aux, w.zero, 0, buf.recs[i], K);
      }
    }
    return { done, anyAccepted, record: { active, ds, dt: buf.dt, mask: buf.mask, ys: buf.ys, ks: buf.ks, recs: buf.recs } };
  }

  /**
   * The accepted steps of a recorded solve, per row (in the caller's order): the fractions of the row's
   * elapsed time each step covered, in order. With `grid` they replay the solve.
   */
  acceptedSteps(tape: SolveTape): Float64Array[] {
    const lists: number[][] = Array.from({ length: tape.rows }, () => []);
    const heap = this.engine.heap();
    for (const step of tape.steps) {
      for (let p = 0; p < step.active; p++) {
        if (step.mask < 0 || heap[step.mask + p] !== 0) lists[step.rows[p]].push(step.ds[p]);
      }
    }
    return lists.map((l) => Float64Array.from(l));
  }

  /** A proposed step (fraction of the interval) within minStep and maxStep (time units). */
  private boundStep(ds: number, ts: number): number {
    if (ts === 0) return 1;
    const o = this.options;
    return Math.min(o.maxStep! / ts, Math.max(o.minStep! / ts, ds));
  }

  /**
   * Writes out the rows that finished and keeps the active rows a prefix: from the end, each finished
   * row's place is taken by the last active row (its state, FSAL derivative, context, bookkeeping).
   */
  private finishRows(active: number, w: Workspace, st: RowState, done: Uint8Array, yOut: number, ldOut: number): FinishRecord | null {
    const e = this.engine;
    const S = this.field.stateSize;
    const C = this.field.contextSize;
    let count = 0;
    for (let p = 0; p < active; p++) count += done[p];
    if (count === 0) return null;
    if (count === active) {
      const rows = st.row.slice(0, active);
      forRuns(rows, (p, row, n) => e.copyRows(n, S, w.y + p * S, S, yOut + row * ldOut, ldOut));
      return { all: true, rows };
    }
    const moves: number[] = [];
    let n = active;
    for (let p = active - 1; p >= 0; p--) {
      if (!done[p]) continue;
      const last = n - 1;
      e.copyRows(1, S, w.y + p * S, S, yOut + st.row[p] * ldOut, ldOut);
      moves.push(p, st.row[p], last);
      if (p !== last) {
        e.copy(w.y + last * S, w.y + p * S, S);
        e.copy(w.k1 + last * S, w.k1 + p * S, S);
        if (C > 0) e.copy(w.ctx + last * C, w.ctx + p * C, C);
        st.move(last, p);
      }
      n--;
    }
    return { all: false, moves };
  }

  /**
   * Backpropagates through a recorded solve: given d loss / d yOut, accumulates d loss / d y0, d loss /
   * d ctx and d loss / d ts (each when its offset is given), and the field's parameter gradients. The
   * caller's ctx must still hold the values it had in the solve.
   */
  backward(tape: SolveTape, g: SolveGradients): void {
    const e = this.engine;
    const f = this.field;
    const S = f.stateSize;
    const C = f.contextSize;
    const R = tape.rows;
    if (R === 0) return;
    const w = this.workspace(R, g.workspace);
    const ldDyOut = g.ldDyOut ?? S;
    const ldCtx = tape.ldCtx;
    const dtsAcc = new Float64Array(R);
    // before the last step is undone every row has finished: the active set is empty
    for (let k = tape.steps.length - 1; k >= 0; k--) {
      const step = tape.steps[k];
      if (step.finish) this.unfinishRows(step.finish, w, tape, g.dyOut, ldDyOut, ldCtx, dtsAcc);
      this.backwardStep(step, w, dtsAcc);
    }
    if (tape.initial) {
      // k1 = f(y0) of every row (all rows active, in the caller's order again)
      f.backward(R, tape.initial.y, S, C > 0 ? w.ctx : -1, C, tape.initial.rec, w.k1Bar, S, w.yBar, S, C > 0 ? w.dCtx : -1, C, w.fieldScratch);
    }
    e.addRows(R, S, w.yBar, S, g.dy0, g.ldDy0 ?? S);
    if (C > 0 && g.dCtx !== undefined && g.dCtx >= 0) e.addRows(R, C, w.dCtx, C, g.dCtx, g.ldDCtx ?? C);
    if (g.dts !== undefined && g.dts >= 0) {
      const heap = e.heap();
      for (let r = 0; r < R; r++) heap[g.dts + r] += dtsAcc[r];
    }
  }

  /** Undoes finishRows for the adjoints: finished rows re-enter with d loss / d yOut as their adjoint. */
  private unfinishRows(fin: FinishRecord, w: Workspace, tape: SolveTape, dyOut: number, ldDyOut: number, ldCtx: number, dtsAcc: Float64Array): void {
    const e = this.engine;
    const S = this.field.stateSize;
    const C = this.field.contextSize;
    if (fin.all) {
      const n = fin.rows.length;
      forRuns(fin.rows, (p, row, m) => {
        e.copyRows(m, S, dyOut + row * ldDyOut, ldDyOut, w.yBar + p * S, S);
        if (C > 0) e.copyRows(m, C, tape.ctx + row * ldCtx, ldCtx, w.ctx + p * C, C);
      });
      e.fill(w.k1Bar, n * S, 0);
      if (C > 0) e.fill(w.dCtx, n * C, 0);
      dtsAcc.fill(0, 0, n);
      return;
    }
    const m = fin.moves;
    for (let i = m.length - 3; i >= 0; i -= 3) {
      const p = m[i];
      const row = m[i + 1];
      const last = m[i + 2];
      if (p !== last) {
        e.copy(w.yBar + p * S, w.yBar + last * S, S);
        e.copy(w.k1Bar + p * S, w.k1Bar + last * S, S);
        if (C > 0) {
          e.copy(w.dCtx + p * C, w.dCtx + last * C, C);
          e.copy(w.ctx + p * C, w.ctx + last * C, C);
        }
        dtsAcc[last] = dtsAcc[p];
      }
      e.copyRows(1, S, dyOut + row * ldDyOut, ldDyOut, w.yBar + p * S, S);
      e.fill(w.k1Bar + p * S, S, 0);
      if (C > 0) {
        e.fill(w.dCtx + p * C, C, 0);
        e.copyRows(1, C, tape.ctx + row * ldCtx, ldCtx, w.ctx + p * C, C);
      }
      dtsAcc[p] = 0;
    }
  }

  /**
   * Adjoint of one recorded step over its active rows. yBar (the state's adjoint) and, for FSAL, k1Bar
   * (the adjoint of the carried derivative k1 = f(y)) are updated in place; dtsAcc gains ds * d/d dt.
   */
  private backwardStep(step: StepRecord, w: Workspace, dtsAcc: Float64Array): void {
    const e = this.engine;
    const f = this.field;
    const S = f.stateSize;
    const C = f.contextSize;
    const tb = this.tableau;
    const A = step.active;
    const last = tb.b.length - 1;
    const ctx = C > 0 ? w.ctx : -1;
    const dCtx = C > 0 ? w.dCtx : -1;
    // adjoint of each stage derivative: k1's is k1Bar itself for FSAL tableaus
    const kBar = tb.fsal ? [w.k1Bar, ...w.kBars.slice(1)] : w.kBars;
    e.fill(w.dtBar, A, 0);
    for (let i = tb.fsal ? 1 : 0; i <= last; i++) e.fill(kBar[i], A * S, 0);
    /** the adjoint yiBar of stage i's input y_i = y + dt sum_j a_ij k_j flows to y, the k_j and dt */
    const stageInputBackward = (i: number, yiBar: number) => {
      const a = tb.a[i];
      for (let j = 0; j < a.length; j++) {
        if (a[j] === 0) continue;
        e.rowAxpy(A, S, a[j], step.dt, yiBar, S, kBar[j], S);
        e.rowDot(A, S, a[j], yiBar, S, step.ks[j], S, w.dtBar);
      }
    };
    if (!tb.fsal) {
      // y' = y + dt sum_i b_i k_i, every row accepted
      for (let i = 0; i <= last; i++) {
        if (tb.b[i] === 0) continue;
        e.rowAxpy(A, S, tb.b[i], step.dt, w.yBar, S, kBar[i], S);
        e.rowDot(A, S, tb.b[i], w.yBar, S, step.ks[i], S, w.dtBar);
      }
      for (let i = last; i >= 0; i--) {
        if (i === 0) {
          f.backward(A, step.ys[0], S, ctx, C, step.recs[0], kBar[0], S, w.yBar, S, dCtx, C, w.fieldScratch);
          continue;
        }
        e.fill(w.yTmp, A * S, 0);
        f.backward(A, step.ys[i], S, ctx, C, step.recs[i], kBar[i], S, w.yTmp, S, dCtx, C, w.fieldScratch);
        e.addRows(A, S, w.yTmp, S, w.yBar, S);
        stageInputBackward(i, w.yTmp);
      }
    } else {
      // with m the accept mask: y' = m y_7 + (1 - m) y and k1' = m k_7 + (1 - m) k1, k_7 = f(y_7)
      e.fill(w.yNewBar, A * S, 0);
      e.rowAxpy(A, S, 1, step.mask, w.yBar, S, w.yNewBar, S);
      e.rowAxpy(A, S, 1, step.mask, w.k1Bar, S, kBar[last], S);
      e.rowAxpy(A, S, -1, step.mask, w.yBar, S, w.yBar, S);
      e.rowAxpy(A, S, -1, step.mask, w.k1Bar, S, w.k1Bar, S);
      f.backward(A, step.ys[last], S, ctx, C, step.recs[last], kBar[last], S, w.yNewBar, S, dCtx, C, w.fieldScratch);
      e.addRows(A, S, w.yNewBar, S, w.yBar, S);
      stageInputBackward(last, w.yNewBar);
      for (let i = last - 1; i >= 1; i--) {
        e.fill(w.yTmp, A * S, 0);
        f.backward(A, step.ys[i], S, ctx, C, step.recs[i], kBar[i], S, w.yTmp, S, dCtx, C, w.fieldScratch);
        e.addRows(A, S, w.yTmp, S, w.yBar, S);
        stageInputBackward(i, w.yTmp);
      }
    }
    const heap = e.heap();
    for (let p = 0; p < A; p++) dtsAcc[p] += step.ds[p] * heap[w.dtBar + p];
  }
}

/** Calls fn(position, row, count) for each run of consecutive positions holding consecutive rows. */
function forRuns(rows: Int32Array, fn: (p: number, row: number, count: number) => void): void {
  let p = 0;
  while (p < rows.length) {
    let n = 1;
    while (p + n < rows.length && rows[p + n] === rows[p] + n) n++;
    fn(p, rows[p], n);
    p += n;
  }
}
