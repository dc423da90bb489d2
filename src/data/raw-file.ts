/**
 * A data file read into raw rows: per row its feature values (numbers, or codes of categorical
 * values; NaN = missing), its target cells and its exact time, and the rows of each sequence in time
 * order. Two readers produce it: a wide CSV (one row per observation time, one column per variable)
 * and a long table pivoted to that shape (see long-format.ts). Everything after this (splitting,
 * vocabularies, scaling, windows) is the same for both.
 */
import { type CsvColumns, type CsvText, detectSeparator, parseCsvColumns } from "../io/csv.js";
import type { Task } from "./dataset.js";
import { type MissingTokens, canonicalText, cellWhere, decimalValue, isDecimal, isInfinity } from "./cells.js";
import { CategoryCodes, type CategoricalColumn, type ColumnKind, type FeatureLayout, chooseColumnKinds, textInNumericColumn } from "./categorical.js";
import type { PivotTable } from "./long-format.js";
import { type DuplicateTimes, type TimeGroup, orderByTime } from "./time-order.js";
import { type TimeColumn, type TimeFormat, type TimeUnit, parseTimeBin, readTimeColumn } from "./time-parse.js";

export interface Group extends TimeGroup {
  /** sequence id ("" when the file is one sequence) */
  readonly name: string;
}

export interface RawFile {
  /** the file (or directory) name, for messages */
  readonly fileName: string;
  /** "file line N" of a raw row, for messages */
  where(row: number): string;
  readonly rowCount: number;
  /** rows x F: numbers, or category codes (see categorical.ts); NaN = missing */
  readonly features: Float64Array;
  /** rows x T regression targets, NaN = missing; null for classification */
  readonly numbers: Float64Array | null;
  /** per row canonical class label, "" = missing; null for regression */
  readonly labels: string[] | null;
  readonly times: TimeColumn | null;
  readonly groups: Group[];
  /** "sequence 'p7'" or "the file" */
  describe(g: Group): string;
  /**
   * Per data row of the input (what predict writes one line for): the raw row whose step answers for
   * it. Differs from the identity when rows were merged (same time) or pivoted (long format).
   */
  readonly inputToRow: Int32Array;
  /** per input row: file and line (the file only differs for a directory of long-format files) */
  readonly inputFile: readonly string[] | null;
  readonly inputLines: readonly number[];
  /** The wide file's own cells (kept compact), for writing them back next to predictions; null for long format. */
  readonly table: CsvColumns | null;
}

/** How cells are read: the choices shared by the training file and any file read later. */
export interface ReadSettings {
  readonly task: Task;
  readonly targets: readonly string[];
  /** the target columns come from an outcomes file, not from this one */
  readonly targetsElsewhere: boolean;
  readonly allowMissingTarget: boolean;
  readonly time?: string;
  readonly sequence?: string;
  readonly missing: MissingTokens;
  readonly separator?: string;
  readonly timeUnit?: TimeUnit;
  readonly timeFormat?: TimeFormat;
  readonly timeBin?: string;
  readonly duplicateTimes: DuplicateTimes;
  readonly note: (m: string) => void;
  readonly warn: (m: string) => void;
}

const quote = (s: string): string => JSON.stringify(s);

function describer(hasSequences: boolean): (g: Group) => string {
  return (g) => (hasSequences ? `sequence ${quote(g.name)}` : "the file");
}

// ---------------------------------------------------------------------------------------------
// Wide CSV

export interface WideColumns {
  /** input columns; undefined = every other column */
  readonly features?: readonly string[];
  /** --categorical / --numeric, or a trained model's vocabularies */
  readonly categorical?: readonly string[];
  readonly numeric?: readonly string[];
  readonly trained?: readonly CategoricalColumn[];
}

/**
 * Reads a wide CSV. `layout` is the training file's (for a validation file): its columns, kinds and
 * category codes are reused so both files encode alike.
 */
