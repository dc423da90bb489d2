/**
 * The training loop, portable (Node and browsers): `fit(model, train, options)` runs epochs of shuffled
 * mini-batches (forward with dropout, loss over the batch's labelled steps or samples, backward,
 * optional gradient clipping, one optimizer step), evaluates on a validation set after every epoch, and
 * can stop early and keep the best epoch's weights.
 *
 * This `fit` trains in the calling thread and touches no files. The Node entry's `fit` (trainer.ts) runs
 * the same loop with two services plugged in: worker threads that share each batch, and checkpoint files
 * to write and resume from (see {@link RunServices}).
 *
 * Reproducibility: with the same seed, options and backend, two runs take the same batches and end with
 * the same weights, bit for bit. Stopping from onBatchEnd ends the epoch in progress early.
 */
import { type SequenceDataset, validateDataset } from "../data/dataset.js";
import type { RecurrentModel } from "../models/recurrent.js";
import { Rng } from "../nn/rng.js";
import { type BestEpoch, EarlyStopping, type EarlyStoppingOptions } from "./early-stopping.js";
import { checkBatchSize, predictDataset, resolveMetrics, scorePredictions, type EvaluateResult } from "./evaluate.js";
import { type LossSpec, resolveLoss } from "./losses.js";
import { METRICS, type MetricName } from "./metrics.js";
import { type AnyOptimizerOptions, createOptimizer, type OptimizerKind } from "./optimizers.js";
import { RunState } from "./run-state.js";
import { parseSchedule, type Schedule } from "./schedules.js";
import { BatchAssembler, checkModelFits, modelShape, predictShard } from "./shard.js";
import { trainStep, type TrainStepContext, type TrainStepResult } from "./train-step.js";
import type { WorkerPool } from "./workers.js";

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
  best: BestEpoch | null;
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

/** The options of the portable `fit`; the Node entry's `fit` adds threads and checkpoint files. */
export interface CoreFitOptions {
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
  /**
   * Load the weights of the best validation epoch (by `earlyStopping.metric`, else the loss) when the
   * run ends; needs `valid`. Default: `earlyStopping.restoreBest` (true) with early stopping, else false.
   */
  restoreBest?: boolean;
  callbacks?: TrainCallbacks;
  /** seed of the batch order (and of dropout in worker threads); default 0 */
  seed?: number;
  /** shuffle the samples every epoch (default true) */
  shuffle?: boolean;
  /** samples per forward pass when evaluating (default max(batchSize, 256)) */
  evalBatchSize?: number;
  /**
   * What a batch whose loss or gradient is NaN or infinite does: "error" (default) stops the run with a
   * {@link DivergenceError}; "skip-batch" leaves the weights as they were, counts the batch in
   * `FitResult.skippedBatches` and goes on. Weights that overflow in an update, or a non-finite
   * validation loss ("error" mode only), stop the run.
   */
  onNonFinite?: NonFinitePolicy;
}

export type NonFinitePolicy = "error" | "skip-batch";

/** Training diverged: a loss, a gradient or the weights became NaN or infinite. */
export class DivergenceError extends Error {
  constructor(
    /** 1-based epoch and batch (batch null: the validation after the epoch) */
    readonly epoch: number,
    readonly batch: number | null,
    /** what went non-finite, e.g. "the loss" or "the gradient of parameter rnn.ff1.weight" */
    readonly what: string,
  ) {
    const where = batch === null ? `in the validation after epoch ${epoch}` : `at epoch ${epoch}, batch ${batch}`;
    super(
      `training diverged ${where}: ${what} is not finite (NaN or infinite); ` +
        "try a lower learning rate (--lr), gradient clipping (--clip), or check the inputs and timespans for extreme values",
    );
    this.name = "DivergenceError";
  }
}

export interface FitResult {
  history: EpochRecord[];
  /** epochs completed in total (those of a resumed run included) */
  epochs: number;
  globalStep: number;
  stopReason: "completed" | "early_stopping" | "callback";
  best: BestEpoch | null;
  /** true when the best epoch's weights were loaded back at the end */
  restoredBest: boolean;
  /** the epoch whose weights the model holds at the end: the best one when restored, else the last */
  modelEpoch: number;
  /** batches of this call left without an update because their loss or gradient was not finite (onNonFinite "skip-batch") */
  skippedBatches: number;
}

/**
 * What the Node entry plugs into a run. Every service is optional; without any, the run is the
 * portable one-thread run.
 */
export interface RunServices {
  /** Takes over a saved run (weights, optimizer, generators, counters) before the first epoch. */
  resume?(state: RunState): void;
  /** Starts the threads that share each batch (called once, before the first epoch, when one is left to run). */
  startPool?(model: RecurrentModel, datasets: readonly SequenceDataset[], loss: LossSpec): Promise<WorkerPool>;
  /** Writes the run: every `every` epochs (completed: false) and once when it ends (completed: true). */
  checkpoint?: { readonly every: number; save(state: RunState, completed: boolean): void };
}

