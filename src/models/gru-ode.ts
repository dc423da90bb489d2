/**
 * GRU-ODE (De Brouwer et al. 2019, GRU-ODE-Bayes; a baseline of Lechner & Hasani 2020, ODE-LSTM) on the
 * ODE solvers of ode-solver.ts. Between observations the state follows the GRU's continuous form
 *   dh/dt = (1 - z) * (g - h),  r = sigmoid(W_r h + b_r),  z = sigmoid(W_z h + b_z),  g = tanh(W_g (r * h) + b_g)
 * with no input; at an observation the state jumps by a discrete GRU update h = GRUCell(x, h) (torch's
 * nn.GRUCell). Each observation first evolves the state over its elapsed time, then applies the update,
 * as ODE-RNN does, so the output at an observation has seen it.
 *
 * The field's elementwise math is the engine's gruOdeGatesForward / gruOdeForward (and their backward);
 * its three linear maps go through nn/linear.ts, r's and z's as one matmul over one block of weights.
 */
import type { Engine } from "../engine/engine.js";
import { linearDefault } from "../nn/init.js";
import { GruCell } from "../nn/gru-cell.js";
import { type Linear, addLinear, createLinear, linearBackwardInput, linearBackwardWeights, linearForward, linearPrepare } from "../nn/linear.js";
import type { ParameterSet } from "../nn/parameters.js";
import type { Rng } from "../nn/rng.js";
import {
  EvolveThenGruModel,
  ObservationSolver,
  type OdeModelOptions,
  odeModelArgs,
  odeModelOptionNames,
  odeModelSettings,
  resolveOdeModelOptions,
} from "./ode-observations.js";
import { modelEngine } from "./options.js";
import { type OdeSolver, type ResolvedOdeOptions, type VectorField, odeOptionsToArgs } from "./ode-solver.js";

/**
 * The field dh/dt = (1 - z) * (g - h) over parameters `${prefix}lin_hr`, `lin_hz`, `lin_hh` (torch Linear
 * layers H -> H with bias, GRU-ODE-Bayes's names: r's, z's and g's maps), initialised as torch's Linear.
 */
export class GruOdeField implements VectorField {
  readonly stateSize: number;
  readonly contextSize = 0;
  /** per row and evaluation the cache [r | z | g | r * h] of the engine's GRU-ODE kernels */
  readonly recordSize: number;
  /** forward without a record: the cache; backward: the gate gradients (4H) and a transpose (2H) */
  readonly scratchSize: number;
  /** W_r and W_z stacked ([2H, H], biases [2H]): both gates in one matmul */
  readonly gateMap: Linear;
  /** W_g */
  readonly candidateMap: Linear;

  constructor(readonly engine: Engine, params: ParameterSet, prefix: string, readonly hidden: number, rng: Rng) {
    const H = hidden;
    this.stateSize = H;
    this.recordSize = 4 * H;
    this.scratchSize = 6 * H;
    const weights = params.region(2 * H * H, true);
    const biases = params.region(2 * H, true);
    ["lin_hr", "lin_hz"].forEach((name, i) => {
      params.register(`${prefix}${name}.weight`, [H, H], { value: weights.value + i * H * H, grad: weights.grad + i * H * H });
      params.register(`${prefix}${name}.bias`, [H], { value: biases.value + i * H, grad: biases.grad + i * H });
    });
    this.gateMap = createLinear(engine, H, 2 * H, weights, biases);
    this.candidateMap = addLinear(params, `${prefix}lin_hh`, H, H, true);
    // torch.nn.Linear's default init, tensor by tensor in registration order
    const draw = (offset: number, n: number) => {
      const values = new Float64Array(n);
      linearDefault(values, H, rng);
      engine.heap().set(values, offset);
    };
    for (let i = 0; i < 2; i++) {
      draw(weights.value + i * H * H, H * H);
      draw(biases.value + i * H, H);
    }
    draw(this.candidateMap.weight.value, H * H);
    draw(this.candidateMap.bias!.value, H);
  }

  /** Reads the weights (after any change of them, before solving). */
  prepare(): void {
    linearPrepare(this.engine, this.gateMap);
    linearPrepare(this.engine, this.candidateMap);
  }

