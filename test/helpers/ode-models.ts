/**
 * For the tests of the ODE models (CT-RNN, GRU-ODE, ODE-RNN, ODE-LSTM): the MLP vector field and the
 * fixed-step solvers written out in plain float64 JavaScript from their equations (no engine, no library
 * kernel), a wrapper that makes a model's dopri5 solves replay the accepted grids of one recorded pass,
 * and the checks every ODE model passes (batch independence, streaming, WebAssembly against the
 * reference, finite differences with elapsed times off the step grid).
 */
import assert from "node:assert/strict";
import type { OdeSolver, SolveRequest } from "../../src/models/ode-solver.js";
import type { RecurrentModel } from "../../src/models/recurrent.js";
import type { Tensor } from "../../src/tensor.js";
import { type RandomInputsSpec, type TestRng, gradCheck, randomInputs } from "./gradcheck.js";

/** y = W v + b for W [rows, cols] row-major. */
export function affine(w: ArrayLike<number>, rows: number, cols: number, v: ArrayLike<number>, b: ArrayLike<number> | null): number[] {
  const out: number[] = [];
  for (let i = 0; i < rows; i++) {
    let s = b ? b[i] : 0;
    for (let k = 0; k < cols; k++) s += w[i * cols + k] * v[k];
    out.push(s);
  }
  return out;
}

export const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** f(h) = W2 tanh(W1 h + b1) + b2 from the state_dict tensors `${prefix}0.weight` ... `${prefix}2.bias`. */
export function mlpField(sd: Map<string, Tensor>, prefix: string): (h: number[]) => number[] {
  const w1 = sd.get(`${prefix}0.weight`)!;
  const b1 = sd.get(`${prefix}0.bias`)!.data;
  const w2 = sd.get(`${prefix}2.weight`)!;
  const b2 = sd.get(`${prefix}2.bias`)!.data;
  const [U, S] = w1.shape;
  return (h) => affine(w2.data, S, U, affine(w1.data, U, S, h, b1).map(Math.tanh), b2);
}

const axpy = (y: number[], a: number, x: number[]) => y.map((v, i) => v + a * x[i]);

/** n equal steps of the classic Runge-Kutta method (or Euler's) over the elapsed time t. */
export function integrate(f: (h: number[]) => number[], h0: number[], t: number, n: number, method: "euler" | "rk4"): number[] {
  const dt = t / n;
  let h = h0.slice();
  for (let s = 0; s < n; s++) {
    if (method === "euler") {
      h = axpy(h, dt, f(h));
      continue;
    }
    const k1 = f(h);
    const k2 = f(axpy(h, dt / 2, k1));
    const k3 = f(axpy(h, dt / 2, k2));
    const k4 = f(axpy(h, dt, k3));
    h = h.map((v, i) => v + (dt / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]));
  }
  return h;
}

/**
 * Runs `record` (one forward pass with grad) with the solver's step control, keeping each observation's
 * accepted steps, then makes every later solve of `model.solver` replay them (OdeSolver's `grid`): the
 * model's output becomes a smooth function of its inputs and weights with the step grid held fixed, the
 * function whose derivative the discretise-then-optimise backward computes. Returns the undo.
 */
export function replayAcceptedGrids(model: { solver: OdeSolver }, record: () => void): () => void {
  const solver = model.solver;
  const controlled = solver.solve.bind(solver);
  const grids: Float64Array[][] = [];
  const observationOf = (req: SolveRequest) => {
    if (req.observation === undefined) throw new Error("replayAcceptedGrids: the model's solves must name their observation");
    return req.observation;
  };
  solver.solve = (req) => {
    const result = controlled(req);
    if (!result.tape) throw new Error("replayAcceptedGrids: the recording pass must keep its tape (grad)");
    grids[observationOf(req)] = solver.acceptedSteps(result.tape);
    return result;
  };
  record();
  solver.solve = (req) => controlled({ ...req, grid: grids[observationOf(req)] });
  return () => {
    solver.solve = controlled;
  };
}

/** Moves weights off their initialisation so that the checks see generic values. */
export function perturbWeights(model: RecurrentModel, rng: TestRng, amount: number): void {
  for (const p of model.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] += rng.range(-amount, amount);
}

/** `a` and `b` give the same outputs within tol for 3 samples of 4 steps (2 inputs, elapsed times up to 2.5). */
export function assertOutputsAgree(a: RecurrentModel, b: RecurrentModel, rng: TestRng, tol: number): { timespans: Tensor } {
  const x = rng.tensor([3, 4, 2]);
  const timespans = rng.tensor([3, 4], 0, 2.5);
  const ya = a.forward(x, { timespans }).output.data;
  const yb = b.forward(x, { timespans }).output.data;
  for (let i = 0; i < ya.length; i++) assert.ok(Math.abs(ya[i] - yb[i]) < tol, `${i}: ${ya[i]} vs ${yb[i]}`);
  return { timespans };
}

/**
 * Each of 4 samples (3 steps of 2 inputs, per-sample elapsed times; `zeroTimes` of them set to 0) run
 * alone gets the same bits as in the batch. The model's output size must be 3.
 */
