/**
 * Everything a training run carries from one epoch to the next, and so everything a checkpoint must
 * hold for a resumed run to continue bit for bit: the weights and the model's dropout generator (in the
 * model), the optimizer's step counts, hyperparameters and buffers, the batch shuffler, the epoch and
 * step counts, the learning rate, and the early-stopping bookkeeping (best epoch, epochs since it, best
 * weights). `snapshot` and `restore` are the two directions of that one list.
 *
 * Not carried: the epoch history (a resumed run reports its own epochs) and anything derived from the
 * options, which the resumed run is given again. Portable: reading and writing the files is the Node
 * entry's part (trainer.ts).
 */
import type { RecurrentModel } from "../models/recurrent.js";
import type { Rng } from "../nn/rng.js";
import type { Tensor } from "../tensor.js";
import type { TrainingCheckpoint } from "./checkpoint.js";
import type { EarlyStopping } from "./early-stopping.js";
import type { Optimizer } from "./optimizers.js";

/** A generator state as JSON: NaN (which JSON cannot hold) becomes null. */
export function rngToJson(state: readonly number[]): Array<number | null> {
  return state.map((v) => (Number.isNaN(v) ? null : v));
}

export function rngFromJson(state: ReadonlyArray<number | null>): number[] {
  return state.map((v) => (v === null ? NaN : v));
}

export class RunState {
  /** completed epochs */
  epoch = 0;
  /** optimizer steps taken */
  globalStep = 0;
  /** learning rate of the latest step */
  lr: number;

  constructor(
    readonly model: RecurrentModel,
    readonly optimizer: Optimizer,
    /** orders the batches of every epoch */
    readonly shuffler: Rng,
    /** the run's seed (saved for reference; workers' dropout seeds derive from it) */
    readonly seed: number,
    readonly earlyStopping: EarlyStopping,
    baseLr: number,
  ) {
    this.lr = baseLr;
  }

  /** The run as a checkpoint's training part; `completed` marks a run that has ended. */
  snapshot(completed: boolean): TrainingCheckpoint {
    const opt = this.optimizer.state();
    const es = this.earlyStopping;
    const state: TrainingCheckpoint["state"] = {
      epoch: this.epoch,
      globalStep: this.globalStep,
      seed: this.seed,
      modelRng: rngToJson(this.model.getRngState()),
      shuffleRng: rngToJson(this.shuffler.getState()),
      optimizer: { kind: opt.kind, step: opt.step, lr: opt.lr, hyper: opt.hyper, paramSteps: opt.paramSteps },
      lr: this.lr,
      best: es.best,
      badEpochs: es.badEpochs,
    };
    if (completed) state.completed = true;
    return { state, optimizerBuffers: opt.buffers, bestWeights: es.bestWeights };
  }

  /**
   * Takes back a snapshot, the model's weights being already loaded; `bestWeights` are the snapshot's,
   * converted to the model's dtype.
   */
  restore(training: TrainingCheckpoint, bestWeights: Map<string, Tensor> | null): void {
    const s = training.state;
    this.optimizer.loadState({ ...s.optimizer, buffers: training.optimizerBuffers }, this.model.parameters());
    this.model.setRngState(rngFromJson(s.modelRng));
    this.shuffler.setState(rngFromJson(s.shuffleRng));
    this.epoch = s.epoch;
    this.globalStep = s.globalStep;
    this.lr = s.lr;
    this.earlyStopping.best = s.best;
    this.earlyStopping.badEpochs = s.badEpochs;
    this.earlyStopping.bestWeights = bestWeights;
  }
}
