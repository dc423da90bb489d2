/**
 * The GRU baseline against torch.nn.GRU's equations, written out here independently of the library
 * (plain float64 loops over explicit matrices), plus gradient checks, engine agreement, the kernels on
 * their own, state_dict names and training.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Engine } from "../src/engine/engine.js";
import { ReferenceEngine } from "../src/engine/reference.js";
import { WasmEngine } from "../src/engine/wasm.js";
import { buildModel } from "../src/models/build.js";
import { GRU, type GRUOptions } from "../src/models/gru.js";
import type { Tensor } from "../src/tensor.js";
import { evaluate, fit } from "../src/train/index.js";
import { TestRng, gradCheck } from "./helpers/gradcheck.js";
import { sineDataset } from "./helpers/synthetic-data.js";

type Layout = "batch-first" | "time-major" | "unbatched";

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** row-major matrix [rows, cols] times vector */
function matVec(w: ArrayLike<number>, rows: number, cols: number, v: ArrayLike<number>, bias: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows; i++) {
    let s = bias[i];
    for (let k = 0; k < cols; k++) s += w[i * cols + k] * v[k];
    out.push(s);
  }
  return out;
}

/**
 * torch.nn.GRU for one sample: xs[t] (I values), h0 (H values); weights by torch's names. Returns every
 * step's h and, when `fc` is given, every step's projection.
 */
function torchGruSample(sd: Map<string, Tensor>, I: number, H: number, xs: number[][], h0: number[]): { hs: number[][]; ys: number[][] } {
  const wih = sd.get("rnn.weight_ih_l0")!.data;
  const whh = sd.get("rnn.weight_hh_l0")!.data;
  const bih = sd.get("rnn.bias_ih_l0")!.data;
  const bhh = sd.get("rnn.bias_hh_l0")!.data;
  const fcW = sd.get("fc.weight");
  const fcB = sd.get("fc.bias");
  let h = h0.slice();
  const hs: number[][] = [];
  const ys: number[][] = [];
  for (const x of xs) {
    const gi = matVec(wih, 3 * H, I, x, bih);
    const gh = matVec(whh, 3 * H, H, h, bhh);
    const next: number[] = [];
    for (let j = 0; j < H; j++) {
      const r = sigmoid(gi[j] + gh[j]);
      const z = sigmoid(gi[H + j] + gh[H + j]);
      const n = Math.tanh(gi[2 * H + j] + r * gh[2 * H + j]);
      next.push((1 - z) * n + z * h[j]);
    }
    h = next;
    hs.push(h);
    ys.push(fcW ? matVec(fcW.data, fcW.shape[0], H, h, fcB!.data) : h);
  }
  return { hs, ys };
}

interface Case {
  I: number;
  H: number;
  B: number;
  L: number;
  seed: number;
  layout: Layout;
  hx: boolean;
  returnSequences?: boolean;
  projSize?: number;
  /** load weights U(-scale, scale) instead of the init, so that the gates saturate unevenly */
  weightScale?: number;
}

function optionsOf(c: Case): GRUOptions {
  return { batchFirst: c.layout !== "time-major", returnSequences: c.returnSequences ?? true, projSize: c.projSize ?? null, seed: c.seed };
}

function randomWeights(model: GRU, scale: number, rng: TestRng): void {
  const sd = new Map<string, Tensor>();
  for (const [name, t] of model.stateDict()) sd.set(name, rng.tensor([...t.shape], -scale, scale));
  model.loadStateDict(sd);
}

/** x in the model's layout, and the same values as xs[b][t][i] */
function randomSequence(c: Case, rng: TestRng): { x: Tensor; xs: number[][][] } {
  const B = c.layout === "unbatched" ? 1 : c.B;
  const xs = Array.from({ length: B }, () => Array.from({ length: c.L }, () => Array.from({ length: c.I }, () => rng.range(-2, 2))));
  const shape = c.layout === "unbatched" ? [c.L, c.I] : c.layout === "batch-first" ? [B, c.L, c.I] : [c.L, B, c.I];
  const data = new Float64Array(B * c.L * c.I);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < c.L; t++) {
      for (let i = 0; i < c.I; i++) {
        const at = c.layout === "time-major" ? (t * B + b) * c.I + i : (b * c.L + t) * c.I + i;
        data[at] = xs[b][t][i];
      }
    }
  }
  return { x: { shape, data }, xs };
}

