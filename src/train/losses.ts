import type { SequenceDataset } from "../data/dataset.js";
import type { FloatArray } from "../tensor.js";
import { checkDims, checkLength, rowCounts, type RowMask } from "./rows.js";

export type { RowMask } from "./rows.js";

/**
 * Losses with their gradients written out by hand (no autodiff). Predictions are `n` rows by `c`
 * columns, row-major; a row is a sample or one time step of a sample. An optional row mask selects
 * the rows that count (1) and those that do not (0): uncounted rows get a zero gradient and their
 * predictions and targets are never read into the arithmetic, so padding (NaN targets, label -1)
 * cannot poison the result. Values are accumulated in float64 whatever the input dtype.
 *
 * The mean is over what counts; when nothing counts (every row masked out, or a zero total class
 * weight) the loss is 0 with a zero gradient rather than torch's NaN, so an all-padding batch is a
 * harmless no-op during training.
 */

export interface LossResult<G extends FloatArray = Float64Array> {
  loss: number;
  /** d loss / d prediction, same layout as the predictions. */
  grad: G;
  /** The mean's denominator: counted elements (MSE, BCE) or total weight of counted rows (CE). */
  weight: number;
}

export interface CrossEntropyOptions<G extends FloatArray = Float64Array> {
  mask?: RowMask;
  /** One non-negative weight per class (torch `weight=`). */
  classWeights?: ArrayLike<number>;
  gradOut?: G;
}

export interface BceWithLogitsOptions<G extends FloatArray = Float64Array> {
  mask?: RowMask;
  /** Weight of the positive term, one per column or one for all (torch `pos_weight=`). */
  posWeight?: number | ArrayLike<number>;
  gradOut?: G;
}

function gradArray<G extends FloatArray>(where: string, gradOut: G | undefined, length: number): G {
  if (gradOut === undefined) return new Float64Array(length) as G;
  if (!(gradOut instanceof Float32Array || gradOut instanceof Float64Array)) throw new Error(`${where}: gradOut must be a Float32Array or Float64Array`);
  if (gradOut.length !== length) throw new Error(`${where}: gradOut has length ${gradOut.length}, expected ${length}`);
  return gradOut;
}

/** Rows that take part in the loss (mask 1). */
function countRows(counts: (r: number) => boolean | number, n: number): number {
  let rows = 0;
  for (let r = 0; r < n; r++) if (counts(r)) rows++;
  return rows;
}

/** Mean squared error over the counted elements (counted rows x c). */
export function mseLoss<G extends FloatArray = Float64Array>(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  n: number,
  c: number,
  mask?: RowMask,
  gradOut?: G,
): LossResult<G> {
  const where = "mseLoss";
  checkDims(where, n, c);
  checkLength(where, "predictions", pred, n * c, `${n} rows x ${c} columns`);
  checkLength(where, "targets", target, n * c, `${n} rows x ${c} columns`);
  const counts = rowCounts(where, mask, n);
  const grad = gradArray(where, gradOut, n * c);
  const weight = countRows(counts, n) * c;
  grad.fill(0);
  if (weight === 0) return { loss: 0, grad, weight };
  let sum = 0;
  for (let r = 0; r < n; r++) {
    if (!counts(r)) continue;
    for (let j = r * c; j < (r + 1) * c; j++) {
      const d = pred[j] - target[j];
      sum += d * d;
      grad[j] = (2 * d) / weight;
    }
  }
  return { loss: sum / weight, grad, weight };
}

/**
 * Softmax cross-entropy against class indices, with torch semantics: each counted row contributes
 * w[t] * (logsumexp(x) - x[t]) and the sum is divided by the total weight w[t] of the counted rows
 * (the row count without class weights). The log-softmax subtracts the row maximum first.
 */
