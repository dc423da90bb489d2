/**
 * ODELSTM (src/models/ode-lstm.ts): the forward pass against the equations written out independently
 * (ncps's LSTM cell, then the MLP field's Euler / RK4 steps on h), zero elapsed times against the LSTM
 * baseline, dopri5 against fine RK4, float64 finite-difference gradient checks for every solver (dopri5
 * with its accepted grid replayed), independence from batch composition, the WebAssembly engine against
 * the reference, state_dict, config, options and training.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { buildModel } from "../src/models/build.js";
import { LSTM } from "../src/models/lstm.js";
import { ODELSTM, type ODELSTMOptions } from "../src/models/ode-lstm.js";
import type { Tensor } from "../src/tensor.js";
import { evaluate, fit } from "../src/train/index.js";
import { TestRng } from "./helpers/gradcheck.js";
import { affine, assertOutputsAgree, assertReplayedDopri5GradCheck, assertSamplesAloneMatchBatch, assertStreamMatchesSequence, assertWasmAgreesWithReference, gradCheckOffGrid, integrate, mlpField, perturbWeights, sigmoid } from "./helpers/ode-models.js";
import { sineDataset } from "./helpers/synthetic-data.js";

const perturb = (model: ODELSTM, rng: TestRng, amount = 0.3) => perturbWeights(model, rng, amount);

/**
 * The ODE-LSTM of one sample from its equations: per observation ncps's LSTM cell (h, c) <- LSTM(x, (h,
 * c)), then h <- ODE(h, ts) with n fixed steps of `method`; returns every step's output (h, or fc(h))
 * and the final [h | c].
 */
function odeLstmSample(sd: Map<string, Tensor>, I: number, H: number, xs: number[][], ts: number[], state0: number[], method: "euler" | "rk4", stepsOf: (t: number) => number): { out: number[][]; state: number[] } {
  const f = mlpField(sd, "rnn_cell.f_node.");
  const wIn = sd.get("rnn_cell.lstm.input_map.weight")!.data;
  const bIn = sd.get("rnn_cell.lstm.input_map.bias")!.data;
  const wRec = sd.get("rnn_cell.lstm.recurrent_map.weight")!.data;
  const fc = sd.get("fc.weight");
  let h = state0.slice(0, H);
  let c = state0.slice(H);
  const out: number[][] = [];
  xs.forEach((x, t) => {
    const zx = affine(wIn, 4 * H, I, x, bIn);
    const zh = affine(wRec, 4 * H, H, h, null);
    const z = zx.map((v, k) => v + zh[k]);
    c = c.map((cj, j) => cj * sigmoid(z[2 * H + j] + 1) + Math.tanh(z[j]) * sigmoid(z[H + j]));
    h = c.map((cj, j) => Math.tanh(cj) * sigmoid(z[3 * H + j]));
    h = integrate(f, h, ts[t], stepsOf(ts[t]), method);
    out.push(fc ? affine(fc.data, fc.shape[0], H, h, sd.get("fc.bias")!.data) : h);
  });
  return { out, state: [...h, ...c] };
}

