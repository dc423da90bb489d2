/**
 * GRUODE (src/models/gru-ode.ts): the forward pass against the equations written out here independently
 * (plain float64 loops, Euler and RK4), float64 finite-difference gradient checks for every solver
 * (dopri5's finite differences replay the accepted step grid), independence from batch composition,
 * the WebAssembly engine and its GRU-ODE kernels against the reference, state_dict, options and config.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Engine } from "../src/engine/engine.js";
import { ReferenceEngine } from "../src/engine/reference.js";
import { WasmEngine } from "../src/engine/wasm.js";
import { buildModel } from "../src/models/build.js";
import { GRU } from "../src/models/gru.js";
import { GRUODE, type GRUODEOptions } from "../src/models/gru-ode.js";
import type { SolveRequest } from "../src/models/ode-solver.js";
import type { Tensor } from "../src/tensor.js";
import { TestRng } from "./helpers/gradcheck.js";
import { assertOutputsAgree, assertSamplesAloneMatchBatch, assertStreamMatchesSequence, assertWasmAgreesWithReference, gradCheckOffGrid, perturbWeights, sigmoid } from "./helpers/ode-models.js";

const perturb = (model: GRUODE, rng: TestRng, amount = 0.4) => perturbWeights(model, rng, amount);

/** W v + b for a row-major [rows, cols] W */
function affine(w: ArrayLike<number>, b: ArrayLike<number>, rows: number, cols: number, v: ArrayLike<number>, offset = 0): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows; i++) {
    let s = b[offset + i];
    for (let k = 0; k < cols; k++) s += w[(offset + i) * cols + k] * v[k];
    out.push(s);
  }
  return out;
}

/**
 * One sample through GRU-ODE, from the equations: per observation, n equal steps of Euler or RK4 on
 * dh/dt = (1 - z)(g - h), r = sigmoid(W_r h + b_r), z = sigmoid(W_z h + b_z), g = tanh(W_g (r h) + b_g),
 * then h = GRUCell(x, h) with torch's gate equations. Returns every observation's h.
 */
function gruOdeSample(sd: Map<string, Tensor>, I: number, H: number, xs: number[][], ts: number[], h0: number[], method: "euler" | "rk4", stepsFor: (dt: number) => number): number[][] {
  const get = (name: string) => sd.get(name)!.data;
  const field = (h: number[]): number[] => {
    const r = affine(get("ode_cell.lin_hr.weight"), get("ode_cell.lin_hr.bias"), H, H, h).map(sigmoid);
    const z = affine(get("ode_cell.lin_hz.weight"), get("ode_cell.lin_hz.bias"), H, H, h).map(sigmoid);
    const g = affine(get("ode_cell.lin_hh.weight"), get("ode_cell.lin_hh.bias"), H, H, h.map((v, j) => r[j] * v)).map(Math.tanh);
    return h.map((v, j) => (1 - z[j]) * (g[j] - v));
  };
  const plus = (a: number[], s: number, b: number[]) => a.map((v, j) => v + s * b[j]);
  let h = h0.slice();
  const hs: number[][] = [];
  xs.forEach((x, t) => {
    const n = stepsFor(ts[t]);
    const dt = ts[t] / n;
    for (let k = 0; k < n; k++) {
      if (method === "euler") {
        h = plus(h, dt, field(h));
      } else {
        const k1 = field(h);
        const k2 = field(plus(h, dt / 2, k1));
        const k3 = field(plus(h, dt / 2, k2));
        const k4 = field(plus(h, dt, k3));
        h = h.map((v, j) => v + (dt / 6) * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]));
      }
    }
    const gi = affine(get("gru_cell.weight_ih"), get("gru_cell.bias_ih"), 3 * H, I, x);
    const gh = affine(get("gru_cell.weight_hh"), get("gru_cell.bias_hh"), 3 * H, H, h);
    h = h.map((v, j) => {
      const r = sigmoid(gi[j] + gh[j]);
      const z = sigmoid(gi[H + j] + gh[H + j]);
      const cand = Math.tanh(gi[2 * H + j] + r * gh[2 * H + j]);
      return (1 - z) * cand + z * v;
    });
    hs.push(h);
  });
  return hs;
}

/**
 * Makes every solve without a tape (the finite-difference forwards) replay the accepted grid of the same
 * observation in the last solve with a tape: what dopri5's discretise-then-optimise gradient differentiates.
 */
