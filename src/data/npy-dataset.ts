/**
 * NumPy arrays to {@link SequenceDataset}, for users coming from Python:
 *
 * - x: (N, L, F) sequences, or (L, F) for a single sequence. NaN marks a feature not observed at a
 *   step: it is forward-filled and, with `missingMask` ("auto": when any NaN occurs), an observation
 *   mask per feature is appended, as for CSV files.
 * - y: regression (N, L, T) or (N, L) per step, (N, T) or (N,) per sequence; classification class
 *   indices (N, L) per step or (N,) per sequence. With a single (L, F) sequence, drop the N. A 2-D
 *   regression y whose second axis equals L is read per step unless `targetMode` says "last". NaN (and,
 *   for class indices, any negative value such as PyTorch's ignore index -100) means "no label".
 * - time: (N, L) elapsed time before each step (`timeKind: "elapsed"`, the default, as ncps's
 *   `timespans`) or absolute times (`"absolute"`: the first step gets `firstElapsed`).
 * - lengths: (N,) real lengths of padded sequences (default: all L).
 *
 * Scaling and validation splitting work as for CSV (statistics from the training split only).
 */
import { loadNpy, type NpyArray } from "../io/npy.js";
import type { SequenceDataset, TargetMode, Task } from "./dataset.js";
import { checkNormalization, type Normalization } from "./normalization.js";
import { buildDataset, computeStatistics, splitIndices, type Series, type ShapeInfo } from "./series.js";

export interface NpyDatasetOptions {
  readonly task: Task;
  readonly targetMode?: TargetMode;
  /** How to read the time array; default "elapsed". */
  readonly timeKind?: "elapsed" | "absolute";
  /** Classification: number of classes; default the largest index + 1. */
  readonly numClasses?: number;
  readonly missingMask?: "auto" | boolean;
  readonly normalize?: boolean;
  readonly normalizeTargets?: boolean;
  readonly timeScale?: "median" | number;
  readonly firstElapsed?: "median" | number;
  /** Fraction of sequences held out for validation (seeded shuffle). */
  readonly validSplit?: number;
  readonly seed?: number;
  /** Use these statistics (e.g. a trained model's) instead of computing them. */
  readonly normalization?: Normalization;
  /** Names for the F input columns; default x0, x1, ... */
  readonly featureNames?: readonly string[];
  /** Names for the T targets; default y0, y1, ... */
  readonly targetNames?: readonly string[];
}

export interface NpyFiles {
  readonly x: string;
  /** Optional only for data to predict on (every step is then unlabelled). */
  readonly y?: string;
  readonly time?: string;
  readonly lengths?: string;
}

export interface NpyArrays {
  readonly x: NpyArray;
  readonly y?: NpyArray;
  readonly time?: NpyArray;
  readonly lengths?: NpyArray;
}

export interface PreparedNpy {
  readonly train: SequenceDataset;
  readonly valid?: SequenceDataset;
  readonly normalization: Normalization;
  readonly featureNames: string[];
  readonly targetNames: string[];
  /** Classification: "0", "1", ... (the class indices as text). */
  readonly classes?: string[];
  readonly missingMask: boolean;
  readonly targetMode: TargetMode;
  /** The original sequence index (along N) of each training / validation sequence. */
  readonly trainIndex: Int32Array;
  readonly validIndex?: Int32Array;
}

