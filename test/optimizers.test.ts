import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Adam, AdamW, RMSprop, SGD, createOptimizer, type Optimizer } from "../src/train/optimizers.js";
import { clipGradNorm, gradNorm } from "../src/train/clip.js";
import type { ParamRef } from "../src/nn/param-ref.js";
import { useUpdateKernels } from "../src/train/update-kernels.js";
import { ReferenceEngine, WasmEngine } from "../src/engine/index.js";

// A tiny quadratic: loss = sum k_i (p_i - c_i)^2, so grad_i = 2 k_i (p_i - c_i) depends on the current
// values and weight decay / momentum interactions show up over a few steps.
const K = [0.5, 2, 1.5];
const C = [1, -2, 0.25];
const P0 = [0.3, 0.7, -1.2];

function makeParam(values: number[], Ctor: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array, name = "w"): ParamRef {
  return { name, value: new Ctor(values), grad: new Ctor(values.length) };
}

function fillQuadraticGrad(p: ParamRef): void {
  for (let i = 0; i < p.value.length; i++) p.grad[i] = 2 * K[i] * (p.value[i] - C[i]);
}

function runSteps(opt: Optimizer, p: ParamRef, steps: number): void {
  for (let s = 0; s < steps; s++) {
    fillQuadraticGrad(p);
    opt.step([p]);
  }
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    assert.ok(err <= tol * Math.max(1, Math.abs(expected[i])), `${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (error ${err})`);
  }
}

// Reference update rules written from the torch.optim documentation's pseudo-code, element by element.
function referenceAdam(steps: number, lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean): number[] {
  const p = [...P0];
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < 3; i++) {
      let g = 2 * K[i] * (p[i] - C[i]);
      if (decoupled) p[i] = p[i] - lr * wd * p[i];
      else g = g + wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const mHat = m[i] / (1 - b1 ** t);
      const vHat = v[i] / (1 - b2 ** t);
      p[i] = p[i] - (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  }
  return p;
}

function referenceRmsprop(steps: number, lr: number, alpha: number, eps: number, wd: number, momentum: number, centered: boolean): number[] {
  const p = [...P0];
  const v = [0, 0, 0];
  const gAvg = [0, 0, 0];
  const b = [0, 0, 0];
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < 3; i++) {
      let g = 2 * K[i] * (p[i] - C[i]);
      g = g + wd * p[i];
      v[i] = alpha * v[i] + (1 - alpha) * g * g;
      let vTilde = v[i];
      if (centered) {
        gAvg[i] = alpha * gAvg[i] + (1 - alpha) * g;
        vTilde = vTilde - gAvg[i] * gAvg[i];
      }
      if (momentum > 0) {
        b[i] = momentum * b[i] + g / (Math.sqrt(vTilde) + eps);
        p[i] = p[i] - lr * b[i];
      } else {
        p[i] = p[i] - (lr * g) / (Math.sqrt(vTilde) + eps);
      }
    }
  }
  return p;
}

function referenceSgd(steps: number, lr: number, momentum: number, dampening: number, nesterov: boolean, wd: number): number[] {
  const p = [...P0];
  const b = [0, 0, 0];
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < 3; i++) {
      let g = 2 * K[i] * (p[i] - C[i]);
      g = g + wd * p[i];
      if (momentum !== 0) {
        b[i] = t > 1 ? momentum * b[i] + (1 - dampening) * g : g;
        g = nesterov ? g + momentum * b[i] : b[i];
      }
      p[i] = p[i] - lr * g;
    }
  }
  return p;
}

