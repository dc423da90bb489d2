/**
 * ODERNN (src/models/ode-rnn.ts): the forward pass against the equations written out independently
 * (MLP field, Euler / RK4 steps, torch's GRU), dopri5 against fine RK4, float64 finite-difference
 * gradient checks for every solver (dopri5 with its accepted grid replayed), independence from batch
 * composition, the WebAssembly engine against the reference, state_dict, config, options and training.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { buildModel } from "../src/models/build.js";
import { GRU } from "../src/models/gru.js";
import { ODERNN, type ODERNNOptions } from "../src/models/ode-rnn.js";
import type { Tensor } from "../src/tensor.js";
import { evaluate, fit } from "../src/train/index.js";
import { TestRng } from "./helpers/gradcheck.js";
import { affine, assertOutputsAgree, assertReplayedDopri5GradCheck, assertSamplesAloneMatchBatch, assertStreamMatchesSequence, assertWasmAgreesWithReference, gradCheckOffGrid, integrate, mlpField, perturbWeights, sigmoid } from "./helpers/ode-models.js";
import { sineDataset } from "./helpers/synthetic-data.js";

const perturb = (model: ODERNN, rng: TestRng, amount = 0.3) => perturbWeights(model, rng, amount);

/**
 * The ODE-RNN of one sample from its equations: per observation h <- ODE(h, ts) with n fixed steps of
 * `method`, then torch's GRU h <- GRUCell(x, h); returns every step's output (h, or fc(h)).
 */
function odeRnnSample(sd: Map<string, Tensor>, I: number, H: number, xs: number[][], ts: number[], h0: number[], method: "euler" | "rk4", stepsOf: (t: number) => number): number[][] {
  const f = mlpField(sd, "rnn_cell.f_node.");
  const wih = sd.get("rnn_cell.gru.weight_ih_l0")!.data;
  const whh = sd.get("rnn_cell.gru.weight_hh_l0")!.data;
  const bih = sd.get("rnn_cell.gru.bias_ih_l0")!.data;
  const bhh = sd.get("rnn_cell.gru.bias_hh_l0")!.data;
  const fc = sd.get("fc.weight");
  let h = h0.slice();
  const out: number[][] = [];
  xs.forEach((x, t) => {
    const evolved = integrate(f, h, ts[t], stepsOf(ts[t]), method);
    const gi = affine(wih, 3 * H, I, x, bih);
    const gh = affine(whh, 3 * H, H, evolved, bhh);
    h = evolved.map((hj, j) => {
      const r = sigmoid(gi[j] + gh[j]);
      const z = sigmoid(gi[H + j] + gh[H + j]);
      const n = Math.tanh(gi[2 * H + j] + r * gh[2 * H + j]);
      return (1 - z) * n + z * hj;
    });
    out.push(fc ? affine(fc.data, fc.shape[0], H, h, sd.get("fc.bias")!.data) : h);
  });
  return out;
}

