/**
 * Backbone dropout: `training` (dropout on) and `grad` (keep a tape for backward) are independent flags.
 * With backboneDropout 0.5 every dropout mask value is 0 or 2, never 1, so a pass with dropout cannot
 * reproduce the evaluation output (for any seed and size), and the masks come from the model's generator,
 * so resetting its state (getRngState / setRngState) replays the same masks.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { BackendKind } from "../src/engine/engine.js";
import { CfC } from "../src/models/cfc.js";
import type { Tensor } from "../src/tensor.js";
import { TestRng, gradCheck } from "./helpers/gradcheck.js";

function dropoutModel(backend: BackendKind, seed: number): CfC {
  return new CfC(4, 5, { backend, seed, backboneLayers: 3, backboneUnits: 8, backboneDropout: 0.5, mixedMemory: true, projSize: 3 });
}

for (const backend of ["wasm", "reference"] as const) {
  describe(`dropout on the ${backend} engine`, () => {
    const rng = new TestRng(backend.length * 13);
    const x = rng.tensor([3, 4, 4]);

    test("evaluation is deterministic, with or without a tape, and equals predict()", () => {
      const m = dropoutModel(backend, 2);
      const evalGrad = m.forward(x, { training: false }).output.data;
      assert.deepEqual(m.forward(x).output.data, evalGrad, "training defaults to false");
      assert.deepEqual(m.forward(x, { training: false, grad: false }).output.data, evalGrad);
      assert.deepEqual(m.predict(x).output.data, evalGrad);
    });

    test("training without a tape applies dropout: outputs differ from evaluation and between calls", () => {
      const m = dropoutModel(backend, 3);
      const evaluation = m.predict(x).output.data;
      const first = m.forward(x, { training: true, grad: false }).output.data;
      const second = m.forward(x, { training: true, grad: false }).output.data;
      assert.notDeepEqual(first, evaluation);
      assert.notDeepEqual(second, evaluation);
      assert.notDeepEqual(first, second, "each call draws new masks");
    });

    test("training with and without a tape give the same output for the same generator state", () => {
      const m = dropoutModel(backend, 4);
      const state = m.getRngState();
      const withTape = m.forward(x, { training: true }).output.data;
      m.setRngState(state);
      const withoutTape = m.forward(x, { training: true, grad: false }).output.data;
      assert.deepEqual(withoutTape, withTape);
      assert.notDeepEqual(withTape, m.predict(x).output.data);
      // both passes drew the same numbers from the generator
      m.setRngState(state);
      m.forward(x, { training: true });
      const afterTape = m.getRngState();
      m.setRngState(state);
      m.forward(x, { training: true, grad: false });
      assert.deepEqual(m.getRngState(), afterTape);
    });

    test("a streaming or evaluation pass between training passes draws nothing from the generator", () => {
      const m = dropoutModel(backend, 5);
      const state = m.getRngState();
      m.predict(x);
      m.forward(x, { grad: false });
      m.stream().step([0.1, 0.2, 0.3, 0.4], 0.5);
      assert.deepEqual(m.getRngState(), state);
    });
  });
}

describe("gradients with dropout configured (float64 central finite differences)", () => {
  test("evaluation mode (no masks applied) differentiates the evaluation output", () => {
    const rng = new TestRng(91);
    const m = new CfC(3, 4, { backend: "reference", seed: 6, backboneLayers: 2, backboneUnits: 5, backboneDropout: 0.4 });
    gradCheck(m, { x: rng.tensor([2, 3, 3]), timespans: rng.tensor([2, 3], 0.2, 2) }, rng);
  });

  test("training mode differentiates the output under the masks drawn (replayed from the generator state)", () => {
    const rng = new TestRng(92);
    const m = new CfC(3, 4, { backend: "reference", seed: 7, backboneLayers: 3, backboneUnits: 5, backboneDropout: 0.5, projSize: 2 });
    const x = rng.tensor([2, 3, 3]);
    const state = m.getRngState();
    const lossWeights = rng.tensor([2, 3, 2]);
    const loss = (): number => {
      m.setRngState(state);
      const out = m.forward(x, { training: true, grad: false }).output.data;
      let s = 0;
      for (let i = 0; i < out.length; i++) s += out[i] * lossWeights.data[i];
      return s;
    };
    m.setRngState(state);
    m.forward(x, { training: true });
    m.zeroGrad();
    const back = m.backward(lossWeights as Tensor);
    const eps = 1e-6;
    const check = (name: string, values: () => Float64Array, analytic: ArrayLike<number>) => {
      let scale = 1e-3;
      for (let i = 0; i < analytic.length; i++) scale = Math.max(scale, Math.abs(analytic[i]));
      for (let i = 0; i < analytic.length; i += Math.max(1, Math.floor(analytic.length / 12))) {
        const orig = values()[i];
        values()[i] = orig + eps;
        const plus = loss();
        values()[i] = orig - eps;
        const minus = loss();
        values()[i] = orig;
        const numeric = (plus - minus) / (2 * eps);
        assert.ok(Math.abs(numeric - analytic[i]) / scale < 1e-6, `${name}[${i}]: analytic ${analytic[i]} vs numeric ${numeric}`);
      }
    };
    for (const p of m.params.entries()) {
      check(p.name, () => m.params.value(p.name) as Float64Array, Float64Array.from(m.params.grad(p.name)));
    }
    check("input", () => x.data as Float64Array, back.input.data);
  });
});
