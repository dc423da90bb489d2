/**
 * CfC and LTC as ONNX graphs (opset ONNX_OPSET, IR version ONNX_IR_VERSION), float32, batch first, any
 * batch size, per-sample elapsed times:
 *
 * - "step": inputs x [batch, input_size], elapsed [batch], h [batch, state_size] (and c [batch,
 *   state_size] with mixed memory); outputs y [batch, output_size], h_out (and c_out). For servers that
 *   stream one observation at a time; start from zero states.
 * - "sequence": inputs x [batch, steps, input_size], elapsed [batch, steps], h0 (and c0); outputs y
 *   [batch, steps, output_size] ([batch, output_size] when the model returns only the last step), h_n
 *   (and c_n). Any number of steps (an ONNX Scan over the step), or unrolled for a fixed `steps`.
 *
 * The step computes exactly what the model's forward pass does (ncps torch semantics): mixed memory's
 * LSTM first, then the cell (cfc-cell-core.ts / ltc-cell-core.ts), then the projection. Parameter
 * constraints that do not depend on the input (softplus of LTC's w, cm, gleak, sensory_w; sparsity
 * masks; |w_tau|) are applied here in float64 before the weights are stored as float32.
 */
import { CfC } from "../../models/cfc.js";
import { LTC } from "../../models/ltc.js";
import type { RecurrentModel } from "../../models/recurrent.js";
import type { Tensor } from "../../tensor.js";
import { GraphBuilder } from "./graph-builder.js";
import { ONNX_IR_VERSION, ONNX_OPSET, type OnnxGraph, type OnnxModel, type OnnxValueInfo, encodeOnnxModel } from "./onnx-proto.js";

export { ONNX_IR_VERSION, ONNX_OPSET } from "./onnx-proto.js";

export interface OnnxExportOptions {
  /** "sequence" (default) or "step" */
  graph?: "sequence" | "step";
  /** sequence graph unrolled for exactly this many steps; default: any length (Scan) */
  sequenceLength?: number;
  /** JSON-able entries stored as the model's metadata_props (e.g. the checkpoint's normalization) */
  metadata?: Record<string, string>;
  producerVersion?: string;
}

/** One step of the model on graph values: x [B, I], ts [B, 1], h [B, S], c [B, S] or null. */
type Step = (g: GraphBuilder, x: string, ts: string, h: string, c: string | null) => { y: string; h: string; c: string | null };

/** Why a model cannot be exported, or null. */
export function onnxUnsupportedReason(model: RecurrentModel): string | null {
  if (!(model instanceof CfC) && !(model instanceof LTC)) {
    return `ONNX export covers CfC and LTC; this model is a ${model.toConfig().model}`;
  }
  const variant = (model.toConfig().constructor_args as Record<string, unknown>).variant;
  if (variant !== undefined && variant !== "torch") return `ONNX export follows ncps torch's CfC (variant "torch"); variant "${String(variant)}" (its head activation and gate sign) is not exported`;
  return null;
}

function tensorOf(weights: Map<string, Tensor>, name: string): Tensor {
  const t = weights.get(name);
  if (!t) throw new Error(`ONNX export: the model has no tensor "${name}"`);
  return t;
}

const SQRT1_2 = Math.SQRT1_2;

function activation(g: GraphBuilder, kind: string, z: string): string {
  switch (kind) {
    case "lecun_tanh": return g.mul(g.tanh(g.mul(z, g.constant([0.666]))), g.constant([1.7159]));
    case "silu": return g.mul(z, g.sigmoid(z));
    case "relu": return g.op("Relu", [z]);
    case "tanh": return g.tanh(z);
    case "gelu": return g.mul(g.mul(z, g.constant([0.5])), g.add(g.constant([1]), g.op("Erf", [g.mul(z, g.constant([SQRT1_2]))])));
    default: throw new Error(`ONNX export: unknown activation "${kind}"`);
  }
}

function softplus(v: number): number {
  return v > 20 ? v : Math.log1p(Math.exp(v));
}

function mapValues(t: Tensor, f: (v: number, i: number) => number): Float64Array {
  return Float64Array.from(t.data, f);
}

