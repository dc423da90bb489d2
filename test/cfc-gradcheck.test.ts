/** Finite-difference gradient checks (float64 reference engine) over every CfC mode, activation and option. */
import { describe, test } from "node:test";
import { CfC, type CfCOptions } from "../src/models/cfc.js";
import { AutoNCP } from "../src/wirings/auto-ncp.js";
import { NCP } from "../src/wirings/ncp.js";
import { TestRng, gradCheck, randomInputs } from "./helpers/gradcheck.js";

interface Case {
  name: string;
  input: number;
  units: number | (() => InstanceType<typeof AutoNCP> | InstanceType<typeof NCP>);
  options: CfCOptions;
  batch: number | null; // null = unbatched
  steps: number;
  ts?: "per_sample" | "shared" | "none";
  hx?: boolean;
}

const cases: Case[] = [];
let seed = 11;
for (const mode of ["default", "no_gate", "pure"] as const) {
  for (const activation of ["lecun_tanh", "silu", "relu", "tanh", "gelu"] as const) {
    cases.push({ name: `${mode} ${activation} bb1`, input: 3, units: 4, options: { mode, activation, backboneUnits: 5, backboneLayers: 1 }, batch: 2, steps: 4, ts: "per_sample", hx: true });
  }
  cases.push({ name: `${mode} no backbone`, input: 2, units: 3, options: { mode, backboneLayers: 0 }, batch: 3, steps: 3, ts: "shared", hx: true });
  cases.push({ name: `${mode} 3 backbone layers`, input: 3, units: 4, options: { mode, backboneUnits: 6, backboneLayers: 3, activation: "silu" }, batch: 2, steps: 3, ts: "per_sample" });
  cases.push({ name: `${mode} mixed memory + projection`, input: 3, units: 5, options: { mode, mixedMemory: true, projSize: 2, backboneUnits: 4 }, batch: 2, steps: 4, ts: "per_sample", hx: true });
  cases.push({ name: `${mode} last step only, time-major`, input: 2, units: 4, options: { mode, returnSequences: false, batchFirst: false, backboneUnits: 4 }, batch: 3, steps: 4, ts: "per_sample", hx: true });
  cases.push({ name: `${mode} unbatched`, input: 3, units: 3, options: { mode, backboneUnits: 4 }, batch: null, steps: 5, ts: "shared", hx: true });
  cases.push({ name: `${mode} AutoNCP wiring`, input: 3, units: () => new AutoNCP(9, 2, { seed: 5 + seed++ }), options: { mode }, batch: 2, steps: 4, ts: "per_sample", hx: true });
  cases.push({ name: `${mode} NCP wiring, within-layer synapses, mixed`, input: 2, units: () => new NCP(4, 3, 2, 2, 2, 3, 2, { seed: 7 }), options: { mode, wiringRecurrence: true, mixedMemory: true }, batch: 2, steps: 3, ts: "per_sample", hx: true });
}

describe("CfC backward matches central finite differences (float64)", () => {
  for (const c of cases) {
    test(c.name, () => {
      const rng = new TestRng(1000 + c.name.length * 31 + c.steps);
      const units = typeof c.units === "function" ? c.units() : c.units;
      const model = new CfC(c.input, units, { ...c.options, backend: "reference", seed: c.name.length });
      // move weights off their init so saturation and sign cases are exercised
      for (const p of model.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] += rng.range(-0.3, 0.3);
      gradCheck(model, randomInputs(model, c, rng), rng);
    });
  }
});

describe("LSTM baseline backward matches central finite differences (float64)", () => {
  for (const [name, opts, batch] of [["batch-first with projection", { projSize: 2 }, 2], ["time-major, last step", { batchFirst: false, returnSequences: false }, 3], ["unbatched", {}, null]] as const) {
    test(name, async () => {
      const { LSTM } = await import("../src/models/lstm.js");
      const rng = new TestRng(77 + name.length);
      const m = new LSTM(3, 4, { ...opts, backend: "reference", seed: 3 });
      const L = 4;
      const bf = m.batchFirst;
      const x = batch === null ? rng.tensor([L, 3]) : bf ? rng.tensor([batch, L, 3]) : rng.tensor([L, batch, 3]);
      const hx = { h: rng.tensor(batch === null ? [8] : [batch, 8], -0.5, 0.5) };
      gradCheck(m, { x, hx }, rng);
    });
  }
});
