/** `ncps train`: a CSV (or .npy arrays) of time series in, a trained model checkpoint out. */
import { appendFileSync, copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import type { SequenceDataset } from "../data/dataset.js";
import type { ModelConfig } from "../models/build.js";
import { buildModel } from "../models/build.js";
import { CFC_VARIANTS } from "../models/cfc-variant.js";
import { ODE_SOLVERS, type OdeSolverName } from "../models/ode-solver.js";
import type { RecurrentModel } from "../models/recurrent.js";
import { fit, type BatchInfo, type EpochInfo } from "../train/trainer.js";
import { CliError, type CliIO, intFlag, numFlag, type ParsedArgs, parseArgs } from "./util.js";
import { DATA_FLAGS, DATA_USAGE, dataFlagOptions, type PreparedData, readData } from "./data-args.js";
import { StagedOutput } from "./staged-output.js";
import { checkTrainable, checkTrainFlags, describeSplit, longSequenceWarning } from "./train-checks.js";
import { checkOutputPath, OutputLock, removeStaleTempFiles } from "./out-guard.js";
import { describePreparationChange, preparationDifferences } from "./resume-checks.js";
import { readBackCheckpoint } from "./checkpoint-readback.js";
import { loadCheckpoint, readCheckpoint, saveCheckpoint } from "../train/checkpoint-file.js";

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
  --model cfc|cfc-no_gate|cfc-pure|cfc-mixed|ltc|lstm|gru|ct-rnn|gru-ode|ode-rnn|ode-lstm (default cfc)
  --units N (default 32)  --wiring autoncp:UNITS[:SPARSITY]  --backbone-units N (64) --backbone-layers N (1)
  --backbone-dropout P   --activation lecun_tanh|silu|relu|tanh|gelu   --ode-unfolds N (ltc)
  --variant torch|keras|paper (cfc models; default torch: ncps torch; keras: ncps keras; paper: tf_cfc.py)
ODE solver (ct-rnn, gru-ode, ode-rnn, ode-lstm):
  --solver euler|rk4|dopri5 (default dopri5)  --max-steps N (per sample and elapsed time, default 10000)
  --step-size X | --steps-per-gap N (euler, rk4; default 1 step per elapsed time)
  --rtol X (1e-3) --atol X (1e-6) (dopri5)
training:
  --epochs N (20) --batch N (32) --lr X (0.005) --optimizer adam|adamw|rmsprop|sgd --weight-decay X
  --schedule SPEC (e.g. exp:0.95, warmup:2,cosine:50)  --clip X  --patience N (early stopping; needs validation data)
  --on-nan error|skip-batch (default error: a NaN/infinite loss or gradient stops the run, exit 1)
  --threads N (worker threads, default 1)  --seed N
  --resume CHECKPOINT    continue its run; data prepared differently (columns, categories, normalisation,
                         time scale) is refused unless --allow-new-normalization
  --checkpoint-every N   write the checkpoint every N epochs (default 1) and at the end; each write is
                         fsynced, a cost that matters when epochs are short: raise N to save it
  --weights-only (the file keeps weights, config and scaling only: for deployment, not --resume)
  --log RUN.jsonl (one JSON line per epoch; appended to with --resume; an existing log needs --overwrite-log)
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
  variant: { type: "string" },
  "ode-unfolds": { type: "string" },
  solver: { type: "string" },
  rtol: { type: "string" },
  atol: { type: "string" },
  "step-size": { type: "string" },
  "steps-per-gap": { type: "string" },
  "max-steps": { type: "string" },
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
  "on-nan": { type: "string", default: "error" },
  "overwrite-log": { type: "boolean" },
  "checkpoint-every": { type: "string", default: "1" },
  "allow-new-normalization": { type: "boolean" },
  "weights-only": { type: "boolean" },
} as const;

