/**
 * How `ncps train`, `eval` and `predict` read data: a CSV (columns named by flags) or .npy arrays.
 * Training stores the preparation (columns, windows, normalisation, classes) in the checkpoint, and
 * eval / predict prepare new data the same way from it.
 */
import type { CheckpointExtras } from "../train/checkpoint.js";
import type { CategoricalColumn } from "../data/categorical.js";
import type { PreparedCsv } from "../data/csv-dataset.js";
import { csvFileToDataset } from "../data/csv-file-dataset.js";
import { type LongColumns, parseLongSpec } from "../data/long-format.js";
import { DUPLICATE_TIMES, type DuplicateTimes } from "../data/time-order.js";
import { isTimeUnit, type TimeFormat, type TimeUnit } from "../data/time-parse.js";
import type { SequenceDataset, TargetMode, Task } from "../data/dataset.js";
import type { Normalization } from "../data/normalization.js";
import { npyToDataset } from "../data/npy-dataset.js";
import { CliError } from "./util.js";

/** What the checkpoint remembers of the data preparation (metadata key "data"). */
/** The choices about reading a file that a checkpoint keeps, so eval and predict read new files alike. */
type FileReading = "naValues" | "separator" | "timeUnit" | "timeFormat" | "duplicateTimes" | "timeBin" | "long" | "id";

export interface DataPreparation {
  source: "csv" | "npy";
  target: string[];
  features?: string[];
  time?: string;
  sequence?: string;
  task: Task;
  targetMode: TargetMode;
  window?: number;
  stride?: number;
  missingMask: boolean;
  classes?: string[];
  timeKind?: "elapsed" | "absolute";
  /** categorical input columns and their vocabularies, in column order */
  categorical?: CategoricalColumn[];
  naValues?: string[];
  separator?: string;
  timeUnit?: TimeUnit;
  timeFormat?: TimeFormat;
  duplicateTimes?: DuplicateTimes;
  timeBin?: string;
  long?: LongColumns;
  id?: string;
  /** targets came from an outcomes file (joined on `id`): eval needs one too */
  outcomes?: boolean;
}

export interface PreparedData {
  train: SequenceDataset;
  valid?: SequenceDataset;
  normalization: Normalization;
  featureNames: string[];
  targetNames: string[];
  classes?: string[];
  preparation: DataPreparation;
  csv?: PreparedCsv;
  warnings: string[];
}

/** Where and how to read the data; the reading choices are those a checkpoint stores (DataPreparation). */
export interface ReadDataOptions extends Pick<DataPreparation, FileReading> {
  file: string;
  target?: string[];
  features?: string[];
  time?: string;
  sequence?: string;
  task: Task;
  targetMode?: TargetMode;
  window?: number;
  stride?: number;
  validFile?: string;
  validSplit?: number;
  seed?: number;
  /** .npy inputs */
  yFile?: string;
  timeFile?: string;
  timeKind?: "elapsed" | "absolute";
  /** from a checkpoint: reuse its statistics, classes and mask setting */
  normalization?: Normalization;
  missingMask?: boolean | "auto";
  classes?: string[];
  allowMissingTarget?: boolean;
  /** no standardisation and raw elapsed times (models trained elsewhere) */
  normalizeRaw?: boolean;
  /** with normalizeRaw: raw elapsed time of each CSV series' first step (default: the file's median gap) */
  firstElapsed?: number;
  onWarning?: (m: string) => void;
  onNote?: (m: string) => void;
  /** cells, columns and times (see DATA_FLAGS) */
  categorical?: string[];
  numeric?: string[];
  categories?: CategoricalColumn[];
  outcomesFile?: string;
  /** keep the wide CSV's cells for writing them back (predict) */
  keepInputCells?: boolean;
}

