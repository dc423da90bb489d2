/**
 * GRU-ODE (De Brouwer et al. 2019, GRU-ODE-Bayes; a baseline of Lechner & Hasani 2020, ODE-LSTM) on the
 * ODE solvers of ode-solver.ts. Between observations the state follows the GRU's continuous form
 *   dh/dt = (1 - z) * (g - h),  r = sigmoid(W_r h + b_r),  z = sigmoid(W_z h + b_z),  g = tanh(W_g (r * h) + b_g)
 * with no input; at an observation the state jumps by a discrete GRU update h = GRUCell(x, h) (torch's
 * nn.GRUCell). Each observation first evolves the state over its elapsed time, then applies the update,
 * as ODE-RNN does, so the output at an observation has seen it.
 *
 * The field's elementwise math is the engine's gruOdeGatesForward / gruOdeForward (and their backward);
 * its three linear maps go through nn/linear.ts, r's and z's as one matmul over one block of weights.
 */
import { type BackendKind, type Engine } from "../engine/engine.js";
import { createEngine } from "../engine/index.js";
import { linearDefault } from "../nn/init.js";
import { GruCache, GruCell } from "../nn/gru-cell.js";
import { type Linear, addLinear, createLinear, linearBackwardInput, linearBackwardWeights, linearForward, linearPrepare } from "../nn/linear.js";
import type { ParameterSet } from "../nn/parameters.js";
import type { Rng } from "../nn/rng.js";
import { EngineArena, OdeSolver, type OdeSolverOptions, type ResolvedOdeOptions, type SolveTape, type VectorField, odeOptionsToArgs, resolveOdeOptions } from "./ode-solver.js";
import { rejectUnknownOptions } from "./options.js";
import { type PassMode, RecurrentModel } from "./recurrent.js";

/**
 * The field dh/dt = (1 - z) * (g - h) over parameters `${prefix}lin_hr`, `lin_hz`, `lin_hh` (torch Linear
 * layers H -> H with bias, GRU-ODE-Bayes's names: r's, z's and g's maps), initialised as torch's Linear.
 */
export class GruOdeField implements VectorField {
  readonly stateSize: number;
  readonly contextSize = 0;
  /** per row and evaluation the cache [r | z | g | r * h] of the engine's GRU-ODE kernels */
  readonly recordSize: number;
  /** forward without a record: the cache; backward: the gate gradients (4H) and a transpose (2H) */
  readonly scratchSize: number;
  /** W_r and W_z stacked ([2H, H], biases [2H]): both gates in one matmul */
  readonly gateMap: Linear;
  /** W_g */
  readonly candidateMap: Linear;

  constructor(readonly engine: Engine, params: ParameterSet, prefix: string, readonly hidden: number, rng: Rng) {
    const H = hidden;
    this.stateSize = H;
    this.recordSize = 4 * H;
    this.scratchSize = 6 * H;
    const weights = params.region(2 * H * H, true);
    const biases = params.region(2 * H, true);
    ["lin_hr", "lin_hz"].forEach((name, i) => {
      params.register(`${prefix}${name}.weight`, [H, H], { value: weights.value + i * H * H, grad: weights.grad + i * H * H });
      params.register(`${prefix}${name}.bias`, [H], { value: biases.value + i * H, grad: biases.grad + i * H });
    });
    this.gateMap = createLinear(engine, H, 2 * H, weights, biases);
    this.candidateMap = addLinear(params, `${prefix}lin_hh`, H, H, true);
    // torch.nn.Linear's default init, tensor by tensor in registration order
    const draw = (offset: number, n: number) => {
      const values = new Float64Array(n);
      linearDefault(values, H, rng);
      engine.heap().set(values, offset);
    };
    for (let i = 0; i < 2; i++) {
      draw(weights.value + i * H * H, H * H);
      draw(biases.value + i * H, H);
    }
    draw(this.candidateMap.weight.value, H * H);
    draw(this.candidateMap.bias!.value, H);
  }

  /** Reads the weights (after any change of them, before solving). */
  prepare(): void {
    linearPrepare(this.engine, this.gateMap);
    linearPrepare(this.engine, this.candidateMap);
  }

  forward(rows: number, y: number, ldy: number, _ctx: number, _ldCtx: number, dydt: number, ldDydt: number, record: number, scratch: number): void {
    const e = this.engine;
    const H = this.hidden;
    const cache = record >= 0 ? record : scratch;
    linearForward(e, this.gateMap, rows, y, ldy, cache, 4 * H);
    e.gruOdeGatesForward(rows, H, cache, y, ldy);
    linearForward(e, this.candidateMap, rows, cache + 3 * H, 4 * H, cache + 2 * H, 4 * H);
    e.gruOdeForward(rows, H, cache, y, ldy, dydt, ldDydt);
  }

