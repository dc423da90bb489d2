/**
 * A layered SVG drawing of a wiring: one column per layer, left to right from the sensory inputs
 * to the motor neurons (sensory | inter | command | motor for NCPs; sensory | neurons | motor for
 * single-layer wirings), neurons coloured by type and synapses by polarity, in ncps's
 * (matplotlib tab10) colours. Sizes, spacing and line widths scale so that 8 to a few hundred
 * neurons stay readable.
 *
 * Stable class names make the drawing easy to style or inspect: `neuron neuron-<type>` and
 * `sensory-input` on node circles, `synapse excitatory|inhibitory` and
 * `sensory-synapse excitatory|inhibitory` on edges.
 */
import { escapeXml } from "../util/xml.js";
import type { NeuronType, Wiring } from "./wiring.js";

export interface WiringSvgOptions {
  /** Replaces the default title (the wiring's class and arguments). */
  title?: string;
  /** Colours per node type. */
  neuronColors?: Partial<Record<NeuronType | "sensory", string>>;
  /** Colours per polarity; a string colours both. */
  synapseColors?: string | { excitatory?: string; inhibitory?: string };
  /** Draw neuron ids inside the circles; by default only when circles are large enough. */
  labels?: boolean;
  /**
   * A fill per neuron id (e.g. its activity at some step) and the text its tooltip adds; neurons it
   * returns undefined for keep their type's colour.
   */
  neuronFill?: (id: number) => { color: string; note?: string } | undefined;
}

const DEFAULT_NEURON_COLORS: Record<NeuronType | "sensory", string> = {
  inter: "#1f77b4", // tab:blue
  command: "#9467bd", // tab:purple (ncps has no command colour and falls back to blue)
  motor: "#ff7f0e", // tab:orange
  sensory: "#bcbd22", // tab:olive
};
const EXCITATORY = "#2ca02c"; // tab:green
const INHIBITORY = "#d62728"; // tab:red

/** Escapes text for XML content and attribute values. */
const fmt = (v: number): string => String(Math.round(v * 100) / 100);
const clamp = (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi);

interface Column {
  header: string;
  /** Neuron ids, or sensory indices for the sensory column. */
  ids: number[];
  sensory: boolean;
}

const TYPE_PLURAL: Record<NeuronType, string> = { inter: "inter neurons", command: "command neurons", motor: "motor neurons" };

function columnsOf(w: Wiring): Column[] {
  const cols: Column[] = [];
  if (w.inputDim !== null) cols.push({ header: "sensory inputs", ids: Array.from({ length: w.inputDim }, (_, i) => i), sensory: true });
  if (w.numLayers > 1) {
    for (let l = 0; l < w.numLayers; l++) {
      const ids = w.getNeuronsOfLayer(l);
      const types = new Set(ids.map((id) => w.getTypeOfNeuron(id)));
      const header = types.size === 1 ? TYPE_PLURAL[[...types][0]] : `layer ${l}`;
      cols.push({ header, ids, sensory: false });
    }
  } else {
    const all = w.getNeuronsOfLayer(0);
    const others = all.filter((id) => w.getTypeOfNeuron(id) !== "motor");
    const motor = all.filter((id) => w.getTypeOfNeuron(id) === "motor");
    if (others.length > 0) cols.push({ header: "neurons", ids: others, sensory: false });
    if (motor.length > 0) cols.push({ header: "motor neurons", ids: motor, sensory: false });
  }
  return cols.filter((c) => c.ids.length > 0);
}

function defaultTitle(w: Wiring): string {
  if (w.kind === "Wiring") return "Wiring";
  const args = Object.entries(w.getConfig())
    .filter(([, v]) => v !== null && typeof v !== "object")
    .map(([k, v]) => `${k}=${String(v)}`);
  return `${w.kind}(${args.join(", ")})`;
}

