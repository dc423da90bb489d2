/**
 * LTC: the PyTorch ncps reference cases, finite-difference gradient checks over every option, an
 * independent float64 re-implementation of the forward equations, the float32 kernels against the
 * float64 reference at awkward sizes, parameters and init, weight constraints, the single-step LTCCell,
 * and option validation.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ltcScratchSize } from "../src/engine/engine.js";
import { createEngine } from "../src/engine/index.js";
import { buildModel } from "../src/models/build.js";
import { LTC, type LTCOptions } from "../src/models/ltc.js";
import { LTCCell } from "../src/models/ltc-cell.js";
import { replayCase } from "../src/models/replay.js";
import type { Tensor } from "../src/tensor.js";
import { AutoNCP } from "../src/wirings/auto-ncp.js";
import { FullyConnected } from "../src/wirings/fully-connected.js";
import { NCP } from "../src/wirings/ncp.js";
import { Wiring } from "../src/wirings/wiring.js";
import { SKIP_NO_GOLDENS, compareWithCase, goldenFiles, loadGolden, relativeError } from "./helpers/goldens.js";
import { TestRng, gradCheck, randomInputs } from "./helpers/gradcheck.js";

const ref = (opts: LTCOptions = {}): LTCOptions => ({ backend: "reference", ...opts });

/** Whether the float32 engine of this build has the LTC kernels: a zero-length call succeeds. */
function wasmHasLtc(): boolean {
  try {
    const e = createEngine("wasm");
    const off = e.alloc(4);
    e.ltcSoftplus(0, off, off);
    return true;
  } catch {
    return false;
  }
}

describe("LTC reference cases (PyTorch ncps 1.0.1)", { skip: SKIP_NO_GOLDENS }, () => {
  const files = goldenFiles((f) => f.startsWith("ltc_"));
  test("the reference cases are present", () => assert.ok(files.length >= 18, `found ${files.length} ltc_* cases`));
  for (const file of files) {
    test(`${file} float64 (reference engine) within 1e-9`, () => {
      const c = loadGolden(file);
      assert.deepEqual(compareWithCase(replayCase(c, "float64"), c, 1e-9, 1e-9), []);
    });
  }
  const skip32 = wasmHasLtc() ? false : "the wasm engine's module has no LTC kernels yet (export src/engine/assembly/ltc.ts from assembly/index.ts and run npm run build:wasm)";
  for (const file of files) {
    test(`${file} float32 (wasm engine) within 1e-5 / 1e-4`, { skip: skip32 }, () => {
      const c = loadGolden(file);
      assert.deepEqual(compareWithCase(replayCase(c, "float32"), c, 1e-5, 1e-4), []);
    });
  }
});

// ---- an independent float64 LTC, straight from the equations (ncps ltc_cell.py), for forward checks ----

function softplus(x: number): number {
  return x > 20 ? x : Math.log(1 + Math.exp(x));
}

/** Runs the LTC of `model`'s parameters over batch-first input x (B, L, I) with per-sample ts (B, L). */
function naiveLtc(model: LTC, x: Tensor, h0: Float64Array, ts: Float64Array): { out: number[][][]; h: number[][] } {
  const sd = model.stateDict();
  const P = (name: string) => sd.get(`rnn_cell.${name}`)?.data;
  const [B, L, I] = x.shape;
  const U = model.stateSize;
  const M = model.motorSize;
  const K = model.config.odeUnfolds;
  const phi = model.config.implicitParamConstraints ? softplus : (v: number) => v;
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const out: number[][][] = [];
  const hs: number[][] = [];
  for (let b = 0; b < B; b++) {
    let v = Array.from(h0.subarray(b * U, (b + 1) * U));
    const seq: number[][] = [];
    for (let t = 0; t < L; t++) {
      const xin = Array.from({ length: I }, (_, i) => {
        let xv = x.data[(b * L + t) * I + i];
        if (P("input_w")) xv *= P("input_w")![i];
        if (P("input_b")) xv += P("input_b")![i];
        return xv;
      });
      const ns = new Array(U).fill(0);
      const ds = new Array(U).fill(0);
      for (let i = 0; i < I; i++) {
        for (let j = 0; j < U; j++) {
          const e = i * U + j;
          const a = phi(P("sensory_w")![e]) * sig(P("sensory_sigma")![e] * (xin[i] - P("sensory_mu")![e])) * P("sensory_sparsity_mask")![e];
          ns[j] += a * P("sensory_erev")![e];
          ds[j] += a;
        }
      }
      const dt = ts[b * L + t];
      for (let k = 0; k < K; k++) {
        const next = new Array(U);
        for (let j = 0; j < U; j++) {
          let wn = 0;
          let wd = 0;
          for (let i = 0; i < U; i++) {
            const e = i * U + j;
            const a = phi(P("w")![e]) * sig(P("sigma")![e] * (v[i] - P("mu")![e])) * P("sparsity_mask")![e];
            wn += a * P("erev")![e];
            wd += a;
          }
          const cmT = phi(P("cm")![j]) / (dt / K);
          const g = phi(P("gleak")![j]);
          next[j] = (cmT * v[j] + g * P("vleak")![j] + wn + ns[j]) / (cmT + g + wd + ds[j] + model.config.epsilon);
        }
        v = next;
      }
      seq.push(v.slice(0, M).map((val, m) => {
        let o = val;
        if (P("output_w")) o *= P("output_w")![m];
        if (P("output_b")) o += P("output_b")![m];
        return o;
      }));
    }
    out.push(seq);
    hs.push(v);
  }
  return { out, h: hs };
}

