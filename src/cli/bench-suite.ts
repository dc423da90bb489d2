/**
 * `ncps bench --suite paper`: the CfC paper's model comparison on this engine, in one run.
 *
 * Every model at the same hidden size (defaults: batch 64, 32 observations, 16 inputs, 64 hidden units,
 * CfC backbone 128): a training step, batched inference and batch-1 streaming, for CfC (default,
 * no_gate, pure), wired CfC (AutoNCP), LTC, the ODE baselines (CT-RNN, ODE-RNN, GRU-ODE, ODE-LSTM, each
 * with RK4 and with dopri5, with the solver's step counts) and GRU and LSTM. Then how the cost grows with
 * sequence length, hidden size and batch, for a representative subset (CfC, LTC, CT-RNN with dopri5,
 * LSTM) to keep the run short.
 *
 * How it measures (the machine is shared and noisy):
 *  - every workload is built and warmed up first: one run counting its work (below), then timed warm-up
 *    runs, the last of which sizes its repeats per round (about targetMs of timed work per round);
 *  - then rounds: each round runs every workload's repeats, the order rotating from round to round, so
 *    drift of the machine hits all workloads alike; a figure is the median of the round medians, with
 *    the interquartile range and extremes of all samples;
 *  - a speed-up is a ratio of two workloads' round medians within each round, then the median of those;
 *  - the engine's gemm is timed among the workloads (bench-gemm-probe.ts), and each model's achieved
 *    matrix-product rate is set against it: FLOPs are counted over one extra run by wrapping engine.gemm
 *    (2 m n k per call), so the count is exact for what ran, adaptive solver steps included. Elementwise
 *    kernels (gates, activations, the solvers' vector arithmetic, LTC's fused synapse kernels) are not
 *    counted: for LTC, whose work is mostly in those kernels, the figure says little.
 *
 * Models that this build's buildModel does not know yet are listed with a note and skipped.
 */
import { cpus, platform, arch, totalmem, availableParallelism } from "node:os";
import type { BackendKind } from "../engine/engine.js";
import type { ModelConfig } from "../models/build.js";
import type { OdeStepStats } from "../models/ode-solver.js";
import { GEMM_PROBE_SIZES, gemmProbes, QUICK_GEMM_PROBE_SIZES, type GemmProbe } from "./bench-gemm-probe.js";
import { benchModelConfig, buildBenchModel, DOPRI5, RK4, type BenchSizes, type BenchModelChoice, type BenchSolver, unavailableReason } from "./bench-models.js";
import { median, roundRatio, type RoundRatio, timingStats, type TimingStats } from "./bench-stats.js";
import { type BenchWhat, countRunWork, prepareWorkload, type RunWork, type Workload } from "./bench-workload.js";

export const SUITES = ["paper"] as const;
export type SuiteName = (typeof SUITES)[number];

export interface SuiteOptions {
  suite: SuiteName;
  quick: boolean;
  rounds: number;
  /** timed warm-up runs of each workload before the rounds, after one counted run (the last sizes its repeats) */
  warmup: number;
  batch: number;
  seqLen: number;
  sizes: BenchSizes;
  streamSteps: number;
  backend: BackendKind;
  /** timed time per workload and round to aim for (repeats = target / one run, at least 1) */
  targetMs: number;
  maxRepeats: number;
  /** only these suite entries (keys), or all */
  only: readonly string[] | null;
  scaling: boolean;
  /** the command line, recorded in the result */
  command: string;
  log(message: string): void;
}

/** Defaults of the full suite and of --quick (tiny sizes, 2 rounds, a few seconds). */
export function suiteDefaults(quick: boolean): Omit<SuiteOptions, "suite" | "quick" | "backend" | "only" | "scaling" | "command" | "log"> {
  return quick
    ? { rounds: 2, warmup: 1, batch: 4, seqLen: 4, sizes: { inputSize: 3, units: 8, backboneUnits: 8, backboneLayers: 1, odeUnfolds: 2 }, streamSteps: 8, targetMs: 0, maxRepeats: 1 }
    : { rounds: 7, warmup: 1, batch: 64, seqLen: 32, sizes: { inputSize: 16, units: 64, backboneUnits: 128, backboneLayers: 1, odeUnfolds: 6 }, streamSteps: 256, targetMs: 150, maxRepeats: 15 };
}