export function readData(o: ReadDataOptions): PreparedData {
  if (o.file.toLowerCase().endsWith(".npy")) {
    if (!o.yFile && !o.allowMissingTarget) throw new CliError(`${o.file}: .npy input needs the targets too: --y FILE.npy`, 2);
    const p = npyToDataset({
      x: o.file,
      y: o.yFile,
      time: o.timeFile,
      task: o.task,
      targetMode: o.targetMode,
      timeKind: o.timeKind,
      validSplit: o.validSplit,
      seed: o.seed,
      normalization: o.normalization,
      missingMask: o.missingMask,
      numClasses: o.classes?.length,
      ...(o.task === "regress" && o.target && !o.yFile ? { targetNames: o.target } : {}),
      ...(o.normalizeRaw ? { normalize: false, timeScale: 1 } : {}),
    });
    return prepared(p, { source: "npy", target: p.targetNames, task: o.task, targetMode: p.targetMode, missingMask: p.missingMask, classes: p.classes, timeKind: o.timeKind }, []);
  }
  if (!o.target || o.target.length === 0) throw new CliError("--target COL[,COL] is required for CSV data", 2);
  const p = csvFileToDataset(o.file, {
    target: o.target,
    features: o.features,
    time: o.time,
    sequence: o.sequence,
    task: o.task,
    targetMode: o.targetMode,
    window: o.window,
    stride: o.stride,
    validFile: o.validFile,
    validSplit: o.validSplit,
    seed: o.seed,
    normalization: o.normalization,
    missingMask: o.missingMask,
    classes: o.classes,
    allowMissingTarget: o.allowMissingTarget,
    keepInputCells: o.keepInputCells,
    onWarning: o.onWarning,
    onNote: o.onNote,
    categorical: o.categorical,
    numeric: o.numeric,
    categories: o.categories,
    naValues: o.naValues,
    separator: o.separator,
    timeUnit: o.timeUnit,
    timeFormat: o.timeFormat,
    duplicateTimes: o.duplicateTimes,
    timeBin: o.timeBin,
    long: o.long,
    id: o.id,
    outcomesFile: o.outcomesFile,
    ...(o.normalizeRaw ? { normalize: false, timeScale: 1, ...(o.firstElapsed !== undefined ? { firstElapsed: o.firstElapsed } : {}) } : {}),
  });
  const preparation: DataPreparation = {
    source: "csv",
    target: [...o.target],
    features: p.featureColumns,
    time: o.time,
    sequence: o.sequence,
    task: o.task,
    targetMode: p.targetMode,
    window: o.window,
    stride: o.stride,
    missingMask: p.missingMask,
    classes: p.classes,
    ...(p.categorical.length > 0 ? { categorical: p.categorical } : {}),
    ...(o.naValues ? { naValues: o.naValues } : {}),
    ...(o.separator ? { separator: o.separator } : {}),
    ...(o.timeUnit ? { timeUnit: o.timeUnit } : {}),
    ...(p.timeFormat ? { timeFormat: p.timeFormat } : {}),
    ...(o.duplicateTimes ? { duplicateTimes: o.duplicateTimes } : {}),
    ...(o.timeBin ? { timeBin: o.timeBin } : {}),
    ...(o.long ? { long: o.long } : {}),
    ...(o.id ? { id: o.id } : {}),
    ...(o.outcomesFile ? { outcomes: true } : {}),
  };
  return { ...prepared(p, preparation, p.warnings), csv: p };
}

/** The parts of a loader's result that train / eval / predict use, with how the data was prepared. */
function prepared(p: Omit<PreparedData, "preparation" | "warnings" | "csv">, preparation: DataPreparation, warnings: string[]): PreparedData {
  const { train, valid, normalization, featureNames, targetNames, classes } = p;
  return { train, valid, normalization, featureNames, targetNames, classes, preparation, warnings };
}

/** Column choices given on the command line, for checkpoints that carry no data preparation. */
export interface DataOverrides {
  yFile?: string;
  timeFile?: string;
  /** per-sequence targets for a model trained with --outcomes (eval) */
  outcomesFile?: string;
  onWarning?: (m: string) => void;
  onNote?: (m: string) => void;
  target?: string[];
  features?: string[];
  time?: string;
  sequence?: string;
  task?: Task;
  /** keep the wide CSV's cells for writing them back (predict) */
  keepInputCells?: boolean;
  /** the model's outputs: with no target names stored or given, they are named y0..y{n-1} */
  outputCount?: number;
  /** the model's inputs, named in messages */
  inputCount?: number;
  /** raw elapsed time of each series' first step (CSV); see readDataForModel */
  firstGap?: number;
}

/** Default names of a model's outputs when nothing names them: y0, y1, ... */
export function defaultOutputNames(count: number): string[] {
  return Array.from({ length: count }, (_, k) => `y${k}`);
}

/**
 * Re-reads data for a trained model with the preparation stored in its checkpoint. A checkpoint that
 * has none (e.g. written by tools/export_ncps.py from a PyTorch model) takes the columns from the
 * command line and feeds the values unscaled, with raw elapsed times, as the PyTorch model saw them.
 * The first step of each series has no previous row: it gets `firstGap` raw time units (default 1, as
 * ncps's timespans default, for a checkpoint without preparation; the stored training median gap
 * otherwise), so a series predicted alone gets the same outputs as inside a larger file.
 */
