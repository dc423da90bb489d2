/**
 * LSTM baseline (the discretised gated RNN the paper compares against), with ncps's LSTM cell
 * (forget-gate bias +1). The recurrent state is [h | c] (2 x hiddenSize); the output is h.
 * Elapsed times have no place in an LSTM; give them as an extra input feature when they matter.
 */
import { LstmCache, LstmCell } from "../nn/lstm-cell.js";
import type { Rng } from "../nn/rng.js";
import { SEQUENCE_MODEL_OPTION_NAMES, type SequenceModelOptions, modelEngine, rejectUnknownOptions, sequenceModelSettings } from "./options.js";
import { type PassMode, RecurrentModel } from "./recurrent.js";

export type LSTMOptions = SequenceModelOptions;

interface LstmCoreCache {
  cell: LstmCache;
  dc: number; // rows x H
}

export class LSTM extends RecurrentModel {
  readonly stateSize: number;
  readonly cellOutputSize: number;
  readonly cell: LstmCell;

  constructor(inputSize: number, readonly hiddenSize: number, options: LSTMOptions = {}) {
    rejectUnknownOptions("LSTM", options, SEQUENCE_MODEL_OPTION_NAMES);
    if (!Number.isInteger(hiddenSize) || hiddenSize < 1) throw new Error(`LSTM: hiddenSize must be a positive integer, got ${hiddenSize}`);
    super(modelEngine(options), inputSize, sequenceModelSettings(options));
    this.stateSize = 2 * hiddenSize;
    this.cellOutputSize = hiddenSize;
    this.cell = new LstmCell(this.engine, this.params, "rnn.", inputSize, hiddenSize, this.rng);
    this.buildHeadAndTail();
  }

  toConfig() {
    return {
      model: "LSTM",
      constructor_args: { input_size: this.inputSize, hidden_size: this.hiddenSize, proj_size: this.projSize, return_sequences: this.returnSequences, batch_first: this.batchFirst },
    };
  }

  protected corePrepare(): void {
    this.cell.prepare();
  }

  protected coreCache(steps: number, rows: number, { grad }: PassMode): LstmCoreCache {
    return { cell: new LstmCache(this.engine, this.hiddenSize, steps, rows, grad), dc: grad ? this.engine.alloc(rows * this.hiddenSize) : -1 };
  }

  protected coreForward(cache: unknown, slot: number, rows: number, x: number, ldx: number, hPrev: number, hOut: number, _ts: number, y: number, _dropout: Rng | null): void {
    const c = cache as LstmCoreCache;
    const H = this.hiddenSize;
    const S = this.stateSize;
    this.cell.forwardStep(c.cell, slot, rows, x, ldx, hPrev, S, hPrev + H, S, hOut + H, hOut, S);
    this.engine.copyRows(rows, H, hOut, S, y, H);
  }

  protected coreBackward(cache: unknown, slot: number, rows: number, dy: number, dh: number, dx: number, ldDx: number, dhPrev: number, _ts: number, _dts: number, hPrev: number, hOut: number): void {
    const c = cache as LstmCoreCache;
    const e = this.engine;
    const H = this.hiddenSize;
    const S = this.stateSize;
    // the output is h; the cell takes dc as a contiguous block and returns d loss / d c_prev in it
    e.addRows(rows, H, dy, H, dh, S);
    e.copyRows(rows, H, dh + H, S, c.dc, H);
    this.cell.backwardStep(c.cell, slot, rows, hPrev + H, S, hOut + H, dh, S, c.dc, dx, ldDx, dhPrev, S);
    e.addRows(rows, H, c.dc, H, dhPrev + H, S);
  }

  protected coreFinishBackward(cache: unknown, steps: number, x: number, hPrev: number): void {
    this.cell.finishBackward((cache as LstmCoreCache).cell, steps, x, hPrev, this.stateSize);
  }
}