function replayGrids(model: GRUODE): void {
  const solver = model.solver;
  const solve = solver.solve.bind(solver);
  const grids = new Map<number, Float64Array[]>();
  solver.solve = (req: SolveRequest) => {
    if (req.tape) {
      const result = solve(req);
      grids.set(req.observation!, solver.acceptedSteps(result.tape!));
      return result;
    }
    return solve({ ...req, grid: grids.get(req.observation!) });
  };
}

describe("GRUODE forward", () => {
  const methods: Array<[string, GRUODEOptions, "euler" | "rk4", (dt: number) => number]> = [
    ["euler, 3 steps per elapsed time", { solver: "euler", stepsPerGap: 3 }, "euler", () => 3],
    ["rk4, steps of at most 0.3", { solver: "rk4", stepSize: 0.3 }, "rk4", (dt) => Math.max(1, Math.ceil(dt / 0.3))],
  ];
  for (const [name, options, method, stepsFor] of methods) {
    test(`${name}: evolve by the GRU's continuous form, then a GRUCell update, as written out`, () => {
      const rng = new TestRng(3 + name.length);
      const I = 3;
      const H = 4;
      const B = 3;
      const L = 4;
      const model = new GRUODE(I, H, { ...options, backend: "reference", seed: 1 });
      perturb(model, rng);
      const x = rng.tensor([B, L, I]);
      const ts = rng.tensor([B, L], 0.05, 1.4);
      // elapsed times off multiples of the step size (the step count there depends on rounding)
      for (let i = 0; i < ts.data.length; i++) if (Math.abs(ts.data[i] / 0.3 - Math.round(ts.data[i] / 0.3)) < 1e-3) ts.data[i] += 0.01;
      const h0 = rng.tensor([B, H], -0.5, 0.5);
      const { output, state } = model.forward(x, { hx: h0, timespans: ts });
      const sd = model.stateDict();
      for (let s = 0; s < B; s++) {
        const xs = Array.from({ length: L }, (_, t) => Array.from(x.data.subarray((s * L + t) * I, (s * L + t + 1) * I)));
        const tss = Array.from(ts.data.subarray(s * L, (s + 1) * L));
        const hs = gruOdeSample(sd, I, H, xs, tss, Array.from(h0.data.subarray(s * H, (s + 1) * H)), method, stepsFor);
        for (let t = 0; t < L; t++) {
          for (let j = 0; j < H; j++) {
            const got = output.data[(s * L + t) * H + j];
            assert.ok(Math.abs(got - hs[t][j]) < 1e-12, `sample ${s} step ${t} unit ${j}: ${got} vs ${hs[t][j]}`);
          }
        }
        for (let j = 0; j < H; j++) assert.ok(Math.abs(state.h.data[s * H + j] - hs[L - 1][j]) < 1e-12, `final state of sample ${s}`);
      }
    });
  }

  test("with zero elapsed times the state does not move between observations: the GRU cell alone", () => {
    const rng = new TestRng(21);
    const model = new GRUODE(2, 3, { backend: "reference", seed: 4 });
    perturb(model, rng);
    const gru = new GRU(2, 3, { backend: "reference" });
    const sd = model.stateDict();
    gru.loadStateDict(new Map(["weight_ih", "weight_hh", "bias_ih", "bias_hh"].map((n) => [`rnn.${n}_l0`, sd.get(`gru_cell.${n}`)!])));
    const x = rng.tensor([2, 5, 2]);
    const hx = rng.tensor([2, 3], -0.5, 0.5);
    const a = model.forward(x, { hx, timespans: { shape: [2, 5], data: new Float64Array(10) } }).output.data;
    const b = gru.forward(x, { hx }).output.data;
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-14, `${i}: ${a[i]} vs ${b[i]}`);
  });

  test("dopri5 and fine RK4 agree on the same model (both near the exact flow); step counts are exposed", () => {
    const rng = new TestRng(4);
    const base = new GRUODE(2, 5, { backend: "reference", seed: 2, rtol: 1e-10, atol: 1e-12 });
    perturb(base, rng);
    const rk4 = new GRUODE(2, 5, { backend: "reference", solver: "rk4", stepSize: 0.01 });
    rk4.loadStateDict(base.stateDict());
    const { timespans } = assertOutputsAgree(base, rk4, rng, 1e-8);
    const stats = base.solver.stats;
    assert.ok(stats.accepted >= 12 && stats.rowEvaluations > stats.accepted, `dopri5 stats ${JSON.stringify(stats)}`);
    // rk4: ceil(ts / 0.01) steps per sample and observation, four evaluations each
    let steps = 0;
    for (const t of timespans.data) steps += Math.max(1, Math.ceil((t / 0.01) * (1 - 1e-6)));
    assert.equal(rk4.solver.stats.accepted, steps);
    assert.equal(rk4.solver.stats.rowEvaluations, 4 * steps);
  });

  test("every sample gets the same bits alone as in the batch (per-sample elapsed times)", () => {
    const rng = new TestRng(5);
    for (const options of [{ solver: "euler", stepSize: 0.25 }, { solver: "rk4", stepSize: 0.2 }, { solver: "dopri5", rtol: 1e-6, atol: 1e-9 }] as GRUODEOptions[]) {
      const model = new GRUODE(2, 3, { ...options, backend: "reference", seed: 3 });
      perturb(model, rng);
      assertSamplesAloneMatchBatch(model, rng, String(options.solver), [1]);
    }
  });

  test("streaming one observation at a time gives the sequence's outputs", () => {
    const rng = new TestRng(10);
    const model = new GRUODE(2, 3, { backend: "reference", seed: 8, projSize: 2 });
    perturb(model, rng);
    assertStreamMatchesSequence(model, rng);
  });

  test("the WebAssembly engine agrees with the float64 reference (outputs and gradients)", () => {
    const rng = new TestRng(6);
    const cases: Array<[GRUODEOptions, number]> = [[{ solver: "rk4", stepsPerGap: 3 }, 1e-5], [{ solver: "dopri5", rtol: 1e-5, atol: 1e-7 }, 1e-4]];
    assertWasmAgreesWithReference((o: GRUODEOptions) => new GRUODE(3, 6, o), rng, cases, (m) => perturb(m as GRUODE, rng), { hx: true });
  });
});