  backward(rows: number, y: number, ldy: number, _ctx: number, _ldCtx: number, record: number, g: number, ldG: number, dy: number, ldDy: number, _dCtx: number, _ldDCtx: number, scratch: number): void {
    const e = this.engine;
    const H = this.hidden;
    const dGates = scratch;
    const transposed = scratch + rows * 4 * H;
    e.gruOdeBackward(rows, H, record, y, ldy, g, ldG, dGates, dy, ldDy);
    // g's map: its input r * h gets its gradient in block 3, its weights theirs from all rows at once
    linearBackwardInput(e, this.candidateMap, rows, dGates + 2 * H, 4 * H, dGates + 3 * H, 4 * H, false);
    linearBackwardWeights(e, this.candidateMap, rows, dGates + 2 * H, 4 * H, record + 3 * H, 4 * H, transposed);
    e.gruOdeGatesBackward(rows, H, record, y, ldy, dGates, dy, ldDy);
    linearBackwardInput(e, this.gateMap, rows, dGates, 4 * H, dy, ldDy, true);
    linearBackwardWeights(e, this.gateMap, rows, dGates, 4 * H, y, ldy, transposed);
  }
}

/**
 * GRU-ODE: the state evolves by the field above over each elapsed time, integrated by an ODE solver
 * ("euler", "rk4" or "dopri5", see ode-solver.ts; the solver's options are given flat among the
 * model's), then takes the observation by a GRU update. The output is h. Parameters: `ode_cell.lin_hr`,
 * `ode_cell.lin_hz`, `ode_cell.lin_hh` (.weight [H, H], .bias [H]; torch Linear init), then `gru_cell.`
 * weight_ih [3H, I], weight_hh [3H, H], bias_ih [3H], bias_hh [3H] (torch nn.GRUCell's names and init),
 * then the optional projection `fc`.
 */
export interface GRUODEOptions extends OdeSolverOptions {
  projSize?: number | null;
  returnSequences?: boolean;
  batchFirst?: boolean;
  /** seed of weight initialisation: same seed, same model */
  seed?: number;
  /** "wasm" (float32, default) or "reference" (float64) */
  backend?: BackendKind;
  /** an engine to build on instead of a new one of `backend` */
  engine?: Engine;
}

const SOLVER_OPTION_NAMES = Object.keys({
  solver: true, stepSize: true, stepsPerGap: true, rtol: true, atol: true, safety: true, minFactor: true, maxFactor: true,
  firstStep: true, minStep: true, maxStep: true, maxSteps: true,
} satisfies Record<keyof OdeSolverOptions, true>);
const OPTION_NAMES = [
  ...Object.keys({
    projSize: true, returnSequences: true, batchFirst: true, seed: true, backend: true, engine: true,
  } satisfies Record<Exclude<keyof GRUODEOptions, keyof OdeSolverOptions>, true>),
  ...SOLVER_OPTION_NAMES,
];

interface GruOdeCache {
  grad: boolean;
  rows: number;
  cell: GruCache;
  /** the step the next coreForward runs, counted from the last coreMapInputs */
  nextStep: number;
  /** per slot: the state after the evolution, before the observation's update (slots x rows x H) */
  evolved: number;
  /** d loss / d evolved state of the step being differentiated (rows x H) */
  dEvolved: number;
  /** the solver's workspace for `rows` rows */
  work: number;
  /** per step: the solver's record (grad only) */
  tapes: Array<SolveTape | null>;
}

export class GRUODE extends RecurrentModel {
  readonly stateSize: number;
  readonly cellOutputSize: number;
  readonly field: GruOdeField;
  readonly cell: GruCell;
  /** the solver; its `stats` count the steps and field evaluations of every solve */
  readonly solver: OdeSolver;
  /** the solver's options with defaults filled (for checkpoints) */
  readonly ode: ResolvedOdeOptions;
  /** the record of the last forward with grad: every step's solve, in memory that grows as needed */
  private readonly arena: EngineArena;
  /** observations since the last forward began (named in solver errors) */
  private observation = 0;

