/**
 * Scaling statistics for prepared data: per-feature and per-target mean/std and the unit of elapsed
 * time. They are computed from the training split only (so validation and prediction data are
 * scaled exactly like the data the model learned from) and stored with the model, which is why the
 * object is plain JSON (number arrays, no typed arrays).
 */
import type { SequenceDataset } from "./dataset.js";

export interface Normalization {
  /** Per input column, mask features excluded: x' = (x - featureMean) / featureStd. */
  readonly featureMean: number[];
  readonly featureStd: number[];
  /** Regression only: y' = (y - targetMean) / targetStd; the model predicts y'. */
  readonly targetMean?: number[];
  readonly targetStd?: number[];
  /** Elapsed times are divided by this (by default the training median gap, so a typical step is 1). */
  readonly timeScale?: number;
  /**
   * The raw elapsed time given to the first step of a series, whose gap to a previous observation is
   * unknown (by default the training median gap).
   */
  readonly firstElapsed?: number;
}

/**
 * Mean and population standard deviation of the finite values; a zero or undefined spread gives 1.
 * Values near the float64 limit would overflow the sum or the squares: those are computed again on
 * the values divided by the largest magnitude, so any finite input gives finite statistics.
 */
export function meanStd(values: Iterable<number>): { mean: number; std: number } {
  let count = 0;
  let sum = 0;
  let largest = 0;
  for (const v of values) {
    if (Number.isFinite(v)) {
      count++;
      sum += v;
      largest = Math.max(largest, Math.abs(v));
    }
  }
  if (count === 0) return { mean: 0, std: 1 };
  let mean = sum / count;
  let squares = 0;
  for (const v of values) if (Number.isFinite(v)) squares += (v - mean) * (v - mean);
  let std = Math.sqrt(squares / count);
  if (!Number.isFinite(mean) || !Number.isFinite(std)) ({ mean, std } = scaledMeanStd(values, largest, count));
  // A constant column carries no information to scale; dividing by 1 keeps it finite.
  return { mean, std: std > 1e-12 * Math.max(1, Math.abs(mean)) ? std : 1 };
}

/** meanStd on values / largest (each within [-1, 1]), scaled back: finite whenever largest is. */
function scaledMeanStd(values: Iterable<number>, largest: number, count: number): { mean: number; std: number } {
  let sum = 0;
  for (const v of values) if (Number.isFinite(v)) sum += v / largest;
  const mean = sum / count;
  let squares = 0;
  for (const v of values) if (Number.isFinite(v)) squares += (v / largest - mean) * (v / largest - mean);
  // the population std of values within [-1, 1] is at most 1, so neither product overflows
  return { mean: mean * largest, std: Math.sqrt(squares / count) * largest };
}

/** Median of the values (mean of the two middle ones for an even count); undefined when empty. */
export function median(values: readonly number[] | Float64Array): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** An identity transform for `features` inputs (and `targets` regression targets). */
export function identityNormalization(features: number, targets?: number): Normalization {
  return {
    featureMean: new Array<number>(features).fill(0),
    featureStd: new Array<number>(features).fill(1),
    ...(targets === undefined ? {} : { targetMean: new Array<number>(targets).fill(0), targetStd: new Array<number>(targets).fill(1) }),
    timeScale: 1,
    firstElapsed: 1,
  };
}

function checkNumbers(value: unknown, field: string, name: string, positive: boolean, length?: number): number[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "number" && Number.isFinite(v) && (!positive || v > 0))) {
    throw new Error(`${name}: ${field} must be an array of ${positive ? "positive " : ""}finite numbers, got ${JSON.stringify(value)}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new Error(`${name}: ${field} has ${value.length} entries, expected ${length} (one per ${field.startsWith("target") ? "target" : "feature"})`);
  }
  return value as number[];
}

/** Validates a normalization read from JSON (e.g. a saved model); returns it typed. */
export function checkNormalization(value: unknown, name = "normalization"): Normalization {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`${name}: expected an object {featureMean, featureStd, ...}, got ${JSON.stringify(value)}`);
  }
  const v = value as Record<string, unknown>;
  const featureMean = checkNumbers(v.featureMean, "featureMean", name, false);
  const featureStd = checkNumbers(v.featureStd, "featureStd", name, true, featureMean.length);
  const out: { -readonly [K in keyof Normalization]: Normalization[K] } = { featureMean, featureStd };
  if (v.targetMean !== undefined || v.targetStd !== undefined) {
    out.targetMean = checkNumbers(v.targetMean, "targetMean", name, false);
    out.targetStd = checkNumbers(v.targetStd, "targetStd", name, true, out.targetMean.length);
  }
  for (const key of ["timeScale", "firstElapsed"] as const) {
    const x = v[key];
    if (x === undefined) continue;
    if (typeof x !== "number" || !(x > 0) || !Number.isFinite(x)) throw new Error(`${name}: ${key} must be a positive number, got ${JSON.stringify(x)}`);
    out[key] = x;
  }
  return out;
}

/**
 * Scales a dataset built from raw values: the first `featureMean.length` features are standardised
 * (any further features must be observation masks, one per input column, and pass through), elapsed
 * times are divided by `timeScale`, and regression targets are standardised. NaN inputs (a feature not
 * yet observed in its series) and NaN targets (no label) become 0 after scaling, i.e. the training
 * mean. The CSV and .npy loaders apply their statistics themselves; this is for datasets assembled
 * elsewhere.
 */
export function applyNormalization(ds: SequenceDataset, norm: Normalization, name = "dataset"): SequenceDataset {
  const fc = norm.featureMean.length;
  if (ds.features !== fc && ds.features !== 2 * fc) {
    throw new Error(`${name}: has ${ds.features} features, the normalization describes ${fc} (expected ${fc}, or ${2 * fc} with observation masks)`);
  }
  const x = new Float32Array(ds.x.length);
  const F = ds.features;
  for (let i = 0; i < x.length; i++) {
    const k = i % F;
    const v = ds.x[i];
    x[i] = k < fc ? (Number.isNaN(v) ? 0 : (v - norm.featureMean[k]) / norm.featureStd[k]) : v;
  }
  const scale = norm.timeScale ?? 1;
  const timespans = ds.timespans ? ds.timespans.map((t) => t / scale) : null;
  let y = ds.y;
  if (ds.task === "regress" && norm.targetMean && norm.targetStd) {
    if (norm.targetMean.length !== ds.targets) {
      throw new Error(`${name}: has ${ds.targets} targets, the normalization describes ${norm.targetMean.length}`);
    }
    const T = ds.targets;
    const mean = norm.targetMean;
    const std = norm.targetStd;
    y = ds.y.map((v, i) => (Number.isNaN(v) ? 0 : (v - mean[i % T]) / std[i % T]));
  }
  return { ...ds, x, timespans, y };
}

/** Maps scaled regression outputs (last axis = targets) back to the units of the target columns. */
export function denormalizeTargets(values: ArrayLike<number>, norm: Normalization, targets: number): Float64Array {
  if (values.length % targets !== 0) throw new Error(`denormalizeTargets: ${values.length} values do not split into rows of ${targets} targets`);
  const out = Float64Array.from(values as ArrayLike<number>);
  const mean = norm.targetMean;
  const std = norm.targetStd;
  if (!mean || !std) return out;
  if (mean.length !== targets) throw new Error(`denormalizeTargets: the normalization describes ${mean.length} targets, got ${targets}`);
  for (let i = 0; i < out.length; i++) out[i] = out[i] * std[i % targets] + mean[i % targets];
  return out;
}
