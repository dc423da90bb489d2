/**
 * The paper's experiments as data: per task, the metric, the loss, the paper's best hyperparameters per
 * CfC model (../shared/reference/ncps-and-paper.md section 9.3, from the authors' scripts) and the
 * paper's reported figures (section 10). Baselines the paper took from other work (LSTM, GRU, the ODE
 * models) get one shared setting per task (`baseline`), stated here, since the paper gives none.
 */
import type { TaskName } from "../data/tasks/load.js";
import type { MetricName } from "../train/metrics.js";
import type { OptimizerKind } from "../train/optimizers.js";
import type { BackboneActivation } from "../engine/engine.js";

export const REPRODUCE_MODELS = ["cfc", "cfc-no_gate", "cfc-pure", "cfc-mixed", "ltc", "lstm", "gru", "ode-rnn", "ct-rnn", "gru-ode", "ode-lstm"] as const;
export type ReproduceModel = (typeof REPRODUCE_MODELS)[number];

export interface RunConfig {
  units: number;
  backboneUnits?: number;
  backboneLayers?: number;
  backboneDropout?: number;
  activation?: BackboneActivation;
  /** mixed memory's LSTM forget-gate bias (paper's forget_bias) */
  forgetBias?: number;
  /** ltc */
  odeUnfolds?: number;
  optimizer: OptimizerKind;
  lr: number;
  /** learning rate multiplier per epoch */
  decay: number;
  batch: number;
  epochs: number;
  /** global gradient-norm clip; null = none */
  clip: number | null;
  weightDecay: number;
  /** physionet: cross-entropy weight of class 1 */
  classWeight?: number;
  /** person activity: factor on the timespans */
  tau?: number;
}

export interface PaperFigure {
  /** the paper's row label */
  label: string;
  /** as the paper prints it (percent for accuracy, AUC as a fraction, MSE) */
  value: number;
  spread: number | null;
  minutesPerEpoch: number | null;
}

export interface TaskSpec {
  name: TaskName;
  title: string;
  /** where the paper's figures are printed */
  source: string;
  metric: MetricName;
  /** printed as percent (accuracy) or as is */
  percent: boolean;
  higherIsBetter: boolean;
  loss: "bce" | "cross_entropy" | "mse";
  /** model outputs (logits or regression targets) */
  outputs: number;
  /** the paper's script averages this many runs */
  paperRuns: number;
  /**
   * The CfC the paper's script computes: "paper" (its tf_cfc.py: lecun_tanh heads, negated gate) or
   * "torch" (its torch_cfc.py, the same function as ncps torch); what `--variant paper` builds
   */
  paperCell: "paper" | "torch";
  /** TensorFlow scripts: weight decay is an L2 kernel regulariser (gradient 2 wd w), RMSprop/Adam use Keras defaults */
  keras: boolean;
  configs: Partial<Record<ReproduceModel, RunConfig>>;
  baseline: RunConfig;
  paper: Partial<Record<ReproduceModel, PaperFigure>>;
  notes: string;
}

const fig = (label: string, value: number, spread: number | null, minutesPerEpoch: number | null): PaperFigure => ({ label, value, spread, minutesPerEpoch });

