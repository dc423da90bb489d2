/**
 * CT-RNN (continuous-time RNN), a baseline of the CfC paper, on the ODE solvers of ode-solver.ts.
 *
 * The vector field: dh/dt = -h / tau + tanh(u + W_h h), with u = W_x x + b the observation's
 * context (held constant over the elapsed time) and tau > 0 per neuron, tau = softplus(tau_raw) (torch's
 * softplus, threshold 20), which keeps tau positive with a gradient everywhere; tau_raw = log(e - 1)
 * gives tau = 1.
 */
import { Act, type Engine } from "../engine/engine.js";
import { createEngine } from "../engine/index.js";
import { orthogonal, xavierUniform } from "../nn/init.js";
import type { ParameterEntry } from "../nn/parameters.js";
import type { Rng } from "../nn/rng.js";
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
import { type PassMode, RecurrentModel } from "./recurrent.js";

const SOFTPLUS_THRESHOLD = 20;

function softplus(x: number): number {
  return x > SOFTPLUS_THRESHOLD ? x : Math.log1p(Math.exp(x));
}

function softplusGrad(x: number): number {
  return x > SOFTPLUS_THRESHOLD ? 1 : 1 / (1 + Math.exp(-x));
}

/** tau_raw giving tau = 1 */
export const CT_RNN_TAU_RAW_ONE = Math.log(Math.E - 1);

export class CtRnnField implements VectorField {
  readonly stateSize: number;
  readonly contextSize: number;
  /** the pre-activation z = u + W_h h of each evaluation */
  readonly recordSize: number;
  readonly scratchSize: number;
  /** W_h transposed, for z = h W_h^T as one gemm */
  private readonly wt: number;
  /** -1 / tau, and the gradient w.r.t. it accumulated until finishBackward */
  private readonly negInvTau: number;
  private readonly dNegInvTau: number;

  /**
   * weight: W_h (units x units, [to, from]); tauRaw: units values. Their gradients (when trainable)
   * accumulate into the entries' grad offsets.
   */
  constructor(readonly engine: Engine, readonly units: number, readonly weight: ParameterEntry, readonly tauRaw: ParameterEntry) {
    const H = units;
    if (weight.size !== H * H) throw new Error(`CtRnnField: the recurrent weight must have ${H * H} values, got ${weight.size}`);
    if (tauRaw.size !== H) throw new Error(`CtRnnField: tau must have ${H} values, got ${tauRaw.size}`);
    this.stateSize = H;
    this.contextSize = H;
    this.recordSize = H;
    this.scratchSize = 2 * H;
    this.wt = engine.alloc(H * H);
    this.negInvTau = engine.alloc(H);
    this.dNegInvTau = engine.alloc(H);
  }

  /** Reads the parameters (after any change of them, before solving). */
  prepare(): void {
    const e = this.engine;
    const H = this.units;
    e.transpose(H, H, this.weight.offsets.value, H, this.wt, H);
    const heap = e.heap();
    for (let j = 0; j < H; j++) heap[this.negInvTau + j] = -1 / softplus(heap[this.tauRaw.offsets.value + j]);
    e.fill(this.dNegInvTau, H, 0);
  }

  /** Moves the gradient w.r.t. -1/tau onto tau_raw (after the backward passes of a sequence). */
  finishBackward(): void {
    const H = this.units;
    const heap = this.engine.heap();
    if (this.tauRaw.offsets.grad >= 0) {
      for (let j = 0; j < H; j++) {
        const x = heap[this.tauRaw.offsets.value + j];
        const sp = softplus(x);
        // d(-1/sp)/dx = sp' / sp^2
        heap[this.tauRaw.offsets.grad + j] += (heap[this.dNegInvTau + j] * softplusGrad(x)) / (sp * sp);
      }
    }
    this.engine.fill(this.dNegInvTau, H, 0);
  }

  forward(rows: number, y: number, ldy: number, ctx: number, ldCtx: number, dydt: number, ldDydt: number, record: number, scratch: number): void {
    const e = this.engine;
    const H = this.units;
    const z = record >= 0 ? record : scratch;
    const decay = scratch + rows * H;
    e.gemm(rows, H, H, y, ldy, this.wt, H, z, H, false);
    if (ctx >= 0) e.addRows(rows, H, ctx, ldCtx, z, H);
    e.biasAct(rows, H, Act.tanh, z, H, -1, dydt, ldDydt);
    e.ltcMap(rows, H, y, ldy, this.negInvTau, -1, decay, H);
    e.addRows(rows, H, decay, H, dydt, ldDydt);
  }