describe("Adam / AdamW", () => {
  test("first step moves each value by lr * g / (|g| + eps) (bias correction cancels)", () => {
    const p = makeParam(P0);
    const opt = new Adam({ lr: 0.1 });
    runSteps(opt, p, 1);
    // grads at P0: 2*0.5*(0.3-1) = -0.7, 2*2*(0.7+2) = 10.8, 2*1.5*(-1.2-0.25) = -4.35
    assertClose(p.value, [0.3 + 0.1 * 0.7 / (0.7 + 1e-8), 0.7 - 0.1 * 10.8 / (10.8 + 1e-8), -1.2 + 0.1 * 4.35 / (4.35 + 1e-8)], 1e-15, "adam step 1");
  });

  for (const [label, options, wd] of [
    ["defaults", { lr: 0.05 }, 0],
    ["custom betas, eps, L2 weight decay", { lr: 0.02, betas: [0.8, 0.95] as const, eps: 1e-3, weightDecay: 0.1 }, 0.1],
  ] as const) {
    test(`Adam ${label}: three steps match the torch equations`, () => {
      const p = makeParam(P0);
      const opt = new Adam(options);
      runSteps(opt, p, 3);
      const b = "betas" in options ? options.betas : [0.9, 0.999];
      const eps = "eps" in options ? options.eps : 1e-8;
      assertClose(p.value, referenceAdam(3, options.lr, b[0], b[1], eps, wd, false), 1e-14, "adam");
    });
  }

  test("AdamW decays decoupled from the gradient (default weightDecay 0.01)", () => {
    const p = makeParam(P0);
    const opt = new AdamW({ lr: 0.05 });
    assert.equal(opt.state().hyper.weightDecay, 0.01);
    runSteps(opt, p, 3);
    assertClose(p.value, referenceAdam(3, 0.05, 0.9, 0.999, 1e-8, 0.01, true), 1e-14, "adamw");
    const q = makeParam(P0);
    const big = new AdamW({ lr: 0.05, weightDecay: 0.5, betas: [0.5, 0.9] });
    runSteps(big, q, 3);
    assertClose(q.value, referenceAdam(3, 0.05, 0.5, 0.9, 1e-8, 0.5, true), 1e-14, "adamw wd 0.5");
    // And it differs from coupled L2, or the test above would not distinguish them.
    const r = makeParam(P0);
    runSteps(new Adam({ lr: 0.05, weightDecay: 0.5, betas: [0.5, 0.9] }), r, 3);
    assert.ok(Math.abs(r.value[0] - q.value[0]) > 1e-4);
  });

  test("Adam minimises a quadratic", () => {
    const p = makeParam(P0);
    const opt = new Adam({ lr: 0.05 });
    runSteps(opt, p, 2000);
    assertClose(p.value, C, 1e-4, "minimum");
    assert.equal(opt.stepCount, 2000);
  });

  test("float32 parameters keep float32 buffers, update in place, and track the float64 run", () => {
    const p32 = makeParam(P0, Float32Array);
    const valueView = p32.value;
    const opt = new Adam({ lr: 0.05, weightDecay: 0.01 });
    runSteps(opt, p32, 50);
    assert.equal(p32.value, valueView);
    const state = opt.state();
    assert.ok(state.buffers["w/exp_avg"] instanceof Float32Array);
    assert.ok(state.buffers["w/exp_avg_sq"] instanceof Float32Array);
    const p64 = makeParam(P0);
    runSteps(new Adam({ lr: 0.05, weightDecay: 0.01 }), p64, 50);
    assertClose(p32.value, p64.value, 1e-5, "float32 vs float64");
  });
});

