/**
 * Writes RESULTS.md's "Paper reproduction" section from the result files `ncps reproduce --out DIR`
 * writes (default bench/results/reproduce/*.json), so that no figure there is typed by hand:
 *
 *   npx tsx scripts/results-md.ts                     # print the section
 *   npx tsx scripts/results-md.ts --into RESULTS.md   # replace it there (between the markers)
 *
 * Every result file is a row; the goals are judged on the best run of each task and model, the PhysioNet
 * timing on the latest ODE-RNN run and the CfC run just before it. Each row says how the run was shortened
 * (epochs against the paper's, runs, a --limit slice), our figure beside the paper's with the
 * difference, and the time per epoch beside the paper's. Goals of issue 10 are checked at the end.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../src/io/atomic.js";
import type { ReproduceResult } from "../src/cli/reproduce.js";
import { runConfig, TASKS } from "../src/cli/reproduce-tasks.js";

const BEGIN = "<!-- reproduce:begin -->";
const END = "<!-- reproduce:end -->";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const dir = opt("dir") ?? "bench/results/reproduce";
const into = opt("into");

type Stored = ReproduceResult & { file: string };
const all: Stored[] = readdirSync(dir)
  .filter((n) => n.endsWith(".json"))
  .map((f) => ({ ...(JSON.parse(readFileSync(path.join(dir, f), "utf8")) as ReproduceResult), file: f }));
/** the latest result per task, model and variant */
const results = new Map<string, Stored>();
for (const r of all) {
  const key = `${r.task}|${r.model}|${r.variant}`;
  const prev = results.get(key);
  if (!prev || prev.date < r.date) results.set(key, r);
}
const ordered = [...all].sort(
  (a, b) => Object.keys(TASKS).indexOf(a.task) - Object.keys(TASKS).indexOf(b.task) || a.model.localeCompare(b.model) || a.variant.localeCompare(b.variant) || a.date.localeCompare(b.date),
);

function ours(r: ReproduceResult): string {
  const pct = TASKS[r.task].percent;
  const v = (x: number) => (pct ? (100 * x).toFixed(2) : x.toFixed(4));
  return r.runs.length > 1 ? `${v(r.mean)} +- ${v(r.std)}` : v(r.mean);
}

function paper(r: ReproduceResult): string {
  if (!r.paper) return "-";
  return `${r.paper.label} ${r.paper.value}${r.paper.spread === null ? "" : ` +- ${r.paper.spread}`}`;
}

function gap(r: ReproduceResult): string {
  if (!r.paper) return "-";
  const task = TASKS[r.task];
  const mine = task.percent ? 100 * r.mean : r.mean;
  const d = mine - r.paper.value;
  const better = task.higherIsBetter ? d >= 0 : d <= 0;
  const unit = task.percent ? " points" : "";
  const rel = task.percent ? "" : ` (${((100 * d) / r.paper.value).toFixed(1)}%)`;
  return `${d >= 0 ? "+" : ""}${d.toFixed(task.percent ? 2 : 4)}${unit}${rel} ${better ? "meets" : "misses"}`;
}

function shortened(r: ReproduceResult): string {
  const parts = [`${r.epochs} of ${r.paper_epochs} epochs`, `${r.runs.length} of ${r.paper_runs} runs`];
  if (r.limit) parts.push(`first ${r.limit} sequences per split`);
  const paperLr = runConfig(TASKS[r.task], r.model).lr;
  if (r.config.lr !== paperLr) parts.push(`lr ${r.config.lr} instead of ${paperLr}`);
  return parts.join(", ");
}

const lines: string[] = [];
lines.push("## Paper reproduction (`ncps reproduce`)", "");
lines.push(
  "Written by `npx tsx scripts/results-md.ts --into RESULTS.md` from the result files in `bench/results/reproduce/` " +
    "(one JSON per run set, with its JSONL log). Every run below is SHORTENED against the paper's (fewer epochs, " +
    "one run instead of 3-5, some on a slice of the training data): the machine has 2 cores shared with other work. " +
    "These are the figures those short runs reached, not projections of full runs; a row that misses the paper's " +
    "figure after 3-8 epochs says nothing about what the paper's 50-200 epochs would reach.",
  "",
);
lines.push("| task | model (variant) | run (shortened) | ours | paper | ours - paper | s/epoch (ours, 1 thread) | paper min/epoch | parameters | date |");
lines.push("|---|---|---|---|---|---|---|---|---|---|");
for (const r of ordered) {
  const task = TASKS[r.task];
  const metric = `${r.metric}${task.percent ? " %" : ""}`;
  lines.push(
    `| ${r.task} (${metric}) | ${r.model} (${r.variant}) | ${shortened(r)} | ${ours(r)} | ${paper(r)} | ${gap(r)} | ${r.train_seconds_per_epoch.toFixed(1)} | ${r.paper?.minutesPerEpoch ?? "-"} | ${r.parameters.toLocaleString("en-US")} | ${r.date.slice(0, 16).replace("T", " ")} |`,
  );
}
lines.push("", "Commands (from the result files), machine and data:", "");
for (const r of ordered) lines.push(`- \`${r.command}\` (${r.date.slice(0, 10)}; ${r.machine}; ${r.data}) -> \`bench/results/reproduce/${r.file}\``);

