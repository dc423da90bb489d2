/**
 * A small, dependency-free SVG line-chart renderer: one or more panels (a grid of small multiples),
 * each with several series, axes with round-number ticks, grid lines, axis labels, a title and a
 * legend beside the plot area (so it never hides data). Either axis can be logarithmic (loss curves;
 * costs against sizes that double).
 *
 * Non-finite values (and values <= 0 on a log axis) break a line instead of bending it to zero;
 * points with no neighbour on either side are drawn as dots so they stay visible.
 *
 * Stable class names make the output easy to style and to inspect: `panel`, `series` (with
 * `data-series="<name>"`), `legend`, `legend-label`, `tick-label`, `axis-label`, `panel-title`.
 */
import { escapeXml } from "../util/xml.js";

export interface LineSeries {
  readonly name: string;
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  /** Default: the next colour of the matplotlib tab10 cycle. */
  readonly color?: string;
  readonly dashed?: boolean;
  /** A dot at every point (for short or step-like series). */
  readonly markers?: boolean;
  /** Listed in the legend (default true). */
  readonly inLegend?: boolean;
}

/** A vertical marker line across the plot area (e.g. the best epoch), with a label at its top. */
export interface VerticalMark {
  readonly x: number;
  readonly label: string;
}

export interface Panel {
  readonly series: readonly LineSeries[];
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly logY?: boolean;
  /** Logarithmic x axis (values <= 0 are left out). */
  readonly logX?: boolean;
  /** Fixed y range instead of one fitted to the data. */
  readonly yRange?: readonly [number, number];
  /** Ticks with their own labels (e.g. class names) instead of numbers. */
  readonly yTicks?: ReadonlyArray<{ readonly value: number; readonly label: string }>;
  /** x ticks of your choosing (e.g. the sizes measured, on a log axis) instead of automatic ones. */
  readonly xTicks?: ReadonlyArray<{ readonly value: number; readonly label: string }>;
  /** Default: shown when any series has a name. */
  readonly legend?: boolean;
  /** Only whole numbers on the x axis (epochs, steps). */
  readonly integerX?: boolean;
  readonly marks?: readonly VerticalMark[];
}

export interface FigureOptions {
  readonly title?: string;
  /** Panels per row; default 1. */
  readonly columns?: number;
  readonly panelWidth?: number;
  readonly panelHeight?: number;
}

export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/** Text for XML: escaped, with the control characters XML 1.0 cannot hold removed. */
export function xmlText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return escapeXml(s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, ""));
}

const num = (v: number): string => String(Math.round(v * 100) / 100);

/** Rough width of text in the sans-serif font used here (average glyph ~0.58 em). */
const textWidth = (s: string, size: number): number => s.length * size * 0.58;

// ---------------------------------------------------------------------------------------------
// Ticks

/** A round step (1, 2 or 5 times a power of ten) giving about `target` intervals over `span`. */
export function niceStep(span: number, target = 5): number {
  const raw = span / Math.max(1, target);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const f = raw / magnitude;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * magnitude;
}

/** Multiples of a nice step inside [min, max] (computed as k * step, so they do not drift). */
export function niceTicks(min: number, max: number, target = 5): { ticks: number[]; step: number } {
  const step = niceStep(max - min, target);
  const ticks: number[] = [];
  const first = Math.ceil(min / step - 1e-9);
  const last = Math.floor(max / step + 1e-9);
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toPrecision(12)));
  return { ticks, step };
}

/** Powers of ten in [min, max], with 2x and 5x in between when the range spans few decades. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min) + 1e-9);
  const hi = Math.ceil(Math.log10(max) - 1e-9);
  const stride = Math.max(1, Math.ceil((hi - lo) / 8));
  const mantissas = hi - lo <= 2 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e += mantissas.length > 1 ? 1 : stride) {
    for (const m of mantissas) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) ticks.push(v);
    }
  }
  return ticks;
}

/** A tick label with as many decimals as the step needs; exponents for very large or small values. */
export function formatTick(v: number, step: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(Math.max(0, Math.min(6, Math.ceil(-Math.log10(step / a) - 1e-9)))).replace(/\.?0+e/, "e").replace("e+", "e");
  const decimals = Math.max(0, Math.min(10, Math.ceil(-Math.log10(step) - 1e-9)));
  return v.toFixed(decimals);
}

