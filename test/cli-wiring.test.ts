/** `ncps wiring`, run in-process through the CLI dispatcher. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../src/cli/main.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const goldenFile = path.resolve(projectRoot, "../shared", "goldens/wirings.json");
const haveGolden = fs.existsSync(goldenFile);
const skipGolden = haveGolden ? false : `reference file ${goldenFile} not found (../shared is absent)`;
const golden = haveGolden ? JSON.parse(fs.readFileSync(goldenFile, "utf8")) : { wirings: [] };

const KIND_OF_CLASS: Record<string, string> = {
  "ncps.wirings.AutoNCP": "AutoNCP",
  "ncps.wirings.NCP": "NCP",
  "ncps.wirings.FullyConnected": "FullyConnected",
  "ncps.wirings.Random": "Random",
};

async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(["wiring", ...args], { out: (s) => (out += s), err: (s) => (err += s), isTTY: false });
  return { code, out, err };
}

describe("ncps wiring --json", () => {
  // every wiring of the reference file, whatever its kind
  const names: string[] = golden.wirings.map((w: { name: string }) => w.name);
  test("the reference file lists wirings", { skip: skipGolden }, () => assert.ok(names.length >= 8));
  for (const name of names) {
    test(`${name} equals wirings.json`, { skip: skipGolden }, async () => {
      const g = golden.wirings.find((w: { name: string }) => w.name === name);
      assert.ok(g, `${name} is in wirings.json`);
      const spec = JSON.stringify({ kind: KIND_OF_CLASS[g.class], args: g.args });
      const r = await runCli(["--spec", spec, "--input-dim", String(g.input_dim), "--json"]);
      assert.equal(r.code, 0, r.err);
      const j = JSON.parse(r.out);
      assert.deepEqual(Object.keys(j), [
        "units",
        "input_dim",
        "output_dim",
        "layers",
        "adjacency_matrix",
        "sensory_adjacency_matrix",
        "synapse_count",
        "sensory_synapse_count",
      ]);
      assert.equal(j.units, g.units);
      assert.equal(j.input_dim, g.input_dim);
      assert.equal(j.output_dim, g.output_dim);
      assert.deepEqual(j.layers, g.layers);
      assert.deepEqual(j.adjacency_matrix, g.adjacency_matrix);
      assert.deepEqual(j.sensory_adjacency_matrix, g.sensory_adjacency_matrix);
      assert.equal(j.synapse_count, g.synapse_count);
      assert.equal(j.sensory_synapse_count, g.sensory_synapse_count);
    });
  }

  test("--spec @file reads the spec from a file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ncps-wiring-"));
    try {
      const file = path.join(dir, "spec.json");
      fs.writeFileSync(file, JSON.stringify({ kind: "AutoNCP", args: { units: 16, output_size: 4 } }));
      const r = await runCli(["--spec", `@${file}`, "--input-dim=8", "--json"]);
      assert.equal(r.code, 0, r.err);
      const j = JSON.parse(r.out);
      // Counts of AutoNCP(16, 4).build(8) from the reference notes (§2.6).
      assert.equal(j.synapse_count, 28);
      assert.equal(j.sensory_synapse_count, 32);
      assert.deepEqual(j.sensory_adjacency_matrix.shape, [8, 16]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("ncps wiring --svg and summary", () => {
  test("--svg writes a complete drawing and leaves no temporary file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ncps-wiring-"));
    try {
      const file = path.join(dir, "w.svg");
      const r = await runCli(["--spec", '{"kind":"NCP","args":{"inter_neurons":6,"command_neurons":4,"motor_neurons":2,"sensory_fanout":3,"inter_fanout":2,"recurrent_command_synapses":3,"motor_fanin":2}}', "--input-dim", "4", "--svg", file]);
      assert.equal(r.code, 0, r.err);
      const svg = fs.readFileSync(file, "utf8");
      assert.match(svg, /^<svg /);
      assert.match(svg, /<\/svg>\n$/);
      assert.equal(svg.split('class="neuron ').length - 1, 12);
      assert.deepEqual(fs.readdirSync(dir), ["w.svg"]);
      assert.ok(r.out.includes(file));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("without --json or --svg a summary is printed", async () => {
    const r = await runCli(["--spec", '{"kind":"AutoNCP","args":{"units":16,"output_size":4}}', "--input-dim", "8"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /AutoNCP\(units=16, output_size=4, sparsity_level=0.5, seed=22222\) built for 8 inputs/);
    assert.match(r.out, /inter 8 \[8\.\.15\]; command 4 \[4\.\.7\]; motor 4 \[0\.\.3\]/);
    assert.match(r.out, /synapses 28, sensory synapses 32/);
  });

  test("the command is listed in the top-level usage", async () => {
    let out = "";
    const code = await main(["--help"], { out: (s) => (out += s), err: () => {}, isTTY: false });
    assert.equal(code, 0);
    assert.match(out, /wiring/);
  });
});

describe("ncps wiring usage errors (exit 2)", () => {
  const cases: [string, string[], RegExp][] = [
    ["malformed JSON", ["--spec", '{"kind":"AutoNCP",', "--input-dim", "3"], /--spec is not valid JSON/],
    ["unknown kind", ["--spec", '{"kind":"GRU","args":{}}', "--input-dim", "3"], /unknown kind "GRU"/],
    ["missing argument", ["--spec", '{"kind":"AutoNCP","args":{"units":16}}', "--input-dim", "3"], /missing argument "output_size"/],
    ["invalid sizes", ["--spec", '{"kind":"AutoNCP","args":{"units":8,"output_size":7}}', "--input-dim", "3"], /output_size must be less than units - 2/],
    ["missing --spec", ["--input-dim", "3"], /--spec is required/],
    ["missing --input-dim", ["--spec", '{"kind":"FullyConnected","args":{"units":4}}'], /--input-dim is required/],
    ["bad --input-dim", ["--spec", '{"kind":"FullyConnected","args":{"units":4}}', "--input-dim", "0"], /--input-dim must be an integer >= 1, got '0'/],
    ["unknown flag", ["--spec", '{"kind":"FullyConnected","args":{"units":4}}', "--input-dim", "2", "--png", "x"], /unknown flag --png/],
    ["unreadable spec file", ["--spec", "@/nonexistent/dir/spec.json", "--input-dim", "2"], /cannot read --spec file \/nonexistent\/dir\/spec.json/],
  ];
  for (const [name, args, message] of cases) {
    test(name, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2);
      assert.match(r.err, message);
      assert.equal(r.out, "");
    });
  }
});
