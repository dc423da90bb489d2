/**
 * The training loop: `fit(model, train, options)` runs epochs of shuffled mini-batches (forward with
 * dropout, loss over the batch's labelled steps or samples, backward, optional gradient clipping, one
 * optimizer step), evaluates on a validation set after every epoch, and can stop early, write
 * checkpoints and resume from them.
 *
 * Reproducibility: with the same seed, options and backend, two runs take the same batches and end with
 * the same weights, bit for bit. A run resumed from a checkpoint written at the end of an epoch ends with
 * the same weights as a run that was never interrupted (weights, optimizer buffers and both generators
 * are saved; schedules depend only on the epoch and step count).
 *
 * Checkpoints written by fit store the weights in the model's dtype (float32 for the wasm backend), so
 * that resuming is exact. Stopping from onBatchEnd ends the epoch in progress early; a checkpoint written
 * then counts that epoch as done.
 *
 * With `threads: N > 1` each batch is split between the main thread and N - 1 worker threads (see
 * workers.ts); the gradients are summed before the single optimizer step, so the result equals the
 * one-thread result up to the order of floating-point sums. Dropout masks then come from per-step seeds
 * in the workers, so with dropout the runs are reproducible for a given thread count only.
 */
import { type SequenceDataset, validateDataset } from "../data/dataset.js";
import {
  type CheckpointExtras,
  type TrainingCheckpoint,
  type TrainingState,
  applyCheckpoint,
  checkSameModel,
  datasetExtras,
  readCheckpoint,
  rngFromJson,
  rngToJson,
  saveCheckpoint,
} from "./checkpoint.js";
import type { RecurrentModel } from "../models/recurrent.js";
import { Rng } from "../nn/rng.js";
import type { Tensor } from "../tensor.js";
import { clipGradNorm } from "./clip.js";
import { checkBatchSize, predictDataset, resolveMetrics, scorePredictions, type EvaluateResult } from "./evaluate.js";
import { METRICS, type MetricName } from "./metrics.js";
import { type AnyOptimizerOptions, createOptimizer, type Optimizer, type OptimizerKind } from "./optimizers.js";
import { parseSchedule, type Schedule } from "./schedules.js";
import { BatchAssembler, checkModelFits, labelWeight, type LossSpec, modelShape, predictShard, resolveLoss, trainShard } from "./shard.js";
import { splitEvenly, WorkerPool } from "./workers.js";

export interface EarlyStoppingOptions {
  /** epochs without improvement before stopping */
  patience: number;
  /** validation value watched: "loss" (default) or a metric name */
  metric?: "loss" | MetricName;
  /** an improvement must beat the best value by more than this (default 0) */
  minDelta?: number;
  /** load the best epoch's weights when the run ends (default true) */
  restoreBest?: boolean;
}

export interface BatchInfo {
  /** 1-based epoch and batch within the epoch */
  epoch: number;
  batch: number;
  batches: number;
  /** optimizer steps taken so far, this one included */
  globalStep: number;
  samples: number;
  /** mean loss of this batch */
  loss: number;
  lr: number;
  /** gradient norm before clipping (only with clipNorm) */
  gradNorm: number | null;
  /** ends the epoch after this batch and then the run */
  stop(): void;
}

export interface EpochRecord {
  /** 1-based */
  epoch: number;
  epochs: number;
  lr: number;
  /** mean training loss over the epoch's labels (with dropout, before each step's update) */
  trainLoss: number;
  validLoss: number | null;
  validMetrics: Record<string, number> | null;
  /** wall time of the whole epoch (validation included) and of its training part */
  seconds: number;
  trainSeconds: number;
  /** training samples per second of training time */
  samplesPerSecond: number;
  globalStep: number;
  /** true when the watched validation value improved this epoch */
  improved: boolean;
  best: { metric: string; value: number; epoch: number } | null;
}

export interface EpochInfo extends EpochRecord {
  /** ends the run after this epoch */
  stop(): void;
}

export interface TrainCallbacks {
  /** return false (or call info.stop()) to stop after this batch */
  onBatchEnd?(info: BatchInfo): void | boolean;
  /** return false (or call info.stop()) to stop after this epoch */
  onEpochEnd?(info: EpochInfo): void | boolean | Promise<void | boolean>;
}

