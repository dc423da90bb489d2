/**
 * Wirings against ncps: every matrix in ../shared/goldens/wirings.json, the fixtures and the
 * AutoNCP size table of the reference notes (§2.5, §2.6), plus validation, configs and SVG.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import {
  AutoNCP,
  autoNcpSizes,
  FullyConnected,
  NCP,
  Random,
  Wiring,
  wiringFromSpec,
  wiringToSpec,
  wiringToSVG,
} from "../src/wirings/index.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const goldenFile = path.resolve(projectRoot, "../shared", "goldens/wirings.json");
const haveGolden = fs.existsSync(goldenFile);
const skipGolden = haveGolden ? false : `reference file ${goldenFile} not found (../shared is absent)`;
const golden = haveGolden ? JSON.parse(fs.readFileSync(goldenFile, "utf8")) : { wirings: [] };

const KIND_OF_CLASS: Record<string, "AutoNCP" | "NCP" | "FullyConnected" | "Random"> = {
  "ncps.wirings.AutoNCP": "AutoNCP",
  "ncps.wirings.NCP": "NCP",
  "ncps.wirings.FullyConnected": "FullyConnected",
  "ncps.wirings.Random": "Random",
};

/** Rows written as '+', '-', '.' (as in the reference notes) to a flat -1/0/+1 array. */
function rowsToFlat(rows: string[]): number[] {
  return rows.flatMap((r) => [...r].map((c) => (c === "+" ? 1 : c === "-" ? -1 : 0)));
}

function countNegative(a: Int32Array | null): number {
  let n = 0;
  for (const v of a ?? []) if (v < 0) n++;
  return n;
}

/** Weighted checksum sum((i + 1) * a[i]): sensitive to position and sign. */
function checksum(a: Int32Array): number {
  let s = 0;
  a.forEach((v, i) => (s += (i + 1) * v));
  return s;
}

describe("wirings.json: every wiring reproduced exactly", { skip: skipGolden }, () => {
  for (const g of golden.wirings) {
    test(g.name, () => {
      const w = wiringFromSpec({ kind: KIND_OF_CLASS[g.class], args: g.args });
      w.build(g.input_dim);
      assert.equal(w.units, g.units);
      assert.equal(w.outputDim, g.output_dim);
      assert.equal(w.inputDim, g.input_dim);
      assert.equal(w.numLayers, g.num_layers);
      assert.deepEqual(w.layers, g.layers);
      assert.deepEqual(g.adjacency_matrix.shape, [w.units, w.units]);
      assert.deepEqual(Array.from(w.adjacencyMatrix), g.adjacency_matrix.data);
      assert.deepEqual(g.sensory_adjacency_matrix.shape, [g.input_dim, w.units]);
      assert.deepEqual(Array.from(w.sensoryAdjacencyMatrix!), g.sensory_adjacency_matrix.data);
      assert.equal(w.synapseCount, g.synapse_count);
      assert.equal(w.sensorySynapseCount, g.sensory_synapse_count);
      if (g.ncp_params) {
        const p = g.ncp_params;
        assert.deepEqual((w as NCP).ncpSizes, {
          interNeurons: p.inter_neurons,
          commandNeurons: p.command_neurons,
          motorNeurons: p.motor_neurons,
          sensoryFanout: p.sensory_fanout,
          interFanout: p.inter_fanout,
          recurrentCommandSynapses: p.recurrent_command_synapses,
          motorFanin: p.motor_fanin,
        });
      }
    });
  }
});

