/**
 * `ncps bench`: times a training step, batched inference or a streaming step of one model, with medians
 * over repeated runs after warm-up (the machine is noisy: compare ratios taken in the same run); or, with
 * --suite, a whole comparison of models and how their costs scale (bench-suite.ts), written as JSON and
 * SVG plots. With --threads N the training step is fit's own (trainStep with a worker pool) and inference
 * is split across the threads as fit's validation does.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { SequenceDataset } from "../data/dataset.js";
import type { BackendKind } from "../engine/engine.js";
import { wasmVariant } from "../engine/wasm.js";
import { gemmProbes } from "./bench-gemm-probe.js";
import { writeFileAtomic } from "../io/atomic.js";
import type { RecurrentModel } from "../models/recurrent.js";
import type { Tensor } from "../tensor.js";
import { resolveLoss } from "../train/losses.js";
import { createOptimizer } from "../train/optimizers.js";
import { BatchAssembler, modelShape, predictShard } from "../train/shard.js";
import { trainStep, type TrainStepContext } from "../train/train-step.js";
import { WorkerPool } from "../train/workers.js";
import {
  BENCH_MODEL_NAMES,
  benchModelConfig,
  benchModelKind,
  buildBenchModel,
  DOPRI5,
  isSolverName,
  type BenchModelChoice,
  type BenchSizes,
  type BenchSolver,
  unavailableReason,
} from "./bench-models.js";
import { suiteFigures } from "./bench-plots.js";
import { summarizeSuite } from "./bench-report.js";
import { median } from "./bench-stats.js";
import { defaultPytorchPaths, PYTORCH_MODES, PytorchUnavailable, type PytorchMode } from "./bench-pytorch.js";
import { paperEntries, runSuite, SUITES, suiteDefaults, type SuiteName, type SuiteOptions } from "./bench-suite.js";
import { countRunWork, prepareWorkload, randomTensor, type BenchWhat } from "./bench-workload.js";
import { CliError, type CliIO, intFlag, numFlag, parseArgs, type ParsedArgs, threadsFlag } from "./util.js";

const USAGE = `usage: ncps bench [--model ${BENCH_MODEL_NAMES.join("|")}] [--what train|infer|stream]
                  [--batch 64] [--seq-len 32] [--input-size 16] [--units 64]
                  [--backbone-units 128] [--backbone-layers 1] [--wiring autoncp[:SPARSITY]]
                  [--ode-unfolds 6] [--solver euler|rk4|dopri5 [--rtol 1e-3 --atol 1e-4 | --steps-per-gap 1]]
                  [--threads N] [--repeats N] [--warmup N] [--stream-steps 256]
                  [--backend wasm|reference] [--compare-cfc] [--json]
       ncps bench --suite ${SUITES.join("|")} [--quick] [--rounds 7] [--models KEY,KEY...] [--no-scaling]
                  [--pytorch auto|on|off] [--pytorch-python PATH] [--pytorch-ncps DIR]
                  [--out DIR] [--json] [sizes as above]

train:  one training step (zero grads, forward over the sequence, MSE on every step's output,
        backward through time, Adam step); default batch 64.
infer:  batched inference without gradients; default batch 256; reports sequences/s too.
--threads N (train, infer): the batch split across N threads (N - 1 workers and this one), N at most the core count.
stream: one sample, one step per call, state carried; reports us per step.
--solver (ct-rnn, ode-rnn, gru-ode, ode-lstm): the ODE solver; default dopri5 at rtol 1e-3, atol 1e-4;
        euler and rk4 take --steps-per-gap steps per observation (default 1). The JSON report gives
        the solver's steps and field evaluations per observation.
--compare-cfc (with --model ltc): also times a CfC of the same units in the same run and reports
        the closed-form speed-up (LTC time / CfC time).

--suite paper: every model at the same sizes (training step, batched inference at the same batch,
        streaming), the ODE models with rk4 and dopri5, then costs against sequence length, hidden
        size and batch for cfc, ltc, ct-rnn-dopri5 and lstm; rounds interleave all workloads. Writes
        DIR/suite.json and DIR/scaling-*.svg with --out; prints the JSON with --json, else a table.
        Models this build does not have are listed as not measured. About 5 minutes on 2 cores;
        --quick: tiny sizes, 2 rounds, a few seconds.
        --pytorch auto|on|off: also time the real PyTorch ncps 1.0.1 (CfC, wired CfC, LTC) and
        torch.nn GRU and LSTM on the same workloads, each back to back with its ncps-ts counterpart
        in every round, and report ncps-ts / PyTorch ratios (about a minute more). auto (default):
        when --pytorch-python (default /usr/bin/python3) imports torch and --pytorch-ncps (default
        ../shared/reference/ncps-1.0.1 beside the checkout) holds ncps, else skipped with a line
        saying what is missing; on: missing pieces are an error (exit 1).
        --models KEY,KEY... restricts the suite to some of its models:
${wrap(paperEntries(suiteDefaults(false).sizes).map((e) => e.key).join(", "), 8, 100)}`;

/** Words of `text` in lines of at most `width` characters, each indented by `indent` spaces. */
function wrap(text: string, indent: number, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => " ".repeat(indent) + l).join("\n");
}

