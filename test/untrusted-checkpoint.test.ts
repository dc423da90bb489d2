// Checkpoints and .npy files as untrusted input: configs asking for huge models, deeply nested JSON and
// absurd header lengths are refused with an Error naming the file and the entry, before anything big
// is built or read.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decodeSafetensors, encodeSafetensors, MAX_SAFETENSORS_HEADER_BYTES } from "../src/io/safetensors.js";
import { loadSafetensors } from "../src/io/safetensors-file.js";
import { decodeNpy, loadNpy, NPY_MAX_HEADER_BYTES } from "../src/io/npy.js";
import { buildModel, type ModelConfig } from "../src/models/build.js";
import { CONFIG_LIMITS, impliedParameterCount, minimumParameterCount } from "../src/models/config-limits.js";
import { CfC } from "../src/models/cfc.js";
import { encodeCheckpoint } from "../src/train/checkpoint.js";
import { loadCheckpoint, readCheckpoint } from "../src/train/checkpoint-file.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ncps-untrusted-test-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A valid small CfC checkpoint whose metadata entry `key` is replaced by `value`, written to `name`. */
function checkpointWith(name: string, edit: (metadata: Record<string, string>) => void): string {
  const decoded = decodeSafetensors(encodeCheckpoint(new CfC(2, 4, { backboneUnits: 3, backend: "reference", seed: 1 })));
  const metadata = { ...decoded.metadata };
  edit(metadata);
  const file = path.join(scratch, name);
  fs.writeFileSync(file, encodeSafetensors(decoded.tensors, metadata));
  return file;
}

function withConstructorArgs(name: string, change: (args: Record<string, unknown>) => void): string {
  return checkpointWith(name, (m) => {
    const config = JSON.parse(m.config!) as ModelConfig;
    change(config.constructor_args);
    m.config = JSON.stringify(config);
  });
}

function assertCleanError(run: () => unknown, file: string, ...parts: RegExp[]): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof Error, "an Error");
    assert.ok(e.message.includes(file), `names the file: ${e.message}`);
    for (const p of parts) assert.match(e.message, p);
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  });
}

