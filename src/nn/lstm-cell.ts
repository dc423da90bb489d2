/**
 * The LSTM cell of ncps's mixed memory (`ncps.torch.lstm.LSTMCell`): input_map Linear(I, 4H) with bias,
 * recurrent_map Linear(H, 4H) without bias; gate order [input activation | input | forget (+1) | output].
 * Init as ncps: xavier on input_map.weight, orthogonal on recurrent_map.weight, U(-0.1, 0.1) on the bias.
 */
import type { Engine } from "../engine/engine.js";
import { orthogonal, uniform, xavierUniform } from "./init.js";
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
  private readonly wIn: { v: number; g: number };
  private readonly bIn: { v: number; g: number };
  private readonly wRec: { v: number; g: number };
  private readonly wInT: number;
  private readonly wRecT: number;

  constructor(readonly engine: Engine, params: ParameterSet, prefix: string, readonly inputSize: number, readonly hidden: number, rng: Rng) {
    const G = 4 * hidden;
    const a = params.add(`${prefix}input_map.weight`, [G, inputSize]);
    const b = params.add(`${prefix}input_map.bias`, [G]);
    const r = params.add(`${prefix}recurrent_map.weight`, [G, hidden]);
    this.wIn = { v: a.offset, g: a.gradOffset };
    this.bIn = { v: b.offset, g: b.gradOffset };
    this.wRec = { v: r.offset, g: r.gradOffset };
    this.wInT = engine.alloc(G * inputSize);
    this.wRecT = engine.alloc(G * hidden);
    const wi = new Float64Array(G * inputSize);
    xavierUniform(wi, G, inputSize, rng);
    const bi = new Float64Array(G);
    uniform(bi, -0.1, 0.1, rng);
    const wr = new Float64Array(G * hidden);
    orthogonal(wr, G, hidden, rng);
    const heap = engine.heap();
    heap.set(wi, a.offset);
    heap.set(bi, b.offset);
    heap.set(wr, r.offset);
  }

  prepare(): void {
    const G = 4 * this.hidden;
    this.engine.transpose(G, this.inputSize, this.wIn.v, this.inputSize, this.wInT, G);
    this.engine.transpose(G, this.hidden, this.wRec.v, this.hidden, this.wRecT, G);
  }

  /** (h, c) <- LSTM(x, (h, c)) for one step; c and cOut have row stride ldc, h and hOut ldh. */
  forwardStep(cache: LstmCache, slot: number, rows: number, x: number, ldx: number, h: number, ldh: number, c: number, ldc: number, cOut: number, hOut: number, ldhOut: number): void {
    const e = this.engine;
    const G = 4 * this.hidden;
    const gates = cache.gates + slot * cache.rows * G;
    e.gemm(rows, G, this.inputSize, x, ldx, this.wInT, G, gates, G, false);
    e.gemm(rows, G, this.hidden, h, ldh, this.wRecT, G, gates, G, true);
    e.biasAct(rows, G, 0, gates, G, this.bIn.v, gates, G);
    e.lstmForward(rows, this.hidden, gates, c, ldc, cOut, hOut, ldhOut);
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
    e.gemm(rows, this.inputSize, G, dGates, G, this.wIn.v, this.inputSize, dx, ldDx, true);
    e.gemm(rows, this.hidden, G, dGates, G, this.wRec.v, this.hidden, dhPrev, ldDhPrev, true);
  }

  /** Weight gradients over all steps: x (R x I) and hPrev (R x H, row stride ldh) as used in forward. */
  finishBackward(cache: LstmCache, steps: number, x: number, hPrev: number, ldh: number): void {
    const e = this.engine;
    const G = 4 * this.hidden;
    const R = steps * cache.rows;
    const T = cache.transposeScratch;
    e.transpose(R, G, cache.dGates, G, T, R);
    e.gemm(G, this.inputSize, R, T, R, x, this.inputSize, this.wIn.g, this.inputSize, true);
    e.gemm(G, this.hidden, R, T, R, hPrev, ldh, this.wRec.g, this.hidden, true);
    e.colSum(R, G, cache.dGates, G, this.bIn.g);
  }
}
