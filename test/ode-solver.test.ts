/**
 * The ODE solvers (src/models/ode-solver.ts): accuracy against exact solutions of linear ODEs, observed
 * order of the fixed-step methods, dopri5's error control on smooth and stiff problems, float64
 * finite-difference checks of the gradients w.r.t. the initial state, the field's parameters, the context
 * and the elapsed times, independence from batch composition, error messages, the tape arena, and the
 * WebAssembly engine against the float64 reference.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ReferenceEngine, WasmEngine } from "../src/engine/index.js";
import type { Engine } from "../src/engine/index.js";
import { ParameterSet } from "../src/nn/parameters.js";
import { CtRnnField } from "../src/models/ct-rnn.js";
import { EngineArena, OdeSolver, type OdeSolverOptions, type SolveTape, type VectorField, resolveOdeOptions } from "../src/models/ode-solver.js";
import { TestRng } from "./helpers/gradcheck.js";
import { BreakingField, LinearField, blockMatrix, blockSolution, symmetric2, type Block } from "./helpers/ode-fields.js";

interface Problem {
  engine: Engine;
  rows: number;
  S: number;
  y0: number;
  ts: number;
  out: number;
  ctx: number;
}

/** Buffers for `rows` samples: y0 (rows x S), ts, out, and a context of width C when C > 0. */
function problem(engine: Engine, y0: number[][], ts: number[], ctx?: number[][]): Problem {
  const rows = y0.length;
  const S = y0[0].length;
  const p = { engine, rows, S, y0: engine.alloc(rows * S), ts: engine.alloc(rows), out: engine.alloc(rows * S), ctx: ctx ? engine.alloc(rows * ctx[0].length) : -1 };
  const h = engine.heap();
  y0.forEach((r, i) => h.set(r, p.y0 + i * S));
  h.set(ts, p.ts);
  if (ctx) ctx.forEach((r, i) => h.set(r, p.ctx + i * r.length));
  return p;
}

