/**
 * The page's training worker: reads the CSV with the library's reader, builds and trains the model
 * with the library's `fit` on the WebAssembly engine, and answers the page's questions about the
 * trained model (predictions, states, checkpoint bytes). The page's thread stays free.
 */
import {
  AutoNCP,
  CfC,
  type CheckpointExtras,
  DivergenceError,
  type EpochInfo,
  type FitResult,
  LSTM,
  LTC,
  type PreparedCsv,
  type RecurrentModel,
  type SequenceDataset,
  csvToDataset,
  datasetExtras,
  decodeCheckpoint,
  denormalizeTargets,
  encodeCheckpoint,
  evaluate,
  figureSvg,
  fit,
  initWasm,
  lineChartSvg,
  modelFromCheckpoint,
  parseCsv,
  detectSeparator,
  writeCsv,
  predictDataset,
  predictionsByRow,
  predictionsSvg,
  trainingCurvesSvg,
  type Wiring,
  softmaxRows,
} from "../src/index.js";
import type { Columns, CsvText, Field, FromWorker, Inspection, LogRecord, ModelKind, ModelSpec, Predictions, RunSummary, ToWorker, TrainRequest } from "./protocol.js";

interface Trained {
  readonly request: TrainRequest;
  readonly prepared: PreparedCsv;
  readonly model: RecurrentModel;
  readonly summary: RunSummary;
  readonly extras: CheckpointExtras;
}

/** What ncps train stores as the "data" entry of a checkpoint (cli/data-args.ts DataPreparation), for CSV data. */
interface CsvPreparation {
  source: "csv";
  target: string[];
  features: string[];
  time?: string;
  sequence?: string;
  task: "regress" | "classify";
  targetMode: "per_step" | "last";
  window?: number;
  missingMask: boolean;
  classes?: string[];
  categorical?: PreparedCsv["categorical"];
  timeFormat?: PreparedCsv["timeFormat"];
  [key: string]: unknown;
}

const post = (message: FromWorker, transfer: Transferable[] = []): void => (self as unknown as Worker).postMessage(message, transfer);
const VALID_SPLIT = 0.2;
const SEED = 1;

let stopRequested = false;
let trained: Trained | null = null;
/** The model predictions are made with: the last trained, or a loaded checkpoint's. */
let predictor: { model: RecurrentModel; extras: CheckpointExtras } | null = null;

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "stop") {
    stopRequested = true;
    return;
  }
  void handle(message);
};

