/** WiredCfCCell: ncps's single-step wired CfC cell (names, PyTorch reference, CfC equivalence, gradients). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { BackendKind } from "../src/engine/engine.js";
import { CfC } from "../src/models/cfc.js";
import { WiredCfCCell } from "../src/models/wired-cfc-cell.js";
import type { Tensor } from "../src/tensor.js";
import { AutoNCP } from "../src/wirings/auto-ncp.js";
import { NCP } from "../src/wirings/ncp.js";
import { wiringFromSpec } from "../src/wirings/spec.js";
import { TestRng } from "./helpers/gradcheck.js";
import { SKIP_NO_GOLDENS, loadGolden, relativeError } from "./helpers/goldens.js";

/** Column t of a (B, L, W) batch-first tensor as (B, W). */
function stepOf(data: ArrayLike<number>, B: number, L: number, W: number, t: number): Float64Array {
  const out = new Float64Array(B * W);
  for (let b = 0; b < B; b++) for (let j = 0; j < W; j++) out[b * W + j] = data[(b * L + t) * W + j];
  return out;
}

describe("WiredCfCCell", () => {
  test("stepping the cell reproduces PyTorch ncps's loop over its WiredCfCCell, gradients included (float64)", { skip: SKIP_NO_GOLDENS }, () => {
    // this reference case was made by calling ncps's rnn_cell (a WiredCfCCell) once per step
    const c = loadGolden("cfc_autoncp_default_ts_per_sample.json");
    const I = c.spec.constructor_args.input_size;
    const cell = new WiredCfCCell(I, wiringFromSpec(c.spec.constructor_args.units.wiring), { mode: c.spec.constructor_args.mode, backend: "reference" });
    const weights = new Map<string, Tensor>();
    for (const w of c.weights) weights.set(w.name.replace(/^rnn_cell\./, ""), { shape: w.shape, data: Float64Array.from(w.data) });
    assert.deepEqual([...cell.stateDict().keys()], [...weights.keys()], "ncps WiredCfCCell state_dict names and order");
    cell.loadStateDict(weights);

    const [B, L] = c.input.shape;
    const S = cell.stateSize;
    const M = cell.outputSize;
    const states: Tensor[] = [{ shape: [B, S], data: Float64Array.from(c.init_state.h.data) }];
    const output = new Float64Array(B * L * M);
    const xs: Tensor[] = [];
    const tss: Tensor[] = [];
    for (let t = 0; t < L; t++) {
      xs.push({ shape: [B, I], data: stepOf(c.input.data, B, L, I, t) });
      tss.push({ shape: [B], data: stepOf(c.timespans.data, B, L, 1, t) });
      const r = cell.forward(xs[t], states[t], tss[t]);
      for (let b = 0; b < B; b++) for (let j = 0; j < M; j++) output[(b * L + t) * M + j] = r.output.data[b * M + j];
      states.push(r.state);
    }
    assert.ok(relativeError(output, c.output.data) < 1e-9, "output");
    assert.ok(relativeError(states[L].data, c.final_state.h.data) < 1e-9, "final state");

    // backward through time, one cell step at a time (each step's forward is run again before its backward)
    cell.zeroGrad();
    let dState: Tensor | null = null;
    const dInput = new Float64Array(B * L * I);
    const dTs = new Float64Array(B * L);
    for (let t = L - 1; t >= 0; t--) {
      cell.forward(xs[t], states[t], tss[t]);
      const g = cell.backward({ shape: [B, M], data: stepOf(c.loss_weights.data, B, L, M, t) }, dState);
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < I; i++) dInput[(b * L + t) * I + i] = g.input.data[b * I + i];
        dTs[b * L + t] = g.ts!.data[b];
      }
      dState = g.hx;
    }
    for (const p of cell.parameters()) assert.ok(relativeError(p.grad, c.grads[`rnn_cell.${p.name}`].data) < 1e-9, `grad of ${p.name}`);
    assert.ok(relativeError(dInput, c.grads.input.data) < 1e-9, "grad of input");
    assert.ok(relativeError(dTs, c.grads.timespans.data) < 1e-9, "grad of timespans");
    assert.ok(relativeError(dState!.data, c.grads.hx_h.data) < 1e-9, "grad of hx");
  });

  for (const backend of ["reference", "wasm"] as BackendKind[]) {
    for (const mode of ["default", "no_gate", "pure"] as const) {
      test(`forward equals a wired CfC's one-step output with the same weights (${backend}, ${mode})`, () => {
        const rng = new TestRng(mode.length * 7 + backend.length);
        const cell = new WiredCfCCell(3, new AutoNCP(10, 2, { seed: 4 }), { mode, backend, seed: 2 });
        const model = new CfC(3, new AutoNCP(10, 2, { seed: 4 }), { mode, backend, seed: 9 });
        model.loadStateDict(new Map([...cell.stateDict()].map(([k, v]) => [`rnn_cell.${k}`, v])));
        const B = 4;
        const x = rng.tensor([B, 3]);
        const hx = rng.tensor([B, cell.stateSize], -0.5, 0.5);
        const ts = rng.tensor([B], 0.2, 2);
        const toDtype = (t: Tensor): Tensor => (backend === "wasm" ? { shape: t.shape, data: Float32Array.from(t.data) } : t);
        const got = cell.forward(toDtype(x), toDtype(hx), toDtype(ts));
        const want = model.forward(toDtype({ shape: [B, 1, 3], data: x.data }), { hx: toDtype(hx), timespans: toDtype({ shape: [B, 1], data: ts.data }) });
        assert.deepEqual(got.output.shape, [B, 2]);
        assert.deepEqual(got.state.shape, [B, cell.stateSize]);
        assert.deepEqual(got.output.data, want.output.data);
        assert.deepEqual(got.state.data, want.state.h.data);
        // the output is the motor layer, the last block of the state
        assert.deepEqual(got.output.data.slice(0, 2), got.state.data.slice(cell.stateSize - 2, cell.stateSize));
      });
    }
  }

  test("backward matches central finite differences (float64): parameters, input, state and elapsed time", () => {
    const rng = new TestRng(57);
    const cell = new WiredCfCCell(2, new NCP(4, 3, 2, 2, 2, 3, 2, { seed: 7 }), { mode: "default", wiringRecurrence: true, backend: "reference", seed: 3 });
    for (const p of cell.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] += rng.range(-0.3, 0.3);
    const B = 2;
    const S = cell.stateSize;
    const x = rng.tensor([B, 2]);
    const hx = rng.tensor([B, S], -0.5, 0.5);
    const ts = rng.tensor([B], 0.2, 2);
    const wOut = rng.tensor([B, cell.outputSize]);
    const wState = rng.tensor([B, S]);
    const loss = (): number => {
      const r = cell.forward(x, hx, ts);
      let s = 0;
      for (let i = 0; i < wOut.data.length; i++) s += r.output.data[i] * wOut.data[i];
      for (let i = 0; i < wState.data.length; i++) s += r.state.data[i] * wState.data[i];
      return s;
    };
    loss();
    cell.zeroGrad();
    const back = cell.backward(wOut, wState);
    const analytic = new Map(cell.parameters().map((p) => [p.name, Float64Array.from(p.grad)]));
    const eps = 1e-6;
    const check = (name: string, values: () => ArrayLike<number> & { [i: number]: number }, grad: ArrayLike<number>) => {
      let scale = 1e-3;
      for (let i = 0; i < grad.length; i++) scale = Math.max(scale, Math.abs(grad[i]));
      for (let i = 0; i < grad.length; i++) {
        const orig = values()[i];
        values()[i] = orig + eps;
        const plus = loss();
        values()[i] = orig - eps;
        const minus = loss();
        values()[i] = orig;
        const numeric = (plus - minus) / (2 * eps);
        assert.ok(Math.abs(numeric - grad[i]) / scale < 1e-6, `${name}[${i}]: analytic ${grad[i]} vs numeric ${numeric}`);
      }
    };
    for (const [name, grad] of analytic) check(name, () => cell.parameters().find((p) => p.name === name)!.value, grad);
    check("input", () => x.data, back.input.data);
    check("hx", () => hx.data, back.hx.data);
    check("ts", () => ts.data, back.ts!.data);
  });

  test("unbatched input, ncps properties, and errors", () => {
    const wiring = new AutoNCP(8, 2, { seed: 1 });
    wiring.build(3);
    const cell = new WiredCfCCell(null, wiring, { backend: "reference" });
    assert.equal(cell.inputSize, 3);
    assert.equal(cell.sensorySize, 3);
    assert.equal(cell.stateSize, 8);
    assert.equal(cell.motorSize, 2);
    assert.equal(cell.numLayers, 3);
    assert.equal(cell.layerSizes.reduce((a, b) => a + b, 0), 8);
    assert.equal(cell.layerSizes[2], 2);
    const r = cell.forward({ shape: [3], data: new Float64Array([0.1, -0.2, 0.3]) }, null, 0.5);
    assert.deepEqual(r.output.shape, [2]);
    assert.deepEqual(r.state.shape, [8]);
    assert.deepEqual(cell.backward({ shape: [2], data: new Float64Array([1, 1]) }).input.shape, [3]);
    assert.throws(() => cell.forward({ shape: [2, 4], data: new Float64Array(8) }), /input: expected shape \[B, 3\] or \[3\], got \[2, 4\]/);
    assert.throws(() => cell.forward({ shape: [2, 3], data: new Float64Array(6) }, { shape: [2, 7], data: new Float64Array(14) }), /hx: expected shape \[2, 8\], got \[2, 7\]/);
    assert.throws(() => cell.backward({ shape: [3], data: new Float64Array(3) }), /WiredCfCCell\.backward: dOutput must have shape \[2\], got \[3\]/);
    assert.throws(() => new WiredCfCCell(null, new AutoNCP(8, 2)), /WiredCfCCell: the wiring is not built; pass inputSize/);
    assert.throws(() => new WiredCfCCell(3, 8 as never), /WiredCfCCell: wiring must be a Wiring, got 8/);
    assert.throws(() => new WiredCfCCell(3, new AutoNCP(8, 2), { backboneUnits: 4 } as never), /^Error: WiredCfCCell: unknown option 'backboneUnits' \(valid: mode, wiringRecurrence, seed, backend, engine\)$/);
  });
});
