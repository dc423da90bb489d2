/** `ncps plot`: learning curves from a run log, or predicted against true series from `ncps predict` output. */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseCsv, parseNumberCell, parseTimeCell, type CsvTable } from "../io/csv.js";
import { classProbabilitiesSvg, parseRunLog, predictionsSvg, trainingCurvesSvg } from "../plot/curves.js";
import { writeFigure } from "../plot/png.js";
import { CliError, type CliIO, type FlagSpec, intFlag, parseArgs } from "./util.js";

const USAGE = `usage: ncps plot RUN.jsonl --out FILE.svg|FILE.png [--title TEXT] [--log-loss | --linear-loss]
       ncps plot --predictions PRED.csv --out FILE.svg|FILE.png [--sequence COL] [--time COL]
                 [--true COL] [--pred COL] [--max-sequences N] [--title TEXT]

Draws learning curves from a training run log (JSON lines with epoch, train_loss, valid_loss,
metrics, lr), or predicted against true values for the first few sequences of a file written by
\`ncps predict\` (the input columns plus pred_<target> or prob_<class> columns).

  --out FILE          .svg, or .png when rsvg-convert or ImageMagick is installed
                      (otherwise the SVG is written next to it and the command fails)
  --title TEXT        figure title
  --log-loss          log scale for the loss panel (default: when losses span > 20x)
  --linear-loss       linear scale for the loss panel
  --predictions FILE  plot predictions instead of a run log
  --sequence COL      column telling which sequence a row belongs to (one panel each)
  --time COL          x axis: numbers, or ISO dates (shown as time since the sequence's start)
  --pred COL          prediction column (default: the first pred_* column; with prob_*
                      columns, the most probable class)
  --true COL          column with the true values (default: the prediction column's name
                      without "pred_"; for classes, the one column holding class labels)
  --max-sequences N   panels to draw (default 6)`;

const FLAGS: Record<string, FlagSpec> = {
  out: { type: "string" },
  title: { type: "string" },
  "log-loss": { type: "boolean" },
  "linear-loss": { type: "boolean" },
  predictions: { type: "string" },
  sequence: { type: "string" },
  time: { type: "string" },
  pred: { type: "string" },
  true: { type: "string" },
  "max-sequences": { type: "string" },
};

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new CliError(`cannot read ${what} ${file}: ${e instanceof Error ? e.message : String(e)}`, 1);
  }
}

const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const canonical = (s: string): string => (NUMERIC.test(s.trim()) ? String(Number(s.trim())) : s.trim());

function column(table: CsvTable, file: string, name: string, flag: string): number {
  const k = table.header.indexOf(name);
  if (k < 0) throw new CliError(`${file}: no column ${JSON.stringify(name)} for --${flag} (columns: ${table.header.join(", ")})`, 2, USAGE);
  return k;
}

/** x values per row: numbers as they are; ISO dates as time since the sequence's first row. */
function timeAxis(table: CsvTable, file: string, k: number, groups: number[][]): { x: Float64Array; label: string } {
  const name = table.header[k];
  const x = new Float64Array(table.rows.length);
  let dates = false;
  table.rows.forEach((row, r) => {
    x[r] = parseTimeCell(row[k], file, table.lineNumbers[r], name);
    if (!NUMERIC.test(row[k].trim())) dates = true;
  });
  if (!dates) return { x, label: name };
  let span = 0;
  for (const g of groups) {
    const t0 = g.reduce((m, r) => Math.min(m, x[r]), Infinity);
    for (const r of g) {
      x[r] -= t0;
      span = Math.max(span, x[r]);
    }
  }
  const [unit, seconds] = span >= 3 * 86400 ? ["d", 86400] : span >= 3 * 3600 ? ["h", 3600] : span >= 180 ? ["min", 60] : ["s", 1];
  for (let r = 0; r < x.length; r++) x[r] /= seconds;
  return { x, label: `${name} (${unit} since start)` };
}

