/**
 * Input, timespans and state layouts of ncps's recurrent modules (PyTorch RNN conventions): batch-first
 * (B, L, C) or time-major (L, B, C) input, unbatched (L, C); elapsed times per sample or shared by the
 * batch. Internally everything is time-major with one row per sample: row index = t * B + b.
 */
import { type DType, type FloatArray, type Tensor, type TensorInput, asTensor, assertFinite, numel, shapeString } from "../tensor.js";

export interface SequenceLayout {
  batch: number;
  steps: number;
  features: number;
  unbatched: boolean;
  batchFirst: boolean;
}

export function resolveInput(x: Tensor, inputSize: number, batchFirst: boolean, name = "input"): SequenceLayout {
  const s = x.shape;
  if (s.length === 2) {
    if (s[1] !== inputSize) throw new Error(`${name}: expected unbatched shape [L, ${inputSize}], got ${shapeString(s)}`);
    return { batch: 1, steps: s[0], features: s[1], unbatched: true, batchFirst };
  }
  if (s.length === 3) {
    const [b, l] = batchFirst ? [s[0], s[1]] : [s[1], s[0]];
    if (s[2] !== inputSize) {
      const want = batchFirst ? `[B, L, ${inputSize}]` : `[L, B, ${inputSize}]`;
      throw new Error(`${name}: expected shape ${want}, got ${shapeString(s)} (last dimension must equal input size ${inputSize})`);
    }
    if (b === 0 || l === 0) throw new Error(`${name}: empty batch or sequence in shape ${shapeString(s)}`);
    return { batch: b, steps: l, features: inputSize, unbatched: false, batchFirst };
  }
  const want = batchFirst ? `[B, L, ${inputSize}] or unbatched [L, ${inputSize}]` : `[L, B, ${inputSize}] or unbatched [L, ${inputSize}]`;
  throw new Error(`${name}: expected shape ${want}, got ${shapeString(s)}`);
}

export function sequenceShape(layout: SequenceLayout, width: number, steps = layout.steps): number[] {
  if (layout.unbatched) return [steps, width];
  return layout.batchFirst ? [layout.batch, steps, width] : [steps, layout.batch, width];
}

export function stepShape(layout: SequenceLayout, width: number): number[] {
  return layout.unbatched ? [width] : [layout.batch, width];
}

export type TimespanKind = "default" | "scalar" | "per_sample" | "shared";

export interface ResolvedTimespans {
  kind: TimespanKind;
  /** elapsed time per time-major row (L * B) */
  rows: Float64Array;
  shape: number[];
}

/**
 * Elapsed times: a number (every step), per sample (B, L) / (B, L, 1) [time-major (L, B) / (L, B, 1)],
 * shared by the batch (1, L) / (1, L, 1) / (L) [time-major (L, 1) / (L)], unbatched (L) / (L, 1).
 * Per-sample times are honoured for every batch size (ncps 1.0.1 breaks for B > 1).
 */
export function resolveTimespans(
  ts: Tensor | number | undefined | null,
  layout: SequenceLayout,
  name = "timespans",
  positiveFor: string | null = null,
): ResolvedTimespans {
  const resolved = resolveTimespanLayout(ts, layout, name);
  if (resolved.kind !== "default") checkElapsedTimes(resolved, layout, name, positiveFor);
  return resolved;
}

/**
 * Elapsed times must be finite and >= 0 (a negative or infinite one sends the cells' decays and
 * solvers outside anything they were built for); `positiveFor` names a model that divides by them
 * and so needs them > 0. The error names the first offending sample and step (observation), 0-based.
 */
export function checkElapsedTimes(resolved: ResolvedTimespans, layout: SequenceLayout, name: string, positiveFor: string | null): void {
  const { rows } = resolved;
  const B = layout.batch;
  for (let r = 0; r < rows.length; r++) {
    const v = rows[r];
    if (v > 0 && v !== Infinity) continue;
    if (v === 0 && positiveFor === null) continue;
    const t = Math.floor(r / B);
    const of =
      resolved.kind === "scalar" ? "" : resolved.kind === "shared" || layout.unbatched ? ` at observation ${t}` : ` of sample ${r % B} at observation ${t}`;
    const need = positiveFor === null ? "finite and >= 0" : `finite and > 0 (${positiveFor} divides by the elapsed time; zero gives NaN)`;
    throw new Error(`${name}: elapsed time${of} must be ${need}, got ${v}`);
  }
}