describe("ODELSTM forward", () => {
  const cases: Array<{ name: string; options: ODELSTMOptions; method: "euler" | "rk4"; stepsOf: (t: number) => number }> = [
    { name: "rk4, 3 steps per observation (the paper code's fixed_rk4), projection", options: { solver: "rk4", stepsPerGap: 3, projSize: 2 }, method: "rk4", stepsOf: () => 3 },
    { name: "euler, stepSize 0.3, odeUnits 7", options: { solver: "euler", stepSize: 0.3, odeUnits: 7 }, method: "euler", stepsOf: (t) => Math.max(1, Math.ceil(t / 0.3)) },
  ];
  for (const c of cases) {
    test(`${c.name}: the equations written out (per-sample elapsed times, some zero)`, () => {
      const rng = new TestRng(3);
      const I = 3;
      const H = 4;
      const B = 3;
      const L = 4;
      const model = new ODELSTM(I, H, { ...c.options, backend: "reference", seed: 1 });
      perturb(model, rng);
      const x = rng.tensor([B, L, I]);
      const ts = rng.tensor([B, L], 0.05, 1.7);
      ts.data[1] = 0;
      ts.data[L + 2] = 0;
      const hx = rng.tensor([B, 2 * H], -0.5, 0.5);
      const { output, state } = model.forward(x, { hx, timespans: ts });
      const O = model.outputSize;
      const sd = model.stateDict();
      for (let s = 0; s < B; s++) {
        const xs = Array.from({ length: L }, (_, t) => Array.from(x.data.subarray((s * L + t) * I, (s * L + t + 1) * I)));
        const want = odeLstmSample(sd, I, H, xs, Array.from(ts.data.subarray(s * L, (s + 1) * L)), Array.from(hx.data.subarray(s * 2 * H, (s + 1) * 2 * H)), c.method, c.stepsOf);
        for (let t = 0; t < L; t++) {
          for (let j = 0; j < O; j++) {
            const got = output.data[(s * L + t) * O + j];
            assert.ok(Math.abs(got - want.out[t][j]) < 1e-12, `sample ${s} step ${t} unit ${j}: ${got} vs ${want.out[t][j]}`);
          }
        }
        for (let j = 0; j < 2 * H; j++) {
          const got = state.h.data[s * 2 * H + j];
          assert.ok(Math.abs(got - want.state[j]) < 1e-12, `sample ${s} final state ${j}: ${got} vs ${want.state[j]}`);
        }
      }
    });
  }

  test("zero elapsed times leave h as the LSTM made it: the LSTM baseline with the same weights", () => {
    const rng = new TestRng(13);
    const model = new ODELSTM(3, 4, { backend: "reference", seed: 5, projSize: 2 });
    perturb(model, rng);
    const lstm = new LSTM(3, 4, { backend: "reference", projSize: 2 });
    const renamed = new Map([...model.stateDict()].filter(([name]) => !name.includes("f_node")).map(([name, t]) => [name.replace("rnn_cell.lstm.", "rnn."), t]));
    lstm.loadStateDict(renamed);
    const x = rng.tensor([2, 5, 3]);
    const hx = rng.tensor([2, 8], -0.5, 0.5);
    const a = model.predict(x, { hx, timespans: { shape: [2, 5], data: new Float64Array(10) } });
    const b = lstm.predict(x, { hx });
    assert.deepEqual([...a.output.data], [...b.output.data]);
    assert.deepEqual([...a.state.h.data], [...b.state.h.data]);
  });

  test("dopri5 at tight tolerances agrees with fine RK4; the solver counts its steps", () => {
    const rng = new TestRng(4);
    const base = new ODELSTM(2, 5, { backend: "reference", seed: 2, rtol: 1e-10, atol: 1e-12, odeUnits: 6 });
    perturb(base, rng, 0.6);
    const rk4 = new ODELSTM(2, 5, { backend: "reference", solver: "rk4", stepSize: 0.01, odeUnits: 6 });
    rk4.loadStateDict(base.stateDict());
    assertOutputsAgree(base, rk4, rng, 1e-8);
    const s = base.solver.stats;
    assert.ok(s.accepted >= 12 && s.rowEvaluations > s.accepted, `dopri5 stats ${JSON.stringify(s)}`);
  });

  test("fixed steps: the solver's counters are the steps and stages of every sample and observation", () => {
    const rng = new TestRng(5);
    const B = 2;
    const L = 5;
    const model = new ODELSTM(2, 3, { backend: "reference", solver: "euler", stepsPerGap: 3 });
    model.predict(rng.tensor([B, L, 2]), { timespans: rng.tensor([B, L], 0.1, 2) });
    assert.deepEqual({ ...model.solver.stats }, { accepted: B * L * 3, rejected: 0, evaluations: L * 3, rowEvaluations: B * L * 3 });
  });

  test("every sample gets the same bits alone as in the batch (per-sample elapsed times)", () => {
    const rng = new TestRng(6);
    for (const options of [{ solver: "rk4", stepSize: 0.2 }, { solver: "dopri5", rtol: 1e-6, atol: 1e-9 }] as ODELSTMOptions[]) {
      const model = new ODELSTM(2, 3, { ...options, backend: "reference", seed: 3 });
      perturb(model, rng);
      assertSamplesAloneMatchBatch(model, rng, String(options.solver));
    }
  });

  test("streaming one observation at a time gives the sequence's outputs", () => {
    const rng = new TestRng(10);
    const model = new ODELSTM(2, 3, { backend: "reference", seed: 8, projSize: 2 });
    perturb(model, rng);
    const { whole, stream } = assertStreamMatchesSequence(model, rng);
    assert.deepEqual([...stream.state()], [...whole.state.h.data], "the stream's state is [h | c]");
  });

  test("the WebAssembly engine agrees with the float64 reference (forward and backward)", () => {
    const rng = new TestRng(7);
    const cases: Array<[ODELSTMOptions, number]> = [[{ solver: "rk4", stepsPerGap: 3 }, 1e-5], [{ solver: "dopri5", rtol: 1e-5, atol: 1e-7 }, 1e-4]];
    assertWasmAgreesWithReference((o: ODELSTMOptions) => new ODELSTM(3, 6, o), rng, cases, (m) => perturb(m as ODELSTM, rng), { hx: true });
  });
});