describe("GRUODE backward matches central finite differences (float64)", () => {
  const cases: Array<{ name: string; options: GRUODEOptions; batch: number | null; ts: "per_sample" | "shared" | "none"; replay?: boolean; gc?: { eps: number; tol: number } }> = [
    { name: "euler, stepSize", options: { solver: "euler", stepSize: 0.3 }, batch: 3, ts: "per_sample" },
    { name: "rk4, stepsPerGap, projection", options: { solver: "rk4", stepsPerGap: 2, projSize: 2 }, batch: 2, ts: "per_sample" },
    { name: "rk4, last step only, time-major", options: { solver: "rk4", stepSize: 0.4, returnSequences: false, batchFirst: false }, batch: 3, ts: "shared" },
    { name: "euler, unbatched, default times", options: { solver: "euler", stepsPerGap: 2 }, batch: null, ts: "none" },
    { name: "dopri5, default tolerances, replayed grid", options: { solver: "dopri5" }, batch: 3, ts: "per_sample", replay: true },
    { name: "dopri5, a first step too long (rejected steps), replayed grid", options: { solver: "dopri5", rtol: 1e-7, atol: 1e-9, firstStep: 2 }, batch: 2, ts: "per_sample", replay: true },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const rng = new TestRng(100 + c.name.length);
      const model = new GRUODE(3, 4, { ...c.options, backend: "reference", seed: 7 });
      perturb(model, rng, 0.8);
      if (c.replay) replayGrids(model);
      gradCheckOffGrid(model, rng, c, 0.37, c.gc);
      if (c.options.firstStep) assert.ok(model.solver.stats.rejected > 0, "this case should have rejected trial steps");
    });
  }
});

describe("GRUODE tape memory", () => {
  test("a predict between forward and backward leaves the backward intact; after many shapes, given-back memory is not reused by stale solver records", () => {
    const rng = new TestRng(9);
    const model = new GRUODE(2, 3, { backend: "reference", seed: 6 });
    const fresh = new GRUODE(2, 3, { backend: "reference", seed: 6 });
    const x = rng.tensor([2, 5, 2]);
    const timespans = rng.tensor([2, 5], 0.2, 3);
    const w = rng.tensor([2, 5, 3]);
    const e = model.engine;
    const free = e.free.bind(e);
    let releases = 0;
    e.free = (offset: number, n: number) => {
      releases++;
      free(offset, n);
    };
    model.forward(x, { timespans });
    model.predict(rng.tensor([3, 6, 2]), { timespans: rng.tensor([3, 6], 0.5, 4) });
    model.zeroGrad();
    const first = model.backward(w);
    // a long first call grows the solver's tape memory; after six cached shapes the model gives its tape memory back
    model.forward(rng.tensor([2, 12, 2]), { timespans: rng.tensor([2, 12], 0.2, 3) });
    for (let B = 1; B <= 9; B++) model.forward(rng.tensor([B, 2, 2]), { timespans: rng.tensor([B, 2], 0.2, 3) });
    assert.ok(releases > 0, "the model must have released its tape memory");
    const a = model.forward(x, { timespans });
    const b = fresh.forward(x, { timespans });
    assert.deepEqual([...a.output.data], [...b.output.data]);
    model.zeroGrad();
    fresh.zeroGrad();
    const again = model.backward(w);
    assert.deepEqual([...again.input.data], [...fresh.backward(w).input.data]);
    assert.deepEqual([...again.input.data], [...first.input.data]);
    model.parameters().forEach((p, i) => assert.deepEqual([...p.grad], [...fresh.parameters()[i].grad], p.name));
  });
});

