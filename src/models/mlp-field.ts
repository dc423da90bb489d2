/**
 * The neural-ODE vector field of the ODE-RNN and ODE-LSTM baselines: a one-hidden-layer perceptron
 * f(h) = W2 tanh(W1 h + b1) + b2, with W1 [units, S] and W2 [S, units], as the ODE-LSTM paper code's
 * `f_node = nn.Sequential(nn.Linear(S, units), nn.Tanh(), nn.Linear(units, S))` (hence the parameter
 * names `${prefix}0.weight`, `0.bias`, `2.weight`, `2.bias`). Autonomous: no context. Both layers are
 * nn/linear.ts layers with torch's default init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 *
 * An evaluation records its hidden pre-activation z = W1 h + b1 (units per row); backward recomputes
 * tanh(z) from it, so the solver's tape holds one hidden layer's width per stage and row.
 */
import { Act, type Engine } from "../engine/engine.js";
import { linearDefault } from "../nn/init.js";
import { type Linear, addLinear, linearBackwardInput, linearBackwardWeights, linearForward, linearPrepare } from "../nn/linear.js";
import type { ParameterSet } from "../nn/parameters.js";
import type { Rng } from "../nn/rng.js";
import type { VectorField } from "./ode-solver.js";

export class MlpField implements VectorField {
  readonly contextSize = 0;
  /** the hidden pre-activation z of each evaluation */
  readonly recordSize: number;
  /** forward: z (without a record) and tanh(z); backward: tanh(z), dz, and a transposition block */
  readonly scratchSize: number;
  readonly hiddenLayer: Linear;
  readonly outputLayer: Linear;

  /**
   * Registers `${prefix}0.weight` [units, stateSize], `0.bias`, `2.weight` [stateSize, units], `2.bias`
   * and draws their initial values from `rng` in that order.
   */
  constructor(readonly engine: Engine, params: ParameterSet, prefix: string, readonly stateSize: number, readonly units: number, rng: Rng) {
    for (const [name, v] of [["stateSize", stateSize], ["units", units]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`MlpField: ${name} must be a positive integer, got ${String(v)}`);
    }
    this.hiddenLayer = addLinear(params, `${prefix}0`, stateSize, units, true);
    this.outputLayer = addLinear(params, `${prefix}2`, units, stateSize, true);
    const heap = engine.heap();
    for (const layer of [this.hiddenLayer, this.outputLayer]) {
      const w = new Float64Array(layer.outFeatures * layer.inFeatures);
      linearDefault(w, layer.inFeatures, rng);
      const b = new Float64Array(layer.outFeatures);
      linearDefault(b, layer.inFeatures, rng);
      heap.set(w, layer.weight.value);
      heap.set(b, layer.bias!.value);
    }
    this.recordSize = units;
    this.scratchSize = 2 * units + Math.max(units, stateSize);
  }

  /** Refreshes the layers' transposed weights (after any change of the weights, before solving). */
  prepare(): void {
    linearPrepare(this.engine, this.hiddenLayer);
    linearPrepare(this.engine, this.outputLayer);
  }

  forward(rows: number, y: number, ldy: number, _ctx: number, _ldCtx: number, dydt: number, ldDydt: number, record: number, scratch: number): void {
    const U = this.units;
    const act = scratch;
    const z = record >= 0 ? record : scratch + rows * U;
    linearForward(this.engine, this.hiddenLayer, rows, y, ldy, z, U, Act.tanh, act, U);
    linearForward(this.engine, this.outputLayer, rows, act, U, dydt, ldDydt);
  }

  backward(rows: number, y: number, ldy: number, _ctx: number, _ldCtx: number, record: number, g: number, ldG: number, dy: number, ldDy: number, _dCtx: number, _ldDCtx: number, scratch: number): void {
    const e = this.engine;
    const U = this.units;
    const act = scratch;
    const dz = scratch + rows * U;
    const transposed = scratch + 2 * rows * U;
    // tanh(z) again from the recorded z (bias -1: z itself is left as it is)
    e.biasAct(rows, U, Act.tanh, record, U, -1, act, U);
    linearBackwardInput(e, this.outputLayer, rows, g, ldG, dz, U, false);
    e.actBackward(rows, U, Act.tanh, record, U, dz, U, dz, U);
    linearBackwardInput(e, this.hiddenLayer, rows, dz, U, dy, ldDy, true);
    linearBackwardWeights(e, this.outputLayer, rows, g, ldG, act, U, transposed);
    linearBackwardWeights(e, this.hiddenLayer, rows, dz, U, y, ldy, transposed);
  }
}