  backward(rows: number, y: number, ldy: number, _ctx: number, _ldCtx: number, record: number, g: number, ldG: number, dy: number, ldDy: number, dCtx: number, ldDCtx: number, scratch: number): void {
    const e = this.engine;
    const H = this.units;
    const dz = scratch;
    e.actBackward(rows, H, Act.tanh, record, H, g, ldG, dz, H);
    e.gemm(rows, H, H, dz, H, this.weight.offsets.value, H, dy, ldDy, true);
    e.ltcMapBackward(rows, H, y, ldy, this.negInvTau, g, ldG, dy, ldDy, this.dNegInvTau, -1);
    if (dCtx >= 0) e.addRows(rows, H, dz, H, dCtx, ldDCtx);
    if (this.weight.offsets.grad >= 0) {
      const dzT = scratch + rows * H;
      e.transpose(rows, H, dz, H, dzT, rows);
      e.gemm(H, H, rows, dzT, rows, y, ldy, this.weight.offsets.grad, H, true);
    }
  }
}

/**
 * CT-RNN: a continuous-time RNN whose state follows dh/dt = -h / tau + tanh(W_x x + W_h h + b) over each
 * elapsed time, x held at the observation, integrated by an ODE solver ("euler", "rk4" or "dopri5", see
 * ode-solver.ts; the solver's options are given flat among the model's). The output is h. Parameters
 * (rnn_cell.*): input_weight [H, I] (xavier uniform), recurrent_weight [H, H] (orthogonal), bias [H]
 * (zeros), tau [H]: stored unconstrained, the time constant is softplus(tau) (initialised to 1), as
 * ncps LTC stores cm and gleak under implicit constraints.
 */
export interface CTRNNOptions extends OdeSolverOptions {
  mixedMemory?: boolean;
  projSize?: number | null;
  returnSequences?: boolean;
  batchFirst?: boolean;
  /** seed of weight initialisation: same seed, same model */
  seed?: number;
  /** "wasm" (float32, default) or "reference" (float64) */
  backend?: "wasm" | "reference";
  /** an engine to build on instead of a new one of `backend` */
  engine?: Engine;
}

const MODEL_OPTION_NAMES = ["mixedMemory", "projSize", "returnSequences", "batchFirst", "seed", "backend", "engine"];
const SOLVER_OPTION_NAMES = ["solver", "stepSize", "stepsPerGap", "rtol", "atol", "safety", "minFactor", "maxFactor", "firstStep", "minStep", "maxStep", "maxSteps"];

interface CtRnnCache {
  grad: boolean;
  rows: number;
  /** per step: the context u = W_x x + b (steps x rows x H) */
  ctx: number;
  /** per step: d loss / d u (steps x rows x H), and its transpose for the weight gradient */
  dCtx: number;
  dCtxT: number;
  /** the solver's workspace for `rows` rows */
  work: number;
  /** per step: the solver's record (grad only) */
  tapes: Array<SolveTape | null>;
}

export class CTRNN extends RecurrentModel {
  readonly stateSize: number;
  readonly cellOutputSize: number;
  readonly field: CtRnnField;
  readonly solver: OdeSolver;
  /** the options as given, with defaults filled (for checkpoints) */
  readonly config: { mixedMemory: boolean; projSize: number | null; returnSequences: boolean; batchFirst: boolean; seed: number; ode: ResolvedOdeOptions };
  private readonly inputWeight: ParameterEntry;
  private readonly bias: ParameterEntry;
  /** W_x transposed (I x H), for u = x W_x^T as one gemm */
  private readonly inputWeightT: number;
  /** the record of the last forward with grad: every step's solve, in memory that grows as needed */
  private readonly arena: EngineArena;
  /** observations since the last forward began (named in solver errors) */
  private observation = 0;

  constructor(inputSize: number, readonly units: number, options: CTRNNOptions = {}) {
    const owner = "CTRNN";
    const unknown = Object.keys(options).filter((k) => !MODEL_OPTION_NAMES.includes(k) && !SOLVER_OPTION_NAMES.includes(k));
    if (unknown.length) throw new Error(`${owner}: unknown option(s) ${unknown.join(", ")} (known: ${[...MODEL_OPTION_NAMES, ...SOLVER_OPTION_NAMES].join(", ")})`);
    if (!Number.isInteger(units) || units < 1) throw new Error(`${owner}: units must be a positive integer, got ${String(units)}`);
    const solverOptions: Record<string, unknown> = {};
    for (const k of SOLVER_OPTION_NAMES) if ((options as Record<string, unknown>)[k] !== undefined) solverOptions[k] = (options as Record<string, unknown>)[k];
    const ode = resolveOdeOptions(solverOptions as OdeSolverOptions, owner);
    super(options.engine ?? createEngine(options.backend ?? "wasm"), inputSize, {
      returnSequences: options.returnSequences ?? true,
      batchFirst: options.batchFirst ?? true,
      mixedMemory: options.mixedMemory ?? false,
      projSize: options.projSize ?? null,
      seed: options.seed ?? 0,
    });
    const e = this.engine;
    const H = units;
    const I = inputSize;
    this.stateSize = H;
    this.cellOutputSize = H;
    this.config = { mixedMemory: this.mixedMemory, projSize: this.projSize, returnSequences: this.returnSequences, batchFirst: this.batchFirst, seed: options.seed ?? 0, ode };
    this.inputWeight = this.params.add("rnn_cell.input_weight", [H, I]);
    const recurrent = this.params.add("rnn_cell.recurrent_weight", [H, H]);
    this.bias = this.params.add("rnn_cell.bias", [H]);
    const tau = this.params.add("rnn_cell.tau", [H]);
    const wx = new Float64Array(H * I);
    xavierUniform(wx, H, I, this.rng);
    const wh = new Float64Array(H * H);
    orthogonal(wh, H, H, this.rng);
    const heap = e.heap();
    heap.set(wx, this.inputWeight.offsets.value);
    heap.set(wh, recurrent.offsets.value);
    heap.fill(CT_RNN_TAU_RAW_ONE, tau.offsets.value, tau.offsets.value + H);
    this.inputWeightT = e.alloc(I * H);
    this.field = new CtRnnField(e, H, recurrent, tau);
    this.solver = new OdeSolver(e, this.field, ode);
    this.arena = new EngineArena(e);
    this.buildHeadAndTail();
  }