function jiggle(model: LTC, rng: TestRng, amount: number): void {
  for (const p of model.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] += rng.range(-amount, amount);
}

describe("LTC forward matches an independent implementation of the ncps equations", () => {
  const variants: Array<[string, number, () => number | Wiring, LTCOptions]> = [
    ["FullyConnected, affine maps, implicit", 3, () => 5, {}],
    ["FullyConnected(7, 2), linear maps, explicit, 3 unfolds", 2, () => new FullyConnected(7, 2), { inputMapping: "linear", outputMapping: "linear", implicitParamConstraints: false, odeUnfolds: 3 }],
    ["AutoNCP(9, 2), identity maps, 1 unfold", 4, () => new AutoNCP(9, 2, { seed: 3 }), { inputMapping: null, outputMapping: null, odeUnfolds: 1 }],
    ["NCP, affine input, identity output, epsilon 0.1", 3, () => new NCP(4, 3, 2, 2, 2, 3, 2, { seed: 9 }), { outputMapping: null, epsilon: 0.1 }],
  ];
  for (const [name, I, units, opts] of variants) {
    test(name, () => {
      const rng = new TestRng(name.length * 7 + 1);
      const model = new LTC(I, units(), ref({ ...opts, seed: 5 }));
      jiggle(model, rng, 0.2); // also moves the identity maps off 1 / 0
      model.applyWeightConstraints();
      const B = 3;
      const L = 4;
      const x = rng.tensor([B, L, I]);
      const h0 = rng.tensor([B, model.stateSize], -0.5, 0.5);
      const ts = rng.tensor([B, L], 0.2, 2);
      const got = model.forward(x, { hx: h0, timespans: ts });
      const want = naiveLtc(model, x, h0.data as Float64Array, ts.data as Float64Array);
      assert.deepEqual(got.output.shape, [B, L, model.motorSize]);
      assert.ok(relativeError(got.output.data, want.out.flat(2)) < 1e-12, `output: ${relativeError(got.output.data, want.out.flat(2))}`);
      assert.ok(relativeError(got.state.h.data, want.h.flat()) < 1e-12, "final state");
    });
  }
});