/** Discrete-time baselines: no wiring, elapsed times unused. */
const BASELINES: Record<string, string> = { lstm: "LSTM", gru: "GRU" };
/** ODE baselines: the model kind and the constructor argument --units sets; the solver flags apply to these. */
const ODE_BASELINES: Record<string, { model: string; size: string }> = {
  "ct-rnn": { model: "CTRNN", size: "units" },
  "gru-ode": { model: "GRUODE", size: "hidden_size" },
  "ode-rnn": { model: "ODERNN", size: "hidden_size" },
  "ode-lstm": { model: "ODELSTM", size: "hidden_size" },
};
const MODELS = ["cfc", "cfc-no_gate", "cfc-pure", "cfc-mixed", "ltc", ...Object.keys(BASELINES), ...Object.keys(ODE_BASELINES)];
/** Solver flags, their constructor arguments and the solvers they apply to. */
const SOLVER_FLAGS: Array<{ flag: string; arg: string; integer: boolean; solvers: readonly OdeSolverName[] }> = [
  { flag: "step-size", arg: "step_size", integer: false, solvers: ["euler", "rk4"] },
  { flag: "steps-per-gap", arg: "steps_per_gap", integer: true, solvers: ["euler", "rk4"] },
  { flag: "rtol", arg: "rtol", integer: false, solvers: ["dopri5"] },
  { flag: "atol", arg: "atol", integer: false, solvers: ["dopri5"] },
  { flag: "max-steps", arg: "max_steps", integer: true, solvers: ODE_SOLVERS },
];

/** The solver's constructor arguments from --solver and its flags (usage errors for flags that do not apply). */
function solverArgsFromFlags(flags: Record<string, string | boolean | undefined>, kind: string, usage: string): Record<string, unknown> {
  const given = ["solver", ...SOLVER_FLAGS.map((f) => f.flag)].filter((f) => typeof flags[f] === "string");
  if (!(kind in ODE_BASELINES)) {
    if (given.length) throw new CliError(`--${given[0]} applies to the ODE models (${Object.keys(ODE_BASELINES).join(", ")}), not ${kind}`, 2, usage);
    return {};
  }
  const solver = (flags.solver ?? "dopri5") as OdeSolverName;
  if (!ODE_SOLVERS.includes(solver)) throw new CliError(`--solver must be one of ${ODE_SOLVERS.join(", ")}, got '${solver}'`, 2, usage);
  const args: Record<string, unknown> = { solver };
  for (const f of SOLVER_FLAGS) {
    if (typeof flags[f.flag] !== "string") continue;
    if (!f.solvers.includes(solver)) throw new CliError(`--${f.flag} applies to --solver ${f.solvers.join(" or ")}, not ${solver}`, 2, usage);
    args[f.arg] = f.integer ? intFlag(flags, f.flag, usage, 1) : numFlag(flags, f.flag, usage);
  }
  if (args.step_size !== undefined && args.steps_per_gap !== undefined) throw new CliError("give --step-size or --steps-per-gap, not both", 2, usage);
  return args;
}

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
    if (kind in BASELINES || kind in ODE_BASELINES) throw new CliError(`--wiring applies to cfc and ltc models, not ${kind}`, 2, usage);
  }
  const variant = flags.variant;
  if (typeof variant === "string") {
    if (!kind.startsWith("cfc")) throw new CliError(`--variant applies to the cfc models, not ${kind}`, 2, usage);
    if (!(CFC_VARIANTS as readonly string[]).includes(variant)) throw new CliError(`--variant must be one of ${CFC_VARIANTS.join(", ")}, got '${variant}'`, 2, usage);
    if (variant === "paper" && wiring) throw new CliError("--variant paper has no wired form (the paper's tf_cfc.py has none); use torch or keras with --wiring", 2, usage);
  }
  const solverArgs = solverArgsFromFlags(flags, kind, usage);
  if (kind in ODE_BASELINES) {
    const { model, size } = ODE_BASELINES[kind];
    return { model, constructor_args: { input_size: inputSize, [size]: units, proj_size: outputSize, ...solverArgs } };
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
  if (typeof variant === "string") args.variant = variant;
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
  const args = parseArgs(argv, FLAGS, USAGE);
  const { flags, positionals } = args;
  if (positionals.length !== 1) throw new CliError(`expected one data file, got ${positionals.length}`, 2, USAGE);
  if (typeof flags.out !== "string") throw new CliError("--out MODEL.safetensors is required", 2, USAGE);
  // the outputs are checked and claimed before any time goes into reading data and training
  checkOutputPath("out", flags.out);
  if (typeof flags.log === "string") checkOutputPath("log", flags.log);
  const lock = OutputLock.acquire("out", flags.out);
  try {
    const targets = [flags.out, `${flags.out}.partial`, ...(typeof flags.log === "string" ? [flags.log, `${flags.log}.partial`] : [])];
    removeStaleTempFiles(targets);
    return await train(args, io);
  } finally {
    lock.release();
  }
}

