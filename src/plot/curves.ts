/**
 * The two figures users look at after training: learning curves from a run log, and predicted
 * against true series for a few sequences (small multiples).
 *
 * Run logs are JSON lines, one record per epoch: `{epoch, train_loss, valid_loss?, <metric>...,
 * lr?, ...}`. Keys ending in "loss" share the loss panel; every other numeric key is a metric, and
 * train_/valid_ variants of one metric (train_acc, valid_acc) share a panel, since metrics differ in
 * scale (accuracy in [0, 1], MAE in the target's units). The learning rate gets its own log panel when
 * it changes. Bookkeeping keys (epoch, step, times) are not plotted. Epochs and steps get whole-number
 * ticks, and every panel marks the best epoch: the last record with `"improved": true` (as `ncps train`
 * writes them), else the lowest validation loss.
 */
import { figureSvg, type LineSeries, PALETTE, type Panel, type VerticalMark } from "./svg-plot.js";

export type RunRecord = Record<string, unknown>;

/** Parses JSON lines (blank lines skipped); errors name the file and line. */
export function parseRunLog(text: string, fileName: string): RunRecord[] {
  const records: RunRecord[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new Error(`${fileName} line ${i + 1}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new Error(`${fileName} line ${i + 1}: expected a JSON object per line, got ${line.length > 60 ? line.slice(0, 60) + "..." : line}`);
    }
    records.push(value as RunRecord);
  });
  return records;
}

const BOOKKEEPING = new Set(["epoch", "step", "iteration", "batch", "lr", "learning_rate", "time", "timestamp", "seconds", "elapsed", "duration", "wall_time", "epoch_time", "samples", "seed"]);
const isTimeKey = (k: string): boolean => /(^|_)(time|seconds|secs|elapsed|duration|timestamp)$|_s$|_ms$/.test(k);
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
/** Largest over smallest (a loop: logs can hold more values than a spread call takes). */
const ratio = (values: readonly number[]): number => values.reduce((a, b) => Math.max(a, b), -Infinity) / values.reduce((a, b) => Math.min(a, b), Infinity);

/** A metric's panel: train_acc and valid_acc go together under "acc". */
function metricGroup(key: string): string {
  return key.replace(/^(train|training|valid|validation|val|test)_/, "");
}

export interface CurvesOptions {
  readonly title?: string;
  /** Log scale for the loss panel: default "auto" (all losses positive and spanning > 20x). */
  readonly logLoss?: boolean | "auto";
  /** The epoch (x value) to mark as the best; default from the records (see the module comment); null: none. */
  readonly bestEpoch?: number | null;
}

const VALID_LOSS_KEYS = ["valid_loss", "val_loss", "validation_loss"];

/** The x of the best record: the last one marked improved, else the lowest validation loss; null if neither. */
function bestX(rows: readonly RunRecord[], xs: readonly number[]): number | null {
  let improved: number | null = null;
  rows.forEach((r, i) => {
    if (r.improved === true) improved = xs[i];
  });
  if (improved !== null) return improved;
  const key = VALID_LOSS_KEYS.find((k) => rows.some((r) => isNumber(r[k])));
  if (!key) return null;
  let best: number | null = null;
  let bestValue = Infinity;
  rows.forEach((r, i) => {
    const v = r[key];
    if (isNumber(v) && v < bestValue) [best, bestValue] = [xs[i], v];
  });
  return best;
}

/** Learning curves from run-log records. */
export function trainingCurvesSvg(records: readonly RunRecord[], options: CurvesOptions = {}): string {
  // x: epoch when records carry it (other records, e.g. a final summary, are left out), else step, else order.
  const xKey = records.some((r) => isNumber(r.epoch)) ? "epoch" : records.some((r) => isNumber(r.step)) ? "step" : null;
  const rows = xKey ? records.filter((r) => isNumber(r[xKey])) : [...records];
  const xs = rows.map((r, i) => (xKey ? (r[xKey] as number) : i + 1));

  const keys: string[] = [];
  for (const r of rows) for (const [k, v] of Object.entries(r)) if (isNumber(v) && !keys.includes(k)) keys.push(k);
  const lossKeys = keys.filter((k) => /loss$/.test(k));
  const metricKeys = keys.filter((k) => !lossKeys.includes(k) && !BOOKKEEPING.has(k) && !isTimeKey(k));
  const lrKey = keys.find((k) => k === "lr" || k === "learning_rate");
  if (lossKeys.length === 0 && metricKeys.length === 0) {
    throw new Error(`no loss or metric values to plot (found keys: ${keys.join(", ") || "none"}); expected records like {"epoch": 1, "train_loss": 0.5}`);
  }

  const seriesOf = (key: string, name = key): LineSeries => ({
    name,
    x: xs,
    y: rows.map((r) => (isNumber(r[key]) ? (r[key] as number) : NaN)),
    dashed: /^(valid|validation|val|test)_/.test(key),
    markers: rows.length <= 1,
  });
  const xLabel = xKey ?? "record";
  const best = options.bestEpoch === undefined ? bestX(rows, xs) : options.bestEpoch;
  const marks: VerticalMark[] = best === null ? [] : [{ x: best, label: `best ${xKey ?? "record"} ${best}` }];
  const axes = { integerX: xs.every(Number.isInteger), marks };
  const panels: Panel[] = [];
  if (lossKeys.length > 0) {
    const values = lossKeys.flatMap((k) => rows.map((r) => r[k]).filter(isNumber));
    const positive = values.every((v) => v > 0);
    const spread = positive ? ratio(values) : 0;
    const logY = options.logLoss === "auto" || options.logLoss === undefined ? positive && spread > 20 : options.logLoss && positive;
    panels.push({ title: "loss", series: lossKeys.map((k) => seriesOf(k)), xLabel, yLabel: logY ? "loss (log scale)" : "loss", logY, ...axes });
  }
  const groups = new Map<string, string[]>();
  for (const k of metricKeys) {
    const g = metricGroup(k);
    groups.set(g, [...(groups.get(g) ?? []), k]);
  }
  for (const [group, members] of groups) panels.push({ title: group, series: members.map((k) => seriesOf(k)), xLabel, yLabel: group, ...axes });
  if (lrKey) {
    const lrs = rows.map((r) => r[lrKey]).filter(isNumber);
    if (lrs.length > 1 && lrs.some((v) => v !== lrs[0])) {
      const positive = lrs.every((v) => v > 0);
      panels.push({ title: "learning rate", series: [seriesOf(lrKey)], xLabel, yLabel: lrKey, logY: positive && ratio(lrs) > 20, legend: false, integerX: axes.integerX });
    }
  }
  return figureSvg(panels, { title: options.title ?? "training curves", columns: panels.length > 1 ? 2 : 1 });
}

export interface PredictionsInput {
  /** Per sequence, the true values (NaN where unknown). */
  readonly true: ReadonlyArray<ArrayLike<number>>;
  /** Per sequence, the predictions (NaN where none). */
  readonly pred: ReadonlyArray<ArrayLike<number>>;
  /** Per sequence, the x values (time); default the step index. */
  readonly time?: ReadonlyArray<ArrayLike<number>>;
  /** Per sequence, a name for its panel title. */
  readonly names: readonly string[];
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** Classification: class index values get these names on the y axis. */
  readonly classes?: readonly string[];
  /** At most this many panels (the first sequences); default 6. */
  readonly maxPanels?: number;
}

/** Predicted against true values for the first few sequences, one panel each. */
export function predictionsSvg(input: PredictionsInput): string {
  const n = input.true.length;
  if (input.pred.length !== n || input.names.length !== n || (input.time && input.time.length !== n)) {
    throw new Error(
      `predictionsSvg: got ${n} true, ${input.pred.length} predicted${input.time ? `, ${input.time.length} time` : ""} series and ${input.names.length} names; expected one of each per sequence`,
    );
  }
  if (n === 0) throw new Error("predictionsSvg: no sequences to plot");
  const shown = Math.min(n, input.maxPanels ?? 6);
  const classes = input.classes;
  const panels: Panel[] = [];
  for (let i = 0; i < shown; i++) {
    const t = input.true[i];
    const p = input.pred[i];
    if (t.length !== p.length || (input.time && input.time[i].length !== t.length)) {
      throw new Error(`predictionsSvg: sequence ${JSON.stringify(input.names[i])} has ${t.length} true, ${p.length} predicted${input.time ? ` and ${input.time[i].length} time` : ""} values`);
    }
    const x = input.time ? input.time[i] : Array.from({ length: t.length }, (_, k) => k);
    panels.push({
      title: input.names[i],
      series: [
        { name: "true", x, y: t, color: "#222222", markers: !!classes && t.length <= 60 },
        { name: "predicted", x, y: p, color: "#d62728", dashed: true, markers: !!classes && p.length <= 60 },
      ],
      xLabel: input.xLabel ?? (input.time ? "time" : "step"),
      yLabel: input.yLabel,
      ...(classes ? { yTicks: classes.map((label, value) => ({ value, label })) } : {}),
    });
  }
  const more = n > shown ? ` (first ${shown} of ${n} sequences)` : "";
  return figureSvg(panels, { title: (input.title ?? "predicted vs true") + more, columns: shown > 1 ? 2 : 1 });
}

export interface ProbabilitiesInput {
  /** Per sequence, per class, the predicted probability at each step (NaN where none). */
  readonly probs: ReadonlyArray<ReadonlyArray<ArrayLike<number>>>;
  /** Per sequence, the true class index at each step (NaN where unknown); absent when no labels are known. */
  readonly true?: ReadonlyArray<ArrayLike<number>>;
  /** Per sequence, the x values (time); default the step index. */
  readonly time?: ReadonlyArray<ArrayLike<number>>;
  /** Per sequence, a name for its panel title. */
  readonly names: readonly string[];
  readonly classes: readonly string[];
  readonly title?: string;
  readonly xLabel?: string;
  /** At most this many panels (the first sequences); default 6. */
  readonly maxPanels?: number;
}

/** Where the true class is drawn: a band just above probability 1, in the class's colour. */
const TRUE_BAND = 1.07;

/**
 * Class probabilities over time for the first few sequences, one panel each: a line per class, and the
 * true class as a band of the class's colour above the lines.
 */
export function classProbabilitiesSvg(input: ProbabilitiesInput): string {
  const n = input.probs.length;
  if (input.names.length !== n || (input.true && input.true.length !== n) || (input.time && input.time.length !== n)) {
    throw new Error(`classProbabilitiesSvg: got ${n} probability series, ${input.names.length} names${input.true ? `, ${input.true.length} true` : ""}${input.time ? `, ${input.time.length} time` : ""}; expected one of each per sequence`);
  }
  if (n === 0) throw new Error("classProbabilitiesSvg: no sequences to plot");
  const C = input.classes.length;
  const shown = Math.min(n, input.maxPanels ?? 6);
  const panels: Panel[] = [];
  for (let i = 0; i < shown; i++) {
    const probs = input.probs[i];
    if (probs.length !== C) throw new Error(`classProbabilitiesSvg: sequence ${JSON.stringify(input.names[i])} has ${probs.length} probability series for ${C} classes`);
    const steps = probs[0]?.length ?? 0;
    const x = input.time ? input.time[i] : Array.from({ length: steps }, (_, k) => k);
    const truth = input.true?.[i];
    if (x.length !== steps || probs.some((p) => p.length !== steps) || (truth && truth.length !== steps)) {
      throw new Error(`classProbabilitiesSvg: sequence ${JSON.stringify(input.names[i])} has series of different lengths`);
    }
    const color = (c: number) => PALETTE[c % PALETTE.length];
    const series: LineSeries[] = input.classes.map((cls, c) => ({ name: `P(${cls})`, x, y: probs[c], color: color(c), markers: steps <= 40 }));
    if (truth) {
      input.classes.forEach((cls, c) => {
        const y = Array.from({ length: steps }, (_, k) => (truth[k] === c ? TRUE_BAND : NaN));
        series.push({ name: `true: ${cls}`, x, y, color: color(c), inLegend: false, dashed: true });
      });
    }
    panels.push({
      title: input.names[i],
      series,
      xLabel: input.xLabel ?? (input.time ? "time" : "step"),
      yLabel: truth ? "probability (band: true class)" : "probability",
      yRange: [0, 1.12],
      yTicks: [0, 0.2, 0.4, 0.6, 0.8, 1].map((value) => ({ value, label: String(value) })),
    });
  }
  const more = n > shown ? ` (first ${shown} of ${n} sequences)` : "";
  return figureSvg(panels, { title: (input.title ?? "class probabilities") + more, columns: shown > 1 ? 2 : 1 });
}
