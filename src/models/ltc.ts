/**
 * LTC: liquid time-constant network (ncps torch `LTC`). The state is the membrane potential of every
 * neuron in neuron-id order (motor neurons first); the output is the mapped motor neurons. See
 * ltc-cell-core.ts for the cell and recurrent.ts for the loop; ltc-cell.ts has the single-step LTCCell.
 */
import type { BackendKind, Engine } from "../engine/engine.js";
import { createEngine } from "../engine/index.js";
import type { Rng } from "../nn/rng.js";
import { FullyConnected } from "../wirings/fully-connected.js";
import { wiringToSpec } from "../wirings/spec.js";
import { Wiring } from "../wirings/wiring.js";
import { LtcCache, LtcCellCore, type LtcMapping, checkMapping, checkSolverOptions } from "./ltc-cell-core.js";
import { rejectUnknownOptions } from "./options.js";
import { type PassMode, RecurrentModel } from "./recurrent.js";

export type { LtcMapping } from "./ltc-cell-core.js";

export interface LTCOptions {
  mixedMemory?: boolean;
  /** "affine" (default), "linear" or null (identity) */
  inputMapping?: LtcMapping;
  /** "affine" (default), "linear" or null (identity) */
  outputMapping?: LtcMapping;
  /** ODE solver sub-steps per time step (default 6) */
  odeUnfolds?: number;
  /** added to the solver's denominator (default 1e-8) */
  epsilon?: number;
  /** softplus on w, sensory_w, cm, gleak at run time (default true); else call applyWeightConstraints() */
  implicitParamConstraints?: boolean;
  returnSequences?: boolean;
  batchFirst?: boolean;
  /** seed of weight initialisation: same seed, same model (the wiring has its own seed) */
  seed?: number;
  /** "wasm" (float32, default) or "reference" (float64) */
  backend?: BackendKind;
  /** an engine to build on instead of a new one of `backend` */
  engine?: Engine;
  /** @internal state_dict prefix of the cell's parameters (default "rnn_cell."; LTCCell uses "", as ncps's LTCCell) */
  cellPrefix?: string;
}

export interface LTCConfig {
  mixedMemory: boolean;
  inputMapping: LtcMapping;
  outputMapping: LtcMapping;
  odeUnfolds: number;
  epsilon: number;
  implicitParamConstraints: boolean;
  returnSequences: boolean;
  batchFirst: boolean;
  seed: number;
}

const OPTION_NAMES = Object.keys({
  mixedMemory: true, inputMapping: true, outputMapping: true, odeUnfolds: true, epsilon: true, implicitParamConstraints: true,
  returnSequences: true, batchFirst: true, seed: true, backend: true, engine: true,
} satisfies Record<Exclude<keyof LTCOptions, "cellPrefix">, true>);

export class LTC extends RecurrentModel {
  readonly stateSize: number;
  readonly cellOutputSize: number;
  readonly wiring: Wiring;
  readonly cell: LtcCellCore;
  /** the options as given, with defaults filled (for checkpoints) */
  readonly config: LTCConfig;
  /** whether `units` was an integer (a FullyConnected wiring made here), for toConfig */
  private readonly plainUnits: boolean;

  /** ncps's LTC divides the membrane capacitance by the elapsed time: zero gives NaN, so it is refused */
  protected override positiveTimespansFor(): string {
    return "LTC";
  }

