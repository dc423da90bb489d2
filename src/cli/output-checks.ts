/**
 * Non-finite model outputs are a failure of `predict` and `eval`, never a result: a NaN or infinite
 * output is counted and reported (exit 1), or with --allow-nan only warned about.
 */
import type { SequenceDataset } from "../data/dataset.js";
import type { FloatArray } from "../tensor.js";

export interface NonFiniteOutputs {
  /** non-finite output values at real (unpadded) steps */
  count: number;
  /** of this many output values at real steps */
  total: number;
  /** per prediction slot (sample, or sample x step in per_step mode): 1 where an output is not finite, else 0 */
  flags: Float64Array;
  /** the first slot's sample and step (step null in "last" mode), or null */
  first: { sample: number; step: number | null } | null;
}

/** Counts the non-finite values of `outputs` laid out as predictDataset gives them; padding is ignored. */
export function findNonFiniteOutputs(outputs: FloatArray, ds: SequenceDataset, width: number): NonFiniteOutputs {
  const perStep = outputs.length === ds.size * ds.steps * width;
  const L = perStep ? ds.steps : 1;
  const flags = new Float64Array(ds.size * L);
  let count = 0;
  let total = 0;
  let first: NonFiniteOutputs["first"] = null;
  for (let n = 0; n < ds.size; n++) {
    const real = perStep ? (ds.lengths ? ds.lengths[n] : ds.steps) : 1;
    for (let t = 0; t < real; t++) {
      const slot = n * L + t;
      for (let k = 0; k < width; k++) {
        total++;
        if (Number.isFinite(outputs[slot * width + k])) continue;
        count++;
        flags[slot] = 1;
        first ??= { sample: n, step: perStep ? t : null };
      }
    }
  }
  return { count, total, flags, first };
}

/** "3 of 120 output values are not finite (NaN or infinite)" */
export function describeNonFinite(found: NonFiniteOutputs): string {
  return `${found.count} of ${found.total} output values are not finite (NaN or infinite)`;
}

/** The first flagged entry of per-row (or per-sequence) flags, NaN meaning not covered; -1 if none. */
export function firstFlagged(flags: ArrayLike<number>): number {
  for (let i = 0; i < flags.length; i++) if (flags[i] === 1) return i;
  return -1;
}

/** The samples of `ds` none of whose outputs is flagged (a copy); for scoring what is finite. */
export function samplesWithFiniteOutputs(ds: SequenceDataset, found: NonFiniteOutputs): SequenceDataset {
  const per = found.flags.length / ds.size;
  const keep: number[] = [];
  for (let n = 0; n < ds.size; n++) if (!found.flags.subarray(n * per, (n + 1) * per).includes(1)) keep.push(n);
  const L = ds.steps;
  const yPer = ds.y.length / ds.size;
  const take = <A extends Float32Array | Int32Array | Uint8Array>(a: A, width: number): A => {
    const out = new (a.constructor as new (n: number) => A)(keep.length * width);
    keep.forEach((n, i) => out.set(a.subarray(n * width, (n + 1) * width), i * width));
    return out;
  };
  return {
    ...ds,
    size: keep.length,
    x: take(ds.x, L * ds.features),
    timespans: ds.timespans ? take(ds.timespans, L) : null,
    lengths: ds.lengths ? take(ds.lengths, 1) : null,
    y: take(ds.y, yPer),
    targetMask: ds.targetMask ? take(ds.targetMask, L) : null,
  };
}
