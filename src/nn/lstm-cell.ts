/**
 * The LSTM cell of ncps (`ncps.torch.lstm.LSTMCell`), used by mixed memory and by the LSTM baseline:
 * input_map Linear(I, 4H) with bias, recurrent_map Linear(H, 4H) without bias, then the gates (engine
 * lstmForward / lstmBackward hold the cell equations and the gate order). Init as ncps: xavier on
 * input_map.weight, orthogonal on recurrent_map.weight, U(-0.1, 0.1) on the bias.
 */
import { Act, type Engine } from "../engine/engine.js";
import { orthogonal, uniform, xavierUniform } from "./init.js";
import { type Linear, addLinear, linearBackwardInput, linearBackwardWeights, linearBiasAct, linearMatmul, linearPrepare } from "./linear.js";
import type { ParameterSet } from "./parameters.js";
import type { Rng } from "./rng.js";

export class LstmCache {
  readonly gates: number;
  readonly dGates: number;
  readonly transposeScratch: number;
  /** grad: keep what backward needs (gate gradients, scratch); the LSTM has no dropout */
  constructor(engine: Engine, hidden: number, readonly steps: number, readonly rows: number, grad: boolean) {
    const R = steps * rows;
    this.gates = engine.alloc(R * 4 * hidden);
    this.dGates = grad ? engine.alloc(R * 4 * hidden) : -1;
    this.transposeScratch = grad ? engine.alloc(R * 4 * hidden) : -1;
  }
}

export class LstmCell {
  /** the constant added to the forget gate's pre-activation (ncps: 1; the paper's mixed CfC: its forget_bias) */
  forgetBias = 1;
  readonly inputMap: Linear;
  readonly recurrentMap: Linear;

  constructor(readonly engine: Engine, params: ParameterSet, prefix: string, readonly inputSize: number, readonly hidden: number, rng: Rng) {
    const G = 4 * hidden;
    this.inputMap = addLinear(params, `${prefix}input_map`, inputSize, G, true);
    this.recurrentMap = addLinear(params, `${prefix}recurrent_map`, hidden, G, false);
    const wi = new Float64Array(G * inputSize);
    xavierUniform(wi, G, inputSize, rng);
    const bi = new Float64Array(G);
    uniform(bi, -0.1, 0.1, rng);
    const wr = new Float64Array(G * hidden);
    orthogonal(wr, G, hidden, rng);
    const heap = engine.heap();
    heap.set(wi, this.inputMap.weight.value);
    heap.set(bi, this.inputMap.bias!.value);
    heap.set(wr, this.recurrentMap.weight.value);
  }

  prepare(): void {
    linearPrepare(this.engine, this.inputMap);
    linearPrepare(this.engine, this.recurrentMap);
  }

  /** (h, c) <- LSTM(x, (h, c)) for one step; c and cOut have row stride ldc, h and hOut ldh. */
  forwardStep(cache: LstmCache, slot: number, rows: number, x: number, ldx: number, h: number, ldh: number, c: number, ldc: number, cOut: number, hOut: number, ldhOut: number): void {
    const e = this.engine;
    const G = 4 * this.hidden;
    const gates = cache.gates + slot * cache.rows * G;
    // input_map(x) + recurrent_map(h): both matmuls into the gates, then input_map's bias in one pass
    linearMatmul(e, this.inputMap, rows, x, ldx, gates, G, false);
    linearMatmul(e, this.recurrentMap, rows, h, ldh, gates, G, true);
    linearBiasAct(e, this.inputMap, rows, gates, G, Act.identity, gates, G);
    e.lstmForward(rows, this.hidden, gates, c, ldc, cOut, hOut, ldhOut, this.forgetBias);
  }

  /**
   * Backward of one step. dh: d loss / d h' (ld ldDh); dc (rows x H): d loss / d c' in, d loss / d c out.
   * Accumulates d loss / d x into dx and d loss / d h into dhPrev.
   */
  backwardStep(cache: LstmCache, slot: number, rows: number, c: number, ldc: number, cOut: number, dh: number, ldDh: number, dc: number, dx: number, ldDx: number, dhPrev: number, ldDhPrev: number): void {
    const e = this.engine;
    const G = 4 * this.hidden;
    const gates = cache.gates + slot * cache.rows * G;
    const dGates = cache.dGates + slot * cache.rows * G;
    e.lstmBackward(rows, this.hidden, gates, c, ldc, cOut, dh, ldDh, dc, dGates);
    linearBackwardInput(e, this.inputMap, rows, dGates, G, dx, ldDx, true);
    linearBackwardInput(e, this.recurrentMap, rows, dGates, G, dhPrev, ldDhPrev, true);
  }

  /** Weight gradients over all steps: x (R x I) and hPrev (R x H, row stride ldh) as used in forward. */
  finishBackward(cache: LstmCache, steps: number, x: number, hPrev: number, ldh: number): void {
    const e = this.engine;
    const G = 4 * this.hidden;
    const R = steps * cache.rows;
    const T = cache.transposeScratch;
    linearBackwardWeights(e, this.inputMap, R, cache.dGates, G, x, this.inputSize, T);
    linearBackwardWeights(e, this.recurrentMap, R, cache.dGates, G, hPrev, ldh, T, true);
  }
}