  forward(rows: number, y: number, ldy: number, _ctx: number, _ldCtx: number, dydt: number, ldDydt: number, record: number, scratch: number): void {
    const e = this.engine;
    const H = this.hidden;
    const cache = record >= 0 ? record : scratch;
    linearForward(e, this.gateMap, rows, y, ldy, cache, 4 * H);
    e.gruOdeGatesForward(rows, H, cache, y, ldy);
    linearForward(e, this.candidateMap, rows, cache + 3 * H, 4 * H, cache + 2 * H, 4 * H);
    e.gruOdeForward(rows, H, cache, y, ldy, dydt, ldDydt);
  }

  backward(rows: number, y: number, ldy: number, _ctx: number, _ldCtx: number, record: number, g: number, ldG: number, dy: number, ldDy: number, _dCtx: number, _ldDCtx: number, scratch: number): void {
    const e = this.engine;
    const H = this.hidden;
    const dGates = scratch;
    const transposed = scratch + rows * 4 * H;
    e.gruOdeBackward(rows, H, record, y, ldy, g, ldG, dGates, dy, ldDy);
    // g's map: its input r * h gets its gradient in block 3, its weights theirs from all rows at once
    linearBackwardInput(e, this.candidateMap, rows, dGates + 2 * H, 4 * H, dGates + 3 * H, 4 * H, false);
    linearBackwardWeights(e, this.candidateMap, rows, dGates + 2 * H, 4 * H, record + 3 * H, 4 * H, transposed);
    e.gruOdeGatesBackward(rows, H, record, y, ldy, dGates, dy, ldDy);
    linearBackwardInput(e, this.gateMap, rows, dGates, 4 * H, dy, ldDy, true);
    linearBackwardWeights(e, this.gateMap, rows, dGates, 4 * H, y, ldy, transposed);
  }
}

/**
 * GRU-ODE: the state evolves by the field above over each elapsed time, integrated by an ODE solver
 * ("euler", "rk4" or "dopri5", see ode-solver.ts; the solver's options are given flat among the
 * model's), then takes the observation by a GRU update. The output is h. Parameters: `ode_cell.lin_hr`,
 * `ode_cell.lin_hz`, `ode_cell.lin_hh` (.weight [H, H], .bias [H]; torch Linear init), then `gru_cell.`
 * weight_ih [3H, I], weight_hh [3H, H], bias_ih [3H], bias_hh [3H] (torch nn.GRUCell's names and init),
 * then the optional projection `fc`.
 */
export type GRUODEOptions = OdeModelOptions;

const OPTION_NAMES = odeModelOptionNames();

export class GRUODE extends EvolveThenGruModel {
  readonly stateSize: number;
  readonly cellOutputSize: number;
  readonly field: GruOdeField;
  readonly cell: GruCell;
  /** the solver; its `stats` count the steps and field evaluations of every solve */
  readonly solver: OdeSolver;
  /** the solver's options with defaults filled (for checkpoints) */
  readonly ode: ResolvedOdeOptions;
  protected readonly observations: ObservationSolver;

  constructor(inputSize: number, readonly hiddenSize: number, options: GRUODEOptions = {}) {
    const resolved = resolveOdeModelOptions("GRUODE", options, OPTION_NAMES, { hiddenSize });
    super(modelEngine(options), inputSize, odeModelSettings(resolved));
    this.ode = resolved.ode;
    this.stateSize = hiddenSize;
    this.cellOutputSize = hiddenSize;
    this.field = new GruOdeField(this.engine, this.params, "ode_cell.", hiddenSize, this.rng);
    this.cell = new GruCell(this.engine, this.params, "gru_cell.", inputSize, hiddenSize, this.rng, "");
    this.observations = new ObservationSolver(this.engine, this.field, resolved.ode, "GRUODE");
    this.solver = this.observations.solver;
    this.buildHeadAndTail();
  }

  toConfig(): { model: string; constructor_args: Record<string, unknown> } {
    return {
      model: "GRUODE",
      constructor_args: {
        input_size: this.inputSize,
        hidden_size: this.hiddenSize,
        ...odeModelArgs(this),
        ...odeOptionsToArgs(this.ode),
      },
    };
  }
}