const XOR: TaskSpec = {
  name: "xor",
  title: "Bit-stream XOR, event-based",
  source: "arXiv v2 Table 4 (event-based column)",
  metric: "accuracy",
  percent: true,
  higherIsBetter: true,
  loss: "bce",
  outputs: 1,
  paperRuns: 3,
  paperCell: "paper",
  keras: true,
  configs: {
    "cfc-mixed": { units: 64, optimizer: "rmsprop", lr: 0.005, decay: 0.95, batch: 128, epochs: 200, clip: 10, activation: "relu", backboneDropout: 0, forgetBias: 0.6, backboneUnits: 128, backboneLayers: 1, weightDecay: 2e-6 },
    cfc: { units: 192, optimizer: "rmsprop", lr: 0.05, decay: 0.95, batch: 128, epochs: 200, clip: 1, activation: "relu", backboneDropout: 0, forgetBias: 1.2, backboneUnits: 128, backboneLayers: 1, weightDecay: 3e-6 },
    "cfc-no_gate": { units: 128, optimizer: "rmsprop", lr: 0.005, decay: 0.95, batch: 128, epochs: 200, clip: 10, activation: "silu", backboneDropout: 0.3, forgetBias: 4.7, backboneUnits: 192, backboneLayers: 1, weightDecay: 5e-6 },
    "cfc-pure": { units: 64, optimizer: "adam", lr: 0.005, decay: 0.9, batch: 256, epochs: 200, clip: 5, activation: "silu", backboneDropout: 0, forgetBias: 1.2, backboneUnits: 64, backboneLayers: 1, weightDecay: 3e-5 },
    ltc: { units: 64, odeUnfolds: 6, optimizer: "adam", lr: 0.005, decay: 0.9, batch: 256, epochs: 200, clip: 5, weightDecay: 3e-5 },
  },
  baseline: { units: 64, optimizer: "rmsprop", lr: 0.005, decay: 0.95, batch: 128, epochs: 200, clip: 10, weightDecay: 0 },
  paper: {
    cfc: fig("CfC", 99.42, 0.42, 0.75),
    "cfc-mixed": fig("CfC-mmRNN", 99.72, 0.08, 1.26),
    "cfc-no_gate": fig("CfC-noGate", 96.29, 1.61, 0.78),
    "cfc-pure": fig("Cf-S", 85.42, 2.84, 0.36),
    ltc: fig("LTC", 49.11, 0.0, 2.67),
    lstm: fig("Augmented LSTM", 89.71, 3.48, 0.62),
    "ode-rnn": fig("ODE-RNN", 51.21, 0.37, 4.11),
    "ct-rnn": fig("CT-RNN", 50.79, 0.34, 4.83),
    "gru-ode": fig("GRU-ODE", 52.52, 0.35, 1.55),
    "ode-lstm": fig("ODE-LSTM", 98.89, 0.26, 1.18),
  },
  notes: "100,000 train / 10,000 test sequences generated bit for bit as the authors' cached files; one logit, BCE; accuracy at threshold 0 on the test set after the last epoch.",
};

const ETSMNIST: TaskSpec = {
  name: "et-smnist",
  title: "Event-based sequential MNIST",
  source: "Nature MI Table 4 (only CfC-mmRNN and CfC-noGate are given as text)",
  metric: "accuracy",
  percent: true,
  higherIsBetter: true,
  loss: "cross_entropy",
  outputs: 10,
  paperRuns: 5,
  paperCell: "paper",
  keras: true,
  configs: Object.fromEntries(
    (["cfc", "cfc-no_gate", "cfc-pure", "cfc-mixed"] as const).map((m) => [
      m,
      { units: 64, optimizer: "rmsprop", lr: 0.0005, decay: 1, batch: 128, epochs: 200, clip: null, activation: "gelu", backboneDropout: 0, forgetBias: 3.0, backboneUnits: 128, backboneLayers: 1, weightDecay: 0 } satisfies RunConfig,
    ]),
  ),
  baseline: { units: 64, optimizer: "rmsprop", lr: 0.0005, decay: 1, batch: 128, epochs: 200, clip: null, weightDecay: 0 },
  paper: {
    "cfc-mixed": fig("CfC-mmRNN", 98.09, null, null),
    "cfc-no_gate": fig("CfC-noGate", 96.99, null, null),
  },
  notes: "60,000 train / 10,000 test MNIST images as at most 256 events (binarised pixel changes); the script's defaults (size 64, RMSprop 5e-4, batch 128, gelu, backbone 128 x 1, forget bias 3.0) for every CfC model.",
};

