/**
 * CT-RNN (continuous-time RNN), a baseline of the CfC paper, on the ODE solvers of ode-solver.ts.
 *
 * The vector field: dh/dt = -h / tau + tanh(u + W_h h), with u = W_x x + b the observation's
 * context (held constant over the elapsed time) and tau > 0 per neuron, tau = softplus(tau_raw) (torch's
 * softplus, threshold 20), which keeps tau positive with a gradient everywhere; tau_raw = log(e - 1)
 * gives tau = 1.
 */
import { Act, type Engine } from "../engine/engine.js";
import { orthogonal, xavierUniform } from "../nn/init.js";
import type { ParameterEntry } from "../nn/parameters.js";
import type { Rng } from "../nn/rng.js";
import {
  type ObservationSolveCache,
  ObservationSolver,
  type OdeModelOptions,
  type ResolvedOdeModelOptions,
  odeModelArgs,
  odeModelOptionNames,
  odeModelSettings,
  resolveOdeModelOptions,
} from "./ode-observations.js";
import { modelEngine } from "./options.js";
import { type OdeSolver, type VectorField, odeOptionsToArgs } from "./ode-solver.js";
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
export interface CTRNNOptions extends OdeModelOptions {
  mixedMemory?: boolean;
}

const OPTION_NAMES = odeModelOptionNames(Object.keys({ mixedMemory: true } satisfies Record<Exclude<keyof CTRNNOptions, keyof OdeModelOptions>, true>));

interface CtRnnCache {
  ode: ObservationSolveCache;
  /** per step: the context u = W_x x + b (steps x rows x H) */
  ctx: number;
  /** per step: d loss / d u (steps x rows x H), and its transpose for the weight gradient */
  dCtx: number;
  dCtxT: number;
}

export class CTRNN extends RecurrentModel {
  readonly stateSize: number;
  readonly cellOutputSize: number;
  readonly field: CtRnnField;
  readonly solver: OdeSolver;
  /** the options as given, with defaults filled (for checkpoints) */
  readonly config: ResolvedOdeModelOptions & { mixedMemory: boolean };
  private readonly inputWeight: ParameterEntry;
  private readonly bias: ParameterEntry;
  /** W_x transposed (I x H), for u = x W_x^T as one gemm */
  private readonly inputWeightT: number;
  private readonly observations: ObservationSolver;

  constructor(inputSize: number, readonly units: number, options: CTRNNOptions = {}) {
    const owner = "CTRNN";
    // CTRNN's own wording of the unknown-option error (older than rejectUnknownOptions), kept for its users
    const unknown = Object.keys(options).filter((k) => !OPTION_NAMES.includes(k));
    if (unknown.length) throw new Error(`${owner}: unknown option(s) ${unknown.join(", ")} (known: ${OPTION_NAMES.join(", ")})`);
    const resolved = resolveOdeModelOptions(owner, options, null, { units });
    const mixedMemory = options.mixedMemory ?? false;
    super(modelEngine(options), inputSize, odeModelSettings(resolved, mixedMemory));
    const e = this.engine;
    const H = units;
    const I = inputSize;
    this.stateSize = H;
    this.cellOutputSize = H;
    this.config = { mixedMemory, ...resolved };
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
    this.observations = new ObservationSolver(e, this.field, resolved.ode, owner);
    this.solver = this.observations.solver;
    this.buildHeadAndTail();
  }

  toConfig(): { model: string; constructor_args: Record<string, unknown> } {
    const c = this.config;
    return {
      model: "CTRNN",
      constructor_args: {
        input_size: this.inputSize,
        units: this.units,
        ...odeModelArgs(c),
        mixed_memory: c.mixedMemory,
        ...odeOptionsToArgs(c.ode),
      },
    };
  }

  protected corePrepare(): void {
    this.engine.transpose(this.units, this.inputSize, this.inputWeight.offsets.value, this.inputSize, this.inputWeightT, this.units);
    this.field.prepare();
    this.observations.startPass();
  }

  protected coreCache(steps: number, rows: number, { grad }: PassMode): CtRnnCache {
    const e = this.engine;
    const H = this.units;
    return {
      ode: this.observations.cache(steps, rows, grad),
      ctx: e.alloc(steps * rows * H),
      dCtx: grad ? e.alloc(steps * rows * H) : -1,
      dCtxT: grad ? e.alloc(steps * rows * H) : -1,
    };
  }

  protected coreForward(cache: unknown, slot: number, rows: number, x: number, ldx: number, hPrev: number, hOut: number, ts: number, y: number, _dropout: Rng | null): void {
    const c = cache as CtRnnCache;
    const e = this.engine;
    const H = this.units;
    const u = c.ctx + slot * rows * H;
    e.gemm(rows, H, this.inputSize, x, ldx, this.inputWeightT, H, u, H, false);
    e.biasAct(rows, H, Act.identity, u, H, this.bias.offsets.value, u, H);
    this.observations.solve(c.ode, slot, rows, hPrev, H, ts, hOut, H, u, H);
    e.copyRows(rows, H, hOut, H, y, H);
  }

  protected coreBackward(cache: unknown, slot: number, rows: number, dy: number, dh: number, dx: number, ldDx: number, dhPrev: number, _ts: number, dts: number): void {
    const c = cache as CtRnnCache;
    const e = this.engine;
    const H = this.units;
    e.addRows(rows, H, dy, H, dh, H);
    const du = c.dCtx + slot * rows * H;
    e.fill(du, rows * H, 0);
    this.observations.backward(c.ode, slot, dh, H, dhPrev, H, dts, du, H);
    e.gemm(rows, this.inputSize, H, du, H, this.inputWeight.offsets.value, this.inputSize, dx, ldDx, true);
  }

  protected coreFinishBackward(cache: unknown, steps: number, x: number, _hPrev: number): void {
    const c = cache as CtRnnCache;
    const e = this.engine;
    const H = this.units;
    const R = steps * c.ode.rows;
    // the input weight and bias gradients of all steps at once
    e.transpose(R, H, c.dCtx, H, c.dCtxT, R);
    e.gemm(H, this.inputSize, R, c.dCtxT, R, x, this.inputSize, this.inputWeight.offsets.grad, this.inputSize, true);
    e.colSum(R, H, c.dCtx, H, this.bias.offsets.grad);
    this.field.finishBackward();
  }
}