/** Rows grouped by sequence (in order of first appearance), with the sequence column's index (-1: none). */
function groupRows(table: CsvTable, file: string, sequence: string | undefined): { seqCol: number; ids: string[]; groups: number[][] } {
  const seqCol = sequence === undefined ? -1 : column(table, file, sequence, "sequence");
  const groupOf = new Map<string, number[]>();
  table.rows.forEach((row, r) => {
    const id = seqCol < 0 ? "" : row[seqCol];
    let g = groupOf.get(id);
    if (!g) groupOf.set(id, (g = []));
    g.push(r);
  });
  return { seqCol, ids: [...groupOf.keys()], groups: [...groupOf.values()] };
}

/**
 * The column with the true classes: --true, else the target named by a `pred_<target>` column (as
 * `ncps predict` writes it), else the one column whose every value is a class name.
 */
function trueClassColumn(table: CsvTable, file: string, flags: Record<string, string | boolean | undefined>, index: Map<string, number>): string | undefined {
  const given = flags.true;
  if (typeof given === "string") return given;
  const header = table.header;
  const named = header.filter((h) => h.startsWith("pred_") && header.includes(h.slice(5))).map((h) => h.slice(5));
  if (named.length === 1) return named[0];
  const reserved = new Set([flags.sequence, flags.time]);
  const candidates = header.filter(
    (h, k) => !h.startsWith("prob_") && !h.startsWith("pred_") && !reserved.has(h) && table.rows.some((row) => row[k].trim() !== "") && table.rows.every((row) => row[k].trim() === "" || index.has(canonical(row[k]))),
  );
  if (candidates.length > 1) throw new CliError(`${file}: several columns could hold the true class (${candidates.join(", ")}); choose one with --true`, 2, USAGE);
  return candidates[0];
}

