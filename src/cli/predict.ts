/**
 * `ncps predict MODEL.safetensors DATA.csv [--out PRED.csv]`: predictions per input row, in input order:
 * the CSV's own columns plus `pred_<target>` (regression, in the target's units), or for classification
 * `prob_<class>` per class and `pred_<target>`, the most probable class (so `ncps plot` finds the true
 * labels in the target column by that name). Rows that no sequence covers (e.g. dropped by windowing)
 * get empty cells.
 */
import { type PreparedCsv, predictionsByRow } from "../data/csv-dataset.js";
import { readLongSources } from "../data/long-format-files.js";
import { denormalizeTargets } from "../data/normalization.js";
import { type CsvCell, type CsvText, detectSeparator, parseCsv } from "../io/csv.js";
import { readTextPieces } from "../io/text-file.js";
import { saveNpy } from "../io/npy.js";
import { loadCheckpoint } from "../train/checkpoint-file.js";
import { predictDataset } from "../train/evaluate.js";
import { softmaxRows } from "../train/losses.js";
import { COLUMN_FLAGS, type DataPreparation, columnOverrides, readDataForModel } from "./data-args.js";
import { describeNonFinite, findNonFiniteOutputs, firstFlagged, type NonFiniteOutputs } from "./output-checks.js";
import { CliError, type CliIO, parseArgs } from "./util.js";
import { rowsOf, writeCsvOutput } from "./csv-output.js";

const USAGE = `usage: ncps predict MODEL.safetensors DATA.csv|DIR [--out PRED.csv] [--backend wasm|reference]
       [--target NAMES --features COLS --time COL --sequence COL --task regress|classify]  (checkpoints not written by ncps train)
       ncps predict MODEL.safetensors X.npy [--time-file T.npy] --out PRED.npy [--target NAMES]
       [--first-gap T]  raw elapsed time of each series' first step (CSV; default: the training median gap
                        stored by ncps train, or 1 for checkpoints without it, e.g. exported from PyTorch)

A NaN or infinite prediction is an error (exit 1, naming how many and the first row); --allow-nan writes
them anyway (empty CSV cells) with a warning.`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, { out: { type: "string" }, "time-file": { type: "string" }, "allow-nan": { type: "boolean" }, backend: { type: "string", default: "wasm" }, "first-gap": { type: "string" }, ...COLUMN_FLAGS }, USAGE);
  if (positionals.length !== 2) throw new CliError(`expected MODEL.safetensors and a data file, got ${positionals.length} arguments`, 2, USAGE);
  const backend = flags.backend as string;
  if (backend !== "wasm" && backend !== "reference") throw new CliError(`--backend must be wasm or reference, got '${backend}'`, 2, USAGE);
  const [modelFile, dataFile] = positionals;
  const firstGap = parseFirstGap(flags["first-gap"]);
  const { model, extras } = loadCheckpoint(modelFile, { backend });
  const data = readDataForModel(dataFile, extras, modelFile, true, {
    timeFile: flags["time-file"] as string | undefined,
    ...columnOverrides(flags, USAGE),
    outputCount: model.outputSize,
    inputCount: model.inputSize,
    firstGap,
    onWarning: (m) => io.err(`warning: ${m}\n`),
    keepInputCells: true,
  });
  const ds = data.train;
  const width = model.outputSize;
  if (ds.features !== model.inputSize) {
    const cols = data.featureNames.length === ds.features ? ` (${data.featureNames.join(", ")})` : "";
    throw new CliError(`${modelFile} takes ${model.inputSize} inputs per step, ${dataFile} gives ${ds.features}${cols}${extras.data ? "" : "; name the input columns with --features COLS"}`, 2);
  }
  const raw = predictDataset(model, ds, { mode: ds.targetMode });
  const nonFinite = findNonFiniteOutputs(raw, ds, width);
  if (nonFinite.count > 0) {
    const what = `${describeNonFinite(nonFinite)}, first at ${firstPlace(nonFinite, data.csv ?? null, Boolean((extras.data as DataPreparation | undefined)?.outcomes))}`;
    if (flags["allow-nan"] !== true) throw new CliError(`${modelFile} on ${dataFile}: ${what}; nothing written (--allow-nan writes them as empty cells)`, 1);
    io.err(`warning: ${what}; written as empty cells (--allow-nan)\n`);
  }
  const values = Float64Array.from(raw);
  const classify = ds.task === "classify";
  if (classify) softmaxRows(values, width);
  const out = flags.out as string | undefined;
  if (!data.csv) {
    if (!out || !out.endsWith(".npy")) throw new CliError("for .npy input, give --out PRED.npy", 2, USAGE);
    const result = classify ? values : denormalizeTargets(values, data.normalization, width);
    const shape = ds.targetMode === "per_step" ? [ds.size, ds.steps, width] : [ds.size, width];
    saveNpy(out, { shape, data: result });
    io.err(`wrote ${out} (${shape.join(" x ")})\n`);
    return 0;
  }
  const classes = data.classes ?? Array.from({ length: width }, (_, k) => String(k));
  const names = classify ? classes.map((c) => `prob_${c}`) : data.targetNames.map((t) => `pred_${t}`);
  // classification also names the most probable class, so a reader (and `ncps plot`) need not compute it
  const outNames = classify ? [...names, `pred_${data.targetNames[0]}`] : names;
  const cell = (v: number): string => (Number.isNaN(v) ? "" : String(v));
  const mostProbable = (v: ArrayLike<number>, r: number): string => {
    let best = -1;
    for (let k = 0; k < width; k++) if (!Number.isNaN(v[r * width + k]) && (best < 0 || v[r * width + k] > v[r * width + best])) best = k;
    return best < 0 ? "" : classes[best];
  };
  const outputs = (v: ArrayLike<number>, r: number): CsvCell[] => [...names.map((_, k) => cell(v[r * width + k])), ...(classify ? [mostProbable(v, r)] : [])];
  const prep = extras.data as DataPreparation | undefined;
  let header: string[];
  let outRows: Iterable<CsvCell[]>;
  let rowCount: number;
  if (prep?.outcomes) {
    // Targets per sequence (joined from an outcomes table): one row per sequence, like that table.
    const perSequence = sequencePredictions(data.csv, values, width);
    const inUnits = classify ? perSequence : denormalizeTargets(perSequence, data.normalization, width);
    header = [prep.id ?? "sequence", ...outNames];
    const ids = data.csv.sequenceIds;
    outRows = rowsOf(ids.length, (q) => [ids[q], ...outputs(inUnits, q)]);
    rowCount = ids.length;
  } else {
    const perRow = predictionsByRow(data.csv, { train: values }, width);
    const rowsOut = classify ? perRow : denormalizeTargets(perRow, data.normalization, width);
    // A wide file's cells were kept as it was read; long-format files are read again.
    const cells = data.csv.inputCells;
    const input = cells ? { header: cells.header, count: cells.rowCount, row: (r: number) => cells.header.map((_, k) => cells.cell(r, k)) } : readInputRows(dataFile, prep);
    header = [...input.header, ...outNames];
    outRows = rowsOf(input.count, (r) => [...input.row(r), ...outputs(rowsOut, r)]);
    rowCount = input.count;
  }
  writeCsvOutput(out, header, outRows, io);
  if (out) io.err(`wrote ${out} (${rowCount} rows, columns ${names.join(", ")})\n`);
  return 0;
}

