/**
 * A command's CSV output, written as it is produced: rows are formatted piece by piece and each piece
 * goes to the file (atomically: a temporary file renamed when complete) or to stdout before the next
 * is made, so the output of a million rows is never one string in memory.
 */
import { writeChunksAtomic } from "../io/atomic.js";
import { type CsvCell, csvPieces } from "../io/csv.js";
import type { CliIO } from "./util.js";

/** Rows 0..count-1, each made by `row` when the writer reaches it. */
export function* rowsOf(count: number, row: (r: number) => CsvCell[]): Generator<CsvCell[]> {
  for (let r = 0; r < count; r++) yield row(r);
}

/** Writes the table to `out`, or to stdout when `out` is undefined. */
export function writeCsvOutput(out: string | undefined, header: readonly string[], rows: Iterable<readonly CsvCell[]>, io: CliIO): void {
  const pieces = csvPieces(header, rows);
  if (out) writeChunksAtomic(out, pieces);
  else for (const piece of pieces) io.out(piece);
}