export function readWide(text: CsvText, fileName: string, s: ReadSettings, cols: WideColumns, layout?: FeatureLayout): { raw: RawFile; layout: FeatureLayout } {
  const table = parseCsvColumns(text, fileName, { separator: s.separator ?? detectSeparator(text), trimColumnNames: true });
  if (table.rowCount === 0) throw new Error(`${fileName}: no data rows (the file has only a header)`);
  const found = findColumns(table, fileName, s, layout ? layout.columns : cols.features);
  let kinds: readonly ColumnKind[];
  let advice: readonly string[];
  let codes: readonly (CategoryCodes | null)[];
  if (layout) {
    kinds = layout.kinds;
    codes = layout.codes;
    advice = kinds.map(() => "the training file has this column numeric");
  } else {
    const choice = chooseColumnKinds(table, fileName, found.features, s.missing, cols);
    choice.notes.forEach(s.note);
    kinds = choice.kinds;
    advice = choice.textAdvice;
    codes = kinds.map((k) => (k === "categorical" ? new CategoryCodes() : null));
  }
  const featureNames = found.features.map((k) => table.header[k]);
  const R = table.rowCount;
  const F = found.features.length;
  const T = s.targets.length;
  const features = new Float64Array(R * F);
  const numbers = s.task === "regress" ? new Float64Array(R * T).fill(NaN) : null;
  const labels = s.task === "classify" ? new Array<string>(R).fill("") : null;
  const groupOf = new Map<string, Group>();
  const groups: Group[] = [];
  const where = (r: number, k: number): string => cellWhere(fileName, table.lineNumbers[r], table.header[k]);

  // A cell written as a plain number is read from its stored number unless a missing token is a number too.
  const numbersAsWritten = !s.missing.list.some((t) => isDecimal(t));
  const plainNumber = (r: number, k: number): number | undefined => (numbersAsWritten ? table.columns[k].number(r) : undefined);
  // One pass in file order, so the first bad cell is the one reported.
  for (let r = 0; r < R; r++) {
    found.features.forEach((k, f) => {
      const stored = codes[f] ? undefined : plainNumber(r, k);
      if (stored !== undefined) {
        features[r * F + f] = stored;
        return;
      }
      const cell = table.cell(r, k);
      if (s.missing.isMissing(cell)) features[r * F + f] = NaN;
      else if (codes[f]) features[r * F + f] = codes[f]!.code(cell);
      else features[r * F + f] = numericCell(cell, fileName, table, r, k, advice[f]);
    });
    if (found.targets) {
      if (numbers) {
        found.targets.forEach((k, j) => {
          const stored = plainNumber(r, k);
          if (stored !== undefined) {
            numbers[r * T + j] = stored;
            return;
          }
          const cell = table.cell(r, k);
          numbers[r * T + j] = s.missing.isMissing(cell) ? NaN : numericCell(cell, fileName, table, r, k, "a regression target must be a number; pass --task classify to predict classes");
        });
      }
      if (labels) {
        const cell = table.cell(r, found.targets[0]);
        labels[r] = s.missing.isMissing(cell) ? "" : canonicalText(cell);
      }
    }
    const id = found.sequence === null ? "" : table.cell(r, found.sequence).trim();
    if (found.sequence !== null && id === "") throw new Error(`${where(r, found.sequence)}: empty sequence id (--sequence ${table.header[found.sequence]})`);
    let g = groupOf.get(id);
    if (!g) {
      g = { name: id, rows: [] };
      groupOf.set(id, g);
      groups.push(g);
    }
    g.rows.push(r);
  }

  let times: TimeColumn | null = null;
  if (found.time !== null) {
    const kt = found.time;
    times = readTimeColumn(
      R,
      (r) => {
        const cell = table.cell(r, kt);
        return s.missing.isMissing(cell) ? undefined : cell;
      },
      (r) => where(r, kt),
      { unit: s.timeUnit, expect: s.timeFormat },
    );
    if (s.timeBin !== undefined) times = times.binned(parseTimeBin(s.timeBin));
  }
  const inputToRow = Int32Array.from({ length: R }, (_, r) => r);
  const raw: RawFile = {
    fileName,
    where: (r) => `${fileName} line ${table.lineNumbers[r]}`,
    rowCount: R,
    features,
    numbers,
    labels,
    times,
    groups,
    describe: describer(found.sequence !== null),
    inputToRow,
    inputFile: null,
    inputLines: Array.from(table.lineNumbers),
    table,
  };
  if (times) {
    const timeName = table.header[found.time!];
    orderRows(raw, s, F, codes, (g, a, b) =>
      new Error(
        `${fileName} lines ${table.lineNumbers[a]} and ${table.lineNumbers[b]}: ${raw.describe(g)} has two rows at the same time ` +
          `(column ${quote(timeName)}: ${quote(table.cell(a, found.time!))})${s.timeBin !== undefined ? ` (after --time-bin ${s.timeBin})` : ""}; ` +
          `pass --duplicate-times merge to average them into one step, or --duplicate-times keep to keep both with zero elapsed time`,
      ),
      timeName,
    );
  }
  return { raw, layout: layout ?? { columns: featureNames, kinds, codes } };
}

/** A numeric cell that is not missing; errors name the cell and what would change the reading. */
function numericCell(cell: string, fileName: string, table: CsvColumns, r: number, k: number, advice: string): number {
  const v = decimalValue(cell);
  if (v !== undefined) return v;
  const line = table.lineNumbers[r];
  if (isInfinity(cell)) throw new Error(`${cellWhere(fileName, line, table.header[k])}: ${quote(cell)} is not a finite number (pass --na-values to read it as missing)`);
  throw textInNumericColumn(fileName, line, table.header[k], cell, advice);
}