export function assertSamplesAloneMatchBatch(model: RecurrentModel, rng: TestRng, label: string, zeroTimes: number[] = []): void {
  const B = 4;
  const L = 3;
  const x = rng.tensor([B, L, 2]);
  const ts = rng.tensor([B, L], 0, 3);
  for (const i of zeroTimes) ts.data[i] = 0;
  const batch = Float64Array.from(model.forward(x, { timespans: ts }).output.data);
  for (let s = 0; s < B; s++) {
    const xs: Tensor = { shape: [1, L, 2], data: x.data.slice(s * L * 2, (s + 1) * L * 2) };
    const tss: Tensor = { shape: [1, L], data: ts.data.slice(s * L, (s + 1) * L) };
    const alone = model.forward(xs, { timespans: tss }).output.data;
    assert.deepEqual([...alone], [...batch.subarray(s * L * 3, (s + 1) * L * 3)], `${label}: sample ${s}`);
  }
}

/**
 * Streaming 5 observations (2 inputs) one at a time gives the sequence's outputs (output size 2); returns
 * the sequence's prediction and the stream for further checks.
 */
export function assertStreamMatchesSequence(model: RecurrentModel, rng: TestRng): { whole: ReturnType<RecurrentModel["predict"]>; stream: ReturnType<RecurrentModel["stream"]> } {
  const L = 5;
  const x = rng.tensor([1, L, 2]);
  const timespans = rng.tensor([1, L], 0, 2);
  const whole = model.predict(x, { timespans });
  const stream = model.stream();
  for (let t = 0; t < L; t++) {
    const out = stream.step(x.data.subarray(t * 2, t * 2 + 2), timespans.data[t]);
    assert.deepEqual([...out], [...whole.output.data.subarray(t * 2, t * 2 + 2)], `step ${t}`);
  }
  return { whole, stream };
}

/**
 * For each [solver options, tolerance]: a WebAssembly model (3 inputs, projection to 2) loaded with a
 * perturbed reference model's weights agrees with it within tolerance x the largest magnitude, in the
 * outputs and every gradient (the initial state's with `hx`).
 */
export function assertWasmAgreesWithReference<O extends object>(make: (options: O) => RecurrentModel, rng: TestRng, cases: Array<[O, number]>, perturb: (model: RecurrentModel) => void, { hx }: { hx: boolean }): void {
  for (const [options, tol] of cases) {
    const ref = make({ ...options, backend: "reference", seed: 4, projSize: 2 });
    perturb(ref);
    const wasm = make({ ...options, backend: "wasm", projSize: 2 });
    wasm.loadStateDict(ref.stateDict());
    const x = rng.tensor([2, 5, 3]);
    const timespans = rng.tensor([2, 5], 0.1, 2);
    const a = ref.forward(x, { timespans });
    const b = wasm.forward(x, { timespans });
    const w = rng.tensor([...a.output.shape]);
    ref.zeroGrad();
    wasm.zeroGrad();
    const ga = ref.backward(w);
    const gb = wasm.backward(w);
    const solver = (options as { solver?: string }).solver;
    const close = (name: string, u: ArrayLike<number>, v: ArrayLike<number>) => {
      let scale = 1e-3;
      for (let i = 0; i < u.length; i++) scale = Math.max(scale, Math.abs(u[i]));
      for (let i = 0; i < u.length; i++) assert.ok(Math.abs(u[i] - v[i]) <= tol * scale, `${solver} ${name}[${i}]: ${v[i]} vs reference ${u[i]}`);
    };
    close("output", a.output.data, b.output.data);
    close("d input", ga.input.data, gb.input.data);
    if (hx) close("d hx", ga.hx.h.data, gb.hx.h.data);
    close("d timespans", ga.timespans!.data, gb.timespans!.data);
    for (const p of ref.parameters()) close(`d ${p.name}`, p.grad, wasm.params.grad(p.name));
  }
}

/**
 * Finite-difference check of random inputs (3 inputs, 3 steps, an initial state) whose elapsed times,
 * 0.26 + spacing * i, stay off multiples of the step size, where the step count jumps.
 */
export function gradCheckOffGrid(model: RecurrentModel, rng: TestRng, spec: Pick<RandomInputsSpec, "batch" | "ts">, spacing: number, gc?: { eps: number; tol: number }): void {
  const inputs = randomInputs(model, { input: 3, batch: spec.batch, steps: 3, ts: spec.ts, hx: true }, rng);
  if (inputs.timespans) for (let i = 0; i < inputs.timespans.data.length; i++) inputs.timespans.data[i] = 0.25 + spacing * i + 0.01;
  gradCheck(model, inputs, rng, gc);
}

/**
 * dopri5 whose first step is too long for its tolerance (so it rejects trial steps): replaying the
 * accepted grid reproduces the controlled solve, and the backward matches finite differences of the
 * replayed computation (3 inputs, batch 3, 3 steps).
 */
export function assertReplayedDopri5GradCheck(model: RecurrentModel & { solver: OdeSolver }, rng: TestRng): void {
  const inputs = randomInputs(model, { input: 3, batch: 3, steps: 3, ts: "per_sample", hx: true }, rng);
  const controlled = Float64Array.from(model.forward(inputs.x, { hx: inputs.hx, timespans: inputs.timespans }).output.data);
  model.solver.resetStats();
  const restore = replayAcceptedGrids(model, () => model.forward(inputs.x, { hx: inputs.hx, timespans: inputs.timespans }));
  try {
    assert.ok(model.solver.stats.rejected > 0, "the check must cover rejected trial steps");
    const replayed = model.forward(inputs.x, { hx: inputs.hx, timespans: inputs.timespans, grad: false }).output.data;
    assert.deepEqual([...replayed], [...controlled], "replaying the accepted grid is the controlled solve's computation");
    gradCheck(model, inputs, rng);
  } finally {
    restore();
  }
}