export interface FitOptions {
  epochs: number;
  /** default 32 */
  batchSize?: number;
  /** default "adam" */
  optimizer?: OptimizerKind;
  /** base learning rate (default 1e-3) */
  lr?: number;
  weightDecay?: number;
  /** further optimizer settings (betas, eps, momentum, alpha, centered, dampening, nesterov) */
  optimizerOptions?: Omit<Partial<AnyOptimizerOptions>, "lr" | "weightDecay">;
  /** global gradient-norm clipping threshold */
  clipNorm?: number | null;
  /** learning-rate schedule: a parseSchedule string ("exp:0.95", "warmup:2,cosine:50", ...) or a Schedule */
  schedule?: string | Schedule;
  /** "mse", "cross_entropy" or "bce" (one logit, binary); default by task */
  loss?: string;
  classWeights?: ArrayLike<number> | null;
  valid?: SequenceDataset | null;
  /** validation metrics (default by task) */
  metrics?: readonly (MetricName | string)[];
  earlyStopping?: EarlyStoppingOptions | null;
  callbacks?: TrainCallbacks;
  /** seed of the batch order (and of dropout in worker threads); default 0 */
  seed?: number;
  /** shuffle the samples every epoch (default true) */
  shuffle?: boolean;
  /** 1 (default): train in this thread; N > 1: N - 1 worker threads plus this one */
  threads?: number;
  /** samples per forward pass when evaluating (default max(batchSize, 256)) */
  evalBatchSize?: number;
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

export interface FitResult {
  history: EpochRecord[];
  /** epochs completed in total (those of a resumed run included) */
  epochs: number;
  globalStep: number;
  stopReason: "completed" | "early_stopping" | "callback";
  best: { metric: string; value: number; epoch: number } | null;
  /** true when the best epoch's weights were loaded back at the end */
  restoredBest: boolean;
}

function checkOptions(model: RecurrentModel, train: SequenceDataset, o: FitOptions): void {
  if (!o || typeof o !== "object") throw new Error("fit: options must be an object with at least epochs");
  if (!Number.isInteger(o.epochs) || o.epochs < 0) throw new Error(`fit: epochs must be a non-negative integer, got ${JSON.stringify(o.epochs)}`);
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 1)) throw new Error(`fit: threads must be a positive integer, got ${JSON.stringify(o.threads)}`);
  if (o.clipNorm !== undefined && o.clipNorm !== null && !(typeof o.clipNorm === "number" && o.clipNorm > 0 && Number.isFinite(o.clipNorm))) {
    throw new Error(`fit: clipNorm must be a positive number, got ${JSON.stringify(o.clipNorm)}`);
  }
  if (o.checkpointEvery !== undefined && (!Number.isInteger(o.checkpointEvery) || o.checkpointEvery < 1)) {
    throw new Error(`fit: checkpointEvery must be a positive integer (epochs), got ${JSON.stringify(o.checkpointEvery)}`);
  }
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw new Error(`fit: seed must be an integer, got ${JSON.stringify(o.seed)}`);
  const es = o.earlyStopping;
  if (es) {
    if (!Number.isInteger(es.patience) || es.patience < 1) throw new Error(`fit: earlyStopping.patience must be a positive integer, got ${JSON.stringify(es.patience)}`);
    if (!o.valid) throw new Error("fit: earlyStopping watches the validation set; pass options.valid");
    const m = es.metric ?? "loss";
    if (m !== "loss" && !(m in METRICS)) throw new Error(`fit: earlyStopping.metric "${m}" is not "loss" or a metric (${Object.keys(METRICS).join(", ")})`);
    if (es.minDelta !== undefined && !(Number.isFinite(es.minDelta) && es.minDelta >= 0)) throw new Error(`fit: earlyStopping.minDelta must be >= 0, got ${es.minDelta}`);
  }
  validateDataset(train, "train");
  checkModelFits(modelShape(model), train, train.targetMode, "train");
  if (o.valid) {
    validateDataset(o.valid, "valid");
    checkModelFits(modelShape(model), o.valid, o.valid.targetMode, "valid");
    const same = o.valid.task === train.task && o.valid.targetMode === train.targetMode && o.valid.targets === train.targets && o.valid.numClasses === train.numClasses;
    if (!same) throw new Error("fit: the validation set must have the training set's task, target mode, targets and classes");
  }
}

