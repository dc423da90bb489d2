/**
 * The workbench page: data and column choices, training in a worker (worker.ts) with live curves,
 * results, a look inside the model, downloads, and predictions from a checkpoint. The state is exposed
 * for tests: `document.body.dataset.status` (idle, training, done, failed) and #final-metric.
 */
import { type CsvTable, detectSeparator, parseCsv } from "../src/index.js";
import { guessColumns } from "./columns.js";
import { EXAMPLES, findExample } from "./examples.js";
import type { Field, FromWorker, ModelKind, Predictions, RunSummary, ToWorker, TrainRequest } from "./protocol.js";

const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`workbench: the page has no element #${id}`);
  return element as T;
};
const input = (id: string) => byId<HTMLInputElement>(id);
const select = (id: string) => byId<HTMLSelectElement>(id);
const button = (id: string) => byId<HTMLButtonElement>(id);

let embedded = 0;
/**
 * Puts a figure into the page. Its ids (plot clip areas, arrow markers) get a prefix of their own:
 * ids are global to the document, and two figures sharing one would clip or mark with each other's.
 */
function showSvg(element: HTMLElement, svg: string): void {
  const prefix = `f${++embedded}-`;
  element.innerHTML = svg.replace(/\bid="([^"]+)"/g, `id="${prefix}$1"`).replace(/url\(#([^)]+)\)/g, `url(#${prefix}$1)`);
}

type Status = "idle" | "training" | "done" | "failed";
const ERROR_FIELDS: readonly Field[] = ["file", "target", "features", "time", "sequence", "task", "window", "model", "lr", "checkpoint", "predict-file"];

interface LoadedData {
  readonly text: string;
  readonly fileName: string;
  readonly table: CsvTable;
}

let data: LoadedData | null = null;
let lastRun: { summary: RunSummary; checkpoint: Uint8Array; predictions: Predictions; stem: string } | null = null;
let newPredictions: Predictions | null = null;
const worker = new Worker("worker.js");
const send = (message: ToWorker, transfer: Transferable[] = []) => worker.postMessage(message, transfer);

function setStatus(status: Status, text: string): void {
  document.body.dataset.status = status;
  byId("status-text").textContent = text;
  const busy = status === "training";
  button("train").disabled = busy || data === null;
  button("stop").disabled = !busy;
  for (const id of ["compare", "download-checkpoint", "download-log", "download-predictions", "inspect-sequence", "inspect-step"]) (byId(id) as HTMLButtonElement).disabled = busy;
}

function showError(field: Field, message: string): void {
  byId(`${field}-error`).textContent = message;
  byId(`${field}-error`).scrollIntoView({ block: "nearest" });
}

function clearErrors(...fields: Field[]): void {
  for (const f of fields.length > 0 ? fields : ERROR_FIELDS) byId(`${f}-error`).textContent = "";
  byId("train-error").textContent = "";
}

// ---------------------------------------------------------------------------------------------
// Data and columns

function fillSelect(element: HTMLSelectElement, options: readonly string[], chosen: string | null, none?: string): void {
  element.replaceChildren();
  if (none !== undefined) element.append(new Option(none, ""));
  for (const o of options) element.append(new Option(o, o));
  element.value = chosen ?? "";
}

function fillFeatures(header: readonly string[], chosen: readonly string[]): void {
  const box = byId("features");
  box.replaceChildren();
  for (const name of header) {
    const label = document.createElement("label");
    const check = document.createElement("input");
    check.type = "checkbox";
    check.value = name;
    check.checked = chosen.includes(name);
    label.append(check, ` ${name}`);
    box.append(label);
  }
}

/** Feature choices follow the other columns: a column cannot be both the target (or time, sequence) and a feature. */
function refreshFeatures(): void {
  if (!data) return;
  const taken = new Set([select("target").value, select("time").value, select("sequence").value]);
  for (const check of byId("features").querySelectorAll<HTMLInputElement>("input")) {
    check.disabled = taken.has(check.value);
    if (check.disabled) check.checked = false;
  }
}