// the ODE-RNN run and the CfC run just before it (one after the other in scripts/reproduce-short.sh)
const ode = results.get("physionet|ode-rnn|torch");
const cfc = ode
  ? all.filter((r) => r.task === "physionet" && r.model === "cfc" && r.variant === "torch" && r.date < ode.date).sort((a, b) => a.date.localeCompare(b.date)).at(-1)
  : undefined;
lines.push("", "### PhysioNet: CfC against ODE-RNN (dopri5) time per epoch", "");
if (cfc && ode) {
  const ratio = ode.train_seconds_per_epoch / cfc.train_seconds_per_epoch;
  lines.push(
    `Same machine, same data (${cfc.data}), one thread, the ODE-RNN run started right after the CfC run (${cfc.date.slice(0, 16)} and ${ode.date.slice(0, 16)} UTC): CfC (paper's setting: ${cfc.config.units} units, ` +
      `backbone ${cfc.config.backboneUnits} x ${cfc.config.backboneLayers}, ${cfc.parameters.toLocaleString("en-US")} parameters) ${cfc.train_seconds_per_epoch.toFixed(1)} s per epoch ` +
      `(mean of ${cfc.runs[0].epoch_seconds.length} epochs: ${cfc.runs[0].epoch_seconds.map((s) => s.toFixed(0)).join(", ")} s); ODE-RNN (${ode.config.units} units, dopri5 rtol 1e-3 atol 1e-4, ` +
      `${ode.parameters.toLocaleString("en-US")} parameters) ${ode.train_seconds_per_epoch.toFixed(1)} s per epoch (${ode.runs[0].epoch_seconds.length} epoch). ` +
      `Ratio ODE-RNN / CfC: **${ratio.toFixed(2)}x**; the paper reports 16.5 vs 0.1 min per epoch (165x; ` +
      `its ODE-RNN figure is taken from Rubanova et al.'s implementation on a GPU). Goal of issue 10 (CfC epoch >= 100x shorter): ` +
      `${ratio >= 100 ? "met" : `missed by a factor of ${(100 / ratio).toFixed(0)}`}. ` +
      "Epoch times on this shared machine vary with the other work running on it (the first epoch of a run is also the slowest).",
  );
} else lines.push("No PhysioNet CfC and ODE-RNN results in the same run yet.");

/** The goal on `task|model`, judged on the best result of all runs (any variant, length or rate). */
const goal = (key: string, label: string, target: number, pct: boolean, higher: boolean) => {
  const runs = all.filter((r) => `${r.task}|${r.model}` === key);
  if (runs.length === 0) return `- ${label}: target ${higher ? ">=" : "<="} ${target}${pct ? "%" : ""}: not run`;
  const r = runs.reduce((a, b) => ((higher ? b.mean > a.mean : b.mean < a.mean) ? b : a));
  const v = pct ? 100 * r.mean : r.mean;
  const ok = higher ? v >= target : v <= target;
  const by = Math.abs(v - target);
  return `- ${label}: target ${higher ? ">=" : "<="} ${target}${pct ? "%" : ""}; reached ${pct ? v.toFixed(2) : v.toFixed(4)}${pct ? "%" : ""} (variant ${r.variant}, ${shortened(r)}): ${ok ? "met" : `missed by ${pct ? `${by.toFixed(2)} points` : by.toFixed(4)}`}`;
};
lines.push("", "### Goals of issue 10", "");
lines.push(goal("xor|cfc", "XOR event-based accuracy, CfC", 99.42, true, true));
lines.push(goal("xor|cfc-mixed", "XOR event-based accuracy, CfC-mmRNN", 99.72, true, true));
lines.push(goal("walker2d|cfc", "Walker2d test MSE, CfC", 0.643, false, false));
lines.push(goal("walker2d|cfc-mixed", "Walker2d test MSE, CfC-mmRNN", 0.617, false, false));
lines.push(goal("et-smnist|cfc-mixed", "ET-sMNIST accuracy, CfC-mmRNN", 98.09, true, true));
lines.push(goal("physionet|cfc", "PhysioNet ROC-AUC, CfC", 0.839, false, true));

const section = `${BEGIN}\n${lines.join("\n")}\n${END}`;
if (!into) process.stdout.write(`${section}\n`);
else {
  const doc = readFileSync(into, "utf8");
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  const next = a >= 0 && b > a ? `${doc.slice(0, a)}${section}${doc.slice(b + END.length)}` : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileAtomic(into, next);
  process.stderr.write(`results-md: wrote ${ordered.length} results into ${into}\n`);
}
