/**
 * `ncps reproduce TASK --model M`: trains and tests a model on one of the paper's tasks with the paper's
 * data preparation and hyperparameters (reproduce-tasks.ts), and prints the test metric (mean and
 * spread over runs), time per epoch and parameter count beside the paper's figure. `--list` shows the
 * tasks, models and the paper's numbers.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { SequenceDataset } from "../data/dataset.js";
import { loadTask, TASK_NAMES, type TaskData, type TaskName } from "../data/tasks/load.js";
import { writeFileAtomic } from "../io/atomic.js";
import type { RecurrentModel } from "../models/recurrent.js";
import { evaluate } from "../train/evaluate.js";
import { fit } from "../train/trainer.js";
import { buildReproduceModel, VARIANTS, type Variant } from "./reproduce-model.js";
import { type PaperFigure, REPRODUCE_MODELS, type ReproduceModel, runConfig, type RunConfig, TASKS, type TaskSpec } from "./reproduce-tasks.js";
import { CliError, type CliIO, intFlag, numFlag, parseArgs } from "./util.js";

const USAGE = `usage: ncps reproduce TASK [--model MODEL] [options]
       ncps reproduce --list

Trains MODEL on one of the CfC paper's tasks, with the paper's preprocessing and hyperparameters, and
prints the test metric beside the paper's.

tasks:    ${TASK_NAMES.join(", ")}
models:   ${REPRODUCE_MODELS.join(", ")} (default cfc)
options:
  --variant ${VARIANTS.join("|")}   CfC implementation (default torch: ncps torch; keras: ncps keras;
                    paper: the cell the paper's script for the task uses, with its tuned forget bias)
  --epochs N        epochs per run (default: the paper's)
  --runs N          independent runs, seeds 1..N (default 1)
  --lr X            base learning rate instead of the paper's (recorded in the result)
  --limit N         only the first N sequences of each split (PhysioNet: the first N records), for quick checks
  --data-dir DIR    data sets (default ../shared/data, relative to the working directory)
  --out DIR         write RESULT.json and a JSONL log (one line per epoch) there
  --threads N       worker threads (default 1)
  --json            print the result as JSON
  --quiet           no progress lines`;

const FLAGS = {
  model: { type: "string", default: "cfc" },
  variant: { type: "string", default: "torch" },
  epochs: { type: "string" },
  runs: { type: "string", default: "1" },
  lr: { type: "string" },
  limit: { type: "string" },
  "data-dir": { type: "string", default: "../shared/data" },
  out: { type: "string" },
  threads: { type: "string", default: "1" },
  json: { type: "boolean", default: false },
  quiet: { type: "boolean", default: false },
  list: { type: "boolean", default: false },
} as const;

function oneOf<T extends string>(value: string, valid: readonly T[], what: string): T {
  if (!(valid as readonly string[]).includes(value)) throw new CliError(`unknown ${what} '${value}'; valid: ${valid.join(", ")}`, 2, USAGE);
  return value as T;
}

function formatMetric(task: TaskSpec, v: number): string {
  return task.percent ? `${(100 * v).toFixed(2)}%` : v.toFixed(4);
}

function formatPaper(task: TaskSpec, p: PaperFigure | undefined): string {
  if (!p) return "no paper figure";
  const unit = task.percent ? "%" : "";
  const spread = p.spread === null ? "" : ` +- ${p.spread}${unit}`;
  const minutes = p.minutesPerEpoch === null ? "" : `, ${p.minutesPerEpoch} min/epoch`;
  return `paper ${p.label}: ${p.value}${unit}${spread}${minutes}`;
}

export function listText(): string {
  const lines = ["tasks (paper's figure per model; metric):"];
  for (const t of Object.values(TASKS)) {
    lines.push(`  ${t.name.padEnd(16)} ${t.title}; ${t.metric}${t.percent ? " %" : ""}; ${t.source}`);
    for (const m of REPRODUCE_MODELS) {
      const p = t.paper[m];
      const cfg = t.configs[m] ? "paper's setting" : "baseline setting";
      lines.push(`    ${m.padEnd(12)} ${p ? `${p.label} ${p.value}${p.spread === null ? "" : ` +- ${p.spread}`}${p.minutesPerEpoch === null ? "" : ` (${p.minutesPerEpoch} min/epoch)`}` : "-"}  [${cfg}]`);
    }
  }
  lines.push("", `models: ${REPRODUCE_MODELS.join(", ")}`, `variants: ${VARIANTS.join(", ")}`);
  return lines.join("\n");
}

export interface RunResult {
  seed: number;
  test_metric: number;
  test_loss: number;
  epochs: number;
  train_seconds_per_epoch: number;
  epoch_seconds: number[];
}

export interface ReproduceResult {
  task: TaskName;
  model: ReproduceModel;
  variant: Variant;
  metric: string;
  date: string;
  command: string;
  machine: string;
  threads: number;
  limit: number | null;
  data: string;
  config: RunConfig;
  epochs: number;
  paper_epochs: number;
  runs: RunResult[];
  mean: number;
  std: number;
  parameters: number;
  /** the model as built (ncps-style config: kind and constructor arguments) */
  model_config: { model: string; constructor_args: Record<string, unknown> } | null;
  train_seconds_per_epoch: number;
  paper: PaperFigure | null;
  paper_runs: number;
}