describe("fixtures from the reference notes (§2.2, §2.3, §2.6)", () => {
  test("AutoNCP(16, 4).build(8): both matrices", () => {
    const w = new AutoNCP(16, 4);
    w.build(8);
    const sensory = [
      "...........+++.+",
      ".........+--..+.",
      ".........-..++.+",
      "........+--..+..",
      "........+.-+.-..",
      "........+..+--..",
      ".........-.-++..",
      "........-+...-.-",
    ];
    const empty = ".".repeat(16);
    const adjacency = [
      empty,
      empty,
      empty,
      empty,
      "-.....-.........",
      ".+.+...+........",
      "+.--+...........",
      ".+-...+.........",
      "....-.-.........",
      "....++..........",
      "....++..........",
      "....-.+.........",
      "....-.+.........",
      "......-+........",
      "....+.+.........",
      "....-.+.........",
    ];
    assert.deepEqual(Array.from(w.sensoryAdjacencyMatrix!), rowsToFlat(sensory));
    assert.deepEqual(Array.from(w.adjacencyMatrix), rowsToFlat(adjacency));
    assert.equal(w.synapseCount, 28);
    assert.equal(w.sensorySynapseCount, 32);
  });

  test("AutoNCP(8, 1).build(2): both matrices", () => {
    const w = new AutoNCP(8, 1);
    w.build(2);
    assert.deepEqual(Array.from(w.sensoryAdjacencyMatrix!), rowsToFlat(["...--..-", "...+.--."]));
    const adj = ["........", "-+-.....", "+.......", ".++.....", "..+.....", "..+.....", "..+.....", ".+-....."];
    assert.deepEqual(Array.from(w.adjacencyMatrix), rowsToFlat(adj));
  });

  test("synapse counts of other NCPs", () => {
    const cases: [Wiring, number, number, number][] = [
      [new AutoNCP(28, 10), 8, 70, 40],
      [new AutoNCP(28, 4), 20, 84, 140],
      [new NCP(10, 10, 8, 6, 6, 4, 6), 8, 112, 48],
      [new NCP(20, 10, 1, 4, 5, 6, 4), 2, 115, 21],
      [new AutoNCP(8, 1), 2, 11, 6],
    ];
    for (const [w, inputDim, syn, sens] of cases) {
      w.build(inputDim);
      assert.equal(w.synapseCount, syn, `${JSON.stringify(w.getConfig())} synapses`);
      assert.equal(w.sensorySynapseCount, sens, `${JSON.stringify(w.getConfig())} sensory synapses`);
    }
  });

  test("FullyConnected(8, 4).build(8): counts, negatives and first rows", () => {
    const w = new FullyConnected(8, 4);
    w.build(8);
    assert.equal(w.synapseCount, 64);
    assert.equal(countNegative(w.adjacencyMatrix), 14);
    assert.equal(w.sensorySynapseCount, 64);
    assert.equal(countNegative(w.sensoryAdjacencyMatrix), 19);
    assert.deepEqual(Array.from(w.adjacencyMatrix.subarray(0, 8)), [1, 1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(Array.from(w.sensoryAdjacencyMatrix!.subarray(0, 8)), [-1, 1, 1, 1, -1, 1, -1, 1]);
  });

  test("Random(32, 1, 0.5).build(2): counts and negatives", () => {
    const w = new Random(32, 1, { sparsityLevel: 0.5 });
    w.build(2);
    assert.equal(w.synapseCount, 512);
    assert.equal(countNegative(w.adjacencyMatrix), 170);
    assert.equal(w.sensorySynapseCount, 32);
    assert.equal(countNegative(w.sensoryAdjacencyMatrix), 10);
  });
});

describe("draws beyond the golden sizes (checksums from ncps's algorithm run on numpy 2.4.6)", () => {
  // [config, inputDim, synapses, negatives, checksum, sensory synapses, negatives, checksum]
  const cases: [Wiring, number, number, number, number, number, number, number][] = [
    // 14400 candidate pairs: numpy's tail-shuffle path of Generator.choice
    [new Random(120, null, { sparsityLevel: 0.3, randomSeed: 7 }), 5, 10080, 3358, 24315755, 420, 142, 37245],
    // large population, small sample: Floyd's path
    [new Random(150, null, { sparsityLevel: 0.99, randomSeed: 3 }), 70, 225, 71, 740553, 105, 34, 219584],
    // 12.5 synapses round half to even: 12
    [new Random(5, null, { sparsityLevel: 0.5, randomSeed: 9 }), 3, 12, 5, 34, 8, 1, 48],
    [new Random(111, null, { randomSeed: 0 }), 2, 12321, 4175, 24311845, 222, 67, 9465],
    [new FullyConnected(30, null, { erevInitSeed: 2 ** 40 + 1 }), 7, 900, 329, 111590, 210, 62, 9183],
  ];
  for (const [w, inputDim, syn, neg, sum, ssyn, sneg, ssum] of cases) {
    test(`${w.kind} ${JSON.stringify(w.getConfig())} built for ${inputDim}`, () => {
      w.build(inputDim);
      assert.deepEqual(
        [w.synapseCount, countNegative(w.adjacencyMatrix), checksum(w.adjacencyMatrix)],
        [syn, neg, sum],
      );
      assert.deepEqual(
        [w.sensorySynapseCount, countNegative(w.sensoryAdjacencyMatrix), checksum(w.sensoryAdjacencyMatrix!)],
        [ssyn, sneg, ssum],
      );
    });
  }
});

describe("AutoNCP derived sizes", () => {
  test("the table of the reference notes (§2.5, sparsity 0.5)", () => {
    const table: [number, number, number[]][] = [
      [8, 1, [5, 2, 1, 2, 1, 2, 1]],
      [16, 4, [8, 4, 4, 4, 2, 4, 2]],
      [19, 1, [11, 7, 1, 5, 3, 7, 3]],
      [20, 6, [9, 5, 6, 4, 2, 5, 2]],
      [28, 1, [17, 10, 1, 8, 5, 10, 5]],
      [28, 4, [15, 9, 4, 7, 4, 9, 4]],
      [28, 10, [11, 7, 10, 5, 3, 7, 3]],
      [32, 1, [19, 12, 1, 9, 6, 12, 6]],
      [32, 8, [15, 9, 8, 7, 4, 9, 4]],
      [64, 8, [34, 22, 8, 17, 11, 22, 11]],
      [100, 15, [51, 34, 15, 25, 17, 34, 17]],
    ];
    for (const [units, out, expected] of table) {
      const s = new AutoNCP(units, out).ncpSizes;
      assert.deepEqual(
        [s.interNeurons, s.commandNeurons, s.motorNeurons, s.sensoryFanout, s.interFanout, s.recurrentCommandSynapses, s.motorFanin],
        expected,
        `AutoNCP(${units}, ${out})`,
      );
    }
  });

  test("matches a direct transcription of ncps's formula over many combinations", () => {
    // Written independently from the formula in the reference notes, with floor for Python's
    // int() (all quantities are non-negative here).
    const reference = (units: number, out: number, sparsity: number): number[] => {
      const density = 1.0 - sparsity;
      const rest = units - out;
      const command = Math.max(Math.floor(0.4 * rest), 1);
      const inter = rest - command;
      const fan = (x: number) => Math.max(Math.floor(x), 1);
      return [inter, command, out, fan(inter * density), fan(command * density), fan(command * density * 2), fan(command * density)];
    };
    let checked = 0;
    for (let units = 4; units <= 130; units += 3) {
      for (let out = 1; out < units - 2; out += Math.max(1, Math.floor(units / 9))) {
        for (let k = 0; k <= 18; k++) {
          const sparsity = 0.1 + 0.05 * k;
          if (sparsity > 1.0) continue;
          const s = autoNcpSizes(units, out, sparsity);
          assert.deepEqual(
            [s.interNeurons, s.commandNeurons, s.motorNeurons, s.sensoryFanout, s.interFanout, s.recurrentCommandSynapses, s.motorFanin],
            reference(units, out, sparsity),
            `AutoNCP(${units}, ${out}, ${sparsity})`,
          );
          assert.equal(s.interNeurons + s.commandNeurons + s.motorNeurons, units);
          checked++;
        }
      }
    }
    assert.ok(checked > 1000, `only ${checked} combinations checked`);
  });

  test("an AutoNCP equals the NCP of its derived sizes with the same seed", () => {
    const a = new AutoNCP(40, 6, { sparsityLevel: 0.35, seed: 4242 });
    const s = a.ncpSizes;
    const n = new NCP(s.interNeurons, s.commandNeurons, s.motorNeurons, s.sensoryFanout, s.interFanout, s.recurrentCommandSynapses, s.motorFanin, {
      seed: 4242,
    });
    a.build(7);
    n.build(7);
    assert.deepEqual(a.adjacencyMatrix, n.adjacencyMatrix);
    assert.deepEqual(a.sensoryAdjacencyMatrix, n.sensoryAdjacencyMatrix);
  });
});

describe("neuron types and layers", () => {
  test("NCP ids: motor first, then command, then inter; layers inter -> command -> motor", () => {
    const w = new NCP(5, 3, 2, 2, 2, 1, 2);
    assert.equal(w.units, 10);
    assert.equal(w.outputDim, 2);
    assert.deepEqual(
      Array.from({ length: 10 }, (_, i) => w.getTypeOfNeuron(i)),
      ["motor", "motor", "command", "command", "command", "inter", "inter", "inter", "inter", "inter"],
    );
    assert.deepEqual(w.layers, [[5, 6, 7, 8, 9], [2, 3, 4], [0, 1]]);
    assert.throws(() => w.getNeuronsOfLayer(3), /unknown layer 3/);
    assert.throws(() => w.getTypeOfNeuron(10), /neuron id must be an integer in \[0, 10\), got 10/);
  });

  test("single-layer wirings: motor below output_dim, inter above", () => {
    const w = new FullyConnected(5, 2);
    assert.equal(w.numLayers, 1);
    assert.deepEqual(w.getNeuronsOfLayer(0), [0, 1, 2, 3, 4]);
    assert.deepEqual([0, 1, 2].map((i) => w.getTypeOfNeuron(i)), ["motor", "motor", "inter"]);
    assert.equal(new FullyConnected(5).outputDim, 5);
  });

  test("self_connections=false leaves the diagonal empty", () => {
    const w = new FullyConnected(6, 2, { selfConnections: false });
    for (let i = 0; i < 6; i++) assert.equal(w.adjacencyMatrix[i * 6 + i], 0);
    assert.equal(w.synapseCount, 30);
  });
});

describe("build", () => {
  test("building again with the same input size changes nothing", () => {
    const w = new AutoNCP(16, 4);
    w.build(5);
    const before = [w.adjacencyMatrix.slice(), w.sensoryAdjacencyMatrix!.slice()];
    w.build(5);
    assert.deepEqual([w.adjacencyMatrix, w.sensoryAdjacencyMatrix], before);
    assert.equal(w.isBuilt(), true);
  });

  test("building with another input size names both sizes", () => {
    const w = new Random(8, 2, { sparsityLevel: 0.5 });
    assert.equal(w.isBuilt(), false);
    assert.equal(w.sensoryAdjacencyMatrix, null);
    w.build(3);
    assert.throws(() => w.build(4), (e: Error) => /Conflicting input dimensions/.test(e.message) && /3/.test(e.message) && /4/.test(e.message));
  });

  test("input size must be a positive integer", () => {
    assert.throws(() => new FullyConnected(4).build(0), /input_dim must be a positive integer, got 0/);
    assert.throws(() => new FullyConnected(4).build(2.5), /got 2.5/);
  });

  test("erev initialisers are copies", () => {
    const w = new FullyConnected(4);
    w.build(2);
    const e = w.erevInitializer();
    const s = w.sensoryErevInitializer();
    assert.deepEqual(e, w.adjacencyMatrix);
    e[0] = 99;
    s[0] = 99;
    assert.notEqual(w.adjacencyMatrix[0], 99);
    assert.notEqual(w.sensoryAdjacencyMatrix![0], 99);
    assert.throws(() => new FullyConnected(4).sensoryErevInitializer(), /before build/);
  });
});

describe("validation errors", () => {
  test("AutoNCP checks", () => {
    assert.throws(() => new AutoNCP(8, 6), /output_size must be less than units - 2, got units=8, output_size=6/);
    assert.throws(() => new AutoNCP(8, 7), /units - 2/);
    assert.doesNotThrow(() => new AutoNCP(8, 5));
    assert.throws(() => new AutoNCP(16, 4, { sparsityLevel: 0.05 }), /sparsity_level must be between 0.1 and 1.0, got 0.05/);
    assert.throws(() => new AutoNCP(16, 4, { sparsityLevel: 1.01 }), /got 1.01/);
    assert.throws(() => new AutoNCP(16, 0), /output_size must be a positive integer, got 0/);
    assert.doesNotThrow(() => new AutoNCP(16, 4, { sparsityLevel: 1.0 }));
    assert.doesNotThrow(() => new AutoNCP(16, 4, { sparsityLevel: 0.1 }));
  });

  test("NCP checks, in ncps's order", () => {
    assert.throws(() => new NCP(5, 3, 2, 2, 2, 1, 4), /motor_fanin is 4 but there are only 3 command neurons/);
    assert.throws(() => new NCP(5, 3, 2, 6, 2, 1, 2), /sensory_fanout is 6 but there are only 5 inter neurons/);
    assert.throws(() => new NCP(5, 3, 2, 2, 4, 1, 2), /inter_fanout is 4 but there are only 3 command neurons/);
    assert.throws(() => new NCP(0, 3, 2, 0, 2, 1, 2), /inter_neurons must be a positive integer, got 0/);
    assert.throws(() => new NCP(5, 3, 2, -1, 2, 1, 2), /sensory_fanout must be a non-negative integer, got -1/);
    assert.throws(() => new NCP(5, 3, 2, 2, 2, 1, 2, { seed: 2 ** 32 }), /seed must be an integer between 0 and 2\*\*32 - 1/);
  });

  test("Random and FullyConnected checks", () => {
    assert.throws(() => new Random(8, 2, { sparsityLevel: 1 }), /sparsity_level must be in \[0, 1\), got 1/);
    assert.throws(() => new Random(8, 2, { sparsityLevel: -0.1 }), /got -0.1/);
    assert.throws(() => new Random(8, 2, { randomSeed: -1 }), /random_seed must be a non-negative integer, got -1/);
    assert.throws(() => new FullyConnected(0), /units must be a positive integer, got 0/);
    assert.throws(() => new FullyConnected(4, 5), /output_dim must be at most units \(4\), got 5/);
  });

  test("synapses: ranges and polarity", () => {
    const w = new Wiring(4, 1);
    assert.throws(() => w.addSynapse(4, 0, 1), /synapse source must be an integer in \[0, 4\), got 4/);
    assert.throws(() => w.addSynapse(0, -1, 1), /synapse destination must be an integer in \[0, 4\), got -1/);
    assert.throws(() => w.addSynapse(0, 1, 0), /polarity must be -1 or \+1, got 0/);
    assert.throws(() => w.addSynapse(0, 1, 2), /got 2/);
    assert.throws(() => w.addSensorySynapse(0, 1, 1), /before build/);
    w.build(2);
    assert.throws(() => w.addSensorySynapse(2, 1, 1), /sensory synapse source must be an integer in \[0, 2\), got 2/);
    assert.throws(() => w.addSensorySynapse(1, 4, 1), /sensory synapse destination/);
    w.addSynapse(0, 1, -1);
    w.addSensorySynapse(1, 3, 1);
    assert.equal(w.adjacencyMatrix[0 * 4 + 1], -1);
    assert.equal(w.sensoryAdjacencyMatrix![1 * 4 + 3], 1);
    assert.equal(w.synapseCount, 1);
    assert.equal(w.sensorySynapseCount, 1);
  });

  test("fromMatrices checks shapes, entries and layers", () => {
    assert.throws(() => Wiring.fromMatrices({ adjacency: [1, 0, 0], outputDim: 1 }), /square/);
    assert.throws(() => Wiring.fromMatrices({ adjacency: [[0, 1], [0]], outputDim: 1 }), /row 1 must have 2 entries, got 1/);
    assert.throws(() => Wiring.fromMatrices({ adjacency: [[0, 2], [0, 0]], outputDim: 1 }), /entry \[0\]\[1\] must be -1, 0 or 1, got 2/);
    assert.throws(
      () => Wiring.fromMatrices({ adjacency: [[0, 1], [0, 0]], sensoryAdjacency: [[1, 0, 0]], outputDim: 1 }),
      /row 0 must have 2 entries, got 3/,
    );
    assert.throws(() => Wiring.fromMatrices({ adjacency: [[0, 1], [0, 0]], outputDim: 1, layers: [[0]] }), /missing 1/);
    assert.throws(() => Wiring.fromMatrices({ adjacency: [[0, 1], [0, 0]], outputDim: 1, layers: [[0, 1], [1]] }), /neuron 1 appears in more than one layer/);
    assert.throws(() => Wiring.fromMatrices({ adjacency: [[0, 1], [0, 0]], outputDim: 3 }), /output_dim must be at most units \(2\), got 3/);
  });
});

describe("explicit matrices, configs and specs", () => {
  test("fromMatrices keeps the given matrices, dims and layers", () => {
    const w = Wiring.fromMatrices({
      adjacency: [
        [0, 1, 0],
        [0, 0, -1],
        [1, 0, 0],
      ],
      sensoryAdjacency: [[1, -1, 0]],
      outputDim: 1,
      layers: [[2], [1], [0]],
    });
    assert.equal(w.units, 3);
    assert.equal(w.inputDim, 1);
    assert.deepEqual(Array.from(w.adjacencyMatrix), [0, 1, 0, 0, 0, -1, 1, 0, 0]);
    assert.deepEqual(Array.from(w.sensoryAdjacencyMatrix!), [1, -1, 0]);
    assert.equal(w.numLayers, 3);
    assert.deepEqual(w.getNeuronsOfLayer(1), [1]);
    const flat = Wiring.fromMatrices({ adjacency: [0, 1, 0, 0], outputDim: 2, inputDim: 3 });
    assert.equal(flat.units, 2);
    assert.deepEqual(Array.from(flat.sensoryAdjacencyMatrix!), [0, 0, 0, 0, 0, 0]);
  });

  test("Wiring.fromConfig(getConfig()) reproduces a plain wiring", () => {
    const w = Wiring.fromMatrices({ adjacency: [[1, -1], [0, 1]], sensoryAdjacency: [[0, 1], [-1, 0], [1, 1]], outputDim: 1 });
    const back = Wiring.fromConfig(JSON.parse(JSON.stringify(w.getConfig())));
    assert.deepEqual(back.adjacencyMatrix, w.adjacencyMatrix);
    assert.deepEqual(back.sensoryAdjacencyMatrix, w.sensoryAdjacencyMatrix);
    assert.equal(back.inputDim, 3);
    assert.equal(back.outputDim, 1);
  });

  test("every kind round-trips through its spec (NCP included, unlike ncps)", () => {
    const wirings: Wiring[] = [
      new AutoNCP(20, 3, { sparsityLevel: 0.4, seed: 9 }),
      new NCP(7, 5, 2, 3, 2, 4, 2, { seed: 123 }),
      new FullyConnected(6, 2, { erevInitSeed: 5, selfConnections: false }),
      new Random(9, 3, { sparsityLevel: 0.25, randomSeed: 77 }),
    ];
    for (const w of wirings) {
      const spec = JSON.parse(JSON.stringify(wiringToSpec(w)));
      assert.equal(spec.kind, w.kind);
      const back = wiringFromSpec(spec);
      assert.equal(back.constructor, w.constructor);
      assert.deepEqual(back.getConfig(), w.getConfig());
      w.build(4);
      back.build(4);
      assert.deepEqual(back.adjacencyMatrix, w.adjacencyMatrix, `${w.kind} adjacency`);
      assert.deepEqual(back.sensoryAdjacencyMatrix, w.sensoryAdjacencyMatrix, `${w.kind} sensory`);
    }
  });

  test("a plain Wiring's spec carries its matrices and layers", () => {
    const ncp = new NCP(4, 3, 2, 2, 2, 2, 2);
    ncp.build(3);
    const plain = Wiring.fromMatrices({
      adjacency: Array.from(ncp.adjacencyMatrix),
      sensoryAdjacency: Array.from(ncp.sensoryAdjacencyMatrix!),
      inputDim: 3,
      outputDim: 2,
      layers: ncp.layers,
    });
    const spec = wiringToSpec(plain);
    assert.equal(spec.kind, "Wiring");
    const back = wiringFromSpec(JSON.parse(JSON.stringify(spec)));
    assert.deepEqual(back.adjacencyMatrix, ncp.adjacencyMatrix);
    assert.deepEqual(back.sensoryAdjacencyMatrix, ncp.sensoryAdjacencyMatrix);
    assert.deepEqual(back.layers, ncp.layers);
  });

  test("spec errors name the problem", () => {
    assert.throws(() => wiringFromSpec({ kind: "LSTM", args: {} }), /unknown kind "LSTM", expected one of AutoNCP, NCP, FullyConnected, Random/);
    assert.throws(() => wiringFromSpec({ kind: "AutoNCP", args: { units: 16 } }), /missing argument "output_size"/);
    assert.throws(() => wiringFromSpec({ kind: "AutoNCP", args: { units: 16, output_size: 4, sparsity: 0.5 } }), /unknown argument "sparsity"/);
    assert.throws(() => wiringFromSpec({ kind: "AutoNCP", args: { units: "16", output_size: 4 } }), /argument "units" must be an integer, got "16"/);
    assert.throws(() => wiringFromSpec({ kind: "FullyConnected", args: { units: 4, self_connections: 1 } }), /"self_connections" must be a boolean, got 1/);
    assert.throws(() => wiringFromSpec({ kind: "AutoNCP", args: { units: 8, output_size: 6 } }), /output_size must be less than units - 2/);
    assert.throws(() => wiringFromSpec([1, 2]), /must be an object/);
    assert.throws(() => wiringFromSpec({ kind: "Random", args: { units: 4 }, extra: 1 }), /unknown field "extra"/);
    assert.throws(() => wiringFromSpec({ kind: "Random", args: [4] }), /args must be an object/);
  });

  test("the wiring spec of a golden model case builds the wiring stored with it", { skip: skipGolden }, () => {
    const caseFile = path.resolve(projectRoot, "../shared", "goldens/cfc_autoncp_default.json");
    if (!fs.existsSync(caseFile)) return;
    const spec = JSON.parse(fs.readFileSync(caseFile, "utf8")).spec;
    const w = wiringFromSpec(spec.constructor_args.units.wiring);
    w.build(spec.input_size);
    assert.deepEqual(Array.from(w.adjacencyMatrix), spec.wiring.adjacency_matrix.data);
    assert.deepEqual(Array.from(w.sensoryAdjacencyMatrix!), spec.wiring.sensory_adjacency_matrix.data);
  });
});

/**
 * A small XML well-formedness check: balanced and properly nested tags, quoted attributes, no raw
 * '<' or stray '&' in text or attribute values, one root element.
 */
function assertWellFormedXml(xml: string): void {
  const tokens = xml.match(/<[^>]*>|[^<]+/g) ?? [];
  const stack: string[] = [];
  let roots = 0;
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const checkText = (s: string, where: string) => {
    assert.ok(!s.replace(entity, "").includes("&"), `unescaped '&' in ${where}: ${s.slice(0, 80)}`);
    assert.ok(!s.includes("<"), `raw '<' in ${where}`);
  };
  for (const t of tokens) {
    if (!t.startsWith("<")) {
      checkText(t, "text");
      if (stack.length === 0) assert.match(t, /^\s*$/, "text outside the root element");
      continue;
    }
    if (t.startsWith("<?") || t.startsWith("<!--")) continue;
    const close = /^<\/([A-Za-z][\w:.-]*)\s*>$/.exec(t);
    if (close) {
      assert.equal(stack.pop(), close[1], `closing </${close[1]}> does not match the open element`);
      continue;
    }
    const open = /^<([A-Za-z][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*\s*=\s*"[^"]*")*)\s*(\/?)>$/.exec(t);
    assert.ok(open, `malformed tag: ${t.slice(0, 120)}`);
    for (const m of open[2].matchAll(/"([^"]*)"/g)) checkText(m[1], `attribute of <${open[1]}>`);
    const names = [...open[2].matchAll(/([A-Za-z_:][\w:.-]*)\s*=/g)].map((m) => m[1]);
    assert.equal(new Set(names).size, names.length, `duplicate attribute in ${t.slice(0, 80)}`);
    if (stack.length === 0) roots++;
    if (open[3] !== "/") stack.push(open[1]);
  }
  assert.deepEqual(stack, [], "unclosed elements");
  assert.equal(roots, 1, "exactly one root element");
}

const count = (s: string, needle: string): number => s.split(needle).length - 1;

describe("SVG drawing", () => {
  const cases: [string, () => Wiring, number | null][] = [
    ["AutoNCP(8, 1)", () => new AutoNCP(8, 1), 2],
    ["NCP(10, 10, 8, ...)", () => new NCP(10, 10, 8, 6, 6, 4, 6), 8],
    ["FullyConnected(12, 3) without self connections", () => new FullyConnected(12, 3, { selfConnections: false }), 4],
    ["Random(50, 5, 0.8)", () => new Random(50, 5, { sparsityLevel: 0.8 }), 10],
    ["AutoNCP(200, 10)", () => new AutoNCP(200, 10), 20],
    ["unbuilt FullyConnected(8)", () => new FullyConnected(8), null],
  ];
  for (const [name, make, inputDim] of cases) {
    test(`${name}: well-formed, one circle per neuron and input, one path per synapse`, () => {
      const w = make();
      if (inputDim !== null) w.build(inputDim);
      const svg = w.toSVG();
      assertWellFormedXml(svg);
      assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.equal(count(svg, 'class="neuron '), w.units);
      assert.equal(count(svg, 'class="sensory-input"'), inputDim ?? 0);
      assert.equal(count(svg, '<path class="synapse '), w.synapseCount);
      assert.equal(count(svg, '<path class="sensory-synapse '), w.sensorySynapseCount);
      let neg = 0;
      for (const v of w.adjacencyMatrix) if (v < 0) neg++;
      assert.equal(count(svg, 'class="synapse inhibitory"'), neg);
      for (const t of new Set(Array.from({ length: w.units }, (_, i) => w.getTypeOfNeuron(i)))) {
        assert.ok(svg.includes(`class="neuron neuron-${t}"`), `a ${t} neuron is drawn`);
      }
    });
  }

  test("NCP columns, colours and legend", () => {
    const w = new AutoNCP(16, 4);
    w.build(3);
    const svg = wiringToSVG(w);
    for (const header of ["sensory inputs (3)", "inter neurons (8)", "command neurons (4)", "motor neurons (4)"]) {
      assert.ok(svg.includes(header), `column header ${header}`);
    }
    assert.ok(svg.includes('fill="#1f77b4"') && svg.includes('fill="#ff7f0e"') && svg.includes('fill="#bcbd22"'));
    assert.ok(svg.includes('stroke="#2ca02c"') && svg.includes('stroke="#d62728"'));
    assert.ok(svg.includes("excitatory synapse") && svg.includes("inhibitory synapse"));
    assert.ok(svg.includes("AutoNCP(units=16, output_size=4"));
  });

  test("titles are escaped and colours can be overridden", () => {
    const w = new FullyConnected(4, 1);
    const svg = wiringToSVG(w, { title: `a <b> & "c"`, synapseColors: "black", neuronColors: { motor: "#000000" } });
    assertWellFormedXml(svg);
    assert.ok(svg.includes("a &lt;b&gt; &amp; &quot;c&quot;"));
    assert.ok(!svg.includes('stroke="#2ca02c"'));
    assert.ok(svg.includes('class="neuron neuron-motor" cx') && svg.includes('fill="#000000"'));
  });
});