interface FoundColumns {
  features: number[];
  /** null when the file has no target columns (allowed for prediction, or targets from an outcomes file) */
  targets: number[] | null;
  time: number | null;
  sequence: number | null;
}

function columnIndex(table: { readonly header: string[] }, fileName: string, name: string, flag: string): number {
  const k = table.header.indexOf(name);
  if (k < 0) throw new Error(`${fileName}: no column ${quote(name)} (columns: ${table.header.join(", ")}); ${flag} names it`);
  return k;
}

/** The column of every role, checked: targets, time, sequence, features. */
function findColumns(table: { readonly header: string[] }, fileName: string, s: ReadSettings, featureList: readonly string[] | undefined): FoundColumns {
  const names = s.targets;
  const present = names.map((t) => table.header.includes(t));
  let targets: number[] | null;
  if (s.targetsElsewhere) targets = null;
  else if (present.every(Boolean)) targets = names.map((t) => table.header.indexOf(t));
  else if (s.allowMissingTarget && !present.some(Boolean)) targets = null;
  else {
    const missing = names.find((_, i) => !present[i])!;
    throw new Error(`${fileName}: no column ${quote(missing)} (columns: ${table.header.join(", ")}); --target names it`);
  }
  const time = s.time === undefined ? null : columnIndex(table, fileName, s.time, "--time");
  const sequence = s.sequence === undefined ? null : columnIndex(table, fileName, s.sequence, "--sequence");
  if (time !== null && time === sequence) throw new Error(`${fileName}: column ${quote(s.time!)} cannot be both the time and the sequence column`);
  for (const [role, k] of [["time", time], ["sequence", sequence]] as const) {
    if (k !== null && !s.targetsElsewhere && names.includes(table.header[k])) {
      throw new Error(`${fileName}: column ${quote(table.header[k])} cannot be both a target and the ${role} column`);
    }
  }
  let featureNames: string[];
  if (featureList !== undefined) {
    featureNames = [...featureList];
    for (const f of featureNames) {
      columnIndex(table, fileName, f, "--features");
      if (f === s.time || f === s.sequence) throw new Error(`${fileName}: column ${quote(f)} cannot be both a feature and the ${f === s.time ? "time" : "sequence"} column`);
    }
    const dup = featureNames.find((f, i) => featureNames.indexOf(f) !== i);
    if (dup !== undefined) throw new Error(`${fileName}: feature column ${quote(dup)} is listed twice`);
  } else {
    const reserved = new Set<string | undefined>([...(s.targetsElsewhere ? [] : names), s.time, s.sequence]);
    featureNames = table.header.filter((h) => !reserved.has(h));
  }
  if (featureNames.length === 0) {
    throw new Error(`${fileName}: no feature columns: every column is a target, time or sequence column (columns: ${table.header.join(", ")})`);
  }
  return { features: featureNames.map((f) => table.header.indexOf(f)), targets, time, sequence };
}

// ---------------------------------------------------------------------------------------------
// Time order and duplicate times

/**
 * Sorts every sequence's rows by time and handles rows at one time per --duplicate-times; merged rows
 * are folded into the first of them (numbers averaged over the non-missing cells, categories and
 * class labels the last non-missing one) and answer with its step.
 */
function orderRows(raw: RawFile, s: ReadSettings, F: number, codes: readonly (CategoryCodes | null)[], refuse: (g: Group, a: number, b: number) => Error, timeName: string): void {
  const T = raw.numbers ? s.targets.length : 0;
  const merge = (run: number[]): number => {
    const keep = run[0];
    for (let f = 0; f < F; f++) raw.features[keep * F + f] = fold(run.map((r) => raw.features[r * F + f]), codes[f] !== null);
    for (let j = 0; j < T; j++) raw.numbers![keep * T + j] = fold(run.map((r) => raw.numbers![r * T + j]), false);
    if (raw.labels) {
      for (let i = run.length - 1; i >= 0; i--) {
        if (raw.labels[run[i]] !== "") {
          raw.labels[keep] = raw.labels[run[i]];
          break;
        }
      }
    }
    for (const r of run) if (r !== keep) raw.inputToRow[r] = keep;
    return keep;
  };
  const summary = orderByTime(raw.groups, raw.times!, s.duplicateTimes, merge, refuse);
  if (summary.unsorted.length > 0) {
    const u = summary.unsorted;
    const which = raw.groups.length === 1 && raw.groups[0].name === "" ? "the rows" : `the rows of ${u.length} sequence(s) (${u.slice(0, 5).map((g) => quote(g.name)).join(", ")}${u.length > 5 ? ", ..." : ""})`;
    s.warn(`${raw.fileName}: ${which} were not in time order; sorted by ${quote(timeName)}`);
  }
  if (summary.mergedRows > 0) {
    s.note(`${raw.fileName}: merged ${summary.mergedRows} row(s) that repeat a time of their sequence into ${summary.mergedSteps} step(s) (numbers averaged, text the last value; --duplicate-times keep or error to change this)`);
  }
  if (summary.zeroGaps > 0) s.note(`${raw.fileName}: kept ${summary.zeroGaps} row(s) at the same time as the row before, with zero elapsed time (--duplicate-times keep)`);
}

