/**
 * CSV time series to {@link SequenceDataset}: the path from a user's file to `ncps train`.
 *
 * One row is one observation (or, in long format, one measurement; see long-format.ts). Rows are
 * grouped into series by an optional sequence column (one per patient, machine, ...; in order of first
 * appearance), put in time order by an optional time column and turned into CfC inputs:
 *
 * - cells: empty cells and the missing-value tokens (`NA`, `N/A`, `NaN`, `nan`, `null`, `NULL`, `None`,
 *   `?` by default, `naValues` to change them) are missing. A feature column of text is categorical and
 *   one-hot encoded with the training split's values (see categorical.ts); `categorical` / `numeric`
 *   override the detection. Column names are trimmed; a header with more `;` or tabs than commas sets
 *   the separator (or `separator`).
 * - elapsed time: each step's gap to the previous row of the same series. The time column holds numbers
 *   (in the file's unit, or `timeUnit`), ISO 8601 date-times or durations (both in seconds), read exactly
 *   (see time-parse.ts). Rows are sorted by time within a series (stably; a warning says when a file was
 *   not in order). Rows of one series at the same time are merged into one step by default (numbers
 *   averaged over the non-missing cells, text and class labels the last non-missing value), or kept
 *   with zero elapsed time, or refused (`duplicateTimes`); `timeBin` rounds times down to intervals
 *   first. The first step of a series has no previous row and gets `firstElapsed` (default: the training
 *   median gap). All gaps are divided by `timeScale` (default: the training median gap, so a typical
 *   step lasts 1).
 * - missing feature cells: the last observed value of that column in the series (0, the training mean
 *   after scaling, before the first observation), plus one observation-mask feature per input column,
 *   1 where the cell was present (the paper's mask mode; inputs are [values | masks]).
 *   `missingMask: "auto"` adds the masks only when some feature cell is missing.
 * - missing target cells: the step carries no label (targetMask 0). With several target columns a
 *   step is labelled only when all of them are present. `outcomes` takes per-sequence targets from
 *   another table instead, joined on a record id (they label each sequence's last step).
 * - scaling: per-feature (and, for regression, per-target) mean and standard deviation from the
 *   training split only (one-hot inputs are left as 0/1), returned so the same transform can be applied
 *   to other data.
 * - windows: with `window`, each series is cut into windows of that many rows every `stride` rows
 *   (default: `window`, no overlap), plus one window ending at the last row when the regular ones stop
 *   short; a series shorter than the window is skipped with a warning (an error when none fits).
 *   Without `window`, each series is one sequence, padded to the longest, with `lengths`.
 * - validation: `validSplit` sends a seeded random fraction of the series to validation; a file with
 *   a single series is split in time instead (the last rows validate). Or pass a separate file.
 */
import type { CsvColumns, CsvText } from "../io/csv.js";
import { canonicalText, MissingTokens, sortValues } from "./cells.js";
import { type CategoricalColumn, type Encoding, type FeatureLayout, type UnseenCounts, describeUnseen, encodeSeries, makeEncoding } from "./categorical.js";
import type { SequenceDataset, TargetMode, Task } from "./dataset.js";
import { type LongColumns, pivotLong, type LongSource } from "./long-format.js";
import { checkNormalization, type Normalization } from "./normalization.js";
import { joinOutcomes, type OutcomesSource } from "./outcomes.js";
import { type Group, type RawFile, type ReadSettings, rawFromPivot, readWide } from "./raw-file.js";
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
import { DUPLICATE_TIMES, type DuplicateTimes } from "./time-order.js";
import { isTimeUnit, type TimeFormat, type TimeUnit } from "./time-parse.js";