describe("ODERNN forward", () => {
  const cases: Array<{ name: string; options: ODERNNOptions; method: "euler" | "rk4"; stepsOf: (t: number) => number }> = [
    { name: "rk4, 2 steps per observation, projection", options: { solver: "rk4", stepsPerGap: 2, projSize: 2 }, method: "rk4", stepsOf: () => 2 },
    { name: "euler, stepSize 0.3, odeUnits 7", options: { solver: "euler", stepSize: 0.3, odeUnits: 7 }, method: "euler", stepsOf: (t) => Math.max(1, Math.ceil(t / 0.3)) },
  ];
  for (const c of cases) {
    test(`${c.name}: the equations written out (per-sample elapsed times, some zero)`, () => {
      const rng = new TestRng(3);
      const I = 3;
      const H = 4;
      const B = 3;
      const L = 4;
      const model = new ODERNN(I, H, { ...c.options, backend: "reference", seed: 1 });
      perturb(model, rng);
      const x = rng.tensor([B, L, I]);
      const ts = rng.tensor([B, L], 0.05, 1.7);
      ts.data[1] = 0;
      ts.data[L + 2] = 0;
      const h0 = rng.tensor([B, H], -0.5, 0.5);
      const { output } = model.forward(x, { hx: h0, timespans: ts });
      const O = model.outputSize;
      const sd = model.stateDict();
      for (let s = 0; s < B; s++) {
        const xs = Array.from({ length: L }, (_, t) => Array.from(x.data.subarray((s * L + t) * I, (s * L + t + 1) * I)));
        const want = odeRnnSample(sd, I, H, xs, Array.from(ts.data.subarray(s * L, (s + 1) * L)), Array.from(h0.data.subarray(s * H, (s + 1) * H)), c.method, c.stepsOf);
        for (let t = 0; t < L; t++) {
          for (let j = 0; j < O; j++) {
            const got = output.data[(s * L + t) * O + j];
            assert.ok(Math.abs(got - want[t][j]) < 1e-12, `sample ${s} step ${t} unit ${j}: ${got} vs ${want[t][j]}`);
          }
        }
      }
    });
  }

  test("zero elapsed times leave h as it is: the GRU baseline with the same weights", () => {
    const rng = new TestRng(13);
    const model = new ODERNN(3, 4, { backend: "reference", seed: 5, projSize: 2 });
    perturb(model, rng);
    const gru = new GRU(3, 4, { backend: "reference", projSize: 2 });
    const renamed = new Map([...model.stateDict()].filter(([name]) => !name.includes("f_node")).map(([name, t]) => [name.replace("rnn_cell.gru.", "rnn."), t]));
    gru.loadStateDict(renamed);
    const x = rng.tensor([2, 5, 3]);
    const hx = rng.tensor([2, 4], -0.5, 0.5);
    const a = model.predict(x, { hx, timespans: { shape: [2, 5], data: new Float64Array(10) } });
    const b = gru.predict(x, { hx });
    assert.deepEqual([...a.output.data], [...b.output.data]);
    assert.deepEqual([...a.state.h.data], [...b.state.h.data]);
  });

  test("dopri5 at tight tolerances agrees with fine RK4; the solver counts its steps", () => {
    const rng = new TestRng(4);
    const base = new ODERNN(2, 5, { backend: "reference", seed: 2, rtol: 1e-10, atol: 1e-12, odeUnits: 6 });
    perturb(base, rng, 0.6);
    const rk4 = new ODERNN(2, 5, { backend: "reference", solver: "rk4", stepSize: 0.01, odeUnits: 6 });
    rk4.loadStateDict(base.stateDict());
    assertOutputsAgree(base, rk4, rng, 1e-8);
    const s = base.solver.stats;
    assert.ok(s.accepted >= 12 && s.rowEvaluations > s.accepted, `dopri5 stats ${JSON.stringify(s)}`);
  });

  test("fixed steps: the solver's counters are the steps and stages of every sample and observation", () => {
    const rng = new TestRng(5);
    const B = 3;
    const L = 4;
    const model = new ODERNN(2, 3, { backend: "reference", solver: "rk4", stepsPerGap: 2 });
    model.predict(rng.tensor([B, L, 2]), { timespans: rng.tensor([B, L], 0.1, 2) });
    assert.deepEqual({ ...model.solver.stats }, { accepted: B * L * 2, rejected: 0, evaluations: L * 2 * 4, rowEvaluations: B * L * 2 * 4 });
  });

  test("every sample gets the same bits alone as in the batch (per-sample elapsed times)", () => {
    const rng = new TestRng(6);
    for (const options of [{ solver: "rk4", stepSize: 0.2 }, { solver: "dopri5", rtol: 1e-6, atol: 1e-9 }] as ODERNNOptions[]) {
      const model = new ODERNN(2, 3, { ...options, backend: "reference", seed: 3 });
      perturb(model, rng);
      assertSamplesAloneMatchBatch(model, rng, String(options.solver));
    }
  });

  test("streaming one observation at a time gives the sequence's outputs", () => {
    const rng = new TestRng(10);
    const model = new ODERNN(2, 3, { backend: "reference", seed: 8, projSize: 2 });
    perturb(model, rng);
    assertStreamMatchesSequence(model, rng);
  });

  test("the WebAssembly engine agrees with the float64 reference (forward and backward)", () => {
    const rng = new TestRng(7);
    const cases: Array<[ODERNNOptions, number]> = [[{ solver: "rk4", stepsPerGap: 3 }, 1e-5], [{ solver: "dopri5", rtol: 1e-5, atol: 1e-7 }, 1e-4]];
    assertWasmAgreesWithReference((o: ODERNNOptions) => new ODERNN(3, 6, o), rng, cases, (m) => perturb(m as ODERNN, rng), { hx: true });
  });
});

