import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import fsModule from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { wasmSimdSupported } from "../src/engine/index.js";
import { applyCheckpoint, decodeCheckpoint, encodeCheckpoint } from "../src/train/checkpoint.js";
import { loadCheckpoint, readCheckpoint, saveCheckpoint } from "../src/train/checkpoint-file.js";
import { decodeSafetensors, encodeSafetensors } from "../src/io/safetensors.js";
import { CfC, type CfCOptions } from "../src/models/cfc.js";
import { CTRNN } from "../src/models/ct-rnn.js";
import { GRUODE } from "../src/models/gru-ode.js";
import type { RecurrentModel } from "../src/models/recurrent.js";
import type { Tensor } from "../src/tensor.js";
import { fit, type FitOptions } from "../src/train/index.js";
import { AutoNCP } from "../src/wirings/auto-ncp.js";
import { SKIP_NO_GOLDENS, loadGolden, relativeError } from "./helpers/goldens.js";
import { sineDataset } from "./helpers/synthetic-data.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ncps-checkpoint-test-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
const file = (name: string) => path.join(scratch, name);

function input(B: number, L: number, F: number, dtype: "float32" | "float64", seed = 1): Tensor {
  const n = B * L * F;
  const data = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(seed * 7.1 + i * 0.37);
  return { shape: [B, L, F], data };
}

function bitsEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function sineModel(seed: number, extra: CfCOptions = {}): CfC {
  return new CfC(1, 8, { backboneUnits: 16, projSize: 1, backend: "reference", seed, ...extra });
}

describe("checkpoint round trip", () => {
  test("float64 weights stored as float64 give the same predictions bit for bit (wired, mixed memory, projection)", () => {
    const model = new CfC(3, new AutoNCP(10, 2, { seed: 5 }), { mixedMemory: true, backend: "reference", seed: 4 });
    const p = file("wired.safetensors");
    saveCheckpoint(p, model, { task: "regress", feature_names: ["a", "b", "c"], normalization: { featureMean: [1, 2, 3], featureStd: [1, 1, 2], timeScale: 0.5 } }, { dtype: "float64" });
    const loaded = loadCheckpoint(p, { backend: "reference" });
    const x = input(2, 5, 3, "float64");
    assert.ok(bitsEqual(loaded.model.predict(x).output.data, model.predict(x).output.data));
    assert.deepEqual(loaded.model.toConfig(), model.toConfig());
    assert.deepEqual(loaded.extras, { task: "regress", feature_names: ["a", "b", "c"], normalization: { featureMean: [1, 2, 3], featureStd: [1, 1, 2], timeScale: 0.5 } });
    const names = [...decodeSafetensors(fs.readFileSync(p)).tensors.keys()];
    assert.deepEqual(names, [...model.stateDict().keys()], "tensors are the state_dict, masks included, in order");
    assert.ok(names.some((n) => n.endsWith("sparsity_mask")));
  });

  test("the default float32 file holds the weights rounded to float32, with the export script's metadata", () => {
    const model = sineModel(3);
    const bytes = encodeCheckpoint(model);
    const raw = decodeSafetensors(bytes);
    assert.equal(raw.metadata.format, "ncps-ts");
    assert.equal(raw.metadata.version, "1");
    assert.deepEqual(JSON.parse(raw.metadata.config), model.toConfig());
    for (const [name, t] of model.stateDict()) {
      const stored = raw.tensors.get(name)!;
      assert.equal(stored.dtype, "F32");
      assert.ok(bitsEqual(stored.data as Float32Array, Float32Array.from(t.data)), name);
    }
  });

  test("a float32 (wasm) model round-trips exactly", { skip: wasmSimdSupported() ? false : "no WebAssembly SIMD" }, () => {
    const model = new CfC(2, 6, { backboneUnits: 8, backend: "wasm", seed: 9 });
    const p = file("wasm.safetensors");
    saveCheckpoint(p, model);
    const loaded = loadCheckpoint(p);
    const x = input(3, 4, 2, "float32");
    assert.equal(loaded.model.dtype, "float32");
    assert.ok(bitsEqual(loaded.model.predict(x).output.data, model.predict(x).output.data));
  });

  test("the ODE baselines (CTRNN, GRUODE) round-trip with their solver options; a dopri5 run resumes", async () => {
    const x = input(2, 4, 2, "float64");
    const timespans: Tensor = { shape: [2, 4], data: Float64Array.from([0.5, 1, 0, 2, 0.1, 0.7, 1.3, 0.4]) };
    const models: RecurrentModel[] = [
      new CTRNN(2, 5, { backend: "reference", seed: 2, solver: "rk4", stepSize: 0.25, mixedMemory: true, projSize: 1 }),
      new GRUODE(2, 4, { backend: "reference", seed: 3, solver: "dopri5", rtol: 1e-4, atol: 1e-7, maxSteps: 300 }),
      new GRUODE(2, 3, { backend: "reference", seed: 4, solver: "euler", stepsPerGap: 3, returnSequences: false }),
    ];
    for (const [k, model] of models.entries()) {
      const p = file(`ode-${k}.safetensors`);
      saveCheckpoint(p, model, {}, { dtype: "float64" });
      const loaded = loadCheckpoint(p, { backend: "reference" });
      assert.equal(loaded.model.constructor, model.constructor);
      assert.deepEqual(loaded.model.toConfig(), model.toConfig());
      assert.ok(bitsEqual(loaded.model.predict(x, { timespans }).output.data, model.predict(x, { timespans }).output.data), `${model.toConfig().model} ${k}`);
    }
    // a default dopri5 config holds max_step null (no bound): resuming must see the same model
    const train = sineDataset(8, 4, 1);
    const p = file("ode-resume.safetensors");
    const make = () => new GRUODE(1, 3, { backend: "reference", seed: 1, projSize: 1 });
    await fit(make(), train, { epochs: 1, batchSize: 4, checkpointPath: p });
    const rest = await fit(make(), train, { epochs: 2, batchSize: 4, resumeFrom: p, checkpointPath: p });
    assert.deepEqual(rest.history.map((h) => h.epoch), [2]);
  });
});