describe("configs beyond sane bounds are refused before building", () => {
  test("backbone_layers 2^31 (which aborted V8) is an Error naming the file and the argument", () => {
    const file = withConstructorArgs("layers-2e31.safetensors", (a) => (a.backbone_layers = 2 ** 31));
    assertCleanError(() => loadCheckpoint(file, { backend: "reference" }), file, /"config"/, /backbone_layers is 2147483648/, /limit of 1000/);
  });

  test("backbone_layers 1e6 fails fast with the limit", () => {
    const file = withConstructorArgs("layers-1e6.safetensors", (a) => (a.backbone_layers = 1e6));
    assertCleanError(() => loadCheckpoint(file, { backend: "reference" }), file, /backbone_layers is 1000000/);
  });

  test("a backbone_layers within the limit but far beyond the stored tensors is refused before building", () => {
    const file = withConstructorArgs("layers-900.safetensors", (a) => (a.backbone_layers = 900));
    assertCleanError(() => loadCheckpoint(file, { backend: "reference" }), file, /"config"/, /at least \d+ weights/, /hold \d+ values/);
  });

  test("an AutoNCP of 30,000 units is refused by its neuron count", () => {
    const file = withConstructorArgs("autoncp-30000.safetensors", (a) => (a.units = { wiring: { kind: "AutoNCP", args: { units: 30000, output_size: 2 } } }));
    assertCleanError(() => loadCheckpoint(file, { backend: "reference" }), file, /units\.wiring\.args\.units is 30000 neurons/, /limit of 4096/);
  });

  test("a 4000-neuron wiring within the limits, in a file whose tensors are a small model's, is refused before building", () => {
    for (const model of ["CfC", "LTC"]) {
      const file = checkpointWith(`wired-4000-${model}.safetensors`, (m) => {
        m.config = JSON.stringify({ model, constructor_args: { input_size: 2, units: { wiring: { kind: "AutoNCP", args: { units: 4000, output_size: 2 } } } } });
      });
      assertCleanError(() => loadCheckpoint(file, { backend: "reference" }), file, new RegExp(`describes a ${model} with at least \\d+ weights`), /hold \d+ values/);
    }
  });

  test("widths and counts each have a limit; an implied parameter count beyond 2e8 is refused too", () => {
    for (const [key, value] of [["units", 70000], ["input_size", 1e9], ["backbone_units", 2 ** 40], ["proj_size", 1e6]] as const) {
      const file = withConstructorArgs(`${key}.safetensors`, (a) => (a[key] = value));
      assertCleanError(() => loadCheckpoint(file, { backend: "reference" }), file, new RegExp(`${key} is ${value}`));
    }
    const file = withConstructorArgs("params.safetensors", (a) => Object.assign(a, { units: 60000, backbone_units: 60000 }));
    assertCleanError(() => loadCheckpoint(file, { backend: "reference" }), file, /implies about [\d.e+]+ parameters, above the limit/);
    assert.throws(() => buildModel({ model: "LTC", constructor_args: { input_size: 1, units: 1, ode_unfolds: CONFIG_LIMITS.odeUnfolds + 1 } }), /ode_unfolds is 10001/);
    assert.throws(() => buildModel({ model: "ODERNN", constructor_args: { input_size: 1, hidden_size: 2, solver: "euler", steps_per_gap: 1e9 } }), /steps_per_gap is 1000000000/);
  });

  test("the implied parameter count errs high and the minimum low, for every model kind", () => {
    const wiring = (kind: string, args: Record<string, unknown>) => ({ wiring: { kind, args } });
    const configs: ModelConfig[] = [];
    for (const I of [1, 9]) {
      for (const H of [5, 12]) {
        configs.push(
          { model: "CfC", constructor_args: { input_size: I, units: H, backbone_units: 7, backbone_layers: 3, proj_size: 2, mixed_memory: true } },
          { model: "CfC", constructor_args: { input_size: I, units: H, mode: "pure", backbone_layers: 0 } },
          { model: "CfC", constructor_args: { input_size: I, units: wiring("AutoNCP", { units: H + 3, output_size: 2 }), mixed_memory: true } },
          { model: "CfC", constructor_args: { input_size: I, units: wiring("NCP", { inter_neurons: 4, command_neurons: 3, motor_neurons: 2, sensory_fanout: 2, inter_fanout: 2, recurrent_command_synapses: 3, motor_fanin: 2 }) } },
          { model: "CfC", constructor_args: { input_size: I, units: wiring("FullyConnected", { units: H }), mode: "no_gate" } },
          { model: "CfC", constructor_args: { input_size: I, units: wiring("Random", { units: H, sparsity_level: 0.5 }) } },
          { model: "LTC", constructor_args: { input_size: I, units: H, mixed_memory: true } },
          { model: "LTC", constructor_args: { input_size: I, units: wiring("NCP", { inter_neurons: 4, command_neurons: 3, motor_neurons: 2, sensory_fanout: 2, inter_fanout: 2, recurrent_command_synapses: 3, motor_fanin: 2 }) } },
          { model: "LSTM", constructor_args: { input_size: I, hidden_size: H, proj_size: 2 } },
          { model: "GRU", constructor_args: { input_size: I, hidden_size: H } },
          { model: "CTRNN", constructor_args: { input_size: I, units: H, mixed_memory: true, proj_size: 1 } },
          { model: "GRUODE", constructor_args: { input_size: I, hidden_size: H, proj_size: 2 } },
          { model: "ODERNN", constructor_args: { input_size: I, hidden_size: H, ode_units: 6 } },
          { model: "ODELSTM", constructor_args: { input_size: I, hidden_size: H, ode_units: 6, proj_size: 3 } },
        );
      }
    }
    for (const config of configs) {
      let count = 0;
      for (const t of buildModel(config, { backend: "reference" }).stateDict().values()) count += t.data.length;
      assert.ok(impliedParameterCount(config) >= count, `${JSON.stringify(config)}: implied ${impliedParameterCount(config)} < actual ${count}`);
      assert.ok(minimumParameterCount(config) <= count, `${JSON.stringify(config)}: minimum ${minimumParameterCount(config)} > actual ${count}`);
    }
  });
});

