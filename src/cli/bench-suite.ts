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
 *  - with PyTorch (--pytorch auto|on, bench-pytorch.ts), the real ncps 1.0.1 and torch.nn's GRU and LSTM
 *    run the same workloads at the same sizes in a Python process started before any timing; each
 *    PyTorch workload is timed right before or after its ncps-ts counterpart in every round (which goes
 *    first alternates), and their ratio is taken per round, then the median;
 *  - the engine's gemm is timed among the workloads (bench-gemm-probe.ts), and each model's achieved
 *    matrix-product rate is set against it: FLOPs are counted over one extra run by wrapping engine.gemm and gemmPrepacked
 *    (2 m n k per call), so the count is exact for what ran, adaptive solver steps included. Elementwise
 *    kernels (gates, activations, the solvers' vector arithmetic, LTC's fused synapse kernels) are not
 *    counted: for LTC, whose work is mostly in those kernels, the figure says little.
 *
 * Models that this build's buildModel does not know yet are listed with a note and skipped.
 */
import { cpus, platform, arch, totalmem, availableParallelism } from "node:os";
import type { BackendKind } from "../engine/engine.js";
import { type WasmVariant, wasmVariant } from "../engine/wasm.js";
import type { ModelConfig } from "../models/build.js";
import type { OdeStepStats } from "../models/ode-solver.js";
import { GEMM_PROBE_SIZES, gemmProbes, QUICK_GEMM_PROBE_SIZES, type GemmProbe } from "./bench-gemm-probe.js";
import { benchModelConfig, buildBenchModel, DOPRI5, RK4, type BenchSizes, type BenchModelChoice, type BenchSolver, unavailableReason } from "./bench-models.js";
import { PYTORCH_COUNTERPARTS, type PytorchInfo, type PytorchMode, type PytorchPaths, type PytorchServer, startPytorch } from "./bench-pytorch.js";
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
  /** whether to time the PyTorch counterparts too (auto: when Python, torch and ncps are there) */
  pytorch: PytorchMode;
  pytorchPaths: PytorchPaths;
  /** the command line, recorded in the result */
  command: string;
  log(message: string): void;
}

/** Defaults of the full suite and of --quick (tiny sizes, 2 rounds, a few seconds). */
export function suiteDefaults(quick: boolean): Omit<SuiteOptions, "suite" | "quick" | "backend" | "only" | "scaling" | "pytorch" | "pytorchPaths" | "command" | "log"> {
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
  /** matrix-product FLOPs of one run (engine.gemm and gemmPrepacked calls, 2 m n k each) */
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
  /** the PyTorch counterpart timed in the same rounds, when PyTorch was measured */
  pytorch?: PytorchModelResult;
}

/** A PyTorch workload's timings, and ncps-ts's time over it. */
export interface PytorchWorkloadResult extends TimingStats {
  /** infer, train: sequences per second at the median */
  seq_per_s?: number;
  /** stream: microseconds per step at the median, quartiles and extremes */
  us_per_step?: { median: number; q1: number; q3: number; min: number; max: number };
  /** ncps-ts's time over PyTorch's, per round (measured back to back), then the median: below 1, ncps-ts is faster */
  ratio: RoundRatio;
}

export interface PytorchModelResult {
  /** the PyTorch constructor, e.g. ncps.torch.CfC(16, 64, mode='default', ...) */
  model: string;
  /** trainable parameters (requires_grad) */
  parameters?: number;
  status: "ok" | "error";
  note?: string;
  train?: PytorchWorkloadResult;
  infer?: PytorchWorkloadResult;
  stream?: PytorchWorkloadResult;
}

