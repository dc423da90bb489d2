/**
 * ODE-LSTM (Lechner & Hasani 2020, "Learning long-term dependencies in irregularly-sampled time
 * series"), a baseline of the CfC paper: at each observation an LSTM cell update (h, c) = LSTM(x, (h, c)),
 * then h evolves through dh/dt = f(h) over the observation's elapsed time, f the MLP field of
 * mlp-field.ts, integrated by an ODE solver ("euler", "rk4" or "dopri5", see ode-solver.ts); the memory
 * c is left to the LSTM. The recurrent state is [h | c] (2 x hiddenSize, as the LSTM baseline's); the
 * output is h.
 *
 * The LSTM cell is ncps's (nn/lstm-cell.ts: one bias, forget gate bias +1, gate blocks [input
 * activation | input gate | forget gate | output gate]), as the other models' mixed memory and the LSTM
 * baseline use it, where the paper's code has torch.nn.LSTMCell (two biases, gates [i | f | g | o]); the
 * two cells compute the same family of functions. The field follows the paper's code, f_node =
 * Linear(H, units), Tanh, Linear(units, H).
 *
 * Parameters, in state_dict order: rnn_cell.lstm.input_map.weight [4H, I], rnn_cell.lstm.input_map.bias,
 * rnn_cell.lstm.recurrent_map.weight [4H, H] (ncps init), rnn_cell.f_node.0.weight [odeUnits, H],
 * rnn_cell.f_node.0.bias, rnn_cell.f_node.2.weight [H, odeUnits], rnn_cell.f_node.2.bias (torch Linear
 * init), and fc.weight / fc.bias with projSize (the paper code's readout).
 */
import { LstmCache, LstmCell } from "../nn/lstm-cell.js";
import type { Rng } from "../nn/rng.js";
import type { OdeSolver } from "./ode-solver.js";
import { MlpField } from "./mlp-field.js";
import {
  type ObservationSolveCache,
  ObservationSolver,
  type OdeRecurrentOptions,
  type ResolvedOdeRecurrentOptions,
  odeRecurrentArgs,
  odeModelSettings,
  resolveOdeRecurrentOptions,
} from "./ode-observations.js";
import { modelEngine } from "./options.js";
import { type PassMode, RecurrentModel } from "./recurrent.js";

export type ODELSTMOptions = OdeRecurrentOptions;

interface OdeLstmCache {
  lstm: LstmCache;
  ode: ObservationSolveCache;
  /** per slot: the LSTM's h, where the solve starts (slots x rows x H) */
  hLstm: number;
  /** rows x H: d loss / d hLstm of one step (grad only) */
  dhLstm: number;
  /** rows x H: d loss / d c' in, d loss / d c out (grad only; the cell wants it contiguous) */
  dc: number;
}

export class ODELSTM extends RecurrentModel {
  readonly stateSize: number;
  readonly cellOutputSize: number;
  readonly cell: LstmCell;
  readonly field: MlpField;
  /** the solver (its `stats` count the steps of every solve) */
  readonly solver: OdeSolver;
  /** the options with defaults filled in */
  readonly config: ResolvedOdeRecurrentOptions;
  private readonly observations: ObservationSolver;

  constructor(inputSize: number, readonly hiddenSize: number, options: ODELSTMOptions = {}) {
    const config = resolveOdeRecurrentOptions("ODELSTM", hiddenSize, options);
    super(modelEngine(options), inputSize, odeModelSettings(config));
    this.config = config;
    this.stateSize = 2 * hiddenSize;
    this.cellOutputSize = hiddenSize;
    this.cell = new LstmCell(this.engine, this.params, "rnn_cell.lstm.", inputSize, hiddenSize, this.rng);
    this.field = new MlpField(this.engine, this.params, "rnn_cell.f_node.", hiddenSize, config.odeUnits, this.rng);
    this.observations = new ObservationSolver(this.engine, this.field, config.ode, "ODELSTM");
    this.solver = this.observations.solver;
    this.buildHeadAndTail();
  }


  toConfig(): { model: string; constructor_args: Record<string, unknown> } {
    return { model: "ODELSTM", constructor_args: odeRecurrentArgs(this.inputSize, this.config) };
  }

  protected corePrepare(): void {
    this.cell.prepare();
    this.field.prepare();
    this.observations.startPass();
  }

  protected coreCache(steps: number, rows: number, { grad }: PassMode): OdeLstmCache {
    const e = this.engine;
    const H = this.hiddenSize;
    return {
      lstm: new LstmCache(e, H, steps, rows, grad),
      ode: this.observations.cache(steps, rows, grad),
      hLstm: e.alloc(steps * rows * H),
      dhLstm: grad ? e.alloc(rows * H) : -1,
      dc: grad ? e.alloc(rows * H) : -1,
    };
  }

  protected coreForward(cache: unknown, slot: number, rows: number, x: number, ldx: number, hPrev: number, hOut: number, ts: number, y: number, _dropout: Rng | null): void {
    const c = cache as OdeLstmCache;
    const H = this.hiddenSize;
    const S = this.stateSize;
    const hLstm = c.hLstm + slot * rows * H;
    // c' goes straight to its place in the new state; h' to the start of the solve
    this.cell.forwardStep(c.lstm, slot, rows, x, ldx, hPrev, S, hPrev + H, S, hOut + H, hLstm, H);
    this.observations.solve(c.ode, slot, rows, hLstm, H, ts, hOut, S);
    this.engine.copyRows(rows, H, hOut, S, y, H);
  }

  protected coreBackward(cache: unknown, slot: number, rows: number, dy: number, dh: number, dx: number, ldDx: number, dhPrev: number, _ts: number, dts: number, hPrev: number, hOut: number): void {
    const c = cache as OdeLstmCache;
    const e = this.engine;
    const H = this.hiddenSize;
    const S = this.stateSize;
    // the output is h: its gradient joins the one from later steps, then flows back through the solve
    e.addRows(rows, H, dy, H, dh, S);
    e.fill(c.dhLstm, rows * H, 0);
    this.observations.backward(c.ode, slot, dh, S, c.dhLstm, H, dts);
    e.copyRows(rows, H, dh + H, S, c.dc, H);
    this.cell.backwardStep(c.lstm, slot, rows, hPrev + H, S, hOut + H, c.dhLstm, H, c.dc, dx, ldDx, dhPrev, S);
    e.addRows(rows, H, c.dc, H, dhPrev + H, S);
  }

  protected coreFinishBackward(cache: unknown, steps: number, x: number, hPrev: number): void {
    this.cell.finishBackward((cache as OdeLstmCache).lstm, steps, x, hPrev, this.stateSize);
  }
}