function formatLogTick(v: number): string {
  const e = Math.log10(v);
  if (e >= -4 && e <= 5) return String(Number(v.toPrecision(6)));
  return v.toExponential().replace(/\.?0+e/, "e").replace("e+", "e");
}

// ---------------------------------------------------------------------------------------------
// Scales

interface Axis {
  min: number;
  max: number;
  log: boolean;
  ticks: Array<{ value: number; label: string }>;
}

function plottable(v: number, log: boolean): boolean {
  return Number.isFinite(v) && (!log || v > 0);
}

function widen(min: number, max: number, log: boolean): [number, number] {
  if (min < max) return [min, max];
  if (log) return [min / 2, min * 2];
  const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
  return [min - pad, min + pad];
}

function xAxis(panel: Panel): Axis {
  const log = panel.logX ?? false;
  let min = Infinity;
  let max = -Infinity;
  for (const s of panel.series) {
    for (let i = 0; i < Math.min(s.x.length, s.y.length); i++) {
      const x = s.x[i];
      if (plottable(x, log) && plottable(s.y[i], panel.logY ?? false)) {
        min = Math.min(min, x);
        max = Math.max(max, x);
      }
    }
  }
  for (const m of panel.marks ?? []) {
    if (plottable(m.x, log)) [min, max] = [Math.min(min, m.x), Math.max(max, m.x)];
  }
  if (min > max) [min, max] = log ? [1, 10] : [0, 1];
  [min, max] = widen(min, max, log);
  if (panel.xTicks) return { min, max, log, ticks: panel.xTicks.map((t) => ({ value: t.value, label: t.label })) };
  if (log) return { min, max, log, ticks: logTicks(min, max).map((v) => ({ value: v, label: formatLogTick(v) })) };
  let { ticks, step } = niceTicks(min, max, 6);
  if (panel.integerX && step < 1) {
    // a step below one would label fractions of an epoch
    step = 1;
    ticks = [];
    for (let v = Math.ceil(min - 1e-9); v <= Math.floor(max + 1e-9); v++) ticks.push(v);
  }
  return { min, max, log, ticks: ticks.map((v) => ({ value: v, label: formatTick(v, step) })) };
}

function yAxis(panel: Panel): Axis {
  const log = panel.logY ?? false;
  let min = Infinity;
  let max = -Infinity;
  if (panel.yRange) [min, max] = panel.yRange;
  else {
    for (const s of panel.series) {
      for (let i = 0; i < Math.min(s.x.length, s.y.length); i++) {
        const y = s.y[i];
        if (plottable(y, log) && plottable(s.x[i], panel.logX ?? false)) {
          min = Math.min(min, y);
          max = Math.max(max, y);
        }
      }
    }
    if (min > max) [min, max] = log ? [1, 10] : [0, 1];
  }
  [min, max] = widen(min, max, log);
  if (panel.yTicks) {
    for (const t of panel.yTicks) {
      if (!panel.yRange) {
        min = Math.min(min, t.value);
        max = Math.max(max, t.value);
      }
    }
    // Room above and below the outermost categories so lines on them stay visible.
    const pad = panel.yRange ? 0 : (max - min) * 0.08;
    return { min: min - pad, max: max + pad, log, ticks: panel.yTicks.map((t) => ({ value: t.value, label: t.label })) };
  }
  if (log) {
    // Whole decades (or 2x/5x) around the data.
    const lo = 10 ** Math.floor(Math.log10(min) + 1e-9);
    const hi = 10 ** Math.ceil(Math.log10(max) - 1e-9);
    const ticks = logTicks(lo, hi);
    return { min: lo, max: hi, log, ticks: ticks.map((v) => ({ value: v, label: formatLogTick(v) })) };
  }
  // Extend the axis to the enclosing ticks, so the data ends on labelled values.
  const step = niceStep(max - min, 5);
  const lo = panel.yRange ? min : Math.floor(min / step + 1e-9) * step;
  const hi = panel.yRange ? max : Math.ceil(max / step - 1e-9) * step;
  const { ticks, step: tickStep } = niceTicks(lo, hi, 5);
  return { min: lo, max: hi, log, ticks: ticks.map((v) => ({ value: v, label: formatTick(v, tickStep) })) };
}

function project(axis: Axis, v: number, from: number, to: number): number {
  const f = axis.log ? (Math.log10(v) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min)) : (v - axis.min) / (axis.max - axis.min);
  return from + f * (to - from);
}

