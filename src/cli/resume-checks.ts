/**
 * `ncps train --resume`: the data of the resumed run must be prepared exactly as the checkpoint's was
 * (columns, categorical vocabularies, normalisation statistics, time scaling, classes, windows), or the
 * weights learned so far would meet inputs on a different scale without anyone noticing. A difference
 * stops the run naming the entries that differ, unless `--allow-new-normalization` accepts the new
 * preparation (which the run's checkpoint then stores).
 */
import type { CheckpointExtras } from "../train/checkpoint.js";
import type { PreparedData } from "./data-args.js";

/** The checkpoint entries that describe how data is prepared. */
const PREPARATION_ENTRIES = ["data", "normalization", "feature_names", "target_names", "classes"] as const;

/** At most this many differences are listed (a different file differs everywhere). */
const LISTED = 4;

/** The checkpoint entries as this run would store them (plain JSON, as read back from a file). */
function preparationOf(data: PreparedData): Record<(typeof PREPARATION_ENTRIES)[number], unknown> {
  const json = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  return {
    data: json(data.preparation),
    normalization: json(data.normalization),
    feature_names: json(data.featureNames),
    target_names: json(data.targetNames),
    classes: json(data.classes),
  };
}

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? "absent";
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Appends "path: checkpoint X, this data Y" for each leaf where `was` and `now` differ. */
function collect(was: unknown, now: unknown, where: string, out: string[]): void {
  if (out.length > LISTED) return;
  if (Array.isArray(was) && Array.isArray(now)) {
    if (was.length !== now.length) {
      out.push(`${where} has ${now.length} entries, the checkpoint's ${was.length}`);
      return;
    }
    for (let i = 0; i < was.length; i++) collect(was[i], now[i], `${where}[${i}]`, out);
    return;
  }
  if (isObject(was) && isObject(now)) {
    for (const key of new Set([...Object.keys(was), ...Object.keys(now)])) collect(was[key], now[key], `${where}.${key}`, out);
    return;
  }
  if (JSON.stringify(was) !== JSON.stringify(now)) out.push(`${where}: checkpoint ${show(was)}, this data ${show(now)}`);
}

/**
 * How the preparation of `data` differs from the one stored in the checkpoint's extras (empty when
 * it does not). Entries the checkpoint does not have (a checkpoint written by the API's fit) are not
 * compared.
 */
export function preparationDifferences(extras: CheckpointExtras, data: PreparedData): string[] {
  const now = preparationOf(data);
  const out: string[] = [];
  for (const entry of PREPARATION_ENTRIES) {
    if (extras[entry] === undefined) continue;
    collect(extras[entry], now[entry], entry, out);
  }
  return out;
}

/** The one-line refusal (or, with --allow-new-normalization, warning) for differences found. */
export function describePreparationChange(resumeFile: string, differences: readonly string[]): string {
  const listed = differences.slice(0, LISTED).join("; ");
  const more = differences.length > LISTED ? "; ..." : "";
  return `--resume ${resumeFile}: this data is prepared differently from the data the checkpoint was trained on (${listed}${more})`;
}