function rowsOf(e: Engine, off: number, rows: number, width: number): Float64Array[] {
  const h = e.heap();
  return Array.from({ length: rows }, (_, r) => Float64Array.from(h.subarray(off + r * width, off + (r + 1) * width)));
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

const ROTATIONS: Block[] = [{ a: 0.3, b: 2 }, { a: 0.1, b: -1 }, { a: 0.7 }];
const Y0 = [
  [1, 0, 0.5, -0.5, 2],
  [0.3, -0.8, 1, 0.2, -1],
  [-1, 1, 0, 1, 0.5],
  [0.2, 0.2, -0.7, 0.4, 1.5],
  [2, -1, 0.1, 0.1, -0.3],
];
const TS = [0, 0.37, 1, 2.3, 0.05];

/** Solves the rotation problem (5 rows, different elapsed times) and returns the worst error per row. */
function rotationErrors(options: OdeSolverOptions, ts = TS) {
  const e = new ReferenceEngine();
  const { size, matrix } = blockMatrix(ROTATIONS);
  const solver = new OdeSolver(e, new LinearField(e, size, matrix), options);
  const p = problem(e, Y0, ts);
  const { stats } = solver.solve({ rows: p.rows, y0: p.y0, ts: p.ts, yOut: p.out });
  const got = rowsOf(e, p.out, p.rows, size);
  const errors = got.map((g, r) => {
    const want = blockSolution(ROTATIONS, Y0[r], ts[r]);
    return maxAbs(g.map((v, j) => v - want[j]));
  });
  return { errors, got, stats };
}

describe("OdeSolver accuracy on linear ODEs", () => {
  test("euler, rk4 and dopri5 reach the exact solution exp(A t) y0, each row over its own elapsed time", () => {
    const euler = rotationErrors({ solver: "euler", stepSize: 1e-4, maxSteps: 30000 });
    assert.ok(maxAbs(euler.errors) < 1e-3, `euler errors ${euler.errors}`);
    const rk4 = rotationErrors({ solver: "rk4", stepSize: 0.02 });
    assert.ok(maxAbs(rk4.errors) < 1e-6, `rk4 errors ${rk4.errors}`);
    const dopri5 = rotationErrors({ solver: "dopri5", rtol: 1e-9, atol: 1e-12 });
    assert.ok(maxAbs(dopri5.errors) < 1e-8, `dopri5 errors ${dopri5.errors}`);
    // a zero elapsed time leaves the state as it is
    for (const r of [euler, rk4, dopri5]) assert.deepEqual([...r.got[0]], Y0[0]);
  });

  test("stepSize splits each elapsed time into ceil(ts / stepSize) steps; stepsPerGap into a fixed number", () => {
    // 5 rows: 1, 4 (0.37 / 0.1), 10, 23, 1 steps; float32 0.3 with stepSize 0.1 takes 3 steps
    assert.equal(rotationErrors({ solver: "euler", stepSize: 0.1 }).stats.accepted, 1 + 4 + 10 + 23 + 1);
    assert.equal(rotationErrors({ solver: "euler", stepSize: 0.1 }, [Math.fround(0.3), 0.3, 0.31, 0.7, 1e-9]).stats.accepted, 3 + 3 + 4 + 7 + 1);
    const fixed = rotationErrors({ solver: "rk4", stepsPerGap: 3 });
    assert.equal(fixed.stats.accepted, 15);
    assert.equal(fixed.stats.rejected, 0);
    assert.equal(fixed.stats.rowEvaluations, 15 * 4);
    // stepsPerGap = 1 by default
    assert.equal(rotationErrors({ solver: "euler" }).stats.accepted, 5);
  });

  test("order of accuracy: halving the step divides Euler's error by ~2 and RK4's by ~16", () => {
    const ts = [1, 1, 1, 1, 1];
    const order = (solver: "euler" | "rk4", n: number) => {
      const coarse = rotationErrors({ solver, stepsPerGap: n }, ts).errors;
      const fine = rotationErrors({ solver, stepsPerGap: 2 * n }, ts).errors;
      return coarse.map((c, r) => Math.log2(c / fine[r]));
    };
    for (const p of order("euler", 200)) assert.ok(p > 0.8 && p < 1.2, `euler observed order ${p}`);
    for (const p of order("rk4", 8)) assert.ok(p > 3.5 && p < 4.5, `rk4 observed order ${p}`);
  });

  test("dopri5 meets its tolerance on a smooth and a stiff problem, and needs more steps on the stiff one", () => {
    const e = new ReferenceEngine();
    const run = (l1: number, l2: number, rtol: number, atol: number) => {
      const sym = symmetric2(l1, l2, 0.3);
      const y0 = [[1, -0.5], [0.2, 0.9], [-1, 0.3]];
      const ts = [1.5, 0.4, 3];
      const solver = new OdeSolver(e, new LinearField(e, 2, sym.matrix), { solver: "dopri5", rtol, atol });
      const p = problem(e, y0, ts);
      const { stats } = solver.solve({ rows: 3, y0: p.y0, ts: p.ts, yOut: p.out });
      rowsOf(e, p.out, 3, 2).forEach((got, r) => {
        const want = sym.solve(y0[r], ts[r]);
        got.forEach((v, j) => {
          const bound = 10 * (atol + rtol * Math.abs(want[j]));
          assert.ok(Math.abs(v - want[j]) <= bound, `eigenvalues ${l1}, ${l2}, rtol ${rtol}: row ${r}[${j}] ${v} vs ${want[j]} (bound ${bound})`);
        });
      });
      return stats;
    };
    for (const [rtol, atol] of [[1e-3, 1e-6], [1e-6, 1e-9], [1e-9, 1e-12]]) {
      const smooth = run(-1, -2, rtol, atol);
      const stiff = run(-1, -50, rtol, atol);
      assert.ok(stiff.accepted > 2 * smooth.accepted, `rtol ${rtol}: stiff took ${stiff.accepted} steps, smooth ${smooth.accepted}`);
      // start-up: k1 = f(y0) and the initial step's probe, for every row; then 6 evaluations per trial step
      assert.equal(stiff.rowEvaluations, 2 * 3 + 6 * (stiff.accepted + stiff.rejected));
      assert.equal((stiff.evaluations - 2) % 6, 0);
    }
  });

  test("dopri5 takes more steps for tighter tolerances, counts rejections, and honours maxStep", () => {
    const loose = rotationErrors({ solver: "dopri5", rtol: 1e-3, atol: 1e-6 });
    const tight = rotationErrors({ solver: "dopri5", rtol: 1e-8, atol: 1e-10 });
    assert.ok(tight.stats.accepted > loose.stats.accepted);
    // a first step of the whole interval is rejected, then shrinks
    const big = rotationErrors({ solver: "dopri5", rtol: 1e-6, atol: 1e-9, firstStep: 10 });
    assert.ok(big.stats.rejected > 0, "a too large first step must be rejected");
    assert.ok(maxAbs(big.errors) < 1e-4);
    const capped = rotationErrors({ solver: "dopri5", maxStep: 0.01 });
    // each row takes at least ceil(ts / maxStep) steps (the zero interval one)
    assert.ok(capped.stats.accepted >= 1 + 37 + 100 + 230 + 5, `accepted ${capped.stats.accepted}`);
  });
});

/** A CT-RNN field on `engine` with seeded parameters; prepare() already called. */
function ctRnnField(engine: Engine, H: number, rng: TestRng) {
  const params = new ParameterSet(engine);
  const w = params.add("w", [H, H]);
  const tau = params.add("tau", [H]);
  const field = new CtRnnField(engine, H, w, tau);
  const h = engine.heap();
  for (let i = 0; i < H * H; i++) h[w.offsets.value + i] = Math.fround(rng.range(-1.2, 1.2));
  for (let i = 0; i < H; i++) h[tau.offsets.value + i] = Math.fround(rng.range(-1, 1.5));
  field.prepare();
  return { field, params };
}

interface GradSetup {
  engine: Engine;
  field: VectorField;
  params: ParameterSet | null;
  prepare: () => void;
  finish: () => void;
  paramGrads: () => Array<{ name: string; value: number; grad: number; size: number }>;
}

/**
 * Float64 central differences of loss = sum(W * yOut) against the solver's backward, w.r.t. y0, ctx, ts
 * and the field's parameters. dopri5's finite differences replay the accepted grid of the recorded solve
 * (the step grid is a constant of the discretise-then-optimise gradient).
 */
function checkSolverGradients(setup: GradSetup, options: OdeSolverOptions, y0: number[][], ts: number[], ctx: number[][] | undefined, rng: TestRng, tol = 1e-6) {
  const e = setup.engine;
  const S = setup.field.stateSize;
  const C = setup.field.contextSize;
  const R = y0.length;
  const solver = new OdeSolver(e, setup.field, options);
  const p = problem(e, y0, ts, ctx);
  const wOff = e.alloc(R * S);
  const dy0 = e.alloc(R * S);
  const dCtx = C > 0 ? e.alloc(R * C) : -1;
  const dts = e.alloc(R);
  const weights = Float64Array.from({ length: R * S }, () => rng.range(-1, 1));
  e.heap().set(weights, wOff);
  const arena = new EngineArena(e, 256);
  const { tape, stats } = solver.solve({ rows: R, y0: p.y0, ctx: p.ctx, ts: p.ts, yOut: p.out, tape: arena });
  for (const g of setup.paramGrads()) e.fill(g.grad, g.size, 0);
  solver.backward(tape!, { dyOut: wOff, dy0, dCtx, dts });
  setup.finish();
  const grid = options.solver === "dopri5" ? solver.acceptedSteps(tape!) : undefined;
  const loss = () => {
    setup.prepare();
    solver.solve({ rows: R, y0: p.y0, ctx: p.ctx, ts: p.ts, yOut: p.out, grid });
    const h = e.heap();
    let s = 0;
    for (let i = 0; i < R * S; i++) s += h[p.out + i] * weights[i];
    return s;
  };
  const check = (name: string, off: number, gradOff: number, n: number, eps = 1e-6) => {
    const analytic = Float64Array.from(e.heap().subarray(gradOff, gradOff + n));
    const scale = Math.max(1e-3, maxAbs(analytic));
    for (let i = 0; i < n; i++) {
      const orig = e.heap()[off + i];
      // a zero elapsed time cannot go below 0: one-sided, with a smaller step
      const oneSided = name === "ts" && orig === 0;
      const h = oneSided ? 1e-8 : eps;
      e.heap()[off + i] = orig + h;
      const lp = loss();
      e.heap()[off + i] = oneSided ? orig : orig - h;
      const lm = loss();
      e.heap()[off + i] = orig;
      const numeric = (lp - lm) / (oneSided ? h : 2 * h);
      const err = Math.abs(numeric - analytic[i]) / scale;
      assert.ok(err < tol, `${options.solver} ${name}[${i}]: analytic ${analytic[i]} vs numeric ${numeric} (relative error ${err.toExponential(2)})`);
    }
  };
  check("y0", p.y0, dy0, R * S);
  if (C > 0) check("ctx", p.ctx, dCtx, R * C);
  check("ts", p.ts, dts, R);
  for (const g of setup.paramGrads()) check(g.name, g.value, g.grad, g.size);
  setup.prepare();
  return { stats, tape: tape! };
}

function ctRnnSetup(H: number, seed: number): GradSetup {
  const engine = new ReferenceEngine();
  const { field, params } = ctRnnField(engine, H, new TestRng(seed));
  return {
    engine,
    field,
    params,
    prepare: () => field.prepare(),
    finish: () => field.finishBackward(),
    paramGrads: () => params.entries().map((p) => ({ name: p.name, value: p.offsets.value, grad: p.offsets.grad, size: p.size })),
  };
}

describe("OdeSolver gradients (float64 finite differences)", () => {
  const H = 3;
  const rng = new TestRng(7);
  const y0 = Array.from({ length: 4 }, () => Array.from({ length: H }, () => rng.range(-1, 1)));
  const ctx = Array.from({ length: 4 }, () => Array.from({ length: H }, () => rng.range(-1, 1)));
  // different elapsed times, none a multiple of a step size: rows finish at different passes (the batch
  // shrinks), one is zero
  const ts = [0.93, 0.23, 0, 1.7];

  for (const options of [
    { solver: "euler", stepSize: 0.15 },
    { solver: "euler", stepsPerGap: 3 },
    { solver: "rk4", stepSize: 0.3 },
    { solver: "rk4", stepsPerGap: 2 },
  ] as OdeSolverOptions[]) {
    test(`${options.solver} ${JSON.stringify(options)}: y0, ctx, ts, W and tau`, () => {
      checkSolverGradients(ctRnnSetup(H, 3), options, y0, ts, ctx, new TestRng(5));
    });
  }

  test("dopri5 with rejected trial steps: y0, ctx, ts, W and tau (finite differences replay the accepted grid)", () => {
    const { stats, tape } = checkSolverGradients(ctRnnSetup(H, 4), { solver: "dopri5", rtol: 1e-5, atol: 1e-7, firstStep: 2 }, y0, ts, ctx, new TestRng(6));
    assert.ok(stats.rejected > 0, "the check must cover passes with rejected rows");
    assert.ok(stats.accepted > 2 * 4, `several steps per row (accepted ${stats.accepted})`);
    assert.ok(tape.steps.length > 4);
  });

  test("dopri5 on a linear field: gradients w.r.t. the matrix, and d/dts approaches A exp(A ts) y0", () => {
    const engine = new ReferenceEngine();
    const { size, matrix } = blockMatrix(ROTATIONS);
    const field = new LinearField(engine, size, matrix, true);
    const setup: GradSetup = {
      engine,
      field,
      params: null,
      prepare: () => {},
      finish: () => {},
      paramGrads: () => [{ name: "A", value: field.a, grad: field.da, size: size * size }],
    };
    const c = Y0.map((r) => r.map((v) => 0 * v));
    checkSolverGradients(setup, { solver: "dopri5", rtol: 1e-4, atol: 1e-7 }, Y0.slice(1, 4), TS.slice(1, 4), c.slice(1, 4), new TestRng(9));
    // with a tight tolerance the stretched-grid derivative is the exact one, d y(ts) / d ts = A y(ts)
    const solver = new OdeSolver(engine, field, { solver: "dopri5", rtol: 1e-10, atol: 1e-12 });
    const p = problem(engine, Y0, TS, c);
    const arena = new EngineArena(engine);
    const { tape } = solver.solve({ rows: 5, y0: p.y0, ctx: p.ctx, ts: p.ts, yOut: p.out, tape: arena });
    for (let r = 0; r < 5; r++) {
      const dyOut = engine.alloc(5 * size);
      const dy0 = engine.alloc(5 * size);
      const dts = engine.alloc(5);
      const wRow = Float64Array.from({ length: size }, (_, j) => j + 1);
      engine.heap().set(wRow, dyOut + r * size);
      solver.backward(tape!, { dyOut, dy0, dts });
      const yt = blockSolution(ROTATIONS, Y0[r], TS[r]);
      let want = 0;
      for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) want += wRow[i] * matrix[i * size + j] * yt[j];
      assert.ok(Math.abs(engine.heap()[dts + r] - want) < 1e-7, `row ${r}: d/dts ${engine.heap()[dts + r]} vs ${want}`);
      for (let q = 0; q < 5; q++) if (q !== r) assert.equal(engine.heap()[dts + q], 0, "other rows get no gradient");
    }
  });
});

