/** forward refuses elapsed times that are negative, NaN or infinite (and zero for LTC), naming the sample and step. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildModel } from "../src/models/build.js";

const CONFIGS = [
  { model: "CfC", constructor_args: { input_size: 2, units: 4 } },
  { model: "LTC", constructor_args: { input_size: 2, units: 4 } },
  { model: "LSTM", constructor_args: { input_size: 2, hidden_size: 3 } },
  { model: "ODERNN", constructor_args: { input_size: 2, hidden_size: 3, solver: "rk4" } },
  { model: "CTRNN", constructor_args: { input_size: 2, units: 3, solver: "euler" } },
];

const x = { shape: [2, 3, 2], data: new Float64Array(12).fill(0.5) };
const spans = (bad: number, at = 4) => {
  const d = new Float64Array(6).fill(1);
  d[at] = bad;
  return { shape: [2, 3], data: d };
};

describe("timespans validation in forward", () => {
  for (const config of CONFIGS) {
    test(`${config.model}: negative, NaN and infinite elapsed times are refused naming sample and step`, () => {
      const model = buildModel(config, { backend: "reference", seed: 1 });
      for (const bad of [-1, NaN, Infinity]) {
        // batch-first (B=2, L=3): flat index 4 is sample 1, step 1
        assert.throws(() => model.forward(x, { timespans: spans(bad) }), new RegExp(`timespans: elapsed time of sample 1 at observation 1 must be finite and >?=? ?0.*, got ${bad}`));
        assert.throws(() => model.forward(x, { timespans: bad }), new RegExp(`timespans: (elapsed time must be finite and >?=? ?0.*|expected a finite number), got ${bad}`));
      }
      assert.throws(() => model.forward(x, { timespans: { shape: [3], data: new Float64Array([1, -2, 1]) } }), /elapsed time at observation 1 must be finite and >=? 0.*, got -2/);
      const stream = model.stream();
      assert.throws(() => stream.step([0.5, 0.5], -1), /stream\.step: elapsed is -1/);
    });
  }

  test("zero elapsed time: LTC refuses it (ncps divides by it), the other models accept it with finite outputs", () => {
    for (const config of CONFIGS) {
      const model = buildModel(config, { backend: "reference", seed: 1 });
      if (config.model === "LTC") {
        assert.throws(() => model.forward(x, { timespans: spans(0) }), /elapsed time of sample 1 at observation 1 must be finite and > 0 \(LTC divides by the elapsed time; zero gives NaN\), got 0/);
        continue;
      }
      const { output } = model.forward(x, { timespans: spans(0) });
      for (const v of output.data) assert.ok(Number.isFinite(v), `${config.model}: ${v}`);
    }
  });

  test("an ODE model's zero-length step leaves the state unchanged", () => {
    const model = buildModel({ model: "CTRNN", constructor_args: { input_size: 2, units: 3, solver: "euler", return_sequences: true } }, { backend: "reference", seed: 1 });
    const one = { shape: [1, 2, 2], data: new Float64Array([0.5, 0.5, 0.5, 0.5]) };
    const h0 = { shape: [1, 3], data: new Float64Array([0.1, -0.2, 0.3]) };
    const r = model.forward(one, { hx: h0, timespans: { shape: [1, 2], data: new Float64Array([0, 0]) } });
    const h = Array.from(r.state.h.data);
    h.forEach((v, i) => assert.ok(Math.abs(v - h0.data[i]) < 1e-12, `state ${i}: ${v} vs ${h0.data[i]}`));
  });
});