export function wiringToSVG(wiring: Wiring, options: WiringSvgOptions = {}): string {
  const neuronColors = { ...DEFAULT_NEURON_COLORS, ...(options.neuronColors ?? {}) };
  const sc = options.synapseColors;
  const exColor = typeof sc === "string" ? sc : (sc?.excitatory ?? EXCITATORY);
  const inColor = typeof sc === "string" ? sc : (sc?.inhibitory ?? INHIBITORY);

  const cols = columnsOf(wiring);
  const maxCol = Math.max(1, ...cols.map((c) => c.ids.length));
  const spacing = clamp(700 / maxCol, 7, 46);
  const radius = clamp(spacing * 0.36, 2.2, 15);
  const colGap = 210;
  const marginX = 80;
  const top = 100;
  const plotHeight = maxCol * spacing;
  const legendX = marginX + (cols.length - 1) * colGap + 110;
  const title = options.title ?? defaultTitle(wiring);
  // Wide enough for the title (about 10 px per character of 17 px bold text).
  const width = Math.max(legendX + 200, title.length * 10 + 40);
  const height = top + Math.max(plotHeight, 6 * 22) + 40; // room for the legend on small drawings

  // Node positions: neuron id -> [x, y]; sensory index -> [x, y].
  const neuronPos = new Map<number, [number, number]>();
  const neuronCol = new Map<number, number>();
  const sensoryPos = new Map<number, [number, number]>();
  cols.forEach((c, ci) => {
    const x = marginX + ci * colGap;
    const y0 = top + (plotHeight - c.ids.length * spacing) / 2 + spacing / 2;
    c.ids.forEach((id, k) => {
      const p: [number, number] = [x, y0 + k * spacing];
      if (c.sensory) sensoryPos.set(id, p);
      else {
        neuronPos.set(id, p);
        neuronCol.set(id, ci);
      }
    });
  });

  const synapseTotal = wiring.synapseCount + wiring.sensorySynapseCount;
  const strokeWidth = clamp(1.6 * Math.sqrt(60 / Math.max(synapseTotal, 1)), 0.25, 1.6);
  const opacity = clamp(0.9 * Math.sqrt(150 / Math.max(synapseTotal, 1)), 0.2, 0.85);
  const arrow = clamp(radius * 0.9, 3, 9);

  // Past a few hundred synapses arrowheads only blot out the nodes; edges run left to right anyway.
  const arrows = synapseTotal <= 600;

  const out: string[] = [];
  const counts =
    `${wiring.units} neurons, ${wiring.synapseCount} synapses` +
    (wiring.inputDim !== null ? `, ${wiring.inputDim} sensory inputs, ${wiring.sensorySynapseCount} sensory synapses` : ", not built (no sensory inputs yet)");
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${fmt(width)}" height="${fmt(height)}" viewBox="0 0 ${fmt(width)} ${fmt(height)}" font-family="Helvetica, Arial, sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<defs>`,
    ...[
      ["arrow-excitatory", exColor],
      ["arrow-inhibitory", inColor],
    ].map(
      ([id, color]) =>
        `<marker id="${id}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="${fmt(arrow)}" markerHeight="${fmt(arrow)}" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="${escapeXml(color)}"/></marker>`,
    ),
    `</defs>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${fmt(width / 2)}" y="30" text-anchor="middle" font-size="17" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${fmt(width / 2)}" y="52" text-anchor="middle" font-size="12" fill="#444">${escapeXml(counts)}</text>`,
  );
  cols.forEach((c, ci) => {
    out.push(
      `<text x="${fmt(marginX + ci * colGap)}" y="${fmt(top - 16)}" text-anchor="middle" font-size="12" fill="#333">${escapeXml(`${c.header} (${c.ids.length})`)}</text>`,
    );
  });

  // Edges under the nodes.
  out.push(`<g fill="none" stroke-width="${fmt(strokeWidth)}" stroke-opacity="${fmt(opacity)}">`);
  const edge = (cls: string, polarity: number, d: string, label: string): void => {
    const kind = polarity >= 0 ? "excitatory" : "inhibitory";
    const color = polarity >= 0 ? exColor : inColor;
    const marker = arrows ? ` marker-end="url(#arrow-${kind})"` : "";
    // Hover titles name each synapse; on very dense drawings they would only bloat the file.
    const tip = synapseTotal <= 2000 ? `<title>${escapeXml(label)}</title>` : "";
    out.push(`<path class="${cls} ${kind}" d="${d}" stroke="${escapeXml(color)}"${marker}>${tip}</path>`);
  };
  /** A path from a to b, both trimmed to the circles' rims; bent through `ctrl` if given. */
  const pathBetween = (a: [number, number], b: [number, number], ctrl?: [number, number]): string => {
    const from = ctrl ?? b;
    const to = ctrl ?? a;
    const trim = (p: [number, number], toward: [number, number]): [number, number] => {
      const dx = toward[0] - p[0];
      const dy = toward[1] - p[1];
      const len = Math.hypot(dx, dy) || 1;
      return [p[0] + (dx / len) * radius, p[1] + (dy / len) * radius];
    };
    const s = trim(a, from);
    const e = trim(b, to);
    return ctrl
      ? `M${fmt(s[0])},${fmt(s[1])} Q${fmt(ctrl[0])},${fmt(ctrl[1])} ${fmt(e[0])},${fmt(e[1])}`
      : `M${fmt(s[0])},${fmt(s[1])} L${fmt(e[0])},${fmt(e[1])}`;
  };

  const units = wiring.units;
  const sens = wiring.sensoryAdjacencyMatrix;
  if (sens && wiring.inputDim !== null) {
    for (let s = 0; s < wiring.inputDim; s++) {
      for (let d = 0; d < units; d++) {
        const p = sens[s * units + d];
        if (p === 0) continue;
        edge("sensory-synapse", p, pathBetween(sensoryPos.get(s)!, neuronPos.get(d)!), `sensory ${s} -> neuron ${d} (${p > 0 ? "+" : "-"})`);
      }
    }
  }
  const adj = wiring.adjacencyMatrix;
  for (let src = 0; src < units; src++) {
    for (let dest = 0; dest < units; dest++) {
      const p = adj[src * units + dest];
      if (p === 0) continue;
      const a = neuronPos.get(src)!;
      const b = neuronPos.get(dest)!;
      let d: string;
      if (src === dest) {
        // Self-synapse: a loop on the right side of the neuron.
        const r = radius;
        const sx = a[0] + r * Math.cos(-0.7);
        const sy = a[1] + r * Math.sin(-0.7);
        const ey = a[1] + r * Math.sin(0.7);
        const reach = r + Math.max(10, 2.6 * r);
        d = `M${fmt(sx)},${fmt(sy)} C${fmt(a[0] + reach)},${fmt(a[1] - reach)} ${fmt(a[0] + reach)},${fmt(a[1] + reach)} ${fmt(sx)},${fmt(ey)}`;
      } else if (neuronCol.get(src) === neuronCol.get(dest)) {
        // Within a column: bulge to the right, further for neurons further apart, and further for
        // upward synapses so that a pair of opposite synapses shows as two curves.
        const bulge = (18 + 0.3 * Math.abs(b[1] - a[1])) * (b[1] < a[1] ? 1.6 : 1);
        d = pathBetween(a, b, [a[0] + Math.min(bulge, colGap * 0.45), (a[1] + b[1]) / 2]);
      } else if (neuronCol.get(dest)! < neuronCol.get(src)!) {
        // Feedback to an earlier column: arc below the straight line so it stays distinguishable.
        d = pathBetween(a, b, [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + 0.25 * Math.abs(b[0] - a[0])]);
      } else {
        d = pathBetween(a, b);
      }
      edge("synapse", p, d, `neuron ${src} -> neuron ${dest} (${p > 0 ? "+" : "-"})`);
    }
  }
  out.push(`</g>`);

  // Nodes.
  const showLabels = options.labels ?? radius >= 7;
  const fontSize = clamp(radius * 0.95, 6, 12);
  out.push(`<g stroke="#333" stroke-width="${fmt(clamp(radius / 10, 0.3, 1))}">`);
  const node = (cls: string, p: [number, number], color: string, label: string, text: string): void => {
    out.push(`<circle class="${cls}" cx="${fmt(p[0])}" cy="${fmt(p[1])}" r="${fmt(radius)}" fill="${escapeXml(color)}"><title>${escapeXml(label)}</title></circle>`);
    if (showLabels) {
      out.push(
        `<text x="${fmt(p[0])}" y="${fmt(p[1] + fontSize * 0.35)}" text-anchor="middle" font-size="${fmt(fontSize)}" fill="white" stroke="none">${escapeXml(text)}</text>`,
      );
    }
  };
  for (const [s, p] of sensoryPos) node("sensory-input", p, neuronColors.sensory, `sensory input ${s}`, String(s));
  for (const [id, p] of neuronPos) {
    const t = wiring.getTypeOfNeuron(id);
    const fill = options.neuronFill?.(id);
    node(`neuron neuron-${t}`, p, fill?.color ?? neuronColors[t], `${t} neuron ${id}${fill?.note ? `: ${fill.note}` : ""}`, String(id));
  }
  out.push(`</g>`);

  // Legend: the node types present, then the two polarities.
  const present = new Set<NeuronType>();
  for (let id = 0; id < units; id++) present.add(wiring.getTypeOfNeuron(id));
  const entries: [string, string][] = [];
  if (wiring.inputDim !== null) entries.push(["sensory input", neuronColors.sensory]);
  for (const t of ["inter", "command", "motor"] as const) if (present.has(t)) entries.push([`${t} neuron`, neuronColors[t]]);
  let ly = top;
  out.push(`<g class="legend" font-size="12">`);
  for (const [label, color] of entries) {
    out.push(`<circle class="legend-swatch" cx="${fmt(legendX)}" cy="${fmt(ly)}" r="6" fill="${escapeXml(color)}" stroke="#333" stroke-width="0.6"/>`);
    out.push(`<text x="${fmt(legendX + 14)}" y="${fmt(ly + 4)}">${escapeXml(label)}</text>`);
    ly += 22;
  }
  for (const [label, color] of [
    ["excitatory synapse", exColor],
    ["inhibitory synapse", inColor],
  ]) {
    out.push(`<line x1="${fmt(legendX - 8)}" y1="${fmt(ly)}" x2="${fmt(legendX + 8)}" y2="${fmt(ly)}" stroke="${escapeXml(color)}" stroke-width="2"/>`);
    out.push(`<text x="${fmt(legendX + 14)}" y="${fmt(ly + 4)}">${escapeXml(label)}</text>`);
    ly += 22;
  }
  out.push(`</g>`, `</svg>`);
  return out.join("\n") + "\n";
}