/** index of (b, t, j) in an output / state of width W in the case's layout */
function indexOf(c: Case, B: number, b: number, t: number, j: number, W: number): number {
  return c.layout === "time-major" ? (t * B + b) * W + j : (b * c.L + t) * W + j;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / scale;
    assert.ok(err <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (relative error ${err.toExponential(2)})`);
  }
}

describe("GRU matches torch.nn.GRU's equations (float64 reference engine)", () => {
  const cases: Array<[string, Case]> = [
    ["batch-first, zero state", { I: 3, H: 5, B: 2, L: 6, seed: 1, layout: "batch-first", hx: false }],
    ["batch-first, given state, strong weights", { I: 4, H: 7, B: 3, L: 5, seed: 2, layout: "batch-first", hx: true, weightScale: 1.5 }],
    ["time-major, given state", { I: 2, H: 4, B: 3, L: 7, seed: 3, layout: "time-major", hx: true }],
    ["time-major, last step only", { I: 5, H: 3, B: 2, L: 4, seed: 4, layout: "time-major", hx: true, returnSequences: false, weightScale: 1 }],
    ["unbatched", { I: 3, H: 6, B: 1, L: 5, seed: 5, layout: "unbatched", hx: true }],
    ["hidden size 1, one step", { I: 1, H: 1, B: 2, L: 1, seed: 6, layout: "batch-first", hx: true, weightScale: 2 }],
    ["with projection (fc)", { I: 3, H: 5, B: 2, L: 4, seed: 7, layout: "batch-first", hx: true, projSize: 2 }],
  ];
  for (const [name, c] of cases) {
    test(name, () => {
      const rng = new TestRng(100 + c.seed);
      const model = new GRU(c.I, c.H, { ...optionsOf(c), backend: "reference" });
      if (c.weightScale) randomWeights(model, c.weightScale, rng);
      const { x, xs } = randomSequence(c, rng);
      const B = xs.length;
      const h0s = Array.from({ length: B }, () => Array.from({ length: c.H }, () => (c.hx ? rng.range(-1, 1) : 0)));
      const hx = c.hx ? { shape: c.layout === "unbatched" ? [c.H] : [B, c.H], data: Float64Array.from(h0s.flat()) } : null;
      const { output, state } = model.forward(x, { hx });

      const sd = model.stateDict();
      const W = c.projSize ?? c.H;
      const expectedOut = new Float64Array(output.data.length);
      const expectedState = new Float64Array(B * c.H);
      for (let b = 0; b < B; b++) {
        const { hs, ys } = torchGruSample(sd, c.I, c.H, xs[b], h0s[b]);
        for (let j = 0; j < c.H; j++) expectedState[b * c.H + j] = hs[c.L - 1][j];
        if (c.returnSequences ?? true) {
          for (let t = 0; t < c.L; t++) for (let j = 0; j < W; j++) expectedOut[indexOf(c, B, b, t, j, W)] = ys[t][j];
        } else {
          for (let j = 0; j < W; j++) expectedOut[b * W + j] = ys[c.L - 1][j];
        }
      }
      const outShape = c.returnSequences === false ? (c.layout === "unbatched" ? [W] : [B, W]) : c.layout === "unbatched" ? [c.L, W] : c.layout === "batch-first" ? [B, c.L, W] : [c.L, B, W];
      assert.deepEqual(output.shape, outShape);
      assert.deepEqual(state.h.shape, c.layout === "unbatched" ? [c.H] : [B, c.H]);
      assertClose(output.data, expectedOut, 1e-13, "output");
      assertClose(state.h.data, expectedState, 1e-13, "state h");
    });
  }

  test("predict (no tape) equals forward, across shapes, and elapsed times change nothing", () => {
    const model = new GRU(3, 5, { backend: "reference", seed: 9 });
    const rng = new TestRng(9);
    for (const [B, L] of [[2, 6], [3, 1], [2, 6], [1, 9]]) {
      const x = rng.tensor([B, L, 3]);
      const kept = model.forward(x).output.data;
      assert.deepEqual(Array.from(model.predict(x).output.data), Array.from(kept));
      const timed = model.predict(x, { timespans: rng.tensor([B, L], 0.1, 3) }).output.data;
      assert.deepEqual(Array.from(timed), Array.from(kept));
    }
  });

  test("a sequence run in two halves, the state carried over, equals the whole run; a stream too", () => {
    const model = new GRU(2, 4, { backend: "reference", seed: 11 });
    const rng = new TestRng(11);
    const L = 8;
    const x = rng.tensor([L, 2]);
    const whole = model.forward(x).output.data;
    const first = model.forward({ shape: [4, 2], data: x.data.slice(0, 8) });
    const second = model.forward({ shape: [4, 2], data: x.data.slice(8) }, { hx: first.state.h }).output.data;
    assertClose([...first.output.data, ...second], whole, 1e-14, "two halves");
    const stream = model.stream();
    const streamed: number[] = [];
    for (let t = 0; t < L; t++) streamed.push(...stream.step([x.data[2 * t], x.data[2 * t + 1]]));
    assertClose(streamed, whole, 1e-14, "stream");
  });
});

describe("GRU backward matches central finite differences (float64)", () => {
  const cases: Array<[string, Case]> = [
    ["batch-first", { I: 3, H: 4, B: 2, L: 4, seed: 21, layout: "batch-first", hx: true, weightScale: 1 }],
    ["time-major, last step, projection", { I: 2, H: 5, B: 3, L: 3, seed: 22, layout: "time-major", hx: true, returnSequences: false, projSize: 2 }],
    ["unbatched, hidden not a multiple of 4", { I: 4, H: 3, B: 1, L: 5, seed: 23, layout: "unbatched", hx: true, weightScale: 1.5 }],
  ];
  for (const [name, c] of cases) {
    test(name, () => {
      const rng = new TestRng(300 + c.seed);
      const model = new GRU(c.I, c.H, { ...optionsOf(c), backend: "reference" });
      if (c.weightScale) randomWeights(model, c.weightScale, rng);
      const { x } = randomSequence(c, rng);
      const hx = { h: rng.tensor(c.layout === "unbatched" ? [c.H] : [c.B, c.H], -0.8, 0.8) };
      gradCheck(model, { x, hx }, rng);
    });
  }
});

/** Every gradient a backward pass yields: the inputs', the state's and each parameter's. */
function allGradients(model: GRU, x: Tensor, h0: Tensor, w: Float64Array): Map<string, number[]> {
  const { output } = model.forward(x, { hx: h0 });
  model.zeroGrad();
  const back = model.backward({ shape: output.shape, data: model.dtype === "float32" ? Float32Array.from(w) : w });
  const grads = new Map<string, number[]>([
    ["output", Array.from(output.data)],
    ["input", Array.from(back.input.data)],
    ["hx", Array.from(back.hx.h.data)],
  ]);
  for (const p of model.parameters()) grads.set(p.name, Array.from(p.grad));
  return grads;
}

describe("GRU on the WebAssembly engine agrees with the reference (float32 tolerance)", () => {
  for (const [I, H, B, L, projSize] of [[3, 5, 3, 6, null], [5, 7, 2, 9, 3], [2, 1, 5, 4, null], [6, 13, 1, 3, null]] as const) {
    test(`input ${I}, hidden ${H}, batch ${B}, ${L} steps${projSize ? ", projection" : ""}`, () => {
      const rng = new TestRng(I * 100 + H);
      const reference = new GRU(I, H, { backend: "reference", seed: 4, projSize });
      randomWeights(reference, 1, rng);
      const wasm = new GRU(I, H, { backend: "wasm", seed: 4, projSize });
      wasm.loadStateDict(new Map([...reference.stateDict()].map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }])));
      const x = rng.tensor([B, L, I], -2, 2);
      const h0 = rng.tensor([B, H], -1, 1);
      const w = rng.tensor([B, L, projSize ?? H]).data as Float64Array;
      const expected = allGradients(reference, x, h0, w);
      const actual = allGradients(wasm, { shape: x.shape, data: Float32Array.from(x.data) }, { shape: h0.shape, data: Float32Array.from(h0.data) }, w);
      for (const [name, values] of expected) assertClose(actual.get(name)!, values, 2e-5, name);
    });
  }
});

describe("gruForward / gruBackward kernels: WebAssembly against the reference", () => {
  /** Runs both kernels on one engine over the given data; returns every buffer they write. */
  function runKernels(e: Engine, rows: number, H: number, ld: number, data: Record<string, Float64Array>, aliasState: boolean) {
    const G = 3 * H;
    const put = (values: Float64Array) => {
      const off = e.alloc(values.length);
      e.heap().set(values, off);
      return off;
    };
    const gi = put(data.gi);
    const gh = put(data.gh);
    const h = put(data.h);
    const hOut = aliasState ? h : put(new Float64Array(rows * ld));
    const dh = put(data.dh);
    const dhPrev = put(data.dhPrev);
    const dgi = e.alloc(rows * G);
    const dgh = e.alloc(rows * G);
    e.gruForward(rows, H, gi, gh, h, ld, hOut, ld);
    const read = (off: number, n: number) => Array.from(e.heap().subarray(off, off + n));
    const hNew = read(hOut, rows * ld);
    // backward reads the state the step read: restore it where the step overwrote it
    if (aliasState) e.heap().set(data.h, h);
    e.gruBackward(rows, H, gi, gh, h, ld, dh, ld, dgi, dgh, dhPrev, ld);
    return { hNew, gates: read(gi, rows * G), gh: read(gh, rows * G), dgi: read(dgi, rows * G), dgh: read(dgh, rows * G), dhPrev: read(dhPrev, rows * ld) };
  }

  for (const [rows, H, pad] of [[3, 5, 2], [2, 4, 0], [4, 1, 3], [1, 11, 1], [5, 8, 5]] as const) {
    for (const aliasState of [false, true]) {
      test(`rows ${rows}, hidden ${H}, row stride ${H + pad}${aliasState ? ", h' written over h" : ""}`, () => {
        const rng = new TestRng(rows * 31 + H * 7 + pad + (aliasState ? 1 : 0));
        const ld = H + pad;
        const G = 3 * H;
        const vec = (n: number, lo: number, hi: number) => rng.tensor([n], lo, hi).data as Float64Array;
        const data = { gi: vec(rows * G, -4, 4), gh: vec(rows * G, -4, 4), h: vec(rows * ld, -1, 1), dh: vec(rows * ld, -1, 1), dhPrev: vec(rows * ld, -1, 1) };
        const expected = runKernels(new ReferenceEngine(), rows, H, ld, data, aliasState);
        const actual = runKernels(new WasmEngine(), rows, H, ld, data, aliasState);
        for (const key of Object.keys(expected) as Array<keyof typeof expected>) assertClose(actual[key], expected[key], 2e-6, key);
        // padding columns between rows are neither read into nor written by the kernels
        for (let r = 0; r < rows; r++) {
          for (let j = H; j < ld; j++) {
            assert.equal(expected.dhPrev[r * ld + j], data.dhPrev[r * ld + j], "dhPrev padding untouched");
            if (!aliasState) assert.equal(expected.hNew[r * ld + j], 0, "hOut padding untouched");
          }
        }
      });
    }
  }

  test("the reference kernels compute torch's gate equations and accumulate into dhPrev", () => {
    const e = new ReferenceEngine();
    const H = 2;
    const gi = e.alloc(6);
    const gh = e.alloc(6);
    const h = e.alloc(2);
    const hOut = e.alloc(2);
    const giv = [0.3, -0.2, 0.5, 1.1, -0.7, 0.4];
    const ghv = [-0.1, 0.6, 0.2, -0.3, 0.9, -1.2];
    const hv = [0.25, -0.5];
    e.heap().set(giv, gi);
    e.heap().set(ghv, gh);
    e.heap().set(hv, h);
    e.gruForward(1, H, gi, gh, h, H, hOut, H);
    for (let j = 0; j < H; j++) {
      const r = sigmoid(giv[j] + ghv[j]);
      const z = sigmoid(giv[H + j] + ghv[H + j]);
      const n = Math.tanh(giv[2 * H + j] + r * ghv[2 * H + j]);
      assert.ok(Math.abs(e.heap()[hOut + j] - ((1 - z) * n + z * hv[j])) < 1e-15, `h'[${j}]`);
      assert.ok(Math.abs(e.heap()[gi + j] - r) < 1e-15 && Math.abs(e.heap()[gi + H + j] - z) < 1e-15 && Math.abs(e.heap()[gi + 2 * H + j] - n) < 1e-15, `cache [r | z | n] at ${j}`);
    }
    // d h' / d h through the direct path only: with dh = 1 and the gate gradients ignored, dhPrev gains z
    const dh = e.alloc(2);
    const dhPrev = e.alloc(2);
    const dgi = e.alloc(6);
    const dgh = e.alloc(6);
    e.heap().set([1, 1], dh);
    e.heap().set([10, 20], dhPrev);
    e.gruBackward(1, H, gi, gh, h, H, dh, H, dgi, dgh, dhPrev, H);
    for (let j = 0; j < H; j++) {
      const z = e.heap()[gi + H + j];
      assert.ok(Math.abs(e.heap()[dhPrev + j] - ((j === 0 ? 10 : 20) + z)) < 1e-15, `dhPrev[${j}] accumulated`);
      assert.equal(e.heap()[dgi + j], e.heap()[dgh + j], "the reset gate's gradient is shared");
      assert.equal(e.heap()[dgi + H + j], e.heap()[dgh + H + j], "the update gate's gradient is shared");
      assert.ok(Math.abs(e.heap()[dgh + 2 * H + j] - e.heap()[dgi + 2 * H + j] * e.heap()[gi + j]) < 1e-15, "gh_n's gradient is r times gi_n's");
    }
  });
});