function fitOptions(task: TaskSpec, cfg: RunConfig, data: TaskData) {
  // Keras: the L2 kernel regulariser wd * sum(w^2) has gradient 2 wd w; Keras RMSprop rho 0.9, eps 1e-7
  const weightDecay = task.keras ? 2 * cfg.weightDecay : cfg.weightDecay;
  const optimizerOptions = task.keras ? (cfg.optimizer === "rmsprop" ? { alpha: 0.9, eps: 1e-7 } : { eps: 1e-7 }) : {};
  return {
    batchSize: cfg.batch,
    optimizer: cfg.optimizer,
    lr: cfg.lr,
    weightDecay,
    optimizerOptions,
    clipNorm: cfg.clip,
    schedule: cfg.decay === 1 ? "constant" : `exp:${cfg.decay}`,
    loss: task.loss,
    classWeights: cfg.classWeight === undefined ? null : [1, cfg.classWeight],
    valid: data.valid,
    metrics: [task.metric],
  };
}

/**
 * LTC divides by the elapsed time, so a zero gap (the first step of a PhysioNet record or a person-activity
 * window) would give NaN: it becomes 1e-3 of the task's time unit for LTC runs.
 */
function withPositiveTimespans(data: TaskData): TaskData {
  const fix = (ds: SequenceDataset | null): SequenceDataset | null => (ds?.timespans ? { ...ds, timespans: ds.timespans.map((t) => (t > 0 ? t : 1e-3)) } : ds);
  return { ...data, train: fix(data.train)!, valid: fix(data.valid), test: fix(data.test)! };
}

/**
 * LSTM and GRU take no elapsed times, so, as the paper's "Augmented LSTM" baseline, they get the elapsed
 * time as one more input feature (on the event tasks the events carry no other timing information).
 */
function withTimeInput(data: TaskData): TaskData {
  const add = (ds: SequenceDataset | null): SequenceDataset | null => {
    if (!ds) return ds;
    const F = ds.features;
    const x = new Float32Array(ds.size * ds.steps * (F + 1));
    for (let r = 0; r < ds.size * ds.steps; r++) {
      x.set(ds.x.subarray(r * F, (r + 1) * F), r * (F + 1));
      x[r * (F + 1) + F] = ds.timespans ? ds.timespans[r] : 1;
    }
    return { ...ds, features: F + 1, x, featureNames: ds.featureNames ? [...ds.featureNames, "elapsed_time"] : undefined };
  };
  return { ...data, train: add(data.train)!, valid: add(data.valid), test: add(data.test)!, note: `${data.note}; elapsed time added as an input` };
}

function stats(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length); // np.std, as the paper's scripts
  return { mean, std };
}

/** What one `ncps reproduce` call asks for, checked. */
interface Request {
  argv: string[];
  taskName: TaskName;
  task: TaskSpec;
  model: ReproduceModel;
  variant: Variant;
  /** the paper's setting, and the one used (epochs and lr as given) */
  paperCfg: RunConfig;
  cfg: RunConfig;
  runs: number;
  limit: number | undefined;
  threads: number;
  quiet: boolean;
  json: boolean;
  dataDir: string;
  outDir: string | null;
}

