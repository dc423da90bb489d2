/**
 * The suite's figures: how each cost grows with sequence length, hidden size and batch (one SVG per
 * size, one panel per workload, one line per model), on log-log axes since the sizes double and the
 * costs span decades. Inference is drawn as throughput (sequences/s) against batch, where time alone
 * would hide the gain from batching.
 */
import { figureSvg, type LineSeries, type Panel } from "../plot/svg-plot.js";
import type { BenchWhat } from "./bench-workload.js";
import type { ScalingResult, SuiteResult, WorkloadResult } from "./bench-suite.js";

export interface SuiteFigure {
  file: string;
  svg: string;
}

const WHAT_TITLES: Record<BenchWhat, string> = { train: "training step", infer: "batched inference", stream: "streaming step (batch 1)" };

interface Measure {
  label: string;
  value(r: WorkloadResult): number;
}

const msPerRun: Measure = { label: "ms per run (median)", value: (r) => r.median_ms };
const usPerStep: Measure = { label: "us per step (median)", value: (r) => r.us_per_step?.median ?? NaN };
const seqPerS: Measure = { label: "sequences/s (median)", value: (r) => r.seq_per_s ?? NaN };

function measureFor(axis: ScalingResult["axis"], what: BenchWhat): Measure {
  if (what === "stream") return usPerStep;
  if (what === "infer" && axis === "batch") return seqPerS;
  return msPerRun;
}

function scalingFigure(s: ScalingResult): SuiteFigure {
  const whats = [...new Set(s.series.map((x) => x.what))];
  const fixed = Object.entries(s.fixed)
    .filter(([k]) => k !== s.axis)
    .map(([k, v]) => `${k.replace("_", " ")} ${v}`)
    .join(", ");
  const panels: Panel[] = whats.map((what) => {
    const m = measureFor(s.axis, what);
    const series: LineSeries[] = s.series
      .filter((x) => x.what === what)
      .map((x) => ({ name: x.status === "ok" ? x.label : `${x.label} (not measured)`, x: x.points.map((p) => p.value), y: x.points.map((p) => (p.result ? m.value(p.result) : NaN)), markers: true }));
    return {
      title: WHAT_TITLES[what],
      xLabel: `${s.label} (log scale)`,
      yLabel: `${m.label}, log scale`,
      logX: true,
      logY: true,
      xTicks: s.values.map((v) => ({ value: v, label: String(v) })),
      series,
    };
  });
  return {
    file: `scaling-${s.axis.replace("_", "-")}.svg`,
    svg: figureSvg(panels, { title: `Cost against ${s.label} (${fixed})`, columns: Math.min(3, panels.length) }),
  };
}

export function suiteFigures(result: SuiteResult): SuiteFigure[] {
  return result.scaling.map(scalingFigure);
}
