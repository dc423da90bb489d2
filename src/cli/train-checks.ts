/**
 * What `ncps train` checks and says about its data before training: flags that contradict each other,
 * columns it cannot learn from, how a validation split went, and sequences too long to train on whole.
 * Each check works on the prepared datasets, so it holds for CSV and .npy input alike.
 */
import { labelledCount, type SequenceDataset, unobservedInputs } from "../data/dataset.js";
import type { PreparedData } from "./data-args.js";
import { CliError } from "./util.js";

/** Without --window, a sequence longer than this is trained on whole, which is slow: warn. */
export const LONG_SEQUENCE_STEPS = 2000;
/** The window suggested then: long enough for most memories, short enough to train fast. */
export const SUGGESTED_WINDOW = 256;

/** Refusals that need only the flags (before any data is read). */
export function checkTrainFlags(o: { target?: string[]; features?: string[]; patience?: string; hasValid: boolean }, usage: string): void {
  if (o.patience !== undefined && !o.hasValid) {
    throw new CliError(`--patience ${o.patience} stops on the validation loss, but there is no validation data: add --valid FILE or --valid-split FRACTION, or drop --patience`, 2, usage);
  }
  const both = (o.features ?? []).filter((f) => (o.target ?? []).includes(f));
  if (both.length > 0) {
    throw new CliError(`--features lists the target column${both.length > 1 ? "s" : ""} ${both.map((c) => JSON.stringify(c)).join(", ")}: a target cannot also be an input; drop it from --features`, 2, usage);
  }
}

/**
 * Refuses training data the model cannot learn from: a target with no labelled row, an input column
 * with no observed value. Messages name the columns.
 */
export function checkTrainable(data: PreparedData, split: boolean): void {
  const train = data.train;
  const where = split ? "the training part of the data" : "the training data";
  if (labelledCount(train) === 0) {
    const names = data.targetNames.map((c) => JSON.stringify(c)).join(", ");
    const which = data.targetNames.length > 1 ? `no row of ${where} has a value in every target column (${names})` : `target column ${names} has no labelled row in ${where} (every cell is empty or missing)`;
    throw new CliError(`--target: ${which}`, 1);
  }
  const never = unobservedInputs(train);
  if (never.length > 0) {
    const names = never.map((c) => JSON.stringify(c)).join(", ");
    throw new CliError(`feature column${never.length > 1 ? "s" : ""} ${names} ${never.length > 1 ? "have" : "has"} no observed value in ${where} (every cell is empty or missing): leave ${never.length > 1 ? "them" : "it"} out with --features COLS`, 1);
  }
}

/** Distinct source rows behind a dataset's steps (CSV: rows of the file; .npy: real steps). */
function rowsBehind(ds: SequenceDataset, rowIndex: Int32Array | null | undefined): number {
  if (rowIndex) {
    const seen = new Set<number>();
    for (const r of rowIndex) if (r >= 0) seen.add(r);
    return seen.size;
  }
  if (!ds.lengths) return ds.size * ds.steps;
  return ds.lengths.reduce((a, b) => a + b, 0);
}

const count = (n: number): string => n.toLocaleString("en-US");

/** One line saying how many sequences and rows went to training and to validation. */
export function describeSplit(data: PreparedData, o: { fraction?: number; validFile?: string; sequenceColumn?: string; window?: number }): string | null {
  const valid = data.valid;
  if (!valid) return null;
  const unit = o.window !== undefined ? "windows" : "sequences";
  const index = data.csv?.rowIndex;
  const trainRows = rowsBehind(data.train, index?.train);
  const validRows = rowsBehind(valid, index?.valid);
  const parts = `${count(data.train.size)} ${unit} (${count(trainRows)} rows) for training, ${count(valid.size)} ${unit} (${count(validRows)} rows) for validation`;
  if (o.validFile !== undefined) return `validation data from ${o.validFile}: ${parts}`;
  const oneSeries = data.csv !== undefined && (o.sequenceColumn === undefined || data.csv.sequenceIds.length === 1);
  const how = oneSeries ? "one series, split in time: its last rows validate" : "split by sequence";
  return `--valid-split ${o.fraction}: ${how}; ${parts}`;
}

/** The warning for sequences trained on whole that are long enough to make training slow, or null. */
export function longSequenceWarning(train: SequenceDataset, window: number | undefined): string | null {
  if (window !== undefined || train.steps <= LONG_SEQUENCE_STEPS) return null;
  return (
    `the longest training sequence has ${count(train.steps)} steps and no --window is given: each sequence is one sample, ` +
    `back-propagated through every step (slow, memory-hungry, few samples per epoch); consider --window ${SUGGESTED_WINDOW} ` +
    `(with --stride ${SUGGESTED_WINDOW / 2} for overlapping windows)`
  );
}