export interface CsvDatasetOptions {
  /** Target column name(s). Classification takes exactly one. */
  readonly target: string | readonly string[];
  /** Input columns; default: every column except the target, time and sequence columns. */
  readonly features?: readonly string[];
  /** Timestamp column: numbers (the file's unit, or `timeUnit`), ISO 8601 date-times or durations (seconds). */
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
  readonly valid?: { readonly text: CsvText; readonly fileName: string };
  /** Use these statistics (e.g. a trained model's) instead of computing them. */
  readonly normalization?: Normalization;
  /** Use this class list (e.g. a trained model's) instead of collecting it; other labels are errors. */
  readonly classes?: readonly string[];
  /**
   * Accept a file without the target column(s) (data to predict on): every step is then unlabelled,
   * and in "last" mode sequences without a label are kept (with target 0) rather than dropped.
   */
  readonly allowMissingTarget?: boolean;
  /**
   * Keep the main (wide) file's cells, compactly, as `inputCells`, so that its rows can be written back
   * next to predictions without reading the file again. Default false.
   */
  readonly keepInputCells?: boolean;
  /** Called with each warning as it arises (they are also returned). */
  readonly onWarning?: (message: string) => void;
  /** Called with each note (what was decided without being asked: text columns, merged rows). */
  readonly onNote?: (message: string) => void;
  /** Cells read as missing besides empty ones; default {@link DEFAULT_NA_VALUES}. */
  readonly naValues?: readonly string[];
  /** Field separator; default: detected from the header (comma, semicolon or tab). */
  readonly separator?: string;
  /** Feature columns to one-hot encode even if they hold numbers. */
  readonly categorical?: readonly string[];
  /** Feature columns that must hold numbers (text is an error instead of one-hot encoding). */
  readonly numeric?: readonly string[];
  /** A trained model's categorical columns and vocabularies (fixes which columns are categorical). */
  readonly categories?: readonly CategoricalColumn[];
  /** Unit of numeric times; elapsed times are then in seconds. Default: the file's own unit. */
  readonly timeUnit?: TimeUnit;
  /** The way times must be written (a trained model's), checked on the data. */
  readonly timeFormat?: TimeFormat;
  /** Rows of one series at one time: "merge" (default), "keep" (zero elapsed time) or "error". */
  readonly duplicateTimes?: DuplicateTimes;
  /** Round times down to intervals of this width ("1h", "30min", or a number in the time unit). */
  readonly timeBin?: string;
  /** Long format: the time, variable and value columns; the variables become the columns. */
  readonly long?: LongColumns;
  /** Long format: the variable whose rows carry the record id; with `outcomes`, its id column. */
  readonly id?: string;
  /** Per-sequence targets from another table, joined on `id` (the sequence ids). */
  readonly outcomes?: OutcomesSource;
}

/** Where every step came from and which step's output answers for every row of the main file. */
export interface RowIndex {
  /** Data rows (header excluded) in the main file (all files of a long-format directory). */
  readonly rowCount: number;
  /** The physical line of each data row of the main file. */
  readonly lines: readonly number[];
  /** Long format from several files: the file of each data row; null otherwise. */
  readonly files: readonly string[] | null;
  /**
   * N x L of the training set: 0-based data row behind each step (the first of merged rows; in long
   * format, the pivoted step), -1 for padding.
   */
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
  /** The CSV columns (long format: the variables) used as inputs. */
  readonly featureColumns: string[];
  /**
   * The model's input names: featureColumns (categorical ones as one `column=value` input per value),
   * then `<input>_observed` masks when present.
   */
  readonly featureNames: string[];
  /** The categorical input columns and their vocabularies (from the training split). */
  readonly categorical: CategoricalColumn[];
  /** How the time column is written, when there is one. */
  readonly timeFormat?: TimeFormat;
  /** Per sequence (in order of first appearance in the main file): its id, for per-sequence output. */
  readonly sequenceIds: string[];
  readonly targetNames: string[];
  /** Classification: the label of each class index, sorted (numerically when all labels are numbers). */
  readonly classes?: string[];
  readonly missingMask: boolean;
  readonly targetMode: TargetMode;
  readonly rowIndex: RowIndex;
  /**
   * Per sequence of the main file (see sequenceIds): its last step, as split (0 train, 1 valid, -1 none)
   * and step n * L + l; for outputs per sequence (targets from an outcomes table).
   */
  readonly sequenceOwner: { readonly split: Int8Array; readonly step: Int32Array };
  readonly warnings: string[];
  readonly notes: string[];
  /** The main file's header and cells, as read (wide CSV with `keepInputCells` only). */
  readonly inputCells?: CsvColumns;
}

// ---------------------------------------------------------------------------------------------
// Reading files

