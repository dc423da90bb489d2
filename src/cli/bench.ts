/**
 * `ncps bench`: times a training step, batched inference or a streaming step of a model, with medians
 * over repeated runs after warm-up (the machine is noisy: compare ratios taken in the same run).
 * With --threads N the training step is fit's own (trainStep with a worker pool) and inference is split
 * across the threads as fit's validation does.
 */
import type { SequenceDataset } from "../data/dataset.js";
import type { BackendKind } from "../engine/engine.js";
import { buildModel } from "../models/build.js";
import { CfC } from "../models/cfc.js";
import type { RecurrentModel } from "../models/recurrent.js";
import type { Tensor } from "../tensor.js";
import { mseLoss, resolveLoss } from "../train/losses.js";
import { createOptimizer } from "../train/optimizers.js";
import { BatchAssembler, modelShape, predictShard } from "../train/shard.js";
import { trainStep, type TrainStepContext } from "../train/train-step.js";
import { WorkerPool } from "../train/workers.js";
import { AutoNCP } from "../wirings/auto-ncp.js";
import { CliError, type CliIO, intFlag, parseArgs } from "./util.js";

const USAGE = `usage: ncps bench [--model cfc|cfc-no_gate|cfc-pure|cfc-mixed|ltc] [--what train|infer|stream]
                  [--batch 64] [--seq-len 32] [--input-size 16] [--units 64]
                  [--backbone-units 128] [--backbone-layers 1] [--wiring autoncp[:SPARSITY]]
                  [--ode-unfolds 6] [--threads N] [--repeats N] [--warmup N]
                  [--backend wasm|reference] [--compare-cfc] [--json]

train:  one training step (zero grads, forward over the sequence, MSE on every step's output,
        backward through time, Adam step); default batch 64.
infer:  batched inference without gradients; default batch 256; reports sequences/s too.
--threads N (train, infer): the batch split across N threads (N - 1 workers and this one).
stream: one sample, one step per call, state carried; reports us per step.
--compare-cfc (with --model ltc): also times a CfC of the same units in the same run and reports
        the closed-form speed-up (LTC time / CfC time).`;

export interface BenchConfig {
  model: string;
  what: "train" | "infer" | "stream";
  batch: number;
  seqLen: number;
  inputSize: number;
  units: number;
  backboneUnits: number;
  backboneLayers: number;
  wiring: string | null;
  odeUnfolds: number;
  threads: number;
  repeats: number;
  warmup: number;
  backend: BackendKind;
}

export function makeBenchModel(c: BenchConfig, modelName = c.model): RecurrentModel {
  const units = c.wiring ? wiringFor(c.wiring, c.units) : c.units;
  const seed = 1;
  if (modelName === "ltc") {
    const args: Record<string, unknown> = { input_size: c.inputSize, units: typeof units === "number" ? units : { wiring: { kind: "AutoNCP", args: { units: c.units, output_size: Math.max(1, Math.floor(c.units / 8)), sparsity_level: sparsityOf(c.wiring!) } } }, ode_unfolds: c.odeUnfolds };
    return buildModel({ model: "LTC", constructor_args: args }, { backend: c.backend, seed });
  }
  const variants: Record<string, object> = { cfc: {}, "cfc-no_gate": { mode: "no_gate" }, "cfc-pure": { mode: "pure" }, "cfc-mixed": { mixedMemory: true } };
  const v = variants[modelName];
  if (!v) throw new CliError(`--model must be one of cfc, cfc-no_gate, cfc-pure, cfc-mixed, ltc; got '${modelName}'`, 2, USAGE);
  const backbone = typeof units === "number" ? { backboneUnits: c.backboneUnits, backboneLayers: c.backboneLayers } : {};
  return new CfC(c.inputSize, units, { ...v, ...backbone, backend: c.backend, seed });
}

function sparsityOf(spec: string): number {
  const parts = spec.split(":");
  return parts[1] !== undefined ? Number(parts[1]) : 0.5;
}

function wiringFor(spec: string, units: number) {
  const [kind] = spec.split(":");
  if (kind !== "autoncp") throw new CliError(`--wiring must be autoncp[:SPARSITY], got '${spec}'`, 2, USAGE);
  return new AutoNCP(units, Math.max(1, Math.floor(units / 8)), { sparsityLevel: sparsityOf(spec) });
}