describe("OdeSolver batches", () => {
  test("every sample gets the same bits alone as in any batch (values and gradients), for every solver", () => {
    const H = 4;
    const rng = new TestRng(21);
    const R = 6;
    const y0 = Array.from({ length: R }, () => Array.from({ length: H }, () => rng.range(-1, 1)));
    const ctx = Array.from({ length: R }, () => Array.from({ length: H }, () => rng.range(-1, 1)));
    const ts = [0.4, 2.5, 0, 1.1, 0.05, 3.2];
    for (const options of [{ solver: "euler", stepSize: 0.1 }, { solver: "rk4", stepSize: 0.25 }, { solver: "dopri5", rtol: 1e-6, atol: 1e-8 }] as OdeSolverOptions[]) {
      const run = (rows: number[]) => {
        const engine = new ReferenceEngine();
        const { field } = ctRnnField(engine, H, new TestRng(3));
        const solver = new OdeSolver(engine, field, options);
        const p = problem(engine, rows.map((r) => y0[r]), rows.map((r) => ts[r]), rows.map((r) => ctx[r]));
        const arena = new EngineArena(engine);
        const { tape, stats } = solver.solve({ rows: rows.length, y0: p.y0, ctx: p.ctx, ts: p.ts, yOut: p.out, tape: arena });
        const dyOut = engine.alloc(rows.length * H);
        engine.heap().set(rows.flatMap((r) => [r + 1, -r, 0.5, 1]), dyOut);
        const dy0 = engine.alloc(rows.length * H);
        const dCtx = engine.alloc(rows.length * H);
        const dts = engine.alloc(rows.length);
        solver.backward(tape!, { dyOut, dy0, dCtx, dts });
        return {
          y: rowsOf(engine, p.out, rows.length, H),
          dy0: rowsOf(engine, dy0, rows.length, H),
          dCtx: rowsOf(engine, dCtx, rows.length, H),
          dts: rowsOf(engine, dts, rows.length, 1),
          stats,
        };
      };
      const order = [3, 0, 5, 2, 4, 1];
      const batch = run(order);
      let accepted = 0;
      order.forEach((r, i) => {
        const alone = run([r]);
        accepted += alone.stats.accepted;
        for (const key of ["y", "dy0", "dCtx", "dts"] as const) {
          assert.deepEqual([...batch[key][i]], [...alone[key][0]], `${options.solver}: ${key} of sample ${r}`);
        }
      });
      assert.equal(batch.stats.accepted, accepted, `${options.solver}: the batch takes the steps of its samples`);
      assert.ok(batch.stats.rowEvaluations < batch.stats.evaluations * R, `${options.solver}: finished samples leave the batch`);
    }
  });

  test("the tape arena is reused after reset, and forgets memory the engine released", () => {
    const e = new ReferenceEngine();
    const { field } = ctRnnField(e, 3, new TestRng(1));
    const solver = new OdeSolver(e, field, { solver: "dopri5" });
    const p = problem(e, [[0.1, 0.2, 0.3], [1, -1, 0]], [1, 4]);
    const ctx = e.alloc(6);
    const arena = new EngineArena(e, 64);
    const solve = () => solver.solve({ rows: 2, y0: p.y0, ctx, ts: p.ts, yOut: p.out, tape: arena });
    solve();
    const held = arena.capacity();
    assert.ok(held > 0);
    arena.reset();
    solve();
    assert.equal(arena.capacity(), held, "a reset arena reuses its chunks");
    const mark = e.mark();
    arena.reset();
    arena.alloc(held + 1); // a new chunk above the mark
    e.release(mark);
    arena.forgetFrom(mark);
    assert.equal(arena.capacity(), held);
  });
});