describe("headers and nesting", () => {
  const deep = (n: number) => "[".repeat(n) + "]".repeat(n);

  test("deeply nested JSON in a checkpoint's metadata names the file and the entry", () => {
    const config = checkpointWith("deep-config.safetensors", (m) => (m.config = deep(100000)));
    assertCleanError(() => loadCheckpoint(config, { backend: "reference" }), config, /metadata entry "config"/, /nested deeper than 64/);
    const extra = checkpointWith("deep-extra.safetensors", (m) => (m.notes = `{"a":${deep(100000)}}`));
    assertCleanError(() => loadCheckpoint(extra, { backend: "reference" }), extra, /metadata entry "notes"/, /nested deeper/);
  });

  test("deeply nested JSON in the safetensors header itself names the file", () => {
    const text = `{"__metadata__":{},"x":${deep(100000)}}`;
    const header = new TextEncoder().encode(text + " ".repeat((8 - (text.length % 8)) % 8));
    const bytes = new Uint8Array(8 + header.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    const file = path.join(scratch, "deep-header.safetensors");
    fs.writeFileSync(file, bytes);
    assertCleanError(() => loadSafetensors(file), file, /header JSON is nested deeper than 64/);
  });

  test("a 150 MB declared header length is refused from the first 8 bytes, read or in memory", () => {
    const bytes = new Uint8Array(64);
    new DataView(bytes.buffer).setBigUint64(0, 150_000_000n, true);
    const file = path.join(scratch, "huge-header.safetensors");
    fs.writeFileSync(file, bytes);
    assertCleanError(() => loadSafetensors(file), file, /header length 150000000 bytes exceeds the 100000000-byte limit/);
    assertCleanError(() => loadCheckpoint(file), file, /exceeds the 100000000-byte limit/);
    assertCleanError(() => decodeSafetensors(bytes, "mem.safetensors"), "mem.safetensors", /exceeds/);
    assert.equal(MAX_SAFETENSORS_HEADER_BYTES, 100_000_000);
  });

  test("a deeply nested .npy header names the file", () => {
    const dict = `{'descr': '<f8', 'fortran_order': False, 'shape': ${"(".repeat(4000)}${")".repeat(4000)}, }`;
    const headerLength = Math.ceil((10 + dict.length + 1) / 64) * 64 - 10;
    const header = dict + " ".repeat(headerLength - dict.length - 1) + "\n";
    const bytes = new Uint8Array(12 + header.length);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0], 0);
    new DataView(bytes.buffer).setUint32(8, header.length, true);
    for (let i = 0; i < header.length; i++) bytes[12 + i] = header.charCodeAt(i);
    const file = path.join(scratch, "deep.npy");
    fs.writeFileSync(file, bytes);
    assertCleanError(() => loadNpy(file), file, /nesting deeper than 32 levels/);
    assert.throws(() => decodeNpy(bytes, "x.npy"), (e: Error) => e.message.length < 600);
  });
});