/** One model of the suite. */
export interface SuiteEntry {
  key: string;
  label: string;
  choice: BenchModelChoice;
}

/** The models of the paper suite, at the given sizes. */
export function paperEntries(sizes: BenchSizes): SuiteEntry[] {
  const entries: SuiteEntry[] = [
    { key: "cfc", label: "CfC", choice: { name: "cfc", sizes } },
    { key: "cfc-no_gate", label: "CfC no_gate", choice: { name: "cfc-no_gate", sizes } },
    { key: "cfc-pure", label: "CfC pure", choice: { name: "cfc-pure", sizes } },
    { key: "cfc-wired", label: "CfC AutoNCP", choice: { name: "cfc", sizes, autoNcpSparsity: 0.5 } },
    { key: "ltc", label: `LTC (${sizes.odeUnfolds} unfolds)`, choice: { name: "ltc", sizes } },
  ];
  const odeModels: Array<[string, string]> = [["ct-rnn", "CT-RNN"], ["ode-rnn", "ODE-RNN"], ["gru-ode", "GRU-ODE"], ["ode-lstm", "ODE-LSTM"]];
  for (const [name, label] of odeModels) {
    for (const solver of [RK4, DOPRI5]) entries.push({ key: `${name}-${solver.solver}`, label: `${label} ${solver.solver}`, choice: { name, sizes, solver } });
  }
  entries.push({ key: "gru", label: "GRU", choice: { name: "gru", sizes } }, { key: "lstm", label: "LSTM", choice: { name: "lstm", sizes } });
  return entries;
}

/** The subset whose costs are measured against sequence length, hidden size and batch. */
export const SCALING_KEYS = ["cfc", "ltc", "ct-rnn-dopri5", "lstm"];

export interface ScalingAxis {
  axis: "seq_len" | "hidden" | "batch";
  label: string;
  values: number[];
  /** hidden size also changes the streaming step; length and batch do not */
  whats: BenchWhat[];
}

export function scalingAxes(quick: boolean): ScalingAxis[] {
  return [
    { axis: "seq_len", label: "sequence length", values: quick ? [2, 4, 8, 16] : [8, 16, 32, 64, 128], whats: ["train", "infer"] },
    { axis: "hidden", label: "hidden units", values: quick ? [4, 8, 12, 16] : [16, 32, 64, 128], whats: ["train", "infer", "stream"] },
    { axis: "batch", label: "batch", values: quick ? [1, 2, 4, 8] : [1, 4, 16, 64, 256], whats: ["train", "infer"] },
  ];
}

// ---------------------------------------------------------------------------------------------
// Result format (suite.json)

export interface MachineInfo {
  cpu: string;
  cores: number;
  available_parallelism: number;
  memory_gib: number;
  node: string;
  platform: string;
}

export interface SolverWork {
  /** per sample and observation (stream: per step) */
  accepted_per_observation: number;
  rejected_per_observation: number;
  evaluations_per_observation: number;
  /** the run's raw counters (steps and row evaluations summed over samples) */
  run: OdeStepStats;
}

export interface WorkloadResult extends TimingStats {
  batch: number;
  seq_len: number;
  hidden: number;
  /** stream: single-sample steps per run */
  steps?: number;
  /** infer, train: sequences per second at the median */
  seq_per_s?: number;
  /** stream: microseconds per step at the median, quartiles and extremes */
  us_per_step?: { median: number; q1: number; q3: number; min: number; max: number };
  /** matrix-product FLOPs of one run (engine.gemm calls, 2 m n k each) */
  gemm_gflop_per_run: number;
  /** matrix-product GFLOP/s at the median time, and as a fraction of the engine's gemm probe */
  gemm_gflops: number;
  gemm_fraction: number;
  /** ODE models: the solver's steps in one run */
  solver?: SolverWork;
  /** this time over CfC's (same sizes, same rounds): how many times faster CfC is */
  vs_cfc?: RoundRatio;
  /** ODE models with dopri5: this time over the same model with RK4 */
  vs_rk4?: RoundRatio;
}

