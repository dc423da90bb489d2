/** First guesses for the column choices, from the header and the first rows of a CSV. */
import type { CsvTable } from "../src/index.js";

export interface ColumnGuess {
  readonly target: string;
  readonly task: "regress" | "classify";
  readonly time: string | null;
  readonly sequence: string | null;
  readonly features: string[];
}

const TIME_NAMES = /^(time|times|t|timestamp|date|datetime|elapsed|seconds|hours|charttime|step)$/i;
const SEQUENCE_NAMES = /^(id|sequence|seq|series|record|recordid|patient|patientid|subject|subjectid|unit|machine|group)$|_id$/i;
const TARGET_NAMES = /^(target|label|labels|y|class|outcome|memory)$/i;

function isNumber(cell: string): boolean {
  return cell.trim() !== "" && Number.isFinite(Number(cell));
}

/** Guesses from names first (time, id, target), then from what the cells hold. */
export function guessColumns(table: CsvTable): ColumnGuess {
  const { header, rows } = table;
  const sample = rows.slice(0, 500);
  const numeric = header.map((_, c) => sample.every((r) => r[c] === "" || isNumber(r[c])));
  const time = header.find((h) => TIME_NAMES.test(h)) ?? null;
  // A sequence column repeats its values over consecutive rows; a column of all-distinct values is no grouping.
  const sequence =
    header.find((h, c) => h !== time && SEQUENCE_NAMES.test(h) && new Set(sample.map((r) => r[c])).size < sample.length) ??
    header.find((h, c) => h !== time && !numeric[c] && new Set(sample.map((r) => r[c])).size < sample.length / 4 && c === 0) ??
    null;
  const others = header.filter((h) => h !== time && h !== sequence);
  const target = others.find((h) => TARGET_NAMES.test(h)) ?? others[others.length - 1] ?? header[header.length - 1];
  const c = header.indexOf(target);
  const distinct = new Set(sample.map((r) => r[c]).filter((v) => v !== "")).size;
  const task = !numeric[c] || (distinct <= 10 && /class|label|outcome/i.test(target)) ? "classify" : "regress";
  return { target, task, time, sequence, features: others.filter((h) => h !== target) };
}