/** A 32-bit seed for (run seed, step, worker): distinct streams without any saved state. */
function stepSeed(seed: number, step: number, worker: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(step + 1, 0xc2b2ae35) ^ Math.imul(worker + 1, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Trains `model` in place on `train`; see FitOptions and the module comment. */
export async function fit(model: RecurrentModel, train: SequenceDataset, options: FitOptions): Promise<FitResult> {
  checkOptions(model, train, options);
  const epochs = options.epochs;
  const batchSize = checkBatchSize(options.batchSize ?? 32, "fit: batchSize");
  const evalBatchSize = checkBatchSize(options.evalBatchSize ?? Math.max(batchSize, 256), "fit: evalBatchSize");
  const threads = options.threads ?? 1;
  const seed = options.seed ?? 0;
  const shuffle = options.shuffle ?? true;
  const clipNorm = options.clipNorm ?? null;
  const loss: LossSpec = resolveLoss(train, model.outputSize, options.loss, options.classWeights);
  const valid = options.valid ?? null;
  const metrics = valid ? resolveMetrics(valid, options.metrics as string[] | undefined) : [];
  const baseLr = options.lr ?? 1e-3;
  const optimizer: Optimizer = createOptimizer(options.optimizer ?? "adam", { lr: baseLr, weightDecay: options.weightDecay, ...(options.optimizerOptions ?? {}) });
  const schedule: Schedule = typeof options.schedule === "string" ? parseSchedule(options.schedule) : (options.schedule ?? parseSchedule("constant"));
  const es = options.earlyStopping ?? null;
  const watched = es?.metric ?? "loss";
  const higherIsBetter = watched === "loss" ? false : METRICS[watched].higherIsBetter;
  const minDelta = es?.minDelta ?? 0;
  const restoreBest = es ? (es.restoreBest ?? true) : false;
  const checkpointPath = options.checkpointPath ?? null;
  const checkpointEvery = options.checkpointEvery ?? 1;
  const extras: CheckpointExtras = { ...datasetExtras(train), ...(options.checkpointExtras ?? {}) };
  const callbacks = options.callbacks ?? {};

  const shuffler = new Rng(seed);
  let epoch = 0;
  let globalStep = 0;
  let best: EpochRecord["best"] = null;
  let badEpochs = 0;
  let bestWeights: Map<string, Tensor> | null = null;
  let lr = baseLr;

  if (options.resumeFrom) {
    const ckpt = readCheckpoint(options.resumeFrom);
    checkSameModel(model, ckpt);
    if (!ckpt.training) throw new Error(`${options.resumeFrom}: the checkpoint holds no training state to resume from (it was not written by fit)`);
    const restoredBest = applyCheckpoint(model, ckpt);
    const s = ckpt.training.state;
    optimizer.loadState({ ...s.optimizer, buffers: ckpt.training.optimizerBuffers }, model.parameters());
    model.setRngState(rngFromJson(s.modelRng));
    shuffler.setState(rngFromJson(s.shuffleRng));
    epoch = s.epoch;
    globalStep = s.globalStep;
    best = s.best;
    badEpochs = s.badEpochs;
    lr = s.lr;
    bestWeights = restoredBest;
  }

  const trainingCheckpoint = (completed: boolean): TrainingCheckpoint => {
    const opt = optimizer.state();
    const state: TrainingState = {
      epoch,
      globalStep,
      seed,
      modelRng: rngToJson(model.getRngState()),
      shuffleRng: rngToJson(shuffler.getState()),
      optimizer: { kind: opt.kind, step: opt.step, lr: opt.lr, hyper: opt.hyper, paramSteps: opt.paramSteps },
      lr,
      best,
      badEpochs,
    };
    if (completed) state.completed = true;
    return { state, optimizerBuffers: opt.buffers, bestWeights };
  };
  const writeCheckpoint = (completed: boolean): void => {
    if (checkpointPath) saveCheckpoint(checkpointPath, model, extras, { training: trainingCheckpoint(completed), dtype: model.dtype });
  };

  const shape = modelShape(model);
  const trainAsm = new BatchAssembler(shape, train);
  const validAsm = valid ? new BatchAssembler(shape, valid) : null;
  const history: EpochRecord[] = [];
  let stopReason: FitResult["stopReason"] = "completed";
  let lastWritten = -1;
  let pool: WorkerPool | null = null;
  try {
    if (threads > 1 && epoch < epochs) pool = await WorkerPool.create(model, valid ? [train, valid] : [train], threads - 1, loss);

    const validate = async (): Promise<EvaluateResult | null> => {
      if (!valid || !validAsm) return null;
      let predictions;
      if (pool) {
        predictions = await pool.predict(model.parameters(), 1, evalBatchSize, (indices, dest) => {
          for (let s = 0; s < indices.length; s += evalBatchSize) predictShard(model, validAsm, indices.subarray(s, s + evalBatchSize), dest, valid.targetMode);
        });
      } else {
        predictions = predictDataset(model, valid, { batchSize: evalBatchSize });
      }
      return scorePredictions(valid, predictions, model.outputSize, loss, metrics);
    };

    const N = train.size;
    const order = new Int32Array(N);
    const batches = Math.ceil(N / batchSize);
    let stopRequested = false;
    while (epoch < epochs && !stopRequested) {
      const started = performance.now();
      lr = schedule.lrAt(epoch, baseLr, globalStep);
      optimizer.lr = lr;
      for (let i = 0; i < N; i++) order[i] = i;
      if (shuffle) shuffler.shuffle(order);
      let epochSum = 0;
      let epochWeight = 0;
      let samples = 0;
      for (let b = 0; b < batches && !stopRequested; b++) {
        const indices = order.subarray(b * batchSize, Math.min(N, (b + 1) * batchSize));
        if (schedule.perStep) {
          lr = schedule.lrAt(epoch, baseLr, globalStep);
          optimizer.lr = lr;
        }
        const total = labelWeight(train, indices, loss, model.outputSize);
        let sum: number;
        let weight: number;
        if (pool) {
          const parts = splitEvenly(indices.length, pool.size + 1);
          const shards = parts.map(([a, z]) => indices.subarray(a, z));
          pool.startTrain(model.parameters(), 0, shards.slice(1), total, shards.slice(1).map((_, k) => stepSeed(seed, globalStep, k)));
          model.zeroGrad();
          const mine = trainShard(model, trainAsm, shards[0], loss, total);
          const theirs = await pool.finishTrain(model.parameters());
          sum = mine.sum + theirs.sum;
          weight = mine.weight + theirs.weight;
        } else {
          model.zeroGrad();
          ({ sum, weight } = trainShard(model, trainAsm, indices, loss, total));
        }
        const params = model.parameters();
        const gradNorm = clipNorm !== null ? clipGradNorm(params, clipNorm) : null;
        optimizer.step(params);
        globalStep++;
        epochSum += sum;
        epochWeight += weight;
        samples += indices.length;
        if (callbacks.onBatchEnd) {
          const info: BatchInfo = {
            epoch: epoch + 1,
            batch: b + 1,
            batches,
            globalStep,
            samples: indices.length,
            loss: weight > 0 ? sum / weight : 0,
            lr,
            gradNorm,
            stop: () => {
              stopRequested = true;
            },
          };
          if (callbacks.onBatchEnd(info) === false) stopRequested = true;
        }
      }
      const trainSeconds = (performance.now() - started) / 1000;
      epoch++;

      const evaluation = await validate();
      let improved = false;
      if (evaluation) {
        const value = watched === "loss" ? evaluation.loss : evaluation.metrics[watched];
        improved = Number.isFinite(value) && (best === null || (higherIsBetter ? value > best.value + minDelta : value < best.value - minDelta));
        if (improved) {
          best = { metric: watched, value, epoch };
          badEpochs = 0;
          if (restoreBest) bestWeights = model.stateDict(); // a copy
        } else {
          badEpochs++;
        }
      }
      const earlyStop = es !== null && badEpochs >= es.patience;
      const record: EpochRecord = {
        epoch,
        epochs,
        lr,
        trainLoss: epochWeight > 0 ? epochSum / epochWeight : 0,
        validLoss: evaluation ? evaluation.loss : null,
        validMetrics: evaluation ? evaluation.metrics : null,
        seconds: (performance.now() - started) / 1000,
        trainSeconds,
        samplesPerSecond: trainSeconds > 0 ? samples / trainSeconds : 0,
        globalStep,
        improved,
        best,
      };
      history.push(record);
      if (checkpointPath && epoch % checkpointEvery === 0) {
        writeCheckpoint(false);
        lastWritten = epoch;
      }
      if (stopRequested) stopReason = "callback";
      if (callbacks.onEpochEnd) {
        const info: EpochInfo = {
          ...record,
          stop: () => {
            stopRequested = true;
          },
        };
        if ((await callbacks.onEpochEnd(info)) === false) stopRequested = true;
        if (stopRequested) stopReason = "callback";
      }
      if (earlyStop && !stopRequested) {
        stopRequested = true;
        stopReason = "early_stopping";
      }
    }
  } finally {
    if (pool) await pool.close();
  }

  let restoredBest = false;
  if (restoreBest && bestWeights && best && best.epoch !== epoch) {
    model.loadStateDict(bestWeights, "best weights");
    restoredBest = true;
  }
  if (checkpointPath && (restoredBest || lastWritten !== epoch)) writeCheckpoint(true);
  return { history, epochs: epoch, globalStep, stopReason, best, restoredBest };
}