describe("ODERNN backward matches central finite differences (float64)", () => {
  const cases: Array<{ name: string; options: ODERNNOptions; batch: number | null; ts: "per_sample" | "shared" | "none" }> = [
    { name: "euler, stepSize", options: { solver: "euler", stepSize: 0.3 }, batch: 3, ts: "per_sample" },
    { name: "rk4, stepsPerGap, projection, odeUnits 5", options: { solver: "rk4", stepsPerGap: 2, projSize: 2, odeUnits: 5 }, batch: 2, ts: "per_sample" },
    { name: "rk4, last step only, time-major, shared times", options: { solver: "rk4", stepSize: 0.4, returnSequences: false, batchFirst: false }, batch: 3, ts: "shared" },
    { name: "euler, unbatched, default times", options: { solver: "euler", stepsPerGap: 2 }, batch: null, ts: "none" },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const rng = new TestRng(100 + c.name.length);
      const model = new ODERNN(3, 4, { ...c.options, backend: "reference", seed: 7 });
      perturb(model, rng);
      gradCheckOffGrid(model, rng, c, 0.1);
    });
  }

  test("dopri5 with rejected trial steps, the accepted grid replayed", () => {
    const rng = new TestRng(200);
    // a first step far too long for the tolerance: the controller rejects and shrinks it
    const model = new ODERNN(3, 4, { backend: "reference", seed: 9, rtol: 1e-5, atol: 1e-7, firstStep: 1.5, projSize: 2 });
    perturb(model, rng, 0.6);
    assertReplayedDopri5GradCheck(model, rng);
  });
});