/** Options only the Node entry's fit understands, refused here with a pointer to it. */
const NODE_ONLY = ["threads", "resumeFrom", "checkpointPath"] as const;

function checkOptions(model: RecurrentModel, train: SequenceDataset, o: CoreFitOptions): void {
  if (!o || typeof o !== "object") throw new Error("fit: options must be an object with at least epochs");
  if (!Number.isInteger(o.epochs) || o.epochs < 0) throw new Error(`fit: epochs must be a non-negative integer, got ${JSON.stringify(o.epochs)}`);
  if (o.clipNorm !== undefined && o.clipNorm !== null && !(typeof o.clipNorm === "number" && o.clipNorm > 0 && Number.isFinite(o.clipNorm))) {
    throw new Error(`fit: clipNorm must be a positive number, got ${JSON.stringify(o.clipNorm)}`);
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
  if (o.onNonFinite !== undefined && o.onNonFinite !== "error" && o.onNonFinite !== "skip-batch") {
    throw new Error(`fit: onNonFinite must be "error" or "skip-batch", got ${JSON.stringify(o.onNonFinite)}`);
  }
  if (o.restoreBest !== undefined && typeof o.restoreBest !== "boolean") throw new Error(`fit: restoreBest must be true or false, got ${JSON.stringify(o.restoreBest)}`);
  if (o.restoreBest && !o.valid) throw new Error("fit: restoreBest keeps the best validation epoch; pass options.valid");
  validateDataset(train, "train");
  checkModelFits(modelShape(model), train, train.targetMode, "train");
  if (o.valid) {
    validateDataset(o.valid, "valid");
    checkModelFits(modelShape(model), o.valid, o.valid.targetMode, "valid");
    const same = o.valid.task === train.task && o.valid.targetMode === train.targetMode && o.valid.targets === train.targets && o.valid.numClasses === train.numClasses;
    if (!same) throw new Error("fit: the validation set must have the training set's task, target mode, targets and classes");
  }
}

/** fit's options, checked, with the defaults filled in. */
interface FitSettings {
  epochs: number;
  batchSize: number;
  evalBatchSize: number;
  seed: number;
  shuffle: boolean;
  clipNorm: number | null;
  loss: LossSpec;
  valid: SequenceDataset | null;
  metrics: MetricName[];
  baseLr: number;
  callbacks: TrainCallbacks;
  onNonFinite: NonFinitePolicy;
}

function resolveSettings(model: RecurrentModel, train: SequenceDataset, options: CoreFitOptions): FitSettings {
  checkOptions(model, train, options);
  const batchSize = checkBatchSize(options.batchSize ?? 32, "fit: batchSize");
  const valid = options.valid ?? null;
  return {
    epochs: options.epochs,
    batchSize,
    evalBatchSize: checkBatchSize(options.evalBatchSize ?? Math.max(batchSize, 256), "fit: evalBatchSize"),
    seed: options.seed ?? 0,
    shuffle: options.shuffle ?? true,
    clipNorm: options.clipNorm ?? null,
    loss: resolveLoss(train, model.outputSize, options.loss, options.classWeights),
    valid,
    metrics: valid ? resolveMetrics(valid, options.metrics as string[] | undefined) : [],
    baseLr: options.lr ?? 1e-3,
    callbacks: options.callbacks ?? {},
    onNonFinite: options.onNonFinite ?? "error",
  };
}

/**
 * Trains `model` in place on `train`, in this thread (Node or a browser); see CoreFitOptions and the
 * module comment. Worker threads and checkpoint files need the Node entry's fit ("ncps-ts/node").
 */
export async function fit(model: RecurrentModel, train: SequenceDataset, options: CoreFitOptions): Promise<FitResult> {
  const given = (options ?? {}) as unknown as Record<string, unknown>;
  for (const key of NODE_ONLY) {
    const v = given[key];
    if (v === undefined || v === null || (key === "threads" && v === 1)) continue;
    throw new Error(`fit: option ${key} (${JSON.stringify(v)}) needs Node (worker threads and files); import { fit } from "ncps-ts/node" there, or leave it out`);
  }
  return runFit(model, train, options, {});
}

/** The loop shared by both entries' fit: `services` adds threads and checkpoints (see RunServices). */
export async function runFit(model: RecurrentModel, train: SequenceDataset, options: CoreFitOptions, services: RunServices): Promise<FitResult> {
  const run = FitRun.start(model, train, options, services);
  try {
    await run.startWorkers();
    while (run.wantsAnotherEpoch()) await run.runEpoch();
  } finally {
    await run.stopWorkers();
  }
  return run.finish();
}

/** One call of fit: its settings, its saved state, and the phases of an epoch. */
class FitRun {
  private readonly history: EpochRecord[] = [];
  private readonly order: Int32Array;
  private readonly trainAssembler: BatchAssembler;
  private readonly validAssembler: BatchAssembler | null;
  private pool: WorkerPool | null = null;
  private stopRequested = false;
  private stopReason: FitResult["stopReason"] = "completed";
  /** epoch of the latest checkpoint written (-1: none yet) */
  private lastWritten = -1;
  private skippedBatches = 0;

  private constructor(
    private readonly model: RecurrentModel,
    private readonly train: SequenceDataset,
    private readonly settings: FitSettings,
    private readonly schedule: Schedule,
    private readonly state: RunState,
    private readonly services: RunServices,
  ) {
    const shape = modelShape(model);
    this.trainAssembler = new BatchAssembler(shape, train);
    this.validAssembler = settings.valid ? new BatchAssembler(shape, settings.valid) : null;
    this.order = new Int32Array(train.size);
  }

  /** Checks the options, builds the optimizer and run state, and resumes the saved run if asked. */
  static start(model: RecurrentModel, train: SequenceDataset, options: CoreFitOptions, services: RunServices): FitRun {
    const settings = resolveSettings(model, train, options);
    const optimizer = createOptimizer(options.optimizer ?? "adam", { lr: settings.baseLr, weightDecay: options.weightDecay, ...(options.optimizerOptions ?? {}) });
    const schedule = typeof options.schedule === "string" ? parseSchedule(options.schedule) : (options.schedule ?? parseSchedule("constant"));
    const es = options.earlyStopping ?? null;
    const early = new EarlyStopping(es, options.restoreBest ?? (es ? (es.restoreBest ?? true) : false));
    const state = new RunState(model, optimizer, new Rng(settings.seed), settings.seed, early, settings.baseLr);
    services.resume?.(state);
    return new FitRun(model, train, settings, schedule, state, services);
  }

  /** What trainStep needs (the pool, when there is one, is started by then). */
  private stepContext(): TrainStepContext {
    const { model, train, settings, state } = this;
    return { model, train, assembler: this.trainAssembler, loss: settings.loss, optimizer: state.optimizer, clipNorm: settings.clipNorm, pool: this.pool, seed: settings.seed };
  }

  /** With a thread service, starts the workers (none when no epoch is left to run). */
  async startWorkers(): Promise<void> {
    const { valid, loss } = this.settings;
    const start = this.services.startPool;
    if (start && this.state.epoch < this.settings.epochs) this.pool = await start(this.model, valid ? [this.train, valid] : [this.train], loss);
  }

  async stopWorkers(): Promise<void> {
    if (this.pool) await this.pool.close();
  }

  wantsAnotherEpoch(): boolean {
    return this.state.epoch < this.settings.epochs && !this.stopRequested;
  }

  /** One epoch, phase by phase. */
  async runEpoch(): Promise<void> {
    const started = performance.now();
    this.applySchedule();
    this.shuffleBatches();
    const totals = await this.trainBatches();
    const trainSeconds = (performance.now() - started) / 1000;
    this.state.epoch++;
    const evaluation = await this.validate();
    const improved = evaluation !== null && this.state.earlyStopping.observe(evaluation, this.state.epoch, this.model);
    const record = this.recordEpoch(totals, evaluation, improved, started, trainSeconds);
    this.checkpointIfDue();
    await this.endEpoch(record);
  }

  /** Sets the learning rate for the coming step (per-step schedules) or epoch. */
  private applySchedule(): void {
    const { state } = this;
    state.lr = this.schedule.lrAt(state.epoch, this.settings.baseLr, state.globalStep);
    state.optimizer.lr = state.lr;
  }

  private shuffleBatches(): void {
    const order = this.order;
    for (let i = 0; i < order.length; i++) order[i] = i;
    if (this.settings.shuffle) this.state.shuffler.shuffle(order);
  }

  /** The epoch's optimizer steps, batch after batch, until the end of the data or a stop request. */
  private async trainBatches(): Promise<{ sum: number; weight: number; samples: number }> {
    const { order, state } = this;
    const { batchSize } = this.settings;
    const N = order.length;
    const batches = Math.ceil(N / batchSize);
    const steps = this.stepContext();
    let sum = 0;
    let weight = 0;
    let samples = 0;
    for (let b = 0; b < batches && !this.stopRequested; b++) {
      const indices = order.subarray(b * batchSize, Math.min(N, (b + 1) * batchSize));
      if (this.schedule.perStep) this.applySchedule();
      const step = await trainStep(steps, indices, state.globalStep);
      if (step.nonFinite) {
        if (step.nonFinite.updated || this.settings.onNonFinite === "error") throw new DivergenceError(state.epoch + 1, b + 1, step.nonFinite.what);
        // skip-batch: no update was made; the batch counts in neither the steps nor the epoch's loss
        this.skippedBatches++;
        continue;
      }
      state.globalStep++;
      sum += step.sum;
      weight += step.weight;
      samples += indices.length;
      this.reportBatch(b, batches, indices.length, step);
    }
    return { sum, weight, samples };
  }

  private reportBatch(b: number, batches: number, samples: number, step: TrainStepResult): void {
    const onBatchEnd = this.settings.callbacks.onBatchEnd;
    if (!onBatchEnd) return;
    const info: BatchInfo = {
      epoch: this.state.epoch + 1,
      batch: b + 1,
      batches,
      globalStep: this.state.globalStep,
      samples,
      loss: step.weight > 0 ? step.sum / step.weight : 0,
      lr: this.state.lr,
      gradNorm: step.gradNorm,
      stop: () => {
        this.stopRequested = true;
      },
    };
    if (onBatchEnd(info) === false) this.stopRequested = true;
  }

  /** Loss and metrics on the validation set (split between the threads when there are workers). */
  private async validate(): Promise<EvaluateResult | null> {
    const { model, pool, validAssembler } = this;
    const { valid, evalBatchSize, loss, metrics } = this.settings;
    if (!valid || !validAssembler) return null;
    let predictions;
    if (pool) {
      predictions = await pool.predict(model.parameters(), 1, evalBatchSize, (indices, dest) => {
        for (let s = 0; s < indices.length; s += evalBatchSize) predictShard(model, validAssembler, indices.subarray(s, s + evalBatchSize), dest, valid.targetMode);
      });
    } else {
      predictions = predictDataset(model, valid, { batchSize: evalBatchSize });
    }
    const evaluation = scorePredictions(valid, predictions, model.outputSize, loss, metrics);
    if (!Number.isFinite(evaluation.loss) && this.settings.onNonFinite === "error") throw new DivergenceError(this.state.epoch, null, "the validation loss");
    return evaluation;
  }

  private recordEpoch(
    totals: { sum: number; weight: number; samples: number },
    evaluation: EvaluateResult | null,
    improved: boolean,
    started: number,
    trainSeconds: number,
  ): EpochRecord {
    const { state } = this;
    const record: EpochRecord = {
      epoch: state.epoch,
      epochs: this.settings.epochs,
      lr: state.lr,
      trainLoss: totals.weight > 0 ? totals.sum / totals.weight : 0,
      validLoss: evaluation ? evaluation.loss : null,
      validMetrics: evaluation ? evaluation.metrics : null,
      seconds: (performance.now() - started) / 1000,
      trainSeconds,
      samplesPerSecond: trainSeconds > 0 ? totals.samples / trainSeconds : 0,
      globalStep: state.globalStep,
      improved,
      best: state.earlyStopping.best,
    };
    this.history.push(record);
    return record;
  }

  private checkpointIfDue(): void {
    const checkpoint = this.services.checkpoint;
    if (checkpoint && this.state.epoch % checkpoint.every === 0) {
      checkpoint.save(this.state, false);
      this.lastWritten = this.state.epoch;
    }
  }

  /** The epoch callback, then whether the run stops (a callback's request wins over early stopping). */
  private async endEpoch(record: EpochRecord): Promise<void> {
    const onEpochEnd = this.settings.callbacks.onEpochEnd;
    if (onEpochEnd) {
      const info: EpochInfo = {
        ...record,
        stop: () => {
          this.stopRequested = true;
        },
      };
      if ((await onEpochEnd(info)) === false) this.stopRequested = true;
    }
    if (this.stopRequested) {
      this.stopReason = "callback";
    } else if (this.state.earlyStopping.patienceExhausted) {
      this.stopRequested = true;
      this.stopReason = "early_stopping";
    }
  }

  /** After the last epoch: the best weights back if asked, the final checkpoint, the result. */
  finish(): FitResult {
    const { state } = this;
    const early = state.earlyStopping;
    const restoredBest = early.restoreBestWeights(this.model, state.epoch);
    const checkpoint = this.services.checkpoint;
    if (checkpoint && (restoredBest || this.lastWritten !== state.epoch)) checkpoint.save(state, true);
    const modelEpoch = restoredBest ? early.best!.epoch : state.epoch;
    return { history: this.history, epochs: state.epoch, globalStep: state.globalStep, stopReason: this.stopReason, best: early.best, restoredBest, modelEpoch, skippedBatches: this.skippedBatches };
  }
}