describe("LTC backward matches central finite differences (float64)", () => {
  interface Case {
    name: string;
    input: number;
    units: () => number | Wiring;
    options: LTCOptions;
    batch: number | null;
    steps: number;
    ts?: "per_sample" | "shared" | "none";
    hx?: boolean;
  }
  const cases: Case[] = [
    { name: "FullyConnected implicit, per-sample timespans", input: 3, units: () => 4, options: {}, batch: 3, steps: 4, ts: "per_sample", hx: true },
    { name: "FullyConnected explicit constraints", input: 2, units: () => 5, options: { implicitParamConstraints: false }, batch: 2, steps: 3, ts: "per_sample", hx: true },
    { name: "FullyConnected(6, 2) without self connections, linear maps", input: 3, units: () => new FullyConnected(6, 2, { selfConnections: false, erevInitSeed: 4 }), options: { inputMapping: "linear", outputMapping: "linear" }, batch: 2, steps: 3, ts: "shared", hx: true },
    { name: "identity maps, 1 unfold", input: 2, units: () => 3, options: { inputMapping: null, outputMapping: null, odeUnfolds: 1 }, batch: 2, steps: 4, ts: "per_sample", hx: true },
    { name: "affine input, identity output, explicit", input: 3, units: () => 3, options: { outputMapping: null, implicitParamConstraints: false, odeUnfolds: 2 }, batch: 2, steps: 3, ts: "per_sample" },
    { name: "identity input, affine output", input: 2, units: () => 4, options: { inputMapping: null }, batch: 2, steps: 3, ts: "none", hx: true },
    { name: "mixed memory", input: 3, units: () => 4, options: { mixedMemory: true, odeUnfolds: 3 }, batch: 2, steps: 3, ts: "per_sample", hx: true },
    { name: "mixed memory, explicit, identity maps", input: 2, units: () => 3, options: { mixedMemory: true, implicitParamConstraints: false, inputMapping: null, outputMapping: null }, batch: 2, steps: 3, ts: "shared", hx: true },
    { name: "time-major, last step only", input: 3, units: () => 4, options: { batchFirst: false, returnSequences: false, odeUnfolds: 3 }, batch: 3, steps: 4, ts: "per_sample", hx: true },
    { name: "unbatched", input: 3, units: () => 4, options: { odeUnfolds: 2 }, batch: null, steps: 5, ts: "shared", hx: true },
    { name: "AutoNCP wiring", input: 3, units: () => new AutoNCP(9, 2, { seed: 17 }), options: { odeUnfolds: 3 }, batch: 2, steps: 3, ts: "per_sample", hx: true },
    { name: "NCP wiring, mixed memory, explicit", input: 2, units: () => new NCP(4, 3, 2, 2, 2, 3, 2, { seed: 7 }), options: { mixedMemory: true, implicitParamConstraints: false, odeUnfolds: 2 }, batch: 2, steps: 3, ts: "per_sample", hx: true },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const rng = new TestRng(500 + c.name.length * 13 + c.steps);
      const model = new LTC(c.input, c.units(), ref({ ...c.options, seed: c.name.length }));
      jiggle(model, rng, 0.2);
      model.applyWeightConstraints();
      gradCheck(model, randomInputs(model, c, rng), rng, { perTensor: 20 });
    });
  }

  test("masked synapses get exactly zero gradients", () => {
    const rng = new TestRng(3);
    const model = new LTC(3, new AutoNCP(8, 1, { seed: 2 }), ref({ seed: 1 }));
    const out = model.forward(rng.tensor([2, 3, 3]));
    model.zeroGrad();
    model.backward({ shape: out.output.shape, data: rng.tensor(out.output.shape as number[]).data });
    for (const [param, mask] of [["w", "sparsity_mask"], ["sigma", "sparsity_mask"], ["erev", "sparsity_mask"], ["sensory_w", "sensory_sparsity_mask"], ["sensory_mu", "sensory_sparsity_mask"]]) {
      const g = model.params.grad(`rnn_cell.${param}`);
      const m = model.params.value(`rnn_cell.${mask}`);
      let live = 0;
      for (let i = 0; i < g.length; i++) {
        if (m[i] === 0) assert.equal(g[i], 0, `${param}[${i}] is masked but has gradient ${g[i]}`);
        else if (g[i] !== 0) live++;
      }
      assert.ok(live > 0, `${param}: unmasked synapses have gradients`);
    }
  });
});