describe("header and training-tensor sizes are bounded", () => {
  test("a .npy header longer than numpy's 10,000-byte limit is refused from its length, naming the file", () => {
    const bytes = new Uint8Array(12 + 64);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0], 0);
    new DataView(bytes.buffer).setUint32(8, 3_000_000_000, true);
    const file = path.join(scratch, "long-header.npy");
    fs.writeFileSync(file, bytes);
    assertCleanError(() => loadNpy(file), file, /header length 3000000000 bytes exceeds the 10000-byte limit/);
    // just over the limit, with the bytes present
    const dict = `{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }`;
    const header = dict + " ".repeat(NPY_MAX_HEADER_BYTES + 1 - dict.length - 1) + "\n";
    const over = new Uint8Array(12 + header.length + 8);
    over.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0], 0);
    new DataView(over.buffer).setUint32(8, header.length, true);
    for (let i = 0; i < header.length; i++) over[12 + i] = header.charCodeAt(i);
    assertCleanError(() => decodeNpy(over, "over.npy"), "over.npy", /header length 10001 bytes exceeds/);
  });

  /** A CfC training checkpoint with its training tensors edited by `edit`, written to `name`. */
  function trainingCheckpointWith(name: string, edit: (tensors: Map<string, { shape: number[]; data: Float64Array }>) => void): string {
    const model = new CfC(2, 4, { backboneUnits: 3, backend: "reference", seed: 1 });
    const buffers: Record<string, Float64Array> = {};
    for (const p of model.parameters()) {
      buffers[`${p.name}/exp_avg`] = new Float64Array(p.value.length);
      buffers[`${p.name}/exp_avg_sq`] = new Float64Array(p.value.length);
    }
    const state = {
      epoch: 1, globalStep: 1, seed: 0, modelRng: [1, 2, 3, 4, null], shuffleRng: [1, 2, 3, 4, null], lr: 0.1, best: null, badEpochs: 0,
      optimizer: { kind: "adam" as const, step: 1, lr: 0.1, hyper: {}, paramSteps: {} },
    };
    const decoded = decodeSafetensors(encodeCheckpoint(model, {}, { training: { state, optimizerBuffers: buffers, bestWeights: null }, dtype: "float64" }));
    const tensors = new Map([...decoded.tensors].map(([n, t]) => [n, { shape: [...t.shape], data: Float64Array.from(t.data as Float64Array) }]));
    edit(tensors);
    const file = path.join(scratch, name);
    fs.writeFileSync(file, encodeSafetensors([...tensors].map(([n, t]) => ({ name: n, ...t })), decoded.metadata));
    return file;
  }

  test("the unedited training checkpoint loads (the cases below differ from it in one tensor)", () => {
    const file = trainingCheckpointWith("train-ok.safetensors", () => undefined);
    assert.ok(loadCheckpoint(file, { backend: "reference" }).training);
  });

  test("an optimizer buffer of a tensor the model does not have is refused naming the tensor", () => {
    const file = trainingCheckpointWith("train-extra.safetensors", (t) => t.set("optimizer.ghost.exp_avg", { shape: [1_000_000], data: new Float64Array(1_000_000) }));
    assertCleanError(() => readCheckpoint(file), file, /tensor "optimizer\.ghost\.exp_avg" is an optimizer buffer of "ghost", which is not a model tensor of the file/);
  });

  test("an optimizer buffer larger than its parameter is refused naming both", () => {
    const file = trainingCheckpointWith("train-big.safetensors", (t) => t.set("optimizer.rnn_cell.ff1.bias.exp_avg", { shape: [500_000], data: new Float64Array(500_000) }));
    assertCleanError(() => readCheckpoint(file), file, /tensor "optimizer\.rnn_cell\.ff1\.bias\.exp_avg" has 500000 values, model tensor "rnn_cell\.ff1\.bias" has 4/);
  });

  test("more buffers per parameter than any optimizer keeps are refused", () => {
    const file = trainingCheckpointWith("train-many.safetensors", (t) => {
      for (const b of ["a", "b"]) t.set(`optimizer.rnn_cell.ff1.bias.${b}`, { shape: [4], data: new Float64Array(4) });
    });
    assertCleanError(() => readCheckpoint(file), file, /optimizer buffer number 4 of "rnn_cell\.ff1\.bias" \(an optimizer keeps at most 3 per parameter\)/);
  });

  test("a best weight of another size is refused naming it", () => {
    const file = trainingCheckpointWith("train-best.safetensors", (t) => t.set("best.rnn_cell.ff1.bias", { shape: [9], data: new Float64Array(9) }));
    assertCleanError(() => readCheckpoint(file), file, /tensor "best\.rnn_cell\.ff1\.bias" has 9 values, model tensor "rnn_cell\.ff1\.bias" has 4/);
  });
});
