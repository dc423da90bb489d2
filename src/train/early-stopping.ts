/**
 * Watching the validation value over epochs: the best epoch so far, the epochs since it, a copy of its
 * weights (when they are to be restored at the end), and whether patience has run out. Without early
 * stopping options the best epoch is still tracked (fit reports it), but the run never stops for it.
 */
import type { RecurrentModel } from "../models/recurrent.js";
import type { Tensor } from "../tensor.js";
import type { EvaluateResult } from "./evaluate.js";
import { METRICS, type MetricName } from "./metrics.js";

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

/** The best validation value so far and the (1-based) epoch that reached it. */
export interface BestEpoch {
  metric: string;
  value: number;
  epoch: number;
}

export class EarlyStopping {
  readonly watched: "loss" | MetricName;
  readonly restoreBest: boolean;
  private readonly higherIsBetter: boolean;
  private readonly minDelta: number;
  /** null: never stop */
  private readonly patience: number | null;

  /** Saved with the run (see RunState): a record is never mutated, an improvement replaces it. */
  best: BestEpoch | null = null;
  badEpochs = 0;
  /** the best epoch's weights (a copy), kept only when they are to be restored */
  bestWeights: Map<string, Tensor> | null = null;

  /**
   * `options` are assumed checked (fit's checkOptions). `restoreBest` overrides the options' own
   * setting, so that a run without early stopping can still keep its best epoch.
   */
  constructor(options: EarlyStoppingOptions | null, restoreBest = options ? (options.restoreBest ?? true) : false) {
    this.watched = options?.metric ?? "loss";
    this.higherIsBetter = this.watched === "loss" ? false : METRICS[this.watched].higherIsBetter;
    this.minDelta = options?.minDelta ?? 0;
    this.restoreBest = restoreBest;
    this.patience = options ? options.patience : null;
  }

  /** Takes the validation result of `epoch` (just completed); true when the watched value improved. */
  observe(evaluation: EvaluateResult, epoch: number, model: RecurrentModel): boolean {
    const value = this.watched === "loss" ? evaluation.loss : evaluation.metrics[this.watched];
    const best = this.best;
    const improved = Number.isFinite(value) && (best === null || (this.higherIsBetter ? value > best.value + this.minDelta : value < best.value - this.minDelta));
    if (improved) {
      this.best = { metric: this.watched, value, epoch };
      this.badEpochs = 0;
      if (this.restoreBest) this.bestWeights = model.stateDict(); // a copy
    } else {
      this.badEpochs++;
    }
    return improved;
  }

  /** True when `patience` epochs in a row brought no improvement. */
  get patienceExhausted(): boolean {
    return this.patience !== null && this.badEpochs >= this.patience;
  }

  /**
   * At the end of a run that stopped after `epoch`: loads the best epoch's weights into the model unless
   * they are already its weights. Returns true when it loaded them.
   */
  restoreBestWeights(model: RecurrentModel, epoch: number): boolean {
    if (!this.restoreBest || !this.bestWeights || !this.best || this.best.epoch === epoch) return false;
    model.loadStateDict(this.bestWeights, "best weights");
    return true;
  }
}
