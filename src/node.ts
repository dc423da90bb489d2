/**
 * ncps-ts for Node: the portable core plus training on worker threads, checkpoints and file formats.
 * Its `fit` is the core's `fit` with the options `threads`, `resumeFrom` and `checkpointPath` added.
 * @module ncps-ts/node
 */
export * from "./index.js";
// These two names shadow the core's: same loop, with threads and checkpoint files.
export { fit, type FitOptions } from "./train/trainer.js";
export { WorkerPool } from "./train/workers.js";
export * from "./train/checkpoint-file.js";
export * from "./io/index.js";
export { csvFileToDataset } from "./data/csv-file-dataset.js";
export { readLongSources } from "./data/long-format-files.js";
export { parseLongSpec } from "./data/long-format.js";
export { npyToDataset, npyArraysToDataset, type NpyDatasetOptions, type PreparedNpy } from "./data/npy-dataset.js";
export { writeFigure, svgToPng } from "./plot/png.js";
export { main as cli } from "./cli/main.js";
// Types that appear in the signatures above, exported so code (and the API reference) can name them.
export type { NpyArrays, NpyFiles } from "./data/npy-dataset.js";
export type { PngResult, WrittenFigure } from "./plot/png.js";
export type { CliIO } from "./cli/util.js";