export function readDataForModel(file: string, extras: CheckpointExtras, modelFile: string, allowMissingTarget: boolean, o: DataOverrides = {}): PreparedData {
  const prep = extras.data as DataPreparation | undefined;
  if (!prep || typeof prep !== "object") {
    const given = o.target ?? (extras.target_names as string[] | undefined);
    if (!given && !allowMissingTarget) {
      throw new CliError(`${modelFile} carries no data preparation (it was not written by ncps train): name the columns with --target COLS [--features COLS --time COL --sequence COL --task regress|classify]`, 2);
    }
    if (!file.toLowerCase().endsWith(".npy") && !o.target && !o.features) {
      throw new CliError(`${modelFile} carries no data preparation (it was not written by ncps train, e.g. exported from PyTorch): name the input columns with --features COLS${o.inputCount ? ` (the model takes ${o.inputCount})` : ""} [--time COL --sequence COL --target NAMES --task regress|classify]`, 2);
    }
    const target = given ?? (o.outputCount ? defaultOutputNames(o.outputCount) : undefined);
    return readData({
      file,
      target: target ?? ["output"],
      firstElapsed: o.firstGap ?? 1,
      features: o.features,
      time: o.time,
      sequence: o.sequence,
      task: o.task ?? (extras.task as Task | undefined) ?? "regress",
      missingMask: false,
      normalizeRaw: true,
      allowMissingTarget,
      yFile: o.yFile,
      timeFile: o.timeFile,
      onWarning: o.onWarning,
      onNote: o.onNote,
      keepInputCells: o.keepInputCells,
    });
  }
  if (o.target || o.features || o.time || o.sequence || o.task) {
    throw new CliError(`${modelFile} stores how its data was prepared; --target, --features, --time, --sequence and --task are only for checkpoints without it`, 2);
  }
  if (!extras.normalization) throw new CliError(`${modelFile}: the checkpoint has no normalization metadata`);
  checkPreparation(prep, modelFile);
  const normalization = o.firstGap === undefined ? extras.normalization : { ...extras.normalization, firstElapsed: o.firstGap };
  if (prep.outcomes && !o.outcomesFile && !allowMissingTarget) {
    throw new CliError(`${modelFile} was trained with targets from an outcomes file joined on ${prep.id}: pass --outcomes FILE`, 2);
  }
  return readData({
    file,
    target: prep.target,
    features: prep.features,
    time: prep.time,
    sequence: prep.sequence,
    task: prep.task,
    targetMode: prep.targetMode,
    window: prep.window,
    stride: prep.stride,
    normalization,
    missingMask: prep.missingMask,
    classes: prep.classes,
    allowMissingTarget,
    yFile: o.yFile,
    timeFile: o.timeFile,
    timeKind: prep.timeKind,
    categories: prep.categorical ?? [],
    naValues: prep.naValues,
    separator: prep.separator,
    timeUnit: prep.timeUnit,
    timeFormat: prep.timeFormat,
    duplicateTimes: prep.duplicateTimes,
    timeBin: prep.timeBin,
    long: prep.long,
    id: prep.id,
    outcomesFile: o.outcomesFile,
    onWarning: o.onWarning,
    onNote: o.onNote,
    keepInputCells: o.keepInputCells,
  });
}

/** Light checks of the stored entries this file reads back (a damaged file gets a message naming it). */
function checkPreparation(prep: DataPreparation, modelFile: string): void {
  const bad = (what: string, value: unknown): never => {
    throw new CliError(`${modelFile}: metadata entry "data": "${what}" is not valid (${JSON.stringify(value)})`);
  };
  const strings = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === "string");
  if (prep.categorical !== undefined && !(Array.isArray(prep.categorical) && prep.categorical.every((c) => typeof c?.column === "string" && strings(c.values)))) bad("categorical", prep.categorical);
  if (prep.naValues !== undefined && !strings(prep.naValues)) bad("naValues", prep.naValues);
  if (prep.timeUnit !== undefined && !isTimeUnit(prep.timeUnit)) bad("timeUnit", prep.timeUnit);
  if (prep.duplicateTimes !== undefined && !DUPLICATE_TIMES.includes(prep.duplicateTimes)) bad("duplicateTimes", prep.duplicateTimes);
  if (prep.timeFormat !== undefined && !["number", "datetime", "duration"].includes(prep.timeFormat)) bad("timeFormat", prep.timeFormat);
  if (prep.long !== undefined && !(typeof prep.long?.time === "string" && typeof prep.long.variable === "string" && typeof prep.long.value === "string")) bad("long", prep.long);
}

/**
 * The data flags eval and predict accept: the columns, for checkpoints without a data preparation, and
 * the per-sequence targets of a model trained with --outcomes.
 */
