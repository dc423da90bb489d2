/** Every model constructor rejects option names it does not know, naming the option and the valid ones. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CfC } from "../src/models/cfc.js";
import { CfCCell } from "../src/models/cfc-cell.js";
import { GRU } from "../src/models/gru.js";
import { LSTM } from "../src/models/lstm.js";
import { LTC } from "../src/models/ltc.js";
import { LTCCell } from "../src/models/ltc-cell.js";
import { WiredCfCCell } from "../src/models/wired-cfc-cell.js";
import { AutoNCP } from "../src/wirings/auto-ncp.js";
import { FullyConnected } from "../src/wirings/fully-connected.js";

const ref = { backend: "reference" as const };

/** The message's "valid" list, or a failure when the constructor did not throw the one-line error. */
function validList(build: () => unknown, owner: string, option: string): string[] {
  try {
    build();
  } catch (e) {
    const message = (e as Error).message;
    const m = new RegExp(`^${owner}: unknown option '${option}' \\(valid: ([^)]*)\\)$`).exec(message);
    assert.ok(m, `one-line error naming ${option}, got: ${message}`);
    return m[1].split(", ");
  }
  assert.fail(`${owner} accepted an unknown option '${option}'`);
}

describe("unknown options are rejected by every model constructor", () => {
  const cases: Array<{ owner: string; option: string; build: (o: object) => unknown; some: string[] }> = [
    { owner: "CfC", option: "backbone_units", build: (o) => new CfC(3, 4, { ...ref, ...o }), some: ["mode", "activation", "backboneUnits", "wiringRecurrence"] },
    { owner: "CfC", option: "hiddenSize", build: (o) => new CfC(3, new AutoNCP(8, 2), { ...ref, ...o }), some: ["mode", "seed", "engine"] },
    { owner: "CfCCell", option: "activation", build: (o) => new CfCCell(3, 4, { ...ref, ...o }), some: ["mode", "backboneActivation", "backboneDropout"] },
    { owner: "WiredCfCCell", option: "backboneLayers", build: (o) => new WiredCfCCell(3, new AutoNCP(8, 2), { ...ref, ...o }), some: ["mode", "wiringRecurrence"] },
    { owner: "LTC", option: "ode_unfolds", build: (o) => new LTC(3, 4, { ...ref, ...o }), some: ["odeUnfolds", "inputMapping", "implicitParamConstraints"] },
    { owner: "LTCCell", option: "mixedMemory", build: (o) => new LTCCell(new FullyConnected(4), 3, { ...ref, ...o }), some: ["odeUnfolds", "epsilon"] },
    { owner: "LSTM", option: "mode", build: (o) => new LSTM(3, 4, { ...ref, ...o }), some: ["projSize", "returnSequences", "batchFirst"] },
    { owner: "GRU", option: "mixedMemory", build: (o) => new GRU(3, 4, { ...ref, ...o }), some: ["projSize", "returnSequences", "batchFirst"] },
  ];
  for (const c of cases) {
    test(`${c.owner}: '${c.option}'`, () => {
      const valid = validList(() => c.build({ [c.option]: 1 }), c.owner, c.option);
      for (const name of c.some) assert.ok(valid.includes(name), `${name} listed as valid`);
      assert.ok(!valid.includes("cellPrefix"), "internal options are not advertised");
    });
  }

  test("options that are valid pass, including those one model passes to another (cellPrefix)", () => {
    assert.equal(new CfC(3, 4, { ...ref, cellPrefix: "" }).stateDict().has("ff1.weight"), true);
    assert.equal(new CfCCell(3, 4, { ...ref, mode: "pure", backboneActivation: "relu", backboneUnits: 5, backboneLayers: 2, backboneDropout: 0.1, seed: 1 }).stateDict().has("w_tau"), true);
    assert.equal(new LTC(3, 4, { ...ref, cellPrefix: "" }).stateDict().has("gleak"), true);
    assert.equal(new LTCCell(new FullyConnected(4), 3, { ...ref, odeUnfolds: 2, epsilon: 0, implicitParamConstraints: true }).stateSize, 4);
    assert.equal(new LSTM(3, 4, { ...ref, projSize: 2, returnSequences: false, batchFirst: false, seed: 2 }).outputSize, 2);
    assert.equal(new GRU(3, 4, { ...ref, projSize: 2, returnSequences: false, batchFirst: false, seed: 2 }).outputSize, 2);
  });
});