/** ncps LSTMCell (mixed memory): gates [input, input gate, forget gate (+ forgetBias, ncps: 1), output gate]. */
function lstmStep(outer: GraphBuilder, weights: Map<string, Tensor>, hidden: number, forgetBias: number) {
  const wi = tensorOf(weights, "lstm.input_map.weight");
  const bi = tensorOf(weights, "lstm.input_map.bias");
  const wr = tensorOf(weights, "lstm.recurrent_map.weight");
  const names = {
    wi: outer.weight("lstm.input_map.weight", wi.data, [...wi.shape]),
    bi: outer.weight("lstm.input_map.bias", bi.data, [...bi.shape]),
    wr: outer.weight("lstm.recurrent_map.weight", wr.data, [...wr.shape]),
  };
  return (g: GraphBuilder, x: string, h: string, c: string): { h: string; c: string } => {
    const z = g.add(g.linear(x, names.wi, names.bi), g.linear(h, names.wr, null));
    const H = hidden;
    const [i, ig, fg, og] = [0, 1, 2, 3].map((k) => g.columns(z, k * H, (k + 1) * H));
    const cNew = g.add(g.mul(c, g.sigmoid(g.add(fg, g.constant([forgetBias])))), g.mul(g.tanh(i), g.sigmoid(ig)));
    return { h: g.mul(g.tanh(cNew), g.sigmoid(og)), c: cNew };
  };
}

interface LinearNames {
  w: string;
  b: string;
}

/** A CfC cell's heads: ff1, ff2, time_a, time_b; pure mode: ff1, |w_tau| and A. */
interface CfcHeads {
  ff1: LinearNames;
  ff2?: LinearNames;
  ta?: LinearNames;
  tb?: LinearNames;
  absWTau?: string;
  a?: string;
}

function cfcCore(model: CfC, outer: GraphBuilder, weights: Map<string, Tensor>) {
  const stored = (name: string, f?: (v: number, i: number) => number): string => {
    const t = tensorOf(weights, name);
    return outer.weight(name, f ? mapValues(t, f) : t.data, [...t.shape]);
  };
  let offset = 0;
  const cells = model.cells.map((cell) => {
    const p = cell.prefix;
    const maskName = `${p}sparsity_mask`;
    const mask = weights.get(maskName)?.data ?? null;
    const masked = (name: string) => stored(name, mask ? (v, i) => v * mask[i] : undefined);
    const pure = cell.options.mode === "pure";
    // backbone Linear modules in state_dict order (their indices skip the activation and dropout modules)
    const backboneWeights = [...weights.keys()].filter((k) => k.startsWith(`${p}backbone.`) && k.endsWith(".weight"));
    const backbone = cell.backbone.map((_, l) => {
      const stem = backboneWeights[l].slice(0, -".weight".length);
      return { w: stored(`${stem}.weight`), b: stored(`${stem}.bias`) };
    });
    const heads: CfcHeads = pure
      ? { ff1: { w: masked(`${p}ff1.weight`), b: stored(`${p}ff1.bias`) }, absWTau: stored(`${p}w_tau`, Math.abs), a: stored(`${p}A`) }
      : {
          ff1: { w: masked(`${p}ff1.weight`), b: stored(`${p}ff1.bias`) },
          ff2: { w: masked(`${p}ff2.weight`), b: stored(`${p}ff2.bias`) },
          ta: { w: stored(`${p}time_a.weight`), b: stored(`${p}time_a.bias`) },
          tb: { w: stored(`${p}time_b.weight`), b: stored(`${p}time_b.bias`) },
        };
    const entry = { offset, size: cell.hiddenSize, backbone, heads, mode: cell.options.mode, activation: cell.options.activation };
    offset += cell.hiddenSize;
    return entry;
  });
  const wired = model.wiring !== null;
  return (g: GraphBuilder, x: string, ts: string, hPrev: string): { y: string; h: string } => {
    let input = x;
    const states: string[] = [];
    for (const c of cells) {
      const h = wired ? g.columns(hPrev, c.offset, c.offset + c.size) : hPrev;
      let z = g.concat([input, h], 1);
      for (const layer of c.backbone) z = activation(g, c.activation, g.linear(z, layer.w, layer.b));
      let hNew: string;
      const hd = c.heads;
      if (hd.absWTau && hd.a) {
        // Cf-S (eq. 3): h = A - A e f, e = exp(-t (|w_tau| + |f|))
        const f = g.linear(z, hd.ff1.w, hd.ff1.b);
        const e = g.op("Exp", [g.op("Neg", [g.mul(ts, g.add(hd.absWTau, g.op("Abs", [f])))])]);
        hNew = g.sub(hd.a, g.mul(g.mul(hd.a, e), f));
      } else if (hd.ff2 && hd.ta && hd.tb) {
        const ff1 = g.tanh(g.linear(z, hd.ff1.w, hd.ff1.b));
        const ff2 = g.tanh(g.linear(z, hd.ff2.w, hd.ff2.b));
        const s = g.sigmoid(g.add(g.mul(g.linear(z, hd.ta.w, hd.ta.b), ts), g.linear(z, hd.tb.w, hd.tb.b)));
        hNew = c.mode === "no_gate" ? g.add(ff1, g.mul(s, ff2)) : g.add(g.mul(ff1, g.sub(g.constant([1]), s)), g.mul(s, ff2));
      } else throw new Error("ONNX export: CfC heads incomplete");
      states.push(hNew);
      input = hNew;
    }
    return { y: input, h: g.concat(states, 1) };
  };
}

