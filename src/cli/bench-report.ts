/**
 * A suite result as Markdown tables: what `ncps bench --suite` prints, and what scripts/benchmarks-md.ts
 * puts into BENCHMARKS.md, so that no figure there is typed by hand. Every figure comes from the
 * suite.json given; the machine, Node version, date and command are the ones recorded in it.
 */
import type { ModelResult, PytorchWorkloadResult, ScalingResult, SuiteResult, WorkloadResult } from "./bench-suite.js";
import { PYTORCH_COUNTERPARTS } from "./bench-pytorch.js";
import type { BenchWhat } from "./bench-workload.js";

export interface ReportOptions {
  /** prefix of plot links (the folder of the plots relative to the document); no links when absent */
  plotPrefix?: string;
  /** heading level of the report's top heading (default 2) */
  headingLevel?: number;
}

/** Three significant digits, thousands grouped. */
export function sig(v: number): string {
  if (!Number.isFinite(v)) return "-";
  if (v === 0) return "0";
  const a = Math.abs(v);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : a >= 0.1 ? 3 : 4;
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const ratio = (r: { median: number } | undefined): string => (r ? `${r.median.toFixed(2)}x` : "-");
const spread = (lo: number, hi: number): string => `${sig(lo)}-${sig(hi)}`;

function timeCell(r: WorkloadResult | PytorchWorkloadResult | undefined, what: BenchWhat): string {
  if (!r) return "-";
  if (what === "stream" && r.us_per_step) return `${sig(r.us_per_step.median)} us (${spread(r.us_per_step.q1, r.us_per_step.q3)})`;
  return `${sig(r.median_ms)} ms (${spread(r.q1_ms, r.q3_ms)})`;
}

/** Short in a table cell; the reason is in the notes. */
const notMeasured = (m: ModelResult): string => (m.status === "unavailable" ? "not in this build" : "failed (see notes)");

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

function comparisonTable(models: ModelResult[]): string {
  const rows = models.map((m) => {
    if (m.status !== "ok") return [m.label, "-", notMeasured(m), "", "", "", "", ""];
    return [
      m.label,
      (m.parameters ?? 0).toLocaleString("en-US"),
      timeCell(m.train, "train"),
      m.key === "cfc" ? "1x" : ratio(m.train?.vs_cfc),
      `${timeCell(m.infer, "infer")}; ${m.infer?.seq_per_s ? Math.round(m.infer.seq_per_s).toLocaleString("en-US") : "-"} seq/s`,
      m.key === "cfc" ? "1x" : ratio(m.infer?.vs_cfc),
      timeCell(m.stream, "stream"),
      m.key === "cfc" ? "1x" : ratio(m.stream?.vs_cfc),
    ];
  });
  return table(["model", "parameters", "training step (IQR)", "/ CfC", "inference (IQR)", "/ CfC", "streaming step (IQR)", "/ CfC"], rows);
}

/** Ratio with its per-round extremes: the ratio's median (min-max over rounds). */
const ratioSpread = (r: { median: number; min: number; max: number } | undefined): string => (r ? `${r.median.toFixed(2)}x (${r.min.toFixed(2)}-${r.max.toFixed(2)})` : "-");

/** The PyTorch counterparts timed in the same rounds: their times and ncps-ts's over them. */
function pytorchTable(models: ModelResult[]): string | null {
  const paired = models.filter((m) => m.pytorch);
  if (paired.length === 0) return null;
  const rows = paired.map((m) => {
    const t = m.pytorch!;
    const head = [m.label, `${PYTORCH_COUNTERPARTS[m.key] ?? t.model.replace(/\(.*$/s, "")}${t.parameters !== undefined ? `, ${t.parameters.toLocaleString("en-US")} parameters` : ""}`];
    if (t.status !== "ok" && !t.train && !t.infer && !t.stream) return [...head, "failed (see notes)", "", "", "", "", ""];
    return [...head, ...(["train", "infer", "stream"] as const).flatMap((what) => [timeCell(t[what], what), ratioSpread(t[what]?.ratio)])];
  });
  const head = ["model", "PyTorch model"];
  for (const what of ["training step", "inference", "streaming step"]) head.push(`${what}: PyTorch ncps (IQR)`, "ratio (ncps-ts / PyTorch)");
  return table(head, rows);
}

function solverTable(models: ModelResult[]): string | null {
  const ode = models.filter((m) => m.solver);
  if (ode.length === 0) return null;
  const work = (r: WorkloadResult | undefined) => (r?.solver ? `${sig(r.solver.accepted_per_observation)} / ${sig(r.solver.rejected_per_observation)} / ${sig(r.solver.evaluations_per_observation)}` : "-");
  const rows = ode.map((m) => {
    const s = m.solver!;
    const setting = s.solver === "dopri5" ? `dopri5, rtol ${s.rtol}, atol ${s.atol}` : `${s.solver}, ${s.stepsPerGap ?? 1} step(s) per observation`;
    if (m.status !== "ok") return [m.label, setting, notMeasured(m), "", "", "", ""];
    return [m.label, setting, work(m.train), work(m.stream), ratio(m.train?.vs_rk4), ratio(m.infer?.vs_rk4), ratio(m.stream?.vs_rk4)];
  });
  return table(["model", "solver", "training forward: accepted / rejected / evaluations per observation", "streaming: per step", "time / rk4: train", "infer", "stream"], rows);
}

function gemmTable(result: SuiteResult): string {
  const probes = result.gemm.map((g) => `${g.m}x${g.k}x${g.n}: ${sig(g.gflops.median)} GFLOP/s (${spread(g.gflops.min, g.gflops.max)})`).join("; ");
  // a model without matrix products (LTC's synapses are fused kernels) has no rate to show
  const cell = (r: WorkloadResult | undefined) => (r && r.gemm_gflop_per_run > 0 ? `${sig(r.gemm_gflops)} (${Math.round(r.gemm_fraction * 100)}%)` : "-");
  const rows = result.models.filter((m) => m.status === "ok").map((m) => [m.label, cell(m.train), cell(m.infer), cell(m.stream)]);
  return [
    `Engine gemm in the same run (M x K x N, median over rounds, min-max): ${probes}. Model rates are matrix-product FLOPs counted over one run, over the median time, and in parentheses that rate as a share of the fastest batched probe (streaming: of the batch-1 probe).`,
    "",
    table(["model", "training GFLOP/s", "inference GFLOP/s", "streaming GFLOP/s"], rows),
  ].join("\n");
}

function scalingTable(s: ScalingResult, plotPrefix: string | undefined, file: string | undefined): string {
  const rows = s.series.map((x) => {
    const cells = x.points.map((p) => {
      if (!p.result) return "-";
      if (x.what === "stream") return `${sig(p.result.us_per_step!.median)} us`;
      return `${sig(p.result.median_ms)} ms`;
    });
    return [`${x.label}${x.status === "ok" ? "" : " (not measured)"}`, x.what, ...cells];
  });
  const fixed = Object.entries(s.fixed).filter(([k]) => k !== s.axis).map(([k, v]) => `${k.replace("_", " ")} ${v}`).join(", ");
  const lines = [`Against ${s.label} (${fixed}); median per run (streaming: per step).`, "", table(["model", "what", ...s.values.map(String)], rows)];
  if (plotPrefix !== undefined && file) lines.push("", `![cost against ${s.label}](${plotPrefix}${file})`);
  return lines.join("\n");
}

export function suiteMarkdown(result: SuiteResult, options: ReportOptions = {}): string {
  const h = "#".repeat(options.headingLevel ?? 2);
  const c = result.config;
  const m = result.machine;
  const out: string[] = [
    `${h} Suite "${result.suite}"${result.quick ? " (quick: tiny sizes, not for comparison)" : ""}, ${result.date.slice(0, 10)}`,
    "",
    "```sh",
    result.command,
    "```",
    "",
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB; Node ${m.node} (${m.platform}); engine ${result.backend}${result.wasm_variant ? ` (${result.wasm_variant})` : ""}. ` +
      `Run: ${result.runtime_s.toFixed(0)} s, ${c.rounds} rounds after a counted run and ${c.warmup} warm-up run(s) per workload, peak memory ${result.peak_rss_mib} MiB.`,
    "",
    `Sizes: batch ${c.batch}, sequence length ${c.seq_len}, ${c.input_size} inputs, ${c.hidden} hidden units, CfC backbone ${c.backbone_units} x ${c.backbone_layers}, LTC ${c.ode_unfolds} unfolds, streams of ${c.stream_steps} steps. ` +
      `Each cell: median (interquartile range); "/ CfC" is the model's time over CfC's, per round, median over rounds.`,
    "",
    comparisonTable(result.models),
  ];
  const torch = pytorchTable(result.models);
  const run = result.pytorch;
  if (torch && run) {
    out.push(
      "",
      `${h}# Against PyTorch ncps, same run`,
      "",
      `PyTorch ${run.torch} (Python ${run.python}, ${run.threads} thread), the real ncps 1.0.1 and torch.nn GRU and LSTM, float32, same sizes and workloads; each PyTorch workload timed back to back with its ncps-ts counterpart in every round. ` +
        `Ratio: ncps-ts's time over PyTorch's per round, median (min-max over rounds); below 1, ncps-ts is faster. The ncps-ts figures are those of the table above.`,
      "",
      torch,
    );
  } else if (run && run.status === "skipped") out.push("", `PyTorch ncps: not measured in this run (${run.reason}).`);
  const solver = solverTable(result.models);
  if (solver) out.push("", `${h}# ODE solvers`, "", solver);
  out.push("", `${h}# Matrix-product rate`, "", gemmTable(result));
  if (result.scaling.length) {
    out.push("", `${h}# Scaling (${c.scaling_models.join(", ")})`);
    for (const s of result.scaling) {
      const file = result.plots.find((p) => p === `scaling-${s.axis.replace("_", "-")}.svg`);
      out.push("", scalingTable(s, options.plotPrefix, file));
    }
  }
  out.push("", `${h}# Notes`, "", ...result.notes.map((n) => `- ${n}`));
  return out.join("\n") + "\n";
}

/** The terminal summary of `ncps bench --suite`: the same tables, without plot links. */
export function summarizeSuite(result: SuiteResult): string {
  return suiteMarkdown(result);
}
