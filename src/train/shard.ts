/**
 * The arithmetic of one slice ("shard") of a batch, shared by the in-process trainer and the worker
 * threads: turning dataset rows into model inputs, reading the labelled outputs back, the loss and its
 * gradient, and the forward/backward pass. A shard normalises its loss by the weight of the WHOLE batch
 * (labelled steps or samples, or their class weights), so shards computed apart add up to exactly the
 * gradient of the batch mean.
 *
 * "Label rows" are the prediction rows a loss or metric looks at, in dataset order: per-step targets use
 * row b * L + t of batch position b and step t, with a mask that is 0 on padding (t >= length) and where
 * the dataset's targetMask says the step is unlabelled; last-step targets use one row per sample, read at
 * its last real step (readoutStep).
 */
import { readoutStep, type SequenceDataset, type TargetMode } from "../data/dataset.js";
import type { RecurrentModel } from "../models/recurrent.js";
import type { DType, FloatArray, Tensor } from "../tensor.js";
import { bceWithLogitsLoss, crossEntropyLoss, type LossSpec, mseLoss } from "./losses.js";

/** What the batch code needs to know about a model (a worker knows it without seeing the model). */
export interface ModelShape {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly batchFirst: boolean;
  readonly returnSequences: boolean;
  readonly dtype: DType;
}

export function modelShape(model: RecurrentModel): ModelShape {
  return {
    inputSize: model.inputSize,
    outputSize: model.outputSize,
    batchFirst: model.batchFirst,
    returnSequences: model.returnSequences,
    dtype: model.dtype,
  };
}

/**
 * Checks that a model can be trained or evaluated on a dataset read in `mode`, with errors naming both
 * sizes. Per-step targets need every step's output (returnSequences: true); last-step targets read each
 * sequence at its own last real step, which also needs every step unless no sequence is padded.
 */
export function checkModelFits(shape: ModelShape, ds: SequenceDataset, mode: TargetMode, name = "dataset"): void {
  if (shape.inputSize !== ds.features) {
    throw new Error(`${name}: the model takes ${shape.inputSize} input features per step, the dataset has ${ds.features}`);
  }
  if (shape.returnSequences) return;
  if (mode === "per_step") {
    throw new Error(`${name}: per-step targets need the output of every step; build the model with returnSequences: true (return_sequences)`);
  }
  if (ds.lengths) {
    for (let i = 0; i < ds.size; i++) {
      if (ds.lengths[i] !== ds.steps) {
        throw new Error(
          `${name}: sequence ${i} has ${ds.lengths[i]} real steps of ${ds.steps}, so its prediction must be read at step ${ds.lengths[i] - 1}, ` +
            `but a model with returnSequences: false only returns the last (padded) step; build it with returnSequences: true`,
        );
      }
    }
  }
}

/** Label rows of a set of samples: targets (n x targetWidth) and the mask (null: every row counts). */
export interface LabelRows {
  readonly n: number;
  readonly targets: Float64Array;
  readonly mask: Uint8Array | null;
}

/** Columns of one target row: regression targets, else one class index (or 0/1 label). */
export function targetWidth(ds: SequenceDataset): number {
  return ds.task === "regress" ? ds.targets : 1;
}

/** 1 when step t of sample i carries a label (per-step mode): real (not padding) and unmasked. */
function stepCounts(ds: SequenceDataset, i: number, t: number): number {
  if (ds.lengths && t >= ds.lengths[i]) return 0;
  return ds.targetMask ? (ds.targetMask[i * ds.steps + t] ? 1 : 0) : 1;
}

/**
 * Targets and mask of the given samples in label-row order; written into `reuse` (a previous result for
 * as many samples of the same dataset) when given, so a training step allocates nothing.
 */
export function labelRows(ds: SequenceDataset, indices: ArrayLike<number>, reuse?: LabelRows): LabelRows {
  const B = indices.length;
  const L = ds.steps;
  const w = targetWidth(ds);
  if (ds.targetMode === "last") {
    const targets = reuse?.targets.length === B * w ? reuse.targets : new Float64Array(B * w);
    for (let b = 0; b < B; b++) for (let j = 0; j < w; j++) targets[b * w + j] = ds.y[indices[b] * w + j];
    return { n: B, targets, mask: null };
  }
  const targets = reuse?.targets.length === B * L * w ? reuse.targets : new Float64Array(B * L * w);
  const mask = reuse?.mask?.length === B * L ? reuse.mask : new Uint8Array(B * L);
  for (let b = 0; b < B; b++) {
    const i = indices[b];
    for (let t = 0; t < L; t++) {
      const r = b * L + t;
      mask[r] = stepCounts(ds, i, t);
      for (let j = 0; j < w; j++) targets[r * w + j] = ds.y[(i * L + t) * w + j];
    }
  }
  return { n: B * L, targets, mask };
}

