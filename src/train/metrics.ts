import { checkDims, checkLength, rowCounts, type RowMask } from "./rows.js";

/**
 * Evaluation metrics over predictions laid out as `n` rows by `c` columns (row-major), with the same
 * optional 0/1 row mask as the losses. A metric over zero counted rows is NaN: there is nothing to
 * measure, and NaN cannot be mistaken for a real score.
 */

/**
 * Fraction of counted rows classified correctly. With c > 1 the prediction is the argmax of the row
 * (first maximum on ties) and targets are class indices; with c == 1 the column is a logit, the
 * prediction is 1 when it is > 0, and targets are 0 or 1.
 */
export function accuracy(logitsOrProbs: ArrayLike<number>, targets: ArrayLike<number>, n: number, c: number, mask?: RowMask): number {
  const where = "accuracy";
  checkDims(where, n, c);
  checkLength(where, "predictions", logitsOrProbs, n * c, `${n} rows x ${c} columns`);
  checkLength(where, "targets", targets, n, "one per row");
  const counts = rowCounts(where, mask, n);
  let counted = 0;
  let correct = 0;
  for (let r = 0; r < n; r++) {
    if (!counts(r)) continue;
    const t = targets[r];
    let predicted: number;
    if (c === 1) {
      if (t !== 0 && t !== 1) throw new Error(`${where}: target of row ${r} must be 0 or 1 for a single logit column, got ${t}`);
      predicted = logitsOrProbs[r] > 0 ? 1 : 0;
    } else {
      if (!Number.isInteger(t) || t < 0 || t >= c) throw new Error(`${where}: target of row ${r} must be a class index in [0, ${c - 1}], got ${t}`);
      predicted = 0;
      for (let k = 1; k < c; k++) if (logitsOrProbs[r * c + k] > logitsOrProbs[r * c + predicted]) predicted = k;
    }
    counted++;
    if (predicted === t) correct++;
  }
  return counted === 0 ? NaN : correct / counted;
}

/**
 * Exact area under the ROC curve through the Mann-Whitney U statistic: the probability that a random
 * positive scores above a random negative, ties counting one half (average ranks). NaN when the counted
 * entries hold only one class. Labels must be 0 or 1; scores of counted entries must not be NaN.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>, mask?: RowMask): number {
  const where = "rocAuc";
  checkLength(where, "labels", labels, scores.length, "one per score");
  const counts = rowCounts(where, mask, scores.length);
  const order: number[] = [];
  let positives = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!counts(i)) continue;
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new Error(`${where}: labels[${i}] must be 0 or 1, got ${y}`);
    if (Number.isNaN(scores[i])) throw new Error(`${where}: scores[${i}] is NaN`);
    if (y === 1) positives++;
    order.push(i);
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  order.sort((a, b) => scores[a] - scores[b] || 0);
  // Ranks are 1-based; a run of equal scores shares the mean of the ranks it spans.
  let positiveRankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && scores[order[end]] === scores[order[start]]) end++;
    const averageRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) if (labels[order[k]] === 1) positiveRankSum += averageRank;
    start = end;
  }
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

function meanOfErrors(where: string, pred: ArrayLike<number>, target: ArrayLike<number>, n: number, c: number, mask: RowMask | undefined, f: (d: number) => number): number {
  checkDims(where, n, c);
  checkLength(where, "predictions", pred, n * c, `${n} rows x ${c} columns`);
  checkLength(where, "targets", target, n * c, `${n} rows x ${c} columns`);
  const counts = rowCounts(where, mask, n);
  let sum = 0;
  let counted = 0;
  for (let r = 0; r < n; r++) {
    if (!counts(r)) continue;
    for (let j = r * c; j < (r + 1) * c; j++) sum += f(pred[j] - target[j]);
    counted += c;
  }
  return counted === 0 ? NaN : sum / counted;
}

/** Mean of squared differences over the counted rows' elements. */
export function meanSquaredError(pred: ArrayLike<number>, target: ArrayLike<number>, n: number, c: number, mask?: RowMask): number {
  return meanOfErrors("meanSquaredError", pred, target, n, c, mask, (d) => d * d);
}

/** Mean of absolute differences over the counted rows' elements. */
export function meanAbsoluteError(pred: ArrayLike<number>, target: ArrayLike<number>, n: number, c: number, mask?: RowMask): number {
  return meanOfErrors("meanAbsoluteError", pred, target, n, c, mask, Math.abs);
}

export type MetricName = "accuracy" | "roc_auc" | "mse" | "mae";

export interface MetricInfo {
  /** Whether a larger value is a better model (for early stopping and "best" checkpoints). */
  readonly higherIsBetter: boolean;
  readonly description: string;
}

export const METRICS: Readonly<Record<MetricName, MetricInfo>> = {
  accuracy: { higherIsBetter: true, description: "fraction of rows whose argmax (or logit > 0 for one column) matches the target class" },
  roc_auc: { higherIsBetter: true, description: "area under the ROC curve of the positive-class score (binary tasks)" },
  mse: { higherIsBetter: false, description: "mean squared error" },
  mae: { higherIsBetter: false, description: "mean absolute error" },
};

export function isMetricName(name: string): name is MetricName {
  return Object.prototype.hasOwnProperty.call(METRICS, name);
}

export function parseMetricName(name: string): MetricName {
  if (!isMetricName(name)) throw new Error(`unknown metric "${name}", expected one of: ${Object.keys(METRICS).join(", ")}`);
  return name;
}

/**
 * Computes a metric from model outputs laid out as n x c. For "accuracy" the targets are class indices
 * (0/1 when c == 1); for "roc_auc" the task must be binary: c == 1 (a logit or score per row, targets
 * 0/1) or c == 2 (two logits, score = logit1 - logit0, which orders rows as the class-1 softmax
 * probability does; targets are class indices 0/1); for "mse"/"mae" targets match the outputs' layout.
 */
