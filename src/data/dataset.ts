/**
 * The in-memory form every data source is turned into before training: fixed-length sequences
 * (batch-first, padded), elapsed times, targets per step or per sequence, and masks saying which steps
 * are real and which carry a label. Loaders (CSV, .npy, the paper's tasks) produce it; the trainer
 * consumes it.
 */
export type Task = "regress" | "classify";
/** per_step: a target at each step (where targetMask says so); last: one target per sequence. */
export type TargetMode = "per_step" | "last";

export interface SequenceDataset {
  /** number of sequences N */
  readonly size: number;
  /** steps per sequence L (shorter sequences are padded at the end) */
  readonly steps: number;
  /** input features F per step */
  readonly features: number;
  /** N x L x F */
  readonly x: Float32Array;
  /** N x L elapsed time before each step; null = 1.0 everywhere */
  readonly timespans: Float32Array | null;
  /** real (unpadded) length of each sequence; null = all have L steps */
  readonly lengths: Int32Array | null;
  readonly task: Task;
  readonly targetMode: TargetMode;
  /**
   * regress: N x L x T (per_step) or N x T (last) values; classify: class indices as floats,
   * N x L (per_step) or N (last).
   */
  readonly y: Float32Array;
  /** regress: T target columns; classify: 1 */
  readonly targets: number;
  /** classify: number of classes */
  readonly numClasses: number;
  /** per_step: N x L, 1 where the step carries a label (and is not padding); null = every real step */
  readonly targetMask: Uint8Array | null;
  readonly featureNames?: readonly string[];
  readonly targetNames?: readonly string[];
}

/** Index of the step whose output is the sequence-level prediction: the last real step. */
export function readoutStep(ds: SequenceDataset, i: number): number {
  return ds.lengths ? ds.lengths[i] - 1 : ds.steps - 1;
}

/** Checks internal consistency; throws naming the field, expected and actual sizes. */
export function validateDataset(ds: SequenceDataset, name = "dataset"): void {
  const { size: N, steps: L, features: F } = ds;
  const want = (field: string, got: number, expected: number) => {
    if (got !== expected) throw new Error(`${name}: ${field} has ${got} values, expected ${expected}`);
  };
  if (!(N > 0 && L > 0 && F > 0)) throw new Error(`${name}: size, steps and features must be positive, got ${N}, ${L}, ${F}`);
  want("x", ds.x.length, N * L * F);
  if (ds.timespans) want("timespans", ds.timespans.length, N * L);
  if (ds.lengths) {
    want("lengths", ds.lengths.length, N);
    ds.lengths.forEach((l, i) => {
      if (!(l >= 1 && l <= L)) throw new Error(`${name}: sequence ${i} has length ${l}, expected 1..${L}`);
    });
  }
  const perStep = ds.targetMode === "per_step";
  if (ds.task === "regress") want("y", ds.y.length, (perStep ? N * L : N) * ds.targets);
  else {
    want("y", ds.y.length, perStep ? N * L : N);
    if (!(ds.numClasses >= 2)) throw new Error(`${name}: classification needs numClasses >= 2, got ${ds.numClasses}`);
  }
  if (ds.targetMask) want("targetMask", ds.targetMask.length, N * L);
}

/** Real (unpadded) steps of sequence i. */
function realSteps(ds: SequenceDataset, i: number): number {
  return ds.lengths ? ds.lengths[i] : ds.steps;
}

/** Labels a dataset holds: labelled real steps (per_step) or sequences (last). */
export function labelledCount(ds: SequenceDataset): number {
  if (ds.targetMode === "last") return ds.size;
  let count = 0;
  for (let i = 0; i < ds.size; i++) {
    const L = realSteps(ds, i);
    if (!ds.targetMask) count += L;
    else for (let t = 0; t < L; t++) count += ds.targetMask[i * ds.steps + t];
  }
  return count;
}

/**
 * Input columns never observed anywhere in the dataset: those whose observation-mask feature
 * (`<name>_observed`, as the loaders add them) is 0 at every real step.
 */
export function unobservedInputs(ds: SequenceDataset): string[] {
  const names = ds.featureNames ?? [];
  const out: string[] = [];
  names.forEach((name, k) => {
    if (!name.endsWith("_observed") || !names.includes(name.slice(0, -"_observed".length))) return;
    for (let i = 0; i < ds.size; i++) {
      for (let t = 0; t < realSteps(ds, i); t++) if (ds.x[(i * ds.steps + t) * ds.features + k] !== 0) return;
    }
    out.push(name.slice(0, -"_observed".length));
  });
  return out;
}
