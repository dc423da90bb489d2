/**
 * `fit` for Node: the portable training loop (fit.ts) plus the two things only Node has, worker threads
 * and files.
 *
 * - `threads: N > 1`: each batch is split between the main thread and N - 1 worker threads (see
 *   train-step.ts and workers.ts); the gradients are summed before the single optimizer step, so the
 *   result equals the one-thread result up to the order of floating-point sums. Dropout masks then come
 *   from per-step seeds in the workers, so with dropout the runs are reproducible for a given thread
 *   count only.
 * - `checkpointPath`: a checkpoint (weights and training state) is written every `checkpointEvery`
 *   epochs and when the run ends, atomically. The weights are stored in the model's dtype (float32 for
 *   the wasm backend), so that resuming is exact: a run resumed (`resumeFrom`) from a checkpoint written
 *   at the end of an epoch ends with the same weights as a run that was never interrupted (weights,
 *   optimizer buffers and both generators are saved; schedules depend only on the epoch and step
 *   count). A checkpoint written after a stop from onBatchEnd counts that epoch as done.
 */
import type { SequenceDataset } from "../data/dataset.js";
import type { RecurrentModel } from "../models/recurrent.js";
import { applyCheckpoint, type CheckpointExtras, checkSameModel, datasetExtras } from "./checkpoint.js";
import { readCheckpoint, saveCheckpoint } from "./checkpoint-file.js";
import { type CoreFitOptions, type FitResult, runFit, type RunServices } from "./fit.js";
import type { RunState } from "./run-state.js";
import { WorkerPool } from "./workers.js";

export type { BatchInfo, EpochInfo, EpochRecord, FitResult, TrainCallbacks, CoreFitOptions, RunServices, NonFinitePolicy } from "./fit.js";
export { DivergenceError } from "./fit.js";

export interface FitOptions extends CoreFitOptions {
  /** 1 (default): train in this thread; N > 1: N - 1 worker threads plus this one */
  threads?: number;
  /**
   * continue the run saved in this checkpoint (weights, optimizer state and hyperparameters, generators,
   * epoch, early-stopping state); `epochs` is the total, counting the epochs already done
   */
  resumeFrom?: string | null;
  /** write a checkpoint (with training state) here every `checkpointEvery` epochs and when the run ends */
  checkpointPath?: string | null;
  checkpointEvery?: number;
  /** metadata stored in checkpoints besides the dataset's own (task, classes, names) */
  checkpointExtras?: CheckpointExtras;
}

function checkNodeOptions(o: FitOptions): void {
  if (!o || typeof o !== "object") throw new Error("fit: options must be an object with at least epochs");
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 1)) throw new Error(`fit: threads must be a positive integer, got ${JSON.stringify(o.threads)}`);
  if (o.checkpointEvery !== undefined && (!Number.isInteger(o.checkpointEvery) || o.checkpointEvery < 1)) {
    throw new Error(`fit: checkpointEvery must be a positive integer (epochs), got ${JSON.stringify(o.checkpointEvery)}`);
  }
}

/** Writes the model and the run to `path` (weights in the model's dtype, so that resuming is exact). */
export function saveRun(state: RunState, path: string, extras: CheckpointExtras, completed: boolean): void {
  saveCheckpoint(path, state.model, extras, { training: state.snapshot(completed), dtype: state.model.dtype });
}

/** Continues the run saved at `path`, after checking it was saved from the same model by fit. */
export function resumeRun(state: RunState, path: string): void {
  const ckpt = readCheckpoint(path);
  checkSameModel(state.model, ckpt);
  if (!ckpt.training) throw new Error(`${path}: the checkpoint holds no training state to resume from (it was not written by fit)`);
  const bestWeights = applyCheckpoint(state.model, ckpt);
  state.restore(ckpt.training, bestWeights);
}

/** Trains `model` in place on `train`, with threads and checkpoints as asked; see FitOptions and fit.ts. */
export async function fit(model: RecurrentModel, train: SequenceDataset, options: FitOptions): Promise<FitResult> {
  checkNodeOptions(options);
  const { threads = 1, resumeFrom, checkpointPath, checkpointEvery = 1, checkpointExtras, ...core } = options;
  const services: RunServices = {};
  if (resumeFrom) services.resume = (state) => resumeRun(state, resumeFrom);
  if (threads > 1) services.startPool = (m, datasets, loss) => WorkerPool.create(m, datasets, threads - 1, loss);
  if (checkpointPath) {
    const extras: CheckpointExtras = { ...datasetExtras(train), ...(checkpointExtras ?? {}) };
    services.checkpoint = { every: checkpointEvery, save: (state, completed) => saveRun(state, checkpointPath, extras, completed) };
  }
  return runFit(model, train, core, services);
}
