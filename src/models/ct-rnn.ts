/**
 * CT-RNN's vector field: dh/dt = -h / tau + tanh(u + W_h h), with u = W_x x + b the observation's
 * context (held constant over the elapsed time) and tau > 0 per neuron, tau = softplus(tau_raw) (torch's
 * softplus, threshold 20), which keeps tau positive with a gradient everywhere; tau_raw = log(e - 1)
 * gives tau = 1.
 */
import { Act, type Engine } from "../engine/engine.js";
import type { ParameterEntry } from "../nn/parameters.js";
import type { VectorField } from "./ode-solver.js";

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
    e.transpose(H, H, this.weight.offset, H, this.wt, H);
    const heap = e.heap();
    for (let j = 0; j < H; j++) heap[this.negInvTau + j] = -1 / softplus(heap[this.tauRaw.offset + j]);
    e.fill(this.dNegInvTau, H, 0);
  }

  /** Moves the gradient w.r.t. -1/tau onto tau_raw (after the backward passes of a sequence). */
  finishBackward(): void {
    const H = this.units;
    const heap = this.engine.heap();
    if (this.tauRaw.gradOffset >= 0) {
      for (let j = 0; j < H; j++) {
        const x = heap[this.tauRaw.offset + j];
        const sp = softplus(x);
        // d(-1/sp)/dx = sp' / sp^2
        heap[this.tauRaw.gradOffset + j] += (heap[this.dNegInvTau + j] * softplusGrad(x)) / (sp * sp);
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
    e.gemm(rows, H, H, dz, H, this.weight.offset, H, dy, ldDy, true);
    e.ltcMapBackward(rows, H, y, ldy, this.negInvTau, g, ldG, dy, ldDy, this.dNegInvTau, -1);
    if (dCtx >= 0) e.addRows(rows, H, dz, H, dCtx, ldDCtx);
    if (this.weight.gradOffset >= 0) {
      const dzT = scratch + rows * H;
      e.transpose(rows, H, dz, H, dzT, rows);
      e.gemm(H, H, rows, dzT, rows, y, ldy, this.weight.gradOffset, H, true);
    }
  }
}