describe("bad checkpoint files get clear errors", () => {
  const model = sineModel(1);
  const good = encodeCheckpoint(model);
  const headerLength = Number(new DataView(good.buffer, good.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + headerLength)));

  /** Re-assembles a file from a modified header and the original data section. */
  const withHeader = (h: unknown, data = good.subarray(8 + headerLength)): Uint8Array => {
    const text = new TextEncoder().encode(JSON.stringify(h));
    const padded = Math.ceil(text.length / 8) * 8;
    const out = new Uint8Array(8 + padded + data.length).fill(0x20);
    new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
    out.set(text, 8);
    out.set(data, 8 + padded);
    return out;
  };
  const load = (bytes: Uint8Array, name: string) => {
    const p = file(name);
    fs.writeFileSync(p, bytes);
    return () => loadCheckpoint(p, { backend: "reference" });
  };

  test("truncated file", () => {
    assert.throws(load(good.subarray(0, good.length - 10), "trunc.safetensors"), /trunc\.safetensors.*(beyond|truncated)/);
    assert.throws(load(good.subarray(0, 5), "tiny.safetensors"), /tiny\.safetensors: not a safetensors file/);
  });

  test("malformed header", () => {
    const bad = Uint8Array.from(good);
    bad[8] = "[".charCodeAt(0);
    assert.throws(load(bad, "hdr.safetensors"), /hdr\.safetensors: safetensors header/);
  });

  test("a tensor beyond the end of the data", () => {
    const h = structuredClone(header);
    const name = "rnn_cell.ff1.bias";
    const [a, b] = h[name].data_offsets;
    h[name].data_offsets = [a + 1_000_000, b + 1_000_000];
    assert.throws(load(withHeader(h), "beyond.safetensors"), /beyond\.safetensors: tensor "rnn_cell\.ff1\.bias".*beyond/);
  });

  test("wrong shape, missing and unexpected tensors are all named", () => {
    const t = new Map([...model.stateDict()].map(([k, v]) => [k, { shape: [...v.shape], data: Float32Array.from(v.data) }]));
    const w = t.get("rnn_cell.ff2.weight")!;
    t.set("rnn_cell.ff2.weight", { shape: [w.shape[1], w.shape[0]], data: w.data });
    t.delete("fc.bias");
    t.set("rnn_cell.extra", { shape: [2], data: new Float32Array(2) });
    const meta = decodeSafetensors(good).metadata;
    assert.throws(
      load(encodeSafetensors(t, meta), "shapes.safetensors"),
      (e: Error) =>
        /shapes\.safetensors/.test(e.message) &&
        /rnn_cell\.ff2\.weight: expected \[8, 16\], got \[16, 8\]/.test(e.message) &&
        /missing 1: fc\.bias/.test(e.message) &&
        /unexpected 1: rnn_cell\.extra/.test(e.message),
    );
  });

  test("metadata: missing format, config not JSON, unknown model kind, bad extras", () => {
    const variant = (meta: Record<string, string>, name: string) => load(withHeader({ ...header, __metadata__: meta }), name);
    const m = header.__metadata__;
    assert.throws(variant({ config: m.config }, "nofmt.safetensors"), /nofmt\.safetensors: not an ncps-ts checkpoint.*"format"/);
    assert.throws(variant({ ...m, version: "7" }, "ver.safetensors"), /ver\.safetensors: checkpoint version "7"/);
    assert.throws(variant({ format: "ncps-ts", version: "1" }, "nocfg.safetensors"), /nocfg\.safetensors: metadata has no "config"/);
    assert.throws(variant({ ...m, config: "{oops" }, "json.safetensors"), /json\.safetensors: metadata entry "config" is not valid JSON/);
    assert.throws(variant({ ...m, config: '{"model":"Transformer","constructor_args":{"input_size":1}}' }, "kind.safetensors"), /kind\.safetensors: unknown model kind "Transformer"/);
    assert.throws(variant({ ...m, feature_names: "[1,2]" }, "extras.safetensors"), /extras\.safetensors: metadata entry "feature_names" must be an array of strings/);
    assert.throws(variant({ ...m, normalization: '{"featureMean":[0],"featureStd":[-1]}' }, "norm.safetensors"), /norm\.safetensors: metadata entry "normalization": featureStd must be an array of positive/);
    assert.throws(variant({ ...m, task: "dance" }, "extras2.safetensors"), /extras2\.safetensors: metadata entry "task" is not valid JSON/);
  });
});

