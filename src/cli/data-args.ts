/**
 * How `ncps train`, `eval` and `predict` read data: a CSV (columns named by flags) or .npy arrays.
 * Training stores the preparation (columns, windows, normalisation, classes) in the checkpoint, and
 * eval / predict prepare new data the same way from it.
 */
import type { CheckpointExtras } from "../train/checkpoint.js";
import { type PreparedCsv, csvFileToDataset } from "../data/csv-dataset.js";
import type { SequenceDataset, TargetMode, Task } from "../data/dataset.js";
import type { Normalization } from "../data/normalization.js";
import { npyToDataset } from "../data/npy-dataset.js";
import { CliError } from "./util.js";

/** What the checkpoint remembers of the data preparation (metadata key "data"). */
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

export interface ReadDataOptions {
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
  onWarning?: (m: string) => void;
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
    onWarning: o.onWarning,
    ...(o.normalizeRaw ? { normalize: false, timeScale: 1 } : {}),
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
  target?: string[];
  features?: string[];
  time?: string;
  sequence?: string;
  task?: Task;
}

/**
 * Re-reads data for a trained model with the preparation stored in its checkpoint. A checkpoint that
 * has none (e.g. written by tools/export_ncps.py from a PyTorch model) takes the columns from the
 * command line and feeds the values unscaled, with raw elapsed times, as the PyTorch model saw them.
 */
export function readDataForModel(file: string, extras: CheckpointExtras, modelFile: string, allowMissingTarget: boolean, o: DataOverrides = {}): PreparedData {
  const prep = extras.data as DataPreparation | undefined;
  if (!prep || typeof prep !== "object") {
    const target = o.target ?? (extras.target_names as string[] | undefined);
    if (!target && !allowMissingTarget) {
      throw new CliError(`${modelFile} carries no data preparation (it was not written by ncps train): name the columns with --target COLS [--features COLS --time COL --sequence COL --task regress|classify]`, 2);
    }
    return readData({
      file,
      target: target ?? ["output"],
      features: o.features,
      time: o.time,
      sequence: o.sequence,
      task: o.task ?? (extras.task as Task | undefined) ?? "regress",
      missingMask: false,
      normalizeRaw: true,
      allowMissingTarget,
      yFile: o.yFile,
      timeFile: o.timeFile,
    });
  }
  if (o.target || o.features || o.time || o.sequence || o.task) {
    throw new CliError(`${modelFile} stores how its data was prepared; --target, --features, --time, --sequence and --task are only for checkpoints without it`, 2);
  }
  if (!extras.normalization) throw new CliError(`${modelFile}: the checkpoint has no normalization metadata`);
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
    normalization: extras.normalization,
    missingMask: prep.missingMask,
    classes: prep.classes,
    allowMissingTarget,
    yFile: o.yFile,
    timeFile: o.timeFile,
    timeKind: prep.timeKind,
  });
}

/** The column flags eval and predict accept for checkpoints without a data preparation. */
export const COLUMN_FLAGS = {
  target: { type: "string" },
  features: { type: "string" },
  time: { type: "string" },
  sequence: { type: "string" },
  task: { type: "string" },
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
  return o;
}