// The float32 kernels take batch rows in pairs, destinations in blocks of four and recurrent sources
// two at a time, with the synapse parameters copied into their scratch; the golden cases (batch 3,
// 8 or 12 units, 4 inputs) leave some remainders untested, these sizes cover them all.
describe("LTC float32 kernels agree with the float64 reference at awkward sizes", () => {
  const skip = wasmHasLtc() ? false : "the wasm engine's module has no LTC kernels";
  const cases: Array<[string, number, () => number | Wiring, number | null, LTCOptions]> = [
    ["FullyConnected(7), 5 inputs, batch 3, per-sample timespans", 5, () => 7, 3, {}],
    ["AutoNCP(10, 3), 3 inputs, batch 1, explicit constraints, 2 unfolds", 3, () => new AutoNCP(10, 3, { seed: 8 }), 1, { implicitParamConstraints: false, odeUnfolds: 2 }],
    ["FullyConnected(2), 1 input, unbatched, identity maps", 1, () => 2, null, { inputMapping: null, outputMapping: null }],
    ["FullyConnected(13, 4), 6 inputs, batch 5, mixed memory", 6, () => new FullyConnected(13, 4), 5, { mixedMemory: true, odeUnfolds: 3 }],
  ];
  const fround = (t: Tensor): Tensor => ({ shape: t.shape, data: Float64Array.from(t.data, Math.fround) });
  for (const [name, I, units, B, opts] of cases) {
    test(name, { skip }, () => {
      const rng = new TestRng(name.length * 11 + I);
      const f32 = new LTC(I, units(), { ...opts, seed: 3 });
      jiggle(f32, rng, 0.2);
      f32.applyWeightConstraints();
      const f64 = new LTC(I, units(), ref({ ...opts, seed: 3 }));
      f64.loadStateDict(f32.stateDict());
      const L = 6;
      const S = f32.stateSize;
      const x = fround(B === null ? rng.tensor([L, I]) : rng.tensor([B, L, I]));
      const hx = { h: fround(rng.tensor(B === null ? [S] : [B, S], -0.5, 0.5)), c: opts.mixedMemory ? fround(rng.tensor(B === null ? [S] : [B, S], -0.5, 0.5)) : undefined };
      const timespans = fround(B === null ? rng.tensor([L], 0.2, 2) : rng.tensor([B, L], 0.2, 2));
      const run = (m: LTC) => {
        m.zeroGrad();
        const fwd = m.forward(x, { hx, timespans });
        const w = new TestRng(77).tensor(fwd.output.shape as number[]);
        const bwd = m.backward(w);
        const grads = new Map(m.parameters().map((p) => [p.name, Array.from(p.grad)]));
        return { fwd, bwd, grads };
      };
      const a = run(f32);
      const b = run(f64);
      const check = (what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number) => {
        const err = relativeError(got, want);
        assert.ok(err <= tol, `${what}: relative error ${err.toExponential(2)} > ${tol}`);
      };
      check("output", a.fwd.output.data, b.fwd.output.data, 1e-5);
      check("final state", a.fwd.state.h.data, b.fwd.state.h.data, 1e-5);
      check("d input", a.bwd.input.data, b.bwd.input.data, 1e-4);
      check("d hx", a.bwd.hx.h.data, b.bwd.hx.h.data, 1e-4);
      check("d timespans", a.bwd.timespans!.data, b.bwd.timespans!.data, 1e-4);
      assert.deepEqual([...a.grads.keys()], [...b.grads.keys()]);
      for (const [param, g] of b.grads) check(`d ${param}`, a.grads.get(param)!, g, 1e-4);
    });
  }

  test("the solver kernels stay inside ltcScratchSize(units) elements of scratch", { skip }, () => {
    // Direct kernel calls with a guard region right after the scratch; U = 7 and rows = 3 exercise the
    // tail block and the single last row.
    const e = createEngine("wasm");
    const U = 7;
    const R = 3;
    const K = 2;
    const rng = new TestRng(42);
    const fill = (n: number, lo: number, hi: number) => {
      const off = e.alloc(n);
      const h = e.heap();
      for (let i = 0; i < n; i++) h[off + i] = rng.range(lo, hi);
      return off;
    };
    const w = fill(U * U, 0, 1), wErev = fill(U * U, -1, 1), erev = fill(U * U, -1, 1), sigma = fill(U * U, 3, 8), mu = fill(U * U, 0.3, 0.8);
    const cm = fill(U, 0.4, 0.6), gleak = fill(U, 0.1, 1), gv = fill(U, -0.2, 0.2), vleak = fill(U, -0.2, 0.2);
    const v0 = fill(R * U, -0.5, 0.5), ts = fill(R, 0.5, 1.5), sn = fill(R * U, -1, 1), sd = fill(R * U, 0, 1), out = fill(R * U, 0, 0);
    const states = fill(R * (K + 1) * U, 0, 0), dens = fill(R * K * U, 0, 0), dv = fill(R * U, -1, 1);
    const dNum = fill(R * U, 0, 0), dDen = fill(R * U, 0, 0), dCm = fill(U, 0, 0), dG = fill(U, 0, 0), dVl = fill(U, 0, 0), dts = fill(R, 0, 0);
    const accP = fill(U * U, 0, 0), accQ = fill(U * U, 0, 0), dSig = fill(U * U, 0, 0), dMu = fill(U * U, 0, 0);
    const n = ltcScratchSize(U);
    assert.equal(n % 4, 0, "a whole number of vectors");
    const scratch = e.alloc(n);
    const guard = e.alloc(64);
    const h = e.heap();
    h.fill(12345, guard, guard + 64);
    e.ltcForward(R, U, K, 1e-8, v0, U, ts, cm, gleak, gv, w, wErev, sigma, mu, sn, sd, out, U, states, dens, scratch);
    e.ltcForward(R, U, K, 1e-8, v0, U, ts, cm, gleak, gv, w, wErev, sigma, mu, sn, sd, out, U, -1, -1, scratch);
    e.ltcBackward(R, U, K, ts, cm, gleak, vleak, w, erev, sigma, mu, states, dens, dv, U, dNum, dDen, dCm, dG, dVl, accP, accQ, dSig, dMu, dts, scratch);
    const after = e.heap();
    for (let i = 0; i < 64; i++) assert.equal(after[guard + i], 12345, `guard element ${i} was overwritten`);
    for (let i = 0; i < R * U; i++) assert.ok(Number.isFinite(after[out + i]) && Number.isFinite(after[dv + i]), `row values ${i} finite`);
  });
});

