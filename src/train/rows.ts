/**
 * Argument checks shared by losses and metrics, which all take values laid out as `n` rows by `c`
 * columns plus an optional 0/1 row mask.
 */

export type RowMask = ArrayLike<number>;

export function checkDims(where: string, n: number, c: number): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`${where}: row count n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(c) || c < 1) throw new Error(`${where}: column count c must be a positive integer, got ${c}`);
}

export function checkLength(where: string, what: string, values: ArrayLike<number> | undefined, expected: number, layout: string): void {
  if (!values || typeof values.length !== "number") throw new Error(`${where}: ${what} must be an array of numbers`);
  if (values.length !== expected) throw new Error(`${where}: ${what} has length ${values.length}, expected ${expected} (${layout})`);
}

/** Returns a predicate telling whether a row counts, after checking every mask entry is 0 or 1. */
export function rowCounts(where: string, mask: RowMask | undefined, n: number): (row: number) => boolean {
  if (mask === undefined) return () => true;
  checkLength(where, "mask", mask, n, "one entry per row");
  for (let i = 0; i < n; i++) {
    const m = mask[i];
    if (m !== 0 && m !== 1) throw new Error(`${where}: mask[${i}] must be 0 or 1, got ${m}`);
  }
  return (row) => mask[row] === 1;
}