describe("atomic writes", () => {
  test("a write interrupted half way leaves the previous checkpoint intact", () => {
    const p = file("atomic.safetensors");
    const first = sineModel(1);
    saveCheckpoint(p, first);
    const before = fs.readFileSync(p);
    const original = fsModule.writeSync;
    // Simulate the process dying mid-write: the first chunk goes out, then the write fails.
    let calls = 0;
    (fsModule as { writeSync: unknown }).writeSync = (fd: number, buffer: Uint8Array, offset: number, length: number) => {
      if (calls++ > 0) throw new Error("simulated crash during write");
      return original(fd, buffer, offset, Math.min(length, 64));
    };
    syncBuiltinESMExports();
    try {
      assert.throws(() => saveCheckpoint(p, sineModel(2)), /simulated crash/);
    } finally {
      (fsModule as { writeSync: unknown }).writeSync = original;
      syncBuiltinESMExports();
    }
    assert.ok(calls >= 2, "the write was really interrupted");
    assert.deepEqual(fs.readFileSync(p), before, "the old file is untouched");
    assert.deepEqual(fs.readdirSync(scratch).filter((f) => f.endsWith(".tmp")), [], "no temporary file is left behind");
    const x = input(1, 3, 1, "float64");
    assert.ok(relativeError(loadCheckpoint(p, { backend: "reference" }).model.predict(x).output.data, first.predict(x).output.data) < 1e-6);
  });
});