/** Flags that only the single-model bench takes, and those only the suite takes. */
const SINGLE_ONLY = ["model", "what", "wiring", "threads", "repeats", "compare-cfc", "solver", "rtol", "atol", "steps-per-gap"];
const SUITE_ONLY = ["quick", "rounds", "out", "models", "no-scaling", "pytorch", "pytorch-python", "pytorch-ncps"];

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { flags } = parseArgs(
    argv,
    {
      suite: { type: "string" },
      quick: { type: "boolean" },
      rounds: { type: "string" },
      out: { type: "string" },
      models: { type: "string" },
      "no-scaling": { type: "boolean" },
      pytorch: { type: "string" },
      "pytorch-python": { type: "string" },
      "pytorch-ncps": { type: "string" },
      model: { type: "string" },
      what: { type: "string" },
      batch: { type: "string" },
      "seq-len": { type: "string" },
      "input-size": { type: "string" },
      units: { type: "string" },
      "backbone-units": { type: "string" },
      "backbone-layers": { type: "string" },
      wiring: { type: "string" },
      "ode-unfolds": { type: "string" },
      solver: { type: "string" },
      rtol: { type: "string" },
      atol: { type: "string" },
      "steps-per-gap": { type: "string" },
      threads: { type: "string" },
      repeats: { type: "string" },
      warmup: { type: "string" },
      "stream-steps": { type: "string" },
      backend: { type: "string", default: "wasm" },
      "compare-cfc": { type: "boolean" },
      json: { type: "boolean" },
    },
    USAGE,
  );
  const backend = flags.backend as string;
  if (backend !== "wasm" && backend !== "reference") throw new CliError(`--backend must be wasm or reference, got '${backend}'`, 2, USAGE);
  if (flags.suite !== undefined) return runSuiteCommand(flags, backend, argv, io);
  for (const name of SUITE_ONLY) if (flags[name] !== undefined) throw new CliError(`--${name} applies to --suite only`, 2, USAGE);
  return runSingle(flags, backend, io);
}

// ---------------------------------------------------------------------------------------------
// The suite

async function runSuiteCommand(flags: ParsedArgs["flags"], backend: BackendKind, argv: string[], io: CliIO): Promise<number> {
  const suite = flags.suite as string;
  if (!(SUITES as readonly string[]).includes(suite)) throw new CliError(`--suite must be one of ${SUITES.join(", ")}, got '${suite}'`, 2, USAGE);
  for (const name of SINGLE_ONLY) if (flags[name] !== undefined) throw new CliError(`--${name} does not apply to --suite (the suite chooses its models and workloads)`, 2, USAGE);
  const quick = Boolean(flags.quick);
  const d = suiteDefaults(quick);
  const keys = paperEntries(d.sizes).map((e) => e.key);
  let only: string[] | null = null;
  if (flags.models !== undefined) {
    only = String(flags.models).split(",").map((s) => s.trim()).filter(Boolean);
    const unknown = only.filter((k) => !keys.includes(k));
    if (unknown.length || only.length === 0) throw new CliError(`--models must list suite keys (${keys.join(", ")}), got '${flags.models}'`, 2, USAGE);
  }
  const pytorch = (flags.pytorch as string | undefined) ?? "auto";
  if (!(PYTORCH_MODES as readonly string[]).includes(pytorch)) throw new CliError(`--pytorch must be one of ${PYTORCH_MODES.join(", ")}, got '${pytorch}'`, 2, USAGE);
  const torchPaths = defaultPytorchPaths();
  if (flags["pytorch-python"] !== undefined) torchPaths.python = String(flags["pytorch-python"]);
  if (flags["pytorch-ncps"] !== undefined) torchPaths.ncpsDir = path.resolve(String(flags["pytorch-ncps"]));
  const options: SuiteOptions = {
    suite: suite as SuiteName,
    quick,
    rounds: intFlag(flags, "rounds", USAGE, 1) ?? d.rounds,
    warmup: intFlag(flags, "warmup", USAGE, 1) ?? d.warmup,
    batch: intFlag(flags, "batch", USAGE, 1) ?? d.batch,
    seqLen: intFlag(flags, "seq-len", USAGE, 1) ?? d.seqLen,
    sizes: sizesFrom(flags, d.sizes),
    streamSteps: intFlag(flags, "stream-steps", USAGE, 1) ?? d.streamSteps,
    backend,
    targetMs: d.targetMs,
    maxRepeats: d.maxRepeats,
    only,
    scaling: !flags["no-scaling"],
    pytorch: pytorch as PytorchMode,
    pytorchPaths: torchPaths,
    command: ["ncps", "bench", ...argv].join(" "),
    log: (m) => io.err(`${m}\n`),
  };
  const outDir = flags.out as string | undefined;
  if (outDir !== undefined) mkdirSync(outDir, { recursive: true });
  let result;
  try {
    result = await runSuite(options);
  } catch (e) {
    if (e instanceof PytorchUnavailable) throw new CliError(`--pytorch on: PyTorch ncps cannot be measured: ${e.message}`, 1);
    throw e;
  }
  if (outDir !== undefined) {
    for (const f of suiteFigures(result)) {
      writeFileAtomic(path.join(outDir, f.file), f.svg);
      result.plots.push(f.file);
    }
    writeFileAtomic(path.join(outDir, "suite.json"), JSON.stringify(result, null, 1) + "\n");
    io.err(`wrote ${path.join(outDir, "suite.json")} and ${result.plots.length} plots (${result.runtime_s.toFixed(1)} s)\n`);
  }
  io.out(flags.json ? JSON.stringify(result) + "\n" : summarizeSuite(result));
  return 0;
}

