/**
 * Arrays in memory to a {@link SequenceDataset}: the way in for data that is already in JavaScript (a
 * browser page, a fetch, another library), with no file format involved. Portable (no Node imports).
 *
 * Every argument is nested arrays (the innermost level may be typed arrays, e.g. one Float32Array per
 * step) or a tensor {shape, data}. With nested arrays, sequences may have different lengths: they are
 * padded to the longest and their lengths kept, so nothing needs cutting to a common length first.
 *
 * Values are used as given: no standardisation, and elapsed times in the caller's unit (the model sees
 * exactly what `forward` would be given). Missing feature values (NaN in x, or 0 in `mask`) are
 * forward-filled within their sequence (0 before the first observation) and, by default, an
 * observation mask per feature is appended to the inputs, as the CSV and .npy loaders do.
 */
import type { SequenceDataset, TargetMode, Task } from "./dataset.js";
import { buildDataset, computeStatistics, type Series, type ShapeInfo } from "./series.js";

/** Nested arrays of numbers (innermost level plain or typed arrays), or a tensor {shape, data}. */
export type ArrayInput = ReadonlyArray<unknown> | ArrayLike<number> | { readonly shape: readonly number[]; readonly data: ArrayLike<number> };

export interface DatasetFromArraysInput {
  /** (N, L, F) sequences of F features per step, or (L, F) for one sequence. NaN: not observed. */
  readonly x: ArrayInput;
  /**
   * Targets. Regression: per step (N, L) or (N, L, T), per sequence (N) or (N, T). Classification: class
   * indices 0..C-1, per step (N, L) or per sequence (N). For one sequence, drop the N. NaN (and for
   * classes any negative index) means "no label". Leave out for data to predict on.
   */
  readonly y?: ArrayInput;
  /** Elapsed time before each step, (N, L) (or (L) for one sequence); see `timeKind`. Default 1 everywhere. */
  readonly time?: ArrayInput;
  /** Observation mask shaped like x: 1 (or true) where the value was observed, 0 (false) where missing. */
  readonly mask?: ArrayInput;
  readonly task: Task;
  /** Default: per step when y has a value per step, per sequence when it has one per sequence. */
  readonly targetMode?: TargetMode;
  /** "elapsed" (default): time holds the gaps, as ncps's timespans. "absolute": timestamps, increasing. */
  readonly timeKind?: "elapsed" | "absolute";
  /** With absolute times, the elapsed time of each sequence's first step; default the median gap. */
  readonly firstElapsed?: number;
  /** Classification: number of classes; default the largest class index + 1. */
  readonly numClasses?: number;
  /** Observation-mask features: "auto" (default) adds them when some value is missing. */
  readonly missingMask?: "auto" | boolean;
  /** Names of the F features (default x0, x1, ...) and of the T targets (default y0, ... or "class"). */
  readonly featureNames?: readonly string[];
  readonly targetNames?: readonly string[];
}

type Node = unknown;

const isList = (v: unknown): v is ArrayLike<unknown> => Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));