function loadText(text: string, fileName: string): boolean {
  clearErrors();
  let table: CsvTable;
  try {
    table = parseCsv(text, fileName, { separator: detectSeparator(text), trimColumnNames: true });
    if (table.header.length < 2) throw new Error(`${fileName}: found ${table.header.length} column(s) (${table.header.join(", ")}); a target and at least one feature are needed`);
    if (table.rows.length === 0) throw new Error(`${fileName}: no data rows below the header`);
  } catch (e) {
    data = null;
    showError("file", (e as Error).message);
    setStatus("idle", "Load a CSV or pick an example.");
    return false;
  }
  data = { text, fileName, table };
  const guess = guessColumns(table);
  fillSelect(select("target"), table.header, guess.target);
  select("task").value = guess.task;
  fillSelect(select("time"), table.header, guess.time, "(none: equal steps)");
  fillSelect(select("sequence"), table.header, guess.sequence, "(none: one series)");
  fillFeatures(table.header, guess.features);
  refreshFeatures();
  byId("data-summary").textContent = `${fileName}: ${table.rows.length} rows, columns ${table.header.join(", ")}`;
  byId("results-section").hidden = true;
  setStatus("idle", "Ready: choose the columns and the model, then train.");
  return true;
}

async function loadFile(file: File): Promise<void> {
  select("example").value = "";
  loadText(await file.text(), file.name);
}