export function computeMetric(name: MetricName, outputs: ArrayLike<number>, targets: ArrayLike<number>, n: number, c: number, mask?: RowMask): number {
  switch (name) {
    case "accuracy":
      return accuracy(outputs, targets, n, c, mask);
    case "roc_auc": {
      checkDims("roc_auc", n, c);
      checkLength("roc_auc", "outputs", outputs, n * c, `${n} rows x ${c} columns`);
      if (c === 1) return rocAuc(outputs, targets, mask);
      if (c === 2) {
        const scores = new Float64Array(n);
        for (let r = 0; r < n; r++) scores[r] = outputs[2 * r + 1] - outputs[2 * r];
        return rocAuc(scores, targets, mask);
      }
      throw new Error(`roc_auc: needs a binary task with 1 or 2 output columns, got ${c}`);
    }
    case "mse":
      return meanSquaredError(outputs, targets, n, c, mask);
    case "mae":
      return meanAbsoluteError(outputs, targets, n, c, mask);
    default:
      throw new Error(`unknown metric "${String(name)}", expected one of: ${Object.keys(METRICS).join(", ")}`);
  }
}

/**
 * Confusion matrix of counted rows: entry [t][p] counts rows of true class t predicted as class p. With
 * c > 1 the prediction is the row's argmax (first maximum on ties) and there are c classes; with c == 1
 * the column is a logit (class 1 when > 0) and there are 2 classes. Targets are class indices.
 */
export function confusionMatrix(outputs: ArrayLike<number>, targets: ArrayLike<number>, n: number, c: number, mask?: RowMask): number[][] {
  const where = "confusionMatrix";
  checkDims(where, n, c);
  checkLength(where, "outputs", outputs, n * c, `${n} rows x ${c} columns`);
  checkLength(where, "targets", targets, n, "one per row");
  const counts = rowCounts(where, mask, n);
  const classes = c === 1 ? 2 : c;
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let r = 0; r < n; r++) {
    if (!counts(r)) continue;
    const t = targets[r];
    if (!Number.isInteger(t) || t < 0 || t >= classes) throw new Error(`${where}: target of row ${r} must be a class index in [0, ${classes - 1}], got ${t}`);
    let predicted = 0;
    if (c === 1) predicted = outputs[r] > 0 ? 1 : 0;
    else for (let k = 1; k < c; k++) if (outputs[r * c + k] > outputs[r * c + predicted]) predicted = k;
    matrix[t][predicted]++;
  }
  return matrix;
}

/** Precision, recall and F1 of one class, and its support (rows whose true class it is). */
export interface ClassScores {
  /** of the rows predicted as this class, the fraction that are (NaN when none is predicted as it) */
  precision: number;
  /** of the rows of this class, the fraction predicted as it (NaN when it has no rows) */
  recall: number;
  /** harmonic mean of precision and recall (NaN when either is NaN, 0 when both are 0) */
  f1: number;
  support: number;
}

/** Per-class scores from a confusion matrix laid out as {@link confusionMatrix} returns it. */
export function classScores(matrix: readonly (readonly number[])[]): ClassScores[] {
  const k = matrix.length;
  return matrix.map((row, c) => {
    if (row.length !== k) throw new Error(`classScores: the confusion matrix must be square, row ${c} has ${row.length} entries for ${k} classes`);
    const truePositives = row[c];
    const support = row.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let t = 0; t < k; t++) predicted += matrix[t][c];
    const precision = predicted > 0 ? truePositives / predicted : NaN;
    const recall = support > 0 ? truePositives / support : NaN;
    const f1 = Number.isNaN(precision) || Number.isNaN(recall) ? NaN : precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, support };
  });
}

/** Errors of one target column, or of all together. */
export interface ErrorScores {
  mse: number;
  rmse: number;
  mae: number;
  /** values counted */
  count: number;
}

/**
 * Regression errors in the targets' own units: predictions and targets (n x c) were standardised as
 * (x - mean[k]) / std[k], so their differences are scaled back by std[k] (the mean cancels). Returns the
 * scores over all columns and per column.
 */
export function errorsInUnits(pred: ArrayLike<number>, target: ArrayLike<number>, n: number, c: number, std: ArrayLike<number>, mask?: RowMask): { all: ErrorScores; perTarget: ErrorScores[] } {
  const where = "errorsInUnits";
  checkDims(where, n, c);
  checkLength(where, "predictions", pred, n * c, `${n} rows x ${c} columns`);
  checkLength(where, "targets", target, n * c, `${n} rows x ${c} columns`);
  checkLength(where, "std", std, c, "one per column");
  const counts = rowCounts(where, mask, n);
  const squares = new Float64Array(c);
  const absolutes = new Float64Array(c);
  let counted = 0;
  for (let r = 0; r < n; r++) {
    if (!counts(r)) continue;
    counted++;
    for (let k = 0; k < c; k++) {
      const d = (pred[r * c + k] - target[r * c + k]) * std[k];
      squares[k] += d * d;
      absolutes[k] += Math.abs(d);
    }
  }
  const scores = (sq: number, ab: number, m: number): ErrorScores => (m === 0 ? { mse: NaN, rmse: NaN, mae: NaN, count: 0 } : { mse: sq / m, rmse: Math.sqrt(sq / m), mae: ab / m, count: m });
  const perTarget = Array.from({ length: c }, (_, k) => scores(squares[k], absolutes[k], counted));
  const all = scores(
    squares.reduce((a, b) => a + b, 0),
    absolutes.reduce((a, b) => a + b, 0),
    counted * c,
  );
  return { all, perTarget };
}
