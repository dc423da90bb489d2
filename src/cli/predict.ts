/**
 * `ncps predict MODEL.safetensors DATA.csv [--out PRED.csv]`: predictions per input row, in input order:
 * the CSV's own columns plus `pred_<target>` (regression, in the target's units), or for classification
 * `prob_<class>` per class and `pred_<target>`, the most probable class (so `ncps plot` finds the true
 * labels in the target column by that name). Rows that no sequence covers (e.g. dropped by windowing)
 * get empty cells.
 */
import { readFileSync } from "node:fs";
import { predictionsByRow } from "../data/csv-dataset.js";
import { denormalizeTargets } from "../data/normalization.js";
import { parseCsv, writeCsv } from "../io/csv.js";
import { writeFileAtomic } from "../io/atomic.js";
import { saveNpy } from "../io/npy.js";
import { loadCheckpoint } from "../train/checkpoint.js";
import { predictDataset } from "../train/evaluate.js";
import { COLUMN_FLAGS, columnOverrides, readDataForModel } from "./data-args.js";
import { CliError, type CliIO, parseArgs } from "./util.js";

const USAGE = `usage: ncps predict MODEL.safetensors DATA.csv [--out PRED.csv] [--backend wasm|reference]
       [--target NAMES --features COLS --time COL --sequence COL --task regress|classify]  (checkpoints not written by ncps train)
       ncps predict MODEL.safetensors X.npy [--time-file T.npy] --out PRED.npy`;

/** Softmax of each row of `width` logits, in place. */
function softmaxRows(v: Float64Array, width: number): void {
  for (let r = 0; r < v.length / width; r++) {
    let m = -Infinity;
    for (let k = 0; k < width; k++) m = Math.max(m, v[r * width + k]);
    let s = 0;
    for (let k = 0; k < width; k++) s += v[r * width + k] = Math.exp(v[r * width + k] - m);
    for (let k = 0; k < width; k++) v[r * width + k] /= s;
  }
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, { out: { type: "string" }, "time-file": { type: "string" }, backend: { type: "string", default: "wasm" }, ...COLUMN_FLAGS }, USAGE);
  if (positionals.length !== 2) throw new CliError(`expected MODEL.safetensors and a data file, got ${positionals.length} arguments`, 2, USAGE);
  const backend = flags.backend as string;
  if (backend !== "wasm" && backend !== "reference") throw new CliError(`--backend must be wasm or reference, got '${backend}'`, 2, USAGE);
  const [modelFile, dataFile] = positionals;
  const { model, extras } = loadCheckpoint(modelFile, { backend });
  const data = readDataForModel(dataFile, extras, modelFile, true, { timeFile: flags["time-file"] as string | undefined, ...columnOverrides(flags, USAGE) });
  const ds = data.train;
  const width = model.outputSize;
  const raw = predictDataset(model, ds, { mode: ds.targetMode });
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
  const perRow = predictionsByRow(data.csv, { train: values }, width);
  const rowsOut = classify ? perRow : denormalizeTargets(perRow, data.normalization, width);
  const classes = data.classes ?? Array.from({ length: width }, (_, k) => String(k));
  const names = classify ? classes.map((c) => `prob_${c}`) : data.targetNames.map((t) => `pred_${t}`);
  const { header, rows } = parseCsv(readFileSync(dataFile, "utf8"), dataFile);
  const cells = (r: number) => Array.from({ length: width }, (_, k) => (Number.isNaN(rowsOut[r * width + k]) ? "" : String(rowsOut[r * width + k])));
  const mostProbable = (r: number): string => {
    let best = -1;
    for (let k = 0; k < width; k++) if (!Number.isNaN(rowsOut[r * width + k]) && (best < 0 || rowsOut[r * width + k] > rowsOut[r * width + best])) best = k;
    return best < 0 ? "" : classes[best];
  };
  if (classify) names.push(`pred_${data.targetNames[0]}`);
  const outRows = rows.map((row, r) => [...row, ...cells(r), ...(classify ? [mostProbable(r)] : [])]);
  const text = writeCsv([...header, ...names], outRows);
  if (out) {
    writeFileAtomic(out, text);
    io.err(`wrote ${out} (${rows.length} rows, columns ${names.join(", ")})\n`);
  } else io.out(text);
  return 0;
}
