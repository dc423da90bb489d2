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
import { GruCache, GruCell } from "../nn/gru-cell.js";
import type { Rng } from "../nn/rng.js";
import type { OdeSolver } from "./ode-solver.js";
import { MlpField } from "./mlp-field.js";
import {
  type ObservationSolveCache,
  ObservationSolver,
  type OdeRecurrentOptions,
  type ResolvedOdeRecurrentOptions,
  odeRecurrentArgs,
  odeModelEngine,
  odeModelSettings,
  odeRecurrentFromArgs,
  resolveOdeRecurrentOptions,
} from "./ode-observations.js";
import { type PassMode, RecurrentModel } from "./recurrent.js";

export type ODERNNOptions = OdeRecurrentOptions;

interface OdeRnnCache {
  gru: GruCache;
  ode: ObservationSolveCache;
  /** per slot: the state evolved to the observation, which the GRU reads (slots x rows x H) */
  evolved: number;
  /** rows x H: d loss / d evolved state of one step (grad only) */
  dEvolved: number;
  /** the step the next coreForward runs, counted from the last coreMapInputs */
  nextStep: number;
}

export class ODERNN extends RecurrentModel {
  readonly stateSize: number;
  readonly cellOutputSize: number;
  readonly field: MlpField;
  readonly cell: GruCell;
  /** the solver (its `stats` count the steps of every solve) */
  readonly solver: OdeSolver;
  /** the options with defaults filled in */
  readonly config: ResolvedOdeRecurrentOptions;
  private readonly observations: ObservationSolver;

  constructor(inputSize: number, readonly hiddenSize: number, options: ODERNNOptions = {}) {
    const config = resolveOdeRecurrentOptions("ODERNN", hiddenSize, options);
    super(odeModelEngine(options), inputSize, odeModelSettings(config));
    this.config = config;
    this.stateSize = hiddenSize;
    this.cellOutputSize = hiddenSize;
    this.field = new MlpField(this.engine, this.params, "rnn_cell.f_node.", hiddenSize, config.odeUnits, this.rng);
    this.cell = new GruCell(this.engine, this.params, "rnn_cell.gru.", inputSize, hiddenSize, this.rng);
    this.observations = new ObservationSolver(this.engine, this.field, config.ode, "ODERNN");
    this.solver = this.observations.solver;
    this.buildHeadAndTail();
  }

  /** A model from its config's constructor arguments (see toConfig); unknown arguments are rejected. */
  static fromArgs(args: Record<string, unknown>, build: { backend?: ODERNNOptions["backend"]; engine?: ODERNNOptions["engine"]; seed?: number } = {}): ODERNN {
    const { inputSize, hiddenSize, options } = odeRecurrentFromArgs("ODERNN", args, build);
    return new ODERNN(inputSize, hiddenSize, options);
  }

  toConfig(): { model: string; constructor_args: Record<string, unknown> } {
    return { model: "ODERNN", constructor_args: odeRecurrentArgs(this.inputSize, this.config) };
  }

  protected corePrepare(): void {
    this.field.prepare();
    this.cell.prepare();
    this.observations.startPass();
  }

  protected coreCache(steps: number, rows: number, { grad, sequenceSteps }: PassMode): OdeRnnCache {
    const e = this.engine;
    const H = this.hiddenSize;
    return {
      gru: new GruCache(e, H, sequenceSteps, steps, rows, grad),
      ode: this.observations.cache(steps, rows, grad),
      evolved: e.alloc(steps * rows * H),
      dEvolved: grad ? e.alloc(rows * H) : -1,
      nextStep: 0,
    };
  }

  protected override coreMapInputs(cache: unknown, steps: number, _rows: number, x: number): void {
    const c = cache as OdeRnnCache;
    this.cell.mapInputs(c.gru, steps, x, this.inputSize);
    c.nextStep = 0;
  }

  protected coreForward(cache: unknown, slot: number, rows: number, _x: number, _ldx: number, hPrev: number, hOut: number, ts: number, y: number, _dropout: Rng | null): void {
    const c = cache as OdeRnnCache;
    const H = this.hiddenSize;
    const step = c.nextStep++;
    if (step >= c.gru.inputSteps) throw new Error(`ODERNN: step ${step} runs without mapped inputs (coreMapInputs mapped ${c.gru.inputSteps})`);
    const evolved = c.evolved + slot * rows * H;
    this.observations.solve(c.ode, slot, rows, hPrev, H, ts, evolved, H);
    this.cell.forwardStep(c.gru, step, slot, rows, evolved, H, hOut, H);
    this.engine.copyRows(rows, H, hOut, H, y, H);
  }

  protected coreBackward(cache: unknown, slot: number, rows: number, dy: number, dh: number, dx: number, ldDx: number, dhPrev: number, _ts: number, dts: number, _hPrev: number, _hOut: number): void {
    const c = cache as OdeRnnCache;
    const e = this.engine;
    const H = this.hiddenSize;
    // the output is h itself: its gradient joins the one from later steps
    e.addRows(rows, H, dy, H, dh, H);
    e.fill(c.dEvolved, rows * H, 0);
    this.cell.backwardStep(c.gru, slot, rows, c.evolved + slot * rows * H, H, dh, H, dx, ldDx, c.dEvolved, H);
    this.observations.backward(c.ode, slot, c.dEvolved, H, dhPrev, H, dts);
  }

  protected coreFinishBackward(cache: unknown, steps: number, x: number, _hPrev: number): void {
    const c = cache as OdeRnnCache;
    // the GRU read the evolved states, not the previous ones
    this.cell.finishBackward(c.gru, steps, x, this.inputSize, c.evolved, this.hiddenSize);
  }
}