describe("OdeSolver errors", () => {
  const e = new ReferenceEngine();
  const { size, matrix } = blockMatrix(ROTATIONS);
  const linear = new LinearField(e, size, matrix);

  test("maxSteps names the sample, the observation, the time reached and the step size", () => {
    const p = problem(e, Y0, TS);
    const solver = new OdeSolver(e, linear, { solver: "dopri5", rtol: 1e-10, atol: 1e-12, maxSteps: 20 });
    assert.throws(() => solver.solve({ rows: 5, y0: p.y0, ts: p.ts, yOut: p.out, observation: 7 }),
      /OdeSolver\(dopri5\): sample 3 at observation 7 took maxSteps = 20 steps and reached t = [0-9.e-]+ of 2\.3 with step size [0-9.e-]+$/);
    const fixed = new OdeSolver(e, linear, { solver: "rk4", stepSize: 0.01, maxSteps: 100 });
    assert.throws(() => fixed.solve({ rows: 5, y0: p.y0, ts: p.ts, yOut: p.out }), /OdeSolver\(rk4\): sample 3 needs 230 steps of at most 0\.01 over its elapsed time 2\.3, more than maxSteps = 100$/);
  });

  test("a non-finite state is an error naming the sample, the observation and the step", () => {
    const breaking = new BreakingField(e, 2, 1);
    const p = problem(e, [[0.1, 0.2], [0.5, 0.9], [0.2, 0.1]], [0.5, 1, 0.3]);
    // Euler takes y = 0.9 to 0.99, then 1.089, where the derivative is NaN: the third step is non-finite
    const euler = new OdeSolver(e, breaking, { solver: "euler", stepSize: 0.1 });
    assert.throws(() => euler.solve({ rows: 3, y0: p.y0, ts: p.ts, yOut: p.out, observation: 4 }),
      /OdeSolver\(euler\): non-finite state for sample 1 at observation 4 at step 3 of 10 \(t = 0\.3[0-9]* of 1\)/);
    // dopri5 rejects the trial steps past t = ln(1 / 0.9) and closes in on it until the step underflows
    const dopri5 = new OdeSolver(e, breaking, { solver: "dopri5" });
    assert.throws(() => dopri5.solve({ rows: 3, y0: p.y0, ts: p.ts, yOut: p.out, observation: 4 }),
      /OdeSolver\(dopri5\): sample 1 at observation 4: step size underflow at t = 0\.1053[0-9]* of 1 \(step [0-9.e-]+; the trial step produced non-finite values\)$/);
    const capped = new OdeSolver(e, breaking, { solver: "dopri5", maxSteps: 30 });
    assert.throws(() => capped.solve({ rows: 3, y0: p.y0, ts: p.ts, yOut: p.out, observation: 4 }),
      /OdeSolver\(dopri5\): sample 1 at observation 4 took maxSteps = 30 steps .* \([0-9]+ trial steps produced non-finite values\)$/);
    const floor = new OdeSolver(e, breaking, { solver: "dopri5", minStep: 1e-3 });
    assert.throws(() => floor.solve({ rows: 3, y0: p.y0, ts: p.ts, yOut: p.out }),
      /OdeSolver\(dopri5\): sample 1: step rejected at minStep = 0\.001 \(t = 0\.10[0-9]* of 1, the trial step produced non-finite values\)$/);
    const bad = problem(e, [[0.1, Number.NaN]], [1]);
    assert.throws(() => euler.solve({ rows: 1, y0: bad.y0, ts: bad.ts, yOut: bad.out, observation: 2 }), /the initial state of sample 0 at observation 2 is not finite/);
    const badTs = problem(e, [[0.1, 0.1], [0.1, 0.1]], [1, -0.5]);
    assert.throws(() => euler.solve({ rows: 2, y0: badTs.y0, ts: badTs.ts, yOut: badTs.out }), /the elapsed time of sample 1 must be finite and >= 0, got -0\.5/);
  });

  test("options: unknown names, options of the other kind of solver, ranges", () => {
    assert.throws(() => resolveOdeOptions({ solver: "rk45" as never }), /unknown solver 'rk45', expected one of euler, rk4, dopri5/);
    assert.throws(() => resolveOdeOptions({ stepsize: 1 } as never), /unknown solver option 'stepsize'/);
    assert.throws(() => resolveOdeOptions({ solver: "euler", rtol: 1e-3 }), /rtol applies to the adaptive solver dopri5, not to euler/);
    assert.throws(() => resolveOdeOptions({ solver: "dopri5", stepSize: 0.1 }), /stepSize applies to the fixed-step solvers/);
    assert.throws(() => resolveOdeOptions({ solver: "rk4", stepSize: 0.1, stepsPerGap: 2 }), /give stepSize or stepsPerGap, not both/);
    assert.throws(() => resolveOdeOptions({ solver: "rk4", stepsPerGap: 1.5 }), /stepsPerGap must be a positive integer, got 1.5/);
    assert.throws(() => resolveOdeOptions({ atol: 0 }), /atol must be a finite number > 0, got 0/);
    assert.throws(() => resolveOdeOptions({ minStep: 1, maxStep: 0.5 }), /minStep \(1\) must not exceed maxStep \(0.5\)/);
    assert.deepEqual(resolveOdeOptions(), { solver: "dopri5", rtol: 1e-3, atol: 1e-6, safety: 0.9, minFactor: 0.2, maxFactor: 10, minStep: 0, maxStep: Infinity, maxSteps: 10000 });
    assert.deepEqual(resolveOdeOptions({ solver: "euler" }), { solver: "euler", stepsPerGap: 1, maxSteps: 10000 });
  });
});