describe("optimizer update kernels (WebAssembly)", () => {
  /** Seeded values in [-scale, scale) (xorshift32), rounded to float32. */
  function values(n: number, seed: number, scale: number): number[] {
    let s = seed >>> 0 || 1;
    return Array.from({ length: n }, () => {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return Math.fround(((s / 4294967296) * 2 - 1) * scale);
    });
  }

  /** Runs `steps` steps with gradients from `gradAt` on float32 parameters of n values, kernels on or off. */
  function run(kernels: boolean, make: () => Optimizer, n: number, steps: number): { value: Float32Array; state: ReturnType<Optimizer["state"]> } {
    useUpdateKernels(kernels);
    try {
      const p: ParamRef = { name: "w", value: Float32Array.from(values(n, 3, 1)), grad: new Float32Array(n) };
      const opt = make();
      for (let s = 0; s < steps; s++) {
        // gradients spanning many magnitudes, some exactly zero
        p.grad.set(values(n, 100 + s, 10 ** ((s % 5) - 2)).map((g, i) => (i % 7 === 3 ? 0 : g)));
        opt.step([p]);
      }
      return { value: p.value as Float32Array, state: opt.state() };
    } finally {
      useUpdateKernels(true);
    }
  }

  const settings: Array<[string, () => Optimizer]> = [
    ["Adam", () => new Adam({ lr: 0.01 })],
    ["Adam L2, betas (0.3, 0.9)", () => new Adam({ lr: 0.003, betas: [0.3, 0.9], eps: 1e-6, weightDecay: 0.05 })],
    ["AdamW", () => new AdamW({ lr: 0.02, weightDecay: 0.1 })],
    ["RMSprop", () => new RMSprop({ lr: 0.01 })],
    ["RMSprop centered, momentum, weight decay", () => new RMSprop({ lr: 0.005, alpha: 0.9, momentum: 0.8, centered: true, weightDecay: 0.01 })],
    ["RMSprop centered, alpha 0.3 (the other lerp branch)", () => new RMSprop({ lr: 0.005, alpha: 0.3, centered: true })],
    ["SGD", () => new SGD({ lr: 0.1 })],
    ["SGD momentum, dampening, weight decay", () => new SGD({ lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 })],
    ["SGD nesterov", () => new SGD({ lr: 0.05, momentum: 0.7, nesterov: true })],
  ];
  for (const [label, make] of settings) {
    test(`${label}: the kernel gives the same bits as the JavaScript float32 path (n = 1, 3, 4, 37, 1031)`, () => {
      for (const n of [1, 3, 4, 37, 1031]) {
        const a = run(true, make, n, 12);
        const b = run(false, make, n, 12);
        assert.deepEqual([...a.value], [...b.value], `${label} n=${n}: values`);
        assert.deepEqual(Object.keys(a.state.buffers).sort(), Object.keys(b.state.buffers).sort());
        for (const key of Object.keys(b.state.buffers)) assert.deepEqual([...a.state.buffers[key]], [...b.state.buffers[key]], `${label} n=${n}: ${key}`);
      }
    });
  }

  test("engine adamUpdate: wasm against the float64 reference at n = 1..9 and 45, both lerp branches", () => {
    for (const [n, w1, shrink, l2] of [[1, 0.1, 1, 0], [3, 0.1, 0.999, 0], [5, 0.7, 1, 0.01], [8, 0.5, 1, 0], [9, 0.1, 1, 0.2], [45, 0.1, 0.98, 0]] as const) {
      const engines = [new WasmEngine(), new ReferenceEngine()];
      const value = values(n, 5, 1);
      const grad = values(n, 6, 0.5);
      const m = values(n, 7, 0.1);
      const v = values(n, 8, 0.2).map(Math.abs);
      const s = { shrink, l2, w1, keep1: Math.fround(1 - w1), b2: Math.fround(0.999), c2: Math.fround(0.001), bias2Sqrt: Math.fround(Math.sqrt(1 - 0.999 ** 3)), eps: Math.fround(1e-8), stepSize: Math.fround(0.01 / (1 - 0.9 ** 3)) };
      const out = engines.map((e) => {
        const at = e.alloc(4 * n + 16);
        const h = e.heap();
        h.set(value, at);
        h.set(grad, at + n);
        h.set(m, at + 2 * n);
        h.set(v, at + 3 * n);
        e.adamUpdate(n, at, at + n, at + 2 * n, at + 3 * n, s, at + 4 * n);
        return [...e.heap().subarray(at, at + 4 * n)];
      });
      for (let i = 0; i < 4 * n; i++) {
        const [w, r] = [out[0][i], out[1][i]];
        assert.ok(Math.abs(w - r) <= 1e-6 * Math.max(1, Math.abs(r)), `n=${n} element ${i}: wasm ${w}, reference ${r}`);
      }
      // the grad block is read only
      assert.deepEqual(out[0].slice(n, 2 * n), grad);
    }
  });

  test("engine rmspropUpdate and sgdUpdate: wasm against the float64 reference at n = 1..7 and 45, every option", () => {
    const rms = [
      { wd: 0, alpha: 0.99, momentum: 0, centered: false },
      { wd: 0.01, alpha: 0.9, momentum: 0.8, centered: true },
      { wd: 0, alpha: 0.3, momentum: 0, centered: true },
    ];
    const sgd = [
      { wd: 0, momentum: 0, keep: 1, first: false, nesterov: false },
      { wd: 0.01, momentum: 0.9, keep: 0.9, first: true, nesterov: false },
      { wd: 0, momentum: 0.7, keep: 1, first: false, nesterov: true },
    ];
    for (const n of [1, 2, 3, 4, 5, 7, 45]) {
      const blocks = [values(n, 11, 1), values(n, 12, 0.5), values(n, 13, 0.2).map(Math.abs), values(n, 14, 0.01), values(n, 15, 0.1)];
      for (const [kind, o] of [...rms.map((o) => ["rmsprop", o] as const), ...sgd.map((o) => ["sgd", o] as const)]) {
        const out = [new WasmEngine(), new ReferenceEngine()].map((e) => {
          const at = e.alloc(5 * n);
          blocks.forEach((b, i) => e.heap().set(b, at + i * n));
          if (kind === "rmsprop") {
            const r = o as (typeof rms)[number];
            const w = 1 - r.alpha;
            e.rmspropUpdate(n, at, at + n, at + 2 * n, r.centered ? at + 3 * n : -1, r.momentum > 0 ? at + 4 * n : -1, {
              wd: Math.fround(r.wd), alpha: Math.fround(r.alpha), c: Math.fround(1 - r.alpha), w, keepW: Math.fround(1 - w), eps: Math.fround(1e-8), momentum: Math.fround(r.momentum), lr: Math.fround(0.01),
            });
          } else {
            const g = o as (typeof sgd)[number];
            e.sgdUpdate(n, at, at + n, g.momentum > 0 ? at + 2 * n : -1, { ...g, wd: Math.fround(g.wd), momentum: Math.fround(g.momentum), keep: Math.fround(g.keep), lr: Math.fround(0.05) });
          }
          return [...e.heap().subarray(at, at + 5 * n)];
        });
        for (let i = 0; i < 5 * n; i++) {
          const [w, r] = [out[0][i], out[1][i]];
          assert.ok(Math.abs(w - r) <= 2e-6 * Math.max(1, Math.abs(r)), `${kind} ${JSON.stringify(o)} n=${n} element ${i}: wasm ${w}, reference ${r}`);
        }
      }
    }
  });
});