describe("GRU-ODE kernels: WebAssembly against the reference", () => {
  /** Runs the four kernels on one engine over the given data; returns every buffer they write. */
  function runKernels(e: Engine, rows: number, H: number, ld: number, data: Record<string, Float64Array>) {
    const put = (values: Float64Array) => {
      const off = e.alloc(values.length);
      e.heap().set(values, off);
      return off;
    };
    const gates = put(data.gates);
    const h = put(data.h);
    const dhdt = put(data.dhdt);
    const g = put(data.g);
    const dh = put(data.dh);
    const dGates = put(data.dGates);
    const read = (off: number, n: number) => Array.from(e.heap().subarray(off, off + n));
    e.gruOdeGatesForward(rows, H, gates, h, ld);
    const afterGates = read(gates, rows * 4 * H);
    e.gruOdeForward(rows, H, gates, h, ld, dhdt, ld);
    e.gruOdeBackward(rows, H, gates, h, ld, g, ld, dGates, dh, ld);
    const afterBackward = read(dGates, rows * 4 * H);
    e.gruOdeGatesBackward(rows, H, gates, h, ld, dGates, dh, ld);
    return { afterGates, gates: read(gates, rows * 4 * H), dhdt: read(dhdt, rows * ld), afterBackward, dGates: read(dGates, rows * 4 * H), dh: read(dh, rows * ld) };
  }

  for (const [rows, H, pad] of [[3, 5, 2], [2, 4, 0], [4, 1, 3], [1, 11, 1], [5, 8, 5]] as const) {
    test(`rows ${rows}, hidden ${H}, row stride ${H + pad}`, () => {
      const rng = new TestRng(rows * 31 + H * 7 + pad);
      const ld = H + pad;
      const vec = (n: number, lo: number, hi: number) => Float64Array.from(rng.tensor([n], lo, hi).data, Math.fround);
      const data = {
        gates: vec(rows * 4 * H, -4, 4), h: vec(rows * ld, -1, 1), dhdt: vec(rows * ld, -1, 1), g: vec(rows * ld, -1, 1),
        dh: vec(rows * ld, -1, 1), dGates: vec(rows * 4 * H, -1, 1),
      };
      const expected = runKernels(new ReferenceEngine(), rows, H, ld, data);
      const actual = runKernels(new WasmEngine(), rows, H, ld, data);
      for (const key of Object.keys(expected) as Array<keyof typeof expected>) {
        const u = expected[key];
        const v = actual[key];
        for (let i = 0; i < u.length; i++) assert.ok(Math.abs(u[i] - v[i]) <= 2e-6 * Math.max(1, Math.abs(u[i])), `${key}[${i}]: ${v[i]} vs reference ${u[i]}`);
      }
      // padding columns between rows are neither written by the kernels
      for (let r = 0; r < rows; r++) {
        for (let j = H; j < ld; j++) {
          assert.equal(expected.dh[r * ld + j], Math.fround(data.dh[r * ld + j]), "dh padding untouched");
          assert.equal(expected.dhdt[r * ld + j], Math.fround(data.dhdt[r * ld + j]), "dhdt padding untouched");
        }
      }
    });
  }

  test("the reference kernels compute the field's equations; backward accumulates into dh", () => {
    const e = new ReferenceEngine();
    const H = 2;
    const pre = [0.3, -0.2, 0.5, 1.1, -0.7, 0.4, 9, 9];
    const hv = [0.25, -0.5];
    const gates = e.alloc(8);
    const h = e.alloc(2);
    const dhdt = e.alloc(2);
    e.heap().set(pre, gates);
    e.heap().set(hv, h);
    e.gruOdeGatesForward(1, H, gates, h, H);
    const m = () => e.heap();
    for (let j = 0; j < H; j++) {
      assert.ok(Math.abs(m()[gates + j] - sigmoid(pre[j])) < 1e-15 && Math.abs(m()[gates + H + j] - sigmoid(pre[H + j])) < 1e-15, `r, z at ${j}`);
      assert.ok(Math.abs(m()[gates + 3 * H + j] - sigmoid(pre[j]) * hv[j]) < 1e-15, `r * h at ${j}`);
      assert.equal(m()[gates + 2 * H + j], pre[2 * H + j], "g's pre-activation is left for the caller");
    }
    e.gruOdeForward(1, H, gates, h, H, dhdt, H);
    for (let j = 0; j < H; j++) {
      const z = sigmoid(pre[H + j]);
      const g = Math.tanh(pre[2 * H + j]);
      assert.ok(Math.abs(m()[dhdt + j] - (1 - z) * (g - hv[j])) < 1e-15, `dh/dt at ${j}`);
    }
    // with d(dh/dt) = 1 and no gradient through the gates, dh gains -(1 - z) on top of what it held
    const g = e.alloc(2);
    const dh = e.alloc(2);
    const dGates = e.alloc(8);
    e.heap().set([1, 1], g);
    e.heap().set([10, 20], dh);
    e.gruOdeBackward(1, H, gates, h, H, g, H, dGates, dh, H);
    for (let j = 0; j < H; j++) assert.ok(Math.abs(m()[dh + j] - ((j === 0 ? 10 : 20) - (1 - sigmoid(pre[H + j])))) < 1e-15, `dh[${j}]`);
  });
});