describe("LTC parameters and initialisation", () => {
  test("ncps names, shapes and order; masks frozen", () => {
    const model = new LTC(3, new FullyConnected(5, 2), ref({ mixedMemory: true }));
    const got = model.params.entries().map((e) => `${e.name}[${e.shape.join(",")}]${e.offsets.grad < 0 ? " frozen" : ""}`);
    assert.deepEqual(got, [
      "rnn_cell.gleak[5]", "rnn_cell.vleak[5]", "rnn_cell.cm[5]", "rnn_cell.sigma[5,5]", "rnn_cell.mu[5,5]", "rnn_cell.w[5,5]",
      "rnn_cell.erev[5,5]", "rnn_cell.sensory_sigma[3,5]", "rnn_cell.sensory_mu[3,5]", "rnn_cell.sensory_w[3,5]",
      "rnn_cell.sensory_erev[3,5]", "rnn_cell.sparsity_mask[5,5] frozen", "rnn_cell.sensory_sparsity_mask[3,5] frozen",
      "rnn_cell.input_w[3]", "rnn_cell.input_b[3]", "rnn_cell.output_w[2]", "rnn_cell.output_b[2]",
      "lstm.input_map.weight[20,3]", "lstm.input_map.bias[20]", "lstm.recurrent_map.weight[20,5]",
    ]);
    // 3 x 5 + 4 x 25 + 4 x 15 + 3 + 3 + 2 + 2, plus the LSTM
    assert.equal(model.parameterCount(), 15 + 100 + 60 + 10 + 20 * 3 + 20 + 20 * 5);
  });

  test("mappings decide which map parameters exist", () => {
    const names = (o: LTCOptions) => new LTC(2, 3, ref(o)).params.entries().map((e) => e.name).filter((n) => /put_/.test(n));
    assert.deepEqual(names({ inputMapping: "linear", outputMapping: null }), ["rnn_cell.input_w"]);
    assert.deepEqual(names({ inputMapping: null, outputMapping: "affine" }), ["rnn_cell.output_w", "rnn_cell.output_b"]);
    assert.deepEqual(names({ inputMapping: null, outputMapping: null }), []);
  });

  test("uniform ranges of ncps, erev and masks from the wiring, identity maps", () => {
    const wiring = new AutoNCP(10, 3, { seed: 8 });
    const model = new LTC(4, wiring, ref({ seed: 42 }));
    const sd = model.stateDict();
    const within = (name: string, lo: number, hi: number) => {
      const d = sd.get(`rnn_cell.${name}`)!.data;
      let min = Infinity;
      let max = -Infinity;
      for (const v of d) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      assert.ok(min >= lo && max <= hi, `${name} in [${min}, ${max}], expected within [${lo}, ${hi}]`);
      assert.ok(max - min > (hi - lo) / 3, `${name} spreads over its range`);
    };
    within("gleak", 0.001, 1);
    within("vleak", -0.2, 0.2);
    within("cm", 0.4, 0.6);
    within("sigma", 3, 8);
    within("mu", 0.3, 0.8);
    within("w", 0.001, 1);
    within("sensory_sigma", 3, 8);
    within("sensory_mu", 0.3, 0.8);
    within("sensory_w", 0.001, 1);
    assert.deepEqual(Array.from(sd.get("rnn_cell.erev")!.data), Array.from(wiring.adjacencyMatrix));
    assert.deepEqual(Array.from(sd.get("rnn_cell.sensory_erev")!.data), Array.from(wiring.sensoryAdjacencyMatrix!));
    assert.deepEqual(Array.from(sd.get("rnn_cell.sparsity_mask")!.data), Array.from(wiring.adjacencyMatrix, Math.abs));
    assert.deepEqual(Array.from(sd.get("rnn_cell.sensory_sparsity_mask")!.data), Array.from(wiring.sensoryAdjacencyMatrix!, Math.abs));
    assert.deepEqual(Array.from(sd.get("rnn_cell.input_w")!.data), [1, 1, 1, 1]);
    assert.deepEqual(Array.from(sd.get("rnn_cell.input_b")!.data), [0, 0, 0, 0]);
    assert.deepEqual(Array.from(sd.get("rnn_cell.output_w")!.data), [1, 1, 1]);
    assert.deepEqual(Array.from(sd.get("rnn_cell.output_b")!.data), [0, 0, 0]);
  });

  test("an integer units is FullyConnected(units) with ncps's erev seed 1111", () => {
    const model = new LTC(3, 6, ref());
    const fc = new FullyConnected(6, null, { erevInitSeed: 1111 });
    fc.build(3);
    assert.deepEqual(Array.from(model.stateDict().get("rnn_cell.erev")!.data), Array.from(fc.adjacencyMatrix));
    assert.deepEqual(Array.from(model.stateDict().get("rnn_cell.sensory_erev")!.data), Array.from(fc.sensoryAdjacencyMatrix!));
    assert.equal(model.motorSize, 6);
    assert.equal(model.synapseCount, 36);
    assert.equal(model.sensorySynapseCount, 18);
  });

  test("same seed, same weights; another seed, other weights", () => {
    const w = (seed: number) => Array.from(new LTC(2, 4, ref({ seed })).stateDict().get("rnn_cell.sigma")!.data);
    assert.deepEqual(w(3), w(3));
    assert.notDeepEqual(w(3), w(4));
  });
});