export function crossEntropyLoss<G extends FloatArray = Float64Array>(
  logits: ArrayLike<number>,
  targets: Int32Array | Float64Array | ArrayLike<number>,
  n: number,
  c: number,
  options: CrossEntropyOptions<G> = {},
): LossResult<G> {
  const where = "crossEntropyLoss";
  checkDims(where, n, c);
  checkLength(where, "logits", logits, n * c, `${n} rows x ${c} classes`);
  checkLength(where, "targets", targets, n, "one class index per row");
  const counts = rowCounts(where, options.mask, n);
  const cw = options.classWeights;
  if (cw !== undefined) {
    checkLength(where, "classWeights", cw, c, "one weight per class");
    for (let k = 0; k < c; k++) {
      if (!Number.isFinite(cw[k]) || cw[k] < 0) throw new Error(`${where}: classWeights[${k}] must be a non-negative finite number, got ${cw[k]}`);
    }
  }
  const grad = gradArray(where, options.gradOut, n * c);
  let weight = 0;
  for (let r = 0; r < n; r++) {
    if (!counts(r)) continue;
    const t = targets[r];
    if (!Number.isInteger(t) || t < 0 || t >= c) {
      throw new Error(`${where}: target of row ${r} must be a class index in [0, ${c - 1}], got ${t}`);
    }
    weight += cw ? cw[t] : 1;
  }
  grad.fill(0);
  if (weight === 0) return { loss: 0, grad, weight };
  let sum = 0;
  for (let r = 0; r < n; r++) {
    if (!counts(r)) continue;
    const base = r * c;
    const t = targets[r];
    const w = cw ? cw[t] : 1;
    let max = -Infinity;
    for (let k = 0; k < c; k++) if (logits[base + k] > max) max = logits[base + k];
    let expSum = 0;
    for (let k = 0; k < c; k++) expSum += Math.exp(logits[base + k] - max);
    const logSumExp = max + Math.log(expSum);
    sum += w * (logSumExp - logits[base + t]);
    const scale = w / weight;
    for (let k = 0; k < c; k++) grad[base + k] = scale * Math.exp(logits[base + k] - logSumExp);
    grad[base + t] -= scale;
  }
  return { loss: sum / weight, grad, weight };
}

/**
 * Binary cross-entropy on logits, mean over counted elements, torch's overflow-free form:
 * (1 - y) x + (1 + (pw - 1) y) (log(1 + e^-|x|) + max(-x, 0)). Targets may be soft labels in [0, 1].
 */
export function bceWithLogitsLoss<G extends FloatArray = Float64Array>(
  logits: ArrayLike<number>,
  target: ArrayLike<number>,
  n: number,
  c: number,
  options: BceWithLogitsOptions<G> = {},
): LossResult<G> {
  const where = "bceWithLogitsLoss";
  checkDims(where, n, c);
  checkLength(where, "logits", logits, n * c, `${n} rows x ${c} columns`);
  checkLength(where, "targets", target, n * c, `${n} rows x ${c} columns`);
  const counts = rowCounts(where, options.mask, n);
  const pw = options.posWeight;
  let posWeightOf: (column: number) => number = () => 1;
  if (typeof pw === "number") {
    if (!Number.isFinite(pw) || pw < 0) throw new Error(`${where}: posWeight must be a non-negative finite number, got ${pw}`);
    posWeightOf = () => pw;
  } else if (pw !== undefined) {
    checkLength(where, "posWeight", pw, c, "one weight per column");
    for (let k = 0; k < c; k++) {
      if (!Number.isFinite(pw[k]) || pw[k] < 0) throw new Error(`${where}: posWeight[${k}] must be a non-negative finite number, got ${pw[k]}`);
    }
    posWeightOf = (column) => pw[column];
  }
  const grad = gradArray(where, options.gradOut, n * c);
  const weight = countRows(counts, n) * c;
  grad.fill(0);
  if (weight === 0) return { loss: 0, grad, weight };
  let sum = 0;
  for (let r = 0; r < n; r++) {
    if (!counts(r)) continue;
    for (let k = 0; k < c; k++) {
      const j = r * c + k;
      const x = logits[j];
      const y = target[j];
      const logWeight = 1 + (posWeightOf(k) - 1) * y;
      // softplus(-x) = log(1 + e^-x), written so that e^(...) never overflows.
      const softplusNeg = Math.log1p(Math.exp(-Math.abs(x))) + Math.max(-x, 0);
      sum += (1 - y) * x + logWeight * softplusNeg;
      // d softplus(-x)/dx = -sigmoid(-x); sigmoid evaluated on the side where exp cannot overflow.
      const sigmoidNeg = x >= 0 ? Math.exp(-x) / (1 + Math.exp(-x)) : 1 / (1 + Math.exp(x));
      grad[j] = ((1 - y) - logWeight * sigmoidNeg) / weight;
    }
  }
  return { loss: sum / weight, grad, weight };
}