/** Elapsed time per row for each accepted layout of the timespans (see resolveTimespans). */
function resolveTimespanLayout(ts: Tensor | number | undefined | null, layout: SequenceLayout, name: string): ResolvedTimespans {
  const { batch: B, steps: L } = layout;
  const rows = new Float64Array(L * B);
  if (ts === undefined || ts === null) {
    rows.fill(1);
    return { kind: "default", rows, shape: [] };
  }
  if (typeof ts === "number") {
    if (!Number.isFinite(ts)) throw new Error(`${name}: expected a finite number, got ${ts}`);
    rows.fill(ts);
    return { kind: "scalar", rows, shape: [] };
  }
  const s = [...ts.shape];
  const d = ts.data;
  const eq = (...want: number[]) => s.length === want.length && s.every((v, i) => v === want[i]);
  const shared = (): ResolvedTimespans => {
    for (let t = 0; t < L; t++) rows.fill(d[t], t * B, (t + 1) * B);
    return { kind: "shared", rows, shape: s };
  };
  if (layout.unbatched) {
    if (eq(L) || eq(L, 1)) return shared();
    throw new Error(`${name}: expected shape [${L}] or [${L}, 1] for an unbatched input of ${L} steps, got ${shapeString(s)}`);
  }
  if (layout.batchFirst) {
    if (eq(B, L) || eq(B, L, 1)) {
      for (let t = 0; t < L; t++) for (let b = 0; b < B; b++) rows[t * B + b] = d[b * L + t];
      return { kind: "per_sample", rows, shape: s };
    }
    if (eq(1, L) || eq(1, L, 1) || eq(L)) return shared();
    throw new Error(`${name}: expected shape [${B}, ${L}] or [${B}, ${L}, 1] (per sample) or [1, ${L}] or [${L}] (shared by the batch) for batch-first input with B=${B}, L=${L}; got ${shapeString(s)}`);
  }
  if (eq(L, B) || eq(L, B, 1)) {
    rows.set(d.subarray(0, L * B));
    return { kind: "per_sample", rows, shape: s };
  }
  if (eq(L, 1) || eq(L, 1, 1) || eq(L)) return shared();
  throw new Error(`${name}: expected shape [${L}, ${B}] or [${L}, ${B}, 1] (per sample) or [${L}, 1] or [${L}] (shared by the batch) for time-major input with L=${L}, B=${B}; got ${shapeString(s)}`);
}

/** Maps per-row gradients back to the layout the user gave the timespans in. */
export function timespansGrad(resolved: ResolvedTimespans, dRows: FloatArray, layout: SequenceLayout, dtype: "float32" | "float64"): Tensor | undefined {
  if (resolved.kind === "default" || resolved.kind === "scalar") return undefined;
  const { batch: B, steps: L } = layout;
  const out = dtype === "float64" ? new Float64Array(numel(resolved.shape)) : new Float32Array(numel(resolved.shape));
  if (resolved.kind === "shared") {
    for (let t = 0; t < L; t++) {
      let s = 0;
      for (let b = 0; b < B; b++) s += dRows[t * B + b];
      out[t] = s;
    }
  } else if (layout.batchFirst) {
    for (let t = 0; t < L; t++) for (let b = 0; b < B; b++) out[b * L + t] = dRows[t * B + b];
  } else {
    out.set(dRows.subarray(0, L * B));
  }
  return { shape: resolved.shape, data: out };
}

/** Checks an initial state tensor: (B, size) batched or (size) unbatched. */
export function checkState(t: Tensor, layout: SequenceLayout, size: number, name: string): void {
  const want = layout.unbatched ? [size] : [layout.batch, size];
  const ok = t.shape.length === want.length && t.shape.every((v, i) => v === want[i]);
  if (!ok) throw new Error(`${name}: expected shape ${shapeString(want)}, got ${shapeString(t.shape)}`);
}

export function checkFiniteInputs(x: Tensor, ts: Tensor | number | undefined | null, hx: Tensor[]): void {
  assertFinite(x, "input");
  if (ts !== undefined && ts !== null) {
    if (typeof ts === "number") {
      if (!Number.isFinite(ts)) throw new Error(`timespans: non-finite value ${ts}`);
    } else assertFinite(ts, "timespans");
  }
  hx.forEach((h, i) => assertFinite(h, i === 0 ? "hx" : "hx.c"));
}

/** One step of a single-step cell (CfCCell, WiredCfCCell) as a batch-first sequence of length one. */
export interface CellStep {
  batched: boolean;
  batch: number;
  /** (B, 1, I) */
  x: Tensor;
  /** (B, S), absent for zeros */
  hx?: Tensor;
  /** a number, or (B, 1) */
  timespans: Tensor | number;
}

/**
 * A cell step's arguments, ncps style: input (B, I) or unbatched (I); hx (B, S) / (S) or absent (zeros);
 * ts a number or one value per sample, (B) / (B, 1).
 */
export function resolveCellStep(
  given: TensorInput,
  inputSize: number,
  hxGiven: TensorInput | null | undefined,
  stateSize: number,
  tsGiven: number | TensorInput,
  dtype: DType = "float32",
): CellStep {
  const input = asTensor(given, "input", dtype);
  const hx = hxGiven === null || hxGiven === undefined ? hxGiven : asTensor(hxGiven, "hx", dtype);
  const ts = typeof tsGiven === "number" ? tsGiven : asTensor(tsGiven, "ts", dtype);
  const s = input.shape;
  const batched = s.length === 2;
  if (!(s.length === 1 || s.length === 2) || s[s.length - 1] !== inputSize) {
    throw new Error(`input: expected shape [B, ${inputSize}] or [${inputSize}], got ${shapeString(s)}`);
  }
  const B = batched ? s[0] : 1;
  const step: CellStep = { batched, batch: B, x: { shape: [B, 1, inputSize], data: input.data }, timespans: ts as number };
  if (hx) {
    const want = batched ? [B, stateSize] : [stateSize];
    if (hx.shape.join() !== want.join()) throw new Error(`hx: expected shape ${shapeString(want)}, got ${shapeString(hx.shape)}`);
    step.hx = { shape: [B, stateSize], data: hx.data };
  }
  if (typeof ts !== "number") {
    const ok = (batched && (ts.shape.join() === `${B}` || ts.shape.join() === `${B},1`)) || (!batched && ts.data.length === 1);
    if (!ok) throw new Error(`ts: expected a number or shape [${B}] / [${B}, 1], got ${shapeString(ts.shape)}`);
    step.timespans = { shape: [B, 1], data: ts.data };
  }
  return step;
}