describe("LTC weight constraints", () => {
  const constrained = ["w", "sensory_w", "cm", "gleak"];
  const setNegative = (model: LTC) => {
    for (const p of model.parameters()) for (let i = 0; i < p.value.length; i += 2) p.value[i] = -0.25 - i;
  };

  test("explicit constraints: applyWeightConstraints clips w, sensory_w, cm, gleak at 0 and nothing else", () => {
    const model = new LTC(3, 4, ref({ implicitParamConstraints: false }));
    setNegative(model);
    const before = new Map(model.parameters().map((p) => [p.name, Array.from(p.value)]));
    model.applyWeightConstraints();
    for (const p of model.parameters()) {
      const short = p.name.replace("rnn_cell.", "");
      const old = before.get(p.name)!;
      const want = constrained.includes(short) ? old.map((v) => Math.max(v, 0)) : old;
      assert.deepEqual(Array.from(p.value), want, p.name);
    }
  });

  test("implicit constraints: applyWeightConstraints changes nothing (softplus keeps them positive)", () => {
    const model = new LTC(3, 4, ref());
    setNegative(model);
    const before = model.parameters().map((p) => Array.from(p.value));
    model.applyWeightConstraints();
    assert.deepEqual(model.parameters().map((p) => Array.from(p.value)), before);
    // and the forward still sees positive values: the step stays a convex combination, so it is finite
    const out = model.forward({ shape: [1, 2, 3], data: new Float64Array(6).fill(0.5) });
    assert.ok(Array.from(out.output.data).every(Number.isFinite));
  });

  test("implicit vs explicit: softplus of the raw weights is what the explicit model sees", () => {
    const rng = new TestRng(11);
    const a = new LTC(2, 3, ref({ seed: 2 }));
    jiggle(a, rng, 0.5);
    const b = new LTC(2, 3, ref({ seed: 2, implicitParamConstraints: false }));
    const sd = a.stateDict();
    for (const name of constrained) {
      const t = sd.get(`rnn_cell.${name}`)!;
      sd.set(`rnn_cell.${name}`, { shape: t.shape, data: Float64Array.from(t.data, softplus) });
    }
    b.loadStateDict(sd);
    const x = rng.tensor([2, 3, 2]);
    assert.ok(relativeError(b.forward(x).output.data, a.forward(x).output.data) < 1e-14);
  });
});

describe("LTC sequence behaviour", () => {
  test("per-sample elapsed times with batch > 1 equal running each sample alone", () => {
    const rng = new TestRng(21);
    const model = new LTC(2, new AutoNCP(8, 2, { seed: 4 }), ref({ seed: 6 }));
    const B = 3;
    const L = 4;
    const x = rng.tensor([B, L, 2]);
    const ts = rng.tensor([B, L], 0.2, 2);
    const all = model.forward(x, { timespans: ts }).output;
    for (let b = 0; b < B; b++) {
      const xb = { shape: [1, L, 2], data: x.data.slice(b * L * 2, (b + 1) * L * 2) };
      const tb = { shape: [1, L], data: ts.data.slice(b * L, (b + 1) * L) };
      const one = model.forward(xb, { timespans: tb }).output;
      assert.ok(relativeError(all.data.slice(b * L * 2, (b + 1) * L * 2), one.data) < 1e-14, `sample ${b}`);
    }
  });

  test("streaming one step at a time equals the sequence forward", () => {
    const rng = new TestRng(5);
    const model = new LTC(3, 5, ref({ mixedMemory: true, seed: 9 }));
    const L = 5;
    const x = rng.tensor([1, L, 3]);
    const ts = rng.tensor([1, L], 0.5, 1.5);
    const full = model.forward(x, { timespans: ts }).output;
    const s = model.stream();
    for (let t = 0; t < L; t++) {
      const y = s.step(x.data.subarray(t * 3, (t + 1) * 3), ts.data[t]);
      assert.ok(relativeError(y, full.data.subarray(t * 5, (t + 1) * 5)) < 1e-14, `step ${t}`);
    }
  });

  test("ncps test shapes (LTC(8, 32), NCP, AutoNCP, time-major)", () => {
    const x = new TestRng(1).tensor([5, 3, 8]);
    let r = new LTC(8, 32, ref()).forward(x);
    assert.deepEqual([r.output.shape, r.state.h.shape], [[5, 3, 32], [5, 32]]);
    r = new LTC(8, 32, ref({ batchFirst: false })).forward(x);
    assert.deepEqual([r.output.shape, r.state.h.shape], [[5, 3, 32], [3, 32]]);
    const ncp = new LTC(8, new NCP(10, 10, 8, 6, 6, 4, 6), ref());
    r = ncp.forward(x);
    assert.deepEqual([r.output.shape, r.state.h.shape], [[5, 3, 8], [5, 28]]);
    assert.ok(ncp.synapseCount > 0 && ncp.sensorySynapseCount > 0);
    r = new LTC(8, new AutoNCP(16, 4), ref()).forward(x);
    assert.deepEqual([r.output.shape, r.state.h.shape], [[5, 3, 4], [5, 16]]);
  });

  test("buildModel and toConfig round-trip the ncps constructor arguments", () => {
    const model = new LTC(3, new AutoNCP(9, 2, { seed: 12 }), ref({ inputMapping: null, outputMapping: "linear", odeUnfolds: 4, epsilon: 1e-6, implicitParamConstraints: false, mixedMemory: true, returnSequences: false }));
    const config = model.toConfig();
    assert.equal(config.constructor_args.input_mapping, null);
    const rebuilt = buildModel(config, { backend: "reference" }) as LTC;
    assert.deepEqual(rebuilt.config, model.config);
    rebuilt.loadStateDict(model.stateDict());
    const x = new TestRng(2).tensor([2, 3, 3]);
    assert.deepEqual(Array.from(rebuilt.forward(x).output.data), Array.from(model.forward(x).output.data));
    assert.throws(() => buildModel({ model: "LTC", constructor_args: { input_size: 2, units: 3, proj_size: 2 } }, { backend: "reference" }), /LTC: unknown constructor argument 'proj_size'/);
  });
});