const shapeText = (shape: readonly number[]): string => (shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`);

/** Loads the files and calls {@link npyArraysToDataset}. */
export function npyToDataset(files: NpyFiles & NpyDatasetOptions): PreparedNpy {
  const { x, y, time, lengths, ...options } = files;
  const arrays: NpyArrays = {
    x: loadNpy(x),
    ...(y !== undefined ? { y: loadNpy(y) } : {}),
    ...(time !== undefined ? { time: loadNpy(time) } : {}),
    ...(lengths !== undefined ? { lengths: loadNpy(lengths) } : {}),
  };
  return npyArraysToDataset(arrays, options, { x, y: y ?? "y", time: time ?? "time", lengths: lengths ?? "lengths" });
}

/** Same as {@link npyToDataset} for arrays already in memory; `names` label messages. */
export function npyArraysToDataset(
  arrays: NpyArrays,
  options: NpyDatasetOptions,
  names: { x: string; y: string; time: string; lengths: string } = { x: "x", y: "y", time: "time", lengths: "lengths" },
): PreparedNpy {
  const task = options.task;
  if (task !== "regress" && task !== "classify") throw new Error(`npyToDataset: task must be "regress" or "classify", got ${JSON.stringify(task)}`);
  const single = arrays.x.shape.length === 2;
  if (arrays.x.shape.length !== 3 && !single) {
    throw new Error(`${names.x}: x must have shape (N, L, F) or (L, F) for one sequence, got ${shapeText(arrays.x.shape)}`);
  }
  const [N, L, F] = single ? [1, arrays.x.shape[0], arrays.x.shape[1]] : (arrays.x.shape as [number, number, number]);
  if (N === 0 || L === 0 || F === 0) throw new Error(`${names.x}: x has an empty axis: shape ${shapeText(arrays.x.shape)}`);
  const xDesc = `x ${shapeText(arrays.x.shape)} in ${names.x}`;
  /** The array's shape with the implicit N = 1 of a single sequence made explicit. */
  const withN = (a: NpyArray): readonly number[] => (single ? [1, ...a.shape] : a.shape);

  // lengths
  const lengths = new Int32Array(N).fill(L);
  if (arrays.lengths) {
    const a = arrays.lengths;
    if (withN(a).length !== 1 || withN(a)[0] !== N) {
      throw new Error(`${names.lengths}: lengths must have shape (${N},) to match ${xDesc}, got ${shapeText(a.shape)}`);
    }
    a.data.forEach((v, i) => {
      if (!(Number.isInteger(v) && v >= 1 && v <= L)) throw new Error(`${names.lengths}: sequence ${i} has length ${v}, expected an integer in 1..${L}`);
      lengths[i] = v;
    });
  }

  // y: decide the target mode and the number of targets from its shape.
  let targetMode: TargetMode = "per_step";
  let T = 1;
  const y = arrays.y;
  if (y) {
    const s = withN(y);
    const n = single ? "" : `${N}, `;
    const expected =
      task === "regress"
        ? `(${n}${L}[, T]) per step or ${single ? "(T,) or a scalar" : `(${N}[, T])`} per sequence`
        : `class indices (${n}${L}) per step or ${single ? "a scalar" : `(${N},)`} per sequence`;
    const bad = (why = ""): never => {
      throw new Error(`${names.y}: y has shape ${shapeText(y.shape)}, which does not fit ${xDesc}: expected ${expected}${why}`);
    };
    if (s[0] !== N) bad();
    const mode = options.targetMode;
    if (task === "regress") {
      if (s.length === 3) {
        if (s[1] !== L) bad();
        if (mode === "last") bad(" (a 3-D y is per step, but targetMode is \"last\")");
        [targetMode, T] = ["per_step", s[2]];
      } else if (s.length === 2) {
        if (mode === "per_step" && s[1] !== L) bad();
        if (mode === "per_step" || (mode === undefined && s[1] === L)) [targetMode, T] = ["per_step", 1];
        else [targetMode, T] = ["last", s[1]];
      } else if (s.length === 1) {
        if (mode === "per_step") bad(" (a 1-D y is one value per sequence, but targetMode is \"per_step\")");
        [targetMode, T] = ["last", 1];
      } else bad();
      if (T === 0) bad();
    } else {
      const squeezed = s.length === 3 && s[2] === 1 ? s.slice(0, 2) : s;
      if (squeezed.length === 2 && squeezed[1] === L && mode !== "last") targetMode = "per_step";
      else if (squeezed.length === 1 && mode !== "per_step") targetMode = "last";
      else bad(s.length >= 2 && s[s.length - 1] > 1 && s.length === (mode === "last" ? 2 : 3) ? " (one-hot labels? pass class indices)" : "");
      T = 1;
    }
  } else {
    targetMode = options.targetMode ?? "per_step";
    T = task === "regress" ? (options.targetNames?.length ?? 1) : 1;
  }

  // Class indices.
  let numClasses = 0;
  if (task === "classify") {
    let max = -1;
    if (y) {
      y.data.forEach((v, i) => {
        if (Number.isNaN(v) || v < 0) return;
        if (!Number.isInteger(v)) throw new Error(`${names.y}: class index ${v} at flat position ${i} is not an integer`);
        if (v > max) max = v;
      });
    }
    numClasses = options.numClasses ?? max + 1;
    if (!(Number.isInteger(numClasses) && numClasses >= 2)) {
      throw new Error(`${names.y}: classification needs at least 2 classes, got ${numClasses}${options.numClasses === undefined ? " (the largest class index + 1)" : ""}`);
    }
    if (max >= numClasses) throw new Error(`${names.y}: class index ${max} is out of range for ${numClasses} classes`);
  }

  // time
  const timeKind = options.timeKind ?? "elapsed";
  if (timeKind !== "elapsed" && timeKind !== "absolute") throw new Error(`npyToDataset: timeKind must be "elapsed" or "absolute", got ${JSON.stringify(timeKind)}`);
  const time = arrays.time;
  if (time) {
    const s = withN(time);
    const ok = s[0] === N && s[1] === L && (s.length === 2 || (s.length === 3 && s[2] === 1));
    if (!ok) throw new Error(`${names.time}: time must have shape ${single ? `(${L},)` : `(${N}, ${L})`} to match ${xDesc}, got ${shapeText(time.shape)}`);
  }

  const featureNames = options.featureNames ? [...options.featureNames] : Array.from({ length: F }, (_, k) => `x${k}`);
  if (featureNames.length !== F) throw new Error(`npyToDataset: ${featureNames.length} feature names for ${F} features in ${names.x}`);
  const targetNames = options.targetNames ? [...options.targetNames] : task === "classify" ? ["class"] : Array.from({ length: T }, (_, k) => `y${k}`);
  if (targetNames.length !== T) throw new Error(`npyToDataset: ${targetNames.length} target names for ${T} targets in ${names.y}`);

  // One Series per sequence, without its padding.
  const series: Series[] = [];
  for (let n = 0; n < N; n++) {
    const len = lengths[n];
    const name = `sequence ${n}`;
    const values = new Float64Array(len * F);
    for (let i = 0; i < len * F; i++) {
      const v = arrays.x.data[n * L * F + i];
      if (v === Infinity || v === -Infinity) throw new Error(`${names.x}: ${name}, step ${Math.floor(i / F)}, feature ${i % F}: ${v} is not finite`);
      values[i] = v;
    }
    let elapsed: Float64Array | null = null;
    if (time) {
      elapsed = new Float64Array(len);
      for (let t = 0; t < len; t++) {
        const v = time.data[n * L + t];
        if (!Number.isFinite(v)) throw new Error(`${names.time}: ${name}, step ${t}: time ${v} is not finite`);
        if (timeKind === "elapsed") {
          if (v < 0) throw new Error(`${names.time}: ${name}, step ${t}: elapsed time ${v} is negative`);
          elapsed[t] = v;
        } else {
          const prev = time.data[n * L + t - 1];
          if (t > 0 && !(v > prev)) throw new Error(`${names.time}: ${name}, step ${t}: time ${v} is not after the previous step's ${prev} (absolute times must increase)`);
          elapsed[t] = t === 0 ? NaN : v - prev;
        }
      }
    }
    const targets = new Float64Array(len * T).fill(NaN);
    if (y) {
      const clean = (v: number): number => (task === "classify" && v < 0 ? NaN : v);
      if (targetMode === "per_step") for (let i = 0; i < len * T; i++) targets[i] = clean(y.data[n * L * T + i]);
      else {
        for (let k = 0; k < T; k++) targets[(len - 1) * T + k] = clean(y.data[n * T + k]);
        if (targets.subarray((len - 1) * T).some(Number.isNaN)) {
          throw new Error(`${names.y}: ${name} has no label (NaN${task === "classify" ? " or negative" : ""}); every sequence needs one when there is one target per sequence`);
        }
      }
    }
    series.push({ name, length: len, values, elapsed, targets, rows: Int32Array.from({ length: len }, (_, t) => n * L + t) });
  }

  let trainIdx = Array.from({ length: N }, (_, i) => i);
  let validIdx: number[] = [];
  if (options.validSplit) {
    const split = splitIndices(N, options.validSplit, options.seed ?? 0, names.x);
    trainIdx = split.train;
    validIdx = split.valid;
  }
  const trainSeries = trainIdx.map((i) => series[i]);
  const validSeries = validIdx.map((i) => series[i]);

  const missingMask = options.missingMask === undefined || options.missingMask === "auto" ? series.some((s) => s.values.some(Number.isNaN)) : options.missingMask;
  const info: ShapeInfo = {
    task,
    targetMode: targetMode,
    features: F,
    targets: T,
    numClasses,
    missingMask,
    featureNames,
    targetNames,
  };
  let normalization: Normalization;
  if (options.normalization) {
    normalization = checkNormalization(options.normalization);
    if (normalization.featureMean.length !== F) throw new Error(`${names.x}: the normalization describes ${normalization.featureMean.length} features, x has ${F}`);
  } else {
    const normalize = options.normalize ?? true;
    normalization = computeStatistics(trainSeries, info, {
      normalizeFeatures: normalize,
      normalizeTargets: options.normalizeTargets ?? normalize,
      timeScale: options.timeScale ?? (normalize ? "median" : 1),
      firstElapsed: options.firstElapsed ?? "median",
    });
  }
  const whole = (list: Series[]) => list.map((s, i) => ({ series: i, start: 0, length: s.length }));
  const train = buildDataset(trainSeries, whole(trainSeries), normalization, info).dataset;
  const valid = validSeries.length ? buildDataset(validSeries, whole(validSeries), normalization, info).dataset : undefined;
  return {
    train,
    ...(valid ? { valid, validIndex: Int32Array.from(validIdx) } : {}),
    normalization,
    featureNames: [...train.featureNames!],
    targetNames,
    ...(task === "classify" ? { classes: Array.from({ length: numClasses }, (_, i) => String(i)) } : {}),
    missingMask,
    targetMode: targetMode,
    trainIndex: Int32Array.from(trainIdx),
  };
}