const quote = (s: string): string => JSON.stringify(s);

/** Sorted class list: numerically when every label is a number, else by code point. */
export const sortLabels = sortValues;

/** A file, or for long format a directory of record files or one concatenated file. */
export type DataInput = { readonly text: CsvText; readonly fileName: string } | { readonly sources: readonly LongSource[]; readonly fileName: string };

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
    if (elapsed) elapsed[t] = t === 0 ? NaN : raw.times!.elapsed(g.rows[t - 1], r);
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

/** Checks the options before any file is read (exported for csv-file-dataset.ts). */
export function checkOptions(o: CsvDatasetOptions): void {
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
  if (o.duplicateTimes !== undefined && !DUPLICATE_TIMES.includes(o.duplicateTimes)) {
    throw new Error(`--duplicate-times must be one of ${DUPLICATE_TIMES.join(", ")}, got ${quote(String(o.duplicateTimes))}`);
  }
  if (o.timeUnit !== undefined && !isTimeUnit(o.timeUnit)) throw new Error(`--time-unit must be one of s, ms, us, ns, min, h, d, got ${quote(String(o.timeUnit))}`);
  if ((o.timeUnit !== undefined || o.timeBin !== undefined) && o.time === undefined && o.long === undefined) {
    throw new Error(`${o.timeUnit !== undefined ? "--time-unit" : "--time-bin"} needs a time column: --time COL`);
  }
  if (o.outcomes && o.id === undefined) throw new Error("--outcomes needs --id COL: the column of the outcomes file that holds each sequence's id");
  if (o.outcomes && o.sequence === undefined && o.long === undefined) {
    throw new Error("--outcomes joins one row per sequence: name the sequence column with --sequence COL (or read records in long format with --long)");
  }
  if (o.long && o.time !== undefined && o.time !== o.long.time) {
    throw new Error(`--time ${o.time} and --long ${o.long.time},${o.long.variable},${o.long.value} name different time columns; in long format the time is --long's first column`);
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
  readonly missing: MissingTokens;
  warn(message: string): void;
  note(message: string): void;
}

/** Turns CSV text into training (and validation) datasets; `fileName` labels messages. */
export function csvToDataset(text: string, fileName: string, options: CsvDatasetOptions): PreparedCsv {
  return prepareData({ text, fileName }, options);
}

/** {@link csvToDataset} for any input: a CSV text, or the files of a long-format table. */
export function prepareData(input: DataInput, options: CsvDatasetOptions): PreparedCsv {
  checkOptions(options);
  const warnings: string[] = [];
  const notes: string[] = [];
  const job = startJob(input.fileName, options, warnings, notes);
  const { main, validFile, layout } = readFiles(job, input);
  const classes = collectClasses(job, main, validFile);
  const targetMode = chooseTargetMode(job, main);
  const F = layout.columns.length;
  const split = splitSeries(job, main, validFile, F, classes?.index ?? null);
  const encoding = chooseEncoding(job, layout, split);
  // Values outside the vocabulary: expected in data read for a trained model, and possible in validation data.
  const trainUnseen: UnseenCounts = new Map();
  const validUnseen: UnseenCounts = new Map();
  const series = {
    train: split.train.map((s) => encodeSeries(s, layout, encoding, trainUnseen)),
    valid: split.valid.map((s) => encodeSeries(s, layout, encoding, validUnseen)),
  };
  reportUnseen(job, trainUnseen, job.fileName);
  reportUnseen(job, validUnseen, validFile ? validFile.fileName : `${job.fileName} (validation part)`);
  const missingMask = chooseMissingMask(job, main, validFile);
  const info: ShapeInfo = {
    task: job.task,
    targetMode,
    features: encoding.width,
    targets: job.T,
    numClasses: classes?.list.length ?? 0,
    missingMask,
    featureNames: encoding.names,
    targetNames: job.targetNames,
  };
  const normalization = chooseNormalization(job, series.train, info, encoding);
  const train = buildDataset(series.train, segmentSeries(job, series.train, targetMode, "training", input.fileName), normalization, info);
  const validName = validFile ? validFile.fileName : input.fileName;
  const valid = series.valid.length > 0 ? buildDataset(series.valid, segmentSeries(job, series.valid, targetMode, "validation", validName), normalization, info) : null;
  const owners = ownRows(main, train, valid, split.validFromMain);
  return {
    train: train.dataset,
    ...(valid ? { valid: valid.dataset } : {}),
    normalization,
    featureColumns: [...layout.columns],
    featureNames: [...train.dataset.featureNames!],
    categorical: encoding.categorical,
    ...(main.times ? { timeFormat: main.times.format } : {}),
    sequenceIds: main.groups.map((g) => g.name),
    targetNames: job.targetNames,
    ...(classes ? { classes: classes.list } : {}),
    missingMask,
    targetMode,
    rowIndex: indexRows(main, train, valid, owners),
    sequenceOwner: ownSequences(main, owners),
    warnings,
    notes,
    ...(options.keepInputCells && main.table ? { inputCells: main.table } : {}),
  };
}

function startJob(fileName: string, options: CsvDatasetOptions, warnings: string[], notes: string[]): CsvJob {
  const task = options.task ?? "regress";
  const targetNames = typeof options.target === "string" ? [options.target] : [...options.target];
  return {
    options,
    fileName,
    task,
    targetNames,
    T: task === "regress" ? targetNames.length : 1,
    allowMissing: options.allowMissingTarget ?? false,
    missing: new MissingTokens(options.naValues),
    warn: (m) => {
      warnings.push(m);
      options.onWarning?.(m);
    },
    note: (m) => {
      notes.push(m);
      options.onNote?.(m);
    },
  };
}

function readSettings(job: CsvJob): ReadSettings {
  const o = job.options;
  return {
    task: job.task,
    targets: job.targetNames,
    targetsElsewhere: o.outcomes !== undefined,
    allowMissingTarget: job.allowMissing,
    time: o.long ? o.long.time : o.time,
    sequence: o.sequence,
    missing: job.missing,
    separator: o.separator,
    timeUnit: o.timeUnit,
    timeFormat: o.timeFormat,
    timeBin: o.timeBin,
    duplicateTimes: o.duplicateTimes ?? "merge",
    note: job.note,
    warn: job.warn,
  };
}

/**
 * The main file, and the validation file (read with the main file's columns, kinds and category codes)
 * when given; targets joined from the outcomes table when given.
 */
function readFiles(job: CsvJob, input: DataInput): { main: RawFile; validFile: RawFile | null; layout: FeatureLayout } {
  const { options } = job;
  const settings = readSettings(job);
  const columns = { features: options.features, categorical: options.categorical, numeric: options.numeric, trained: options.categories };
  let main: RawFile;
  let layout: FeatureLayout;
  if (options.long) {
    const sources = "sources" in input ? input.sources : [{ fileName: input.fileName, text: input.text }];
    const targetVariables = options.outcomes ? [] : job.targetNames;
    const pivot = pivotLong(sources, {
      columns: options.long,
      sequence: options.sequence,
      id: options.id,
      timeUnit: options.timeUnit,
      timeFormat: options.timeFormat,
      timeBin: options.timeBin,
      missing: job.missing,
      separator: options.separator,
      variables: options.features ? [...options.features, ...targetVariables.filter((t) => !options.features!.includes(t))] : undefined,
      note: (m) => job.note(`${input.fileName}: ${m}`),
    });
    ({ raw: main, layout } = rawFromPivot(pivot, input.fileName, settings, options.features));
  } else {
    if ("sources" in input) throw new Error(`${input.fileName}: a directory of files is read in long format only (--long TIME,VARIABLE,VALUE)`);
    ({ raw: main, layout } = readWide(input.text, input.fileName, settings, columns));
  }
  let validFile: RawFile | null = null;
  if (options.valid) {
    if (options.long) throw new Error(`${options.valid.fileName}: a separate validation file is not supported in long format; use --valid-split`);
    validFile = readWide(options.valid.text, options.valid.fileName, settings, columns, layout).raw;
  }
  if (options.outcomes) {
    for (const raw of [main, ...(validFile ? [validFile] : [])]) {
      const { unmatched, rows } = joinOutcomes(raw, options.outcomes, options.id!, job.targetNames, job.missing, job.allowMissing);
      const matched = raw.groups.length - unmatched.length;
      job.note(`${options.outcomes.fileName}: ${matched} of ${raw.groups.length} sequence(s) of ${raw.fileName} found in its ${rows} row(s) (--id ${options.id})`);
      if (unmatched.length > 0 && !job.allowMissing) {
        job.warn(`${raw.fileName}: ${unmatched.length} sequence(s) have no row in ${options.outcomes.fileName} (${unmatched.slice(0, 5).map(quote).join(", ")}${unmatched.length > 5 ? ", ..." : ""}) and are unlabelled`);
      }
    }
  }
  return { main, validFile, layout };
}

/** The vocabulary of each categorical column: the trained model's, or the training split's. */
function chooseEncoding(job: CsvJob, layout: FeatureLayout, split: { train: Series[] }): Encoding {
  const enc = makeEncoding(layout, split.train, job.options.categories);
  for (const c of enc.categorical) {
    if (c.values.length === 0) throw new Error(`${job.fileName}: categorical column ${quote(c.column)} has no value in the training data (every cell is missing)`);
  }
  return enc;
}

function reportUnseen(job: CsvJob, unseen: UnseenCounts, file: string): void {
  for (const line of describeUnseen(unseen)) job.warn(`${file}: ${line}`);
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
    classes = options.classes.map(canonicalText);
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
        throw new Error(`${raw.where(r)}, column ${quote(target)}: class ${quote(label)} does not occur in the training data (classes: ${classes.join(", ")})`);
      }
    });
  }
  return { list: classes, index };
}

