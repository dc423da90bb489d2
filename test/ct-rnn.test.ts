/**
 * CTRNN (src/models/ct-rnn.ts): the forward pass against the equations written out independently, float64
 * finite-difference gradient checks for every solver and option, independence from batch composition,
 * the WebAssembly engine against the reference, tape memory across calls, options and config.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CTRNN, type CTRNNOptions } from "../src/models/ct-rnn.js";
import { TestRng } from "./helpers/gradcheck.js";
import { assertOutputsAgree, assertSamplesAloneMatchBatch, assertStreamMatchesSequence, assertWasmAgreesWithReference, gradCheckOffGrid, perturbWeights } from "./helpers/ode-models.js";

/** Moves weights off their initialisation (tau too) so that the check sees generic values. */
const perturb = (model: CTRNN, rng: TestRng, amount = 0.4) => perturbWeights(model, rng, amount);

describe("CTRNN forward", () => {
  test("one Euler step per observation is h + ts * (-h / softplus(tau) + tanh(W_x x + W_h h + b))", () => {
    const rng = new TestRng(3);
    const I = 3;
    const H = 4;
    const B = 2;
    const L = 3;
    const model = new CTRNN(I, H, { solver: "euler", backend: "reference", seed: 1 });
    perturb(model, rng);
    const x = rng.tensor([B, L, I]);
    const ts = rng.tensor([B, L], 0.1, 1.5);
    const h0 = rng.tensor([B, H], -0.5, 0.5);
    const { output } = model.forward(x, { hx: h0, timespans: ts });
    const sd = model.stateDict();
    const wx = sd.get("rnn_cell.input_weight")!.data;
    const wh = sd.get("rnn_cell.recurrent_weight")!.data;
    const b = sd.get("rnn_cell.bias")!.data;
    const tau = sd.get("rnn_cell.tau")!.data;
    for (let s = 0; s < B; s++) {
      let h = Array.from(h0.data.subarray(s * H, (s + 1) * H));
      for (let t = 0; t < L; t++) {
        const dt = ts.data[s * L + t];
        const next = h.map((hj, j) => {
          let z = b[j];
          for (let i = 0; i < I; i++) z += wx[j * I + i] * x.data[(s * L + t) * I + i];
          for (let k = 0; k < H; k++) z += wh[j * H + k] * h[k];
          const timeConstant = Math.log1p(Math.exp(tau[j]));
          return hj + dt * (-hj / timeConstant + Math.tanh(z));
        });
        h = next;
        for (let j = 0; j < H; j++) {
          const got = output.data[(s * L + t) * H + j];
          assert.ok(Math.abs(got - h[j]) < 1e-12, `sample ${s} step ${t} unit ${j}: ${got} vs ${h[j]}`);
        }
      }
    }
  });

  test("dopri5 and fine RK4 agree on the same model (both near the exact flow)", () => {
    const rng = new TestRng(4);
    const base = new CTRNN(2, 5, { backend: "reference", seed: 2, rtol: 1e-10, atol: 1e-12 });
    perturb(base, rng);
    const rk4 = new CTRNN(2, 5, { backend: "reference", solver: "rk4", stepSize: 0.01 });
    rk4.loadStateDict(base.stateDict());
    assertOutputsAgree(base, rk4, rng, 1e-8);
    assert.ok(base.solver.stats.accepted > 0 && base.solver.stats.rowEvaluations > base.solver.stats.accepted);
  });

  test("every sample gets the same bits alone as in the batch", () => {
    const rng = new TestRng(5);
    for (const options of [{ solver: "rk4", stepSize: 0.2 }, { solver: "dopri5", rtol: 1e-6, atol: 1e-9 }] as CTRNNOptions[]) {
      const model = new CTRNN(2, 3, { ...options, backend: "reference", seed: 3 });
      perturb(model, rng);
      assertSamplesAloneMatchBatch(model, rng, String(options.solver));
    }
  });

  test("streaming one observation at a time gives the sequence's outputs", () => {
    const rng = new TestRng(10);
    const model = new CTRNN(2, 3, { backend: "reference", seed: 8, projSize: 2 });
    perturb(model, rng);
    assertStreamMatchesSequence(model, rng);
  });

  test("the WebAssembly engine agrees with the float64 reference", () => {
    const rng = new TestRng(6);
    const cases: Array<[CTRNNOptions, number]> = [[{ solver: "rk4", stepsPerGap: 3 }, 1e-5], [{ solver: "dopri5", rtol: 1e-5, atol: 1e-7 }, 1e-4]];
    assertWasmAgreesWithReference((o: CTRNNOptions) => new CTRNN(3, 6, o), rng, cases, (m) => perturb(m as CTRNN, rng), { hx: false });
  });
});

describe("CTRNN backward matches central finite differences (float64)", () => {
  const cases: Array<{ name: string; options: CTRNNOptions; batch: number | null; ts: "per_sample" | "shared" | "none"; gc?: { eps: number; tol: number } }> = [
    { name: "euler, stepSize", options: { solver: "euler", stepSize: 0.3 }, batch: 3, ts: "per_sample" },
    { name: "rk4, stepsPerGap, mixed memory + projection", options: { solver: "rk4", stepsPerGap: 2, mixedMemory: true, projSize: 2 }, batch: 2, ts: "per_sample" },
    { name: "rk4, last step only, time-major", options: { solver: "rk4", stepSize: 0.4, returnSequences: false, batchFirst: false }, batch: 3, ts: "shared" },
    { name: "euler, unbatched, default times", options: { solver: "euler", stepsPerGap: 2 }, batch: null, ts: "none" },
    // the controller's steps move with the perturbation: tight tolerances keep that below the check's
    { name: "dopri5, tight tolerances", options: { solver: "dopri5", rtol: 1e-11, atol: 1e-13 }, batch: 2, ts: "per_sample", gc: { eps: 1e-4, tol: 1e-5 } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const rng = new TestRng(100 + c.name.length);
      const model = new CTRNN(3, 4, { ...c.options, backend: "reference", seed: 7 });
      perturb(model, rng);
      gradCheckOffGrid(model, rng, c, 0.1, c.gc);
    });
  }
});