function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name} of length ${(v as unknown as ArrayLike<number>).length}`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** A tensor {shape, data} as nested arrays whose innermost level is a view (or slice) of its data. */
function tensorAsNested(t: { shape: readonly number[]; data: ArrayLike<number> }, name: string): Node {
  const { shape, data } = t;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`${name}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  if (!isList(data)) throw new Error(`${name}: data must be an array or typed array of numbers, got ${describe(data)}`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`${name}: data has ${data.length} values, shape [${shape.join(", ")}] needs ${n}`);
  if (shape.length === 0) return (data as ArrayLike<number>)[0];
  const cut = (from: number, to: number): ArrayLike<number> =>
    ArrayBuffer.isView(data) ? (data as unknown as Float64Array).subarray(from, to) : Array.prototype.slice.call(data, from, to);
  const build = (dim: number, offset: number): Node => {
    const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    if (dim === shape.length - 1) return cut(offset, offset + shape[dim]);
    return Array.from({ length: shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
  };
  return build(0, 0);
}

function asNested(value: unknown, name: string): Node {
  if (value !== null && typeof value === "object" && !isList(value) && "shape" in value && "data" in value) {
    return tensorAsNested(value as { shape: readonly number[]; data: ArrayLike<number> }, name);
  }
  if (!isList(value) && typeof value !== "number") throw new Error(`${name}: expected nested arrays of numbers or a tensor {shape, data}, got ${describe(value)}`);
  return value;
}

/** A number read from an argument: finite or NaN (missing), never another type or an infinity. */
function numberAt(v: unknown, path: string): number {
  if (typeof v !== "number") throw new Error(`${path}: expected a number, got ${describe(v)}`);
  if (v === Infinity || v === -Infinity) throw new Error(`${path}: ${v} is not finite (use NaN for a missing value)`);
  return v;
}

/** x (or the mask): per sequence, its steps as one flat row-major array, and the feature count. */
interface Steps {
  /** true when the argument was a single (L, F) sequence */
  single: boolean;
  features: number;
  sequences: Float64Array[];
  lengths: number[];
}

function readSteps(value: unknown, name: string, readCell: (v: unknown, path: string) => number): Steps {
  const root = asNested(value, name);
  const expected = `(N, L, F) sequences or (L, F) for one sequence`;
  if (!isList(root) || root.length === 0) throw new Error(`${name}: expected ${expected}, got ${describe(root)}`);
  const first = root[0];
  if (!isList(first)) throw new Error(`${name}: expected ${expected}, got a flat list (one feature per step? write [[v0], [v1], ...])`);
  const single = first.length > 0 && !isList(first[0]);
  const list = (single ? [root] : root) as ArrayLike<unknown>;
  const seqPath = (n: number) => (single ? name : `${name}[${n}]`);
  const firstSeq = list[0];
  if (!isList(firstSeq) || firstSeq.length === 0 || !isList(firstSeq[0])) throw new Error(`${seqPath(0)}: expected a sequence of steps (L, F) with at least one step, got ${describe(firstSeq)}`);
  const F = (firstSeq[0] as ArrayLike<unknown>).length;
  if (F === 0) throw new Error(`${seqPath(0)}[0]: a step needs at least one feature, got an empty list`);
  const sequences: Float64Array[] = [];
  const lengths: number[] = [];
  for (let n = 0; n < list.length; n++) {
    const seq = list[n];
    if (!isList(seq) || seq.length === 0) throw new Error(`${seqPath(n)}: expected a sequence of steps (L, ${F}) with at least one step, got ${describe(seq)}`);
    const values = new Float64Array(seq.length * F);
    for (let t = 0; t < seq.length; t++) {
      const step = seq[t];
      const path = `${seqPath(n)}[${t}]`;
      if (!isList(step) || step.length !== F) throw new Error(`${path}: expected ${F} features (as ${seqPath(0)}[0]), got ${describe(step)}`);
      for (let k = 0; k < F; k++) values[t * F + k] = readCell(step[k], `${path}[${k}]`);
    }
    sequences.push(values);
    lengths.push(seq.length);
  }
  return { single, features: F, sequences, lengths };
}

function readMask(value: unknown, x: Steps): Uint8Array[] {
  const mask = readSteps(value, "mask", (v, path) => {
    if (v === true || v === 1) return 1;
    if (v === false || v === 0) return 0;
    throw new Error(`${path}: a mask value must be 1 or 0 (true or false), got ${describe(v)}`);
  });
  if (mask.single !== x.single || mask.sequences.length !== x.sequences.length) {
    throw new Error(`mask: expected the shape of x (${x.single ? "one sequence" : `${x.sequences.length} sequences`}), got ${mask.single ? "one sequence" : `${mask.sequences.length} sequences`}`);
  }
  mask.lengths.forEach((l, n) => {
    const where = x.single ? "mask" : `mask[${n}]`;
    if (l !== x.lengths[n]) throw new Error(`${where}: expected ${x.lengths[n]} steps as x, got ${l}`);
  });
  if (mask.features !== x.features) throw new Error(`mask: expected ${x.features} values per step as x, got ${mask.features}`);
  return mask.sequences.map((s) => Uint8Array.from(s));
}

/** One value per step, per sequence: time, or y with one target per step. */
function readPerStep(value: unknown, name: string, x: Steps): Float64Array[] {
  const root = asNested(value, name);
  const list = x.single ? [root] : root;
  if (!isList(list) || list.length !== x.sequences.length) {
    throw new Error(`${name}: expected ${x.single ? `(${x.lengths[0]})` : `(N, L) with N = ${x.sequences.length} sequences as x`}, got ${describe(list)}`);
  }
  return x.lengths.map((L, n) => {
    const seq = list[n];
    const path = x.single ? name : `${name}[${n}]`;
    if (!isList(seq) || seq.length !== L) throw new Error(`${path}: expected ${L} values (one per step of ${x.single ? "x" : `x[${n}]`}), got ${describe(seq)}`);
    return Float64Array.from({ length: L }, (_, t) => {
      const v = seq[t];
      // (N, L, 1) is accepted for (N, L)
      if (isList(v) && v.length === 1) return numberAt(v[0], `${path}[${t}][0]`);
      return numberAt(v, `${path}[${t}]`);
    });
  });
}

interface Targets {
  mode: TargetMode;
  /** values per label: regression target columns, classification 1 */
  T: number;
  /** per sequence: length x T (per step) or T values (per sequence) */
  values: Float64Array[];
}

/** Reads y and decides the target mode and width from its shape (see DatasetFromArraysInput.y). */
function readTargets(value: unknown, x: Steps, task: Task, asked: TargetMode | undefined): Targets {
  const root = asNested(value, "y");
  const N = x.sequences.length;
  const list = (x.single ? [root] : root) as ArrayLike<unknown>;
  const expected =
    task === "regress"
      ? x.single
        ? `(L) or (L, T) per step, or a number or (T) for the sequence`
        : `(N, L) or (N, L, T) per step, or (N) or (N, T) per sequence, with N = ${N}`
      : x.single
        ? `class indices (L) per step or one class index for the sequence`
        : `class indices (N, L) per step or (N) per sequence, with N = ${N}`;
  if (!isList(list) || list.length !== N) throw new Error(`y: expected ${expected}, got ${describe(x.single ? root : list)}`);
  const path = (n: number) => (x.single ? "y" : `y[${n}]`);
  let result: Targets | null = null;
  const values: Float64Array[] = [];
  for (let n = 0; n < N; n++) {
    const v = list[n];
    const L = x.lengths[n];
    let mode: TargetMode;
    let T: number;
    let flat: Float64Array;
    if (!isList(v)) {
      mode = "last";
      T = 1;
      flat = Float64Array.of(numberAt(v, path(n)));
    } else if (v.length > 0 && isList(v[0])) {
      // per step, T values per step ((L, 1) included)
      T = (v[0] as ArrayLike<unknown>).length;
      if (task === "classify" && T !== 1) throw new Error(`${path(n)}[0]: classification takes one class index per step, got ${describe(v[0])} (one-hot labels? pass the class index)`);
      if (v.length !== L) throw new Error(`${path(n)}: expected ${L} steps (as ${x.single ? "x" : `x[${n}]`}), got ${v.length}`);
      mode = "per_step";
      flat = new Float64Array(L * T);
      for (let t = 0; t < L; t++) {
        const step = v[t];
        if (!isList(step) || step.length !== T) throw new Error(`${path(n)}[${t}]: expected ${T} target values (as ${path(n)}[0]), got ${describe(step)}`);
        for (let k = 0; k < T; k++) flat[t * T + k] = numberAt(step[k], `${path(n)}[${t}][${k}]`);
      }
    } else {
      const perStep = asked === "per_step" || (asked === undefined && v.length === L) || task === "classify";
      if (perStep) {
        if (v.length !== L) throw new Error(`${path(n)}: expected ${L} values, one per step of ${x.single ? "x" : `x[${n}]`}, got ${v.length}`);
        mode = "per_step";
        T = 1;
      } else {
        if (v.length === 0) throw new Error(`${path(n)}: expected at least one target value, got an empty list`);
        mode = "last";
        T = v.length;
      }
      flat = Float64Array.from({ length: v.length }, (_, i) => numberAt(v[i], `${path(n)}[${i}]`));
    }
    if (result && (result.mode !== mode || result.T !== T)) {
      const what = (m: TargetMode, w: number) => (m === "per_step" ? `${w} value(s) per step` : `${w} value(s) per sequence`);
      throw new Error(`${path(n)}: has ${what(mode, T)}, ${path(0)} has ${what(result.mode, result.T)}; every sequence needs the same target layout`);
    }
    if (asked !== undefined && mode !== asked) throw new Error(`${path(n)}: targetMode is "${asked}", but y holds ${mode === "last" ? "one target per sequence" : "a target per step"} (expected ${expected})`);
    result ??= { mode, T, values };
    values.push(flat);
  }
  return result!;
}

function checkClasses(targets: Targets | null, asked: number | undefined, x: Steps): number {
  let max = -1;
  if (targets) {
    targets.values.forEach((flat, n) => {
      flat.forEach((v, i) => {
        if (Number.isNaN(v) || v < 0) return;
        if (!Number.isInteger(v)) {
          const where = x.single ? "y" : `y[${n}]`;
          throw new Error(`${where}${targets.mode === "per_step" ? `[${i}]` : ""}: a class index must be an integer, got ${v}`);
        }
        max = Math.max(max, v);
      });
    });
  }
  const numClasses = asked ?? max + 1;
  if (!(Number.isInteger(numClasses) && numClasses >= 2)) {
    throw new Error(`numClasses: classification needs at least 2 classes, got ${numClasses}${asked === undefined ? (targets ? " (the largest class index in y + 1)" : " (pass numClasses when there is no y)") : ""}`);
  }
  if (max >= numClasses) throw new Error(`y: class index ${max} is out of range for numClasses ${numClasses}`);
  return numClasses;
}

function checkNames(names: readonly string[] | undefined, count: number, what: string, fallback: (k: number) => string): string[] {
  if (names === undefined) return Array.from({ length: count }, (_, k) => fallback(k));
  if (!Array.isArray(names) || names.length !== count || !names.every((s) => typeof s === "string")) {
    throw new Error(`${what}: expected ${count} names, got ${JSON.stringify(names)}`);
  }
  return [...names];
}

function checkInput(input: DatasetFromArraysInput): void {
  if (input === null || typeof input !== "object") throw new Error(`datasetFromArrays: expected an object { x, y, time?, mask?, task }, got ${describe(input)}`);
  if (input.task !== "regress" && input.task !== "classify") throw new Error(`task: expected "regress" or "classify", got ${JSON.stringify(input.task)}`);
  if (input.targetMode !== undefined && input.targetMode !== "per_step" && input.targetMode !== "last") throw new Error(`targetMode: expected "per_step" or "last", got ${JSON.stringify(input.targetMode)}`);
  if (input.timeKind !== undefined && input.timeKind !== "elapsed" && input.timeKind !== "absolute") throw new Error(`timeKind: expected "elapsed" or "absolute", got ${JSON.stringify(input.timeKind)}`);
  const m = input.missingMask;
  if (m !== undefined && m !== "auto" && typeof m !== "boolean") throw new Error(`missingMask: expected "auto", true or false, got ${JSON.stringify(m)}`);
  const f = input.firstElapsed;
  if (f !== undefined && !(typeof f === "number" && f > 0 && Number.isFinite(f))) throw new Error(`firstElapsed: expected a positive number, got ${JSON.stringify(f)}`);
  if (input.x === undefined) throw new Error("x: required: the input sequences, (N, L, F) or (L, F)");
}

/** Elapsed time before each step of one sequence from the `time` argument (NaN: the first of absolute times). */
function elapsedOf(times: Float64Array, kind: "elapsed" | "absolute", where: string): Float64Array {
  const out = new Float64Array(times.length);
  for (let t = 0; t < times.length; t++) {
    const v = times[t];
    if (Number.isNaN(v)) throw new Error(`${where}[${t}]: time is NaN (every step needs a time)`);
    if (kind === "elapsed") {
      if (v < 0) throw new Error(`${where}[${t}]: elapsed time ${v} is negative`);
      out[t] = v;
    } else {
      if (t > 0 && !(v > times[t - 1])) throw new Error(`${where}[${t}]: time ${v} is not after the previous step's ${times[t - 1]} (absolute times must increase; timeKind: "elapsed" reads gaps)`);
      out[t] = t === 0 ? NaN : v - times[t - 1];
    }
  }
  return out;
}

/**
 * Builds a dataset from arrays: `datasetFromArrays({ x, y, time, mask, task })`. See
 * DatasetFromArraysInput for the shapes; errors name the argument and the position, with the expected
 * and the actual size.
 */
export function datasetFromArrays(input: DatasetFromArraysInput): SequenceDataset {
  checkInput(input);
  const { task } = input;
  const x = readSteps(input.x, "x", numberAt);
  const F = x.features;
  if (input.mask !== undefined) {
    readMask(input.mask, x).forEach((m, n) => m.forEach((observed, i) => {
      if (!observed) x.sequences[n][i] = NaN;
    }));
  }
  const targets = input.y === undefined ? null : readTargets(input.y, x, task, input.targetMode);
  const targetMode: TargetMode = targets?.mode ?? input.targetMode ?? "per_step";
  const T = targets?.T ?? (task === "regress" ? (input.targetNames?.length ?? 1) : 1);
  const numClasses = task === "classify" ? checkClasses(targets, input.numClasses, x) : 0;
  const times = input.time === undefined ? null : readPerStep(input.time, "time", x);
  const timeKind = input.timeKind ?? "elapsed";

  const series: Series[] = x.sequences.map((values, n) => {
    const L = x.lengths[n];
    const where = x.single ? "" : `[${n}]`;
    const flat = new Float64Array(L * T).fill(NaN);
    if (targets) {
      const given = targets.values[n];
      const clean = (v: number) => (task === "classify" && v < 0 ? NaN : v);
      if (targetMode === "per_step") for (let i = 0; i < L * T; i++) flat[i] = clean(given[i]);
      else {
        for (let k = 0; k < T; k++) flat[(L - 1) * T + k] = clean(given[k]);
        if (flat.subarray((L - 1) * T).some(Number.isNaN)) {
          throw new Error(`y${where}: sequence ${n} has no label (NaN${task === "classify" ? " or a negative index" : ""}); with one target per sequence every sequence needs one`);
        }
      }
    }
    return {
      name: `sequence ${n}`,
      length: L,
      values,
      elapsed: times ? elapsedOf(times[n], timeKind, `time${where}`) : null,
      targets: flat,
      rows: Int32Array.from({ length: L }, (_, t) => t),
    };
  });

  const missingMask = input.missingMask === undefined || input.missingMask === "auto" ? x.sequences.some((s) => s.some(Number.isNaN)) : input.missingMask;
  const info: ShapeInfo = {
    task,
    targetMode,
    features: F,
    targets: T,
    numClasses,
    missingMask,
    featureNames: checkNames(input.featureNames, F, "featureNames", (k) => `x${k}`),
    targetNames: checkNames(input.targetNames, T, "targetNames", (k) => (task === "classify" ? "class" : `y${k}`)),
  };
  // The values as given: statistics only for the first step of absolute times.
  const normalization = computeStatistics(series, info, { normalizeFeatures: false, normalizeTargets: false, timeScale: 1, firstElapsed: input.firstElapsed ?? "median" });
  const segments = series.map((s, i) => ({ series: i, start: 0, length: s.length }));
  return buildDataset(series, segments, normalization, info).dataset;
}
