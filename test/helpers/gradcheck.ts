/**
 * Float64 central finite-difference checks of a recurrent model's backward pass: parameters, input,
 * initial state and timespans, for loss = sum(output * W) with a random W.
 */
import assert from "node:assert/strict";
import type { RecurrentModel } from "../../src/models/recurrent.js";
import type { Tensor } from "../../src/tensor.js";

export class TestRng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    // xorshift32, enough for test data
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return x / 4294967296;
  }
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  tensor(shape: number[], lo = -1, hi = 1): Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) d[i] = this.range(lo, hi);
    return { shape, data: d };
  }
}

export interface GradCheckInputs {
  x: Tensor;
  hx?: { h: Tensor; c?: Tensor };
  timespans?: Tensor;
}

function lossOf(model: RecurrentModel, inp: GradCheckInputs, w: Float64Array): number {
  const { output } = model.forward(inp.x, { hx: inp.hx ?? null, timespans: inp.timespans, grad: false });
  let s = 0;
  for (let i = 0; i < w.length; i++) s += output.data[i] * w[i];
  return s;
}

/** Picks up to `max` indices spread over [0, n). */
function sample(n: number, max: number, rng: TestRng): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const set = new Set<number>();
  while (set.size < max) set.add(Math.floor(rng.next() * n));
  return [...set];
}

export function gradCheck(model: RecurrentModel, inp: GradCheckInputs, rng: TestRng, options: { eps?: number; tol?: number; perTensor?: number } = {}): void {
  const eps = options.eps ?? 1e-6;
  const tol = options.tol ?? 1e-6;
  const perTensor = options.perTensor ?? 25;
  const fwd = model.forward(inp.x, { hx: inp.hx ?? null, timespans: inp.timespans });
  const w = new Float64Array(fwd.output.data.length);
  for (let i = 0; i < w.length; i++) w[i] = rng.range(-1, 1);
  model.zeroGrad();
  const back = model.backward({ shape: fwd.output.shape, data: w });

  const checkArray = (name: string, values: { get(): Float64Array }, analytic: ArrayLike<number>) => {
    const idx = sample(analytic.length, perTensor, rng);
    let scale = 1e-3;
    for (let i = 0; i < analytic.length; i++) scale = Math.max(scale, Math.abs(analytic[i]));
    for (const i of idx) {
      const v = values.get();
      const orig = v[i];
      v[i] = orig + eps;
      const lp = lossOf(model, inp, w);
      values.get()[i] = orig - eps;
      const lm = lossOf(model, inp, w);
      values.get()[i] = orig;
      const numeric = (lp - lm) / (2 * eps);
      const err = Math.abs(numeric - analytic[i]) / scale;
      assert.ok(err < tol, `${name}[${i}]: analytic ${analytic[i]} vs numeric ${numeric} (relative error ${err.toExponential(2)})`);
    }
  };

  for (const p of model.params.entries()) {
    if (p.offsets.grad < 0) continue;
    const analytic = Float64Array.from(model.params.grad(p.name));
    checkArray(p.name, { get: () => model.params.value(p.name) as Float64Array }, analytic);
  }
  checkArray("input", { get: () => inp.x.data as Float64Array }, back.input.data);
  if (inp.hx) {
    checkArray("hx.h", { get: () => inp.hx!.h.data as Float64Array }, back.hx.h.data);
    if (inp.hx.c) checkArray("hx.c", { get: () => inp.hx!.c!.data as Float64Array }, back.hx.c!.data);
  }
  if (inp.timespans) {
    assert.ok(back.timespans, "a timespans gradient is returned when timespans are given");
    checkArray("timespans", { get: () => inp.timespans!.data as Float64Array }, back.timespans.data);
  }
}

export interface RandomInputsSpec {
  input: number;
  /** null = unbatched */
  batch: number | null;
  steps: number;
  ts?: "per_sample" | "shared" | "none";
  hx?: boolean;
}

/** Random input, initial state and elapsed times for a model, in the model's own layout. */
export function randomInputs(model: RecurrentModel, c: RandomInputsSpec, rng: TestRng): GradCheckInputs {
  const L = c.steps;
  const B = c.batch;
  const bf = model.batchFirst;
  const x = B === null ? rng.tensor([L, c.input]) : bf ? rng.tensor([B, L, c.input]) : rng.tensor([L, B, c.input]);
  const S = model.stateSize;
  const stateShape = B === null ? [S] : [B, S];
  const hx = c.hx ? { h: rng.tensor(stateShape, -0.5, 0.5), c: model.mixedMemory ? rng.tensor(stateShape, -0.5, 0.5) : undefined } : undefined;
  let timespans: Tensor | undefined;
  if (c.ts === "per_sample" && B !== null) timespans = rng.tensor(bf ? [B, L] : [L, B], 0.2, 2);
  else if (c.ts === "shared" || c.ts === "per_sample") timespans = rng.tensor([L], 0.2, 2);
  return { x, hx, timespans };
}