export interface ModelResult {
  key: string;
  label: string;
  config: ModelConfig;
  solver?: BenchSolver;
  status: "ok" | "unavailable" | "error";
  note?: string;
  parameters?: number;
  train?: WorkloadResult;
  infer?: WorkloadResult;
  stream?: WorkloadResult;
}

export interface GemmResult {
  kind: "batched" | "row";
  m: number;
  k: number;
  n: number;
  /** GFLOP/s per round (median of the round's runs) and over rounds */
  gflops: { median: number; min: number; max: number; per_round: number[] };
}

export interface ScalingPoint {
  value: number;
  result: WorkloadResult | null;
}

export interface ScalingSeries {
  key: string;
  label: string;
  what: BenchWhat;
  status: ModelResult["status"];
  note?: string;
  points: ScalingPoint[];
}

export interface ScalingResult {
  axis: ScalingAxis["axis"];
  label: string;
  values: number[];
  /** the sizes held at the defaults while this one varies */
  fixed: { batch: number; seq_len: number; hidden: number };
  series: ScalingSeries[];
}

export interface SuiteResult {
  format: "ncps-bench-suite/1";
  suite: SuiteName;
  quick: boolean;
  date: string;
  command: string;
  machine: MachineInfo;
  backend: BackendKind;
  config: {
    batch: number;
    seq_len: number;
    input_size: number;
    hidden: number;
    backbone_units: number;
    backbone_layers: number;
    ode_unfolds: number;
    stream_steps: number;
    rounds: number;
    warmup: number;
    target_ms: number;
    max_repeats: number;
    solvers: { rk4: BenchSolver; dopri5: BenchSolver };
    scaling_models: string[];
  };
  notes: string[];
  gemm: GemmResult[];
  models: ModelResult[];
  scaling: ScalingResult[];
  /** file names (relative to the output folder) of the plots, when written */
  plots: string[];
  runtime_s: number;
  peak_rss_mib: number;
}

// ---------------------------------------------------------------------------------------------
// Planning: one timed item per distinct (model, what, sizes)

interface Item {
  id: string;
  run(): void;
  repeats: number;
  /** untimed runs before the timed ones in each round (cache warm-up for short workloads) */
  warmRuns: number;
  samples: number[][];
  failed: string | null;
}

interface ModelItem extends Item {
  workload: Workload;
  shape: { batch: number; seqLen: number; hidden: number };
  work: RunWork | null;
}

interface Plan {
  entries: SuiteEntry[];
  /** per entry: why it is skipped, or null */
  skipped: Map<string, { status: "unavailable" | "error"; note: string }>;
  items: Map<string, ModelItem>;
  probes: Array<{ probe: GemmProbe; item: Item }>;
}

const itemId = (key: string, what: BenchWhat, batch: number, seqLen: number, hidden: number) => `${key}|${what}|B${batch}|L${seqLen}|H${hidden}`;

function selectedEntries(o: SuiteOptions): SuiteEntry[] {
  const all = paperEntries(o.sizes);
  return o.only ? all.filter((e) => o.only!.includes(e.key)) : all;
}

