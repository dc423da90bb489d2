/** The messages between the page (app.ts) and its training worker (worker.ts). */
import type { CheckpointExtras, Task } from "../src/index.js";

/** The model choices of the page; "compare" trains the other family (LSTM, or CfC for an LSTM). */
export type ModelKind = "cfc-default" | "cfc-no_gate" | "cfc-pure" | "cfc-mixed" | "cfc-ncp" | "ltc-ncp" | "lstm";

export interface ModelSpec {
  readonly kind: ModelKind;
  /** hidden units (CfC, LTC and LSTM), or all neurons of the AutoNCP wiring */
  readonly units: number;
  /** AutoNCP sparsity level */
  readonly sparsity: number;
}

export interface Columns {
  readonly target: string;
  readonly features: readonly string[];
  readonly time?: string;
  readonly sequence?: string;
  readonly task: Task;
}

export interface CsvText {
  readonly text: string;
  readonly fileName: string;
}

export interface TrainRequest {
  readonly type: "train";
  readonly data: CsvText;
  readonly columns: Columns;
  readonly window?: number;
  readonly model: ModelSpec;
  readonly epochs: number;
  readonly lr: number;
  readonly batchSize: number;
}

export type ToWorker =
  | TrainRequest
  | { readonly type: "stop" }
  | { readonly type: "compare" }
  | { readonly type: "inspect"; readonly sequence: number; readonly step: number }
  | { readonly type: "load-checkpoint"; readonly bytes: Uint8Array; readonly fileName: string }
  | { readonly type: "predict"; readonly data: CsvText };

/** The control a bad input belongs next to. */
export type Field = "file" | "target" | "features" | "time" | "sequence" | "task" | "window" | "model" | "lr" | "checkpoint" | "predict-file";

/** One epoch as the CLI's --log writes it. */
export type LogRecord = Record<string, number | boolean>;

export interface RunSummary {
  readonly run: "main" | "compare";
  readonly model: string;
  readonly parameters: number;
  readonly metricName: string;
  readonly metricValue: number;
  readonly epochs: number;
  readonly stopReason: string;
  readonly log: readonly LogRecord[];
}

export interface Inspection {
  readonly sequence: number;
  readonly sequences: number;
  readonly set: "validation" | "training";
  readonly steps: number;
  readonly step: number;
  readonly predictionsSvg: string;
  /** null for models without a wiring */
  readonly wiringSvg: string | null;
  readonly statesSvg: string;
}

export interface Predictions {
  readonly fileName: string;
  /** the CSV ncps predict writes: the input columns, then pred_<target> (or prob_<class> and pred_<target>) */
  readonly csv: string;
  readonly rows: number;
  readonly covered: number;
  readonly svg: string;
}

export type FromWorker =
  | { readonly type: "prepared"; readonly summary: string; readonly warnings: readonly string[] }
  | { readonly type: "progress"; readonly run: "main" | "compare"; readonly epoch: number; readonly epochs: number; readonly batch: number; readonly batches: number; readonly loss: number; readonly samplesPerSecond: number; readonly secondsLeft: number }
  | { readonly type: "epoch"; readonly run: "main" | "compare"; readonly record: LogRecord; readonly curvesSvg: string }
  | { readonly type: "done"; readonly summary: RunSummary; readonly checkpoint: Uint8Array; readonly predictions: Predictions }
  | { readonly type: "compared"; readonly main: RunSummary; readonly other: RunSummary; readonly curvesSvg: readonly [string, string] }
  | { readonly type: "inspected"; readonly inspection: Inspection }
  | { readonly type: "loaded"; readonly description: string; readonly extras: CheckpointExtras }
  | { readonly type: "predicted"; readonly predictions: Predictions }
  | { readonly type: "error"; readonly field: Field; readonly message: string; readonly during: "prepare" | "train" | "compare" | "inspect" | "load" | "predict" }
  | { readonly type: "diverged"; readonly run: "main" | "compare"; readonly message: string };