const WALKER: TaskSpec = {
  name: "walker2d",
  title: "Walker2d kinematic modelling",
  source: "arXiv v2 Table 7",
  metric: "mse",
  percent: false,
  higherIsBetter: false,
  loss: "mse",
  outputs: 17,
  paperRuns: 5,
  paperCell: "paper",
  keras: true,
  configs: {
    cfc: { units: 64, optimizer: "adam", lr: 0.02, decay: 0.95, batch: 256, epochs: 50, clip: 1, activation: "silu", backboneDropout: 0.1, forgetBias: 1.6, backboneUnits: 256, backboneLayers: 1, weightDecay: 1e-6 },
    "cfc-mixed": { units: 128, optimizer: "adam", lr: 0.005, decay: 0.95, batch: 128, epochs: 50, clip: 10, activation: "lecun_tanh", backboneDropout: 0.2, forgetBias: 2.1, backboneUnits: 128, backboneLayers: 2, weightDecay: 6e-6 },
    "cfc-no_gate": { units: 256, optimizer: "adam", lr: 0.008, decay: 0.95, batch: 128, epochs: 50, clip: 1, activation: "lecun_tanh", backboneDropout: 0.1, forgetBias: 2.8, backboneUnits: 128, backboneLayers: 1, weightDecay: 3e-5 },
    "cfc-pure": { units: 256, optimizer: "adam", lr: 0.006, decay: 0.95, batch: 128, epochs: 50, clip: 10, activation: "silu", backboneDropout: 0, forgetBias: 5.0, backboneUnits: 192, backboneLayers: 1, weightDecay: 1e-6 },
    ltc: { units: 128, odeUnfolds: 3, optimizer: "adam", lr: 0.05, decay: 0.95, batch: 128, epochs: 50, clip: null, weightDecay: 0 },
  },
  baseline: { units: 64, optimizer: "adam", lr: 0.005, decay: 0.95, batch: 128, epochs: 50, clip: 1, weightDecay: 0 },
  paper: {
    cfc: fig("CfC", 0.643, 0.006, 0.08),
    "cfc-mixed": fig("CfC-mmRNN", 0.617, 0.006, 0.34),
    "cfc-no_gate": fig("CfC-noGate", 0.65, 0.008, 0.21),
    "cfc-pure": fig("Cf-S", 0.948, 0.009, 0.12),
    ltc: fig("LTC", 0.662, 0.013, 0.78),
    lstm: fig("Augmented LSTM", 1.065, 0.006, 0.1),
    "ode-rnn": fig("ODE-RNN", 1.904, 0.061, 0.79),
    "ct-rnn": fig("CT-RNN", 1.198, 0.004, 0.91),
    "gru-ode": fig("GRU-ODE", 1.051, 0.018, 0.56),
    "ode-lstm": fig("ODE-LSTM", 0.883, 0.014, 0.29),
  },
  notes: "next-step prediction of the 17-dim state, 10% of steps dropped, windows of 64 (src/data/walker2d.ts); test MSE of the last epoch's weights (the paper's BackupCallback never restores its best weights).",
};