  toConfig(): { model: string; constructor_args: Record<string, unknown> } {
    const c = this.config;
    return {
      model: "CTRNN",
      constructor_args: {
        input_size: this.inputSize,
        units: this.units,
        proj_size: c.projSize,
        return_sequences: c.returnSequences,
        batch_first: c.batchFirst,
        mixed_memory: c.mixedMemory,
        ...odeOptionsToArgs(c.ode),
      },
    };
  }

  protected corePrepare(): void {
    this.engine.transpose(this.units, this.inputSize, this.inputWeight.offsets.value, this.inputSize, this.inputWeightT, this.units);
    this.field.prepare();
    this.observation = 0;
  }

  protected coreCache(steps: number, rows: number, { grad }: PassMode): CtRnnCache {
    const e = this.engine;
    // RecurrentModel may just have released its tape memory (engine.release): drop arena chunks above it
    this.arena.forgetFrom(e.mark());
    const H = this.units;
    return {
      grad,
      rows,
      ctx: e.alloc(steps * rows * H),
      dCtx: grad ? e.alloc(steps * rows * H) : -1,
      dCtxT: grad ? e.alloc(steps * rows * H) : -1,
      work: e.alloc(this.solver.workspaceSize(rows)),
      tapes: new Array(steps).fill(null),
    };
  }

  protected coreForward(cache: unknown, slot: number, rows: number, x: number, ldx: number, hPrev: number, hOut: number, ts: number, y: number, _dropout: Rng | null): void {
    const c = cache as CtRnnCache;
    const e = this.engine;
    const H = this.units;
    if (c.grad && slot === 0) this.arena.reset();
    const u = c.ctx + slot * rows * H;
    e.gemm(rows, H, this.inputSize, x, ldx, this.inputWeightT, H, u, H, false);
    e.biasAct(rows, H, Act.identity, u, H, this.bias.offsets.value, u, H);
    const { tape } = this.solver.solve({
      rows, y0: hPrev, ldy0: H, ctx: u, ldCtx: H, ts, yOut: hOut, ldOut: H, workspace: c.work,
      tape: c.grad ? this.arena : null, observation: this.observation++,
    });
    c.tapes[slot] = tape;
    e.copyRows(rows, H, hOut, H, y, H);
  }

  protected coreBackward(cache: unknown, slot: number, rows: number, dy: number, dh: number, dx: number, ldDx: number, dhPrev: number, _ts: number, dts: number): void {
    const c = cache as CtRnnCache;
    const e = this.engine;
    const H = this.units;
    const tape = c.tapes[slot];
    if (!tape) throw new Error(`CTRNN: no solver record for step ${slot} (backward needs a forward with grad)`);
    e.addRows(rows, H, dy, H, dh, H);
    const du = c.dCtx + slot * rows * H;
    e.fill(du, rows * H, 0);
    this.solver.backward(tape, { dyOut: dh, dy0: dhPrev, dCtx: du, dts, workspace: c.work });
    e.gemm(rows, this.inputSize, H, du, H, this.inputWeight.offsets.value, this.inputSize, dx, ldDx, true);
  }

  protected coreFinishBackward(cache: unknown, steps: number, x: number, _hPrev: number): void {
    const c = cache as CtRnnCache;
    const e = this.engine;
    const H = this.units;
    const R = steps * c.rows;
    // the input weight and bias gradients of all steps at once
    e.transpose(R, H, c.dCtx, H, c.dCtxT, R);
    e.gemm(H, this.inputSize, R, c.dCtxT, R, x, this.inputSize, this.inputWeight.offsets.grad, this.inputSize, true);
    e.colSum(R, H, c.dCtx, H, this.bias.offsets.grad);
    this.field.finishBackward();
  }
}
