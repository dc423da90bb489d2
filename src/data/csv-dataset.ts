/**
 * CSV time series to {@link SequenceDataset}: the path from a user's file to `ncps train`.
 *
 * One row is one observation. Rows are grouped into series by an optional sequence column (one per
 * patient, machine, ...; in order of first appearance), put in time order by an optional time column
 * and turned into CfC inputs:
 *
 * - elapsed time: each step's gap to the previous row of the same series (the time column holds
 *   numbers or ISO 8601 dates; dates count in seconds). Rows are sorted by time within a series, so
 *   files need not be in order (a warning says when they were not); two rows of one series at the same
 *   time are an error, since a step needs a later time than the one before (merge such rows first).
 *   The first step of a series has no previous row and gets `firstElapsed` (default: the training
 *   median gap). All gaps are divided by `timeScale` (default: the training median gap, so a typical
 *   step lasts 1).
 * - missing feature cells (empty or "nan"): the last observed value of that column in the series
 *   (0, the training mean after scaling, before the first observation), plus one observation-mask
 *   feature per input column, 1 where the cell was present (the paper's mask mode; inputs are
 *   [values | masks]). `missingMask: "auto"` adds the masks only when some feature cell is missing.
 * - missing target cells: the step carries no label (targetMask 0). With several target columns a
 *   step is labelled only when all of them are present.
 * - scaling: per-feature (and, for regression, per-target) mean and standard deviation from the
 *   training split only, returned so the same transform can be applied to other data.
 * - windows: with `window`, each series is cut into windows of that many rows every `stride` rows
 *   (default: `window`, no overlap), plus one window ending at the last row when the regular ones stop
 *   short; a series shorter than the window is skipped with a warning (an error when none fits).
 *   Without `window`, each series is one sequence, padded to the longest, with `lengths`.
 * - validation: `validSplit` sends a seeded random fraction of the series to validation; a file with
 *   a single series is split in time instead (the last rows validate). Or pass a separate file.
 */
import * as fs from "node:fs";
import { parseCsv, parseNumberCell, parseTimeCell, type CsvTable } from "../io/csv.js";
import type { SequenceDataset, TargetMode, Task } from "./dataset.js";
import { checkNormalization, type Normalization } from "./normalization.js";
import {
  type Built,
  buildDataset,
  computeStatistics,
  lastLabelledStep,
  splitIndices,
  windowSegments,
  type Segment,
  type Series,
  type ShapeInfo,
} from "./series.js";

export interface CsvDatasetOptions {
  /** Target column name(s). Classification takes exactly one. */
  readonly target: string | readonly string[];
  /** Input columns; default: every column except the target, time and sequence columns. */
  readonly features?: readonly string[];
  /** Timestamp column: numbers (any unit) or ISO 8601 dates (read as seconds). */
  readonly time?: string;
  /** Column whose value tells which series a row belongs to. */
  readonly sequence?: string;
  /** Default "regress". */
  readonly task?: Task;
  /**
   * Default: "per_step" for regression; for classification "last" when a sequence column is given and
   * every series has a single label (sequence classification), otherwise "per_step".
   */
  readonly targetMode?: TargetMode;
  /** Cut each series into windows of this many rows. */
  readonly window?: number;
  /** Rows between window starts; default `window` (no overlap). */
  readonly stride?: number;
  /** Observation-mask features: "auto" (default) adds them only if some feature cell is missing. */
  readonly missingMask?: "auto" | boolean;
  /** Standardise features (and regression targets); default true. */
  readonly normalize?: boolean;
  /** Standardise regression targets; default `normalize`. */
  readonly normalizeTargets?: boolean;
  /** Unit elapsed times are divided by; default "median" (1 when `normalize` is false). */
  readonly timeScale?: "median" | number;
  /** Raw elapsed time of a series' first step; default "median". */
  readonly firstElapsed?: "median" | number;
  /** Fraction of series (or of the rows of a single series) held out for validation. */
  readonly validSplit?: number;
  /** Seed of the validation shuffle; default 0. */
  readonly seed?: number;
  /** A separate validation file (takes the place of `validSplit`). */
  readonly valid?: { readonly text: string; readonly fileName: string };
  /** Use these statistics (e.g. a trained model's) instead of computing them. */
  readonly normalization?: Normalization;
  /** Use this class list (e.g. a trained model's) instead of collecting it; other labels are errors. */
  readonly classes?: readonly string[];
  /**
   * Accept a file without the target column(s) (data to predict on): every step is then unlabelled,
   * and in "last" mode sequences without a label are kept (with target 0) rather than dropped.
   */
  readonly allowMissingTarget?: boolean;
  /** Called with each warning as it arises (they are also returned). */
  readonly onWarning?: (message: string) => void;
}