function sizesFrom(flags: ParsedArgs["flags"], d: BenchSizes): BenchSizes {
  return {
    inputSize: intFlag(flags, "input-size", USAGE, 1) ?? d.inputSize,
    units: intFlag(flags, "units", USAGE, 1) ?? d.units,
    backboneUnits: intFlag(flags, "backbone-units", USAGE, 1) ?? d.backboneUnits,
    backboneLayers: intFlag(flags, "backbone-layers", USAGE, 0) ?? d.backboneLayers,
    odeUnfolds: intFlag(flags, "ode-unfolds", USAGE, 1) ?? d.odeUnfolds,
  };
}

// ---------------------------------------------------------------------------------------------
// One model

interface SingleConfig {
  choice: BenchModelChoice;
  what: BenchWhat;
  batch: number;
  seqLen: number;
  streamSteps: number;
  threads: number;
  repeats: number;
  warmup: number;
  backend: BackendKind;
}

export interface BenchResult {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  repeats: number;
  median_us_per_step?: number;
  seq_per_s?: number;
  /** matrix-product GFLOP/s of the run at the median time (one thread; engine.gemm and gemmPrepacked, 2 m n k per call) */
  gflops?: number;
  /** the engine's own gemm rate measured in the same run (64 x 128 x 256; streams: 1 x 128 x 256), and gflops over it */
  gemm_gflops?: number;
  gemm_fraction?: number;
}

function summarize(times: number[]): BenchResult {
  return { median_ms: median(times), min_ms: Math.min(...times), max_ms: Math.max(...times), repeats: times.length };
}