// ---------------------------------------------------------------------------------------------
// Drawing

const FONT = 12;
const TITLE_FONT = 14;

function legendWidth(panel: Panel): number {
  if (!showLegend(panel)) return 0;
  return Math.min(220, Math.max(...legendSeries(panel).map((s) => textWidth(s.name, FONT))) + 44);
}

function legendSeries(panel: Panel): LineSeries[] {
  return panel.series.filter((s) => s.inLegend !== false);
}

function showLegend(panel: Panel): boolean {
  return (panel.legend ?? panel.series.some((s) => s.name !== "")) && legendSeries(panel).length > 0;
}

function renderPanel(panel: Panel, left: number, top: number, width: number, height: number, id: number): string {
  const out: string[] = [];
  const x = xAxis(panel);
  const y = yAxis(panel);
  const yLabelWidth = Math.max(0, ...y.ticks.map((t) => textWidth(t.label, FONT - 1)));
  const plotLeft = left + (panel.yLabel ? 22 : 6) + yLabelWidth + 10;
  const plotRight = left + width - 12 - legendWidth(panel);
  const plotTop = top + (panel.title ? 30 : 12);
  const plotBottom = top + height - (panel.xLabel ? 44 : 26);
  const px = (v: number) => project(x, v, plotLeft, plotRight);
  const py = (v: number) => project(y, v, plotBottom, plotTop);

  out.push(`<g class="panel">`);
  out.push(`<clipPath id="plot-area-${id}"><rect x="${num(plotLeft)}" y="${num(plotTop)}" width="${num(plotRight - plotLeft)}" height="${num(plotBottom - plotTop)}"/></clipPath>`);
  if (panel.title) {
    out.push(`<text class="panel-title" x="${num((plotLeft + plotRight) / 2)}" y="${num(top + 18)}" text-anchor="middle" font-size="${TITLE_FONT}" font-weight="bold">${xmlText(panel.title)}</text>`);
  }
  // Grid and ticks.
  for (const t of y.ticks) {
    const yy = py(t.value);
    if (yy < plotTop - 0.5 || yy > plotBottom + 0.5) continue;
    out.push(`<line x1="${num(plotLeft)}" x2="${num(plotRight)}" y1="${num(yy)}" y2="${num(yy)}" stroke="#e6e6e6"/>`);
    out.push(`<text class="tick-label" x="${num(plotLeft - 6)}" y="${num(yy + 4)}" text-anchor="end" font-size="${FONT - 1}">${xmlText(t.label)}</text>`);
  }
  for (const t of x.ticks) {
    const xx = px(t.value);
    if (xx < plotLeft - 0.5 || xx > plotRight + 0.5) continue;
    out.push(`<line x1="${num(xx)}" x2="${num(xx)}" y1="${num(plotTop)}" y2="${num(plotBottom)}" stroke="#f0f0f0"/>`);
    out.push(`<line x1="${num(xx)}" x2="${num(xx)}" y1="${num(plotBottom)}" y2="${num(plotBottom + 4)}" stroke="#444"/>`);
    out.push(`<text class="tick-label" x="${num(xx)}" y="${num(plotBottom + 16)}" text-anchor="middle" font-size="${FONT - 1}">${xmlText(t.label)}</text>`);
  }
  out.push(`<rect x="${num(plotLeft)}" y="${num(plotTop)}" width="${num(plotRight - plotLeft)}" height="${num(plotBottom - plotTop)}" fill="none" stroke="#444"/>`);
  if (panel.xLabel) {
    out.push(`<text class="axis-label" x="${num((plotLeft + plotRight) / 2)}" y="${num(plotBottom + 36)}" text-anchor="middle" font-size="${FONT}">${xmlText(panel.xLabel)}</text>`);
  }
  if (panel.yLabel) {
    const cy = (plotTop + plotBottom) / 2;
    out.push(`<text class="axis-label" x="${num(left + 14)}" y="${num(cy)}" text-anchor="middle" font-size="${FONT}" transform="rotate(-90 ${num(left + 14)} ${num(cy)})">${xmlText(panel.yLabel)}</text>`);
  }

  // Series.
  let anyPoint = false;
  const colors = panel.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
  panel.series.forEach((s, i) => {
    const n = Math.min(s.x.length, s.y.length);
    const ok = (k: number) => k >= 0 && k < n && plottable(s.x[k], x.log) && plottable(s.y[k], y.log);
    let d = "";
    const dots: string[] = [];
    for (let k = 0; k < n; k++) {
      if (!ok(k)) continue;
      anyPoint = true;
      const [xx, yy] = [num(px(s.x[k])), num(py(s.y[k]))];
      d += `${ok(k - 1) ? "L" : "M"}${xx},${yy} `;
      if (s.markers || (!ok(k - 1) && !ok(k + 1))) dots.push(`<circle cx="${xx}" cy="${yy}" r="2.5" fill="${xmlText(colors[i])}"/>`);
    }
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    out.push(
      `<g clip-path="url(#plot-area-${id})"><path class="series" data-series="${xmlText(s.name)}" d="${d.trim()}" fill="none" stroke="${xmlText(colors[i])}" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round"${dash}><title>${xmlText(s.name)}</title></path>${dots.join("")}</g>`,
    );
  });
  for (const m of panel.marks ?? []) {
    if (!Number.isFinite(m.x)) continue;
    const xx = num(px(m.x));
    out.push(
      `<g class="mark"><line x1="${xx}" x2="${xx}" y1="${num(plotTop)}" y2="${num(plotBottom)}" stroke="#555" stroke-width="1.2" stroke-dasharray="3 3"/>` +
        `<text class="mark-label" x="${num(px(m.x) + 4)}" y="${num(plotTop + 12)}" font-size="${FONT - 1}" fill="#555">${xmlText(m.label)}</text></g>`,
    );
  }
  if (!anyPoint) {
    out.push(`<text x="${num((plotLeft + plotRight) / 2)}" y="${num((plotTop + plotBottom) / 2)}" text-anchor="middle" font-size="${FONT}" fill="#888">no data</text>`);
  }

  // Legend, right of the plot area.
  if (showLegend(panel)) {
    const lx = plotRight + 12;
    out.push(`<g class="legend">`);
    legendSeries(panel).forEach((s, i) => {
      const ly = plotTop + 8 + i * 18;
      const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
      const color = colors[panel.series.indexOf(s)];
      out.push(`<line x1="${num(lx)}" x2="${num(lx + 22)}" y1="${num(ly)}" y2="${num(ly)}" stroke="${xmlText(color)}" stroke-width="2.2"${dash}/>`);
      out.push(`<text class="legend-label" x="${num(lx + 28)}" y="${num(ly + 4)}" font-size="${FONT}">${xmlText(s.name)}</text>`);
    });
    out.push(`</g>`);
  }
  out.push(`</g>`);
  return out.join("\n");
}