describe("LTCCell (single step, ncps API)", () => {
  test("ncps test_ncps shapes and defaults: LTCCell(FullyConnected(8, 4), 8) on (3, 8)", () => {
    const cell = new LTCCell(new FullyConnected(8, 4), 8, { backend: "reference" });
    const r = cell.forward(new TestRng(4).tensor([3, 8]), new TestRng(5).tensor([3, 8]));
    assert.deepEqual([r.output.shape, r.state.shape], [[3, 4], [3, 8]]);
    assert.equal(cell.model.config.implicitParamConstraints, false);
    assert.deepEqual([...cell.stateDict().keys()].slice(0, 3), ["gleak", "vleak", "cm"]);
    assert.ok(cell.parameters().every((p) => !p.name.startsWith("rnn_cell.")));
  });

  test("stepping the cell equals the LTC sequence model, with per-sample elapsed time", () => {
    const rng = new TestRng(8);
    const wiring = new AutoNCP(8, 2, { seed: 5 });
    wiring.build(3);
    const cell = new LTCCell(wiring, null, { backend: "reference", implicitParamConstraints: true, odeUnfolds: 3 });
    const seqModel = new LTC(3, Wiring.fromMatrices({ adjacency: wiring.adjacencyMatrix, sensoryAdjacency: wiring.sensoryAdjacencyMatrix, inputDim: 3, outputDim: 2 }), ref({ odeUnfolds: 3 }));
    const sd = new Map<string, Tensor>();
    for (const [k, v] of cell.stateDict()) sd.set(`rnn_cell.${k}`, v);
    seqModel.loadStateDict(sd);
    const B = 2;
    const L = 3;
    const x = rng.tensor([B, L, 3]);
    const ts = rng.tensor([B, L], 0.3, 2);
    const h0 = rng.tensor([B, 8], -0.5, 0.5);
    const want = seqModel.forward(x, { hx: h0, timespans: ts });
    let state: Tensor = h0;
    for (let t = 0; t < L; t++) {
      const xt = new Float64Array(B * 3);
      const dt = new Float64Array(B);
      for (let b = 0; b < B; b++) {
        xt.set(x.data.subarray((b * L + t) * 3, (b * L + t + 1) * 3), b * 3);
        dt[b] = ts.data[b * L + t];
      }
      const r = cell.forward({ shape: [B, 3], data: xt }, state, { shape: [B], data: dt });
      for (let b = 0; b < B; b++) {
        const w = want.output.data.subarray((b * L + t) * 2, (b * L + t + 1) * 2);
        assert.ok(relativeError(r.output.data.subarray(b * 2, b * 2 + 2), w) < 1e-14, `t=${t} b=${b}`);
      }
      state = r.state;
    }
    assert.ok(relativeError(state.data, want.state.h.data) < 1e-14);
  });

  test("cell backward: gradients w.r.t. input, state and elapsed time match finite differences", () => {
    const rng = new TestRng(13);
    const cell = new LTCCell(new FullyConnected(4, 2), 3, { backend: "reference", implicitParamConstraints: true });
    const x = rng.tensor([2, 3]);
    const h = rng.tensor([2, 4], -0.5, 0.5);
    const dt = rng.tensor([2, 1], 0.3, 2);
    const wOut = rng.tensor([2, 2]);
    const wState = rng.tensor([2, 4]);
    const loss = () => {
      const r = cell.forward(x, h, dt);
      let s = 0;
      for (let i = 0; i < 4; i++) s += r.output.data[i] * wOut.data[i];
      for (let i = 0; i < 8; i++) s += r.state.data[i] * wState.data[i];
      return s;
    };
    loss();
    cell.zeroGrad();
    const g = cell.backward(wOut, wState);
    assert.deepEqual(g.elapsedTime!.shape, [2, 1]);
    for (const [name, t, grad] of [["input", x, g.input], ["state", h, g.state], ["elapsedTime", dt, g.elapsedTime!]] as const) {
      for (let i = 0; i < t.data.length; i++) {
        const orig = t.data[i];
        t.data[i] = orig + 1e-6;
        const lp = loss();
        t.data[i] = orig - 1e-6;
        const lm = loss();
        t.data[i] = orig;
        const numeric = (lp - lm) / 2e-6;
        assert.ok(Math.abs(numeric - grad.data[i]) < 1e-7 * Math.max(1, Math.abs(numeric)), `${name}[${i}]: ${grad.data[i]} vs ${numeric}`);
      }
    }
  });

  test("unbatched step and state-dict names without the rnn_cell. prefix", () => {
    const cell = new LTCCell(new FullyConnected(3, 1), 2, { backend: "reference", inputMapping: null });
    const r = cell.forward({ shape: [2], data: Float64Array.of(0.1, -0.2) });
    assert.deepEqual([r.output.shape, r.state.shape], [[1], [3]]);
    assert.ok(!cell.stateDict().has("input_w"));
    const sd = cell.stateDict();
    sd.delete("cm");
    assert.throws(() => cell.loadStateDict(sd), (e: Error) => /missing tensor cm /.test(e.message) && !e.message.includes("rnn_cell."));
  });

  test("bad cell arguments are rejected with clear messages", () => {
    assert.throws(() => new LTCCell(new FullyConnected(3), null, { backend: "reference" }), /LTCCell: the wiring is not built; pass inFeatures or call wiring\.build/);
    const cell = new LTCCell(new FullyConnected(3), 2, { backend: "reference" });
    assert.throws(() => cell.forward({ shape: [1, 3], data: new Float64Array(3) }), /LTCCell\.forward: input must have 2 features, got \[1, 3\]/);
    assert.throws(() => cell.forward({ shape: [2, 2], data: new Float64Array(4) }, { shape: [2, 4], data: new Float64Array(8) }), /state must have shape \[2, 3\], got \[2, 4\]/);
    assert.throws(() => cell.forward({ shape: [2, 2], data: new Float64Array(4) }, null, { shape: [3], data: new Float64Array(3) }), /elapsedTime must be a number or have one value per sample, shape \(2\) or \(2, 1\); got \[3\]/);
    assert.throws(() => cell.backward({ shape: [2, 3], data: new Float64Array(6) }), /LTCCell\.backward: call forward first/);
  });
});