/** --first-gap: a positive finite number of raw time units, or undefined when not given. */
function parseFirstGap(value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (typeof value !== "string" || value.trim() === "" || !(v > 0 && Number.isFinite(v))) throw new CliError(`--first-gap must be a positive number, got '${String(value)}'`, 2, USAGE);
  return v;
}

/** Where the first non-finite output is: a data row of the CSV (1-based, header not counted), a sequence, or a sample and step. */
function firstPlace(found: NonFiniteOutputs, csv: PreparedCsv | null, perSequence: boolean): string {
  if (csv && perSequence) {
    const q = firstFlagged(sequencePredictions(csv, found.flags, 1));
    if (q >= 0) return `sequence ${csv.sequenceIds[q]}`;
  } else if (csv) {
    const r = firstFlagged(predictionsByRow(csv, { train: found.flags }, 1));
    if (r >= 0) return `data row ${r + 1}`;
  }
  const { sample, step } = found.first!;
  return step === null ? `sample ${sample + 1}` : `sample ${sample + 1}, step ${step + 1}` + " (1-based)";
}

/** The data rows of the input, as read for training (a directory of long-format files gets a leading "file" column). */
function readInputRows(dataFile: string, prep: DataPreparation | undefined): { header: string[]; count: number; row: (r: number) => string[] } {
  const { header, rows } = readLongInputRows(dataFile, prep);
  return { header, count: rows.length, row: (r) => rows[r] };
}

function readLongInputRows(dataFile: string, prep: DataPreparation | undefined): { header: string[]; rows: string[][] } {
  const read = (text: CsvText, fileName: string) => parseCsv(text, fileName, { separator: prep?.separator ?? detectSeparator(text), trimColumnNames: true });
  if (!prep?.long) return read(readTextPieces(dataFile, "data file"), dataFile);
  const sources = readLongSources(dataFile);
  if (sources.length === 1) return read(sources[0].text, sources[0].fileName);
  let header: string[] = [];
  const rows: string[][] = [];
  for (const src of sources) {
    const t = read(src.text, src.fileName);
    if (header.length > 0 && t.header.join("\u0000") !== header.slice(1).join("\u0000")) {
      throw new Error(`${src.fileName}: its columns (${t.header.join(", ")}) differ from those of ${sources[0].fileName} (${header.slice(1).join(", ")})`);
    }
    header = ["file", ...t.header];
    for (const row of t.rows) rows.push([src.fileName, ...row]);
  }
  return { header, rows };
}

/** Per sequence of the file: the output of its last step (per-step outputs) or of its sequence ("last"). */
function sequencePredictions(csv: PreparedCsv, values: Float64Array, width: number): Float64Array {
  const { split, step } = csv.sequenceOwner;
  const out = new Float64Array(split.length * width).fill(NaN);
  const L = csv.train.steps;
  for (let q = 0; q < split.length; q++) {
    if (split[q] !== 0) continue;
    const at = csv.targetMode === "per_step" ? step[q] : Math.floor(step[q] / L);
    for (let k = 0; k < width; k++) out[q * width + k] = values[at * width + k];
  }
  return out;
}