describe("OdeSolver on the WebAssembly engine", () => {
  test("float32 results and gradients agree with the float64 reference", () => {
    const H = 6;
    const R = 5;
    const rng = new TestRng(31);
    const y0 = Array.from({ length: R }, () => Array.from({ length: H }, () => Math.fround(rng.range(-1, 1))));
    const ctx = Array.from({ length: R }, () => Array.from({ length: H }, () => Math.fround(rng.range(-1, 1))));
    const ts = [0.7, 1.9, 0, 0.25, 1.25];
    for (const [options, tol] of [[{ solver: "euler", stepSize: 0.1 }, 1e-4], [{ solver: "rk4", stepSize: 0.25 }, 1e-4], [{ solver: "dopri5", rtol: 1e-5, atol: 1e-7 }, 1e-3]] as Array<[OdeSolverOptions, number]>) {
      const results = [new ReferenceEngine(), new WasmEngine()].map((engine) => {
        const { field, params } = ctRnnField(engine, H, new TestRng(8));
        const solver = new OdeSolver(engine, field, options);
        const p = problem(engine, y0, ts, ctx);
        const arena = new EngineArena(engine);
        const { tape } = solver.solve({ rows: R, y0: p.y0, ctx: p.ctx, ts: p.ts, yOut: p.out, tape: arena });
        const dyOut = engine.alloc(R * H);
        engine.heap().set(Array.from({ length: R * H }, (_, i) => Math.fround(Math.sin(i))), dyOut);
        const dy0 = engine.alloc(R * H);
        const dCtx = engine.alloc(R * H);
        const dts = engine.alloc(R);
        solver.backward(tape!, { dyOut, dy0, dCtx, dts });
        field.finishBackward();
        const h = engine.heap();
        const grab = (off: number, n: number) => Float64Array.from(h.subarray(off, off + n));
        return {
          y: grab(p.out, R * H), dy0: grab(dy0, R * H), dCtx: grab(dCtx, R * H), dts: grab(dts, R),
          w: Float64Array.from(params.grad("w")), tau: Float64Array.from(params.grad("tau")),
        };
      });
      const [ref, wasm] = results;
      for (const key of ["y", "dy0", "dCtx", "dts", "w", "tau"] as const) {
        const scale = Math.max(1e-3, maxAbs(ref[key]));
        ref[key].forEach((v, i) => {
          assert.ok(Math.abs(wasm[key][i] - v) <= tol * scale, `${options.solver} ${key}[${i}]: wasm ${wasm[key][i]} vs reference ${v}`);
        });
      }
    }
  });
});

export type { SolveTape };
