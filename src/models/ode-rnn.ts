/**
 * ODE-RNN (Rubanova, Chen, Duvenaud 2019, "Latent ODEs for irregularly-sampled time series", the
 * ODE-RNN encoder), a baseline of the CfC paper: at each observation the state first evolves through
 * dh/dt = f(h) over the elapsed time since the previous observation, f the MLP field of mlp-field.ts,
 * integrated by an ODE solver ("euler", "rk4" or "dopri5", see ode-solver.ts), then takes the
 * observation in with a GRU update, h = GRUCell(x, h_evolved) (torch's GRU gates, nn/gru-cell.ts). The
 * state and the output are h (hiddenSize).
 *
 * Parameters, in state_dict order: rnn_cell.f_node.0.weight [odeUnits, H], rnn_cell.f_node.0.bias,
 * rnn_cell.f_node.2.weight [H, odeUnits], rnn_cell.f_node.2.bias (torch Linear init), then the GRU's
 * rnn_cell.gru.weight_ih_l0 [3H, I], weight_hh_l0 [3H, H], bias_ih_l0, bias_hh_l0 (torch's names and
 * init), and fc.weight / fc.bias with projSize.
 */
import { GruCell } from "../nn/gru-cell.js";
import type { OdeSolver } from "./ode-solver.js";
import { MlpField } from "./mlp-field.js";
import {
  EvolveThenGruModel,
  ObservationSolver,
  type OdeRecurrentOptions,
  type ResolvedOdeRecurrentOptions,
  odeRecurrentArgs,
  odeModelSettings,
  resolveOdeRecurrentOptions,
} from "./ode-observations.js";
import { modelEngine } from "./options.js";

export type ODERNNOptions = OdeRecurrentOptions;

export class ODERNN extends EvolveThenGruModel {
  readonly stateSize: number;
  readonly cellOutputSize: number;
  readonly field: MlpField;
  readonly cell: GruCell;
  /** the solver (its `stats` count the steps of every solve) */
  readonly solver: OdeSolver;
  /** the options with defaults filled in */
  readonly config: ResolvedOdeRecurrentOptions;
  protected readonly observations: ObservationSolver;

  constructor(inputSize: number, readonly hiddenSize: number, options: ODERNNOptions = {}) {
    const config = resolveOdeRecurrentOptions("ODERNN", hiddenSize, options);
    super(modelEngine(options), inputSize, odeModelSettings(config));
    this.config = config;
    this.stateSize = hiddenSize;
    this.cellOutputSize = hiddenSize;
    this.field = new MlpField(this.engine, this.params, "rnn_cell.f_node.", hiddenSize, config.odeUnits, this.rng);
    this.cell = new GruCell(this.engine, this.params, "rnn_cell.gru.", inputSize, hiddenSize, this.rng);
    this.observations = new ObservationSolver(this.engine, this.field, config.ode, "ODERNN");
    this.solver = this.observations.solver;
    this.buildHeadAndTail();
  }


  toConfig(): { model: string; constructor_args: Record<string, unknown> } {
    return { model: "ODERNN", constructor_args: odeRecurrentArgs(this.inputSize, this.config) };
  }
}