describe("LTC option validation", () => {
  const bad: Array<[string, () => unknown, RegExp]> = [
    ["units 0", () => new LTC(2, 0, ref()), /LTC: units must be a positive integer or a Wiring, got 0/],
    ["inputSize 0", () => new LTC(0, 3, ref()), /LTC: inputSize must be a positive integer, got 0/],
    ["odeUnfolds 0", () => new LTC(2, 3, ref({ odeUnfolds: 0 })), /LTC: odeUnfolds must be a positive integer, got 0/],
    ["odeUnfolds 1.5", () => new LTC(2, 3, ref({ odeUnfolds: 1.5 })), /odeUnfolds must be a positive integer, got 1\.5/],
    ["epsilon -1", () => new LTC(2, 3, ref({ epsilon: -1 })), /LTC: epsilon must be a finite number >= 0, got -1/],
    ["epsilon NaN", () => new LTC(2, 3, ref({ epsilon: NaN })), /epsilon must be a finite number >= 0, got NaN/],
    ["inputMapping 'foo'", () => new LTC(2, 3, ref({ inputMapping: "foo" as never })), /LTC: inputMapping must be "affine", "linear" or null \(identity\), got "foo"/],
    ["outputMapping 'none'", () => new LTC(2, 3, ref({ outputMapping: "none" as never })), /outputMapping must be "affine", "linear" or null/],
    ["implicitParamConstraints 'yes'", () => new LTC(2, 3, ref({ implicitParamConstraints: "yes" as never })), /implicitParamConstraints must be a boolean, got yes/],
    ["unknown option projSize", () => new LTC(2, 3, ref({ projSize: 2 } as never)), /LTC: unknown option 'projSize' \(valid: mixedMemory, inputMapping, .*engine\)$/],
    ["wiring built for another input size", () => {
      const w = new AutoNCP(8, 2);
      w.build(3);
      return new LTC(4, w, ref());
    }, /Conflicting input dimensions/],
    ["tensor hx with mixed memory", () => new LTC(2, 3, ref({ mixedMemory: true })).forward({ shape: [1, 2, 2], data: new Float64Array(4) }, { hx: { shape: [1, 3], data: new Float64Array(3) } }), /with mixedMemory the state is \{h, c\}/],
    ["input of the wrong width", () => new LTC(2, 3, ref()).forward({ shape: [1, 2, 3], data: new Float64Array(6) }), /last dimension must equal input size 2/],
  ];
  for (const [name, fn, re] of bad) test(name, () => assert.throws(fn, re));

  test("a wiring object can be reused at the same input size (ncps builds it once)", () => {
    const w = new FullyConnected(4, 2);
    const a = new LTC(3, w, ref());
    const b = new LTC(3, w, ref());
    assert.equal(a.stateSize, b.stateSize);
  });
});
