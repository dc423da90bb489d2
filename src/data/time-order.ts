/**
 * Putting the rows of each sequence in time order, and what to do with rows of one sequence at the
 * same time (`--duplicate-times`): "merge" them into one step (the default: several readings of one
 * instant, e.g. hourly weather records that repeat an hour), "keep" them as separate steps with zero
 * elapsed time between them, or refuse them ("error").
 */
import type { TimeColumn } from "./time-parse.js";

export type DuplicateTimes = "merge" | "keep" | "error";
export const DUPLICATE_TIMES: readonly DuplicateTimes[] = ["merge", "keep", "error"];

export interface TimeGroup {
  readonly name: string;
  /** data rows; on return, in time order (and with merged runs replaced by one row) */
  rows: number[];
}

export interface OrderSummary {
  /** groups whose rows were not in time order */
  readonly unsorted: TimeGroup[];
  /** rows folded into another row's step ("merge") */
  readonly mergedRows: number;
  /** steps that hold more than one row ("merge") */
  readonly mergedSteps: number;
  /** steps kept at the same time as the step before ("keep") */
  readonly zeroGaps: number;
}

/**
 * Sorts each group's rows by time (stable: rows at one time keep their file order) and handles runs of
 * equal times. `merge(run)` folds a run of rows (in order) into one and returns the row that stands for
 * it; `refuse(group, a, b)` returns the error for rows a and b at one time.
 */
export function orderByTime(
  groups: TimeGroup[],
  times: TimeColumn,
  mode: DuplicateTimes,
  merge: (run: number[]) => number,
  refuse: (g: TimeGroup, a: number, b: number) => Error,
): OrderSummary {
  const unsorted: TimeGroup[] = [];
  let mergedRows = 0;
  let mergedSteps = 0;
  let zeroGaps = 0;
  for (const g of groups) {
    const inOrder = g.rows.every((row, i) => i === 0 || times.compare(g.rows[i - 1], row) <= 0);
    if (!inOrder) {
      unsorted.push(g);
      g.rows.sort((a, b) => times.compare(a, b));
    }
    let hasRun = false;
    for (let i = 1; i < g.rows.length && !hasRun; i++) hasRun = times.compare(g.rows[i - 1], g.rows[i]) === 0;
    if (!hasRun) continue;
    if (mode === "error") {
      for (let i = 1; i < g.rows.length; i++) if (times.compare(g.rows[i - 1], g.rows[i]) === 0) throw refuse(g, g.rows[i - 1], g.rows[i]);
    }
    if (mode === "keep") {
      for (let i = 1; i < g.rows.length; i++) if (times.compare(g.rows[i - 1], g.rows[i]) === 0) zeroGaps++;
      continue;
    }
    const out: number[] = [];
    for (let i = 0; i < g.rows.length; ) {
      let j = i + 1;
      while (j < g.rows.length && times.compare(g.rows[i], g.rows[j]) === 0) j++;
      if (j - i === 1) out.push(g.rows[i]);
      else {
        out.push(merge(g.rows.slice(i, j)));
        mergedRows += j - i - 1;
        mergedSteps++;
      }
      i = j;
    }
    g.rows = out;
  }
  return { unsorted, mergedRows, mergedSteps, zeroGaps };
}