describe("GRUODE parameters, options and config", () => {
  test("state_dict names and shapes: ode_cell (GRU-ODE-Bayes's lin_hr, lin_hz, lin_hh), gru_cell (nn.GRUCell), fc", () => {
    const m = new GRUODE(3, 5, { backend: "reference", projSize: 2 });
    assert.deepEqual([...m.stateDict()].map(([name, t]) => [name, t.shape]), [
      ["ode_cell.lin_hr.weight", [5, 5]], ["ode_cell.lin_hr.bias", [5]],
      ["ode_cell.lin_hz.weight", [5, 5]], ["ode_cell.lin_hz.bias", [5]],
      ["ode_cell.lin_hh.weight", [5, 5]], ["ode_cell.lin_hh.bias", [5]],
      ["gru_cell.weight_ih", [15, 3]], ["gru_cell.weight_hh", [15, 5]], ["gru_cell.bias_ih", [15]], ["gru_cell.bias_hh", [15]],
      ["fc.weight", [2, 5]], ["fc.bias", [2]],
    ]);
    // torch's inits: U(-1/sqrt(H), 1/sqrt(H)) for the Linear layers and the GRU cell alike
    const bound = 1 / Math.sqrt(5);
    for (const [name, t] of m.stateDict()) {
      if (name.startsWith("fc.")) continue;
      for (const v of t.data) assert.ok(Math.abs(v) <= bound, `${name}: ${v}`);
    }
    assert.equal(m.parameterCount(), 3 * (25 + 5) + (45 + 75 + 30) + (10 + 2));
  });

  test("stateDict / loadStateDict round trip: a model with loaded weights computes the same", () => {
    const rng = new TestRng(30);
    const a = new GRUODE(2, 4, { backend: "reference", seed: 1, solver: "rk4" });
    perturb(a, rng);
    const b = new GRUODE(2, 4, { backend: "reference", seed: 2, solver: "rk4" });
    const x = rng.tensor([2, 3, 2]);
    const timespans = rng.tensor([2, 3], 0.1, 2);
    assert.notDeepEqual([...a.predict(x, { timespans }).output.data], [...b.predict(x, { timespans }).output.data]);
    b.loadStateDict(a.stateDict());
    assert.deepEqual([...a.predict(x, { timespans }).output.data], [...b.predict(x, { timespans }).output.data]);
    assert.throws(() => b.loadStateDict(new Map([...a.stateDict()].filter(([n]) => n !== "ode_cell.lin_hz.bias"))), /missing tensor ode_cell\.lin_hz\.bias/);
  });

  test("the same seed gives the same model; another seed another", () => {
    const a = new GRUODE(2, 3, { backend: "reference", seed: 5 }).stateDict();
    const b = new GRUODE(2, 3, { backend: "reference", seed: 5 }).stateDict();
    const c = new GRUODE(2, 3, { backend: "reference", seed: 6 }).stateDict();
    for (const [name, t] of a) assert.deepEqual([...t.data], [...b.get(name)!.data], name);
    assert.notDeepEqual([...a.get("ode_cell.lin_hr.weight")!.data], [...c.get("ode_cell.lin_hr.weight")!.data]);
  });

  test("unknown options, a bad size and bad solver options are rejected", () => {
    assert.throws(() => new GRUODE(2, 3, { backend: "reference", mixedMemory: true } as never), /GRUODE: unknown option 'mixedMemory'/);
    assert.throws(() => new GRUODE(2, 3, { backend: "reference", step_size: 0.1 } as never), /GRUODE: unknown option 'step_size'/);
    assert.throws(() => new GRUODE(2, 0, { backend: "reference" }), /GRUODE: hiddenSize must be a positive integer, got 0/);
    assert.throws(() => new GRUODE(2, 3, { backend: "reference", solver: "euler", rtol: 1e-3 }), /GRUODE: rtol applies to the adaptive solver dopri5, not to euler/);
    assert.throws(() => new GRUODE(2, 3, { backend: "reference", solver: "dopri5", stepSize: 0.1 }), /GRUODE: stepSize applies to the fixed-step solvers/);
    assert.throws(() => new GRUODE(2, 3, { backend: "reference", solver: "midpoint" as never }), /GRUODE: unknown solver 'midpoint'/);
  });

  test("a negative elapsed time is an error naming the sample and observation", () => {
    const m = new GRUODE(1, 2, { backend: "reference", solver: "euler" });
    assert.throws(() => m.forward({ shape: [2, 2, 1], data: new Float64Array(4) }, { timespans: { shape: [2, 2], data: Float64Array.from([1, 1, 1, -1]) } }), /elapsed time of sample 1 at observation 1 must be finite and >= 0, got -1/);
  });

  test("toConfig lists the model's and the solver's options; buildModel rebuilds the model", () => {
    const rng = new TestRng(31);
    const m = new GRUODE(3, 5, { backend: "reference", solver: "rk4", stepSize: 0.1, projSize: 2, returnSequences: false });
    assert.deepEqual(m.toConfig(), {
      model: "GRUODE",
      constructor_args: { input_size: 3, hidden_size: 5, proj_size: 2, return_sequences: false, batch_first: true, solver: "rk4", step_size: 0.1, max_steps: 10000 },
    });
    const d = new GRUODE(3, 5, { backend: "reference" });
    assert.deepEqual(d.toConfig().constructor_args, {
      input_size: 3, hidden_size: 5, proj_size: null, return_sequences: true, batch_first: true,
      solver: "dopri5", rtol: 1e-3, atol: 1e-6, safety: 0.9, min_factor: 0.2, max_factor: 10, min_step: 0, max_step: null, max_steps: 10000,
    });
    for (const model of [m, d]) {
      perturb(model, rng);
      const rebuilt = buildModel(JSON.parse(JSON.stringify(model.toConfig())), { backend: "reference" });
      assert.ok(rebuilt instanceof GRUODE);
      assert.deepEqual(rebuilt.toConfig(), model.toConfig());
      rebuilt.loadStateDict(model.stateDict());
      const x = rng.tensor([2, 3, 3]);
      const timespans = rng.tensor([2, 3], 0.1, 2);
      assert.deepEqual([...rebuilt.predict(x, { timespans }).output.data], [...model.predict(x, { timespans }).output.data]);
    }
    assert.throws(() => buildModel({ model: "GRUODE", constructor_args: { input_size: 2, hidden_size: 3, solver: "euler", rtol: 0.1 } }), /GRUODE: rtol applies to the adaptive solver dopri5, not to euler/);
    assert.throws(() => buildModel({ model: "GRUODE", constructor_args: { input_size: 2, units: 3 } }), /GRUODE: unknown constructor argument 'units'/);
    assert.throws(() => buildModel({ model: "GRUODE", constructor_args: { input_size: 2 } }), /GRUODE: constructor_args\.hidden_size must be an integer, got undefined/);
    assert.throws(() => buildModel({ model: "CTRNN", constructor_args: { input_size: 2, hidden_size: 3 } }), /CTRNN: unknown constructor argument 'hidden_size'/);
  });
});
