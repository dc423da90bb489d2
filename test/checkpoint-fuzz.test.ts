// Property-based fuzz of checkpoint loading: mutations of valid checkpoints of every model kind (bytes of
// the header, JSON values of the config, tensor data, truncation) either load and run with finite outputs
// or throw an Error naming the file; never a fatal crash (which would end this process) or a hang (the
// test's timeout). Seeded; NCPS_FUZZ_RUNS=5000 runs a longer campaign (NCPS_FUZZ_SEED picks the seed).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { decodeSafetensors, encodeSafetensors } from "../src/io/safetensors.js";
import { buildModel, type ModelConfig } from "../src/models/build.js";
import { encodeCheckpoint } from "../src/train/checkpoint.js";
import { loadCheckpoint } from "../src/train/checkpoint-file.js";

const RUNS = Number(process.env.NCPS_FUZZ_RUNS ?? 240);
const SEED = Number(process.env.NCPS_FUZZ_SEED ?? 20261202);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ncps-fuzz-test-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const ncp = { wiring: { kind: "AutoNCP", args: { units: 7, output_size: 2, seed: 3 } } };
const CONFIGS: ModelConfig[] = [
  { model: "CfC", constructor_args: { input_size: 2, units: 4, backbone_units: 3, backbone_layers: 2, proj_size: 1 } },
  { model: "CfC", constructor_args: { input_size: 2, units: ncp, mixed_memory: true } },
  { model: "LTC", constructor_args: { input_size: 2, units: ncp, ode_unfolds: 3 } },
  { model: "LSTM", constructor_args: { input_size: 2, hidden_size: 3, proj_size: 1 } },
  { model: "GRU", constructor_args: { input_size: 2, hidden_size: 3 } },
  { model: "CTRNN", constructor_args: { input_size: 2, units: 3, solver: "rk4", steps_per_gap: 2 } },
  { model: "ODERNN", constructor_args: { input_size: 2, hidden_size: 3, ode_units: 4, solver: "euler" } },
  { model: "GRUODE", constructor_args: { input_size: 2, hidden_size: 3, proj_size: 1 } },
  { model: "ODELSTM", constructor_args: { input_size: 2, hidden_size: 3, ode_units: 4, solver: "dopri5" } },
];
const VALID = CONFIGS.map((config) => encodeCheckpoint(buildModel(config, { backend: "reference", seed: 5 }), { task: "regress" }));

const INTERESTING: unknown[] = [0, -1, 1, 2, 3, 7, 0.5, 2 ** 31, 2 ** 53, 1e6, 30000, 1e308, -1e308, "x", "", null, true, [], {}, [1, 2], { kind: "AutoNCP", args: {} }, "[".repeat(200)];

type Mutation =
  | { kind: "byte"; at: number; value: number }
  | { kind: "truncate"; fraction: number }
  | { kind: "arg"; key: number; value: unknown }
  | { kind: "entry"; key: number; text: string }
  | { kind: "float"; at: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("byte" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("arg" as const), key: fc.nat(), value: fc.oneof(fc.constantFrom(...INTERESTING), fc.jsonValue({ maxDepth: 3 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("entry" as const), key: fc.nat(), text: fc.oneof(fc.string(), fc.json({ maxDepth: 3 })) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("float" as const), at: fc.nat(), value: fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, 1e38, -1e30, 0, 0.5, -2)) }) },
);

/** Applies one or two mutations to a valid checkpoint. Header-level edits re-encode a valid file around the change. */
function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out: Uint8Array = bytes.slice();
  for (const m of mutations) {
    if (m.kind === "byte") {
      const headerEnd = out.length >= 8 ? 8 + Number(new DataView(out.buffer, out.byteOffset).getBigUint64(0, true)) : Infinity;
      // mostly the header and its length, where structure lives
      const span = out.length > 8 && headerEnd <= out.length && m.at % 4 !== 0 ? headerEnd : out.length;
      if (span > 0) out[m.at % span] = m.value;
    } else if (m.kind === "truncate") {
      out = out.slice(0, Math.floor(out.length * m.fraction));
    } else {
      let decoded;
      try {
        decoded = decodeSafetensors(out);
      } catch {
        continue; // already broken beyond re-encoding
      }
      const metadata = { ...decoded.metadata };
      const tensors = decoded.tensors;
      if (m.kind === "arg") {
        let config: { constructor_args: Record<string, unknown> };
        try {
          config = JSON.parse(metadata.config!);
          if (config.constructor_args === null || typeof config.constructor_args !== "object") continue;
        } catch {
          continue;
        }
        const keys = Object.keys(config.constructor_args);
        if (keys.length === 0) continue;
        config.constructor_args[keys[m.key % keys.length]!] = m.value;
        metadata.config = JSON.stringify(config);
      } else if (m.kind === "entry") {
        const keys = Object.keys(metadata);
        metadata[keys[m.key % keys.length]!] = m.text;
      } else {
        const names = [...tensors.keys()];
        const t = tensors.get(names[m.at % names.length]!)!;
        if (t.data.length > 0 && (t.data instanceof Float32Array || t.data instanceof Float64Array)) t.data[Math.floor(m.at / names.length) % t.data.length] = m.value;
      }
      out = encodeSafetensors(tensors, metadata);
    }
  }
  return out;
}

test(`checkpoint fuzz: ${RUNS} mutated checkpoints of ${CONFIGS.length} model kinds load and run finite, or fail with an Error naming the file`, { timeout: Math.max(120_000, RUNS * 500) }, (t) => {
  let loaded = 0;
  let refused = 0;
  fc.assert(
    fc.property(fc.nat({ max: CONFIGS.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 2 }), fc.nat(), (kind, mutations, n) => {
      const file = path.join(scratch, `case-${n % 1000}-${kind}.safetensors`);
      fs.writeFileSync(file, mutate(VALID[kind]!, mutations));
      let model;
      try {
        model = loadCheckpoint(file, { backend: "reference" }).model;
      } catch (e) {
        assert.ok(e instanceof Error, `throws an Error, got ${String(e)}`);
        assert.ok(e.message.includes(file), `the message names the file: ${e.message}`);
        refused++;
        return;
      }
      const x = { shape: [1, 3, model.inputSize], data: new Float64Array(3 * model.inputSize).map((_, i) => Math.sin(i)) };
      let output;
      try {
        output = model.predict(x, { timespans: 0.5 }).output;
      } catch (e) {
        // A loaded model may still refuse to run (e.g. a solver limit from a mutated option): a clean Error, not a crash.
        assert.ok(e instanceof Error && e.message.length > 0, `predict throws an Error, got ${String(e)}`);
        refused++;
        return;
      }
      assert.ok(output.data.every((v) => Number.isFinite(v)), `finite outputs from ${file}: ${[...output.data].slice(0, 4)}`);
      loaded++;
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true, verbose: 1 },
  );
  t.diagnostic(`loaded and ran: ${loaded}, refused with an Error: ${refused}`);
  assert.ok(loaded > 0 && refused > 0, `both outcomes occur (loaded ${loaded}, refused ${refused})`);
});