function plan(o: SuiteOptions): Plan {
  const entries = selectedEntries(o);
  const skipped: Plan["skipped"] = new Map();
  const items = new Map<string, ModelItem>();
  const want = (e: SuiteEntry, what: BenchWhat, batch: number, seqLen: number, hidden: number) => {
    if (skipped.has(e.key)) return;
    const id = itemId(e.key, what, batch, seqLen, hidden);
    if (items.has(id)) return;
    const choice = { ...e.choice, sizes: { ...e.choice.sizes, units: hidden } };
    const config = benchModelConfig(choice);
    const why = unavailableReason(config);
    if (why) {
      skipped.set(e.key, { status: "unavailable", note: why });
      return;
    }
    try {
      const model = buildBenchModel(config, o.backend);
      const workload = prepareWorkload(model, what, { batch: what === "stream" ? 1 : batch, seqLen, streamSteps: o.streamSteps });
      items.set(id, { id, run: () => workload.run(), repeats: 1, warmRuns: 0, samples: [], failed: null, workload, shape: { batch, seqLen, hidden }, work: null });
    } catch (err) {
      skipped.set(e.key, { status: "error", note: `building ${config.model}: ${err instanceof Error ? err.message : String(err)}` });
    }
  };
  for (const e of entries) for (const what of ["train", "infer", "stream"] as const) want(e, what, o.batch, o.seqLen, o.sizes.units);
  if (o.scaling) {
    for (const e of entries.filter((x) => SCALING_KEYS.includes(x.key))) {
      for (const ax of scalingAxes(o.quick)) {
        for (const v of ax.values) {
          for (const what of ax.whats) {
            want(e, what, ax.axis === "batch" ? v : o.batch, ax.axis === "seq_len" ? v : o.seqLen, ax.axis === "hidden" ? v : o.sizes.units);
          }
        }
      }
    }
  }
  const probes = gemmProbes(o.backend, o.quick ? QUICK_GEMM_PROBE_SIZES : GEMM_PROBE_SIZES, o.quick ? 1e5 : 2e8).map((probe) => ({
    probe,
    item: { id: `gemm|${probe.m}x${probe.k}x${probe.n}`, run: () => probe.run(), repeats: 1, warmRuns: 0, samples: [], failed: null } as Item,
  }));
  return { entries, skipped, items, probes };
}

// ---------------------------------------------------------------------------------------------
// Measuring

function warmUp(item: Item, o: SuiteOptions): void {
  let last = 0;
  for (let i = 0; i < Math.max(1, o.warmup); i++) {
    const t0 = performance.now();
    item.run();
    last = performance.now() - t0;
  }
  item.repeats = Math.max(1, Math.min(o.maxRepeats, Math.round(o.targetMs / Math.max(last, 1e-3))));
  item.warmRuns = last < o.targetMs / 2 ? 1 : 0;
}

function runRound(items: Item[], round: number): void {
  const offset = items.length ? (round * Math.max(1, Math.floor(items.length / 5))) % items.length : 0;
  const order = [...items.slice(offset), ...items.slice(0, offset)];
  for (const item of order) {
    for (let i = 0; i < item.warmRuns; i++) item.run();
    const times: number[] = [];
    for (let i = 0; i < item.repeats; i++) {
      const t0 = performance.now();
      item.run();
      times.push(performance.now() - t0);
    }
    item.samples.push(times);
  }
}