async function handle(message: ToWorker): Promise<void> {
  const during = { train: "train", compare: "compare", inspect: "inspect", "load-checkpoint": "load", predict: "predict", stop: "train" } as const;
  try {
    await initWasm();
    if (message.type === "train") await train(message);
    else if (message.type === "compare") await compare();
    else if (message.type === "inspect") post({ type: "inspected", inspection: inspect(message.sequence, message.step) });
    else if (message.type === "load-checkpoint") loadCheckpointBytes(message.bytes, message.fileName);
    else if (message.type === "predict") predictFile(message.data);
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    if (e instanceof DivergenceError) post({ type: "diverged", run: message.type === "compare" ? "compare" : "main", message: text });
    else post({ type: "error", field: message.type === "predict" ? "predict-file" : message.type === "load-checkpoint" ? "checkpoint" : "model", message: text, during: during[message.type] });
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the CSV

/** The control that can fix a reading error: the column it names, the window, or else the file. */
function fieldOfError(message: string, columns: Columns): Field {
  if (/--window|window/.test(message)) return "window";
  const names = (field: Field, column: string | undefined): [Field, string][] => (column === undefined ? [] : [[field, column]]);
  const named: [Field, string][] = [...names("target", columns.target), ...names("time", columns.time), ...names("sequence", columns.sequence), ...columns.features.map((f): [Field, string] => ["features", f])];
  for (const [field, column] of named) if (message.includes(JSON.stringify(column)) || message.includes(`column ${column}`)) return field;
  if (/classification|class(es)?\b/.test(message)) return "task";
  return "file";
}

function prepare(request: TrainRequest): PreparedCsv {
  const { columns } = request;
  try {
    return csvToDataset(request.data.text, request.data.fileName, {
      target: columns.target,
      features: [...columns.features],
      ...(columns.time ? { time: columns.time } : {}),
      ...(columns.sequence ? { sequence: columns.sequence } : {}),
      task: columns.task,
      ...(request.window ? { window: request.window } : {}),
      validSplit: VALID_SPLIT,
      seed: 0,
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw Object.assign(new Error(message), { field: fieldOfError(message, columns) });
  }
}

function describe(p: PreparedCsv): string {
  const set = (name: string, ds: SequenceDataset | undefined) => (ds ? `${ds.size} ${name} sequence(s) of up to ${ds.steps} steps` : `no ${name} sequences`);
  const inputs = `${p.featureNames.length} input(s): ${p.featureNames.join(", ")}`;
  const target = p.classes ? `classes ${p.classes.join(", ")} (${p.targetMode === "last" ? "one label per sequence" : "a label per step"})` : `target ${p.targetNames.join(", ")}`;
  return `${set("training", p.train)}, ${set("validation", p.valid)}; ${inputs}; ${target}`;
}

// ---------------------------------------------------------------------------------------------
// Models

const MODEL_NAMES: Record<ModelKind, string> = {
  "cfc-default": "CfC (default mode)",
  "cfc-no_gate": "CfC (no_gate mode)",
  "cfc-pure": "CfC (pure mode)",
  "cfc-mixed": "CfC with mixed memory",
  "cfc-ncp": "wired CfC (AutoNCP)",
  "ltc-ncp": "LTC (AutoNCP)",
  lstm: "LSTM",
};

function buildModel(spec: ModelSpec, inputs: number, outputs: number): RecurrentModel {
  const { units } = spec;
  const wiring = () => new AutoNCP(units, outputs, { sparsityLevel: spec.sparsity, seed: SEED });
  switch (spec.kind) {
    case "cfc-default":
    case "cfc-no_gate":
    case "cfc-pure":
      return new CfC(inputs, units, { mode: spec.kind.slice(4) as "default" | "no_gate" | "pure", backboneUnits: 2 * units, projSize: outputs, seed: SEED });
    case "cfc-mixed":
      return new CfC(inputs, units, { mixedMemory: true, backboneUnits: 2 * units, projSize: outputs, seed: SEED });
    case "cfc-ncp":
      return new CfC(inputs, wiring(), { seed: SEED });
    case "ltc-ncp":
      return new LTC(inputs, wiring(), { seed: SEED });
    case "lstm":
      return new LSTM(inputs, units, { projSize: outputs, seed: SEED });
  }
}

function outputWidth(ds: SequenceDataset): number {
  return ds.task === "classify" ? ds.numClasses : ds.targets;
}

// ---------------------------------------------------------------------------------------------
// Training

function logRecord(info: EpochInfo): LogRecord {
  const record: LogRecord = { epoch: info.epoch, train_loss: info.trainLoss, lr: info.lr, seconds: info.seconds, samples_per_second: info.samplesPerSecond };
  if (info.validLoss !== null) {
    record.valid_loss = info.validLoss;
    record.improved = info.improved;
  }
  for (const [k, v] of Object.entries(info.validMetrics ?? {})) record[`valid_${k}`] = v;
  return record;
}

/** Trains `model` on the prepared split, posting progress; the log records are returned with the result. */
async function runFit(run: "main" | "compare", model: RecurrentModel, prepared: PreparedCsv, request: TrainRequest): Promise<{ result: FitResult; log: LogRecord[] }> {
  stopRequested = false;
  const log: LogRecord[] = [];
  const started = performance.now();
  let epochStarted = started;
  let samples = 0;
  let lastPost = 0;
  const epochs = request.epochs;
  const result = await fit(model, prepared.train, {
    epochs,
    lr: request.lr,
    batchSize: request.batchSize,
    valid: prepared.valid ?? null,
    restoreBest: prepared.valid ? true : undefined,
    seed: SEED,
    callbacks: {
      onBatchEnd(info) {
        samples += info.samples;
        const now = performance.now();
        if (now - lastPost > 150 || info.batch === info.batches) {
          lastPost = now;
          const seconds = (now - epochStarted) / 1000;
          const perEpoch = info.epoch > 1 ? (epochStarted - started) / 1000 / (info.epoch - 1) : (seconds * info.batches) / info.batch;
          const secondsLeft = Math.max(0, perEpoch * (epochs - info.epoch) + perEpoch * (1 - info.batch / info.batches));
          post({ type: "progress", run, epoch: info.epoch, epochs, batch: info.batch, batches: info.batches, loss: info.loss, samplesPerSecond: samples / Math.max(seconds, 1e-6), secondsLeft });
        }
        return !stopRequested;
      },
      async onEpochEnd(info) {
        const record = logRecord(info);
        log.push(record);
        post({ type: "epoch", run, record, curvesSvg: trainingCurvesSvg(log, { title: `${run === "main" ? "" : "comparison: "}training curves` }) });
        // A turn of the event loop, so that a stop message gets read.
        await new Promise((resolve) => setTimeout(resolve, 0));
        epochStarted = performance.now();
        samples = 0;
        return !stopRequested;
      },
    },
  });
  return { result, log };
}

function summarize(run: "main" | "compare", kind: ModelKind, model: RecurrentModel, prepared: PreparedCsv, result: FitResult, log: LogRecord[]): RunSummary {
  const ds = prepared.valid ?? prepared.train;
  const scores = evaluate(model, ds);
  const classify = ds.task === "classify";
  const metricName = `${prepared.valid ? "validation" : "training"} ${classify ? "accuracy" : "MSE (standardised target)"}`;
  const metricValue = classify ? scores.metrics.accuracy : scores.metrics.mse;
  return { run, model: MODEL_NAMES[kind], parameters: model.parameterCount(), metricName, metricValue, epochs: result.epochs, stopReason: result.stopReason, log };
}

function checkpointExtras(prepared: PreparedCsv, request: TrainRequest): CheckpointExtras {
  const { columns } = request;
  const data: CsvPreparation = {
    source: "csv",
    target: [columns.target],
    features: prepared.featureColumns,
    ...(columns.time ? { time: columns.time } : {}),
    ...(columns.sequence ? { sequence: columns.sequence } : {}),
    task: columns.task,
    targetMode: prepared.targetMode,
    ...(request.window ? { window: request.window } : {}),
    missingMask: prepared.missingMask,
    ...(prepared.classes ? { classes: prepared.classes } : {}),
    ...(prepared.categorical.length > 0 ? { categorical: prepared.categorical } : {}),
    ...(prepared.timeFormat ? { timeFormat: prepared.timeFormat } : {}),
  };
  return {
    ...datasetExtras(prepared.train),
    normalization: prepared.normalization,
    feature_names: prepared.featureNames,
    target_names: prepared.targetNames,
    ...(prepared.classes ? { classes: prepared.classes } : {}),
    data,
  };
}

async function train(request: TrainRequest): Promise<void> {
  trained = null;
  let prepared: PreparedCsv;
  try {
    prepared = prepare(request);
  } catch (e) {
    post({ type: "error", field: (e as { field?: Field }).field ?? "file", message: (e as Error).message, during: "prepare" });
    return;
  }
  post({ type: "prepared", summary: describe(prepared), warnings: prepared.warnings });
  let model: RecurrentModel;
  try {
    model = buildModel(request.model, prepared.train.features, outputWidth(prepared.train));
  } catch (e) {
    post({ type: "error", field: "model", message: (e as Error).message, during: "train" });
    return;
  }
  const { result, log } = await runFit("main", model, prepared, request);
  const summary = summarize("main", request.model.kind, model, prepared, result, log);
  const extras = checkpointExtras(prepared, request);
  trained = { request, prepared, model, summary, extras };
  predictor = { model, extras };
  const checkpoint = encodeCheckpoint(model, extras);
  const predictions = predictCsv(model, extras, request.data);
  post({ type: "done", summary, checkpoint, predictions }, [checkpoint.buffer as ArrayBuffer]);
}

/** The other family on the same split and settings: an LSTM (or, for an LSTM, the default CfC) of about as many parameters' worth of units. */
async function compare(): Promise<void> {
  if (!trained) throw new Error("train a model first");
  const { request, prepared } = trained;
  const kind: ModelKind = request.model.kind === "lstm" ? "cfc-default" : "lstm";
  const spec: ModelSpec = { ...request.model, kind };
  const model = buildModel(spec, prepared.train.features, outputWidth(prepared.train));
  const { result, log } = await runFit("compare", model, prepared, request);
  const other = summarize("compare", kind, model, prepared, result, log);
  const curves = (s: RunSummary) => trainingCurvesSvg(s.log, { title: s.model });
  post({ type: "compared", main: trained.summary, other, curvesSvg: [curves(trained.summary), curves(other)] });
}

// ---------------------------------------------------------------------------------------------
// Looking inside

const sequenceSlice = (a: ArrayLike<number>, n: number, width: number, L: number): Float32Array => Float32Array.from({ length: L * width }, (_, k) => a[n * L * width + k]);

/** A diverging colour for v in [-1, 1]: blue (negative), white, red (positive). */
function activityColor(v: number): string {
  const t = Math.max(-1, Math.min(1, v));
  const mix = (a: number, b: number, f: number) => Math.round(a + (b - a) * f);
  const [r, g, b] = t >= 0 ? [mix(255, 214, t), mix(255, 39, t), mix(255, 40, t)] : [mix(255, 31, -t), mix(255, 119, -t), mix(255, 180, -t)];
  return `rgb(${r},${g},${b})`;
}

function inspect(sequence: number, step: number): Inspection {
  if (!trained) throw new Error("train a model first");
  const { prepared, model } = trained;
  const set = prepared.valid ? "validation" : "training";
  const ds = prepared.valid ?? prepared.train;
  const n = Math.max(0, Math.min(ds.size - 1, sequence));
  const length = ds.lengths ? ds.lengths[n] : ds.steps;
  const L = ds.steps;
  const F = ds.features;
  const x = { shape: [1, L, F], data: sequenceSlice(ds.x, n, F, L) };
  const timespans = ds.timespans ? { shape: [1, L], data: sequenceSlice(ds.timespans, n, 1, L) } : null;
  const forward = model.forward(x, { timespans, returnStates: true, grad: false });
  const width = model.outputSize;
  const out = forward.output.data;
  const states = forward.states!;
  const S = states.shape[2];
  const at = Math.max(0, Math.min(length - 1, step));
  const time = Array.from({ length }, (_, t) => (timespans ? 0 : t));
  if (timespans) for (let t = 0, acc = 0; t < length; t++) time[t] = acc += timespans.data[t];
  const xLabel = timespans ? "time (scaled)" : "step";

  // Predictions against truth over the sequence (all steps: the model answers at each).
  let truth: number[];
  let pred: number[];
  const perStep = out.length === L * width;
  if (ds.task === "classify") {
    const argmax = (t: number) => {
      let best = 0;
      for (let k = 1; k < width; k++) if (out[(perStep ? t : 0) * width + k] > out[(perStep ? t : 0) * width + best]) best = k;
      return best;
    };
    pred = Array.from({ length }, (_, t) => argmax(t));
    truth = Array.from({ length }, (_, t) => (ds.targetMode === "last" ? (t === length - 1 ? ds.y[n] : NaN) : ds.targetMask && !ds.targetMask[n * L + t] ? NaN : ds.y[n * L + t]));
  } else {
    const T = ds.targets;
    const yRaw = denormalizeTargets(sequenceSlice(ds.y, n, T, L), prepared.normalization, T);
    const pRaw = denormalizeTargets(perStep ? out : new Float32Array(L * T).fill(NaN), prepared.normalization, T);
    truth = Array.from({ length }, (_, t) => (ds.targetMask && !ds.targetMask[n * L + t] ? NaN : yRaw[t * T]));
    pred = Array.from({ length }, (_, t) => pRaw[t * T]);
  }
  const predictions = predictionsSvg({
    true: [truth],
    pred: [pred],
    time: [time],
    names: [`${set} sequence ${n + 1} of ${ds.size}`],
    xLabel,
    yLabel: prepared.targetNames[0],
    ...(prepared.classes ? { classes: prepared.classes } : {}),
  });

  // Per-neuron state traces, and each neuron's state at the chosen step as the wiring's colours.
  const wiring = (model as { wiring?: Wiring | null }).wiring ?? null;
  const units = wiring ? wiring.units : Math.min(S, 64);
  const shown = Math.min(units, 16);
  let maxAbs = 1e-9;
  for (let t = 0; t < length; t++) for (let j = 0; j < units; j++) maxAbs = Math.max(maxAbs, Math.abs(states.data[t * S + j]));
  const statesSvg = lineChartSvg(
    Array.from({ length: shown }, (_, j) => ({ name: `neuron ${j}`, x: time, y: Array.from({ length }, (_, t) => states.data[t * S + j]) })),
    { title: `state of ${shown === units ? "every" : `the first ${shown} of ${units}`} neuron(s)${wiring ? " (motor neurons first)" : ""}`, xLabel, yLabel: "state", marks: [{ x: time[at], label: `step ${at + 1}` }], legend: shown <= 10 },
  );
  const wiringSvg = wiring
    ? wiring.toSVG({
        title: `${MODEL_NAMES[trained.request.model.kind]}: state at step ${at + 1} of ${length}`,
        neuronFill: (id) => {
          const v = states.data[at * S + id];
          return { color: activityColor(v / maxAbs), note: `state ${v.toFixed(3)}` };
        },
      })
    : null;
  return { sequence: n, sequences: ds.size, set, steps: length, step: at, predictionsSvg: predictions, wiringSvg, statesSvg };
}

// ---------------------------------------------------------------------------------------------
// Checkpoints and predictions on a file

function loadCheckpointBytes(bytes: Uint8Array, fileName: string): void {
  const decoded = decodeCheckpoint(bytes, fileName);
  const data = decoded.extras.data as { source?: string } | undefined;
  if (!data || typeof data !== "object") throw new Error(`${fileName}: the checkpoint does not say how its data was prepared (it was not written by ncps train or this page); use ncps predict with --target and --features`);
  if (data.source !== "csv") throw new Error(`${fileName}: the checkpoint was trained on ${String(data.source)} data, this page predicts on CSV files`);
  if (!decoded.extras.normalization) throw new Error(`${fileName}: the checkpoint has no normalization metadata`);
  const { model, extras, config } = modelFromCheckpoint(decoded);
  predictor = { model, extras };
  const prep = data as CsvPreparation;
  post({ type: "loaded", description: `${config.model} with ${model.parameterCount()} parameters; predicts ${prep.target.join(", ")} from ${prep.features.join(", ")}`, extras });
}

/** Predictions per row of a CSV, read as `ncps predict` reads it for this checkpoint, in its output format. */
function predictCsv(model: RecurrentModel, extras: CheckpointExtras, data: CsvText): Predictions {
  const prep = extras.data as CsvPreparation;
  const csv = csvToDataset(data.text, data.fileName, {
    target: prep.target,
    features: prep.features,
    ...(prep.time ? { time: prep.time } : {}),
    ...(prep.sequence ? { sequence: prep.sequence } : {}),
    task: prep.task,
    targetMode: prep.targetMode,
    ...(prep.window ? { window: prep.window } : {}),
    normalization: extras.normalization,
    missingMask: prep.missingMask,
    ...(prep.classes ? { classes: prep.classes } : {}),
    categories: prep.categorical ?? [],
    ...(prep.timeFormat ? { timeFormat: prep.timeFormat } : {}),
    allowMissingTarget: true,
  });
  const ds = csv.train;
  const width = model.outputSize;
  const values = Float64Array.from(predictDataset(model, ds, { mode: ds.targetMode }));
  const classify = ds.task === "classify";
  if (classify) softmaxRows(values, width);
  const perRow = predictionsByRow(csv, { train: values }, width);
  const rows = classify ? perRow : denormalizeTargets(perRow, csv.normalization, width);
  const classes = csv.classes ?? [];
  const names = classify ? [...classes.map((c) => `prob_${c}`), `pred_${csv.targetNames[0]}`] : csv.targetNames.map((t) => `pred_${t}`);
  const table = parseCsv(data.text, data.fileName, { separator: detectSeparator(data.text), trimColumnNames: true });
  const cell = (v: number) => (Number.isNaN(v) ? "" : String(v));
  const outRows: string[][] = [];
  let covered = 0;
  table.rows.forEach((row, r) => {
    const v = Array.from({ length: width }, (_, k) => rows[r * width + k]);
    if (!Number.isNaN(v[0])) covered++;
    let best = -1;
    if (classify) v.forEach((p, k) => (!Number.isNaN(p) && (best < 0 || p > v[best]) ? (best = k) : 0));
    outRows.push([...row, ...v.map(cell), ...(classify ? [best < 0 ? "" : classes[best]] : [])]);
  });
  // Prediction and truth of the first target (or the most probable class) along the file's rows.
  const x = Array.from({ length: table.rows.length }, (_, r) => r + 1);
  const targetColumn = table.header.indexOf(csv.targetNames[0]);
  const truthOf = (r: number) => {
    if (targetColumn < 0) return NaN;
    const c = table.rows[r][targetColumn];
    return classify ? classes.indexOf(c) === -1 ? NaN : classes.indexOf(c) : c === "" ? NaN : Number(c);
  };
  const predOf = (r: number) => {
    if (!classify) return rows[r * width];
    let best = 0;
    for (let k = 1; k < width; k++) if (rows[r * width + k] > rows[r * width + best]) best = k;
    return Number.isNaN(rows[r * width]) ? NaN : best;
  };
  const shown = Math.min(table.rows.length, 400);
  const svg = figureSvg(
    [
      {
        title: `${data.fileName}: first ${shown} of ${table.rows.length} rows`,
        xLabel: "row",
        yLabel: csv.targetNames[0],
        series: [
          { name: "true", x: x.slice(0, shown), y: x.slice(0, shown).map((_, r) => truthOf(r)), color: "#222222" },
          { name: "predicted", x: x.slice(0, shown), y: x.slice(0, shown).map((_, r) => predOf(r)), color: "#d62728", dashed: true },
        ],
        ...(classify ? { yTicks: classes.map((label, value) => ({ value, label })) } : {}),
      },
    ],
    { title: "predicted vs true, by row" },
  );
  return { fileName: data.fileName, csv: writeCsv([...table.header, ...names], outRows), rows: table.rows.length, covered, svg };
}

function predictFile(data: CsvText): void {
  if (!predictor) throw new Error("load a checkpoint (or train a model) first");
  post({ type: "predicted", predictions: predictCsv(predictor.model, predictor.extras, data) });
}