const PHYSIONET: TaskSpec = {
  name: "physionet",
  title: "PhysioNet 2012 in-hospital mortality",
  source: "arXiv v2 Table 5",
  metric: "roc_auc",
  percent: false,
  higherIsBetter: true,
  loss: "cross_entropy",
  outputs: 2,
  paperRuns: 5,
  paperCell: "torch",
  keras: false,
  configs: {
    cfc: { units: 256, optimizer: "adamw", lr: 0.002, decay: 0.9, batch: 128, epochs: 57, clip: null, activation: "silu", backboneUnits: 64, backboneDropout: 0.2, backboneLayers: 2, weightDecay: 4e-6, classWeight: 11.69 },
    "cfc-mixed": { units: 64, optimizer: "adamw", lr: 0.001, decay: 0.9, batch: 128, epochs: 65, clip: null, activation: "lecun_tanh", backboneUnits: 64, backboneDropout: 0.3, backboneLayers: 2, weightDecay: 4e-6, classWeight: 5.91 },
    "cfc-no_gate": { units: 64, optimizer: "adamw", lr: 0.003, decay: 0.73, batch: 128, epochs: 58, clip: null, activation: "relu", backboneUnits: 192, backboneDropout: 0, backboneLayers: 2, weightDecay: 5e-5, classWeight: 7.73 },
    "cfc-pure": { units: 64, optimizer: "adamw", lr: 0.003, decay: 0.72, batch: 128, epochs: 116, clip: null, activation: "tanh", backboneUnits: 64, backboneDropout: 0.1, backboneLayers: 3, weightDecay: 5e-5, classWeight: 18.25 },
    ltc: { units: 64, optimizer: "adamw", lr: 0.05, decay: 0.95, batch: 64, epochs: 80, clip: null, weightDecay: 0, classWeight: 8 },
  },
  baseline: { units: 64, optimizer: "adamw", lr: 0.001, decay: 0.9, batch: 128, epochs: 57, clip: null, weightDecay: 4e-6, classWeight: 11.69 },
  paper: {
    cfc: fig("CfC", 0.839, 0.002, 0.1),
    "cfc-mixed": fig("CfC-mmRNN", 0.834, 0.006, 0.2),
    "cfc-no_gate": fig("CfC-noGate", 0.84, 0.003, 0.1),
    "cfc-pure": fig("Cf-S", 0.643, 0.018, 0.1),
    ltc: fig("LTC", 0.6477, 0.01, 0.5),
    "ode-rnn": fig("ODE-RNN", 0.833, 0.009, 16.5),
  },
  notes: "set A (4,000 records), 41 variables in 0.016 h bins, forward-filled values + masks (82 inputs), 80/20 split (seed 42) over records in file-name order, two logits with class weights (1, w); test ROC-AUC after the last epoch. The paper's epoch times are multiplied by 1.34 (GPU calibration).",
};

const PERSON: TaskSpec = {
  name: "person-activity",
  title: "Person activity, per-time-step 7-class accuracy",
  source: "Nature MI Table 2 (per-model accuracies not available as text)",
  metric: "accuracy",
  percent: true,
  higherIsBetter: true,
  loss: "cross_entropy",
  outputs: 7,
  paperRuns: 5,
  paperCell: "torch",
  keras: false,
  configs: {
    cfc: { units: 448, optimizer: "adam", lr: 0.002, decay: 0.97, batch: 64, epochs: 100, clip: null, activation: "silu", backboneUnits: 64, backboneLayers: 1, backboneDropout: 0, weightDecay: 1e-4, tau: 10 },
    "cfc-mixed": { units: 256, optimizer: "adam", lr: 5e-4, decay: 0.99, batch: 64, epochs: 100, clip: null, activation: "gelu", backboneUnits: 128, backboneLayers: 2, backboneDropout: 0.5, weightDecay: 4e-5, tau: 10 },
    "cfc-no_gate": { units: 64, optimizer: "adam", lr: 0.005, decay: 0.97, batch: 64, epochs: 100, clip: null, activation: "silu", backboneUnits: 192, backboneLayers: 2, backboneDropout: 0.2, weightDecay: 2e-4, tau: 0.5 },
    "cfc-pure": { units: 64, optimizer: "adam", lr: 0.004, decay: 0.97, batch: 64, epochs: 100, clip: null, activation: "gelu", backboneUnits: 256, backboneLayers: 3, backboneDropout: 0.4, weightDecay: 3e-5, tau: 0.1 },
  },
  baseline: { units: 64, optimizer: "adam", lr: 0.002, decay: 0.97, batch: 64, epochs: 100, clip: null, weightDecay: 1e-4, tau: 1 },
  paper: {},
  notes: "the PARTIAL file (first 16,480 of 164,860 lines: sequences A01, A02 and part of A03): results are NOT comparable with the paper's; windows of 50 steps, 12 forward-filled values + 12 masks, per-step accuracy over labelled steps.",
};

export const TASKS: Readonly<Record<TaskName, TaskSpec>> = {
  xor: XOR,
  "et-smnist": ETSMNIST,
  walker2d: WALKER,
  physionet: PHYSIONET,
  "person-activity": PERSON,
};

/** The paper's setting of `model` on `task`, or the task's baseline setting. */
export function runConfig(task: TaskSpec, model: ReproduceModel): RunConfig {
  return task.configs[model] ?? task.baseline;
}