function ltcCore(model: LTC, outer: GraphBuilder, weights: Map<string, Tensor>) {
  const p = model.cell.prefix;
  const o = model.config;
  const U = model.cell.units;
  const S = model.cell.sensorySize;
  const get = (n: string) => tensorOf(weights, `${p}${n}`);
  const phi = (t: Tensor) => (o.implicitParamConstraints ? mapValues(t, softplus) : Float64Array.from(t.data));
  const store = (name: string, values: ArrayLike<number>, dims: number[]) => outer.weight(`${p}${name}`, values, dims);
  // synapse weights times masks (and times reversal potentials for the numerator), as the engine's effective copies
  const synapses = (w: string, erev: string, mask: string, sources: number) => {
    const wEff = phi(get(w)).map((v, i) => v * get(mask).data[i]);
    const wErev = wEff.map((v, i) => v * get(erev).data[i]);
    return { w: store(`${w}_effective`, wEff, [sources, U]), wErev: store(`${w}_times_erev`, wErev, [sources, U]) };
  };
  const sensory = synapses("sensory_w", "sensory_erev", "sensory_sparsity_mask", S);
  const recurrent = synapses("w", "erev", "sparsity_mask", U);
  const gleak = phi(get("gleak"));
  const w = {
    sensoryMu: store("sensory_mu", get("sensory_mu").data, [S, U]),
    sensorySigma: store("sensory_sigma", get("sensory_sigma").data, [S, U]),
    mu: store("mu", get("mu").data, [U, U]),
    sigma: store("sigma", get("sigma").data, [U, U]),
    cmTimesUnfolds: store("cm_times_unfolds", phi(get("cm")).map((v) => v * o.odeUnfolds), [1, U]),
    gleak: store("gleak_effective", gleak, [1, U]),
    gleakVleak: store("gleak_times_vleak", gleak.map((v, i) => v * get("vleak").data[i]), [1, U]),
    inputW: o.inputMapping !== null ? store("input_w", get("input_w").data, [1, S]) : null,
    inputB: o.inputMapping === "affine" ? store("input_b", get("input_b").data, [1, S]) : null,
    outputW: o.outputMapping !== null ? store("output_w", get("output_w").data, [1, model.cellOutputSize]) : null,
    outputB: o.outputMapping === "affine" ? store("output_b", get("output_b").data, [1, model.cellOutputSize]) : null,
  };
  /** sum over sources i of act[b, i, j] * weight[i, j] for act = sigmoid((v[b, i] - mu[i, j]) sigma[i, j]) */
  const synapseSums = (g: GraphBuilder, v: string, sources: number, mu: string, sigma: string, syn: { w: string; wErev: string }) => {
    const act = g.sigmoid(g.mul(g.sub(g.reshape(v, [-1, sources, 1]), mu), sigma));
    return { num: g.sumOver(g.mul(act, syn.wErev), 1), den: g.sumOver(g.mul(act, syn.w), 1) };
  };
  return (g: GraphBuilder, x: string, ts: string, hPrev: string): { y: string; h: string } => {
    let xm = x;
    if (w.inputW) xm = g.mul(xm, w.inputW);
    if (w.inputB) xm = g.add(xm, w.inputB);
    const sens = synapseSums(g, xm, S, w.sensoryMu, w.sensorySigma, sensory);
    // cm / (elapsed / unfolds), per sample
    const cmT = g.div(w.cmTimesUnfolds, ts);
    const numConst = g.add(w.gleakVleak, sens.num);
    const denConst = g.add(g.add(g.add(cmT, w.gleak), sens.den), g.constant([o.epsilon]));
    let v = hPrev;
    for (let k = 0; k < o.odeUnfolds; k++) {
      const syn = synapseSums(g, v, U, w.mu, w.sigma, recurrent);
      v = g.div(g.add(g.add(g.mul(cmT, v), numConst), syn.num), g.add(denConst, syn.den));
    }
    let y = g.columns(v, 0, model.cellOutputSize);
    if (w.outputW) y = g.mul(y, w.outputW);
    if (w.outputB) y = g.add(y, w.outputB);
    return { y, h: v };
  };
}