/** Where every step came from and which step's output answers for every row of the main file. */
export interface RowIndex {
  /** Data rows (header excluded) in the main file. */
  readonly rowCount: number;
  /** The physical line of each data row of the main file. */
  readonly lines: readonly number[];
  /** N x L of the training set: 0-based data row behind each step, -1 for padding. */
  readonly train: Int32Array;
  /** Same for the validation set; its rows are in the validation file when one was given. */
  readonly valid: Int32Array | null;
  /** Per data row of the main file: 0 = its output comes from the training set, 1 = validation, -1 = none (row skipped). */
  readonly ownerSplit: Int8Array;
  /**
   * Per data row: the step n * L + l (in the dataset named by ownerSplit) whose output belongs to the
   * row. With overlapping windows that is the first window covering the row, where the row has the
   * most history before it. In "last" mode the row's sequence n = floor(ownerStep / L) answers for it.
   */
  readonly ownerStep: Int32Array;
}

export interface PreparedCsv {
  readonly train: SequenceDataset;
  readonly valid?: SequenceDataset;
  readonly normalization: Normalization;
  /** The CSV columns used as inputs. */
  readonly featureColumns: string[];
  /** The model's input names: featureColumns, then `<column>_observed` masks when present. */
  readonly featureNames: string[];
  readonly targetNames: string[];
  /** Classification: the label of each class index, sorted (numerically when all labels are numbers). */
  readonly classes?: string[];
  readonly missingMask: boolean;
  readonly targetMode: TargetMode;
  readonly rowIndex: RowIndex;
  readonly warnings: string[];
}

// ---------------------------------------------------------------------------------------------
// Reading one file

interface Columns {
  features: number[];
  targets: number[] | null;
  time: number | null;
  sequence: number | null;
}

interface Group {
  name: string;
  /** data rows in time order */
  rows: number[];
}

interface RawFile {
  fileName: string;
  lines: number[];
  /** rows x F */
  features: Float64Array;
  /** rows x T (regression), NaN = missing */
  numbers: Float64Array | null;
  /** per row canonical label (classification), "" = missing */
  labels: string[] | null;
  times: Float64Array | null;
  groups: Group[];
  /** "sequence 'p7'" or "the file" */
  describe(g: Group): string;
}

const quote = (s: string): string => JSON.stringify(s);

function columnIndex(table: CsvTable, fileName: string, name: string): number {
  const k = table.header.indexOf(name);
  if (k < 0) throw new Error(`${fileName}: no column ${quote(name)} (columns: ${table.header.join(", ")})`);
  return k;
}

const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** "1", "1.0" and "01" are one class; other labels are compared as trimmed text. */
function canonicalLabel(cell: string): string {
  const t = cell.trim();
  return NUMERIC.test(t) ? String(Number(t)) : t;
}