/** The run itself, holding the lock on --out. */
async function train({ flags, positionals }: ParsedArgs, io: CliIO): Promise<number> {
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
  const onNan = flags["on-nan"] as string;
  if (onNan !== "error" && onNan !== "skip-batch") throw new CliError(`--on-nan must be error or skip-batch, got '${onNan}'`, 2, USAGE);
  const window = intFlag(flags, "window", USAGE, 1);
  const checkpointEvery = intFlag(flags, "checkpoint-every", USAGE, 1)!;
  checkTrainFlags({ target: list(flags.target), features: list(flags.features), patience: flags.patience as string | undefined, hasValid: Boolean(flags.valid || validSplit) }, USAGE);
  if (typeof flags.log === "string" && !flags.resume && flags["overwrite-log"] !== true && existsSync(flags.log)) {
    throw new CliError(`--log ${flags.log} exists: give --overwrite-log to replace it, --resume to continue its run, or another file`, 2, USAGE);
  }
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
    window,
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
  checkTrainable(data, validSplit !== undefined);
  const split = describeSplit(data, { fraction: validSplit, validFile: flags.valid as string | undefined, sequenceColumn: flags.sequence as string | undefined, window });
  if (split) say(`${split}\n`);
  const long = longSequenceWarning(train, window);
  if (long) say(`warning: ${long}\n`);
  if (typeof flags.resume === "string") checkResumedPreparation(flags.resume, data, flags["allow-new-normalization"] === true, say);
  const config = modelConfigFromFlags(flags, train.features, outputSizeFor(train), USAGE);
  let model: RecurrentModel;
  try {
    model = buildModel(config, { backend, seed });
  } catch (e) {
    throw new CliError(`cannot build the model: ${(e as Error).message}`, 2, USAGE);
  }
  say(`${config.model} with ${model.parameterCount()} parameters; ${train.size} training sequences of ${train.steps} steps x ${train.features} inputs` + (data.valid ? `, ${data.valid.size} validation sequences` : "") + "\n");

  // Outputs are staged: a run that fails leaves the previous files as they were.
  const outFile = new StagedOutput(flags.out);
  const logOut = typeof flags.log === "string" ? new StagedOutput(flags.log) : null;
  const logFile = logOut ? logOut.partial : null;
  const logContinues = logOut !== null && typeof flags.resume === "string" && startResumedLog(logOut);
  if (logFile && !logContinues) writeFileSync(logFile, "");
  let logTrimmed = false;
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
    // with validation data, the file keeps the best validation epoch (and says so)
    restoreBest: data.valid ? true : undefined,
    seed,
    onNonFinite: onNan,
    threads: intFlag(flags, "threads", USAGE, 1),
    resumeFrom: (flags.resume as string | undefined) ?? null,
    checkpointPath: outFile.partial,
    checkpointEvery,
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
          if (info.validLoss !== null) {
            rec.valid_loss = info.validLoss;
            rec.improved = info.improved;
          }
          for (const [k, v] of Object.entries(info.validMetrics ?? {})) rec[`valid_${k}`] = v;
          if (logContinues && !logTrimmed) dropLoggedEpochsFrom(logFile, info.epoch);
          logTrimmed = true;
          appendFileSync(logFile, JSON.stringify(rec) + "\n");
        }
      },
    },
  }).catch((e: unknown) => {
    throw withPartialNote(e, outFile);
  });
  readBackCheckpoint(outFile.partial, model);
  outFile.commit();
  // a deployment file: the same weights and extras without the optimizer state (cannot be resumed)
  if (flags["weights-only"] === true) saveWeightsOnly(flags.out as string);
  logOut?.commit();
  const last = result.history[result.history.length - 1];
  const record = (r: (typeof result.history)[number] | undefined) => (r ? { train_loss: r.trainLoss, valid_loss: r.validLoss, valid_metrics: r.validMetrics } : null);
  const summary = {
    out: flags.out,
    epochs: result.epochs,
    stop_reason: result.stopReason,
    best: result.best,
    restored_best: result.restoredBest,
    // the epoch whose weights the file holds, and its losses (null for an epoch of an earlier run)
    saved_epoch: result.modelEpoch,
    saved: record(result.history.find((r) => r.epoch === result.modelEpoch)),
    final: record(last),
    ...(onNan === "skip-batch" ? { skipped_batches: result.skippedBatches } : {}),
  };
  if (result.skippedBatches > 0) say(`warning: ${result.skippedBatches} batch(es) skipped: their loss or gradient was not finite\n`);
  const which = data.valid && result.best && result.modelEpoch === result.best.epoch ? `the best validation ${result.best.metric} ${result.best.value.toPrecision(4)}` : "the last epoch";
  say(`saved ${flags.out}: weights of epoch ${result.modelEpoch} of ${result.epochs} (${which}; ${result.stopReason.replace("_", " ")})\n`);
  io.out(JSON.stringify(summary) + "\n");
  return 0;
}

