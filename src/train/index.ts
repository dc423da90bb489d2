export * from "./params.js";
export * from "./optimizers.js";
export * from "./clip.js";
// Schedule constructors have short generic names (step, constant, ...), so they stay in a namespace.
export * as schedules from "./schedules.js";
export { parseSchedule, type Schedule, type WarmupUnit } from "./schedules.js";
export * from "./losses.js";
export * from "./metrics.js";
