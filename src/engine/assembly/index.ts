// The module's exports: one line per kernel file. Kernels take element offsets (see memory.ts `at`).
export { heapBase } from "./memory";
export { fill, copy, copyRows, transpose, addRows, mul, axpy, colSum } from "./elementwise";
export { gemm, packMatrix, gemmPrepacked, gemmPackedAlways, gemmUnpacked, gemmTiles4x8, gemmTiles2x16, gemmTiles5x8 } from "./gemm";
export { biasAct, actBackward } from "./activations";
export { cfcForward, cfcBackward, cfcPureForward, cfcPureBackward } from "./cfc";
export { lstmForward, lstmBackward } from "./lstm";
export { ltcSoftplus, ltcSoftplusBackward, ltcMap, ltcMapBackward, ltcSensory, ltcSensoryBackward, ltcForward, ltcBackward } from "./ltc";
export { gruForward, gruBackward } from "./gru";
export { rowAxpy, rowDot, rowErrorNorm, copyRowsWhere, nonFiniteIndex } from "./rows";
export { gruOdeGatesForward, gruOdeForward, gruOdeBackward, gruOdeGatesBackward } from "./gru-ode";
export { adamUpdate, rmspropUpdate, sgdUpdate } from "./optimizers";
export { sumSquares, scale } from "./norms";