describe("GRU parameters, config and options", () => {
  test("state_dict holds torch's names, order and shapes under rnn., then fc", () => {
    const model = new GRU(3, 5, { backend: "reference", projSize: 2 });
    const sd = model.stateDict();
    assert.deepEqual([...sd.keys()], ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "fc.weight", "fc.bias"]);
    assert.deepEqual([...sd.values()].map((t) => t.shape), [[15, 3], [15, 5], [15], [15], [2, 5], [2]]);
    assert.equal(model.parameterCount(), 15 * 3 + 15 * 5 + 15 + 15 + 2 * 5 + 2);
  });

  test("init is torch's U(-1/sqrt(H), 1/sqrt(H)) on all four tensors, seeded", () => {
    const H = 16;
    const bound = 1 / Math.sqrt(H);
    const a = new GRU(4, H, { backend: "reference", seed: 5 }).stateDict();
    for (const [name, t] of a) {
      const values = Array.from(t.data);
      assert.ok(values.every((v) => Math.abs(v) <= bound), `${name} within +-1/sqrt(H)`);
      assert.ok(Math.max(...values) > 0.7 * bound && Math.min(...values) < -0.7 * bound, `${name} spreads over the range`);
    }
    const same = new GRU(4, H, { backend: "reference", seed: 5 }).stateDict();
    const other = new GRU(4, H, { backend: "reference", seed: 6 }).stateDict();
    assert.deepEqual(Array.from(same.get("rnn.weight_hh_l0")!.data), Array.from(a.get("rnn.weight_hh_l0")!.data));
    assert.notDeepEqual(Array.from(other.get("rnn.weight_hh_l0")!.data), Array.from(a.get("rnn.weight_hh_l0")!.data));
  });

  test("stateDict / loadStateDict round trip by torch's names; a wrong shape is named", () => {
    const rng = new TestRng(41);
    const source = new GRU(3, 5, { backend: "reference", seed: 1 });
    const target = new GRU(3, 5, { backend: "reference", seed: 2 });
    const x = rng.tensor([2, 4, 3]);
    assert.notDeepEqual(Array.from(target.predict(x).output.data), Array.from(source.predict(x).output.data));
    const byName: Record<string, Tensor> = {};
    for (const [name, t] of source.stateDict()) byName[name] = t;
    target.loadStateDict(byName);
    assert.deepEqual(Array.from(target.predict(x).output.data), Array.from(source.predict(x).output.data));
    assert.throws(
      () => target.loadStateDict({ ...byName, "rnn.weight_hh_l0": { shape: [5, 15], data: new Float64Array(75) } }, "gru.pt"),
      /gru\.pt: 1 problem\(s\):\n {2}tensor rnn\.weight_hh_l0: expected shape \[15, 5\], got \[5, 15\]/,
    );
  });

  test("toConfig rebuilds the model with buildModel; unknown arguments and options are rejected", () => {
    const model = new GRU(3, 6, { backend: "reference", projSize: 2, returnSequences: false, batchFirst: false });
    const config = model.toConfig();
    assert.deepEqual(config, { model: "GRU", constructor_args: { input_size: 3, hidden_size: 6, proj_size: 2, return_sequences: false, batch_first: false } });
    const rebuilt = buildModel(config, { backend: "reference" });
    assert.ok(rebuilt instanceof GRU);
    rebuilt.loadStateDict(model.stateDict());
    const x = new TestRng(3).tensor([5, 2, 3]);
    assert.deepEqual(Array.from(rebuilt.predict(x).output.data), Array.from(model.predict(x).output.data));
    assert.throws(() => buildModel({ model: "GRU", constructor_args: { input_size: 3, hidden_size: 6, mixed_memory: true } }), /^Error: GRU: unknown constructor argument 'mixed_memory' \(known: input_size, hidden_size/);
    assert.throws(() => new GRU(3, 4, { backend: "reference", hidden_size: 4 } as GRUOptions), /^Error: GRU: unknown option 'hidden_size' \(valid: projSize, returnSequences, batchFirst, seed, backend, engine\)$/);
    assert.throws(() => new GRU(3, 0, { backend: "reference" }), /GRU: hiddenSize must be a positive integer, got 0/);
  });
});

describe("GRU trains", () => {
  test("fit lowers the loss of a sequence regression", async () => {
    const train = sineDataset(64, 12, 1);
    const model = new GRU(1, 8, { projSize: 1, backend: "reference", seed: 3 });
    const before = evaluate(model, train).loss;
    await fit(model, train, { epochs: 8, batchSize: 16, lr: 0.03 });
    const after = evaluate(model, train).loss;
    assert.ok(after < 0.5 * before, `training mse ${after} should be well below the untrained ${before}`);
  });
});
