/**
 * The shared middle of the data loaders. A loader (CSV, .npy) turns its input into `Series`: one
 * record per sequence in time order with raw values, NaN where a cell was not observed. From there the
 * steps are the same for every source: split into training and validation sequences, compute scaling
 * statistics from the training part, forward-fill and scale, cut into segments (whole series or
 * windows) and pack into a padded {@link SequenceDataset}.
 */
import { Rng } from "../nn/rng.js";
import type { SequenceDataset, TargetMode, Task } from "./dataset.js";
import { meanStd, median, type Normalization } from "./normalization.js";

export interface Series {
  /** For messages: the sequence id, or a description such as "sequence 3". */
  readonly name: string;
  readonly length: number;
  /** length x F raw feature values, NaN = not observed at this step. */
  readonly values: Float64Array;
  /** Raw elapsed time before each step, NaN = unknown (first step of a series); null = no time data. */
  readonly elapsed: Float64Array | null;
  /** regress: length x T values; classify: length class indices; NaN = no label. */
  readonly targets: Float64Array;
  /** The source row behind each step (-1 = none), for mapping predictions back. */
  readonly rows: Int32Array;
}

/** A run of consecutive steps of one series that becomes one sequence of the dataset. */
export interface Segment {
  readonly series: number;
  readonly start: number;
  readonly length: number;
}

export interface ShapeInfo {
  readonly task: Task;
  readonly targetMode: TargetMode;
  /** input columns (before masks) */
  readonly features: number;
  /** regress: target columns; classify: 1 */
  readonly targets: number;
  readonly numClasses: number;
  readonly missingMask: boolean;
  readonly featureNames: readonly string[];
  readonly targetNames: readonly string[];
}

export interface StatisticsOptions {
  readonly normalizeFeatures: boolean;
  readonly normalizeTargets: boolean;
  /** "median": the training median of positive gaps; a number: that unit; 1 leaves times as they are. */
  readonly timeScale: "median" | number;
  readonly firstElapsed: "median" | number;
  /** Per feature: leave it unscaled (mean 0, std 1), e.g. one-hot indicators. */
  readonly unscaled?: readonly boolean[];
}

/** Splits `count` sequences into training and validation indices (each list in ascending order). */
export function splitIndices(count: number, fraction: number, seed: number, what: string): { train: number[]; valid: number[] } {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`${what}: validation fraction must be in (0, 1), got ${fraction}`);
  if (count < 2) throw new Error(`${what}: a validation split needs at least 2 sequences, got ${count}`);
  const nValid = Math.min(count - 1, Math.max(1, Math.round(fraction * count)));
  const order = Array.from({ length: count }, (_, i) => i);
  new Rng(seed).shuffle(order);
  const valid = order.slice(0, nValid).sort((a, b) => a - b);
  const train = order.slice(nValid).sort((a, b) => a - b);
  return { train, valid };
}

/** Whether a step carries a label: every target present (a step has one label mask, not one per target). */
export function labelled(s: Series, t: number, targets: number): boolean {
  for (let k = 0; k < targets; k++) if (Number.isNaN(s.targets[t * targets + k])) return false;
  return true;
}

/** {@link meanStd} of one column over all steps of the series (NaN = skip). */
function columnStats(series: readonly Series[], pick: (s: Series, t: number) => number): { mean: number; std: number } {
  let n = 0;
  for (const s of series) n += s.length;
  const column = new Float64Array(n);
  let i = 0;
  for (const s of series) for (let t = 0; t < s.length; t++) column[i++] = pick(s, t);
  return meanStd(column);
}

/** Scaling statistics from the training series (whole series, so overlapping windows do not reweight rows). */
export function computeStatistics(train: readonly Series[], info: ShapeInfo, opts: StatisticsOptions): Normalization {
  const F = info.features;
  const featureMean: number[] = [];
  const featureStd: number[] = [];
  for (let k = 0; k < F; k++) {
    if (!opts.normalizeFeatures || opts.unscaled?.[k]) {
      featureMean.push(0);
      featureStd.push(1);
      continue;
    }
    const { mean, std } = columnStats(train, (s, t) => s.values[t * F + k]);
    featureMean.push(mean);
    featureStd.push(std);
  }
  const out: { -readonly [K in keyof Normalization]: Normalization[K] } = { featureMean, featureStd };
  if (info.task === "regress") {
    const T = info.targets;
    out.targetMean = [];
    out.targetStd = [];
    for (let k = 0; k < T; k++) {
      if (!opts.normalizeTargets) {
        out.targetMean.push(0);
        out.targetStd.push(1);
        continue;
      }
      const { mean, std } = columnStats(train, (s, t) => (labelled(s, t, T) ? s.targets[t * T + k] : NaN));
      out.targetMean.push(mean);
      out.targetStd.push(std);
    }
  }
  if (train.some((s) => s.elapsed !== null)) {
    const gaps: number[] = [];
    for (const s of train) if (s.elapsed) for (const g of s.elapsed) if (g > 0 && Number.isFinite(g)) gaps.push(g);
    // With no gaps at all (one-row series) there is nothing to learn a unit from: keep times as they are.
    const typical = median(gaps) ?? 1;
    out.timeScale = opts.timeScale === "median" ? typical : opts.timeScale;
    out.firstElapsed = opts.firstElapsed === "median" ? typical : opts.firstElapsed;
  }
  return out;
}

