/**
 * For the tests of the ODE models (ODE-RNN, ODE-LSTM): the MLP vector field and the fixed-step solvers
 * written out in plain float64 JavaScript from their equations (no engine, no library kernel), and a
 * wrapper that makes a model's dopri5 solves replay the accepted grids of one recorded pass.
 */
import type { OdeSolver, SolveRequest } from "../../src/models/ode-solver.js";
import type { Tensor } from "../../src/tensor.js";

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