function measure(p: Plan, o: SuiteOptions): void {
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
  const modelItems = [...p.items.values()];
  o.log(`warm-up: ${modelItems.length} model workloads, ${p.probes.length} gemm probes`);
  for (const item of modelItems) {
    try {
      // the counted run goes first: it takes the first run's costs (memory growth, compilation), and
      // its solver counts are those of the freshly initialised weights whatever the warm-up count
      item.work = countRunWork(item.workload);
      warmUp(item, o);
    } catch (err) {
      item.failed = err instanceof Error ? err.message : String(err);
      o.log(`  ${item.id}: failed: ${item.failed}`);
    }
  }
  for (const { item } of p.probes) warmUp(item, o);
  const timed = [...modelItems.filter((i) => !i.failed), ...p.probes.map((x) => x.item)];
  o.log(`warm-up done (${elapsed()}); ${o.rounds} rounds of ${timed.reduce((a, i) => a + i.repeats, 0)} timed runs each`);
  for (let r = 0; r < o.rounds; r++) {
    runRound(timed, r);
    o.log(`round ${r + 1}/${o.rounds} done (${elapsed()})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Summarising

function gemmResults(p: Plan): GemmResult[] {
  return p.probes.map(({ probe, item }) => {
    const perRound = item.samples.map((times) => probe.flop / (median(times) * 1e6));
    return { kind: probe.kind, m: probe.m, k: probe.k, n: probe.n, gflops: { median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), per_round: perRound } };
  });
}

function workloadResult(item: ModelItem, gemm: GemmResult[]): WorkloadResult {
  const t = timingStats(item.samples);
  const w = item.workload;
  const r: WorkloadResult = { batch: w.sequences, seq_len: w.what === "stream" ? 1 : item.shape.seqLen, hidden: item.shape.hidden, ...t, gemm_gflop_per_run: 0, gemm_gflops: 0, gemm_fraction: 0 };
  if (w.what === "stream") {
    r.steps = w.observations;
    const us = (ms: number) => (ms * 1000) / w.observations;
    r.us_per_step = { median: us(t.median_ms), q1: us(t.q1_ms), q3: us(t.q3_ms), min: us(t.min_ms), max: us(t.max_ms) };
  } else r.seq_per_s = w.sequences / (t.median_ms / 1000);
  const work = item.work!;
  r.gemm_gflop_per_run = work.gemmFlop / 1e9;
  r.gemm_gflops = work.gemmFlop / (t.median_ms * 1e6);
  const kind = w.what === "stream" ? "row" : "batched";
  const reference = Math.max(0, ...gemm.filter((g) => g.kind === kind).map((g) => g.gflops.median));
  r.gemm_fraction = reference > 0 ? r.gemm_gflops / reference : 0;
  if (work.solver) {
    const n = w.observations;
    r.solver = { accepted_per_observation: work.solver.accepted / n, rejected_per_observation: work.solver.rejected / n, evaluations_per_observation: work.solver.rowEvaluations / n, run: work.solver };
  }
  return r;
}

function modelResults(p: Plan, o: SuiteOptions, gemm: GemmResult[]): ModelResult[] {
  const results: ModelResult[] = [];
  const medians = (key: string, what: BenchWhat) => {
    const item = p.items.get(itemId(key, what, o.batch, o.seqLen, o.sizes.units));
    return item && !item.failed ? item.samples.map((s) => median(s)) : null;
  };
  for (const e of p.entries) {
    const config = benchModelConfig(e.choice);
    const r: ModelResult = { key: e.key, label: e.label, config, status: "ok", ...(e.choice.solver ? { solver: e.choice.solver } : {}) };
    const skip = p.skipped.get(e.key);
    if (skip) {
      results.push({ ...r, status: skip.status, note: skip.note });
      continue;
    }
    const failures: string[] = [];
    for (const what of ["train", "infer", "stream"] as const) {
      const item = p.items.get(itemId(e.key, what, o.batch, o.seqLen, o.sizes.units))!;
      r.parameters = item.workload.model.parameterCount();
      if (item.failed) {
        failures.push(`${what}: ${item.failed}`);
        continue;
      }
      const wr = workloadResult(item, gemm);
      const mine = medians(e.key, what)!;
      const cfc = medians("cfc", what);
      if (e.key !== "cfc" && cfc) wr.vs_cfc = roundRatio(mine, cfc);
      if (e.choice.solver?.solver === "dopri5") {
        const rk4 = medians(e.key.replace(/-dopri5$/, "-rk4"), what);
        if (rk4) wr.vs_rk4 = roundRatio(mine, rk4);
      }
      r[what] = wr;
    }
    if (failures.length) Object.assign(r, { status: "error", note: failures.join("; ") });
    results.push(r);
  }
  return results;
}

function scalingResults(p: Plan, o: SuiteOptions, gemm: GemmResult[]): ScalingResult[] {
  if (!o.scaling) return [];
  const entries = p.entries.filter((e) => SCALING_KEYS.includes(e.key));
  return scalingAxes(o.quick).map((ax) => {
    const at = (v: number) => ({ batch: ax.axis === "batch" ? v : o.batch, seqLen: ax.axis === "seq_len" ? v : o.seqLen, hidden: ax.axis === "hidden" ? v : o.sizes.units });
    const series: ScalingSeries[] = [];
    for (const what of ax.whats) {
      for (const e of entries) {
        const skip = p.skipped.get(e.key);
        const points = ax.values.map((v) => {
          const s = at(v);
          const item = p.items.get(itemId(e.key, what, s.batch, s.seqLen, s.hidden));
          if (!item || item.failed) return { value: v, result: null };
          const result = workloadResult(item, gemm);
          const cfc = p.items.get(itemId("cfc", what, s.batch, s.seqLen, s.hidden));
          if (e.key !== "cfc" && cfc && !cfc.failed) result.vs_cfc = roundRatio(item.samples.map(median), cfc.samples.map(median));
          return { value: v, result };
        });
        series.push({ key: e.key, label: e.label, what, status: skip?.status ?? "ok", ...(skip ? { note: skip.note } : {}), points });
      }
    }
    return { axis: ax.axis, label: ax.label, values: ax.values, fixed: { batch: o.batch, seq_len: o.seqLen, hidden: o.sizes.units }, series };
  });
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? "unknown",
    cores: c.length,
    available_parallelism: availableParallelism(),
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${platform()} ${arch()}`,
  };
}

/** Runs the suite; plots are added by the caller (bench-plots.ts) when it writes them. */
export function runSuite(o: SuiteOptions): SuiteResult {
  const started = performance.now();
  const p = plan(o);
  for (const [key, s] of p.skipped) o.log(`${key}: skipped (${s.note})`);
  measure(p, o);
  const gemm = gemmResults(p);
  const models = modelResults(p, o, gemm);
  const scaling = scalingResults(p, o, gemm);
  const notes = [
    "Times are medians over rounds of each round's median; q1/q3 and min/max are over all timed runs. Ratios are taken per round, then their median.",
    "Training step: zero grads, forward, MSE on every step's output, backward through time, Adam step; one thread. Inference: the same batch without gradients. Streaming: one sample, one step per call, elapsed time 1.",
    "Matrix-product FLOPs are counted by wrapping engine.gemm over one run (2 m n k per call); elementwise work (gates, activations, solver arithmetic, LTC's fused synapse kernels) is not counted.",
    `Scaling covers ${SCALING_KEYS.join(", ")} only (to keep the run short); CfC's backbone stays ${o.sizes.backboneUnits} wide as the hidden size varies.`,
    "ODE solver counts are per sample and observation of the forward pass (the backward pass replays the recorded steps).",
  ];
  // one note per reason: the two solver settings of a missing model share theirs
  const reasons = new Map<string, string[]>();
  for (const m of models) {
    if (m.status === "ok") continue;
    const reason = `${m.status === "unavailable" ? "not measured" : "failed"}: ${m.note}`;
    reasons.set(reason, [...(reasons.get(reason) ?? []), m.label]);
  }
  for (const [reason, labels] of reasons) notes.push(`${labels.join(", ")}: ${reason}`);
  return {
    format: "ncps-bench-suite/1",
    suite: o.suite,
    quick: o.quick,
    date: new Date().toISOString(),
    command: o.command,
    machine: machineInfo(),
    backend: o.backend,
    config: {
      batch: o.batch,
      seq_len: o.seqLen,
      input_size: o.sizes.inputSize,
      hidden: o.sizes.units,
      backbone_units: o.sizes.backboneUnits,
      backbone_layers: o.sizes.backboneLayers,
      ode_unfolds: o.sizes.odeUnfolds,
      stream_steps: o.streamSteps,
      rounds: o.rounds,
      warmup: o.warmup,
      target_ms: o.targetMs,
      max_repeats: o.maxRepeats,
      solvers: { rk4: RK4, dopri5: DOPRI5 },
      scaling_models: o.scaling ? SCALING_KEYS.filter((k) => p.entries.some((e) => e.key === k)) : [],
    },
    notes,
    gemm,
    models,
    scaling,
    plots: [],
    runtime_s: (performance.now() - started) / 1000,
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