/** Per step unless asked otherwise, or per-sequence targets, or sequence classification (one label per series). */
function chooseTargetMode(job: CsvJob, main: RawFile): TargetMode {
  const { options } = job;
  if (options.targetMode !== undefined) return options.targetMode;
  if (options.outcomes) return "last";
  if (job.task === "classify" && (options.sequence !== undefined || options.long !== undefined)) {
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
function chooseNormalization(job: CsvJob, train: readonly Series[], info: ShapeInfo, encoding: Encoding): Normalization {
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
    unscaled: encoding.oneHot,
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

/** Per raw row of the main file: the split (0 train, 1 valid, -1 none) and step whose output answers for it. */
interface RowOwners {
  readonly split: Int8Array;
  readonly step: Int32Array;
}

function ownRows(main: RawFile, train: Built, valid: Built | null, validFromMain: boolean): RowOwners {
  const split = new Int8Array(main.rowCount).fill(-1);
  const step = new Int32Array(main.rowCount).fill(-1);
  const claim = (index: Int32Array, which: 0 | 1) => {
    // Steps are laid out sequence by sequence, windows by increasing start, so the first claim is the
    // window where the row has the most history.
    index.forEach((row, at) => {
      if (row >= 0 && split[row] === -1) {
        split[row] = which;
        step[row] = at;
      }
    });
  };
  claim(train.rowIndex, 0);
  if (valid && validFromMain) claim(valid.rowIndex, 1);
  return { split, step };
}

/** Which step answers for each data row of the main file (see RowIndex); merged and pivoted rows share one. */
function indexRows(main: RawFile, train: Built, valid: Built | null, owners: RowOwners): RowIndex {
  const rowCount = main.inputToRow.length;
  const ownerSplit = new Int8Array(rowCount).fill(-1);
  const ownerStep = new Int32Array(rowCount).fill(-1);
  main.inputToRow.forEach((r, i) => {
    if (r < 0) return;
    ownerSplit[i] = owners.split[r];
    ownerStep[i] = owners.step[r];
  });
  return { rowCount, lines: main.inputLines, files: main.inputFile, train: train.rowIndex, valid: valid ? valid.rowIndex : null, ownerSplit, ownerStep };
}

/** Per sequence of the main file: the owner of its last row (the step whose output is the sequence's). */
function ownSequences(main: RawFile, owners: RowOwners): PreparedCsv["sequenceOwner"] {
  const split = Int8Array.from(main.groups, (g) => owners.split[g.rows[g.rows.length - 1]]);
  const step = Int32Array.from(main.groups, (g) => owners.step[g.rows[g.rows.length - 1]]);
  return { split, step };
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