/** The step of `model` with its weights stored in `outer`. */
function modelStep(model: CfC | LTC, outer: GraphBuilder): Step {
  const weights = model.stateDict();
  const core = model instanceof CfC ? cfcCore(model, outer, weights) : ltcCore(model, outer, weights);
  const forgetBias = (model.toConfig().constructor_args.forget_bias as number | undefined) ?? 1;
  const lstm = model.mixedMemory ? lstmStep(outer, weights, model.stateSize, forgetBias) : null;
  const fc = model.projSize !== null
    ? { w: outer.weight("fc.weight", tensorOf(weights, "fc.weight").data, [...tensorOf(weights, "fc.weight").shape]), b: outer.weight("fc.bias", tensorOf(weights, "fc.bias").data, [model.projSize]) }
    : null;
  return (g, x, ts, h, c) => {
    let hPrev = h;
    let cNew: string | null = null;
    if (lstm) {
      const m = lstm(g, x, h, c!);
      hPrev = m.h;
      cNew = m.c;
    }
    const out = core(g, x, ts, hPrev);
    const y = fc ? g.linear(out.y, fc.w, fc.b) : out.y;
    return { y, h: out.h, c: cNew };
  };
}

interface Sizes {
  I: number;
  S: number;
  O: number;
  mixed: boolean;
}

function stepGraph(step: Step, outer: GraphBuilder, z: Sizes): OnnxGraph {
  const ts = outer.reshape("elapsed", [-1, 1]);
  const r = step(outer, "x", ts, "h", z.mixed ? "c" : null);
  outer.identity(r.y, "y");
  outer.identity(r.h, "h_out");
  if (z.mixed) outer.identity(r.c!, "c_out");
  const inputs: OnnxValueInfo[] = [
    { name: "x", dims: ["batch", z.I], doc: "input of this step" },
    { name: "elapsed", dims: ["batch"], doc: "elapsed time since the previous step, per sample" },
    { name: "h", dims: ["batch", z.S], doc: "state after the previous step (zeros at the start)" },
  ];
  const outputs: OnnxValueInfo[] = [{ name: "y", dims: ["batch", z.O] }, { name: "h_out", dims: ["batch", z.S] }];
  if (z.mixed) {
    inputs.push({ name: "c", dims: ["batch", z.S], doc: "mixed memory cell state (zeros at the start)" });
    outputs.push({ name: "c_out", dims: ["batch", z.S] });
  }
  return outer.graph("ncps_step", inputs, outputs);
}

function sequenceInputs(z: Sizes, steps: number | string): OnnxValueInfo[] {
  const inputs: OnnxValueInfo[] = [
    { name: "x", dims: ["batch", steps, z.I], doc: "inputs, batch first" },
    { name: "elapsed", dims: ["batch", steps], doc: "elapsed time of each step, per sample" },
    { name: "h0", dims: ["batch", z.S], doc: "initial state (zeros for a fresh sequence)" },
  ];
  if (z.mixed) inputs.push({ name: "c0", dims: ["batch", z.S], doc: "initial mixed memory cell state" });
  return inputs;
}

function sequenceOutputs(z: Sizes, steps: number | string, returnSequences: boolean): OnnxValueInfo[] {
  const outputs: OnnxValueInfo[] = [{ name: "y", dims: returnSequences ? ["batch", steps, z.O] : ["batch", z.O] }, { name: "h_n", dims: ["batch", z.S] }];
  if (z.mixed) outputs.push({ name: "c_n", dims: ["batch", z.S] });
  return outputs;
}

function unrolledGraph(step: Step, outer: GraphBuilder, z: Sizes, steps: number, returnSequences: boolean): OnnxGraph {
  let h = "h0";
  let c: string | null = z.mixed ? "c0" : null;
  const ys: string[] = [];
  for (let t = 0; t < steps; t++) {
    const at = outer.ints([t]);
    const xt = outer.reshape(outer.op("Gather", ["x", at], { axis: { kind: "int", value: 1 } }), [-1, z.I]);
    const ts = outer.reshape(outer.op("Gather", ["elapsed", at], { axis: { kind: "int", value: 1 } }), [-1, 1]);
    const r = step(outer, xt, ts, h, c);
    h = r.h;
    c = r.c;
    ys.push(r.y);
  }
  const y = returnSequences ? outer.concat(ys.map((v) => outer.op("Unsqueeze", [v, outer.ints([1])])), 1) : ys[ys.length - 1];
  outer.identity(y, "y");
  outer.identity(h, "h_n");
  if (c) outer.identity(c, "c_n");
  return outer.graph("ncps_sequence", sequenceInputs(z, steps), sequenceOutputs(z, steps, returnSequences));
}

