/**
 * ncps-ts for Node: the portable core plus training on worker threads, checkpoints and file formats.
 * @module ncps-ts/node
 */
export * from "./index.js";
export { fit, type FitOptions, type FitResult, type BatchInfo, type EpochInfo, type EpochRecord, type TrainCallbacks } from "./train/trainer.js";
export type { EarlyStoppingOptions, BestEpoch } from "./train/early-stopping.js";
export { WorkerPool } from "./train/workers.js";
export * from "./train/checkpoint.js";
export * from "./io/index.js";
export { csvToDataset, csvFileToDataset, prepareData, predictionsByRow, type CsvDatasetOptions, type PreparedCsv, type DataInput } from "./data/csv-dataset.js";
export { readLongSources, parseLongSpec, type LongColumns, type LongSource } from "./data/long-format.js";
export { DEFAULT_NA_VALUES } from "./data/cells.js";
export { npyToDataset, npyArraysToDataset, type NpyDatasetOptions, type PreparedNpy } from "./data/npy-dataset.js";
export { writeFigure, svgToPng } from "./plot/png.js";
export { main as cli } from "./cli/main.js";
// Types that appear in the signatures above, exported so code (and the API reference) can name them.
export type { RowIndex } from "./data/csv-dataset.js";
export type { CategoricalColumn } from "./data/categorical.js";
export type { DuplicateTimes } from "./data/time-order.js";
export type { TimeFormat, TimeUnit } from "./data/time-parse.js";
export type { OutcomesSource } from "./data/outcomes.js";
export type { NpyArrays, NpyFiles } from "./data/npy-dataset.js";
export type { PngResult, WrittenFigure } from "./plot/png.js";
export type { CliIO } from "./cli/util.js";