describe("ODELSTM backward matches central finite differences (float64)", () => {
  const cases: Array<{ name: string; options: ODELSTMOptions; batch: number | null; ts: "per_sample" | "shared" | "none" }> = [
    { name: "euler, stepSize", options: { solver: "euler", stepSize: 0.3 }, batch: 3, ts: "per_sample" },
    { name: "rk4, stepsPerGap, projection, odeUnits 5", options: { solver: "rk4", stepsPerGap: 2, projSize: 2, odeUnits: 5 }, batch: 2, ts: "per_sample" },
    { name: "rk4, last step only, time-major, shared times", options: { solver: "rk4", stepSize: 0.4, returnSequences: false, batchFirst: false }, batch: 3, ts: "shared" },
    { name: "euler, unbatched, default times", options: { solver: "euler", stepsPerGap: 2 }, batch: null, ts: "none" },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const rng = new TestRng(100 + c.name.length);
      const model = new ODELSTM(3, 4, { ...c.options, backend: "reference", seed: 7 });
      perturb(model, rng);
      // hx is the whole state [h | c]
      gradCheckOffGrid(model, rng, c, 0.1);
    });
  }

  test("dopri5 with rejected trial steps, the accepted grid replayed", () => {
    const rng = new TestRng(200);
    const model = new ODELSTM(3, 4, { backend: "reference", seed: 9, rtol: 1e-5, atol: 1e-7, firstStep: 1.5, projSize: 2 });
    perturb(model, rng, 0.6);
    assertReplayedDopri5GradCheck(model, rng);
  });
});