function scanGraph(step: Step, outer: GraphBuilder, z: Sizes, returnSequences: boolean): OnnxGraph {
  const body = new GraphBuilder("body_");
  const ts = body.reshape("body_elapsed_t", [-1, 1]);
  const r = step(body, "body_x_t", ts, "body_h", z.mixed ? "body_c" : null);
  body.identity(r.h, "body_h_out");
  if (z.mixed) body.identity(r.c!, "body_c_out");
  body.identity(r.y, "body_y_t");
  const bodyInputs: OnnxValueInfo[] = [{ name: "body_h", dims: ["batch", z.S] }];
  if (z.mixed) bodyInputs.push({ name: "body_c", dims: ["batch", z.S] });
  bodyInputs.push({ name: "body_x_t", dims: ["batch", z.I] }, { name: "body_elapsed_t", dims: ["batch"] });
  const bodyOutputs: OnnxValueInfo[] = [{ name: "body_h_out", dims: ["batch", z.S] }];
  if (z.mixed) bodyOutputs.push({ name: "body_c_out", dims: ["batch", z.S] });
  bodyOutputs.push({ name: "body_y_t", dims: ["batch", z.O] });
  const bodyGraph = body.graph("ncps_step_body", bodyInputs, bodyOutputs);
  const states = z.mixed ? ["h0", "c0"] : ["h0"];
  const finals = z.mixed ? ["h_n", "c_n"] : ["h_n"];
  const ySeq = returnSequences ? "y" : "y_all_steps";
  outer.opN("Scan", [...states, "x", "elapsed"], finals.length + 1, {
    body: { kind: "graph", value: bodyGraph },
    num_scan_inputs: { kind: "int", value: 2 },
    scan_input_axes: { kind: "ints", value: [1, 1] },
    scan_output_axes: { kind: "ints", value: [1] },
  }, [...finals, ySeq]);
  if (!returnSequences) {
    // the last step's output: gather index -1 along the steps axis
    outer.op("Gather", [ySeq, outer.ints([-1])], { axis: { kind: "int", value: 1 } }, "y_last");
    outer.op("Reshape", ["y_last", outer.ints([-1, z.O])], undefined, "y");
  }
  return outer.graph("ncps_sequence", sequenceInputs(z, "steps"), sequenceOutputs(z, "steps", returnSequences));
}

/** The ONNX model of a CfC or LTC (see the module comment); throws with the reason for other models. */
export function buildOnnxModel(model: RecurrentModel, options: OnnxExportOptions = {}): OnnxModel {
  const reason = onnxUnsupportedReason(model);
  if (reason) throw new Error(reason);
  const kind = options.graph ?? "sequence";
  if (kind !== "sequence" && kind !== "step") throw new Error(`ONNX export: graph must be "sequence" or "step", got ${JSON.stringify(kind)}`);
  const L = options.sequenceLength;
  if (L !== undefined && (kind === "step" || !Number.isInteger(L) || L < 1)) {
    throw new Error(kind === "step" ? "ONNX export: sequenceLength is for the sequence graph, not the step graph" : `ONNX export: sequenceLength must be a positive integer, got ${L}`);
  }
  const m = model as CfC | LTC;
  const outer = new GraphBuilder();
  const step = modelStep(m, outer);
  const z: Sizes = { I: m.inputSize, S: m.stateSize, O: m.outputSize, mixed: m.mixedMemory };
  const graph = kind === "step" ? stepGraph(step, outer, z) : L !== undefined ? unrolledGraph(step, outer, z, L, m.returnSequences) : scanGraph(step, outer, z, m.returnSequences);
  const form = kind === "step" ? "step" : L !== undefined ? `sequence (unrolled, ${L} steps)` : "sequence (Scan)";
  return {
    graph,
    producerName: "ncps-ts",
    producerVersion: options.producerVersion ?? "",
    doc: `${m.toConfig().model} exported by ncps-ts: ${form} graph, opset ${ONNX_OPSET}, IR version ${ONNX_IR_VERSION}`,
    metadata: { ncps_config: JSON.stringify(m.toConfig()), ncps_graph: kind, ...(options.metadata ?? {}) },
  };
}

/** The ONNX file bytes of a CfC or LTC. */
export function exportOnnx(model: RecurrentModel, options: OnnxExportOptions = {}): Uint8Array {
  return encodeOnnxModel(buildOnnxModel(model, options));
}
