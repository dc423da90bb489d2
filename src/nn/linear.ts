/**
 * torch's linear layer (`nn.Linear`), y = x W^T + b, over engine heap offsets, llm.c style. Rows are
 * samples (for a sequence, its time-major rows t * B + b); W is [out, in], torch's layout (the one
 * state_dicts use), and a transposed copy [in, out] feeds the forward matmul. Backward is split as in
 * llm.c: the input gradient of each step as it comes (it feeds the step before), the weight and bias
 * gradients of every row at once, one matmul for a whole sequence.
 */
import { Act, type Engine, packedSize } from "../engine/engine.js";
import type { ParamOffsets, ParameterSet } from "./parameters.js";

export interface Linear {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** [out, in], torch layout */
  readonly weight: ParamOffsets;
  /** [out], or null for a layer without bias */
  readonly bias: ParamOffsets | null;
  /** [out, in]: the weight as the forward pass uses it: `weight.value`, or a copy the owner keeps (masked) */
  readonly effectiveWeight: number;
  /** [in, out]: transpose of effectiveWeight for the forward matmul (linearPrepare refreshes it) */
  readonly weightT: number;
  /** weightT in the engine's packed layout (engine.packB), which the forward matmul of every step reads */
  readonly weightPacked: number;
  /** effectiveWeight in the packed layout, for the input gradient of every step (all input columns) */
  readonly effectivePacked: number;
}

/**
 * A linear layer over parameters already in the heap (e.g. one block of several fused layers);
 * allocates the transposed copy.
 */
export function createLinear(engine: Engine, inFeatures: number, outFeatures: number, weight: ParamOffsets, bias: ParamOffsets | null, effectiveWeight = weight.value): Linear {
  const weightT = engine.alloc(inFeatures * outFeatures);
  const weightPacked = engine.alloc(packedSize(inFeatures, outFeatures));
  return { inFeatures, outFeatures, weight, bias, effectiveWeight, weightT, weightPacked, effectivePacked: engine.alloc(packedSize(outFeatures, inFeatures)) };
}

/** Allocates and registers `${name}.weight` [out, in] and `${name}.bias` [out] (torch names and order). */
export function addLinear(params: ParameterSet, name: string, inFeatures: number, outFeatures: number, bias: boolean): Linear {
  const w = params.region(outFeatures * inFeatures, true);
  params.register(`${name}.weight`, [outFeatures, inFeatures], w);
  let b: ParamOffsets | null = null;
  if (bias) {
    b = params.region(outFeatures, true);
    params.register(`${name}.bias`, [outFeatures], b);
  }
  return createLinear(params.engine, inFeatures, outFeatures, w, b);
}

/** Refreshes the transposed and packed copies from effectiveWeight; call after the weights changed. */
export function linearPrepare(e: Engine, layer: Linear): void {
  e.transpose(layer.outFeatures, layer.inFeatures, layer.effectiveWeight, layer.inFeatures, layer.weightT, layer.outFeatures);
  e.packB(layer.inFeatures, layer.outFeatures, layer.weightT, layer.outFeatures, layer.weightPacked);
  e.packB(layer.outFeatures, layer.inFeatures, layer.effectiveWeight, layer.inFeatures, layer.effectivePacked);
}

/** y = x W^T (y += x W^T when accumulating), no bias: x is rows x in (ld ldx), y rows x out (ld ldy). */
export function linearMatmul(e: Engine, layer: Linear, rows: number, x: number, ldx: number, y: number, ldy: number, accumulate: boolean): void {
  e.gemmPrepacked(rows, layer.outFeatures, layer.inFeatures, x, ldx, layer.weightPacked, layer.weightT, layer.outFeatures, y, ldy, accumulate);
}

/**
 * The bias and an activation after the matmul: pre += b (pre keeps the pre-activation for the backward
 * pass), y = act(pre). y may be pre only for the identity.
 */
export function linearBiasAct(e: Engine, layer: Linear, rows: number, pre: number, ldPre: number, act: number, y: number, ldy: number): void {
  e.biasAct(rows, layer.outFeatures, act, pre, ldPre, layer.bias ? layer.bias.value : -1, y, ldy);
}

/**
 * y = act(x W^T + b) for `rows` rows: x rows x in (ld ldx); pre (ld ldPre) receives x W^T + b, the
 * pre-activation act's backward needs; y (ld ldy) the output, pre itself by default (identity).
 */
export function linearForward(e: Engine, layer: Linear, rows: number, x: number, ldx: number, pre: number, ldPre: number, act: number = Act.identity, y = pre, ldy = ldPre): void {
  linearMatmul(e, layer, rows, x, ldx, pre, ldPre, false);
  if (layer.bias || act !== Act.identity || y !== pre) linearBiasAct(e, layer, rows, pre, ldPre, act, y, ldy);
}

/**
 * dx (+)= dy W with the weight the forward pass used: dy rows x out (ld ldDy). Only input columns
 * [first, first + count) are written, to dx (ld ldDx), so an input made of two parts (CfC's [input |
 * state]) sends each part's gradient straight to its own buffer.
 */
export function linearBackwardInput(e: Engine, layer: Linear, rows: number, dy: number, ldDy: number, dx: number, ldDx: number, accumulate: boolean, first = 0, count = layer.inFeatures): void {
  if (first === 0 && count === layer.inFeatures) {
    e.gemmPrepacked(rows, count, layer.outFeatures, dy, ldDy, layer.effectivePacked, layer.effectiveWeight, layer.inFeatures, dx, ldDx, accumulate);
  } else {
    e.gemm(rows, count, layer.outFeatures, dy, ldDy, layer.effectiveWeight + first, layer.inFeatures, dx, ldDx, accumulate);
  }
}

/**
 * Weight and bias gradients of `rows` rows at once (all steps of a sequence): dW += dy^T x, db +=
 * column sums of dy. dy is rows x out (ld ldDy), x rows x in (ld ldx). dyT (out x rows) is scratch that
 * receives the transpose of dy, unless `dyTransposed` says it already holds it (two layers fed by one
 * dy, as the LSTM's input and recurrent maps, transpose it once).
 */
export function linearBackwardWeights(e: Engine, layer: Linear, rows: number, dy: number, ldDy: number, x: number, ldx: number, dyT: number, dyTransposed = false): void {
  const out = layer.outFeatures;
  if (!dyTransposed) e.transpose(rows, out, dy, ldDy, dyT, rows);
  e.gemm(out, layer.inFeatures, rows, dyT, rows, x, ldx, layer.weight.grad, layer.inFeatures, true);
  if (layer.bias) e.colSum(rows, out, dy, ldDy, layer.bias.grad);
}
