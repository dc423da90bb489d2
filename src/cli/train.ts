/** `ncps train`: a CSV (or .npy arrays) of time series in, a trained model checkpoint out. */
import { appendFileSync, writeFileSync } from "node:fs";
import type { SequenceDataset } from "../data/dataset.js";
import type { ModelConfig } from "../models/build.js";
import { buildModel } from "../models/build.js";
import type { RecurrentModel } from "../models/recurrent.js";
import { fit, type BatchInfo, type EpochInfo } from "../train/trainer.js";
import { CliError, type CliIO, intFlag, numFlag, parseArgs } from "./util.js";
import { DATA_FLAGS, DATA_USAGE, dataFlagOptions, readData } from "./data-args.js";

const USAGE = `usage: ncps train DATA.csv --target COL[,COL] --out MODEL.safetensors [options]
       ncps train X.npy --y Y.npy [--time-file T.npy] --out MODEL.safetensors [options]

data:
  --target COLS          target column(s)                 --features COLS   input columns (default: the rest)
  --time COL             timestamp column (numbers, ISO date-times, durations): elapsed times become the timespans
  --sequence COL         groups rows into separate series (e.g. one per patient or sensor)
  --task regress|classify (default regress)               --target-mode per_step|last
  --window N --stride N  cut series into windows          --valid FILE | --valid-split 0.2
${DATA_USAGE}
model:
  --model cfc|cfc-no_gate|cfc-pure|cfc-mixed|ltc|lstm|gru (default cfc)
  --units N (default 32)  --wiring autoncp:UNITS[:SPARSITY]  --backbone-units N (64) --backbone-layers N (1)
  --backbone-dropout P   --activation lecun_tanh|silu|relu|tanh|gelu   --ode-unfolds N (ltc)
training:
  --epochs N (20) --batch N (32) --lr X (0.005) --optimizer adam|adamw|rmsprop|sgd --weight-decay X
  --schedule SPEC (e.g. exp:0.95, warmup:2,cosine:50)  --clip X  --patience N (early stopping)
  --threads N (worker threads, default 1)  --seed N  --log RUN.jsonl  --resume CHECKPOINT
  --backend wasm|reference  --quiet`;

const FLAGS = {
  target: { type: "string" },
  features: { type: "string" },
  time: { type: "string" },
  sequence: { type: "string" },
  task: { type: "string", default: "regress" },
  "target-mode": { type: "string" },
  window: { type: "string" },
  stride: { type: "string" },
  valid: { type: "string" },
  "valid-split": { type: "string" },
  y: { type: "string" },
  "time-file": { type: "string" },
  "time-kind": { type: "string" },
  ...DATA_FLAGS,
  model: { type: "string", default: "cfc" },
  units: { type: "string", default: "32" },
  wiring: { type: "string" },
  "backbone-units": { type: "string", default: "64" },
  "backbone-layers": { type: "string", default: "1" },
  "backbone-dropout": { type: "string" },
  activation: { type: "string" },
  "ode-unfolds": { type: "string" },
  epochs: { type: "string", default: "20" },
  batch: { type: "string", default: "32" },
  lr: { type: "string", default: "0.005" },
  optimizer: { type: "string", default: "adam" },
  "weight-decay": { type: "string" },
  schedule: { type: "string" },
  clip: { type: "string" },
  patience: { type: "string" },
  threads: { type: "string", default: "1" },
  seed: { type: "string", default: "0" },
  log: { type: "string" },
  resume: { type: "string" },
  out: { type: "string" },
  backend: { type: "string", default: "wasm" },
  quiet: { type: "boolean" },
} as const;

const MODELS = ["cfc", "cfc-no_gate", "cfc-pure", "cfc-mixed", "ltc", "lstm", "gru"];
/** Discrete-time baselines: no wiring, elapsed times unused. */
const BASELINES: Record<string, string> = { lstm: "LSTM", gru: "GRU" };