/** Refuses (or with --allow-new-normalization, warns about) data prepared unlike the resumed checkpoint's. */
function checkResumedPreparation(resume: string, data: PreparedData, allowed: boolean, say: (s: string) => void): void {
  const differences = preparationDifferences(readCheckpoint(resume).extras, data);
  if (differences.length === 0) return;
  const message = describePreparationChange(resume, differences);
  if (!allowed) throw new CliError(`${message}: give --allow-new-normalization to train on with the new preparation, or resume on the same data`, 1);
  say(`warning: ${message}; training on with the new preparation (--allow-new-normalization)\n`);
}

/**
 * A resumed run continues its log: the staged log of the interrupted run when there is one (it belongs
 * with the checkpoint being resumed), else the committed log. Returns whether there was one to continue.
 */
function startResumedLog(log: StagedOutput): boolean {
  if (log.written) return true;
  if (!existsSync(log.target)) return false;
  copyFileSync(log.target, log.partial);
  return true;
}

/** Removes the lines of epochs >= `epoch` (logged after the checkpoint being resumed was written). */
function dropLoggedEpochsFrom(file: string, epoch: number): void {
  const lines = readFileSync(file, "utf8").split("\n").filter((line) => line.trim() !== "");
  const kept = lines.filter((line) => {
    try {
      const e = (JSON.parse(line) as { epoch?: unknown }).epoch;
      return !(typeof e === "number" && e >= epoch);
    } catch {
      return true;
    }
  });
  writeFileSync(file, kept.map((l) => l + "\n").join(""));
}

/** A failure after training started, with where the run so far is (the previous output is untouched). */
function withPartialNote(e: unknown, out: StagedOutput): unknown {
  if (!(e instanceof Error) || !out.written) return e;
  const note = ` (${out.target} is unchanged; the run so far is in ${out.partial}: --resume ${out.partial} continues it)`;
  const wrapped = e instanceof CliError ? new CliError(e.message + note, e.exitCode, e.usage) : new Error(e.message + note);
  wrapped.stack = e.stack;
  return wrapped;
}

function saveWeightsOnly(file: string): void {
  const { model, extras } = loadCheckpoint(file, { backend: "reference" });
  saveCheckpoint(file, model, extras, { weightsOnly: true });
}
