/**
 * `ncps eval MODEL.safetensors DATA.csv`: how well a trained model does on new data, in terms a person
 * reads: regression errors in the target's own units (and standardised, as the model was trained), or
 * for classification the accuracy, a confusion matrix and per-class precision and recall.
 */
import { loadCheckpoint } from "../train/checkpoint-file.js";
import { evaluationReport, type EvaluationReport } from "../train/evaluate.js";
import type { ClassScores, ErrorScores } from "../train/metrics.js";
import { COLUMN_FLAGS, columnOverrides, readDataForModel } from "./data-args.js";
import { predictDataset } from "../train/evaluate.js";
import { describeNonFinite, findNonFiniteOutputs, samplesWithFiniteOutputs } from "./output-checks.js";
import { CliError, type CliIO, parseArgs } from "./util.js";

const USAGE = `usage: ncps eval MODEL.safetensors DATA.csv|X.npy [--y Y.npy] [--time-file T.npy] [--json] [--backend wasm|reference]
       [--target COLS --features COLS --time COL --sequence COL --task regress|classify]   (checkpoints not written by ncps train)

Prepares DATA the way the model's training data was prepared (columns, windows, normalisation and
classes are stored in the checkpoint) and prints the loss and the task's metrics: for regression the
errors in the target's units (mae, rmse) and standardised (loss, mse, mae as in training); for
classification the accuracy, a confusion matrix (rows: true class, columns: predicted) and each class's
precision, recall and F1. --json prints the same as one JSON object (null where a value is undefined,
e.g. the precision of a class never predicted).

A NaN or infinite model output is an error (exit 1, naming how many and the first sequence);
--allow-nan warns, counts them (non_finite_outputs) and scores the sequences whose outputs are finite.`;

const fixed = (v: number, digits = 4): string => (Number.isFinite(v) ? v.toFixed(digits) : "n/a");
const pad = (s: string, width: number): string => s.padEnd(width);
const padLeft = (s: string, width: number): string => s.padStart(width);

function errorsJson(e: ErrorScores): Record<string, number> {
  return { mse: e.mse, rmse: e.rmse, mae: e.mae };
}

/** The report as JSON: `metrics` are as in training (standardised targets), `units` in the target's units. */
function reportJson(file: string, sequences: number, r: EvaluationReport, targetNames: readonly string[], classNames: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { file, sequences, labels: r.labels, loss: r.loss, metrics: r.metrics };
  if (r.units) {
    out.units = { ...errorsJson(r.units.all), targets: Object.fromEntries(r.units.perTarget.map((e, k) => [targetNames[k] ?? `y${k}`, errorsJson(e)])) };
  }
  if (r.classes) {
    out.classes = classNames;
    out.confusion = r.classes.confusion;
    out.per_class = Object.fromEntries(r.classes.perClass.map((s, k) => [classNames[k], s]));
  }
  return out;
}

function errorLines(r: EvaluationReport, targetNames: readonly string[]): string[] {
  const units = r.units!;
  const lines: string[] = [];
  if (units.perTarget.length === 1) lines.push(`  in the target's units (${targetNames[0]}):  mae ${fixed(units.all.mae, 6)}  rmse ${fixed(units.all.rmse, 6)}`);
  else {
    lines.push(`  in the targets' units:`);
    const width = Math.max(...targetNames.map((t) => t.length));
    units.perTarget.forEach((e, k) => lines.push(`    ${pad(targetNames[k], width)}  mae ${fixed(e.mae, 6)}  rmse ${fixed(e.rmse, 6)}`));
  }
  const standardised = Object.entries(r.metrics).map(([k, v]) => `  ${k} ${fixed(v, 6)}`).join("");
  lines.push(`  standardised (as trained):  loss ${fixed(r.loss, 6)}${standardised}`);
  return lines;
}

