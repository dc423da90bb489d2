/**
 * One timed piece of work of `ncps bench` on one model, prepared once and run many times: a training
 * step (zero grads, forward over the sequence, MSE on every step's output, backward through time, Adam
 * step), batched inference without gradients, or a stream of single-sample steps with the state carried.
 *
 * Besides timing, a workload can count what one run did: the matrix-product FLOPs (2 m n k per
 * engine.gemm or gemmPrepacked call, counted by wrapping the model's engine for that run, so the count follows whatever
 * the model really did, including an adaptive solver's steps) and, for ODE models, the solver's steps
 * and field evaluations (from the model's `solver.stats`).
 */
import type { Engine } from "../engine/engine.js";
import type { OdeStepStats } from "../models/ode-solver.js";
import type { RecurrentModel } from "../models/recurrent.js";
import type { Tensor } from "../tensor.js";
import { mseLoss } from "../train/losses.js";
import { createOptimizer } from "../train/optimizers.js";

export type BenchWhat = "train" | "infer" | "stream";
export const BENCH_WHATS: readonly BenchWhat[] = ["train", "infer", "stream"];

export interface WorkloadShape {
  /** samples per batch (train, infer); a stream is one sample */
  batch: number;
  /** observations per sequence (train, infer) */
  seqLen: number;
  /** single-sample steps per timed run (stream) */
  streamSteps: number;
}

export interface Workload {
  readonly what: BenchWhat;
  readonly model: RecurrentModel;
  /** samples x observations one run processes (stream: its steps) */
  readonly observations: number;
  /** sequences one run processes (stream: 1) */
  readonly sequences: number;
  run(): void;
}

/** Deterministic values in [-1, 1) (xorshift32), so every run of a benchmark sees the same data. */
export function randomTensor(shape: number[], dtype: "float32" | "float64", seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    d[i] = (s / 4294967296) * 2 - 1;
  }
  return { shape, data: d };
}

export function prepareWorkload(model: RecurrentModel, what: BenchWhat, shape: WorkloadShape): Workload {
  if (what === "train") return trainWorkload(model, shape);
  if (what === "infer") return inferWorkload(model, shape);
  return streamWorkload(model, shape);
}

function trainWorkload(model: RecurrentModel, { batch, seqLen }: WorkloadShape): Workload {
  const x = randomTensor([batch, seqLen, model.inputSize], model.dtype, 7);
  const target = randomTensor([batch, seqLen, model.outputSize], model.dtype, 9);
  const opt = createOptimizer("adam", { lr: 1e-3 });
  const grad = model.dtype === "float64" ? new Float64Array(target.data.length) : new Float32Array(target.data.length);
  const n = batch * seqLen;
  return {
    what: "train",
    model,
    observations: n,
    sequences: batch,
    run() {
      model.zeroGrad();
      const { output } = model.forward(x, { training: true });
      const r = mseLoss(output.data, target.data, n, model.outputSize, undefined, grad);
      model.backward({ shape: output.shape, data: r.grad });
      opt.step(model.parameters());
    },
  };
}

function inferWorkload(model: RecurrentModel, { batch, seqLen }: WorkloadShape): Workload {
  const x = randomTensor([batch, seqLen, model.inputSize], model.dtype, 7);
  return { what: "infer", model, observations: batch * seqLen, sequences: batch, run: () => void model.predict(x) };
}

function streamWorkload(model: RecurrentModel, { streamSteps }: WorkloadShape): Workload {
  const stream = model.stream();
  const I = model.inputSize;
  const x = randomTensor([streamSteps, I], model.dtype, 7).data;
  const rows = Array.from({ length: streamSteps }, (_, t) => x.subarray(t * I, (t + 1) * I));
  return {
    what: "stream",
    model,
    observations: streamSteps,
    sequences: 1,
    run() {
      for (let t = 0; t < streamSteps; t++) stream.step(rows[t], 1);
    },
  };
}

/** The step counters of an ODE model's solver, or null for models without one. */
export function solverStatsOf(model: RecurrentModel): { readonly stats: OdeStepStats; resetStats(): void } | null {
  const solver = (model as unknown as { solver?: { stats?: OdeStepStats; resetStats?: () => void } }).solver;
  if (!solver || typeof solver.resetStats !== "function" || !solver.stats) return null;
  return solver as { readonly stats: OdeStepStats; resetStats(): void };
}

/** What one run of a workload did. */
export interface RunWork {
  /** matrix-product FLOPs: 2 m n k summed over engine.gemm and gemmPrepacked calls */
  gemmFlop: number;
  /** ODE models: solver counters of the run (forward solves; backward replays the recorded steps) */
  solver: OdeStepStats | null;
}

/** Runs the workload once more, counting its matrix-product FLOPs and solver steps. */
export function countRunWork(w: Workload): RunWork {
  const engine = w.model.engine as Engine & { gemm: Engine["gemm"]; gemmPrepacked: Engine["gemmPrepacked"] };
  const solver = solverStatsOf(w.model);
  let flop = 0;
  const gemm = engine.gemm;
  const gemmPrepacked = engine.gemmPrepacked;
  // own properties shadow the class methods for this run only; deleting them restores the methods
  engine.gemm = function countedGemm(m, n, k, a, lda, b, ldb, c, ldc, accumulate) {
    flop += 2 * m * n * k;
    gemm.call(engine, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
  };
  engine.gemmPrepacked = function countedGemmPrepacked(m, n, k, a, lda, packed, b, ldb, c, ldc, accumulate) {
    flop += 2 * m * n * k;
    gemmPrepacked.call(engine, m, n, k, a, lda, packed, b, ldb, c, ldc, accumulate);
  };
  solver?.resetStats();
  try {
    w.run();
  } finally {
    delete (engine as Partial<Engine>).gemm;
    delete (engine as Partial<Engine>).gemmPrepacked;
    if (engine.gemm !== gemm) engine.gemm = gemm;
    if (engine.gemmPrepacked !== gemmPrepacked) engine.gemmPrepacked = gemmPrepacked;
  }
  return { gemmFlop: flop, solver: solver ? { ...solver.stats } : null };
}