describe("resume", () => {
  test("an interrupted run resumed from its checkpoint ends with the same weights, bit for bit", async () => {
    const train = sineDataset(30, 6, 1);
    const valid = sineDataset(10, 6, 2);
    const options: FitOptions = {
      epochs: 5,
      batchSize: 8,
      lr: 0.02,
      schedule: "warmup:1,exp:0.8",
      valid,
      earlyStopping: { patience: 10 },
      clipNorm: 1,
      seed: 17,
    };
    // dropout (two backbone layers) makes the model's generator part of the state to restore
    const make = (seed: number) => sineModel(seed, { backboneLayers: 2, backboneDropout: 0.3 });
    const straight = make(5);
    const full = await fit(straight, train, options);

    const p = file("resume.safetensors");
    const first = make(5);
    await fit(first, train, { ...options, checkpointPath: p, callbacks: { onEpochEnd: (e) => e.epoch < 2 } });
    const saved = readCheckpoint(p);
    assert.equal(saved.training!.state.epoch, 2);
    assert.ok(Object.keys(saved.training!.optimizerBuffers).some((k) => k.endsWith("/exp_avg_sq")));

    const resumed = make(99); // different initial weights: all of them come from the checkpoint
    const rest = await fit(resumed, train, { ...options, resumeFrom: p, checkpointPath: p });
    assert.deepEqual(rest.history.map((h) => h.epoch), [3, 4, 5]);
    for (const [name, t] of straight.stateDict()) assert.ok(bitsEqual(resumed.stateDict().get(name)!.data, t.data), name);
    assert.deepEqual(rest.history.map((h) => h.validLoss), full.history.slice(2).map((h) => h.validLoss));
    assert.equal(rest.globalStep, full.globalStep);
  });

  test("resuming into a different model, or from a file without training state, is refused", async () => {
    const train = sineDataset(8, 4, 1);
    const p = file("plain.safetensors");
    saveCheckpoint(p, sineModel(1));
    await assert.rejects(fit(sineModel(1), train, { epochs: 1, resumeFrom: p }), /plain\.safetensors: the checkpoint holds no training state/);
    const other = new CfC(1, 6, { backboneUnits: 16, projSize: 1, backend: "reference" });
    await assert.rejects(fit(other, train, { epochs: 1, resumeFrom: p }), /plain\.safetensors: the checkpoint is for a different model/);
  });

  test("optimizer buffers that do not fit the model are reported by tensor name", () => {
    const model = sineModel(1);
    const bytes = encodeCheckpoint(model, {}, {
      training: {
        state: {
          epoch: 1, globalStep: 1, seed: 0, modelRng: [1, 2, 3, 4, null], shuffleRng: [1, 2, 3, 4, null], lr: 0.1, best: null, badEpochs: 0,
          optimizer: { kind: "adam", step: 1, lr: 0.1, hyper: {}, paramSteps: {} },
        },
        optimizerBuffers: { "fc.bias/exp_avg": new Float64Array(3) },
        bestWeights: null,
      },
    });
    // refused when the file is read, before any model meets it
    assert.throws(() => decodeCheckpoint(bytes, "opt.safetensors"), /opt\.safetensors: tensor "optimizer\.fc\.bias\.exp_avg" has 3 values, model tensor "fc\.bias" has 1/);
  });
});

describe("files written by tools/export_ncps.py", { skip: SKIP_NO_GOLDENS }, () => {
  for (const name of ["cfc_default_bb1.json", "cfc_autoncp_default_mixed_proj.json"]) {
    test(`${name}: encoded as the script does, loads and reproduces the PyTorch output (float64, 1e-9)`, () => {
      const c = loadGolden(name);
      const config = { model: c.spec.model, constructor_args: c.spec.constructor_args };
      // what the script writes: every state_dict entry as little-endian F32 in order, and this metadata
      const tensors = c.weights.map((w: { name: string; shape: number[]; data: number[] }) => ({ name: w.name, dtype: "F32" as const, shape: w.shape, data: w.data }));
      const bytes = encodeSafetensors(tensors, { format: "ncps-ts", version: "1", config: JSON.stringify(config) });
      const p = file(name.replace(".json", ".safetensors"));
      fs.writeFileSync(p, bytes);
      const { model, training } = loadCheckpoint(p, { backend: "reference" });
      assert.equal(training, null);
      const t = (j: { shape: number[]; data: number[] }): Tensor => ({ shape: j.shape, data: Float64Array.from(j.data) });
      const hx = c.init_state ? (c.init_state.c ? { h: t(c.init_state.h), c: t(c.init_state.c) } : t(c.init_state.h)) : undefined;
      const out = (model as RecurrentModel).predict(t(c.input), { hx, timespans: c.timespans ? t(c.timespans) : undefined }).output;
      assert.deepEqual([...out.shape], c.output.shape);
      const err = relativeError(out.data, c.output.data);
      assert.ok(err <= 1e-9, `relative error ${err}`);
    });
  }
});