describe("CTRNN memory, options and config", () => {
  test("a predict between forward and backward leaves the backward intact; repeated calls reuse tape memory", () => {
    const rng = new TestRng(8);
    const model = new CTRNN(2, 3, { backend: "reference", seed: 5, rtol: 1e-6, atol: 1e-9 });
    const x = rng.tensor([2, 4, 2]);
    const timespans = rng.tensor([2, 4], 0.5, 2);
    const w = rng.tensor([2, 4, 3]);
    model.forward(x, { timespans });
    model.zeroGrad();
    const plain = model.backward(w);
    const plainGrads = model.parameters().map((p) => Float64Array.from(p.grad));
    model.forward(x, { timespans });
    model.predict(rng.tensor([3, 6, 2]), { timespans: rng.tensor([3, 6], 0.5, 4) });
    const held = model.engine.mark();
    model.zeroGrad();
    const after = model.backward(w);
    assert.deepEqual([...after.input.data], [...plain.input.data]);
    assert.deepEqual([...after.timespans!.data], [...plain.timespans!.data]);
    model.parameters().forEach((p, i) => assert.deepEqual([...p.grad], [...plainGrads[i]], p.name));
    for (let k = 0; k < 5; k++) model.forward(x, { timespans });
    assert.equal(model.engine.mark(), held, "the same shape again allocates nothing: the tape memory is reused");
  });

  test("many input shapes: tape memory given back by the model is not reused by stale solver records", () => {
    const rng = new TestRng(9);
    const model = new CTRNN(2, 3, { backend: "reference", seed: 6 });
    const fresh = new CTRNN(2, 3, { backend: "reference", seed: 6 });
    const e = model.engine;
    const free = e.free.bind(e);
    let releases = 0;
    e.free = (offset: number, n: number) => {
      releases++;
      free(offset, n);
    };
    // the first call grows the solver's tape memory; later shapes fit in it, so that after six cached
    // shapes the model gives its tape memory back (freed block by block; the solver's tape chunks stay the solver's)
    model.forward(rng.tensor([2, 12, 2]), { timespans: rng.tensor([2, 12], 0.2, 3) });
    for (let B = 1; B <= 9; B++) model.forward(rng.tensor([B, 2, 2]), { timespans: rng.tensor([B, 2], 0.2, 3) });
    assert.ok(releases > 0, "the model must have released its tape memory");
    const x = rng.tensor([2, 5, 2]);
    const timespans = rng.tensor([2, 5], 0.2, 3);
    const w = rng.tensor([2, 5, 3]);
    const a = model.forward(x, { timespans });
    const b = fresh.forward(x, { timespans });
    assert.deepEqual([...a.output.data], [...b.output.data]);
    model.zeroGrad();
    fresh.zeroGrad();
    assert.deepEqual([...model.backward(w).input.data], [...fresh.backward(w).input.data]);
    model.parameters().forEach((p, i) => assert.deepEqual([...p.grad], [...fresh.parameters()[i].grad], p.name));
  });

  test("unknown options, bad units and bad solver options are rejected", () => {
    assert.throws(() => new CTRNN(2, 3, { backend: "reference", unfolds: 3 } as never), /CTRNN: unknown option\(s\) unfolds/);
    assert.throws(() => new CTRNN(2, 0, { backend: "reference" }), /CTRNN: units must be a positive integer, got 0/);
    assert.throws(() => new CTRNN(2, 3, { backend: "reference", solver: "euler", rtol: 1e-3 }), /CTRNN: rtol applies to the adaptive solver dopri5, not to euler/);
    assert.throws(() => new CTRNN(2, 3, { backend: "reference", solver: "midpoint" as never }), /CTRNN: unknown solver 'midpoint'/);
  });

  test("toConfig lists the model's and the solver's options; parameters have their documented shapes", () => {
    const m = new CTRNN(3, 5, { backend: "reference", solver: "rk4", stepSize: 0.1, projSize: 2, returnSequences: false });
    assert.deepEqual(m.toConfig(), {
      model: "CTRNN",
      constructor_args: { input_size: 3, units: 5, proj_size: 2, return_sequences: false, batch_first: true, mixed_memory: false, solver: "rk4", step_size: 0.1, max_steps: 10000 },
    });
    const d = new CTRNN(3, 5, { backend: "reference" });
    assert.deepEqual(d.toConfig().constructor_args, {
      input_size: 3, units: 5, proj_size: null, return_sequences: true, batch_first: true, mixed_memory: false,
      solver: "dopri5", rtol: 1e-3, atol: 1e-6, safety: 0.9, min_factor: 0.2, max_factor: 10, min_step: 0, max_step: null, max_steps: 10000,
    });
    assert.deepEqual([...m.stateDict()].map(([name, t]) => [name, t.shape]), [
      ["rnn_cell.input_weight", [5, 3]], ["rnn_cell.recurrent_weight", [5, 5]], ["rnn_cell.bias", [5]], ["rnn_cell.tau", [5]],
      ["fc.weight", [2, 5]], ["fc.bias", [2]],
    ]);
    // tau starts at 1
    for (const v of m.stateDict().get("rnn_cell.tau")!.data) assert.ok(Math.abs(Math.log1p(Math.exp(v)) - 1) < 1e-12);
  });
});