function parseRequest(argv: string[]): Request | "list" {
  const { flags, positionals } = parseArgs(argv, FLAGS, USAGE);
  if (flags.list) return "list";
  if (positionals.length !== 1) throw new CliError(positionals.length === 0 ? `expected a task; valid: ${TASK_NAMES.join(", ")}` : `expected one task, got ${positionals.join(" ")}`, 2, USAGE);
  const taskName = oneOf(positionals[0], TASK_NAMES, "task");
  const model = oneOf(String(flags.model), REPRODUCE_MODELS, "model");
  const variant = oneOf(String(flags.variant), VARIANTS, "variant");
  if (variant !== "torch" && !model.startsWith("cfc")) throw new CliError(`--variant chooses the CfC implementation; it does not apply to --model ${model}`, 2, USAGE);
  const task = TASKS[taskName];
  const paperCfg = runConfig(task, model);
  const lr = numFlag(flags, "lr", USAGE);
  if (lr !== undefined && !(lr > 0)) throw new CliError(`--lr must be a positive number, got '${flags.lr}'`, 2, USAGE);
  const epochs = intFlag(flags, "epochs", USAGE, 1) ?? paperCfg.epochs;
  return {
    argv,
    taskName,
    task,
    model,
    variant,
    paperCfg,
    cfg: { ...paperCfg, epochs, lr: lr ?? paperCfg.lr },
    runs: intFlag(flags, "runs", USAGE, 1)!,
    limit: intFlag(flags, "limit", USAGE, 1),
    threads: intFlag(flags, "threads", USAGE, 1)!,
    quiet: Boolean(flags.quiet),
    json: Boolean(flags.json),
    dataDir: path.resolve(String(flags["data-dir"])),
    outDir: flags.out ? String(flags.out) : null,
  };
}

/** The task's data, with the changes some models need. */
function prepareData(req: Request): TaskData {
  let data: TaskData;
  try {
    data = loadTask(req.taskName, req.dataDir, { limit: req.limit, tau: req.cfg.tau });
  } catch (e) {
    throw new CliError((e as Error).message, 1);
  }
  if (req.model === "ltc") data = withPositiveTimespans(data);
  if (req.model === "lstm" || req.model === "gru") data = withTimeInput(data);
  return data;
}

type Log = (record: object) => void;

/** One run (seed `seed`): train, then score the last epoch's weights on the test set. */
async function trainAndTest(req: Request, data: TaskData, seed: number, io: CliIO, log: Log): Promise<{ result: RunResult; model: RecurrentModel }> {
  const { task, cfg } = req;
  const say = (s: string) => {
    if (!req.quiet) io.err(`${s}\n`);
  };
  const model = buildReproduceModel(req.model, cfg, data.train.features, task.outputs, req.variant, task.paperCell, seed);
  const epochSeconds: number[] = [];
  say(`run ${seed}/${req.runs}: ${req.model} (${req.variant}), ${model.parameterCount().toLocaleString("en-US")} parameters, ${cfg.epochs} epochs`);
  const fitted = await fit(model, data.train, {
    ...fitOptions(task, cfg, data),
    epochs: cfg.epochs,
    threads: req.threads,
    seed,
    callbacks: {
      onBatchEnd: (b) => {
        if (!req.quiet && io.isTTY) io.err(`\r  epoch ${b.epoch}/${cfg.epochs} batch ${b.batch}/${b.batches} loss ${b.loss.toFixed(4)}\x1b[K`);
      },
      onEpochEnd: (e) => {
        if (!req.quiet && io.isTTY) io.err("\r\x1b[K");
        epochSeconds.push(e.trainSeconds);
        const valid = e.validMetrics ? ` valid ${task.metric} ${formatMetric(task, e.validMetrics[task.metric])}` : "";
        say(`  epoch ${e.epoch}/${cfg.epochs} train loss ${e.trainLoss.toFixed(4)}${valid} ${e.trainSeconds.toFixed(1)} s`);
        log({ run: seed, epoch: e.epoch, lr: e.lr, train_loss: e.trainLoss, valid_loss: e.validLoss, valid_metrics: e.validMetrics, train_seconds: e.trainSeconds, seconds: e.seconds });
      },
    },
  });
  const test = evaluate(model, data.test, { metrics: [task.metric], loss: task.loss, classWeights: cfg.classWeight === undefined ? null : [1, cfg.classWeight] });
  const value = test.metrics[task.metric];
  if (!Number.isFinite(value)) throw new CliError(`run ${seed}: the test ${task.metric} is ${value} (no usable prediction); the result is not reported`, 1);
  const perEpoch = epochSeconds.reduce((s, v) => s + v, 0) / Math.max(1, epochSeconds.length);
  say(`run ${seed}: test ${task.metric} ${formatMetric(task, value)}, ${perEpoch.toFixed(2)} s per epoch`);
  log({ run: seed, test_metric: value, test_loss: test.loss });
  return { result: { seed, test_metric: value, test_loss: test.loss, epochs: fitted.epochs, train_seconds_per_epoch: perEpoch, epoch_seconds: epochSeconds }, model };
}