/** The ncps-style description of the model the flags ask for. */
export function modelConfigFromFlags(flags: Record<string, string | boolean | undefined>, inputSize: number, outputSize: number, usage: string): ModelConfig {
  const kind = flags.model as string;
  if (!MODELS.includes(kind)) throw new CliError(`--model must be one of ${MODELS.join(", ")}, got '${kind}'`, 2, usage);
  const units = intFlag(flags, "units", usage, 1)!;
  let wiring: Record<string, unknown> | null = null;
  if (typeof flags.wiring === "string") {
    const m = /^autoncp:(\d+)(?::([0-9.]+))?$/.exec(flags.wiring);
    if (!m) throw new CliError(`--wiring must look like autoncp:UNITS[:SPARSITY], got '${flags.wiring}'`, 2, usage);
    wiring = { kind: "AutoNCP", args: { units: Number(m[1]), output_size: outputSize, sparsity_level: m[2] !== undefined ? Number(m[2]) : 0.5 } };
    if (kind in BASELINES) throw new CliError(`--wiring applies to cfc and ltc models, not ${kind}`, 2, usage);
  }
  if (kind in BASELINES) return { model: BASELINES[kind], constructor_args: { input_size: inputSize, hidden_size: units, proj_size: outputSize } };
  if (kind === "ltc") {
    const args: Record<string, unknown> = {
      input_size: inputSize,
      units: { wiring: wiring ?? { kind: "FullyConnected", args: { units, output_dim: outputSize } } },
    };
    const unfolds = intFlag(flags, "ode-unfolds", usage, 1);
    if (unfolds !== undefined) args.ode_unfolds = unfolds;
    return { model: "LTC", constructor_args: args };
  }
  const args: Record<string, unknown> = { input_size: inputSize, units: wiring ? { wiring } : units };
  if (kind === "cfc-no_gate") args.mode = "no_gate";
  if (kind === "cfc-pure") args.mode = "pure";
  if (kind === "cfc-mixed") args.mixed_memory = true;
  if (!wiring) {
    args.proj_size = outputSize;
    args.backbone_units = intFlag(flags, "backbone-units", usage, 1);
    args.backbone_layers = intFlag(flags, "backbone-layers", usage, 0);
    const dropout = numFlag(flags, "backbone-dropout", usage);
    if (dropout !== undefined) args.backbone_dropout = dropout;
    if (typeof flags.activation === "string") args.activation = flags.activation;
  }
  return { model: "CfC", constructor_args: args };
}

function list(v: string | boolean | undefined): string[] | undefined {
  return typeof v === "string" ? v.split(",").map((s) => s.trim()).filter(Boolean) : undefined;
}

export function outputSizeFor(ds: SequenceDataset): number {
  return ds.task === "classify" ? ds.numClasses : ds.targets;
}

