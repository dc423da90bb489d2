/**
 * One training step on one batch: forward (dropout on), loss, backward, optional gradient clipping and
 * the optimizer step. With a worker pool the batch is split into even shards, the main thread taking the
 * first and worker k the (k + 1)-th; every shard's loss is normalised by the whole batch's label weight,
 * so the summed gradients are the batch mean's gradient whatever the split.
 */
import type { SequenceDataset } from "../data/dataset.js";
import type { Engine } from "../engine/engine.js";
import type { RecurrentModel } from "../models/recurrent.js";
import { clipGradNorm } from "./clip.js";
import type { LossSpec } from "./losses.js";
import type { Optimizer } from "./optimizers.js";
import type { ParamRef } from "../nn/param-ref.js";
import { type BatchAssembler, labelWeight, splitEvenly, trainShard } from "./shard.js";
import type { WorkerPool } from "./workers.js";

/** What every step of a run shares. */
export interface TrainStepContext {
  readonly model: RecurrentModel;
  readonly train: SequenceDataset;
  /** builds the model's inputs from `train` */
  readonly assembler: BatchAssembler;
  readonly loss: LossSpec;
  readonly optimizer: Optimizer;
  /** global gradient-norm threshold; null: no clipping */
  readonly clipNorm: number | null;
  /** null: the whole batch in this thread; else `train` must be the pool's dataset 0 */
  readonly pool: WorkerPool | null;
  /** the run's seed, from which the workers' dropout seeds derive */
  readonly seed: number;
}

export interface TrainStepResult {
  /** the batch loss's numerator and denominator (its mean is sum / weight) */
  sum: number;
  weight: number;
  /** gradient norm before clipping (null without clipNorm) */
  gradNorm: number | null;
  /**
   * null when the step was finite throughout. Otherwise what went non-finite: "the loss" or "the
   * gradient of parameter X" (then no update was made and the weights are as before the step), or
   * "parameter X after the update" (the update was made; the weights are broken).
   */
  nonFinite: { what: string; updated: boolean } | null;
}

/**
 * The first parameter whose gradient (or value) holds a NaN or an infinity, or null. Arrays that are
 * views of `engine`'s heap (a model's parameters) are scanned by its nonFiniteIndex kernel (SIMD in the
 * WebAssembly engine: a scan per step of every value and gradient is then ~20x cheaper than this loop).
 */
export function firstNonFinite(params: readonly ParamRef[], field: "grad" | "value", engine?: Engine): string | null {
  const heap = engine?.heap();
  for (const p of params) {
    const a = p[field];
    if (engine && heap && a.buffer === heap.buffer && a.constructor === heap.constructor) {
      if (engine.nonFiniteIndex(a.length, a.byteOffset / a.BYTES_PER_ELEMENT) >= 0) return p.name;
      continue;
    }
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return p.name;
  }
  return null;
}

/** A 32-bit seed for (run seed, step, worker): distinct streams without any saved state. */
export function stepSeed(seed: number, step: number, worker: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(step + 1, 0xc2b2ae35) ^ Math.imul(worker + 1, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * Trains on the samples `indices` of `ctx.train` and takes one optimizer step (at the optimizer's
 * current learning rate). `step` counts the optimizer steps taken before this one; it seeds the workers'
 * dropout.
 */
export async function trainStep(ctx: TrainStepContext, indices: Int32Array, step: number): Promise<TrainStepResult> {
  const { model, pool } = ctx;
  const total = labelWeight(ctx.train, indices, ctx.loss, model.outputSize);
  let sum: number;
  let weight: number;
  if (pool) {
    const shards = splitEvenly(indices.length, pool.size + 1).map(([a, z]) => indices.subarray(a, z));
    const workerShards = shards.slice(1);
    pool.startTrain(model.parameters(), 0, workerShards, total, workerShards.map((_, k) => stepSeed(ctx.seed, step, k)));
    model.zeroGrad();
    const mine = trainShard(model, ctx.assembler, shards[0], ctx.loss, total);
    const theirs = await pool.finishTrain(model.parameters());
    sum = mine.sum + theirs.sum;
    weight = mine.weight + theirs.weight;
  } else {
    model.zeroGrad();
    ({ sum, weight } = trainShard(model, ctx.assembler, indices, ctx.loss, total));
  }
  const params = model.parameters();
  // A non-finite loss or gradient would poison every weight it touches: refuse the update.
  if (!Number.isFinite(sum)) return { sum, weight, gradNorm: null, nonFinite: { what: "the loss", updated: false } };
  const badGrad = firstNonFinite(params, "grad", model.engine);
  if (badGrad !== null) return { sum, weight, gradNorm: null, nonFinite: { what: `the gradient of parameter ${badGrad}`, updated: false } };
  const gradNorm = ctx.clipNorm !== null ? clipGradNorm(params, ctx.clipNorm, model.engine) : null;
  ctx.optimizer.step(params);
  // finite gradients times a huge learning rate can still overflow the weights
  const badValue = firstNonFinite(params, "value", model.engine);
  if (badValue !== null) return { sum, weight, gradNorm, nonFinite: { what: `parameter ${badValue} after the update`, updated: true } };
  return { sum, weight, gradNorm, nonFinite: null };
}
