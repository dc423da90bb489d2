/** Parameter references as optimizers, clipping and worker threads see them, and helpers over lists of them. */
import type { FloatArray } from "../tensor.js";

/**
 * One trainable parameter as the optimizers see it. `value` and `grad` are views into storage the
 * model owns, so optimizers update `value` in place and must never replace either array: the model
 * keeps reading the same memory. Both arrays share one dtype, which sets the update's precision.
 */
export interface ParamRef {
  /** Stable, unique name (e.g. "rnn.layer_0.ff1.weight"); optimizer state is keyed by it. */
  readonly name: string;
  readonly value: FloatArray;
  readonly grad: FloatArray;
}

/** Throws a named error when the parameter list cannot be optimised as given. */
export function assertParamRefs(params: readonly ParamRef[], where: string): void {
  const seen = new Set<string>();
  for (const p of params) {
    if (seen.has(p.name)) throw new Error(`${where}: parameter name "${p.name}" appears twice; names must be unique`);
    seen.add(p.name);
    if (p.value.length !== p.grad.length) {
      throw new Error(`${where}: parameter "${p.name}" has ${p.value.length} values but a gradient of length ${p.grad.length}`);
    }
    if (p.value.constructor !== p.grad.constructor) {
      throw new Error(`${where}: parameter "${p.name}" stores values as ${p.value.constructor.name} but its gradient as ${p.grad.constructor.name}; they must match`);
    }
  }
}

/** Sets every gradient to zero in place. */
export function zeroGrads(params: readonly ParamRef[]): void {
  for (const p of params) p.grad.fill(0);
}

/** Total number of scalar values over the parameters. */
export function countParams(params: readonly ParamRef[]): number {
  let n = 0;
  for (const p of params) n += p.value.length;
  return n;
}