/**
 * The denominator of the loss's mean over these samples, computed from the labels alone (what the loss
 * functions report as `weight`): counted rows x columns for mse and bce, the summed class weights of the
 * counted rows (their count without class weights) for cross-entropy.
 */
export function labelWeight(ds: SequenceDataset, indices: ArrayLike<number>, loss: LossSpec, outputSize: number): number {
  const B = indices.length;
  let rows = 0;
  let weighted = 0;
  const cw = loss.classWeights;
  const add = (label: number): void => {
    rows++;
    if (cw) {
      const k = label;
      if (!(Number.isInteger(k) && k >= 0 && k < cw.length)) throw new Error(`dataset: class label ${k} is not a class index in [0, ${cw.length - 1}]`);
      weighted += cw[k];
    }
  };
  if (ds.targetMode === "last") {
    for (let b = 0; b < B; b++) add(ds.y[indices[b]]);
  } else {
    const L = ds.steps;
    for (let b = 0; b < B; b++) {
      const i = indices[b];
      for (let t = 0; t < L; t++) if (stepCounts(ds, i, t)) add(ds.y[i * L + t]);
    }
  }
  if (loss.kind === "cross_entropy") return cw ? weighted : rows;
  return rows * outputSize;
}

/** Loss over label rows: the mean's numerator (sum), denominator (weight) and d mean / d prediction. */
export function lossOnRows(loss: LossSpec, pred: Float64Array, rows: LabelRows, c: number, gradOut?: Float64Array): { sum: number; weight: number; grad: Float64Array } {
  const mask = rows.mask ?? undefined;
  let r;
  if (loss.kind === "mse") r = mseLoss(pred, rows.targets, rows.n, c, mask, gradOut);
  else if (loss.kind === "bce") r = bceWithLogitsLoss(pred, rows.targets, rows.n, c, { mask, gradOut });
  else r = crossEntropyLoss(pred, rows.targets, rows.n, c, { mask, classWeights: loss.classWeights ?? undefined, gradOut });
  return { sum: r.loss * r.weight, weight: r.weight, grad: r.grad };
}

interface Buffers {
  x: FloatArray;
  ts: FloatArray | null;
  dOut: FloatArray;
  pred: Float64Array;
  grad: Float64Array;
  /** the last batch's label rows, refilled for the next batch of this size */
  labels: LabelRows | null;
}

/**
 * Builds model inputs from dataset samples and reads the model's outputs back as label rows, in the
 * model's own layout (batch-first or time-major) and dtype. Buffers are kept per batch size.
 */
export class BatchAssembler {
  private readonly buffers = new Map<number, Buffers>();

  constructor(readonly shape: ModelShape, readonly ds: SequenceDataset) {}

  private buffersFor(B: number): Buffers {
    let b = this.buffers.get(B);
    if (!b) {
      const { ds, shape } = this;
      const make = (n: number): FloatArray => (shape.dtype === "float64" ? new Float64Array(n) : new Float32Array(n));
      const outRows = shape.returnSequences ? B * ds.steps : B;
      const labelCount = ds.targetMode === "last" ? B : B * ds.steps;
      b = {
        x: make(B * ds.steps * ds.features),
        ts: ds.timespans ? make(B * ds.steps) : null,
        dOut: make(outRows * shape.outputSize),
        pred: new Float64Array(labelCount * shape.outputSize),
        grad: new Float64Array(labelCount * shape.outputSize),
        labels: null,
      };
      this.buffers.set(B, b);
    }
    return b;
  }

  /** Model input (and timespans when the dataset has them) for these samples. */
  input(indices: ArrayLike<number>): { x: Tensor; timespans?: Tensor } {
    const { ds, shape } = this;
    const B = indices.length;
    const L = ds.steps;
    const F = ds.features;
    const buf = this.buffersFor(B);
    const x = buf.x;
    for (let b = 0; b < B; b++) {
      const src = indices[b] * L * F;
      if (shape.batchFirst) {
        x.set(ds.x.subarray(src, src + L * F), b * L * F);
      } else {
        for (let t = 0; t < L; t++) x.set(ds.x.subarray(src + t * F, src + (t + 1) * F), (t * B + b) * F);
      }
    }
    const result: { x: Tensor; timespans?: Tensor } = { x: { shape: shape.batchFirst ? [B, L, F] : [L, B, F], data: x } };
    if (ds.timespans && buf.ts) {
      const ts = buf.ts;
      for (let b = 0; b < B; b++) {
        const src = indices[b] * L;
        if (shape.batchFirst) ts.set(ds.timespans.subarray(src, src + L), b * L);
        else for (let t = 0; t < L; t++) ts[t * B + b] = ds.timespans[src + t];
      }
      result.timespans = { shape: shape.batchFirst ? [B, L] : [L, B], data: ts };
    }
    return result;
  }

