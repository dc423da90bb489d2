/**
 * The training-step benchmark on several threads: the batch split across worker threads (the same
 * machinery as `fit(..., { threads })`), gradients summed, one Adam step in the main thread.
 */
import type { SequenceDataset } from "../data/dataset.js";
import type { RecurrentModel } from "../models/recurrent.js";
import type { Tensor } from "../tensor.js";
import { createOptimizer } from "../train/optimizers.js";
import { resolveLoss } from "../train/losses.js";
import { BatchAssembler, labelWeight, modelShape, predictShard, trainShard } from "../train/shard.js";
import { WorkerPool, splitEvenly } from "../train/workers.js";
import type { BenchConfig, BenchResult } from "./bench.js";

function benchDataset(c: BenchConfig, model: RecurrentModel, x: Tensor, target: Tensor): SequenceDataset {
  return {
    size: c.batch,
    steps: c.seqLen,
    features: c.inputSize,
    x: Float32Array.from(x.data),
    timespans: null,
    lengths: null,
    task: "regress",
    targetMode: "per_step",
    y: Float32Array.from(target.data),
    targets: model.outputSize,
    numClasses: 0,
    targetMask: null,
  };
}

export async function benchTrainThreads(c: BenchConfig, model: RecurrentModel, x: Tensor, target: Tensor, summarize: (t: number[]) => BenchResult): Promise<BenchResult> {
  const ds = benchDataset(c, model, x, target);
  const loss = resolveLoss(ds, model.outputSize, "mse");
  const asm = new BatchAssembler(modelShape(model), ds);
  const opt = createOptimizer("adam", { lr: 1e-3 });
  const indices = Int32Array.from({ length: c.batch }, (_, i) => i);
  const total = labelWeight(ds, indices, loss, model.outputSize);
  const pool = await WorkerPool.create(model, [ds], c.threads - 1, loss);
  try {
    const parts = splitEvenly(indices.length, pool.size + 1);
    const shards = parts.map(([a, z]) => indices.subarray(a, z));
    const step = async () => {
      pool.startTrain(model.parameters(), 0, shards.slice(1), total, shards.slice(1).map((_, k) => k + 1));
      model.zeroGrad();
      trainShard(model, asm, shards[0], loss, total);
      await pool.finishTrain(model.parameters());
      opt.step(model.parameters());
    };
    for (let i = 0; i < c.warmup; i++) await step();
    const times: number[] = [];
    for (let i = 0; i < c.repeats; i++) {
      const t0 = performance.now();
      await step();
      times.push(performance.now() - t0);
    }
    return summarize(times);
  } finally {
    await pool.close();
  }
}

/** Batched inference with the sequences split across threads (as fit's validation does). */
export async function benchInferThreads(c: BenchConfig, model: RecurrentModel, x: Tensor, summarize: (t: number[]) => BenchResult): Promise<BenchResult> {
  const target: Tensor = { shape: [c.batch, c.seqLen, model.outputSize], data: new Float32Array(c.batch * c.seqLen * model.outputSize) };
  const ds = benchDataset(c, model, x, target);
  const asm = new BatchAssembler(modelShape(model), ds);
  const pool = await WorkerPool.create(model, [ds], c.threads - 1, null);
  try {
    const run = () => pool.predict(model.parameters(), 0, c.batch, (indices, dest) => predictShard(model, asm, indices, dest, "per_step"));
    for (let i = 0; i < c.warmup; i++) await run();
    const times: number[] = [];
    for (let i = 0; i < c.repeats; i++) {
      const t0 = performance.now();
      await run();
      times.push(performance.now() - t0);
    }
    const r = summarize(times);
    r.seq_per_s = c.batch / (r.median_ms / 1000);
    return r;
  } finally {
    await pool.close();
  }
}