/** Mean of the non-missing values, or (categories) the last non-missing one; NaN when all are missing. */
function fold(values: number[], last: boolean): number {
  let sum = 0;
  let n = 0;
  let latest = NaN;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    sum += v;
    n++;
    latest = v;
  }
  if (n === 0) return NaN;
  return last ? latest : sum / n;
}

// ---------------------------------------------------------------------------------------------
// Long format (pivoted)

/**
 * The raw rows of a pivoted long table: one per step, its variables as columns. Targets may be
 * variables too (read per step) or come from an outcomes file.
 */
export function rawFromPivot(p: PivotTable, label: string, s: ReadSettings, featureList: readonly string[] | undefined): { raw: RawFile; layout: FeatureLayout } {
  const column = (name: string, flag: string): number => {
    const k = p.variables.indexOf(name);
    if (k < 0) throw new Error(`${label}: no variable ${quote(name)} in the ${s.targetsElsewhere ? "data" : "long table"} (variables: ${p.variables.slice(0, 40).join(", ")}${p.variables.length > 40 ? ", ..." : ""}); ${flag} names it`);
    return k;
  };
  let targets: number[] | null = null;
  if (!s.targetsElsewhere) {
    const present = s.targets.map((t) => p.variables.includes(t));
    if (present.every(Boolean)) targets = s.targets.map((t) => column(t, "--target"));
    else if (!(s.allowMissingTarget && !present.some(Boolean))) column(s.targets.find((_, i) => !present[i])!, "--target (or --outcomes FILE for per-sequence targets)");
  }
  const featureNames = featureList !== undefined ? [...featureList] : p.variables.filter((v) => !(targets ?? []).includes(p.variables.indexOf(v)));
  const featureIdx = featureNames.map((f) => column(f, "--features"));
  if (featureNames.length === 0) throw new Error(`${label}: no feature variables: every variable is a target`);
  const V = p.variables.length;
  const R = p.record.length;
  const F = featureIdx.length;
  const T = s.targets.length;
  const features = new Float64Array(R * F);
  for (let r = 0; r < R; r++) for (let f = 0; f < F; f++) features[r * F + f] = p.values[r * V + featureIdx[f]];
  const numbers = s.task === "regress" ? new Float64Array(R * T).fill(NaN) : null;
  const labels = s.task === "classify" ? new Array<string>(R).fill("") : null;
  if (targets) {
    for (let r = 0; r < R; r++) {
      if (numbers) targets.forEach((k, j) => (numbers[r * T + j] = p.values[r * V + k]));
      if (labels) {
        const v = p.values[r * V + targets[0]];
        labels[r] = Number.isNaN(v) ? "" : String(v);
      }
    }
  }
  const groups: Group[] = p.records.map((rec) => ({ name: rec.id, rows: [] }));
  for (let r = 0; r < R; r++) groups[p.record[r]].rows.push(r);
  const empty = groups.filter((g) => g.rows.length === 0);
  if (empty.length > 0) s.note(`${label}: ${empty.length} record(s) without measurements left out (${empty.slice(0, 5).map((g) => quote(g.name)).join(", ")}${empty.length > 5 ? ", ..." : ""})`);
  const raw: RawFile = {
    fileName: label,
    where: (r) => p.where[r],
    rowCount: R,
    features,
    numbers,
    labels,
    times: p.times,
    groups: groups.filter((g) => g.rows.length > 0),
    describe: (g) => `record ${quote(g.name)}`,
    inputToRow: p.inputStep,
    inputFile: p.inputFile,
    inputLines: p.inputLine,
    table: null,
  };
  // Pivoted steps are unique per record and time; sorting puts them in time order.
  orderRows(raw, { ...s, duplicateTimes: "error" }, F, featureIdx.map(() => null), () => new Error("unreachable: pivoted steps share a time"), "time");
  return { raw, layout: { columns: featureNames, kinds: featureNames.map(() => "numeric"), codes: featureNames.map(() => null) } };
}
