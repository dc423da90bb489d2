/**
 * ONNX export checked by ONNX Runtime (onnxruntime-web's WebAssembly backend, in Node): every model kind,
 * the step graph, the Scan sequence graph and the unrolled one, per-sample elapsed times, batch 3 and 1,
 * against this library's float64 forward pass, within 1e-5. Also the protobuf encoder's bytes and the
 * refusals. Skips with a message when onnxruntime-web is not installed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { exportOnnx } from "../src/io/onnx/export-model.js";
import { encodeVarint, ProtoWriter } from "../src/io/onnx/protobuf.js";
import { CfC } from "../src/models/cfc.js";
import { GRU } from "../src/models/gru.js";
import { LTC } from "../src/models/ltc.js";
import type { RecurrentModel } from "../src/models/recurrent.js";
import { AutoNCP } from "../src/wirings/auto-ncp.js";
import { NCP } from "../src/wirings/ncp.js";
import { TestRng } from "./helpers/gradcheck.js";

type Ort = typeof import("onnxruntime-web");
let ort: Ort | null = null;
try {
  ort = await import("onnxruntime-web");
  ort.env.wasm.numThreads = 1;
} catch {
  ort = null;
}
const skip = ort ? false : "onnxruntime-web is not installed (npm install): ONNX parity not checked";

describe("protobuf encoder", () => {
  test("varints and fields have the wire format's bytes", () => {
    assert.deepEqual([...encodeVarint(0)], [0]);
    assert.deepEqual([...encodeVarint(1)], [1]);
    assert.deepEqual([...encodeVarint(127)], [0x7f]);
    assert.deepEqual([...encodeVarint(300)], [0xac, 0x02]);
    assert.deepEqual([...encodeVarint(-1)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert.deepEqual([...encodeVarint(2 ** 40)], [0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
    // field 1 varint 150; field 2 string "ab"; field 3 float 1.0; field 4 packed [3, 270]
    const w = new ProtoWriter().varint(1, 150).string(2, "ab").float(3, 1).packedVarints(4, [3, 270]);
    assert.deepEqual([...w.finish()], [0x08, 0x96, 0x01, 0x12, 0x02, 0x61, 0x62, 0x1d, 0x00, 0x00, 0x80, 0x3f, 0x22, 0x03, 0x03, 0x8e, 0x02]);
    assert.throws(() => encodeVarint(2 ** 60), /safe integer/);
  });
});

interface Case {
  name: string;
  make: () => RecurrentModel;
}

const I = 3;
const CASES: Case[] = [
  { name: "CfC default (lecun_tanh backbone)", make: () => new CfC(I, 6, { backboneUnits: 7, seed: 1, backend: "reference" }) },
  { name: "CfC no_gate, gelu, two backbone layers", make: () => new CfC(I, 5, { mode: "no_gate", activation: "gelu", backboneUnits: 6, backboneLayers: 2, seed: 2, backend: "reference" }) },
  { name: "CfC pure, silu", make: () => new CfC(I, 5, { mode: "pure", activation: "silu", backboneUnits: 6, seed: 3, backend: "reference" }) },
  { name: "CfC no backbone, relu, last step only", make: () => new CfC(I, 4, { backboneLayers: 0, activation: "relu", returnSequences: false, seed: 4, backend: "reference" }) },
  { name: "CfC mixed memory + projection, tanh", make: () => new CfC(I, 6, { mixedMemory: true, projSize: 2, activation: "tanh", backboneUnits: 5, seed: 5, backend: "reference" }) },
  { name: "CfC mixed memory with forgetBias 0.5", make: () => new CfC(I, 4, { mixedMemory: true, forgetBias: 0.5, backboneUnits: 5, seed: 12, backend: "reference" }) },
  { name: "CfC wired AutoNCP", make: () => new CfC(I, new AutoNCP(9, 2, { seed: 6 }), { seed: 6, backend: "reference" }) },
  { name: "CfC wired NCP no_gate, wiringRecurrence, mixed", make: () => new CfC(I, new NCP(4, 3, 2, 2, 2, 2, 2, { seed: 7 }), { mode: "no_gate", wiringRecurrence: true, mixedMemory: true, seed: 7, backend: "reference" }) },
  { name: "CfC wired pure + projection", make: () => new CfC(I, new AutoNCP(8, 3, { seed: 8 }), { mode: "pure", projSize: 2, seed: 8, backend: "reference" }) },
  { name: "LTC fully connected", make: () => new LTC(I, 5, { seed: 9, backend: "reference" }) },
  { name: "LTC AutoNCP, mixed memory, linear input map, no output map", make: () => new LTC(I, new AutoNCP(8, 2, { seed: 10 }), { mixedMemory: true, inputMapping: "linear", outputMapping: null, seed: 10, backend: "reference" }) },
  { name: "LTC explicit constraints, projection-free last step, 3 unfolds", make: () => new LTC(I, 4, { implicitParamConstraints: false, odeUnfolds: 3, returnSequences: false, seed: 11, backend: "reference" }) },
];

function inputs(batch: number, steps: number, seed: number) {
  const rng = new TestRng(seed);
  const x = Float64Array.from({ length: batch * steps * I }, () => rng.range(-1.5, 1.5));
  const ts = Float64Array.from({ length: batch * steps }, () => rng.range(0.3, 2));
  return { x, ts };
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = 1e-5): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  let at = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  assert.ok(worst <= tol, `${what}: largest error ${worst} at ${at} (${actual[at]} vs ${expected[at]})`);
}

const f32 = (a: ArrayLike<number>) => Float32Array.from(a);

describe("ONNX export run by ONNX Runtime", { skip }, () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const o = ort!;
      const model = c.make();
      const S = (model as CfC | LTC).stateSize;
      const O = model.outputSize;
      const mixed = model.mixedMemory;
      for (const [B, L] of [[3, 5], [1, 4]] as const) {
        const { x, ts } = inputs(B, L, B * 31 + L);
        const rng = new TestRng(B + 100);
        const h0 = Float64Array.from({ length: B * S }, () => rng.range(-0.5, 0.5));
        const c0 = Float64Array.from({ length: B * S }, () => rng.range(-0.5, 0.5));
        const hx = mixed ? { h: { shape: [B, S], data: h0 }, c: { shape: [B, S], data: c0 } } : { shape: [B, S], data: h0 };
        const want = model.forward({ shape: [B, L, I], data: x }, { timespans: { shape: [B, L], data: ts }, hx });
        const states = model.forward({ shape: [B, L, I], data: x }, { timespans: { shape: [B, L], data: ts }, hx, returnStates: true });
        const feeds = (extra: Record<string, InstanceType<Ort["Tensor"]>>) => ({
          x: new o.Tensor("float32", f32(x), [B, L, I]),
          elapsed: new o.Tensor("float32", f32(ts), [B, L]),
          h0: new o.Tensor("float32", f32(h0), [B, S]),
          ...(mixed ? { c0: new o.Tensor("float32", f32(c0), [B, S]) } : {}),
          ...extra,
        });
        for (const form of ["scan", "unrolled"] as const) {
          const bytes = exportOnnx(model, form === "scan" ? {} : { sequenceLength: L });
          const session = await o.InferenceSession.create(bytes);
          const r = await session.run(feeds({}));
          assertClose(r.y.data as Float32Array, want.output.data, `${form} B=${B}: y`);
          assert.deepEqual([...r.y.dims], [...want.output.shape], `${form}: y shape`);
          assertClose(r.h_n.data as Float32Array, want.state.h.data, `${form} B=${B}: h_n`);
          if (mixed) assertClose(r.c_n.data as Float32Array, want.state.c!.data, `${form} B=${B}: c_n`);
          await session.release();
        }
        // step graph: one call per step, the state carried by the caller
        const step = await o.InferenceSession.create(exportOnnx(model, { graph: "step" }));
        let h = f32(h0);
        let cc = f32(c0);
        const allStates = states.states!.data;
        for (let t = 0; t < L; t++) {
          const xt = new Float32Array(B * I);
          const tt = new Float32Array(B);
          for (let b = 0; b < B; b++) {
            for (let k = 0; k < I; k++) xt[b * I + k] = x[(b * L + t) * I + k];
            tt[b] = ts[b * L + t];
          }
          const r = await step.run({
            x: new o.Tensor("float32", xt, [B, I]),
            elapsed: new o.Tensor("float32", tt, [B]),
            h: new o.Tensor("float32", h, [B, S]),
            ...(mixed ? { c: new o.Tensor("float32", cc, [B, S]) } : {}),
          });
          h = Float32Array.from(r.h_out.data as Float32Array);
          if (mixed) cc = Float32Array.from(r.c_out.data as Float32Array);
          const wantH = new Float64Array(B * S);
          for (let b = 0; b < B; b++) for (let k = 0; k < S; k++) wantH[b * S + k] = allStates[(b * L + t) * S + k];
          assertClose(h, wantH, `step ${t} B=${B}: h_out`);
          if (model.returnSequences) {
            const wantY = new Float64Array(B * O);
            for (let b = 0; b < B; b++) for (let k = 0; k < O; k++) wantY[b * O + k] = want.output.data[(b * L + t) * O + k];
            assertClose(r.y.data as Float32Array, wantY, `step ${t} B=${B}: y`);
          } else if (t === L - 1) assertClose(r.y.data as Float32Array, want.output.data, `step B=${B}: last y`);
        }
        await step.release();
      }
    });
  }
});

test("ONNX export refuses what it cannot honour, with the reason", () => {
  assert.throws(() => exportOnnx(new GRU(2, 3, { backend: "reference" })), /ONNX export covers CfC and LTC; this model is a GRU/);
  assert.throws(() => exportOnnx(new CfC(2, 3, { variant: "keras", backboneUnits: 4, backend: "reference" })), /ONNX export follows ncps torch's CfC \(variant "torch"\); variant "keras"/);
  const cfc = new CfC(2, 3, { backboneUnits: 4, backend: "reference" });
  assert.throws(() => exportOnnx(cfc, { graph: "step", sequenceLength: 4 }), /sequenceLength is for the sequence graph/);
  assert.throws(() => exportOnnx(cfc, { sequenceLength: 0 }), /sequenceLength must be a positive integer/);
});