/** Whether PyTorch was measured in this run, and with what. */
export interface PytorchRun {
  mode: PytorchMode;
  status: "measured" | "skipped" | "off";
  /** skipped, off: why */
  reason?: string;
  torch?: string;
  python?: string;
  executable?: string;
  ncps?: string;
  threads?: number;
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
  /** the WebAssembly build that ran (wasm backend): plain SIMD or relaxed SIMD (fused multiply-add) */
  wasm_variant?: WasmVariant;
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
  /** absent in results written before PyTorch was part of the suite */
  pytorch?: PytorchRun;
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
  /** one run, timed here (ncps-ts workloads, gemm probes) */
  run(): void;
  /** or `warm` untimed runs then `reps` runs timed elsewhere (PyTorch workloads), in milliseconds */
  remote?: (warm: number, reps: number) => Promise<number[]>;
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

/** A PyTorch workload, paired with the ncps-ts workload of the same model, what and sizes. */
interface TorchItem extends Item {
  partner: ModelItem;
  parameters: number;
  spec: string;
}

interface Plan {
  entries: SuiteEntry[];
  /** per entry: why it is skipped, or null */
  skipped: Map<string, { status: "unavailable" | "error"; note: string }>;
  items: Map<string, ModelItem>;
  probes: Array<{ probe: GemmProbe; item: Item }>;
  /** PyTorch workloads by their partner's id */
  torch: Map<string, TorchItem>;
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
  return { entries, skipped, items, probes, torch: new Map() };
}

// ---------------------------------------------------------------------------------------------
// Measuring

/** Repeats per round from the last warm-up run's time, and a warm run before them when runs are short. */
function sizeRepeats(item: Item, lastMs: number, o: SuiteOptions): void {
  item.repeats = Math.max(1, Math.min(o.maxRepeats, Math.round(o.targetMs / Math.max(lastMs, 1e-3))));
  item.warmRuns = lastMs < o.targetMs / 2 ? 1 : 0;
}

function warmUp(item: Item, o: SuiteOptions): void {
  let last = 0;
  for (let i = 0; i < Math.max(1, o.warmup); i++) {
    const t0 = performance.now();
    item.run();
    last = performance.now() - t0;
  }
  sizeRepeats(item, last, o);
}

/** A PyTorch workload's warm-up: one untimed run for its first-run costs, then the timed warm-up runs. */
async function warmUpRemote(item: Item, o: SuiteOptions): Promise<void> {
  const times = await item.remote!(1, Math.max(1, o.warmup));
  sizeRepeats(item, times[times.length - 1], o);
}

async function timeItem(item: Item): Promise<number[]> {
  if (item.remote) return item.remote(item.warmRuns, item.repeats);
  for (let i = 0; i < item.warmRuns; i++) item.run();
  const times: number[] = [];
  for (let i = 0; i < item.repeats; i++) {
    const t0 = performance.now();
    item.run();
    times.push(performance.now() - t0);
  }
  return times;
}

/**
 * One round: every unit in an order rotated from round to round; a unit is one workload, or an ncps-ts
 * workload and its PyTorch counterpart back to back, which of the two goes first alternating by round.
 */
async function runRound(units: Item[][], round: number, o: SuiteOptions): Promise<void> {
  const offset = units.length ? (round * Math.max(1, Math.floor(units.length / 5))) % units.length : 0;
  const order = [...units.slice(offset), ...units.slice(0, offset)];
  for (const unit of order) {
    for (const item of round % 2 ? [...unit].reverse() : unit) {
      if (item.failed) continue;
      try {
        item.samples.push(await timeItem(item));
      } catch (err) {
        item.failed = err instanceof Error ? err.message : String(err);
        o.log(`  ${item.id}: failed: ${item.failed}`);
      }
    }
  }
}

async function measure(p: Plan, o: SuiteOptions): Promise<void> {
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
  const torchItems = [...p.torch.values()].filter((i) => !i.failed && !i.partner.failed);
  if (torchItems.length) o.log(`PyTorch warm-up: ${torchItems.length} workloads`);
  for (const item of torchItems) {
    try {
      await warmUpRemote(item, o);
    } catch (err) {
      item.failed = err instanceof Error ? err.message : String(err);
      o.log(`  ${item.id}: failed: ${item.failed}`);
    }
  }
  const units: Item[][] = [
    ...modelItems.filter((i) => !i.failed).map((i) => {
      const t = p.torch.get(i.id);
      return t && !t.failed ? [i, t] : [i];
    }),
    ...p.probes.map((x) => [x.item]),
  ];
  const runs = units.flat().reduce((a, i) => a + i.repeats, 0);
  o.log(`warm-up done (${elapsed()}); ${o.rounds} rounds of ${runs} timed runs each${torchItems.length ? " (PyTorch's included)" : ""}`);
  for (let r = 0; r < o.rounds; r++) {
    await runRound(units, r, o);
    o.log(`round ${r + 1}/${o.rounds} done (${elapsed()})`);
  }
}

// ---------------------------------------------------------------------------------------------
// PyTorch: its workloads, built in its process before any timing

/** Builds the PyTorch counterpart of every measured ncps-ts workload at the suite's own sizes. */
async function planTorch(p: Plan, o: SuiteOptions, server: PytorchServer): Promise<void> {
  for (const e of p.entries) {
    if (!(e.key in PYTORCH_COUNTERPARTS) || p.skipped.has(e.key)) continue;
    for (const what of ["train", "infer", "stream"] as const) {
      const partnerId = itemId(e.key, what, o.batch, o.seqLen, o.sizes.units);
      const partner = p.items.get(partnerId);
      if (!partner) continue;
      const id = `pytorch|${partnerId}`;
      const item: TorchItem = { id, run: () => {}, repeats: 1, warmRuns: 0, samples: [], failed: null, partner, parameters: 0, spec: PYTORCH_COUNTERPARTS[e.key] };
      item.remote = (warm, reps) => server.run(id, reps, warm);
      const s = e.choice.sizes;
      try {
        const built = await server.build(id, {
          model: e.key,
          what,
          batch: what === "stream" ? 1 : o.batch,
          seq_len: o.seqLen,
          input_size: s.inputSize,
          units: o.sizes.units,
          backbone_units: s.backboneUnits,
          backbone_layers: s.backboneLayers,
          ode_unfolds: s.odeUnfolds,
          stream_steps: o.streamSteps,
          ...(e.choice.autoNcpSparsity !== undefined ? { autoncp_sparsity: e.choice.autoNcpSparsity } : {}),
        });
        item.parameters = built.parameters;
        item.spec = built.spec;
      } catch (err) {
        item.failed = `building ${PYTORCH_COUNTERPARTS[e.key]}: ${err instanceof Error ? err.message : String(err)}`;
        o.log(`  ${id}: failed: ${item.failed}`);
      }
      p.torch.set(partnerId, item);
    }
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

/** Microseconds per step of a stream's timings (a run is `steps` steps). */
function usPerStep(t: TimingStats, steps: number): NonNullable<WorkloadResult["us_per_step"]> {
  const us = (ms: number) => (ms * 1000) / steps;
  return { median: us(t.median_ms), q1: us(t.q1_ms), q3: us(t.q3_ms), min: us(t.min_ms), max: us(t.max_ms) };
}

function workloadResult(item: ModelItem, gemm: GemmResult[]): WorkloadResult {
  const t = timingStats(item.samples);
  const w = item.workload;
  const r: WorkloadResult = { batch: w.sequences, seq_len: w.what === "stream" ? 1 : item.shape.seqLen, hidden: item.shape.hidden, ...t, gemm_gflop_per_run: 0, gemm_gflops: 0, gemm_fraction: 0 };
  if (w.what === "stream") {
    r.steps = w.observations;
    r.us_per_step = usPerStep(t, w.observations);
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
    const torch = torchResult(p, o, e.key);
    if (torch) r.pytorch = torch;
    results.push(r);
  }
  return results;
}

/** The PyTorch counterpart's figures for one suite entry, or undefined when it was not timed. */
function torchResult(p: Plan, o: SuiteOptions, key: string): PytorchModelResult | undefined {
  const items = (["train", "infer", "stream"] as const).map((what) => [what, p.torch.get(itemId(key, what, o.batch, o.seqLen, o.sizes.units))] as const);
  const first = items.find(([, i]) => i)?.[1];
  if (!first) return undefined;
  const r: PytorchModelResult = { model: first.spec, status: "ok" };
  const built = items.find(([, i]) => i && i.parameters > 0)?.[1];
  if (built) r.parameters = built.parameters;
  const failures: string[] = [];
  for (const [what, item] of items) {
    if (!item) continue;
    if (item.failed || item.partner.failed || item.samples.length === 0) {
      failures.push(`${what}: ${item.failed ?? item.partner.failed ?? "not timed"}`);
      continue;
    }
    const t = timingStats(item.samples);
    const w = item.partner.workload;
    const wr: PytorchWorkloadResult = { ...t, ratio: roundRatio(item.partner.samples.map(median), item.samples.map(median)) };
    if (what === "stream") wr.us_per_step = usPerStep(t, w.observations);
    else wr.seq_per_s = w.sequences / (t.median_ms / 1000);
    r[what] = wr;
  }
  if (failures.length) Object.assign(r, { status: "error", note: failures.join("; ") });
  return r;
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

/**
 * Starts the PyTorch process as --pytorch says, before anything is timed (its start-up is never in a
 * figure). Throws PytorchUnavailable with `on` when something is missing; logs one line when `auto` skips.
 */
async function openPytorch(o: SuiteOptions): Promise<{ server: PytorchServer | null; run: PytorchRun }> {
  if (o.pytorch === "off") return { server: null, run: { mode: o.pytorch, status: "off", reason: "--pytorch off" } };
  if (!selectedEntries(o).some((e) => e.key in PYTORCH_COUNTERPARTS)) {
    const reason = `none of the selected models has a PyTorch counterpart (${Object.keys(PYTORCH_COUNTERPARTS).join(", ")} have)`;
    o.log(`PyTorch ncps: not measured: ${reason}`);
    return { server: null, run: { mode: o.pytorch, status: "skipped", reason } };
  }
  const t0 = performance.now();
  const started = await startPytorch(o.pytorch, o.pytorchPaths);
  if (!started.server) {
    o.log(`PyTorch ncps: skipped, ${started.reason} (--pytorch on requires it, --pytorch off silences this)`);
    return { server: null, run: { mode: o.pytorch, status: "skipped", reason: started.reason } };
  }
  const info = started.server.info as PytorchInfo;
  o.log(`PyTorch ncps: torch ${info.torch} on ${info.executable} (Python ${info.python}), ncps from ${info.ncps}, ${info.threads} thread(s); started in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { server: started.server, run: { mode: o.pytorch, status: "measured", ...info } };
}

function pytorchNotes(run: PytorchRun, backend: BackendKind): string[] {
  if (run.status !== "measured") return run.status === "off" ? [] : [`PyTorch ncps: not measured in this run (${run.reason}).`];
  return [
    `PyTorch: ncps 1.0.1 (ncps.torch CfC, LTC) and torch.nn GRU and LSTM on torch ${run.torch}, Python ${run.python}, float32${backend === "reference" ? " (ncps-ts ran float64 on the reference engine)" : ""}, one thread (torch.set_num_threads(1), OMP/OpenBLAS threads 1); the same workloads, sizes and loss, no output head on either side. ` +
      `Each PyTorch workload runs in its own process, timed there run by run, right before or after its ncps-ts counterpart in every round (which goes first alternates); "ratio (ncps-ts / PyTorch)" is ncps-ts's time over PyTorch's per round, then the median: below 1, ncps-ts is faster.`,
    "PyTorch's elapsed time 1 is ncps's scalar default (no timespans passed): per-sample timespans are broken in ncps 1.0.1 for batch > 1 (timespans[:, t].squeeze() broadcasts along the hidden axis).",
  ];
}

/** Runs the suite; plots are added by the caller (bench-plots.ts) when it writes them. */
export async function runSuite(o: SuiteOptions): Promise<SuiteResult> {
  const started = performance.now();
  const p = plan(o);
  for (const [key, s] of p.skipped) o.log(`${key}: skipped (${s.note})`);
  const torch = await openPytorch(o);
  try {
    if (torch.server) await planTorch(p, o, torch.server);
    await measure(p, o);
  } finally {
    torch.server?.close();
  }
  const gemm = gemmResults(p);
  const models = modelResults(p, o, gemm);
  const scaling = scalingResults(p, o, gemm);
  const notes = [
    "Times are medians over rounds of each round's median; q1/q3 and min/max are over all timed runs. Ratios are taken per round, then their median.",
    "Training step: zero grads, forward, MSE on every step's output, backward through time, Adam step; one thread. Inference: the same batch without gradients. Streaming: one sample, one step per call, elapsed time 1.",
    "Matrix-product FLOPs are counted by wrapping engine.gemm and gemmPrepacked over one run (2 m n k per call); elementwise work (gates, activations, solver arithmetic, LTC's fused synapse kernels) is not counted.",
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
  notes.push(...pytorchNotes(torch.run, o.backend));
  for (const m of models.filter((x) => x.pytorch?.status === "error")) notes.push(`${m.label}, PyTorch ${m.pytorch!.model}: failed: ${m.pytorch!.note}`);
  for (const m of models.filter((x) => x.pytorch?.parameters !== undefined && x.parameters !== undefined && x.pytorch.parameters !== x.parameters)) {
    // torch.nn.LSTM adds a recurrent bias to the input bias of each gate; ncps's LSTM cell (and ncps-ts's) has one
    const why = m.key === "lstm" ? " (torch.nn.LSTM has two bias vectors per gate, ncps's LSTM cell one: the same function)" : "";
    notes.push(`${m.label}: PyTorch's ${m.pytorch!.model} has ${m.pytorch!.parameters!.toLocaleString("en-US")} trainable parameters, ncps-ts's ${m.parameters!.toLocaleString("en-US")}${why}.`);
  }
  return {
    format: "ncps-bench-suite/1",
    suite: o.suite,
    quick: o.quick,
    date: new Date().toISOString(),
    command: o.command,
    machine: machineInfo(),
    backend: o.backend,
    ...(o.backend === "wasm" ? { wasm_variant: wasmVariant() } : {}),
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
    pytorch: torch.run,
    scaling,
    plots: [],
    runtime_s: (performance.now() - started) / 1000,
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
