/**
 * GRU baseline: torch's `nn.GRU` (one layer, unidirectional) under the module name `rnn`, so the weights
 * of a PyTorch model holding `self.rnn = nn.GRU(input_size, hidden_size, batch_first=...)` load by name
 * (`rnn.weight_ih_l0`, ...). The recurrent state and the output are h (hiddenSize). Elapsed times have
 * no place in a GRU; give them as an extra input feature when they matter. The optional projection is
 * ncps's output Linear `fc`, as for the other models (torch's GRU itself has none).
 */
import { GruCache, GruCell } from "../nn/gru-cell.js";
import type { Rng } from "../nn/rng.js";
import { SEQUENCE_MODEL_OPTION_NAMES, type SequenceModelOptions, modelEngine, rejectUnknownOptions, sequenceModelSettings } from "./options.js";
import { type PassMode, RecurrentModel } from "./recurrent.js";

export type GRUOptions = SequenceModelOptions;

interface GruCoreCache {
  cell: GruCache;
  /** the step the next coreForward runs, counted from the last coreMapInputs */
  nextStep: number;
}

export class GRU extends RecurrentModel {
  readonly stateSize: number;
  readonly cellOutputSize: number;
  readonly cell: GruCell;

  constructor(inputSize: number, readonly hiddenSize: number, options: GRUOptions = {}) {
    rejectUnknownOptions("GRU", options, SEQUENCE_MODEL_OPTION_NAMES);
    if (!Number.isInteger(hiddenSize) || hiddenSize < 1) throw new Error(`GRU: hiddenSize must be a positive integer, got ${hiddenSize}`);
    super(modelEngine(options), inputSize, sequenceModelSettings(options));
    this.stateSize = hiddenSize;
    this.cellOutputSize = hiddenSize;
    this.cell = new GruCell(this.engine, this.params, "rnn.", inputSize, hiddenSize, this.rng);
    this.buildHeadAndTail();
  }

  toConfig() {
    return {
      model: "GRU",
      constructor_args: { input_size: this.inputSize, hidden_size: this.hiddenSize, proj_size: this.projSize, return_sequences: this.returnSequences, batch_first: this.batchFirst },
    };
  }

  protected corePrepare(): void {
    this.cell.prepare();
  }

  protected coreCache(steps: number, rows: number, { grad, sequenceSteps }: PassMode): GruCoreCache {
    return { cell: new GruCache(this.engine, this.hiddenSize, sequenceSteps, steps, rows, grad), nextStep: 0 };
  }

  protected override coreMapInputs(cache: unknown, steps: number, _rows: number, x: number): void {
    const c = cache as GruCoreCache;
    this.cell.mapInputs(c.cell, steps, x, this.inputSize);
    c.nextStep = 0;
  }

  protected coreForward(cache: unknown, slot: number, rows: number, _x: number, _ldx: number, hPrev: number, hOut: number, _ts: number, y: number, _dropout: Rng | null): void {
    const c = cache as GruCoreCache;
    const H = this.hiddenSize;
    const step = c.nextStep++;
    if (step >= c.cell.inputSteps) throw new Error(`GRU: step ${step} runs without mapped inputs (coreMapInputs mapped ${c.cell.inputSteps})`);
    this.cell.forwardStep(c.cell, step, slot, rows, hPrev, H, hOut, H);
    this.engine.copyRows(rows, H, hOut, H, y, H);
  }

  protected coreBackward(cache: unknown, slot: number, rows: number, dy: number, dh: number, dx: number, ldDx: number, dhPrev: number, _ts: number, _dts: number, hPrev: number, _hOut: number): void {
    const c = cache as GruCoreCache;
    const H = this.hiddenSize;
    // the output is h itself: its gradient joins the one from later steps
    this.engine.addRows(rows, H, dy, H, dh, H);
    this.cell.backwardStep(c.cell, slot, rows, hPrev, H, dh, H, dx, ldDx, dhPrev, H);
  }

  protected coreFinishBackward(cache: unknown, steps: number, x: number, hPrev: number): void {
    this.cell.finishBackward((cache as GruCoreCache).cell, steps, x, this.inputSize, hPrev, this.hiddenSize);
  }
}
