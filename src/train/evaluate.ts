/**
 * Inference over a whole dataset (dropout off): predictions in dataset order, and the loss and metrics
 * they score. The loss is the same mean as in training, taken over every labelled step (or sample) of
 * the dataset at once, so it does not depend on the batch size.
 */
import { type SequenceDataset, type TargetMode, validateDataset } from "../data/dataset.js";
import type { RecurrentModel } from "../models/recurrent.js";
import { arrayFor, type FloatArray } from "../tensor.js";
import { type ClassScores, classScores, computeMetric, confusionMatrix, type ErrorScores, errorsInUnits, parseMetricName, type MetricName } from "./metrics.js";
import { type LossSpec, resolveLoss } from "./losses.js";
import { BatchAssembler, checkModelFits, labelRows, lossOnRows, modelShape, predictShard } from "./shard.js";

export interface PredictOptions {
  /** samples per forward pass (default 256) */
  batchSize?: number;
  /** "per_step": N x L x C outputs (padding steps included, as computed); "last": N x C at each sequence's last real step. Default: the dataset's targetMode. */
  mode?: TargetMode;
}

export interface EvaluateOptions {
  batchSize?: number;
  /** default: regress mse, mae; classify accuracy (and roc_auc for two classes) */
  metrics?: readonly (MetricName | string)[];
  /** default by task (see resolveLoss) */
  loss?: string;
  classWeights?: ArrayLike<number> | null;
}

export interface EvaluateResult {
  /** mean loss over the dataset's labels (0 when nothing is labelled) */
  loss: number;
  metrics: Record<string, number>;
  /** the loss's denominator: labelled values (mse, bce) or total class weight (cross-entropy) */
  weight: number;
}

export function checkBatchSize(value: unknown, name: string): number {
  if (!Number.isInteger(value) || (value as number) < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return value as number;
}

/** The metrics a task reports when none are asked for. */
export function defaultMetrics(ds: SequenceDataset): MetricName[] {
  if (ds.task === "regress") return ["mse", "mae"];
  return ds.numClasses === 2 ? ["accuracy", "roc_auc"] : ["accuracy"];
}

export function resolveMetrics(ds: SequenceDataset, metrics: readonly string[] | undefined): MetricName[] {
  if (metrics === undefined) return defaultMetrics(ds);
  if (!Array.isArray(metrics)) throw new Error(`metrics must be an array of metric names, got ${JSON.stringify(metrics)}`);
  return metrics.map((m) => parseMetricName(m));
}

/** Size of the prediction array for a dataset, mode and output width. */
export function predictionLength(ds: SequenceDataset, mode: TargetMode, outputSize: number): number {
  return (mode === "last" ? ds.size : ds.size * ds.steps) * outputSize;
}

/** Runs the model over every sample (in order, in batches) and returns the outputs in the model's dtype. */
export function predictDataset(model: RecurrentModel, ds: SequenceDataset, options: PredictOptions = {}): FloatArray {
  validateDataset(ds);
  const mode = options.mode ?? ds.targetMode;
  if (mode !== "per_step" && mode !== "last") throw new Error(`predictDataset: mode must be "per_step" or "last", got ${JSON.stringify(mode)}`);
  const batchSize = checkBatchSize(options.batchSize ?? 256, "predictDataset: batchSize");
  const shape = modelShape(model);
  checkModelFits(shape, ds, mode);
  const asm = new BatchAssembler(shape, ds);
  const dest = arrayFor(model.dtype, predictionLength(ds, mode, model.outputSize));
  for (let start = 0; start < ds.size; start += batchSize) {
    const count = Math.min(batchSize, ds.size - start);
    const indices = new Int32Array(count);
    for (let b = 0; b < count; b++) indices[b] = start + b;
    predictShard(model, asm, indices, dest, mode);
  }
  return dest;
}

/** Loss and metrics of predictions laid out as predictDataset returns them for the dataset's targetMode. */
export function scorePredictions(ds: SequenceDataset, predictions: FloatArray, outputSize: number, loss: LossSpec, metrics: readonly MetricName[]): EvaluateResult {
  const all = new Int32Array(ds.size);
  for (let i = 0; i < ds.size; i++) all[i] = i;
  const rows = labelRows(ds, all);
  const expected = rows.n * outputSize;
  if (predictions.length !== expected) throw new Error(`scorePredictions: expected ${expected} predicted values (${rows.n} rows x ${outputSize}), got ${predictions.length}`);
  const pred = predictions instanceof Float64Array ? predictions : Float64Array.from(predictions);
  const { sum, weight } = lossOnRows(loss, pred, rows, outputSize);
  const result: Record<string, number> = {};
  for (const m of metrics) result[m] = computeMetric(m, pred, rows.targets, rows.n, outputSize, rows.mask ?? undefined);
  return { loss: weight > 0 ? sum / weight : 0, metrics: result, weight };
}

/** Loss and metrics of the model on a dataset (inference mode: dropout off). */
export function evaluate(model: RecurrentModel, ds: SequenceDataset, options: EvaluateOptions = {}): EvaluateResult {
  validateDataset(ds);
  const loss = resolveLoss(ds, model.outputSize, options.loss, options.classWeights);
  const metrics = resolveMetrics(ds, options.metrics as string[] | undefined);
  const predictions = predictDataset(model, ds, { batchSize: options.batchSize, mode: ds.targetMode });
  return scorePredictions(ds, predictions, model.outputSize, loss, metrics);
}

/** What {@link evaluationReport} adds to {@link EvaluateResult}. */
export interface EvaluationReport extends EvaluateResult {
  /** labels scored: labelled steps (per_step) or sequences (last) */
  labels: number;
  /** regression: errors in the targets' own units, over all targets and per target */
  units?: { all: ErrorScores; perTarget: ErrorScores[] };
  /** classification: confusion matrix (rows: true class, columns: predicted) and per-class scores */
  classes?: { confusion: number[][]; perClass: ClassScores[] };
}

/**
 * The loss and metrics of {@link evaluate}, plus what a person reads: regression errors in the targets'
 * units (`targetStd`: the standard deviations the targets were divided by; default 1, i.e. the units of
 * the dataset), or a confusion matrix with per-class precision, recall and F1.
 */
export function evaluationReport(model: RecurrentModel, ds: SequenceDataset, options: EvaluateOptions & { targetStd?: readonly number[] } = {}): EvaluationReport {
  validateDataset(ds);
  const loss = resolveLoss(ds, model.outputSize, options.loss, options.classWeights);
  const metrics = resolveMetrics(ds, options.metrics as string[] | undefined);
  const predictions = predictDataset(model, ds, { batchSize: options.batchSize, mode: ds.targetMode });
  const base = scorePredictions(ds, predictions, model.outputSize, loss, metrics);
  const all = new Int32Array(ds.size);
  for (let i = 0; i < ds.size; i++) all[i] = i;
  const rows = labelRows(ds, all);
  const mask = rows.mask ?? undefined;
  let labels = rows.n;
  if (mask) labels = mask.reduce((a, b) => a + b, 0);
  const pred = predictions instanceof Float64Array ? predictions : Float64Array.from(predictions);
  const c = model.outputSize;
  if (ds.task === "regress") {
    const std = options.targetStd ?? new Array<number>(c).fill(1);
    return { ...base, labels, units: errorsInUnits(pred, rows.targets, rows.n, c, std, mask) };
  }
  const confusion = confusionMatrix(pred, rows.targets, rows.n, c, mask);
  return { ...base, labels, classes: { confusion, perClass: classScores(confusion) } };
}