export const COLUMN_FLAGS = {
  target: { type: "string" },
  features: { type: "string" },
  time: { type: "string" },
  sequence: { type: "string" },
  task: { type: "string" },
  outcomes: { type: "string" },
} as const;

export function columnOverrides(flags: Record<string, string | boolean | undefined>, usage: string): DataOverrides {
  const list = (v: string | boolean | undefined) => (typeof v === "string" ? v.split(",").map((x) => x.trim()).filter(Boolean) : undefined);
  const task = flags.task as string | undefined;
  if (task !== undefined && task !== "regress" && task !== "classify") throw new CliError(`--task must be regress or classify, got '${task}'`, 2, usage);
  const o: DataOverrides = {};
  if (flags.target !== undefined) o.target = list(flags.target);
  if (flags.features !== undefined) o.features = list(flags.features);
  if (typeof flags.time === "string") o.time = flags.time;
  if (typeof flags.sequence === "string") o.sequence = flags.sequence;
  if (task) o.task = task;
  if (typeof flags.outcomes === "string") o.outcomesFile = flags.outcomes;
  return o;
}

/** How `ncps train` reads cells, columns and times (besides --target, --features, --time, --sequence). */
export const DATA_FLAGS = {
  categorical: { type: "string" },
  numeric: { type: "string" },
  "na-values": { type: "string" },
  sep: { type: "string" },
  "time-unit": { type: "string" },
  "duplicate-times": { type: "string" },
  "time-bin": { type: "string" },
  long: { type: "string" },
  outcomes: { type: "string" },
  id: { type: "string" },
} as const;

/** The usage lines of {@link DATA_FLAGS}. */
export const DATA_USAGE = `  --categorical COLS     one-hot encode these columns     --numeric COLS    refuse text in these columns
                         (default: columns of text are one-hot encoded with the training split's values)
  --na-values LIST       missing-value tokens besides empty cells (default NA,N/A,NaN,nan,null,NULL,None,?)
  --sep CHAR             field separator: , ; tab | ... (default: read from the header)
  --time-unit UNIT       s|ms|us|ns|min|h|d of numeric times  --time-bin WIDTH  one step per interval (1h, 30min)
  --duplicate-times merge|keep|error  rows of a sequence at one time (default merge: averaged)
  --long TIME,VAR,VALUE  one measurement per row (DATA may then be a directory of record files)
  --outcomes FILE --id COL  per-sequence targets from FILE, joined on the sequence (record) id in COL`;

/** The options of {@link DATA_FLAGS}, checked. */
export function dataFlagOptions(flags: Record<string, string | boolean | undefined>, usage: string): Partial<ReadDataOptions> {
  const list = (v: string | boolean | undefined) => (typeof v === "string" ? v.split(",").map((x) => x.trim()).filter(Boolean) : undefined);
  const str = (name: string) => (typeof flags[name] === "string" ? (flags[name] as string) : undefined);
  const o: Partial<ReadDataOptions> = {};
  if (str("categorical") !== undefined) o.categorical = list(flags.categorical);
  if (str("numeric") !== undefined) o.numeric = list(flags.numeric);
  // "--na-values ''" leaves only empty cells missing.
  if (str("na-values") !== undefined) o.naValues = str("na-values")!.split(",").map((x) => x.trim()).filter(Boolean);
  const sep = str("sep");
  if (sep !== undefined) {
    const named: Record<string, string> = { tab: "\t", "\\t": "\t", comma: ",", semicolon: ";" };
    const value = named[sep] ?? sep;
    if (value.length !== 1 || value === '"') throw new CliError(`--sep must be one character (or tab), got '${sep}'`, 2, usage);
    o.separator = value;
  }
  const unit = str("time-unit");
  if (unit !== undefined) {
    if (!isTimeUnit(unit)) throw new CliError(`--time-unit must be one of s, ms, us, ns, min, h, d, got '${unit}'`, 2, usage);
    o.timeUnit = unit;
  }
  const dup = str("duplicate-times");
  if (dup !== undefined) {
    if (!(DUPLICATE_TIMES as readonly string[]).includes(dup)) throw new CliError(`--duplicate-times must be one of ${DUPLICATE_TIMES.join(", ")}, got '${dup}'`, 2, usage);
    o.duplicateTimes = dup as DuplicateTimes;
  }
  if (str("time-bin") !== undefined) o.timeBin = str("time-bin");
  const long = str("long");
  if (long !== undefined) {
    try {
      o.long = parseLongSpec(long);
    } catch (e) {
      throw new CliError((e as Error).message, 2, usage);
    }
  }
  if (str("outcomes") !== undefined) o.outcomesFile = str("outcomes");
  if (str("id") !== undefined) o.id = str("id");
  return o;
}