function plotPredictions(file: string, flags: Record<string, string | boolean | undefined>): { svg: string; summary: string } {
  const table = parseCsv(readText(file, "predictions file"), file);
  if (table.rows.length === 0) throw new Error(`${file}: no data rows (the file has only a header)`);
  const header = table.header;
  const str = (name: string): string | undefined => (typeof flags[name] === "string" ? (flags[name] as string) : undefined);
  const maxPanels = intFlag(flags, "max-sequences", USAGE, 1) ?? 6;
  const { seqCol, ids, groups } = groupRows(table, file, str("sequence"));

  let x: Float64Array | null = null;
  let xLabel = "step";
  if (str("time") !== undefined) {
    const axis = timeAxis(table, file, column(table, file, str("time")!, "time"), groups);
    x = axis.x;
    xLabel = axis.label;
    for (const g of groups) g.sort((a, b) => x![a] - x![b]);
  }
  const shown = groups.slice(0, maxPanels);
  const pick = (values: ArrayLike<number> | null, g: number[]) => g.map((r) => (values ? values[r] : NaN));
  const names = ids.slice(0, shown.length).map((id) => (seqCol < 0 ? path.basename(file) : `${header[seqCol]} ${id}`));
  const count = groups.length > shown.length ? `first ${shown.length} of ${groups.length} sequences` : `${shown.length} sequence(s)`;
  const numbers = (k: number): Float64Array =>
    Float64Array.from(table.rows, (row, r) => (row[k].trim() === "" ? NaN : parseNumberCell(row[k], file, table.lineNumbers[r], header[k])));

  const probCols = header.map((h, k) => [h, k] as const).filter(([h]) => h.startsWith("prob_"));
  const predCols = header.filter((h) => h.startsWith("pred_"));
  if (str("pred") === undefined && probCols.length > 0) {
    // Classification: the probability of every class over time, the true class as a band.
    const classes = probCols.map(([h]) => canonical(h.slice(5)));
    const probs = probCols.map(([, k]) => numbers(k));
    const index = new Map(classes.map((c, i) => [c, i]));
    const trueName = trueClassColumn(table, file, flags, index);
    let trueValues: Float64Array | null = null;
    if (trueName !== undefined) {
      const k = column(table, file, trueName, "true");
      trueValues = Float64Array.from(table.rows, (row, r) => {
        const label = row[k].trim();
        if (label === "") return NaN;
        const c = index.get(canonical(label));
        if (c === undefined) throw new Error(`${file} line ${table.lineNumbers[r]}, column ${JSON.stringify(trueName)}: ${JSON.stringify(label)} is not one of the classes (${classes.join(", ")})`);
        return c;
      });
    }
    const svg = classProbabilitiesSvg({
      probs: shown.map((g) => probs.map((p) => pick(p, g))),
      ...(trueValues ? { true: shown.map((g) => pick(trueValues, g)) } : {}),
      ...(x ? { time: shown.map((g) => pick(x, g)) } : {}),
      names,
      classes,
      xLabel,
      title: str("title"),
      maxPanels,
    });
    const what = `probabilities of ${classes.length} classes` + (trueName !== undefined ? `, true class from ${trueName}` : " (no column with true labels; name one with --true)");
    return { svg, summary: `${count}; ${what}` };
  }
  if (str("pred") === undefined && predCols.length === 0) {
    throw new CliError(`${file}: no prediction columns (pred_<target> or prob_<class>) and no --pred; columns: ${header.join(", ")}`, 2, USAGE);
  }
  const predName = str("pred") ?? predCols[0];
  const predValues = numbers(column(table, file, predName, "pred"));
  const trueName = str("true") ?? (predName.startsWith("pred_") && header.includes(predName.slice(5)) ? predName.slice(5) : undefined);
  const trueValues = trueName !== undefined ? numbers(column(table, file, trueName, "true")) : null;
  let what = trueName !== undefined ? `${predName} against ${trueName}` : `${predName} (no column with true values; name one with --true)`;
  const others = predCols.filter((c) => c !== predName);
  if (others.length > 0) what += `; other predictions: ${others.join(", ")} (choose with --pred)`;
  const svg = predictionsSvg({
    true: shown.map((g) => pick(trueValues, g)),
    pred: shown.map((g) => pick(predValues, g)),
    ...(x ? { time: shown.map((g) => pick(x, g)) } : {}),
    names,
    xLabel,
    yLabel: predName,
    title: str("title"),
    maxPanels,
  });
  return { svg, summary: `${count}; ${what}` };
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, FLAGS, USAGE);
  const out = flags.out;
  if (typeof out !== "string" || out === "") throw new CliError("--out FILE is required", 2, USAGE);
  const ext = path.extname(out).toLowerCase();
  if (ext !== ".svg" && ext !== ".png") throw new CliError(`--out must end in .svg or .png, got ${JSON.stringify(out)}`, 2, USAGE);
  if (flags["log-loss"] && flags["linear-loss"]) throw new CliError("--log-loss and --linear-loss exclude each other", 2, USAGE);

  let svg: string;
  let summary: string;
  if (typeof flags.predictions === "string") {
    if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0]}' (with --predictions, give no run log)`, 2, USAGE);
    for (const f of ["log-loss", "linear-loss"]) if (flags[f]) throw new CliError(`--${f} applies to run logs, not --predictions`, 2, USAGE);
    ({ svg, summary } = plotPredictions(flags.predictions, flags));
  } else {
    if (positionals.length !== 1) {
      throw new CliError(positionals.length === 0 ? "give a run log (RUN.jsonl) or --predictions PRED.csv" : `unexpected argument '${positionals[1]}'`, 2, USAGE);
    }
    for (const f of ["sequence", "time", "pred", "true", "max-sequences"]) {
      if (flags[f] !== undefined) throw new CliError(`--${f} applies to --predictions, not to run logs`, 2, USAGE);
    }
    const file = positionals[0];
    const records = parseRunLog(readText(file, "run log"), file);
    if (records.length === 0) throw new Error(`${file}: no records (the file is empty)`);
    const logLoss = flags["log-loss"] ? true : flags["linear-loss"] ? false : "auto";
    try {
      svg = trainingCurvesSvg(records, { title: typeof flags.title === "string" ? flags.title : `training curves: ${path.basename(file)}`, logLoss });
    } catch (e) {
      throw new Error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    summary = `${records.length} record(s)`;
  }

  const written = writeFigure(out, svg);
  if (written.note) {
    io.err(`ncps plot: ${written.note}\n`);
    return 1;
  }
  io.out(`wrote ${written.path} (${summary})\n`);
  return 0;
}