// ---------------------------------------------------------------------------------------------
// Choosing the loss for a dataset (what fit and evaluate use)

/** Softmax of each row of `width` logits, in place: the class probabilities that predictions report. */
export function softmaxRows(v: Float64Array, width: number): void {
  for (let r = 0; r < v.length / width; r++) {
    let m = -Infinity;
    for (let k = 0; k < width; k++) m = Math.max(m, v[r * width + k]);
    let s = 0;
    for (let k = 0; k < width; k++) s += v[r * width + k] = Math.exp(v[r * width + k] - m);
    for (let k = 0; k < width; k++) v[r * width + k] /= s;
  }
}

export type LossName = "mse" | "cross_entropy" | "bce";
export const LOSS_NAMES: readonly LossName[] = ["mse", "cross_entropy", "bce"];

export interface LossSpec {
  readonly kind: LossName;
  /** cross-entropy only: one weight per class */
  readonly classWeights: readonly number[] | null;
}

/**
 * The loss for a dataset: the given name (aliases "ce", "cross-entropy", "crossentropy") or the task's
 * default (regress: mse, classify: cross_entropy), checked against the model's output width.
 */
export function resolveLoss(ds: SequenceDataset, outputSize: number, loss?: string | null, classWeights?: ArrayLike<number> | null): LossSpec {
  let kind: LossName;
  const given = loss?.toLowerCase();
  if (given === undefined) kind = ds.task === "regress" ? "mse" : "cross_entropy";
  else if (given === "ce" || given === "cross-entropy" || given === "crossentropy" || given === "cross_entropy") kind = "cross_entropy";
  else if (given === "mse" || given === "bce") kind = given;
  else throw new Error(`loss: unknown loss "${loss}", expected one of: ${LOSS_NAMES.join(", ")}`);

  if (kind === "mse") {
    if (ds.task !== "regress") throw new Error(`loss mse: needs a regression dataset, this one is "${ds.task}" (use cross_entropy or bce)`);
    if (outputSize !== ds.targets) throw new Error(`loss mse: the model outputs ${outputSize} values per step but the dataset has ${ds.targets} target columns`);
  } else if (kind === "cross_entropy") {
    if (ds.task !== "classify") throw new Error(`loss cross_entropy: needs a classification dataset, this one is "${ds.task}" (use mse)`);
    if (outputSize !== ds.numClasses) throw new Error(`loss cross_entropy: the model outputs ${outputSize} logits but the dataset has ${ds.numClasses} classes`);
  } else if (ds.task === "classify") {
    if (ds.numClasses !== 2 || outputSize !== 1) {
      throw new Error(`loss bce: for classification it needs 2 classes and one output logit, got ${ds.numClasses} classes and ${outputSize} outputs`);
    }
  } else if (outputSize !== ds.targets) {
    throw new Error(`loss bce: the model outputs ${outputSize} logits per step but the dataset has ${ds.targets} target columns`);
  }

  let weights: number[] | null = null;
  if (classWeights !== undefined && classWeights !== null) {
    if (kind !== "cross_entropy") throw new Error(`classWeights: only used by the cross_entropy loss, not ${kind}`);
    if (classWeights.length !== ds.numClasses) throw new Error(`classWeights: expected ${ds.numClasses} weights (one per class), got ${classWeights.length}`);
    weights = Array.from(classWeights);
    weights.forEach((w, k) => {
      if (!(Number.isFinite(w) && w >= 0)) throw new Error(`classWeights[${k}] must be a non-negative finite number, got ${w}`);
    });
  }
  return { kind, classWeights: weights };
}