  /** Row of the model output holding step t of batch position b (of B). */
  private outputRow(b: number, t: number, B: number): number {
    if (!this.shape.returnSequences) return b;
    return this.shape.batchFirst ? b * this.ds.steps + t : t * B + b;
  }

  /** For each label row, the model output row it reads (per-step: all steps; last: the readout step). */
  private forEachLabelRow(indices: ArrayLike<number>, visit: (labelRow: number, outputRow: number) => void): void {
    const B = indices.length;
    const L = this.ds.steps;
    if (this.ds.targetMode === "last") {
      for (let b = 0; b < B; b++) visit(b, this.outputRow(b, readoutStep(this.ds, indices[b]), B));
    } else {
      for (let b = 0; b < B; b++) for (let t = 0; t < L; t++) visit(b * L + t, this.outputRow(b, t, B));
    }
  }

  /**
   * Loss of these samples' outputs with the mean taken over `totalWeight` (the whole batch's label
   * weight), and d loss / d output in the model's output layout.
   */
  lossAndGrad(indices: ArrayLike<number>, output: Tensor, loss: LossSpec, totalWeight: number): { sum: number; weight: number; dOutput: Tensor } {
    const c = this.shape.outputSize;
    const buf = this.buffersFor(indices.length);
    const out = output.data;
    const pred = buf.pred;
    this.forEachLabelRow(indices, (r, o) => {
      for (let j = 0; j < c; j++) pred[r * c + j] = out[o * c + j];
    });
    const rows = labelRows(this.ds, indices, buf.labels ?? undefined);
    buf.labels = rows;
    const { sum, weight, grad } = lossOnRows(loss, pred, rows, c, buf.grad);
    // The loss functions divide by this shard's weight; rescale so the shards' gradients sum to the
    // gradient of the batch mean. With one shard the factor is exactly 1 and nothing changes.
    const scale = totalWeight > 0 ? weight / totalWeight : 0;
    const dOut = buf.dOut;
    dOut.fill(0);
    this.forEachLabelRow(indices, (r, o) => {
      for (let j = 0; j < c; j++) dOut[o * c + j] = scale === 1 ? grad[r * c + j] : grad[r * c + j] * scale;
    });
    return { sum, weight, dOutput: { shape: output.shape, data: dOut } };
  }

  /**
   * Copies these samples' outputs into `dest` at their dataset positions: mode "per_step" writes
   * N x L x C (every step, padding included), "last" writes N x C read at each sample's last real step.
   */
  writePredictions(indices: ArrayLike<number>, output: Tensor, dest: FloatArray, mode: TargetMode): void {
    const c = this.shape.outputSize;
    const B = indices.length;
    const L = this.ds.steps;
    const out = output.data;
    for (let b = 0; b < B; b++) {
      const i = indices[b];
      if (mode === "last") {
        const o = this.outputRow(b, readoutStep(this.ds, i), B);
        for (let j = 0; j < c; j++) dest[i * c + j] = out[o * c + j];
      } else {
        for (let t = 0; t < L; t++) {
          const o = this.outputRow(b, t, B);
          for (let j = 0; j < c; j++) dest[(i * L + t) * c + j] = out[o * c + j];
        }
      }
    }
  }
}

/**
 * Forward (dropout on) and backward of one shard, accumulating into the model's parameter gradients.
 * Returns the shard's loss sum and label weight (the batch loss is the sums' total over the weights').
 */
export function trainShard(model: RecurrentModel, asm: BatchAssembler, indices: ArrayLike<number>, loss: LossSpec, totalWeight: number): { sum: number; weight: number } {
  if (indices.length === 0) return { sum: 0, weight: 0 };
  const { x, timespans } = asm.input(indices);
  const { output } = model.forward(x, { timespans, training: true, grad: true });
  const { sum, weight, dOutput } = asm.lossAndGrad(indices, output, loss, totalWeight);
  // A shard without labels has a zero gradient: skipping backward leaves the same (zero) contribution.
  if (weight > 0) model.backward(dOutput);
  return { sum, weight };
}

/** Inference (dropout off) on these samples, writing their outputs into `dest` (see writePredictions). */
export function predictShard(model: RecurrentModel, asm: BatchAssembler, indices: ArrayLike<number>, dest: FloatArray, mode: TargetMode): void {
  if (indices.length === 0) return;
  const { x, timespans } = asm.input(indices);
  const { output } = model.predict(x, { timespans });
  asm.writePredictions(indices, output, dest, mode);
}

/** [start, end) ranges splitting n items into `parts` contiguous parts whose sizes differ by at most one. */
export function splitEvenly(n: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const base = Math.floor(n / parts);
  const extra = n % parts;
  let start = 0;
  for (let p = 0; p < parts; p++) {
    const size = base + (p < extra ? 1 : 0);
    out.push([start, start + size]);
    start += size;
  }
  return out;
}