  constructor(inputSize: number, units: number | Wiring, options: LTCOptions = {}) {
    const owner = "LTC";
    rejectUnknownOptions(owner, options, OPTION_NAMES, ["cellPrefix"]);
    if (!(units instanceof Wiring) && (!Number.isInteger(units) || (units as number) < 1)) {
      throw new Error(`${owner}: units must be a positive integer or a Wiring, got ${String(units)}`);
    }
    if (!Number.isInteger(inputSize) || inputSize < 1) throw new Error(`${owner}: inputSize must be a positive integer, got ${inputSize}`);
    const inputMapping = checkMapping(options.inputMapping, "inputMapping", owner);
    const outputMapping = checkMapping(options.outputMapping, "outputMapping", owner);
    const solver = checkSolverOptions(options, true, owner);
    const engine = options.engine ?? createEngine(options.backend ?? "wasm");
    super(engine, inputSize, {
      returnSequences: options.returnSequences ?? true,
      batchFirst: options.batchFirst ?? true,
      mixedMemory: options.mixedMemory ?? false,
      projSize: null,
      seed: options.seed ?? 0,
    });
    this.plainUnits = !(units instanceof Wiring);
    // ncps: an integer means FullyConnected(units) (erev seed 1111, every neuron a motor neuron)
    const wiring = units instanceof Wiring ? units : new FullyConnected(units);
    wiring.build(inputSize);
    this.wiring = wiring;
    this.config = {
      mixedMemory: this.mixedMemory,
      inputMapping,
      outputMapping,
      ...solver,
      returnSequences: this.returnSequences,
      batchFirst: this.batchFirst,
      seed: options.seed ?? 0,
    };
    const prefix = options.cellPrefix ?? "rnn_cell.";
    if (typeof prefix !== "string") throw new Error(`${owner}: cellPrefix must be a string, got ${String(prefix)}`);
    this.cell = new LtcCellCore(engine, this.params, prefix, wiring, { inputMapping, outputMapping, ...solver }, this.rng);
    this.stateSize = wiring.units;
    this.cellOutputSize = wiring.outputDim;
    this.buildHeadAndTail();
  }

  /** Number of input features (ncps sensory_size). */
  get sensorySize(): number {
    return this.cell.sensorySize;
  }
  /** Number of motor neurons = output size (ncps motor_size). */
  get motorSize(): number {
    return this.cell.motorSize;
  }
  get synapseCount(): number {
    return this.wiring.synapseCount;
  }
  /** The sensory synapse count (ncps 1.0.1's property returns the recurrent count by mistake). */
  get sensorySynapseCount(): number {
    return this.wiring.sensorySynapseCount;
  }

  /** See LtcCellCore.applyWeightConstraints (no-op with implicit constraints). */
  applyWeightConstraints(): void {
    this.cell.applyWeightConstraints();
  }

  /** ncps-style description (build.ts rebuilds the model from it). */
  toConfig(): { model: string; constructor_args: Record<string, unknown> } {
    const c = this.config;
    return {
      model: "LTC",
      constructor_args: {
        input_size: this.inputSize,
        units: this.plainUnits ? this.stateSize : { wiring: wiringToSpec(this.wiring) },
        return_sequences: c.returnSequences,
        batch_first: c.batchFirst,
        mixed_memory: c.mixedMemory,
        input_mapping: c.inputMapping,
        output_mapping: c.outputMapping,
        ode_unfolds: c.odeUnfolds,
        epsilon: c.epsilon,
        implicit_param_constraints: c.implicitParamConstraints,
      },
    };
  }

  protected corePrepare(): void {
    this.cell.prepare();
  }

  protected coreCache(steps: number, rows: number, { grad }: PassMode): LtcCache {
    return new LtcCache(this.engine, this.cell, steps, rows, grad);
  }

  protected coreForward(cache: unknown, slot: number, rows: number, x: number, ldx: number, hPrev: number, hOut: number, ts: number, y: number, _dropout: Rng | null): void {
    this.cell.forwardStep(cache as LtcCache, slot, rows, x, ldx, hPrev, hOut, ts, y);
  }

  protected coreBackward(cache: unknown, slot: number, rows: number, dy: number, dh: number, dx: number, ldDx: number, dhPrev: number, ts: number, dts: number): void {
    this.cell.backwardStep(cache as LtcCache, slot, rows, dy, dh, dx, ldDx, ts, dts);
    this.engine.addRows(rows, this.stateSize, dh, this.stateSize, dhPrev, this.stateSize);
  }

  protected coreFinishBackward(_cache: unknown, _steps: number): void {
    this.cell.finishBackward();
  }
}

