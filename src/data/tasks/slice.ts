/** The first `n` sequences of a dataset (all of it when n is undefined or not smaller). */
import type { SequenceDataset } from "../dataset.js";

export function firstSequences(ds: SequenceDataset, n: number | undefined): SequenceDataset {
  if (n === undefined || n >= ds.size) return ds;
  const L = ds.steps;
  const perStep = ds.targetMode === "per_step";
  const yWidth = (perStep ? L : 1) * (ds.task === "regress" ? ds.targets : 1);
  return {
    ...ds,
    size: n,
    x: ds.x.slice(0, n * L * ds.features),
    timespans: ds.timespans ? ds.timespans.slice(0, n * L) : null,
    lengths: ds.lengths ? ds.lengths.slice(0, n) : null,
    y: ds.y.slice(0, n * yWidth),
    targetMask: ds.targetMask ? ds.targetMask.slice(0, n * L) : null,
  };
}