/** Sorted class list: numerically when every label is a number, else by code point. */
export function sortLabels(labels: Iterable<string>): string[] {
  const list = [...new Set(labels)];
  if (list.every((l) => NUMERIC.test(l))) return list.sort((a, b) => Number(a) - Number(b));
  return list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Column names as the options give them. */
interface ColumnNames {
  features: readonly string[] | undefined;
  targets: readonly string[];
  time?: string;
  sequence?: string;
}

/** Reads one file: its columns, every row's cells and series, and each series in time order. */
function readFile(
  text: string,
  fileName: string,
  names: ColumnNames,
  task: Task,
  allowMissingTarget: boolean,
  warn: (m: string) => void,
): { raw: RawFile; featureNames: string[] } {
  const table = parseCsv(text, fileName);
  if (table.rows.length === 0) throw new Error(`${fileName}: no data rows (the file has only a header)`);
  const { cols, featureNames } = findColumns(table, fileName, names, allowMissingTarget);
  const cells = readRows(table, fileName, cols, task, names.targets.length);
  if (cells.times) sortByTime(table, fileName, cols, cells.groups, cells.times, warn);
  return { raw: { fileName, lines: table.lineNumbers, ...cells, describe: groupDescriber(cols) }, featureNames };
}

function groupDescriber(cols: Columns): (g: Group) => string {
  return (g) => (cols.sequence === null ? "the file" : `sequence ${quote(g.name)}`);
}

/** The column of every role, checked: targets (null when absent and allowed), time, sequence, features. */
function findColumns(table: CsvTable, fileName: string, names: ColumnNames, allowMissingTarget: boolean): { cols: Columns; featureNames: string[] } {
  const targetPresent = names.targets.map((t) => table.header.includes(t));
  let targets: number[] | null;
  if (targetPresent.every(Boolean)) targets = names.targets.map((t) => columnIndex(table, fileName, t));
  else if (allowMissingTarget && !targetPresent.some(Boolean)) targets = null;
  else {
    const missing = names.targets.find((_, i) => !targetPresent[i])!;
    throw new Error(`${fileName}: no column ${quote(missing)} (columns: ${table.header.join(", ")})`);
  }
  const time = names.time === undefined ? null : columnIndex(table, fileName, names.time);
  const sequence = names.sequence === undefined ? null : columnIndex(table, fileName, names.sequence);
  if (time !== null && time === sequence) throw new Error(`${fileName}: column ${quote(names.time!)} cannot be both the time and the sequence column`);
  for (const [role, k] of [["time", time], ["sequence", sequence]] as const) {
    if (k !== null && names.targets.includes(table.header[k])) {
      throw new Error(`${fileName}: column ${quote(table.header[k])} cannot be both a target and the ${role} column`);
    }
  }
  let featureNames: string[];
  if (names.features !== undefined) {
    featureNames = [...names.features];
    for (const f of featureNames) {
      columnIndex(table, fileName, f);
      if (f === names.time || f === names.sequence) throw new Error(`${fileName}: column ${quote(f)} cannot be both a feature and the ${f === names.time ? "time" : "sequence"} column`);
    }
    const dup = featureNames.find((f, i) => featureNames.indexOf(f) !== i);
    if (dup !== undefined) throw new Error(`${fileName}: feature column ${quote(dup)} is listed twice`);
  } else {
    const reserved = new Set([...names.targets, names.time, names.sequence]);
    featureNames = table.header.filter((h) => !reserved.has(h));
  }
  if (featureNames.length === 0) {
    throw new Error(`${fileName}: no feature columns: every column is a target, time or sequence column (columns: ${table.header.join(", ")})`);
  }
  return { cols: { features: featureNames.map((f) => columnIndex(table, fileName, f)), targets, time, sequence }, featureNames };
}

/**
 * Every row's feature, target and time cells, and the series it belongs to (series in order of first
 * appearance, rows in file order). One pass, so the first bad cell in file order is the one reported.
 */
function readRows(
  table: CsvTable,
  fileName: string,
  cols: Columns,
  task: Task,
  T: number,
): Pick<RawFile, "features" | "numbers" | "labels" | "times" | "groups"> {
  const R = table.rows.length;
  const F = cols.features.length;
  const { time, sequence } = cols;
  const features = new Float64Array(R * F);
  const numbers = task === "regress" ? new Float64Array(R * T).fill(NaN) : null;
  const labels = task === "classify" ? new Array<string>(R).fill("") : null;
  const times = time === null ? null : new Float64Array(R);
  const groupOf = new Map<string, Group>();
  const groups: Group[] = [];

  const finite = (cell: string, r: number, k: number): number => {
    const line = table.lineNumbers[r];
    const v = parseNumberCell(cell, fileName, line, table.header[k]);
    if (v === Infinity || v === -Infinity) throw new Error(`${fileName} line ${line}, column ${quote(table.header[k])}: ${quote(cell)} is not a finite number`);
    return v;
  };

  table.rows.forEach((row, r) => {
    cols.features.forEach((k, f) => (features[r * F + f] = finite(row[k], r, k)));
    if (cols.targets) {
      if (numbers) cols.targets.forEach((k, j) => (numbers[r * T + j] = finite(row[k], r, k)));
      if (labels) labels[r] = canonicalLabel(row[cols.targets[0]]);
    }
    if (times) times[r] = parseTimeCell(row[time!], fileName, table.lineNumbers[r], table.header[time!]);
    const id = sequence === null ? "" : row[sequence];
    if (sequence !== null && id.trim() === "") {
      throw new Error(`${fileName} line ${table.lineNumbers[r]}, column ${quote(table.header[sequence])}: empty sequence id`);
    }
    let g = groupOf.get(id);
    if (!g) {
      g = { name: id, rows: [] };
      groupOf.set(id, g);
      groups.push(g);
    }
    g.rows.push(r);
  });
  return { features, numbers, labels, times, groups };
}

/** Puts each series' rows in time order (warning when a file was not), refusing two rows at one time. */
function sortByTime(table: CsvTable, fileName: string, cols: Columns, groups: Group[], times: Float64Array, warn: (m: string) => void): void {
  const timeName = table.header[cols.time!];
  const describe = groupDescriber(cols);
  const unsorted: Group[] = [];
  for (const g of groups) {
    const inOrder = g.rows.every((row, i) => i === 0 || times[g.rows[i - 1]] <= times[row]);
    if (!inOrder) {
      unsorted.push(g);
      // Array.prototype.sort is stable, so equal times keep file order for the message below.
      g.rows.sort((a, b) => times[a] - times[b]);
    }
    for (let i = 1; i < g.rows.length; i++) {
      const [a, b] = [g.rows[i - 1], g.rows[i]];
      if (times[a] === times[b]) {
        throw new Error(
          `${fileName} lines ${table.lineNumbers[a]} and ${table.lineNumbers[b]}: ${describe(g)} has two rows at the same time ` +
            `(column ${quote(timeName)}: ${quote(table.rows[a][cols.time!])}); each step needs a later time than the one before, so merge or drop duplicate rows`,
        );
      }
    }
  }
  if (unsorted.length > 0) {
    const which = cols.sequence === null ? "the rows" : `the rows of ${unsorted.length} sequence(s) (${unsorted.slice(0, 5).map((g) => quote(g.name)).join(", ")}${unsorted.length > 5 ? ", ..." : ""})`;
    warn(`${fileName}: ${which} were not in time order; sorted by ${quote(timeName)}`);
  }
}

function toSeries(raw: RawFile, g: Group, F: number, T: number, classIndex: Map<string, number> | null): Series {
  const n = g.rows.length;
  const values = new Float64Array(n * F);
  const targets = new Float64Array(n * T).fill(NaN);
  const elapsed = raw.times ? new Float64Array(n) : null;
  g.rows.forEach((r, t) => {
    values.set(raw.features.subarray(r * F, (r + 1) * F), t * F);
    if (raw.numbers) targets.set(raw.numbers.subarray(r * T, (r + 1) * T), t * T);
    if (raw.labels && classIndex) {
      const label = raw.labels[r];
      if (label !== "") targets[t] = classIndex.get(label)!;
    }
    if (elapsed) elapsed[t] = t === 0 ? NaN : raw.times![r] - raw.times![g.rows[t - 1]];
  });
  return { name: raw.describe(g), length: n, values, elapsed, targets, rows: Int32Array.from(g.rows) };
}

function sliceSeries(s: Series, start: number, end: number, F: number, T: number, name: string): Series {
  return {
    name,
    length: end - start,
    values: s.values.slice(start * F, end * F),
    // The first validation row keeps its real gap to the last training row.
    elapsed: s.elapsed ? s.elapsed.slice(start, end) : null,
    targets: s.targets.slice(start * T, end * T),
    rows: s.rows.slice(start, end),
  };
}

// ---------------------------------------------------------------------------------------------
// Options

function checkOptions(o: CsvDatasetOptions): void {
  const int = (name: string, v: number | undefined, min: number) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new Error(`csvToDataset: ${name} must be an integer >= ${min}, got ${v}`);
  };
  int("window", o.window, 1);
  int("stride", o.stride, 1);
  int("seed", o.seed, 0);
  if (o.stride !== undefined && o.window === undefined) throw new Error("csvToDataset: stride needs window");
  if (o.validSplit !== undefined && !(o.validSplit >= 0 && o.validSplit < 1)) {
    throw new Error(`csvToDataset: validSplit must be a fraction in [0, 1), got ${o.validSplit}`);
  }
  if (o.valid && o.validSplit) throw new Error("csvToDataset: give either a validation file or validSplit, not both");
  const task = o.task ?? "regress";
  if (task !== "regress" && task !== "classify") throw new Error(`csvToDataset: task must be "regress" or "classify", got ${quote(String(task))}`);
  if (o.targetMode !== undefined && o.targetMode !== "per_step" && o.targetMode !== "last") {
    throw new Error(`csvToDataset: targetMode must be "per_step" or "last", got ${quote(String(o.targetMode))}`);
  }
  for (const [name, v] of [["timeScale", o.timeScale], ["firstElapsed", o.firstElapsed]] as const) {
    if (v !== undefined && v !== "median" && !(typeof v === "number" && v > 0 && Number.isFinite(v))) {
      throw new Error(`csvToDataset: ${name} must be "median" or a positive number, got ${JSON.stringify(v)}`);
    }
  }
  const targets = typeof o.target === "string" ? [o.target] : [...o.target];
  if (targets.length === 0) throw new Error("csvToDataset: at least one target column is needed");
  const dup = targets.find((t, i) => targets.indexOf(t) !== i);
  if (dup !== undefined) throw new Error(`csvToDataset: target column ${quote(dup)} is listed twice`);
  if (task === "classify" && targets.length !== 1) {
    throw new Error(`csvToDataset: classification takes one target column (its distinct values are the classes), got ${targets.length}: ${targets.join(", ")}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The phases of csvToDataset

/** What every phase reads: the options and what follows directly from them. */
interface CsvJob {
  readonly options: CsvDatasetOptions;
  /** the main file's name, for messages */
  readonly fileName: string;
  readonly task: Task;
  readonly targetNames: string[];
  /** values per step's target: the target columns (regression) or one class index (classification) */
  readonly T: number;
  readonly allowMissing: boolean;
  warn(message: string): void;
}

/** Turns CSV text into training (and validation) datasets; `fileName` labels messages. */
export function csvToDataset(text: string, fileName: string, options: CsvDatasetOptions): PreparedCsv {
  checkOptions(options);
  const warnings: string[] = [];
  const job = startJob(fileName, options, warnings);
  const { main, validFile, featureColumns } = readFiles(job, text);
  const classes = collectClasses(job, main, validFile);
  const targetMode = chooseTargetMode(job, main);
  const series = splitSeries(job, main, validFile, featureColumns.length, classes?.index ?? null);
  const missingMask = chooseMissingMask(job, main, validFile);
  const info: ShapeInfo = {
    task: job.task,
    targetMode,
    features: featureColumns.length,
    targets: job.T,
    numClasses: classes?.list.length ?? 0,
    missingMask,
    featureNames: featureColumns,
    targetNames: job.targetNames,
  };
  const normalization = chooseNormalization(job, series.train, info);
  const train = buildDataset(series.train, segmentSeries(job, series.train, targetMode, "training", fileName), normalization, info);
  const validName = validFile ? validFile.fileName : fileName;
  const valid = series.valid.length > 0 ? buildDataset(series.valid, segmentSeries(job, series.valid, targetMode, "validation", validName), normalization, info) : null;
  return {
    train: train.dataset,
    ...(valid ? { valid: valid.dataset } : {}),
    normalization,
    featureColumns,
    featureNames: [...train.dataset.featureNames!],
    targetNames: job.targetNames,
    ...(classes ? { classes: classes.list } : {}),
    missingMask,
    targetMode,
    rowIndex: indexRows(main, train, valid, series.validFromMain),
    warnings,
  };
}

function startJob(fileName: string, options: CsvDatasetOptions, warnings: string[]): CsvJob {
  const task = options.task ?? "regress";
  const targetNames = typeof options.target === "string" ? [options.target] : [...options.target];
  return {
    options,
    fileName,
    task,
    targetNames,
    T: task === "regress" ? targetNames.length : 1,
    allowMissing: options.allowMissingTarget ?? false,
    warn: (m) => {
      warnings.push(m);
      options.onWarning?.(m);
    },
  };
}

/** The main file, and the validation file (read with the main file's feature columns) when given. */
function readFiles(job: CsvJob, text: string): { main: RawFile; validFile: RawFile | null; featureColumns: string[] } {
  const { options, task, allowMissing, warn } = job;
  const names: ColumnNames = { features: options.features, targets: job.targetNames, time: options.time, sequence: options.sequence };
  const { raw: main, featureNames: featureColumns } = readFile(text, job.fileName, names, task, allowMissing, warn);
  const validFile = options.valid ? readFile(options.valid.text, options.valid.fileName, { ...names, features: featureColumns }, task, allowMissing, warn).raw : null;
  return { main, validFile, featureColumns };
}

/**
 * Classification: the class list (given, or every label of the training file: a random split should
 * not decide which labels exist) and each label's index; null for regression.
 */
function collectClasses(job: CsvJob, main: RawFile, validFile: RawFile | null): { list: string[]; index: Map<string, number> } | null {
  if (job.task !== "classify") return null;
  const { options, fileName } = job;
  const target = job.targetNames[0];
  let classes: string[];
  if (options.classes) {
    classes = options.classes.map(canonicalLabel);
    if (new Set(classes).size !== classes.length) throw new Error(`csvToDataset: the class list ${JSON.stringify(options.classes)} repeats a label`);
  } else {
    if (!main.labels!.some((l) => l !== "")) {
      throw new Error(`${fileName}: target column ${quote(target)} has no labels${job.allowMissing ? " (pass the trained model's class list)" : ""}`);
    }
    classes = sortLabels(main.labels!.filter((l) => l !== ""));
  }
  if (classes.length < 2) {
    throw new Error(`${fileName}: column ${quote(target)} has only 1 distinct value (${quote(classes[0] ?? "")}); classification needs at least 2 classes`);
  }
  const index = new Map(classes.map((c, i) => [c, i]));
  // A collected list holds every label of the main file; a given list may not, nor may a validation file.
  const toCheck = [...(options.classes ? [main] : []), ...(validFile ? [validFile] : [])];
  for (const raw of toCheck) {
    raw.labels!.forEach((label, r) => {
      if (label !== "" && !index.has(label)) {
        throw new Error(`${raw.fileName} line ${raw.lines[r]}, column ${quote(target)}: class ${quote(label)} does not occur in the training data (classes: ${classes.join(", ")})`);
      }
    });
  }
  return { list: classes, index };
}

/** Per step unless asked otherwise or this is sequence classification (one label per series). */
function chooseTargetMode(job: CsvJob, main: RawFile): TargetMode {
  const { options } = job;
  if (options.targetMode !== undefined) return options.targetMode;
  if (job.task === "classify" && options.sequence !== undefined) {
    const single = main.groups.every((g) => new Set(g.rows.map((r) => main.labels![r]).filter((l) => l !== "")).size <= 1);
    if (single) return "last";
  }
  return "per_step";
}

/**
 * The series of the training and validation sets: the validation file's, or a seeded share of the main
 * file's series, or (a single series) its last rows. `validFromMain` says the validation rows are rows
 * of the main file.
 */
function splitSeries(
  job: CsvJob,
  main: RawFile,
  validFile: RawFile | null,
  F: number,
  classIndex: Map<string, number> | null,
): { train: Series[]; valid: Series[]; validFromMain: boolean } {
  const { options, fileName, T } = job;
  const all = main.groups.map((g) => toSeries(main, g, F, T, classIndex));
  if (validFile) return { train: all, valid: validFile.groups.map((g) => toSeries(validFile, g, F, T, classIndex)), validFromMain: false };
  if (!options.validSplit) return { train: all, valid: [], validFromMain: false };
  if (all.length >= 2) {
    const split = splitIndices(all.length, options.validSplit, options.seed ?? 0, fileName);
    return { train: split.train.map((i) => all[i]), valid: split.valid.map((i) => all[i]), validFromMain: true };
  }
  // One series cannot be split by sequence: hold out its last rows instead (a split in time).
  const s = all[0];
  const nValid = Math.max(1, Math.round(options.validSplit * s.length));
  const minPart = options.window ?? 1;
  if (s.length - nValid < minPart || nValid < minPart) {
    throw new Error(
      `${fileName}: cannot split ${s.name} (${s.length} rows) into training and validation parts of at least ${minPart} row(s) each ` +
        `with validation fraction ${options.validSplit}${options.window ? ` and --window ${options.window}` : ""}`,
    );
  }
  const cut = s.length - nValid;
  return { train: [sliceSeries(s, 0, cut, F, T, s.name)], valid: [sliceSeries(s, cut, s.length, F, T, `${s.name} (validation part)`)], validFromMain: true };
}

/** Observation masks: decided on all the data, so training and validation inputs have the same width. */
function chooseMissingMask(job: CsvJob, main: RawFile, validFile: RawFile | null): boolean {
  const asked = job.options.missingMask;
  if (asked === undefined || asked === "auto") return [main, validFile].some((raw) => raw !== null && raw.features.some(Number.isNaN));
  return asked;
}

/** The given statistics (checked against the data's width), or those of the training series. */
function chooseNormalization(job: CsvJob, train: readonly Series[], info: ShapeInfo): Normalization {
  const { options, fileName } = job;
  if (options.normalization) {
    const normalization = checkNormalization(options.normalization);
    if (normalization.featureMean.length !== info.features) {
      throw new Error(`${fileName}: the normalization describes ${normalization.featureMean.length} features, the data has ${info.features} (${info.featureNames!.join(", ")})`);
    }
    if (job.task === "regress" && normalization.targetMean && normalization.targetMean.length !== job.T) {
      throw new Error(`${fileName}: the normalization describes ${normalization.targetMean.length} targets, the data has ${job.T}`);
    }
    return normalization;
  }
  const normalize = options.normalize ?? true;
  return computeStatistics(train, info, {
    normalizeFeatures: normalize,
    normalizeTargets: options.normalizeTargets ?? normalize,
    timeScale: options.timeScale ?? (normalize ? "median" : 1),
    firstElapsed: options.firstElapsed ?? "median",
  });
}

/**
 * The sequences of one set: whole series, or windows (series shorter than the window skipped); in
 * "last" mode, unless labels may be missing, sequences without any label are dropped.
 */
function segmentSeries(job: CsvJob, list: Series[], targetMode: TargetMode, what: "training" | "validation", file: string): Segment[] {
  const { options, warn } = job;
  let segments: Segment[];
  if (options.window === undefined) segments = list.map((s, i) => ({ series: i, start: 0, length: s.length }));
  else {
    const w = options.window;
    const stride = options.stride ?? w;
    const short = list.filter((s) => s.length < w);
    if (short.length === list.length) {
      if (list.length === 1) {
        const s = list[0];
        const rows = s.name === "the file" ? `has ${s.length} data rows` : `has ${s.length} rows`;
        throw new Error(`${file}: ${s.name} ${rows}, fewer than --window ${w}`);
      }
      const shown = short.slice(0, 5).map((s) => `${s.name} has ${s.length}`).join(", ");
      throw new Error(`${file}: no ${what} sequence has at least ${w} rows (--window ${w}): ${shown}${short.length > 5 ? ", ..." : ""}`);
    }
    if (short.length > 0) {
      const shown = short.slice(0, 10).map((s) => `${s.name} (${s.length} rows)`).join(", ");
      warn(`${file}: skipped ${short.length} ${what} sequence(s) shorter than --window ${w}: ${shown}${short.length > 10 ? ", ..." : ""}`);
    }
    segments = list.flatMap((s, i) => (s.length < w ? [] : windowSegments(i, s.length, w, stride)));
  }
  if (targetMode === "last" && !job.allowMissing) {
    const kept = segments.filter((g) => lastLabelledStep(list[g.series], g, job.T) >= 0);
    if (kept.length === 0) throw new Error(`${file}: no ${what} sequence has a label in target column(s) ${job.targetNames.join(", ")}`);
    if (kept.length < segments.length) warn(`${file}: dropped ${segments.length - kept.length} ${what} sequence(s) without any label`);
    segments = kept;
  }
  return segments;
}

/** Which step answers for each row of the main file (see RowIndex). */
function indexRows(main: RawFile, train: Built, valid: Built | null, validFromMain: boolean): RowIndex {
  const rowCount = main.lines.length;
  const ownerSplit = new Int8Array(rowCount).fill(-1);
  const ownerStep = new Int32Array(rowCount).fill(-1);
  const claim = (index: Int32Array, split: 0 | 1) => {
    // Steps are laid out sequence by sequence, windows by increasing start, so the first claim is the
    // window where the row has the most history.
    index.forEach((row, step) => {
      if (row >= 0 && ownerSplit[row] === -1) {
        ownerSplit[row] = split;
        ownerStep[row] = step;
      }
    });
  };
  claim(train.rowIndex, 0);
  if (valid && validFromMain) claim(valid.rowIndex, 1);
  return { rowCount, lines: main.lines, train: train.rowIndex, valid: valid ? valid.rowIndex : null, ownerSplit, ownerStep };
}

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`${file}: cannot read the ${what} (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** {@link csvToDataset} on a file, with an optional separate validation file. */
export function csvFileToDataset(file: string, options: CsvDatasetOptions & { readonly validFile?: string }): PreparedCsv {
  const { validFile, ...rest } = options;
  const valid = validFile === undefined ? rest.valid : { text: readText(validFile, "validation CSV file"), fileName: validFile };
  return csvToDataset(readText(file, "CSV file"), file, { ...rest, ...(valid ? { valid } : {}) });
}

/**
 * Model outputs in the order of the main file's rows: `outputs.train` (and `.valid`) hold
 * N x L x width values per step ("per_step") or N x width per sequence ("last"). Rows no sequence
 * covers get NaN.
 */
export function predictionsByRow(
  prepared: Pick<PreparedCsv, "train" | "valid" | "rowIndex" | "targetMode">,
  outputs: { readonly train: ArrayLike<number>; readonly valid?: ArrayLike<number> },
  width: number,
): Float64Array {
  const { rowIndex, targetMode } = prepared;
  const out = new Float64Array(rowIndex.rowCount * width).fill(NaN);
  const sets = [prepared.train, prepared.valid];
  const values = [outputs.train, outputs.valid];
  for (let split = 0; split < 2; split++) {
    const ds = sets[split];
    if (!ds) continue;
    const v = values[split];
    const expected = (targetMode === "per_step" ? ds.size * ds.steps : ds.size) * width;
    if (rowIndex.ownerSplit.includes(split) && (!v || v.length !== expected)) {
      throw new Error(`predictionsByRow: ${split === 0 ? "train" : "valid"} outputs have ${v ? v.length : 0} values, expected ${expected}`);
    }
  }
  for (let r = 0; r < rowIndex.rowCount; r++) {
    const split = rowIndex.ownerSplit[r];
    if (split < 0) continue;
    const ds = sets[split]!;
    const v = values[split]!;
    const step = rowIndex.ownerStep[r];
    const at = targetMode === "per_step" ? step : Math.floor(step / ds.steps);
    for (let k = 0; k < width; k++) out[r * width + k] = v[at * width + k];
  }
  return out;
}