function classLines(r: EvaluationReport, classNames: readonly string[]): string[] {
  const { confusion, perClass } = r.classes!;
  const lines: string[] = [`  loss ${fixed(r.loss, 6)}`];
  for (const [k, v] of Object.entries(r.metrics)) lines.push(`  ${k} ${fixed(v, 6)}`);
  const width = Math.max(5, ...classNames.map((c) => c.length));
  const cell = Math.max(width, ...confusion.flat().map((v) => String(v).length));
  lines.push(`  confusion matrix (rows: true class, columns: predicted)`);
  lines.push(`    ${pad("", width)}  ${classNames.map((c) => padLeft(c, cell)).join("  ")}`);
  confusion.forEach((row, t) => lines.push(`    ${pad(classNames[t], width)}  ${row.map((v) => padLeft(String(v), cell)).join("  ")}`));
  lines.push(`    ${pad("class", width)}  precision  recall     f1         support`);
  perClass.forEach((s: ClassScores, k) => lines.push(`    ${pad(classNames[k], width)}  ${pad(fixed(s.precision), 9)}  ${pad(fixed(s.recall), 9)}  ${pad(fixed(s.f1), 9)}  ${s.support}`));
  return lines;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, { json: { type: "boolean" }, "allow-nan": { type: "boolean" }, y: { type: "string" }, "time-file": { type: "string" }, backend: { type: "string", default: "wasm" }, ...COLUMN_FLAGS }, USAGE);
  if (positionals.length !== 2) throw new CliError(`expected MODEL.safetensors and a data file, got ${positionals.length} arguments`, 2, USAGE);
  const backend = flags.backend as string;
  if (backend !== "wasm" && backend !== "reference") throw new CliError(`--backend must be wasm or reference, got '${backend}'`, 2, USAGE);
  const [modelFile, dataFile] = positionals;
  const { model, extras } = loadCheckpoint(modelFile, { backend });
  const data = readDataForModel(dataFile, extras, modelFile, false, { yFile: flags.y as string | undefined, timeFile: flags["time-file"] as string | undefined, ...columnOverrides(flags, USAGE), onWarning: (m) => io.err(`warning: ${m}\n`) });
  let ds = data.train;
  let report = evaluationReport(model, ds, { targetStd: data.normalization.targetStd });
  let nonFiniteOutputs = 0;
  // a non-finite output makes the loss non-finite: only then are the outputs searched (a second pass)
  if (!Number.isFinite(report.loss)) {
    const found = findNonFiniteOutputs(predictDataset(model, ds, { mode: ds.targetMode }), ds, model.outputSize);
    if (found.count === 0) throw new CliError(`${modelFile} on ${dataFile}: the loss is not finite (${report.loss}) although every output is`, 1);
    const { sample, step } = found.first!;
    const what = `${describeNonFinite(found)}, first at sequence ${sample + 1}${step === null ? "" : `, step ${step + 1}`} (1-based)`;
    if (flags["allow-nan"] !== true) throw new CliError(`${modelFile} on ${dataFile}: ${what} (--allow-nan scores the finite sequences only)`, 1);
    ds = samplesWithFiniteOutputs(ds, found);
    io.err(`warning: ${what}; scoring the ${ds.size} sequences whose outputs are finite (--allow-nan)\n`);
    if (ds.size === 0) throw new CliError(`${modelFile} on ${dataFile}: no sequence has finite outputs; nothing to score`, 1);
    report = evaluationReport(model, ds, { targetStd: data.normalization.targetStd });
    nonFiniteOutputs = found.count;
  }
  const classNames = data.classes ?? Array.from({ length: report.classes?.confusion.length ?? 0 }, (_, k) => String(k));
  if (flags.json) {
    const json = reportJson(dataFile, ds.size, report, data.targetNames, classNames);
    if (nonFiniteOutputs > 0) json.non_finite_outputs = nonFiniteOutputs;
    io.out(JSON.stringify(json) + "\n");
    return 0;
  }
  const labelled = ds.targetMode === "last" ? `${report.labels} labelled sequences` : `${report.labels} labelled steps`;
  const lines = [`${dataFile}: ${ds.size} sequences, ${labelled}`, ...(report.units ? errorLines(report, data.targetNames) : classLines(report, classNames))];
  io.out(lines.join("\n") + "\n");
  return 0;
}
