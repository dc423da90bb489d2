/**
 * Named parameters living in an engine's heap. Names, shapes and order are those of ncps torch's
 * `state_dict`, while memory layout is the engine's choice (e.g. the four CfC heads sit in one block so
 * they run as one matmul). Grads live beside values and accumulate until `zeroGrad`, as in torch.
 */
import type { Engine } from "../engine/engine.js";
import { type FloatArray, type Tensor, numel, shapeString } from "../tensor.js";
import type { ParamRef } from "./param-ref.js";

/** Where a parameter's values and gradients live in the engine's heap (element offsets). */
export interface ParamOffsets {
  readonly value: number;
  /** -1 for frozen tensors (sparsity masks) */
  readonly grad: number;
}

export interface ParameterEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  readonly offsets: ParamOffsets;
}

export type { ParamRef };

export class ParameterSet {
  private readonly list: ParameterEntry[] = [];
  private readonly byName = new Map<string, ParameterEntry>();
  private readonly gradRegions: Array<[number, number]> = [];

  constructor(readonly engine: Engine) {}

  /** Reserves a block of `n` values (and grads when trainable); returns their offsets. */
  region(n: number, trainable: boolean): ParamOffsets {
    const value = this.engine.alloc(n);
    const grad = trainable ? this.engine.alloc(n) : -1;
    if (trainable) this.gradRegions.push([grad, n]);
    return { value, grad };
  }

  /** Registers a named tensor at the given offsets (state_dict order = registration order). */
  register(name: string, shape: readonly number[], offsets: ParamOffsets): ParameterEntry {
    if (this.byName.has(name)) throw new Error(`parameter ${name} registered twice`);
    const entry = { name, shape: [...shape], size: numel(shape), offsets: { value: offsets.value, grad: offsets.grad } };
    this.list.push(entry);
    this.byName.set(name, entry);
    return entry;
  }

  /** Allocates and registers one tensor on its own. */
  add(name: string, shape: readonly number[], trainable = true): ParameterEntry {
    return this.register(name, shape, this.region(numel(shape), trainable));
  }

  entries(): readonly ParameterEntry[] {
    return this.list;
  }

  entry(name: string): ParameterEntry {
    const e = this.byName.get(name);
    if (!e) throw new Error(`no parameter named ${name}`);
    return e;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Fresh view of a tensor's values (valid until the engine next allocates). */
  value(name: string): FloatArray {
    const e = this.entry(name);
    return this.engine.heap().subarray(e.offsets.value, e.offsets.value + e.size);
  }

  grad(name: string): FloatArray {
    const e = this.entry(name);
    if (e.offsets.grad < 0) throw new Error(`parameter ${name} is not trainable`);
    return this.engine.heap().subarray(e.offsets.grad, e.offsets.grad + e.size);
  }

  /** Trainable parameters with fresh views; take them anew after every forward (memory may move). */
  params(): ParamRef[] {
    const heap = this.engine.heap();
    return this.list
      .filter((e) => e.offsets.grad >= 0)
      .map((e) => ({
        name: e.name,
        value: heap.subarray(e.offsets.value, e.offsets.value + e.size),
        grad: heap.subarray(e.offsets.grad, e.offsets.grad + e.size),
      }));
  }

  /** Number of trainable scalars. */
  count(): number {
    return this.list.reduce((s, e) => s + (e.offsets.grad >= 0 ? e.size : 0), 0);
  }

  zeroGrad(): void {
    for (const [off, n] of this.gradRegions) this.engine.fill(off, n, 0);
  }

  /** Copies of every tensor (masks included), in state_dict order. */
  stateDict(): Array<{ name: string; shape: number[]; data: FloatArray; trainable: boolean }> {
    const heap = this.engine.heap();
    return this.list.map((e) => ({
      name: e.name,
      shape: [...e.shape],
      data: heap.slice(e.offsets.value, e.offsets.value + e.size),
      trainable: e.offsets.grad >= 0,
    }));
  }

  /**
   * Loads tensors by name. Every problem (missing, unexpected, wrongly shaped, non-finite) is collected
   * and reported in one error, so a user fixing an export sees all of it at once.
   */
  loadStateDict(tensors: Map<string, Tensor> | Record<string, Tensor>, source = "state dict"): void {
    const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
    const problems: string[] = [];
    for (const e of this.list) {
      const t = map.get(e.name);
      if (!t) {
        problems.push(`missing tensor ${e.name} (expected shape ${shapeString(e.shape)})`);
        continue;
      }
      const same = t.shape.length === e.shape.length && t.shape.every((d, i) => d === e.shape[i]);
      if (!same) problems.push(`tensor ${e.name}: expected shape ${shapeString(e.shape)}, got ${shapeString(t.shape)}`);
      else if (t.data.length !== e.size) problems.push(`tensor ${e.name}: expected ${e.size} values, got ${t.data.length}`);
      else {
        for (let i = 0; i < t.data.length; i++) {
          if (!Number.isFinite(t.data[i])) {
            problems.push(`tensor ${e.name}: non-finite value ${t.data[i]} at flat index ${i}`);
            break;
          }
        }
      }
    }
    for (const name of map.keys()) if (!this.byName.has(name)) problems.push(`unexpected tensor ${name}`);
    if (problems.length) throw new Error(`${source}: ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
    const heap = this.engine.heap();
    for (const e of this.list) heap.set(map.get(e.name)!.data, e.offsets.value);
  }
}