function progressLine(info: BatchInfo, t0: number, samples: number, width = 24): string {
  const done = info.batch / info.batches;
  const filled = Math.round(done * width);
  const elapsed = (performance.now() - t0) / 1000;
  const left = done > 0 ? (elapsed / done) * (1 - done) : 0;
  const rate = samples / Math.max(elapsed, 1e-9);
  return `epoch ${info.epoch} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${info.batch}/${info.batches} loss ${info.loss.toFixed(4)} ${rate.toFixed(0)} seq/s ${left.toFixed(0)}s left`;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, FLAGS, USAGE);
  if (positionals.length !== 1) throw new CliError(`expected one data file, got ${positionals.length}`, 2, USAGE);
  if (typeof flags.out !== "string") throw new CliError("--out MODEL.safetensors is required", 2, USAGE);
  const task = flags.task as string;
  if (task !== "regress" && task !== "classify") throw new CliError(`--task must be regress or classify, got '${task}'`, 2, USAGE);
  const targetMode = flags["target-mode"] as string | undefined;
  if (targetMode !== undefined && targetMode !== "per_step" && targetMode !== "last") throw new CliError(`--target-mode must be per_step or last, got '${targetMode}'`, 2, USAGE);
  const backend = flags.backend as string;
  if (backend !== "wasm" && backend !== "reference") throw new CliError(`--backend must be wasm or reference, got '${backend}'`, 2, USAGE);
  const timeKind = flags["time-kind"] as string | undefined;
  if (timeKind !== undefined && timeKind !== "elapsed" && timeKind !== "absolute") throw new CliError(`--time-kind must be elapsed or absolute`, 2, USAGE);
  if (flags.valid && flags["valid-split"]) throw new CliError("give --valid FILE or --valid-split, not both", 2, USAGE);
  const validSplit = numFlag(flags, "valid-split", USAGE);
  if (validSplit !== undefined && !(validSplit > 0 && validSplit < 1)) throw new CliError(`--valid-split must be in (0, 1), got ${validSplit}`, 2, USAGE);
  const seed = intFlag(flags, "seed", USAGE, 0)!;
  const quiet = flags.quiet === true;
  const say = (s: string) => {
    if (!quiet) io.err(s);
  };

  const data = readData({
    file: positionals[0],
    target: list(flags.target),
    features: list(flags.features),
    time: flags.time as string | undefined,
    sequence: flags.sequence as string | undefined,
    task,
    targetMode: targetMode as "per_step" | "last" | undefined,
    window: intFlag(flags, "window", USAGE, 1),
    stride: intFlag(flags, "stride", USAGE, 1),
    validFile: flags.valid as string | undefined,
    validSplit,
    seed,
    yFile: flags.y as string | undefined,
    timeFile: flags["time-file"] as string | undefined,
    timeKind: timeKind as "elapsed" | "absolute" | undefined,
    onWarning: (m) => say(`warning: ${m}\n`),
    onNote: (m) => say(`${m}\n`),
    ...dataFlagOptions(flags, USAGE),
  });
  const train = data.train;
  const config = modelConfigFromFlags(flags, train.features, outputSizeFor(train), USAGE);
  let model: RecurrentModel;
  try {
    model = buildModel(config, { backend, seed });
  } catch (e) {
    throw new CliError(`cannot build the model: ${(e as Error).message}`, 2, USAGE);
  }
  say(`${config.model} with ${model.parameterCount()} parameters; ${train.size} training sequences of ${train.steps} steps x ${train.features} inputs` + (data.valid ? `, ${data.valid.size} validation sequences` : "") + "\n");

  const logFile = typeof flags.log === "string" ? flags.log : null;
  if (logFile) writeFileSync(logFile, "");
  const patience = intFlag(flags, "patience", USAGE, 1);
  let epochStart = performance.now();
  let epochSamples = 0;
  let lastDraw = 0;
  const result = await fit(model, train, {
    epochs: intFlag(flags, "epochs", USAGE, 0)!,
    batchSize: intFlag(flags, "batch", USAGE, 1),
    lr: numFlag(flags, "lr", USAGE),
    optimizer: flags.optimizer as never,
    weightDecay: numFlag(flags, "weight-decay", USAGE),
    schedule: flags.schedule as string | undefined,
    clipNorm: numFlag(flags, "clip", USAGE) ?? null,
    valid: data.valid ?? null,
    earlyStopping: patience !== undefined && data.valid ? { patience } : null,
    seed,
    threads: intFlag(flags, "threads", USAGE, 1),
    resumeFrom: (flags.resume as string | undefined) ?? null,
    checkpointPath: flags.out,
    checkpointEvery: 1,
    checkpointExtras: {
      normalization: data.normalization,
      feature_names: data.featureNames,
      target_names: data.targetNames,
      ...(data.classes ? { classes: data.classes } : {}),
      data: data.preparation,
    },
    callbacks: {
      onBatchEnd(info: BatchInfo) {
        epochSamples += info.samples;
        if (quiet || !io.isTTY) return;
        const now = performance.now();
        if (now - lastDraw > 100 || info.batch === info.batches) {
          lastDraw = now;
          io.err(`\r${progressLine(info, epochStart, epochSamples)}\x1b[K`);
        }
      },
      onEpochEnd(info: EpochInfo) {
        epochStart = performance.now();
        epochSamples = 0;
        const metrics = info.validMetrics ? Object.entries(info.validMetrics).map(([k, v]) => ` valid_${k} ${v.toFixed(4)}`).join("") : "";
        const valid = info.validLoss !== null ? ` valid_loss ${info.validLoss.toFixed(4)}` : "";
        if (io.isTTY && !quiet) io.err("\r\x1b[K");
        say(`epoch ${info.epoch}/${info.epochs} loss ${info.trainLoss.toFixed(4)}${valid}${metrics} lr ${info.lr.toPrecision(3)} ${info.seconds.toFixed(2)}s ${info.samplesPerSecond.toFixed(0)} seq/s${info.improved ? " *" : ""}\n`);
        if (logFile) {
          const rec: Record<string, unknown> = { epoch: info.epoch, train_loss: info.trainLoss, lr: info.lr, seconds: info.seconds, samples_per_second: info.samplesPerSecond };
          if (info.validLoss !== null) rec.valid_loss = info.validLoss;
          for (const [k, v] of Object.entries(info.validMetrics ?? {})) rec[`valid_${k}`] = v;
          appendFileSync(logFile, JSON.stringify(rec) + "\n");
        }
      },
    },
  });
  const last = result.history[result.history.length - 1];
  const summary = {
    out: flags.out,
    epochs: result.epochs,
    stop_reason: result.stopReason,
    best: result.best,
    restored_best: result.restoredBest,
    final: last ? { train_loss: last.trainLoss, valid_loss: last.validLoss, valid_metrics: last.validMetrics } : null,
  };
  say(`saved ${flags.out} (${result.stopReason}${result.restoredBest && result.best ? `, best epoch ${result.best.epoch} restored` : ""})\n`);
  io.out(JSON.stringify(summary) + "\n");
  return 0;
}