describe("RMSprop", () => {
  test("plain: three steps match the torch equations", () => {
    const p = makeParam(P0);
    runSteps(new RMSprop({ lr: 0.01 }), p, 3);
    assertClose(p.value, referenceRmsprop(3, 0.01, 0.99, 1e-8, 0, 0, false), 1e-14, "rmsprop");
  });

  test("centered, momentum and weight decay: three steps match the torch equations", () => {
    const p = makeParam(P0);
    runSteps(new RMSprop({ lr: 0.01, alpha: 0.9, eps: 1e-6, momentum: 0.8, centered: true, weightDecay: 0.05 }), p, 3);
    assertClose(p.value, referenceRmsprop(3, 0.01, 0.9, 1e-6, 0.05, 0.8, true), 1e-13, "rmsprop centered");
  });

  test("first plain step by hand: p - lr * g / (sqrt(0.01 g^2) + eps)", () => {
    const p = makeParam([0.3]);
    p.grad[0] = 2;
    new RMSprop({ lr: 0.01 }).step([p]);
    assertClose(p.value, [0.3 - (0.01 * 2) / (Math.sqrt(0.01 * 4) + 1e-8)], 1e-15, "rmsprop hand");
  });
});

describe("SGD", () => {
  test("plain step by hand", () => {
    const p = makeParam([1, -2]);
    p.grad.set([0.5, -4]);
    new SGD({ lr: 0.1 }).step([p]);
    assertClose(p.value, [0.95, -1.6], 1e-15, "sgd");
  });

  for (const [label, options] of [
    ["momentum with dampening", { lr: 0.05, momentum: 0.9, dampening: 0.3 }],
    ["nesterov with weight decay", { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.1 }],
  ] as const) {
    test(`${label}: three steps match the torch equations (first buffer = raw gradient)`, () => {
      const p = makeParam(P0);
      runSteps(new SGD(options), p, 3);
      const o = options as { lr: number; momentum: number; dampening?: number; nesterov?: boolean; weightDecay?: number };
      assertClose(p.value, referenceSgd(3, o.lr, o.momentum, o.dampening ?? 0, o.nesterov ?? false, o.weightDecay ?? 0), 1e-14, label);
    });
  }

  test("nesterov needs momentum and zero dampening", () => {
    assert.throws(() => new SGD({ lr: 0.1, nesterov: true }), /nesterov/);
    assert.throws(() => new SGD({ lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /dampening/);
  });
});

describe("learning rate, zeroGrad, factory", () => {
  test("a new lr applies from the next step; bad values are rejected", () => {
    const p = makeParam([1]);
    const opt = new SGD({ lr: 0.1 });
    p.grad[0] = 1;
    opt.step([p]);
    opt.lr = 0.01;
    opt.step([p]);
    assertClose(p.value, [1 - 0.1 - 0.01], 1e-15, "lr change");
    assert.throws(() => (opt.lr = -1), /lr/);
    assert.throws(() => (opt.lr = NaN), /lr/);
  });

  test("zeroGrad clears gradients in place", () => {
    const p = makeParam([1, 2]);
    const g = p.grad;
    g.set([3, 4]);
    new Adam({ lr: 1 }).zeroGrad([p]);
    assert.equal(p.grad, g);
    assert.deepEqual([...p.grad], [0, 0]);
  });

  test("createOptimizer builds each kind and rejects unknown names and misplaced options", () => {
    for (const kind of ["adam", "adamw", "rmsprop", "sgd"] as const) assert.equal(createOptimizer(kind, { lr: 0.1 }).kind, kind);
    assert.throws(() => createOptimizer("adagrad", { lr: 0.1 }), /unknown optimizer "adagrad".*adam, adamw, rmsprop, sgd/);
    assert.throws(() => createOptimizer("adam", { lr: 0.1, momentum: 0.9 }), /option "momentum" does not apply to "adam"/);
    assert.equal(createOptimizer("adam", { lr: 0.1, momentum: undefined }).kind, "adam");
    assert.throws(() => createOptimizer("adam", { lr: 0.1, betas: [0.9, 1] }), /betas\[1\]/);
  });

  test("step rejects mismatched value/grad lengths and duplicate names", () => {
    const opt = new Adam({ lr: 0.1 });
    assert.throws(() => opt.step([{ name: "a", value: new Float64Array(2), grad: new Float64Array(3) }]), /"a" has 2 values but a gradient of length 3/);
    assert.throws(() => opt.step([makeParam([1], Float64Array, "a"), makeParam([1], Float64Array, "a")]), /appears twice/);
  });
});

describe("state / loadState", () => {
  const builders: [string, () => Optimizer][] = [
    ["adam", () => new Adam({ lr: 0.05, weightDecay: 0.01 })],
    ["adamw", () => new AdamW({ lr: 0.05 })],
    ["rmsprop", () => new RMSprop({ lr: 0.01, momentum: 0.5, centered: true })],
    ["sgd", () => new SGD({ lr: 0.05, momentum: 0.9 })],
  ];

  for (const [kind, build] of builders) {
    for (const Ctor of [Float32Array, Float64Array]) {
      test(`${kind} (${Ctor.name}): resuming from state() continues bit-exactly, also through JSON`, () => {
        const a = makeParam(P0, Ctor);
        const optA = build();
        runSteps(optA, a, 2);
        const saved = optA.state();
        const snapshot = JSON.parse(JSON.stringify({ ...saved, buffers: Object.fromEntries(Object.entries(saved.buffers).map(([k, v]) => [k, Array.from(v)])) }));
        const resumedValues = Array.from(a.value);

        runSteps(optA, a, 3);
        // The saved state is a copy: later steps must not have changed it.
        assert.deepEqual(optA.state().step, 5);
        assert.equal(saved.step, 2);

        for (const state of [saved, snapshot]) {
          const b = makeParam(resumedValues, Ctor);
          const optB = build();
          optB.lr = 123; // overwritten by loadState
          optB.loadState(state, [b]);
          assert.equal(optB.lr, saved.lr);
          runSteps(optB, b, 3);
          assert.deepEqual(Array.from(b.value), Array.from(a.value));
          assert.equal(optB.stepCount, 5);
        }

        // A fresh optimizer without the state does not reproduce the run (so the check above means something).
        const c = makeParam(resumedValues, Ctor);
        runSteps(build(), c, 3);
        assert.notDeepEqual(Array.from(c.value), Array.from(a.value));
      });
    }
  }

  test("loadState rejects mismatched states with clear errors and leaves the optimizer unchanged", () => {
    const p = makeParam(P0);
    const opt = new Adam({ lr: 0.05 });
    runSteps(opt, p, 1);
    const saved = opt.state();
    const target = new Adam({ lr: 0.2, betas: [0.5, 0.6] });
    assert.throws(() => new SGD({ lr: 1 }).loadState(saved), /belongs to optimizer "adam", not "sgd"/);
    assert.throws(() => target.loadState(saved, [makeParam([1, 2], Float64Array, "w")]), /buffer "w\/exp_avg" has length 3 but parameter "w" has 2 values/);
    assert.throws(() => target.loadState(saved, [makeParam(P0, Float64Array, "other")]), /entry for parameter "w", which the model does not have/);
    assert.throws(() => target.loadState(saved, [p, makeParam([1], Float64Array, "extra")]), /no entry for parameter "extra"/);
    const { ["w/exp_avg_sq"]: _dropped, ...partial } = saved.buffers;
    assert.throws(() => target.loadState({ ...saved, buffers: partial }), /missing buffer "w\/exp_avg_sq"/);
    assert.throws(() => target.loadState({ ...saved, buffers: { ...saved.buffers, "w/momentum_buffer": new Float64Array(3) } }), /"w\/momentum_buffer" is not used by adam/);
    assert.throws(() => target.loadState({ ...saved, hyper: { ...saved.hyper, eps: -1 } }), /eps/);
    assert.equal(target.lr, 0.2);
    assert.deepEqual(target.state().hyper.betas, [0.5, 0.6]);
    assert.equal(target.stepCount, 0);
  });

  test("a loaded buffer whose length no longer fits the parameter fails at step time", () => {
    const opt = new SGD({ lr: 0.1, momentum: 0.9 });
    const p = makeParam([1, 2]);
    runSteps(opt, p, 1);
    const q = makeParam([1, 2, 3]);
    const resumed = new SGD({ lr: 0.1, momentum: 0.9 });
    resumed.loadState(opt.state());
    assert.throws(() => resumed.step([q]), /"w\/momentum_buffer" has length 2 but parameter "w" has 3 values/);
  });
});

describe("clipGradNorm", () => {
  test("scales all gradients by maxNorm / (norm + 1e-6) when the global norm is too large", () => {
    const a = makeParam([0, 0]);
    const b = makeParam([0]);
    a.grad.set([3, 4]);
    b.grad.set([12]);
    const norm = clipGradNorm([a, b], 6.5);
    assert.equal(norm, 13);
    const coef = 6.5 / (13 + 1e-6);
    assertClose([...a.grad, ...b.grad], [3 * coef, 4 * coef, 12 * coef], 1e-15, "clipped");
    assert.ok(Math.abs(gradNorm([a, b]) - 6.5) < 1e-5);
  });

  test("leaves gradients alone when the norm is within the limit, and returns the norm", () => {
    const a = makeParam([0, 0], Float32Array);
    a.grad.set([3, 4]);
    assert.equal(clipGradNorm([a], 5.1), 5);
    assert.deepEqual([...a.grad], [3, 4]);
    // At exactly maxNorm the epsilon makes the factor just below 1, as in torch.
    clipGradNorm([a], 5);
    assert.ok(a.grad[1] < 4 && a.grad[1] > 4 - 1e-5);
  });

  test("rejects a non-positive maxNorm", () => {
    assert.throws(() => clipGradNorm([], 0), /maxNorm/);
    assert.equal(clipGradNorm([], 1), 0);
  });
});
