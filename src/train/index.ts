export * from "./optimizers.js";
export * from "./clip.js";
// Schedule constructors have short generic names (step, constant, ...), so they stay in a namespace.
export * as schedules from "./schedules.js";
export { parseSchedule, type Schedule, type WarmupUnit } from "./schedules.js";
export * from "./losses.js";
export * from "./metrics.js";
export { fit, saveRun, resumeRun, type FitOptions } from "./trainer.js";
export { fit as fitInThread, runFit, DivergenceError, type NonFinitePolicy, type CoreFitOptions, type RunServices, type FitResult, type BatchInfo, type EpochInfo, type EpochRecord, type TrainCallbacks } from "./fit.js";
export { RunState, rngToJson, rngFromJson } from "./run-state.js";
export type { EarlyStoppingOptions, BestEpoch } from "./early-stopping.js";
export { evaluate, predictDataset, scorePredictions, defaultMetrics, type EvaluateOptions, type EvaluateResult, type PredictOptions } from "./evaluate.js";
export { checkModelFits } from "./shard.js";
export { WorkerPool, splitEvenly } from "./workers.js";
export { trainStep, type TrainStepContext, type TrainStepResult } from "./train-step.js";
export * from "./checkpoint.js";
export * from "./checkpoint-file.js";
