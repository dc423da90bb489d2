/**
 * Replays a reference case (the format of ../shared/goldens, written by PyTorch ncps): builds the model
 * from its ncps constructor arguments, loads the weights by ncps name, runs forward and backward for
 * loss = sum(output * loss_weights). Expected values in the case are ignored: comparing is the caller's job.
 */
import type { Tensor } from "../tensor.js";
import { buildModel, type ModelConfig } from "./build.js";

interface JsonTensor {
  shape: number[];
  data: number[];
}

export interface ReplayCase {
  spec: ModelConfig & { unbatched_input?: boolean };
  weights: Array<{ name: string; shape: number[]; data: number[] }>;
  input: JsonTensor;
  timespans?: JsonTensor | null;
  init_state?: { h: JsonTensor; c?: JsonTensor } | null;
  loss_weights: JsonTensor;
}

export interface ReplayResult {
  output: JsonTensor;
  final_state: { h: JsonTensor; c?: JsonTensor };
  loss: number;
  grads: Record<string, JsonTensor>;
}

function checkJsonTensor(t: unknown, name: string): JsonTensor {
  const o = t as JsonTensor;
  if (!o || !Array.isArray(o.shape) || !Array.isArray(o.data)) throw new Error(`case: ${name} must be {shape, data}`);
  const n = o.shape.reduce((a, b) => a * b, 1);
  if (o.data.length !== n) throw new Error(`case: ${name} has ${o.data.length} values for shape [${o.shape.join(", ")}] (expected ${n})`);
  return o;
}

function toTensor(t: JsonTensor, dtype: "float32" | "float64"): Tensor {
  return { shape: t.shape, data: dtype === "float64" ? Float64Array.from(t.data) : Float32Array.from(t.data) };
}

function toJson(t: Tensor): JsonTensor {
  return { shape: [...t.shape], data: Array.from(t.data) };
}

export function replayCase(c: ReplayCase, dtype: "float32" | "float64" = "float32"): ReplayResult {
  if (!c || typeof c !== "object" || !c.spec) throw new Error("case: missing 'spec'");
  if (!Array.isArray(c.weights)) throw new Error("case: missing 'weights'");
  const model = buildModel(c.spec, { backend: dtype === "float64" ? "reference" : "wasm" });
  const weights = new Map<string, Tensor>();
  for (const w of c.weights) weights.set(w.name, toTensor(checkJsonTensor(w, `weights.${w.name}`), dtype));
  model.loadStateDict(weights, "case weights");
  const input = toTensor(checkJsonTensor(c.input, "input"), dtype);
  const timespans = c.timespans ? toTensor(checkJsonTensor(c.timespans, "timespans"), dtype) : undefined;
  let hx: { h: Tensor; c?: Tensor } | undefined;
  if (c.init_state) {
    hx = { h: toTensor(checkJsonTensor(c.init_state.h, "init_state.h"), dtype) };
    if (c.init_state.c) hx.c = toTensor(checkJsonTensor(c.init_state.c, "init_state.c"), dtype);
  }
  const lw = toTensor(checkJsonTensor(c.loss_weights, "loss_weights"), dtype);
  const { output, state } = model.forward(input, { hx, timespans });
  if (lw.data.length !== output.data.length) {
    throw new Error(`case: loss_weights shape [${lw.shape.join(", ")}] does not match the output shape [${output.shape.join(", ")}]`);
  }
  let loss = 0;
  for (let i = 0; i < output.data.length; i++) loss += output.data[i] * lw.data[i];
  const back = model.backward({ shape: output.shape, data: lw.data });
  const grads: Record<string, JsonTensor> = {};
  for (const p of model.params.entries()) {
    if (p.offsets.grad < 0) continue;
    grads[p.name] = { shape: [...p.shape], data: Array.from(model.params.grad(p.name)) };
  }
  grads.input = toJson(back.input);
  if (hx) {
    grads.hx_h = toJson(back.hx.h);
    if (back.hx.c) grads.hx_c = toJson(back.hx.c);
  }
  if (back.timespans) grads.timespans = toJson(back.timespans);
  const final_state: ReplayResult["final_state"] = { h: toJson(state.h) };
  if (state.c) final_state.c = toJson(state.c);
  return { output: toJson(output), final_state, loss, grads };
}
