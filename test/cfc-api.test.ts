/** CfC API semantics: shapes (ncps's own test table), layouts, timespans, streaming, seeds, errors. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CfC } from "../src/models/cfc.js";
import { AutoNCP } from "../src/wirings/auto-ncp.js";
import { NCP } from "../src/wirings/ncp.js";
import { TestRng } from "./helpers/gradcheck.js";

const ref = { backend: "reference" as const };

describe("shapes (ncps test_torch.py table)", () => {
  const rng = new TestRng(3);
  test("CfC(8, 32) on (5, 3, 8)", () => {
    const m = new CfC(8, 32, ref);
    const { output, state } = m.forward(rng.tensor([5, 3, 8]));
    assert.deepEqual(output.shape, [5, 3, 32]);
    assert.deepEqual(state.h.shape, [5, 32]);
  });
  test("batchFirst false", () => {
    const m = new CfC(8, 32, { ...ref, batchFirst: false });
    const { output, state } = m.forward(rng.tensor([5, 3, 8]));
    assert.deepEqual(output.shape, [5, 3, 32]);
    assert.deepEqual(state.h.shape, [3, 32]);
  });
  test("projSize 10", () => assert.deepEqual(new CfC(8, 32, { ...ref, projSize: 10 }).forward(rng.tensor([5, 3, 8])).output.shape, [5, 3, 10]));
  test("unbatched", () => {
    for (const batchFirst of [true, false]) {
      const { output, state } = new CfC(8, 32, { ...ref, batchFirst }).forward(rng.tensor([3, 8]));
      assert.deepEqual(output.shape, [3, 32]);
      assert.deepEqual(state.h.shape, [32]);
    }
  });
  test("NCP(10,10,8,6,6,4,6) and AutoNCP(28,10) wirings", () => {
    const a = new CfC(8, new NCP(10, 10, 8, 6, 6, 4, 6), ref).forward(rng.tensor([5, 3, 8]));
    assert.deepEqual(a.output.shape, [5, 3, 8]);
    assert.deepEqual(a.state.h.shape, [5, 28]);
    const b = new CfC(8, new AutoNCP(28, 10), ref).forward(rng.tensor([5, 3, 8]));
    assert.deepEqual(b.output.shape, [5, 3, 10]);
    assert.deepEqual(b.state.h.shape, [5, 28]);
  });
  test("returnSequences false and returnStates", () => {
    const m = new CfC(4, 6, { ...ref, returnSequences: false });
    const r = m.forward(rng.tensor([2, 7, 4]), { returnStates: true });
    assert.deepEqual(r.output.shape, [2, 6]);
    assert.deepEqual(r.states!.shape, [2, 7, 6]);
    // the last per-step state is the final state
    for (let b = 0; b < 2; b++) for (let j = 0; j < 6; j++) assert.equal(r.states!.data[(b * 7 + 6) * 6 + j], r.state.h.data[b * 6 + j]);
  });
});

describe("parameter counts (reference §4.6)", () => {
  test("default CfC(20, 50) has 34,888 parameters, pure 15,638", () => {
    assert.equal(new CfC(20, 50, ref).parameterCount(), 34888);
    assert.equal(new CfC(20, 50, { ...ref, mode: "pure" }).parameterCount(), 15638);
  });
  test("state_dict names and shapes", () => {
    const m = new CfC(3, 4, { ...ref, backboneUnits: 5, backboneLayers: 3, backboneDropout: 0.1, mixedMemory: true, projSize: 2 });
    const names = [...m.stateDict().entries()].map(([k, v]) => `${k}:${v.shape.join("x")}`);
    assert.deepEqual(names, [
      "rnn_cell.backbone.0.weight:5x7", "rnn_cell.backbone.0.bias:5",
      "rnn_cell.backbone.2.weight:5x5", "rnn_cell.backbone.2.bias:5",
      "rnn_cell.backbone.5.weight:5x5", "rnn_cell.backbone.5.bias:5",
      "rnn_cell.ff1.weight:4x5", "rnn_cell.ff1.bias:4", "rnn_cell.ff2.weight:4x5", "rnn_cell.ff2.bias:4",
      "rnn_cell.time_a.weight:4x5", "rnn_cell.time_a.bias:4", "rnn_cell.time_b.weight:4x5", "rnn_cell.time_b.bias:4",
      "lstm.input_map.weight:16x3", "lstm.input_map.bias:16", "lstm.recurrent_map.weight:16x4",
      "fc.weight:2x4", "fc.bias:2",
    ]);
  });
});

describe("per-sample timespans", () => {
  test("each sample of a batch gets its own elapsed times (batch result = samples run alone)", () => {
    const rng = new TestRng(9);
    const B = 4, L = 5, I = 3;
    const m = new CfC(I, 6, { ...ref, backboneUnits: 8 });
    const x = rng.tensor([B, L, I]);
    const ts = rng.tensor([B, L], 0.1, 3);
    const batched = m.forward(x, { timespans: ts }).output;
    for (let b = 0; b < B; b++) {
      const xb = { shape: [1, L, I], data: x.data.slice(b * L * I, (b + 1) * L * I) };
      const tb = { shape: [1, L], data: ts.data.slice(b * L, (b + 1) * L) };
      const alone = m.forward(xb, { timespans: tb }).output;
      for (let i = 0; i < alone.data.length; i++) assert.ok(Math.abs(alone.data[i] - batched.data[b * L * 6 + i]) < 1e-14);
    }
  });
  test("(B, L, 1), shared (1, L), (L) and a number are equivalent where they mean the same", () => {
    const rng = new TestRng(10);
    const m = new CfC(2, 3, ref);
    const x = rng.tensor([2, 4, 2]);
    const shared = [0.5, 1.5, 2, 0.25];
    const a = m.forward(x, { timespans: { shape: [4], data: Float64Array.from(shared) } }).output.data;
    const b = m.forward(x, { timespans: { shape: [1, 4], data: Float64Array.from(shared) } }).output.data;
    const c = m.forward(x, { timespans: { shape: [2, 4, 1], data: Float64Array.from([...shared, ...shared]) } }).output.data;
    assert.deepEqual(a, b);
    assert.deepEqual(a, c);
    const d = m.forward(x, { timespans: 1 }).output.data;
    const e = m.forward(x).output.data;
    assert.deepEqual(d, e);
    assert.notDeepEqual(a, e);
  });
});

describe("streaming", () => {
  for (const [name, make] of [
    ["default with mixed memory and projection", () => new CfC(3, 5, { ...ref, mixedMemory: true, projSize: 2 })],
    ["wired pure", () => new CfC(3, new AutoNCP(10, 2), { ...ref, mode: "pure" })],
  ] as const) {
    test(`step by step equals the sequence forward (${name})`, () => {
      const rng = new TestRng(4);
      const m = make();
      const L = 6;
      const x = rng.tensor([1, L, 3]);
      const ts = rng.tensor([1, L], 0.2, 2);
      const full = m.forward(x, { timespans: ts }).output;
      const s = m.stream();
      const P = m.outputSize;
      for (let t = 0; t < L; t++) {
        const y = s.step(x.data.subarray(t * 3, t * 3 + 3), ts.data[t]);
        for (let j = 0; j < P; j++) assert.ok(Math.abs(y[j] - full.data[t * P + j]) < 1e-13, `step ${t} output ${j}`);
      }
      s.reset();
      const y0 = s.step(x.data.subarray(0, 3), ts.data[0]);
      for (let j = 0; j < P; j++) assert.ok(Math.abs(y0[j] - full.data[j]) < 1e-13, "reset starts over");
    });
  }
  test("rejects an input of the wrong size", () => {
    assert.throws(() => new CfC(3, 4, ref).stream().step([1, 2]), /input must have 3 values, got 2/);
  });
});

describe("seeds and dropout", () => {
  test("same seed, same weights; another seed, other weights", () => {
    const a = new CfC(3, 4, { ...ref, seed: 7 }).stateDict();
    const b = new CfC(3, 4, { ...ref, seed: 7 }).stateDict();
    const c = new CfC(3, 4, { ...ref, seed: 8 }).stateDict();
    for (const [k, v] of a) assert.deepEqual(v.data, b.get(k)!.data);
    assert.notDeepEqual(a.get("rnn_cell.ff1.weight")!.data, c.get("rnn_cell.ff1.weight")!.data);
  });
  test("xavier bounds hold for weights", () => {
    const m = new CfC(10, 20, { ...ref, backboneUnits: 30 });
    const w = m.stateDict().get("rnn_cell.ff1.weight")!.data;
    const bound = Math.sqrt(6 / (30 + 20));
    assert.ok(Math.max(...w) <= bound && Math.min(...w) >= -bound);
    assert.ok(Math.max(...w) > 0.8 * bound, "spread over the range");
  });
  test("dropout is active in training only, and never after the first backbone layer", () => {
    const rng = new TestRng(5);
    const x = rng.tensor([2, 3, 4]);
    const m = new CfC(4, 5, { ...ref, backboneLayers: 2, backboneUnits: 16, backboneDropout: 0.5 });
    const ev1 = m.forward(x).output.data;
    const ev2 = m.forward(x, { training: false }).output.data;
    assert.deepEqual(ev1, ev2);
    const tr = m.forward(x, { training: true }).output.data;
    assert.notDeepEqual(tr, ev1);
    const one = new CfC(4, 5, { ...ref, backboneLayers: 1, backboneDropout: 0.5 });
    assert.deepEqual(one.forward(x, { training: true }).output.data, one.forward(x).output.data);
  });
});

describe("bad input gets a clear error", () => {
  const m = new CfC(3, 4, ref);
  const rng = new TestRng(6);
  test("input shape", () => {
    assert.throws(() => m.forward(rng.tensor([2, 5, 4])), /input: expected shape \[B, L, 3\], got \[2, 5, 4\]/);
    assert.throws(() => m.forward(rng.tensor([2, 5, 3, 1])), /input: expected shape/);
  });
  test("timespans shape", () => {
    assert.throws(() => m.forward(rng.tensor([2, 5, 3]), { timespans: rng.tensor([5, 2]) }), /timespans: expected shape \[2, 5\].*got \[5, 2\]/);
    assert.throws(() => m.forward(rng.tensor([2, 5, 3]), { timespans: rng.tensor([2, 4]) }), /timespans/);
  });
  test("hx shape and mixed memory state", () => {
    assert.throws(() => m.forward(rng.tensor([2, 5, 3]), { hx: rng.tensor([3, 4]) }), /hx: expected shape \[2, 4\], got \[3, 4\]/);
    const mm = new CfC(3, 4, { ...ref, mixedMemory: true });
    assert.throws(() => mm.forward(rng.tensor([2, 5, 3]), { hx: rng.tensor([2, 4]) }), /mixedMemory/);
  });
  test("non-finite values when checking is asked for", () => {
    const x = rng.tensor([1, 2, 3]);
    x.data[4] = NaN;
    assert.throws(() => m.forward(x, { checkFinite: true }), /input: non-finite value NaN at index \[0, 1, 1\]/);
  });
  test("unknown mode, activation, bad sizes, backbone with a wiring", () => {
    assert.throws(() => new CfC(3, 4, { ...ref, mode: "fast" as never }), /unknown mode 'fast'/);
    assert.throws(() => new CfC(3, 4, { ...ref, activation: "swish" as never }), /unknown activation 'swish'/);
    assert.throws(() => new CfC(3, 0, ref), /units must be a positive integer/);
    assert.throws(() => new CfC(3, new AutoNCP(10, 2), { ...ref, backboneUnits: 8 }), /backboneUnits cannot be used with a wiring/);
  });
  test("loading weights reports missing, extra and misshapen tensors together", () => {
    const sd = m.stateDict();
    sd.delete("rnn_cell.ff2.bias");
    sd.set("rnn_cell.bogus", { shape: [1], data: new Float64Array(1) });
    sd.set("rnn_cell.ff1.weight", { shape: [3, 3], data: new Float64Array(9) });
    assert.throws(() => m.loadStateDict(sd), (e: Error) =>
      /missing tensor rnn_cell.ff2.bias/.test(e.message) && /unexpected tensor rnn_cell.bogus/.test(e.message) && /rnn_cell.ff1.weight: expected shape \[4, 128\], got \[3, 3\]/.test(e.message));
  });
  test("backward without forward, or with a wrong dOutput shape", () => {
    const fresh = new CfC(3, 4, ref);
    assert.throws(() => fresh.backward({ shape: [1, 1, 4], data: new Float64Array(4) }), /no forward pass/);
    fresh.forward(rng.tensor([2, 5, 3]));
    assert.throws(() => fresh.backward({ shape: [2, 5, 3], data: new Float64Array(30) }), /dOutput must have the output's shape \[2, 5, 4\]/);
  });
});

describe("CfCCell (single step, ncps CfCCell names)", () => {
  test("a loop of cell steps equals the CfC sequence forward, and gradients agree", async () => {
    const { CfCCell } = await import("../src/models/cfc-cell.js");
    const rng = new TestRng(21);
    const cell = new CfCCell(3, 5, { ...ref, backboneUnits: 6, mode: "no_gate" });
    const names = [...cell.stateDict().keys()];
    assert.equal(names[0], "backbone.0.weight");
    assert.ok(names.includes("time_b.bias"));
    const seq = new CfC(3, 5, { ...ref, backboneUnits: 6, mode: "no_gate" });
    const sd = new Map([...cell.stateDict()].map(([k, v]) => [`rnn_cell.${k}`, v]));
    seq.loadStateDict(sd);
    const B = 2, L = 3;
    const x = rng.tensor([B, L, 3]);
    const ts = rng.tensor([B, L], 0.3, 2);
    const full = seq.forward(x, { timespans: ts });
    let h: { shape: number[]; data: Float64Array } | null = null;
    for (let t = 0; t < L; t++) {
      const xt = new Float64Array(B * 3);
      const tt = new Float64Array(B);
      for (let b = 0; b < B; b++) {
        xt.set(x.data.subarray((b * L + t) * 3, (b * L + t + 1) * 3), b * 3);
        tt[b] = ts.data[b * L + t];
      }
      h = cell.forward({ shape: [B, 3], data: xt }, h, { shape: [B], data: tt }) as { shape: number[]; data: Float64Array };
      for (let b = 0; b < B; b++) for (let j = 0; j < 5; j++) assert.ok(Math.abs(h.data[b * 5 + j] - full.output.data[(b * L + t) * 5 + j]) < 1e-14);
    }
    assert.throws(() => cell.forward({ shape: [2, 4], data: new Float64Array(8) }), /input: expected shape \[B, 3\] or \[3\], got \[2, 4\]/);
  });
});

describe("memory", () => {
  test("sequences of ever new lengths do not grow the engine without bound, and results stay right", () => {
    const rng = new TestRng(31);
    const make = () => new CfC(3, 4, { ...ref, backboneUnits: 5 });
    // the memory one tape of the longest shape takes
    const probe = make();
    const base = probe.engine.mark();
    probe.forward(rng.tensor([2, 120, 3]));
    const oneTape = probe.engine.mark() - base;
    const m = make();
    const s = m.stream();
    const start = m.engine.mark();
    const x20 = rng.tensor([2, 20, 3]);
    const first = m.forward(x20).output.data.slice();
    for (let L = 1; L <= 120; L++) m.forward(rng.tensor([2, L, 3]));
    const used = m.engine.mark() - start;
    // without giving memory back this would be the sum over all 120 shapes (about 60 tapes' worth)
    assert.ok(used <= 8 * oneTape, `engine memory grew to ${used} elements (one tape: ${oneTape})`);
    assert.deepEqual(m.forward(x20).output.data, first);
    // the stream made before all that still works and matches a fresh forward
    const y = s.step([0.1, 0.2, 0.3], 0.5)[0];
    const again = m.forward({ shape: [1, 1, 3], data: Float64Array.from([0.1, 0.2, 0.3]) }, { timespans: 0.5 }).output.data[0];
    assert.equal(y, again);
  });
  test("gradients stay right after tape memory was given back", () => {
    const rng = new TestRng(32);
    const m = new CfC(3, 4, { ...ref, backboneUnits: 5 });
    const x = rng.tensor([2, 6, 3]);
    const g = (): Float64Array => {
      m.zeroGrad();
      const { output } = m.forward(x);
      m.backward({ shape: output.shape, data: new Float64Array(output.data.length).fill(1) });
      return Float64Array.from(m.params.grad("rnn_cell.ff1.weight"));
    };
    const before = g();
    for (let L = 1; L <= 20; L++) m.forward(rng.tensor([3, L, 3]));
    assert.deepEqual(g(), before);
  });
});

test("a predict between forward and backward does not disturb the backward", () => {
  const rng = new TestRng(41);
  const m = new CfC(3, 4, { ...ref, backboneUnits: 5 });
  const x = rng.tensor([2, 5, 3]);
  const dOut = rng.tensor([2, 5, 4]);
  m.forward(x);
  m.backward(dOut);
  const expected = Float64Array.from(m.params.grad("rnn_cell.ff2.weight"));
  m.zeroGrad();
  m.forward(x);
  m.predict(rng.tensor([3, 7, 3]));
  m.backward(dOut);
  assert.deepEqual(Float64Array.from(m.params.grad("rnn_cell.ff2.weight")), expected);
});