async function timeRuns(fn: () => unknown, repeats: number, warmup: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

function solverFlags(flags: ParsedArgs["flags"], ode: boolean, model: string): BenchSolver | undefined {
  const given = ["solver", "rtol", "atol", "steps-per-gap"].filter((k) => flags[k] !== undefined);
  if (!ode) {
    if (given.length) throw new CliError(`--${given[0]} applies to the ODE models (ct-rnn, ode-rnn, gru-ode, ode-lstm), not to --model ${model}`, 2, USAGE);
    return undefined;
  }
  const name = (flags.solver as string | undefined) ?? DOPRI5.solver;
  if (!isSolverName(name)) throw new CliError(`--solver must be euler, rk4 or dopri5, got '${name}'`, 2, USAGE);
  const positive = (flag: string): number | undefined => {
    const v = numFlag(flags, flag, USAGE);
    if (v !== undefined && !(v > 0)) throw new CliError(`--${flag} must be a number > 0, got '${flags[flag]}'`, 2, USAGE);
    return v;
  };
  if (name === "dopri5") {
    if (flags["steps-per-gap"] !== undefined) throw new CliError(`--steps-per-gap applies to --solver euler and rk4, not to dopri5`, 2, USAGE);
    return { solver: name, rtol: positive("rtol") ?? DOPRI5.rtol, atol: positive("atol") ?? DOPRI5.atol };
  }
  for (const k of ["rtol", "atol"]) if (flags[k] !== undefined) throw new CliError(`--${k} applies to --solver dopri5, not to ${name}`, 2, USAGE);
  return { solver: name, stepsPerGap: intFlag(flags, "steps-per-gap", USAGE, 1) ?? 1 };
}

function wiringSparsity(spec: string | undefined, model: string, wirable: boolean): number | undefined {
  if (spec === undefined) return undefined;
  if (!wirable) throw new CliError(`--wiring applies to cfc and ltc models, not to --model ${model}`, 2, USAGE);
  const [kind, sparsity, ...rest] = spec.split(":");
  const s = sparsity === undefined ? 0.5 : Number(sparsity);
  if (kind !== "autoncp" || rest.length || !(s >= 0 && s < 1)) throw new CliError(`--wiring must be autoncp[:SPARSITY] with SPARSITY in [0, 1), got '${spec}'`, 2, USAGE);
  return s;
}

async function runSingle(flags: ParsedArgs["flags"], backend: BackendKind, io: CliIO): Promise<number> {
  const modelName = (flags.model as string | undefined) ?? "cfc";
  const kind = benchModelKind(modelName);
  if (!kind) throw new CliError(`--model must be one of ${BENCH_MODEL_NAMES.join(", ")}; got '${modelName}'`, 2, USAGE);
  const what = (flags.what as string | undefined) ?? "train";
  if (what !== "train" && what !== "infer" && what !== "stream") throw new CliError(`--what must be train, infer or stream, got '${what}'`, 2, USAGE);
  const d = suiteDefaults(false);
  const c: SingleConfig = {
    choice: { name: modelName, sizes: sizesFrom(flags, d.sizes), solver: solverFlags(flags, kind.ode, modelName), autoNcpSparsity: wiringSparsity(flags.wiring as string | undefined, modelName, kind.wirable) },
    what,
    batch: intFlag(flags, "batch", USAGE, 1) ?? (what === "infer" ? 256 : what === "stream" ? 1 : 64),
    seqLen: intFlag(flags, "seq-len", USAGE, 1) ?? d.seqLen,
    streamSteps: intFlag(flags, "stream-steps", USAGE, 1) ?? d.streamSteps,
    threads: threadsFlag(flags, USAGE) ?? 1,
    repeats: intFlag(flags, "repeats", USAGE, 1) ?? (what === "stream" ? 30 : 20),
    warmup: intFlag(flags, "warmup", USAGE, 0) ?? 3,
    backend,
  };
  if (c.threads > 1 && what === "stream") throw new CliError(`--threads applies to --what train and infer (a stream is one sample)`, 2, USAGE);
  if (flags["compare-cfc"] && modelName !== "ltc") throw new CliError(`--compare-cfc needs --model ltc`, 2, USAGE);
  const result: Record<string, unknown> = { ...(await benchOne(c)) };
  if (flags["compare-cfc"]) {
    const cfc = await benchOne({ ...c, choice: { ...c.choice, name: "cfc" } });
    result.cfc_median_ms = cfc.median_ms;
    result.speedup = (result.median_ms as number) / cfc.median_ms;
  }
  const s = c.choice.sizes;
  const meta = {
    model: modelName, what, batch: c.batch, seq_len: c.seqLen, input_size: s.inputSize, units: s.units, backbone_units: s.backboneUnits, backbone_layers: s.backboneLayers,
    wiring: (flags.wiring as string | undefined) ?? null, threads: c.threads, backend: c.backend, ...(c.backend === "wasm" ? { wasm_variant: wasmVariant() } : {}), ...(c.choice.solver ? { solver: c.choice.solver } : {}), model_config: benchModelConfig(c.choice),
  };
  if (flags.json) io.out(JSON.stringify({ ...result, config: meta }) + "\n");
  else {
    const { model_config: _omitted, ...shown } = meta;
    const lines = [`${modelName} ${what} (${JSON.stringify(shown)})`, `  median ${(result.median_ms as number).toFixed(3)} ms  min ${(result.min_ms as number).toFixed(3)}  max ${(result.max_ms as number).toFixed(3)}  (${result.repeats} runs)`];
    if (result.median_us_per_step !== undefined) lines.push(`  ${(result.median_us_per_step as number).toFixed(2)} us per step`);
    if (result.seq_per_s !== undefined) lines.push(`  ${Math.round(result.seq_per_s as number)} sequences/s`);
    if (result.gflops !== undefined) lines.push(`  matrix products ${(result.gflops as number).toFixed(1)} GFLOP/s, ${Math.round(100 * (result.gemm_fraction as number))}% of the engine's gemm (${(result.gemm_gflops as number).toFixed(1)} GFLOP/s) in this run`);
    const solver = result.solver as { accepted_per_observation: number; rejected_per_observation: number; evaluations_per_observation: number } | undefined;
    if (solver) lines.push(`  solver per observation: ${solver.accepted_per_observation.toFixed(2)} accepted, ${solver.rejected_per_observation.toFixed(2)} rejected steps, ${solver.evaluations_per_observation.toFixed(1)} evaluations`);
    if (result.speedup !== undefined) lines.push(`  CfC same units: ${(result.cfc_median_ms as number).toFixed(3)} ms; closed-form speed-up ${(result.speedup as number).toFixed(1)}x`);
    io.out(lines.join("\n") + "\n");
  }
  return 0;
}

function buildSingle(c: SingleConfig): RecurrentModel {
  const config = benchModelConfig(c.choice);
  const why = unavailableReason(config);
  if (why) throw new CliError(`--model ${c.choice.name}: ${why}`, 1);
  return buildBenchModel(config, c.backend);
}

async function benchOne(c: SingleConfig): Promise<BenchResult & { solver?: unknown }> {
  const model = buildSingle(c);
  if (c.threads > 1) {
    const x = randomTensor([c.batch, c.seqLen, model.inputSize], model.dtype, 7);
    if (c.what === "train") return benchTrainThreads(c, model, x, randomTensor([c.batch, c.seqLen, model.outputSize], model.dtype, 9));
    return benchInferThreads(c, model, x);
  }
  const w = prepareWorkload(model, c.what, { batch: c.batch, seqLen: c.seqLen, streamSteps: c.streamSteps });
  const r: BenchResult & { solver?: unknown } = summarize(await timeRuns(() => w.run(), c.repeats, c.warmup));
  if (c.what === "stream") r.median_us_per_step = (r.median_ms * 1000) / c.streamSteps;
  if (c.what === "infer") r.seq_per_s = c.batch / (r.median_ms / 1000);
  const work = countRunWork(w);
  if (work.gemmFlop > 0) {
    r.gflops = work.gemmFlop / (r.median_ms * 1e6);
    const [probe] = gemmProbes(c.backend, [c.what === "stream" ? { kind: "row", m: 1, k: 128, n: 256 } : { kind: "batched", m: 64, k: 128, n: 256 }], 2e7);
    const probeTimes = await timeRuns(() => probe.run(), 9, 2);
    r.gemm_gflops = probe.flop / (median(probeTimes) * 1e6);
    r.gemm_fraction = r.gflops / r.gemm_gflops;
  }
  if (work.solver) {
    const n = w.observations;
    r.solver = { accepted_per_observation: work.solver.accepted / n, rejected_per_observation: work.solver.rejected / n, evaluations_per_observation: work.solver.rowEvaluations / n, run: work.solver };
  }
  return r;
}

/** The bench's inputs and targets as a dataset: worker threads read their samples from datasets. */
function benchDataset(c: SingleConfig, model: RecurrentModel, x: Tensor, target: Tensor): SequenceDataset {
  return {
    size: c.batch,
    steps: c.seqLen,
    features: model.inputSize,
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
async function benchTrainThreads(c: SingleConfig, model: RecurrentModel, x: Tensor, target: Tensor): Promise<BenchResult> {
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
    return summarize(await timeRuns(() => trainStep(ctx, indices, steps++), c.repeats, c.warmup));
  } finally {
    await pool.close();
  }
}

/** Batched inference with the sequences split across threads (as fit's validation does). */
async function benchInferThreads(c: SingleConfig, model: RecurrentModel, x: Tensor): Promise<BenchResult> {
  const target: Tensor = { shape: [c.batch, c.seqLen, model.outputSize], data: new Float32Array(c.batch * c.seqLen * model.outputSize) };
  const ds = benchDataset(c, model, x, target);
  const asm = new BatchAssembler(modelShape(model), ds);
  const pool = await WorkerPool.create(model, [ds], c.threads - 1, null);
  try {
    const run = () => pool.predict(model.parameters(), 0, c.batch, (indices, dest) => predictShard(model, asm, indices, dest, "per_step"));
    const r = summarize(await timeRuns(run, c.repeats, c.warmup));
    r.seq_per_s = c.batch / (r.median_ms / 1000);
    return r;
  } finally {
    await pool.close();
  }
}