/** Forward-filled, scaled inputs and observation masks of one whole series. */
interface Prepared {
  values: Float32Array;
  mask: Uint8Array;
}

function prepareSeries(s: Series, F: number, norm: Normalization): Prepared {
  const values = new Float32Array(s.length * F);
  const mask = new Uint8Array(s.length * F);
  for (let k = 0; k < F; k++) {
    const mean = norm.featureMean[k];
    const std = norm.featureStd[k];
    // NaN until the first observation; such steps get 0, which after scaling is the training mean.
    let last = NaN;
    for (let t = 0; t < s.length; t++) {
      const v = s.values[t * F + k];
      if (!Number.isNaN(v)) {
        last = (v - mean) / std;
        mask[t * F + k] = 1;
      }
      values[t * F + k] = Number.isNaN(last) ? 0 : last;
    }
  }
  return { values, mask };
}

/** The last step in a segment that carries a label, or -1. */
export function lastLabelledStep(s: Series, seg: Segment, targets: number): number {
  for (let t = seg.start + seg.length - 1; t >= seg.start; t--) if (labelled(s, t, targets)) return t;
  return -1;
}

export interface Built {
  readonly dataset: SequenceDataset;
  /** N x L: the source row behind each step, -1 for padding. */
  readonly rowIndex: Int32Array;
  readonly segments: readonly Segment[];
}

/**
 * Packs segments into a dataset. In "last" mode a segment's target is its last labelled step's;
 * callers drop segments without any label beforehand (or keep them, with target 0, for prediction).
 */
export function buildDataset(series: readonly Series[], segments: readonly Segment[], norm: Normalization, info: ShapeInfo): Built {
  const N = segments.length;
  const F = info.features;
  const Fin = info.missingMask ? 2 * F : F;
  const T = info.targets;
  const L = segments.reduce((m, g) => Math.max(m, g.length), 0);
  const perStep = info.targetMode === "per_step";
  const regress = info.task === "regress";
  const withTime = series.some((s) => s.elapsed !== null);
  const timeScale = norm.timeScale ?? 1;
  const firstElapsed = norm.firstElapsed ?? 1;

  const x = new Float32Array(N * L * Fin);
  const timespans = withTime ? new Float32Array(N * L).fill(1) : null;
  const lengths = new Int32Array(N);
  const y = new Float32Array(regress ? (perStep ? N * L * T : N * T) : perStep ? N * L : N);
  const targetMask = new Uint8Array(N * L);
  const rowIndex = new Int32Array(N * L).fill(-1);
  let unlabelledRealSteps = 0;

  const prepared = new Map<number, Prepared>();
  const targetValue = (s: Series, t: number, k: number): number => {
    const v = s.targets[t * T + k];
    return regress ? (v - (norm.targetMean?.[k] ?? 0)) / (norm.targetStd?.[k] ?? 1) : v;
  };

  segments.forEach((seg, n) => {
    const s = series[seg.series];
    let p = prepared.get(seg.series);
    if (!p) {
      p = prepareSeries(s, F, norm);
      prepared.set(seg.series, p);
    }
    lengths[n] = seg.length;
    for (let l = 0; l < seg.length; l++) {
      const t = seg.start + l;
      const step = n * L + l;
      for (let k = 0; k < F; k++) {
        x[step * Fin + k] = p.values[t * F + k];
        if (info.missingMask) x[step * Fin + F + k] = p.mask[t * F + k];
      }
      if (timespans) {
        const g = s.elapsed ? s.elapsed[t] : NaN;
        timespans[step] = (Number.isNaN(g) ? firstElapsed : g) / timeScale;
      }
      rowIndex[step] = s.rows[t];
      if (perStep) {
        if (labelled(s, t, T)) {
          targetMask[step] = 1;
          for (let k = 0; k < T; k++) y[step * T + k] = targetValue(s, t, k);
        } else unlabelledRealSteps++;
      }
    }
    if (!perStep) {
      const t = lastLabelledStep(s, seg, T);
      if (t >= 0) for (let k = 0; k < T; k++) y[n * T + k] = targetValue(s, t, k);
    }
  });

  const padded = segments.some((g) => g.length < L);
  const dataset: SequenceDataset = {
    size: N,
    steps: L,
    features: Fin,
    x,
    timespans,
    lengths: padded ? lengths : null,
    task: info.task,
    targetMode: info.targetMode,
    y,
    targets: T,
    numClasses: info.numClasses,
    // null means "every real step is labelled", which padding alone does not contradict.
    targetMask: perStep && unlabelledRealSteps > 0 ? targetMask : null,
    featureNames: info.missingMask ? [...info.featureNames, ...info.featureNames.map((f) => `${f}_observed`)] : [...info.featureNames],
    targetNames: [...info.targetNames],
  };
  return { dataset, rowIndex, segments };
}

/**
 * Windows of `window` steps every `stride` steps; when the last regular window stops short of the
 * end, one more window ends exactly at the last step so that every step is covered.
 */
export function windowSegments(seriesIndex: number, length: number, window: number, stride: number): Segment[] {
  const out: Segment[] = [];
  let start = 0;
  for (; start + window <= length; start += stride) out.push({ series: seriesIndex, start, length: window });
  const lastEnd = out.length ? out[out.length - 1].start + window : 0;
  if (out.length && lastEnd < length) out.push({ series: seriesIndex, start: length - window, length: window });
  return out;
}