function loadExample(name: string): boolean {
  const example = findExample(name);
  if (!example) {
    showError("file", `no example named "${name}" (examples: ${EXAMPLES.map((e) => e.name).join(", ")})`);
    return false;
  }
  select("example").value = name;
  if (!loadText(example.csv(), `${example.name}.csv`)) return false;
  input("epochs").value = String(example.settings.epochs);
  input("lr").value = String(example.settings.lr);
  input("window").value = example.settings.window ? String(example.settings.window) : "";
  select("task").value = example.settings.task;
  select("model").value = example.settings.model ?? "cfc-default";
  input("units").value = String(example.settings.units ?? 32);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Training

function positiveInteger(id: string, field: Field, what: string): number | null {
  const v = Number(input(id).value);
  if (!Number.isInteger(v) || v < 1) {
    showError(field, `${what} must be a whole number of at least 1, got "${input(id).value}"`);
    return null;
  }
  return v;
}

function trainRequest(): TrainRequest | null {
  if (!data) return null;
  clearErrors();
  const features = [...byId("features").querySelectorAll<HTMLInputElement>("input:checked")].map((c) => c.value);
  if (features.length === 0) {
    showError("features", "choose at least one feature column");
    return null;
  }
  const epochs = positiveInteger("epochs", "model", "epochs");
  const units = positiveInteger("units", "model", "units");
  const batchSize = positiveInteger("batch", "model", "batch size");
  const windowText = input("window").value.trim();
  const window = windowText === "" ? undefined : positiveInteger("window", "window", "window");
  const lr = Number(input("lr").value);
  if (!(lr > 0 && Number.isFinite(lr))) {
    showError("lr", `the learning rate must be a positive number, got "${input("lr").value}"`);
    return null;
  }
  const sparsity = Number(input("sparsity").value);
  if (epochs === null || units === null || batchSize === null || window === null) return null;
  return {
    type: "train",
    data: { text: data.text, fileName: data.fileName },
    columns: {
      target: select("target").value,
      features,
      ...(select("time").value ? { time: select("time").value } : {}),
      ...(select("sequence").value ? { sequence: select("sequence").value } : {}),
      task: select("task").value as "regress" | "classify",
    },
    ...(window !== undefined ? { window } : {}),
    model: { kind: select("model").value as ModelKind, units, sparsity },
    epochs,
    lr,
    batchSize,
  };
}

function startTraining(): void {
  const request = trainRequest();
  if (!request) return;
  lastRun = null;
  byId("results-section").hidden = true;
  byId("compare-results").replaceChildren();
  byId("curves").replaceChildren();
  byId("progress").textContent = "reading the data...";
  setStatus("training", `Training ${select("model").selectedOptions[0].text}...`);
  send(request);
}

function formatSeconds(s: number): string {
  return s >= 90 ? `${Math.round(s / 60)} min` : `${Math.max(1, Math.round(s))} s`;
}

// ---------------------------------------------------------------------------------------------
// Results

function download(bytes: BlobPart, fileName: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function showDone(summary: RunSummary, checkpoint: Uint8Array, predictions: Predictions): void {
  const stem = (data?.fileName ?? "data").replace(/\.[^.]*$/, "");
  lastRun = { summary, checkpoint, predictions, stem };
  const metric = byId("final-metric");
  metric.textContent = summary.metricValue.toPrecision(4);
  metric.dataset.value = String(summary.metricValue);
  byId("final-metric-name").textContent = summary.metricName;
  const stopped = summary.stopReason === "callback" ? " (stopped early)" : "";
  byId("result-summary").textContent = `${summary.model}, ${summary.parameters} parameters, ${summary.epochs} epoch(s)${stopped}; predictions for ${predictions.covered} of ${predictions.rows} rows.`;
  byId("results-section").hidden = false;
  setStatus("done", `Done: ${summary.metricName} ${summary.metricValue.toPrecision(4)}.`);
  input("inspect-sequence").value = "1";
  input("inspect-step").value = "100000";
  inspect();
}

function inspect(): void {
  if (!lastRun) return;
  send({ type: "inspect", sequence: Number(input("inspect-sequence").value) - 1, step: Number(input("inspect-step").value) - 1 });
}

function showComparison(main: RunSummary, other: RunSummary, curves: readonly [string, string]): void {
  const box = byId("compare-results");
  box.replaceChildren();
  [main, other].forEach((s, i) => {
    const cell = document.createElement("div");
    cell.className = "figure";
    const title = document.createElement("h4");
    title.className = "compare-title";
    title.textContent = `${s.model}: ${s.metricName} ${s.metricValue.toPrecision(4)} (${s.parameters} parameters, ${s.epochs} epochs)`;
    cell.append(title);
    const figure = document.createElement("div");
    showSvg(figure, curves[i]);
    cell.append(figure);
    cell.dataset.metric = String(s.metricValue);
    box.append(cell);
  });
  setStatus("done", `Compared: ${main.model} ${main.metricValue.toPrecision(4)}, ${other.model} ${other.metricValue.toPrecision(4)} (${main.metricName}).`);
}

// ---------------------------------------------------------------------------------------------
// Messages from the worker

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  switch (m.type) {
    case "prepared":
      byId("data-summary").textContent = `${data?.fileName}: ${m.summary}${m.warnings.length > 0 ? `\nwarnings: ${m.warnings.join("; ")}` : ""}`;
      break;
    case "progress":
      byId("progress").textContent =
        `${m.run === "compare" ? "comparison run: " : ""}epoch ${m.epoch}/${m.epochs}, batch ${m.batch}/${m.batches}, loss ${m.loss.toPrecision(4)}, ` +
        `${Math.round(m.samplesPerSecond)} sequences/s, about ${formatSeconds(m.secondsLeft)} left`;
      break;
    case "epoch":
      if (m.run === "main") showSvg(byId("curves"), m.curvesSvg);
      break;
    case "done":
      showDone(m.summary, m.checkpoint, m.predictions);
      break;
    case "compared":
      showComparison(m.main, m.other, m.curvesSvg);
      break;
    case "inspected": {
      const i = m.inspection;
      showSvg(byId("predictions-plot"), i.predictionsSvg);
      if (i.wiringSvg) showSvg(byId("wiring"), i.wiringSvg);
      else byId("wiring").innerHTML = '<p class="note">This model has no wiring to draw (choose a wired CfC or an LTC).</p>';
      showSvg(byId("states-plot"), i.statesSvg);
      input("inspect-sequence").max = String(i.sequences);
      input("inspect-sequence").value = String(i.sequence + 1);
      byId("inspect-sequence-count").textContent = `of ${i.sequences} ${i.set} sequences`;
      input("inspect-step").max = String(i.steps);
      input("inspect-step").value = String(i.step + 1);
      byId("inspect-step-value").textContent = `step ${i.step + 1} of ${i.steps}`;
      break;
    }
    case "loaded":
      byId("checkpoint-summary").textContent = m.description;
      break;
    case "predicted":
      newPredictions = m.predictions;
      byId("predict-summary").textContent = `${m.predictions.fileName}: predictions for ${m.predictions.covered} of ${m.predictions.rows} rows`;
      showSvg(byId("predict-plot"), m.predictions.svg);
      button("download-new-predictions").hidden = false;
      break;
    case "error":
      showError(m.field, m.message);
      if (m.during === "prepare" || m.during === "train" || m.during === "compare") {
        byId("progress").textContent = "";
        setStatus("failed", m.during === "prepare" ? "The data cannot be used as chosen: see the message next to the control." : "Training failed: see the message.");
      }
      break;
    case "diverged":
      byId("train-error").textContent = m.message;
      setStatus("failed", "Training diverged: see the message, change the settings and train again.");
      break;
  }
};

worker.onerror = (event) => {
  byId("train-error").textContent = `the training worker failed: ${event.message}`;
  setStatus("failed", "The training worker failed.");
};

// ---------------------------------------------------------------------------------------------
// Controls

function wireControls(): void {
  for (const e of EXAMPLES) select("example").append(new Option(e.title, e.name));
  select("example").addEventListener("change", () => {
    if (select("example").value) loadExample(select("example").value);
  });
  input("csv-file").addEventListener("change", () => {
    const file = input("csv-file").files?.[0];
    if (file) void loadFile(file);
  });
  const zone = byId("drop-zone");
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    const file = e.dataTransfer?.files[0];
    if (file) void loadFile(file);
  });
  for (const id of ["target", "time", "sequence"]) select(id).addEventListener("change", refreshFeatures);
  button("train").addEventListener("click", startTraining);
  button("stop").addEventListener("click", () => {
    send({ type: "stop" });
    byId("status-text").textContent = "Stopping after this epoch...";
  });
  button("download-checkpoint").addEventListener("click", () => lastRun && download(lastRun.checkpoint as Uint8Array<ArrayBuffer>, `${lastRun.stem}-model.safetensors`, "application/octet-stream"));
  button("download-log").addEventListener("click", () => lastRun && download(lastRun.summary.log.map((r) => JSON.stringify(r)).join("\n") + "\n", `${lastRun.stem}-run.jsonl`, "application/x-ndjson"));
  button("download-predictions").addEventListener("click", () => lastRun && download(lastRun.predictions.csv, `${lastRun.stem}-predictions.csv`, "text/csv"));
  button("download-new-predictions").addEventListener("click", () => newPredictions && download(newPredictions.csv, `${newPredictions.fileName.replace(/\.[^.]*$/, "")}-predictions.csv`, "text/csv"));
  button("compare").addEventListener("click", () => {
    byId("compare-results").replaceChildren();
    setStatus("training", "Training the comparison model on the same split...");
    send({ type: "compare" });
  });
  input("inspect-sequence").addEventListener("change", inspect);
  input("inspect-step").addEventListener("input", inspect);
  input("checkpoint-file").addEventListener("change", async () => {
    const file = input("checkpoint-file").files?.[0];
    if (!file) return;
    clearErrors("checkpoint");
    byId("checkpoint-summary").textContent = "";
    const bytes = new Uint8Array(await file.arrayBuffer());
    send({ type: "load-checkpoint", bytes, fileName: file.name }, [bytes.buffer]);
  });
  input("predict-file").addEventListener("change", async () => {
    const file = input("predict-file").files?.[0];
    if (!file) return;
    clearErrors("predict-file");
    send({ type: "predict", data: { text: await file.text(), fileName: file.name } });
  });
}

/** `?example=leaky-memory&epochs=5&autorun=1` (also model, units, lr, window, batch): loads, sets, and trains without clicks. */
function applyDeepLink(): void {
  const params = new URLSearchParams(location.search);
  const example = params.get("example");
  if (example && !loadExample(example)) return;
  const fields: Record<string, string> = { epochs: "epochs", lr: "lr", window: "window", units: "units", batch: "batch", sparsity: "sparsity", model: "model" };
  for (const [param, id] of Object.entries(fields)) {
    const value = params.get(param);
    if (value !== null) (byId(id) as HTMLInputElement).value = value;
  }
  if (params.get("autorun") === "1" && data) startTraining();
}

wireControls();
setStatus("idle", "Load a CSV or pick an example.");
applyDeepLink();