function summarise(req: Request, data: TaskData, runs: RunResult[], model: RecurrentModel, started: Date): ReproduceResult {
  const { mean, std } = stats(runs.map((x) => x.test_metric));
  return {
    task: req.taskName,
    model: req.model,
    variant: req.variant,
    metric: req.task.metric,
    date: started.toISOString(),
    command: `ncps reproduce ${req.argv.join(" ")}`,
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.platform()}, node ${process.version}`,
    threads: req.threads,
    limit: req.limit ?? null,
    data: data.note,
    config: req.cfg,
    epochs: req.cfg.epochs,
    paper_epochs: req.paperCfg.epochs,
    runs,
    mean,
    std,
    parameters: model.parameterCount(),
    model_config: model.toConfig(),
    train_seconds_per_epoch: stats(runs.map((x) => x.train_seconds_per_epoch)).mean,
    paper: req.task.paper[req.model] ?? null,
    paper_runs: req.task.paperRuns,
  };
}

function reportText(req: Request, s: ReproduceResult): string {
  const { task } = req;
  const spread = s.runs.length > 1 ? ` +- ${task.percent ? (100 * s.std).toFixed(2) : s.std.toFixed(4)}` : "";
  return (
    `${s.task} ${s.model} (${s.variant}): test ${task.metric} ${formatMetric(task, s.mean)}${spread} over ${s.runs.length} run(s) of ${s.epochs} epoch(s)` +
    `${req.limit ? ` on the first ${req.limit} sequences` : ""}; ${s.train_seconds_per_epoch.toFixed(2)} s per epoch; ${s.parameters.toLocaleString("en-US")} parameters\n` +
    `  ${formatPaper(task, s.paper ?? undefined)} (${task.paperRuns} runs of ${req.paperCfg.epochs} epochs)\n`
  );
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const req = parseRequest(argv);
  if (req === "list") {
    io.out(`${listText()}\n`);
    return 0;
  }
  const data = prepareData(req);
  if (!req.quiet) io.err(`${req.taskName}: ${data.note}\n`);
  const started = new Date();
  const base = `${req.taskName}-${req.model}-${req.variant}-${started.toISOString().replace(/[:.]/g, "-")}`;
  let logFile: string | null = null;
  if (req.outDir) {
    mkdirSync(req.outDir, { recursive: true });
    logFile = path.join(req.outDir, `${base}.jsonl`);
  }
  const log: Log = (record) => {
    if (logFile) appendFileSync(logFile, `${JSON.stringify(record)}\n`);
  };
  const runs: RunResult[] = [];
  let model: RecurrentModel | null = null;
  for (let seed = 1; seed <= req.runs; seed++) {
    const r = await trainAndTest(req, data, seed, io, log);
    runs.push(r.result);
    model = r.model;
  }
  const summary = summarise(req, data, runs, model!, started);
  log({ summary });
  if (req.outDir) writeFileAtomic(path.join(req.outDir, `${base}.json`), `${JSON.stringify(summary, null, 1)}\n`);
  io.out(req.json ? `${JSON.stringify(summary)}\n` : reportText(req, summary));
  return 0;
}