/** Several panels in a grid (row by row), under an optional figure title. */
export function figureSvg(panels: readonly Panel[], options: FigureOptions = {}): string {
  if (panels.length === 0) throw new Error("figureSvg: no panels to draw");
  const columns = Math.max(1, Math.min(options.columns ?? 1, panels.length));
  const rows = Math.ceil(panels.length / columns);
  const panelWidth = options.panelWidth ?? (columns > 1 ? 460 : 720);
  const panelHeight = options.panelHeight ?? (columns > 1 ? 280 : 340);
  const titleHeight = options.title ? 36 : 0;
  const width = Math.max(columns * panelWidth, options.title ? textWidth(options.title, 17) + 40 : 0);
  const height = titleHeight + rows * panelHeight;
  const out: string[] = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" font-family="Helvetica, Arial, sans-serif" fill="#222">`,
  ];
  if (options.title) out.push(`<title>${xmlText(options.title)}</title>`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  if (options.title) {
    out.push(`<text class="figure-title" x="${num(width / 2)}" y="24" text-anchor="middle" font-size="17" font-weight="bold">${xmlText(options.title)}</text>`);
  }
  panels.forEach((p, i) => {
    const col = i % columns;
    const row = Math.floor(i / columns);
    out.push(renderPanel(p, col * panelWidth, titleHeight + row * panelHeight, panelWidth, panelHeight, i));
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/** One chart: a single panel, titled by `title`. */
export function lineChartSvg(series: readonly LineSeries[], options: Omit<Panel, "series"> & { width?: number; height?: number } = {}): string {
  const { width, height, ...panel } = options;
  return figureSvg([{ ...panel, series }], { panelWidth: width, panelHeight: height });
}