  constructor(inputSize: number, readonly hiddenSize: number, options: GRUODEOptions = {}) {
    const owner = "GRUODE";
    rejectUnknownOptions(owner, options, OPTION_NAMES);
    if (!Number.isInteger(hiddenSize) || hiddenSize < 1) throw new Error(`${owner}: hiddenSize must be a positive integer, got ${String(hiddenSize)}`);
    const solverOptions: Record<string, unknown> = {};
    for (const k of SOLVER_OPTION_NAMES) if ((options as Record<string, unknown>)[k] !== undefined) solverOptions[k] = (options as Record<string, unknown>)[k];
    const ode = resolveOdeOptions(solverOptions as OdeSolverOptions, owner);
    super(options.engine ?? createEngine(options.backend ?? "wasm"), inputSize, {
      returnSequences: options.returnSequences ?? true,
      batchFirst: options.batchFirst ?? true,
      mixedMemory: false,
      projSize: options.projSize ?? null,
      seed: options.seed ?? 0,
    });
    this.ode = ode;
    this.stateSize = hiddenSize;
    this.cellOutputSize = hiddenSize;
    this.field = new GruOdeField(this.engine, this.params, "ode_cell.", hiddenSize, this.rng);
    this.cell = new GruCell(this.engine, this.params, "gru_cell.", inputSize, hiddenSize, this.rng, "");
    this.solver = new OdeSolver(this.engine, this.field, ode);
    this.arena = new EngineArena(this.engine);
    this.buildHeadAndTail();
  }

  toConfig(): { model: string; constructor_args: Record<string, unknown> } {
    return {
      model: "GRUODE",
      constructor_args: {
        input_size: this.inputSize,
        hidden_size: this.hiddenSize,
        proj_size: this.projSize,
        return_sequences: this.returnSequences,
        batch_first: this.batchFirst,
        ...odeOptionsToArgs(this.ode),
      },
    };
  }

  protected corePrepare(): void {
    this.field.prepare();
    this.cell.prepare();
    this.observation = 0;
  }

  protected coreCache(steps: number, rows: number, { grad, sequenceSteps }: PassMode): GruOdeCache {
    const e = this.engine;
    // RecurrentModel may just have released its tape memory (engine.release): drop arena chunks above it
    this.arena.forgetFrom(e.mark());
    const H = this.hiddenSize;
    return {
      grad,
      rows,
      cell: new GruCache(e, H, sequenceSteps, steps, rows, grad),
      nextStep: 0,
      evolved: e.alloc(steps * rows * H),
      dEvolved: grad ? e.alloc(rows * H) : -1,
      work: e.alloc(this.solver.workspaceSize(rows)),
      tapes: new Array(steps).fill(null),
    };
  }

  protected override coreMapInputs(cache: unknown, steps: number, _rows: number, x: number): void {
    const c = cache as GruOdeCache;
    this.cell.mapInputs(c.cell, steps, x, this.inputSize);
    c.nextStep = 0;
  }

  protected coreForward(cache: unknown, slot: number, rows: number, _x: number, _ldx: number, hPrev: number, hOut: number, ts: number, y: number, _dropout: Rng | null): void {
    const c = cache as GruOdeCache;
    const H = this.hiddenSize;
    const step = c.nextStep++;
    if (step >= c.cell.inputSteps) throw new Error(`GRUODE: step ${step} runs without mapped inputs (coreMapInputs mapped ${c.cell.inputSteps})`);
    if (c.grad && step === 0) this.arena.reset();
    const evolved = c.evolved + slot * rows * H;
    const { tape } = this.solver.solve({
      rows, y0: hPrev, ldy0: H, ts, yOut: evolved, ldOut: H, workspace: c.work,
      tape: c.grad ? this.arena : null, observation: this.observation++,
    });
    c.tapes[slot] = tape;
    this.cell.forwardStep(c.cell, step, slot, rows, evolved, H, hOut, H);
    this.engine.copyRows(rows, H, hOut, H, y, H);
  }

  protected coreBackward(cache: unknown, slot: number, rows: number, dy: number, dh: number, dx: number, ldDx: number, dhPrev: number, _ts: number, dts: number, _hPrev: number, _hOut: number): void {
    const c = cache as GruOdeCache;
    const e = this.engine;
    const H = this.hiddenSize;
    const tape = c.tapes[slot];
    if (!tape) throw new Error(`GRUODE: no solver record for step ${slot} (backward needs a forward with grad)`);
    // the output is h itself: its gradient joins the one from later steps
    e.addRows(rows, H, dy, H, dh, H);
    e.fill(c.dEvolved, rows * H, 0);
    this.cell.backwardStep(c.cell, slot, rows, c.evolved + slot * rows * H, H, dh, H, dx, ldDx, c.dEvolved, H);
    this.solver.backward(tape, { dyOut: c.dEvolved, dy0: dhPrev, dts, workspace: c.work });
  }

  protected coreFinishBackward(cache: unknown, steps: number, x: number, _hPrev: number): void {
    const c = cache as GruOdeCache;
    // the GRU update read the evolved states, not the previous ones
    this.cell.finishBackward(c.cell, steps, x, this.inputSize, c.evolved, this.hiddenSize);
  }
}