function randomTensor(shape: number[], dtype: "float32" | "float64", seed: number): Tensor {
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

export interface BenchResult {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  repeats: number;
  median_us_per_step?: number;
  seq_per_s?: number;
}

function summarize(times: number[], extra: Partial<BenchResult> = {}): BenchResult {
  const s = [...times].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median_ms: median, min_ms: s[0], max_ms: s[s.length - 1], repeats: s.length, ...extra };
}

function time(fn: () => void, repeats: number, warmup: number): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function timeAsync(fn: () => Promise<unknown>, repeats: number, warmup: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

export async function benchTrain(c: BenchConfig, modelName = c.model): Promise<BenchResult> {
  const model = makeBenchModel(c, modelName);
  const x = randomTensor([c.batch, c.seqLen, c.inputSize], model.dtype, 7);
  const target = randomTensor([c.batch, c.seqLen, model.outputSize], model.dtype, 9);
  if (c.threads > 1) return benchTrainThreads(c, model, x, target);
  const opt = createOptimizer("adam", { lr: 1e-3 });
  const grad = model.dtype === "float64" ? new Float64Array(target.data.length) : new Float32Array(target.data.length);
  const step = () => {
    model.zeroGrad();
    const { output } = model.forward(x, { training: true });
    const n = c.batch * c.seqLen;
    const r = mseLoss(output.data, target.data, n, model.outputSize, undefined, grad);
    model.backward({ shape: output.shape, data: r.grad });
    opt.step(model.parameters());
  };
  return summarize(time(step, c.repeats, c.warmup));
}

export async function benchInfer(c: BenchConfig, modelName = c.model): Promise<BenchResult> {
  const model = makeBenchModel(c, modelName);
  const x = randomTensor([c.batch, c.seqLen, c.inputSize], model.dtype, 7);
  if (c.threads > 1) return benchInferThreads(c, model, x);
  const r = summarize(time(() => model.predict(x), c.repeats, c.warmup));
  r.seq_per_s = c.batch / (r.median_ms / 1000);
  return r;
}

export function benchStream(c: BenchConfig, modelName = c.model): BenchResult {
  const model = makeBenchModel(c, modelName);
  const stream = model.stream();
  const steps = 256;
  const x = randomTensor([steps, c.inputSize], model.dtype, 7).data;
  const rows = Array.from({ length: steps }, (_, t) => x.subarray(t * c.inputSize, (t + 1) * c.inputSize));
  const run = () => {
    for (let t = 0; t < steps; t++) stream.step(rows[t], 1);
  };
  const r = summarize(time(run, c.repeats, c.warmup));
  r.median_us_per_step = (r.median_ms * 1000) / steps;
  return r;
}

/** The bench's inputs and targets as a dataset: worker threads read their samples from datasets. */
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

/** The training step of fit with `threads: c.threads`: the batch split across threads, one Adam step. */
async function benchTrainThreads(c: BenchConfig, model: RecurrentModel, x: Tensor, target: Tensor): Promise<BenchResult> {
  const ds = benchDataset(c, model, x, target);
  const loss = resolveLoss(ds, model.outputSize, "mse");
  const pool = await WorkerPool.create(model, [ds], c.threads - 1, loss);
  try {
    const ctx: TrainStepContext = {
      model,
      train: ds,
      assembler: new BatchAssembler(modelShape(model), ds),
      loss,
      optimizer: createOptimizer("adam", { lr: 1e-3 }),
      clipNorm: null,
      pool,
      seed: 0,
    };
    const indices = Int32Array.from({ length: c.batch }, (_, i) => i);
    let steps = 0;
    return summarize(await timeAsync(() => trainStep(ctx, indices, steps++), c.repeats, c.warmup));
  } finally {
    await pool.close();
  }
}

/** Batched inference with the sequences split across threads (as fit's validation does). */
async function benchInferThreads(c: BenchConfig, model: RecurrentModel, x: Tensor): Promise<BenchResult> {
  const target: Tensor = { shape: [c.batch, c.seqLen, model.outputSize], data: new Float32Array(c.batch * c.seqLen * model.outputSize) };
  const ds = benchDataset(c, model, x, target);
  const asm = new BatchAssembler(modelShape(model), ds);
  const pool = await WorkerPool.create(model, [ds], c.threads - 1, null);
  try {
    const run = () => pool.predict(model.parameters(), 0, c.batch, (indices, dest) => predictShard(model, asm, indices, dest, "per_step"));
    const r = summarize(await timeAsync(run, c.repeats, c.warmup));
    r.seq_per_s = c.batch / (r.median_ms / 1000);
    return r;
  } finally {
    await pool.close();
  }
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { flags } = parseArgs(
    argv,
    {
      model: { type: "string", default: "cfc" },
      what: { type: "string", default: "train" },
      batch: { type: "string" },
      "seq-len": { type: "string", default: "32" },
      "input-size": { type: "string", default: "16" },
      units: { type: "string", default: "64" },
      "backbone-units": { type: "string", default: "128" },
      "backbone-layers": { type: "string", default: "1" },
      wiring: { type: "string" },
      "ode-unfolds": { type: "string", default: "6" },
      threads: { type: "string", default: "1" },
      repeats: { type: "string" },
      warmup: { type: "string", default: "3" },
      backend: { type: "string", default: "wasm" },
      "compare-cfc": { type: "boolean" },
      json: { type: "boolean" },
    },
    USAGE,
  );
  const what = flags.what as string;
  if (what !== "train" && what !== "infer" && what !== "stream") throw new CliError(`--what must be train, infer or stream, got '${what}'`, 2, USAGE);
  const backend = flags.backend as string;
  if (backend !== "wasm" && backend !== "reference") throw new CliError(`--backend must be wasm or reference, got '${backend}'`, 2, USAGE);
  const c: BenchConfig = {
    model: flags.model as string,
    what,
    batch: intFlag(flags, "batch", USAGE, 1) ?? (what === "infer" ? 256 : what === "stream" ? 1 : 64),
    seqLen: intFlag(flags, "seq-len", USAGE, 1)!,
    inputSize: intFlag(flags, "input-size", USAGE, 1)!,
    units: intFlag(flags, "units", USAGE, 1)!,
    backboneUnits: intFlag(flags, "backbone-units", USAGE, 1)!,
    backboneLayers: intFlag(flags, "backbone-layers", USAGE, 0)!,
    wiring: (flags.wiring as string | undefined) ?? null,
    odeUnfolds: intFlag(flags, "ode-unfolds", USAGE, 1)!,
    threads: intFlag(flags, "threads", USAGE, 1)!,
    repeats: intFlag(flags, "repeats", USAGE, 1) ?? (what === "stream" ? 30 : 20),
    warmup: intFlag(flags, "warmup", USAGE, 0)!,
    backend,
  };
  if (c.threads > 1 && what === "stream") throw new CliError(`--threads applies to --what train and infer (a stream is one sample)`, 2, USAGE);
  const runOne = async (name: string) => (what === "train" ? benchTrain(c, name) : what === "infer" ? benchInfer(c, name) : benchStream(c, name));
  const result: Record<string, unknown> = { ...(await runOne(c.model)) };
  if (flags["compare-cfc"]) {
    if (c.model !== "ltc") throw new CliError(`--compare-cfc needs --model ltc`, 2, USAGE);
    const cfc = await runOne("cfc");
    result.cfc_median_ms = cfc.median_ms;
    result.speedup = (result.median_ms as number) / cfc.median_ms;
  }
  const meta = { model: c.model, what, batch: c.batch, seq_len: c.seqLen, input_size: c.inputSize, units: c.units, backbone_units: c.backboneUnits, backbone_layers: c.backboneLayers, wiring: c.wiring, threads: c.threads, backend: c.backend };
  if (flags.json) io.out(JSON.stringify({ ...result, config: meta }) + "\n");
  else {
    const lines = [`${c.model} ${what} (${JSON.stringify(meta)})`, `  median ${(result.median_ms as number).toFixed(3)} ms  min ${(result.min_ms as number).toFixed(3)}  max ${(result.max_ms as number).toFixed(3)}  (${result.repeats} runs)`];
    if (result.median_us_per_step !== undefined) lines.push(`  ${(result.median_us_per_step as number).toFixed(2)} us per step`);
    if (result.seq_per_s !== undefined) lines.push(`  ${Math.round(result.seq_per_s as number)} sequences/s`);
    if (result.speedup !== undefined) lines.push(`  CfC same units: ${(result.cfc_median_ms as number).toFixed(3)} ms; closed-form speed-up ${(result.speedup as number).toFixed(1)}x`);
    io.out(lines.join("\n") + "\n");
  }
  return 0;
}