describe("ODELSTM weights, config and options", () => {
  test("state_dict: documented names and shapes; loading it into another model reproduces the outputs", () => {
    const rng = new TestRng(11);
    const a = new ODELSTM(3, 4, { backend: "reference", seed: 1, odeUnits: 6, projSize: 2, solver: "rk4" });
    perturb(a, rng);
    assert.deepEqual([...a.stateDict()].map(([name, t]) => [name, t.shape]), [
      ["rnn_cell.lstm.input_map.weight", [16, 3]], ["rnn_cell.lstm.input_map.bias", [16]], ["rnn_cell.lstm.recurrent_map.weight", [16, 4]],
      ["rnn_cell.f_node.0.weight", [6, 4]], ["rnn_cell.f_node.0.bias", [6]], ["rnn_cell.f_node.2.weight", [4, 6]], ["rnn_cell.f_node.2.bias", [4]],
      ["fc.weight", [2, 4]], ["fc.bias", [2]],
    ]);
    assert.equal(a.stateSize, 8);
    const b = new ODELSTM(3, 4, { backend: "reference", seed: 2, odeUnits: 6, projSize: 2, solver: "rk4" });
    const x = rng.tensor([2, 3, 3]);
    const timespans = rng.tensor([2, 3], 0.1, 2);
    assert.notDeepEqual([...b.predict(x, { timespans }).output.data], [...a.predict(x, { timespans }).output.data]);
    b.loadStateDict(a.stateDict());
    assert.deepEqual([...b.predict(x, { timespans }).output.data], [...a.predict(x, { timespans }).output.data]);
    for (const [name, t] of a.stateDict()) assert.deepEqual([...b.stateDict().get(name)!.data], [...t.data], name);
  });

  test("toConfig lists the model's and the solver's options; buildModel rebuilds the same model", () => {
    const m = new ODELSTM(3, 5, { backend: "reference", solver: "rk4", stepsPerGap: 3, projSize: 2, returnSequences: false });
    assert.deepEqual(m.toConfig(), {
      model: "ODELSTM",
      constructor_args: { input_size: 3, hidden_size: 5, ode_units: 5, proj_size: 2, return_sequences: false, batch_first: true, solver: "rk4", steps_per_gap: 3, max_steps: 10000 },
    });
    const d = new ODELSTM(3, 5, { backend: "reference", odeUnits: 8, rtol: 1e-4, firstStep: 0.01 });
    assert.deepEqual(d.toConfig().constructor_args, {
      input_size: 3, hidden_size: 5, ode_units: 8, proj_size: null, return_sequences: true, batch_first: true,
      solver: "dopri5", rtol: 1e-4, atol: 1e-6, safety: 0.9, min_factor: 0.2, max_factor: 10, first_step: 0.01, min_step: 0, max_step: null, max_steps: 10000,
    });
    const rng = new TestRng(12);
    for (const model of [m, d, new ODELSTM(3, 5, { backend: "reference", solver: "euler", stepSize: 0.5, batchFirst: false })]) {
      perturb(model, rng);
      const config = JSON.parse(JSON.stringify(model.toConfig()));
      const rebuilt = buildModel(config, { backend: "reference" }) as ODELSTM;
      assert.deepEqual(rebuilt.toConfig(), model.toConfig());
      assert.deepEqual(rebuilt.config, model.config);
      rebuilt.loadStateDict(model.stateDict());
      const x = model.batchFirst ? rng.tensor([2, 3, 3]) : rng.tensor([3, 2, 3]);
      const timespans = model.batchFirst ? rng.tensor([2, 3], 0.1, 2) : rng.tensor([3, 2], 0.1, 2);
      assert.deepEqual([...rebuilt.predict(x, { timespans }).output.data], [...model.predict(x, { timespans }).output.data]);
    }
    assert.throws(() => buildModel({ model: "ODELSTM", constructor_args: { input_size: 3, hidden_size: 5, mixed_memory: false } }), /^Error: ODELSTM: unknown constructor argument 'mixed_memory' \(known: input_size, hidden_size, /);
  });

  test("unknown options, bad sizes and bad solver options are rejected", () => {
    assert.throws(() => new ODELSTM(2, 3, { backend: "reference", mixedMemory: true } as never), /^Error: ODELSTM: unknown option 'mixedMemory' \(valid: odeUnits, projSize, .*solver, stepSize/);
    assert.throws(() => new ODELSTM(2, -1, { backend: "reference" }), /ODELSTM: hiddenSize must be a positive integer, got -1/);
    assert.throws(() => new ODELSTM(2, 3, { backend: "reference", odeUnits: 0 }), /ODELSTM: odeUnits must be a positive integer, got 0/);
    assert.throws(() => new ODELSTM(2, 3, { backend: "reference", solver: "dopri5", stepsPerGap: 3 }), /ODELSTM: stepsPerGap applies to the fixed-step solvers euler and rk4, not to dopri5/);
    assert.throws(() => new ODELSTM(2, 3, { backend: "reference", solver: "rk4", stepSize: 0.1, stepsPerGap: 2 }), /ODELSTM: give stepSize or stepsPerGap, not both/);
  });
});

describe("ODELSTM trains", () => {
  test("fit lowers the loss of an irregularly sampled regression", async () => {
    const train = sineDataset(48, 10, 1);
    const model = new ODELSTM(1, 8, { projSize: 1, backend: "reference", seed: 3, solver: "rk4" });
    const before = evaluate(model, train).loss;
    await fit(model, train, { epochs: 6, batchSize: 16, lr: 0.03 });
    const after = evaluate(model, train).loss;
    assert.ok(after < 0.5 * before, `training mse ${after} should be well below the untrained ${before}`);
  });
});