describe("ODERNN weights, config and options", () => {
  test("a predict between forward and backward leaves the backward intact; many shapes: released tape memory is not reused by stale records", () => {
    const rng = new TestRng(8);
    const model = new ODERNN(2, 3, { backend: "reference", seed: 5, rtol: 1e-6, atol: 1e-9 });
    const fresh = new ODERNN(2, 3, { backend: "reference", seed: 5, rtol: 1e-6, atol: 1e-9 });
    const e = model.engine;
    const free = e.free.bind(e);
    let releases = 0;
    e.free = (offset: number, n: number) => {
      releases++;
      free(offset, n);
    };
    // the first call grows the solver's tape memory; the later shapes fit in it, so that past six cached
    // shapes the model gives its tape memory back (solver tape chunks included)
    model.forward(rng.tensor([2, 12, 2]), { timespans: rng.tensor([2, 12], 0.2, 3) });
    for (let B = 1; B <= 9; B++) model.forward(rng.tensor([B, 2, 2]), { timespans: rng.tensor([B, 2], 0.2, 3) });
    assert.ok(releases > 0, "the model must have released its tape memory");
    const x = rng.tensor([2, 4, 2]);
    const timespans = rng.tensor([2, 4], 0.5, 2);
    const w = rng.tensor([2, 4, 3]);
    model.forward(x, { timespans });
    model.predict(rng.tensor([3, 6, 2]), { timespans: rng.tensor([3, 6], 0.5, 4) });
    fresh.forward(x, { timespans });
    model.zeroGrad();
    fresh.zeroGrad();
    const a = model.backward(w);
    const b = fresh.backward(w);
    assert.deepEqual([...a.input.data], [...b.input.data]);
    assert.deepEqual([...a.timespans!.data], [...b.timespans!.data]);
    model.parameters().forEach((p, i) => assert.deepEqual([...p.grad], [...fresh.parameters()[i].grad], p.name));
  });

  test("state_dict: documented names and shapes; loading it into another model reproduces the outputs", () => {
    const rng = new TestRng(11);
    const a = new ODERNN(3, 4, { backend: "reference", seed: 1, odeUnits: 6, projSize: 2, solver: "rk4" });
    perturb(a, rng);
    assert.deepEqual([...a.stateDict()].map(([name, t]) => [name, t.shape]), [
      ["rnn_cell.f_node.0.weight", [6, 4]], ["rnn_cell.f_node.0.bias", [6]], ["rnn_cell.f_node.2.weight", [4, 6]], ["rnn_cell.f_node.2.bias", [4]],
      ["rnn_cell.gru.weight_ih_l0", [12, 3]], ["rnn_cell.gru.weight_hh_l0", [12, 4]], ["rnn_cell.gru.bias_ih_l0", [12]], ["rnn_cell.gru.bias_hh_l0", [12]],
      ["fc.weight", [2, 4]], ["fc.bias", [2]],
    ]);
    const b = new ODERNN(3, 4, { backend: "reference", seed: 2, odeUnits: 6, projSize: 2, solver: "rk4" });
    const x = rng.tensor([2, 3, 3]);
    const timespans = rng.tensor([2, 3], 0.1, 2);
    assert.notDeepEqual([...b.predict(x, { timespans }).output.data], [...a.predict(x, { timespans }).output.data]);
    b.loadStateDict(a.stateDict());
    assert.deepEqual([...b.predict(x, { timespans }).output.data], [...a.predict(x, { timespans }).output.data]);
    for (const [name, t] of a.stateDict()) assert.deepEqual([...b.stateDict().get(name)!.data], [...t.data], name);
  });

  test("toConfig lists the model's and the solver's options; buildModel rebuilds the same model", () => {
    const m = new ODERNN(3, 5, { backend: "reference", solver: "rk4", stepSize: 0.1, projSize: 2, returnSequences: false });
    assert.deepEqual(m.toConfig(), {
      model: "ODERNN",
      constructor_args: { input_size: 3, hidden_size: 5, ode_units: 5, proj_size: 2, return_sequences: false, batch_first: true, solver: "rk4", step_size: 0.1, max_steps: 10000 },
    });
    const d = new ODERNN(3, 5, { backend: "reference", odeUnits: 8, batchFirst: false, maxStep: 0.5 });
    assert.deepEqual(d.toConfig().constructor_args, {
      input_size: 3, hidden_size: 5, ode_units: 8, proj_size: null, return_sequences: true, batch_first: false,
      solver: "dopri5", rtol: 1e-3, atol: 1e-6, safety: 0.9, min_factor: 0.2, max_factor: 10, min_step: 0, max_step: 0.5, max_steps: 10000,
    });
    const rng = new TestRng(12);
    for (const model of [m, d, new ODERNN(3, 5, { backend: "reference", solver: "euler" }), new ODERNN(3, 5, { backend: "reference" })]) {
      perturb(model, rng);
      // through JSON, as a checkpoint stores it (an unbounded maxStep is null there)
      const config = JSON.parse(JSON.stringify(model.toConfig()));
      const rebuilt = buildModel(config, { backend: "reference" }) as ODERNN;
      assert.deepEqual(rebuilt.toConfig(), model.toConfig());
      assert.deepEqual(rebuilt.config, model.config);
      rebuilt.loadStateDict(model.stateDict());
      const x = model.batchFirst ? rng.tensor([2, 3, 3]) : rng.tensor([3, 2, 3]);
      const timespans = model.batchFirst ? rng.tensor([2, 3], 0.1, 2) : rng.tensor([3, 2], 0.1, 2);
      assert.deepEqual([...rebuilt.predict(x, { timespans }).output.data], [...model.predict(x, { timespans }).output.data]);
    }
    assert.throws(() => buildModel({ model: "ODERNN", constructor_args: { input_size: 3, hidden_size: 5, units: 5 } }), /^Error: ODERNN: unknown constructor argument 'units' \(known: input_size, hidden_size, /);
  });

  test("unknown options, bad sizes and bad solver options are rejected", () => {
    assert.throws(() => new ODERNN(2, 3, { backend: "reference", unfolds: 3 } as never), /^Error: ODERNN: unknown option 'unfolds' \(valid: odeUnits, projSize, .*solver, stepSize/);
    assert.throws(() => new ODERNN(2, 3, { backend: "reference", ode_units: 3 } as never), /ODERNN: unknown option 'ode_units'/);
    assert.throws(() => new ODERNN(2, 0, { backend: "reference" }), /ODERNN: hiddenSize must be a positive integer, got 0/);
    assert.throws(() => new ODERNN(2, 3, { backend: "reference", odeUnits: 1.5 }), /ODERNN: odeUnits must be a positive integer, got 1.5/);
    assert.throws(() => new ODERNN(2, 3, { backend: "reference", solver: "euler", rtol: 1e-3 }), /ODERNN: rtol applies to the adaptive solver dopri5, not to euler/);
    assert.throws(() => new ODERNN(2, 3, { backend: "reference", solver: "midpoint" as never }), /ODERNN: unknown solver 'midpoint'/);
  });

  test("a negative elapsed time is an error naming the sample and the observation", () => {
    const model = new ODERNN(1, 2, { backend: "reference", solver: "rk4" });
    const timespans: Tensor = { shape: [2, 3], data: Float64Array.of(1, 1, 1, 1, -0.5, 1) };
    assert.throws(() => model.forward({ shape: [2, 3, 1], data: new Float64Array(6) }, { timespans }), /elapsed time of sample 1 at observation 1 must be finite and >= 0, got -0.5/);
  });
});

describe("ODERNN trains", () => {
  test("fit lowers the loss of an irregularly sampled regression", async () => {
    const train = sineDataset(48, 10, 1);
    const model = new ODERNN(1, 8, { projSize: 1, backend: "reference", seed: 3, solver: "rk4" });
    const before = evaluate(model, train).loss;
    await fit(model, train, { epochs: 6, batchSize: 16, lr: 0.03 });
    const after = evaluate(model, train).loss;
    assert.ok(after < 0.5 * before, `training mse ${after} should be well below the untrained ${before}`);
  });
});
