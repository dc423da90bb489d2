/**
 * ncps-ts: the portable core (Node and browsers): tensors, engines, models, wirings, optimisers,
 * losses, metrics, training in one thread (`fit`), evaluation, datasets in memory or from CSV text,
 * checkpoints as bytes, and SVG plots. File I/O, worker-thread training and checkpoint files are
 * Node-only and live in "ncps-ts/node".
 * @module ncps-ts
 */
export * from "./tensor.js";
export { createEngine, initWasm, wasmSimdSupported, ReferenceEngine, WasmEngine, Act, CfcMode, BACKBONE_ACTIVATIONS } from "./engine/index.js";
export type { Engine, AdamStepScalars, RmspropStepScalars, SgdStepScalars, BackendKind, BackboneActivation, CfcModeName } from "./engine/index.js";
export { CfC, type CfCOptions } from "./models/cfc.js";
export { CFC_VARIANTS, CFC_VARIANT_FORMS, type CfcVariant, type CfcVariantForm } from "./models/cfc-variant.js";
export { CfCCell, type CfCCellOptions } from "./models/cfc-cell.js";
export { WiredCfCCell, type WiredCfCCellOptions } from "./models/wired-cfc-cell.js";
export { LTC, type LTCOptions, type LtcMapping } from "./models/ltc.js";
export { LTCCell, type LTCCellOptions } from "./models/ltc-cell.js";
export { LSTM, type LSTMOptions } from "./models/lstm.js";
export { GRU, type GRUOptions } from "./models/gru.js";
export { CTRNN, type CTRNNOptions } from "./models/ct-rnn.js";
export { GRUODE, type GRUODEOptions } from "./models/gru-ode.js";
export { ODERNN, type ODERNNOptions } from "./models/ode-rnn.js";
export { ODELSTM, type ODELSTMOptions } from "./models/ode-lstm.js";
export { ODE_SOLVERS, type OdeSolverName, type OdeSolverOptions, type ResolvedOdeOptions, type OdeStepStats } from "./models/ode-solver.js";
export { RecurrentModel, StreamSession, type ForwardOptions, type ForwardResult, type BackwardResult, type HiddenState } from "./models/recurrent.js";
export { buildModel, type ModelConfig } from "./models/build.js";
export { replayCase, type ReplayCase, type ReplayResult } from "./models/replay.js";
export { exportOnnx, onnxUnsupportedReason, ONNX_OPSET, ONNX_IR_VERSION, type OnnxExportOptions } from "./io/onnx/export-model.js";
export * from "./wirings/index.js";
export { escapeXml } from "./util/xml.js";
export { Rng } from "./nn/rng.js";
export * from "./nn/param-ref.js";
export * from "./train/optimizers.js";
export * from "./train/clip.js";
export * as schedules from "./train/schedules.js";
export { parseSchedule, type Schedule } from "./train/schedules.js";
export * from "./train/losses.js";
export * from "./train/metrics.js";
export { fit, DivergenceError, type NonFinitePolicy, type CoreFitOptions, type CoreFitOptions as FitOptions, type FitResult, type BatchInfo, type EpochInfo, type EpochRecord, type TrainCallbacks } from "./train/fit.js";
export type { EarlyStoppingOptions, BestEpoch } from "./train/early-stopping.js";
export { evaluate, evaluationReport, predictDataset, type EvaluateOptions, type EvaluateResult, type EvaluationReport, type PredictOptions } from "./train/evaluate.js";
export { type SequenceDataset, type Task, type TargetMode, readoutStep, validateDataset, labelledCount, unobservedInputs } from "./data/dataset.js";
export { type Normalization, applyNormalization, denormalizeTargets } from "./data/normalization.js";
export { datasetFromArrays, type DatasetFromArraysInput, type ArrayInput } from "./data/arrays.js";
export { csvToDataset, prepareData, predictionsByRow, type CsvDatasetOptions, type PreparedCsv, type DataInput, type RowIndex } from "./data/csv-dataset.js";
export { DEFAULT_NA_VALUES } from "./data/cells.js";
export { parseCsv, parseCsvColumns, detectSeparator, writeCsv, type CsvTable, type CsvColumns, type ParseCsvOptions, type CsvCell } from "./io/csv.js";
export { CompactColumn } from "./io/compact-column.js";
export * from "./train/checkpoint.js";
export { leakyMemoryTask, type LeakyMemoryOptions } from "./data/synthetic.js";
export { lineChartSvg, figureSvg, type LineSeries, type Panel } from "./plot/svg-plot.js";
export { trainingCurvesSvg, predictionsSvg, classProbabilitiesSvg } from "./plot/curves.js";
// Types that appear in the signatures above, exported so code (and the API reference) can name them.
export type { BuildOptions } from "./models/build.js";
export type { LTCConfig } from "./models/ltc.js";
export type { FigureOptions, VerticalMark } from "./plot/svg-plot.js";
export type { CurvesOptions, PredictionsInput, ProbabilitiesInput, RunRecord } from "./plot/curves.js";
export type { CategoricalColumn } from "./data/categorical.js";
export type { DuplicateTimes } from "./data/time-order.js";
export type { TimeFormat, TimeUnit } from "./data/time-parse.js";
export type { OutcomesSource } from "./data/outcomes.js";
export type { LongColumns, LongSource } from "./data/long-format.js";
