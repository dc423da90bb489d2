/**
 * LTC: liquid time-constant network (ncps torch `LTC`), and `LTCCell`, the single-step cell API of ncps.
 * The state is the membrane potential of every neuron in neuron-id order (motor neurons first); the
 * output is the mapped motor neurons. See ltc-cell.ts for the equations and recurrent.ts for the loop.
 */
import type { Engine } from "../engine/engine.js";
import { createEngine } from "../engine/index.js";
import type { Rng } from "../nn/rng.js";
import type { ParamRef } from "../nn/parameters.js";
import { type Tensor, numel, shapeString } from "../tensor.js";
import { FullyConnected } from "../wirings/fully-connected.js";
import { wiringToSpec } from "../wirings/spec.js";
import { Wiring } from "../wirings/wiring.js";
import { LtcCache, LtcCellCore, type LtcMapping } from "./ltc-cell.js";
import { type PassMode, RecurrentModel } from "./recurrent.js";

export type { LtcMapping } from "./ltc-cell.js";

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
  backend?: "wasm" | "reference";
  /** an engine to build on instead of a new one of `backend` */
  engine?: Engine;
  /** state_dict prefix of the cell's parameters (default "rnn_cell."; LTCCell uses "", as ncps's LTCCell) */
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

const MAPPINGS: readonly LtcMapping[] = ["affine", "linear", null];

function checkMapping(value: unknown, name: string, owner: string): LtcMapping {
  if (value === undefined) return "affine";
  if (!MAPPINGS.includes(value as LtcMapping)) {
    throw new Error(`${owner}: ${name} must be "affine", "linear" or null (identity), got ${JSON.stringify(value)}`);
  }
  return value as LtcMapping;
}

/** Validates the solver options shared by LTC and LTCCell. */
function checkSolverOptions(o: { odeUnfolds?: number; epsilon?: number; implicitParamConstraints?: boolean }, implicitDefault: boolean, owner: string) {
  const odeUnfolds = o.odeUnfolds ?? 6;
  if (!Number.isInteger(odeUnfolds) || odeUnfolds < 1) throw new Error(`${owner}: odeUnfolds must be a positive integer, got ${String(odeUnfolds)}`);
  const epsilon = o.epsilon ?? 1e-8;
  if (typeof epsilon !== "number" || !Number.isFinite(epsilon) || epsilon < 0) {
    throw new Error(`${owner}: epsilon must be a finite number >= 0, got ${String(epsilon)}`);
  }
  const implicit = o.implicitParamConstraints ?? implicitDefault;
  if (typeof implicit !== "boolean") throw new Error(`${owner}: implicitParamConstraints must be a boolean, got ${String(implicit)}`);
  return { odeUnfolds, epsilon, implicitParamConstraints: implicit };
}

export class LTC extends RecurrentModel {
  readonly stateSize: number;
  readonly cellOutputSize: number;
  readonly wiring: Wiring;
  readonly cell: LtcCellCore;
  /** the options as given, with defaults filled (for checkpoints) */
  readonly config: LTCConfig;
  /** whether `units` was an integer (a FullyConnected wiring made here), for toConfig */
  private readonly plainUnits: boolean;

  constructor(inputSize: number, units: number | Wiring, options: LTCOptions = {}) {
    const owner = "LTC";
    if (!(units instanceof Wiring) && (!Number.isInteger(units) || (units as number) < 1)) {
      throw new Error(`${owner}: units must be a positive integer or a Wiring, got ${String(units)}`);
    }
    if (!Number.isInteger(inputSize) || inputSize < 1) throw new Error(`${owner}: inputSize must be a positive integer, got ${inputSize}`);
    const inputMapping = checkMapping(options.inputMapping, "inputMapping", owner);
    const outputMapping = checkMapping(options.outputMapping, "outputMapping", owner);
    const solver = checkSolverOptions(options, true, owner);
    const unknown = Object.keys(options).filter((k) => !LTC_OPTION_NAMES.has(k));
    if (unknown.length) throw new Error(`${owner}: unknown option(s) ${unknown.join(", ")} (known: ${[...LTC_OPTION_NAMES].join(", ")})`);
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

const LTC_OPTION_NAMES = new Set([
  "mixedMemory", "inputMapping", "outputMapping", "odeUnfolds", "epsilon", "implicitParamConstraints",
  "returnSequences", "batchFirst", "seed", "backend", "engine", "cellPrefix",
]);

export interface LTCCellOptions {
  inputMapping?: LtcMapping;
  outputMapping?: LtcMapping;
  odeUnfolds?: number;
  epsilon?: number;
  /** default false, as ncps's LTCCell (LTC defaults to true) */
  implicitParamConstraints?: boolean;
  seed?: number;
  backend?: "wasm" | "reference";
  engine?: Engine;
}

/**
 * ncps's `LTCCell`: one step at a time, the state passed in and out by the caller. It is an LTC over a
 * sequence of length one, so it shares every line of the model; parameter names are ncps LTCCell's
 * (`gleak`, `w`, ... without the `rnn_cell.` prefix).
 */
export class LTCCell {
  readonly model: LTC;
  private lastShape: { unbatched: boolean; batch: number; tsShape: readonly number[] | null } | null = null;

  constructor(wiring: Wiring, inFeatures: number | null = null, options: LTCCellOptions = {}) {
    if (!(wiring instanceof Wiring)) throw new Error(`LTCCell: wiring must be a Wiring, got ${String(wiring)}`);
    let inputSize: number;
    if (inFeatures !== null && inFeatures !== undefined) {
      if (!Number.isInteger(inFeatures) || inFeatures < 1) throw new Error(`LTCCell: inFeatures must be a positive integer, got ${String(inFeatures)}`);
      inputSize = inFeatures;
    } else {
      if (wiring.inputDim === null) throw new Error("LTCCell: the wiring is not built; pass inFeatures or call wiring.build(inputDim) first");
      inputSize = wiring.inputDim;
    }
    const unknown = Object.keys(options).filter((k) => !CELL_OPTION_NAMES.has(k));
    if (unknown.length) throw new Error(`LTCCell: unknown option(s) ${unknown.join(", ")} (known: ${[...CELL_OPTION_NAMES].join(", ")})`);
    const solver = checkSolverOptions(options, false, "LTCCell");
    this.model = new LTC(inputSize, wiring, { ...options, ...solver, returnSequences: true, batchFirst: true, mixedMemory: false, cellPrefix: "" });
  }

  get stateSize(): number {
    return this.model.stateSize;
  }
  get sensorySize(): number {
    return this.model.sensorySize;
  }
  get motorSize(): number {
    return this.model.motorSize;
  }
  get outputSize(): number {
    return this.model.motorSize;
  }
  get synapseCount(): number {
    return this.model.synapseCount;
  }
  get sensorySynapseCount(): number {
    return this.model.sensorySynapseCount;
  }

  /**
   * One step: input (B, I) and state (B, U) (or unbatched (I) and (U)); elapsedTime a number or one value
   * per sample, shaped (B) or (B, 1). Returns the mapped motor output (B, M) and the next state (B, U).
   */
  forward(input: Tensor, state: Tensor | null = null, elapsedTime: number | Tensor = 1): { output: Tensor; state: Tensor } {
    const I = this.model.inputSize;
    const U = this.model.stateSize;
    const unbatched = input.shape.length === 1;
    if (!unbatched && input.shape.length !== 2) throw new Error(`LTCCell.forward: input must be (B, ${I}) or (${I}), got ${shapeString(input.shape)}`);
    if (input.shape[input.shape.length - 1] !== I) throw new Error(`LTCCell.forward: input must have ${I} features, got ${shapeString(input.shape)}`);
    const B = unbatched ? 1 : input.shape[0];
    const x: Tensor = { shape: unbatched ? [1, I] : [B, 1, I], data: input.data };
    let timespans: Tensor | number;
    let tsShape: readonly number[] | null = null;
    if (typeof elapsedTime === "number") timespans = elapsedTime;
    else {
      if (numel(elapsedTime.shape) !== B || elapsedTime.shape.length > 2 || (elapsedTime.shape.length === 2 && elapsedTime.shape[1] !== 1)) {
        throw new Error(`LTCCell.forward: elapsedTime must be a number or have one value per sample, shape (${B}) or (${B}, 1); got ${shapeString(elapsedTime.shape)}`);
      }
      tsShape = elapsedTime.shape;
      timespans = { shape: unbatched ? [1] : [B, 1], data: elapsedTime.data };
    }
    let hx: Tensor | null = null;
    if (state) {
      const want = unbatched ? [U] : [B, U];
      if (state.shape.length !== want.length || state.shape.some((d, i) => d !== want[i])) {
        throw new Error(`LTCCell.forward: state must have shape ${shapeString(want)}, got ${shapeString(state.shape)}`);
      }
      hx = state;
    }
    const r = this.model.forward(x, { hx, timespans });
    this.lastShape = { unbatched, batch: B, tsShape };
    const M = this.model.motorSize;
    return { output: { shape: unbatched ? [M] : [B, M], data: r.output.data }, state: r.state.h };
  }

  /**
   * Backpropagates d loss / d output (and optionally d loss / d next state) through the last forward.
   * Parameter gradients accumulate; returns the gradients w.r.t. input, state and (when given as a
   * tensor) elapsedTime.
   */
  backward(dOutput: Tensor, dState?: Tensor): { input: Tensor; state: Tensor; elapsedTime?: Tensor } {
    const last = this.lastShape;
    if (!last) throw new Error("LTCCell.backward: call forward first");
    const M = this.model.motorSize;
    const B = last.batch;
    const want = last.unbatched ? [M] : [B, M];
    if (dOutput.shape.length !== want.length || dOutput.shape.some((d, i) => d !== want[i])) {
      throw new Error(`LTCCell.backward: dOutput must have the output's shape ${shapeString(want)}, got ${shapeString(dOutput.shape)}`);
    }
    const r = this.model.backward({ shape: last.unbatched ? [1, M] : [B, 1, M], data: dOutput.data }, { dState: dState ? { h: dState } : undefined });
    const I = this.model.inputSize;
    const out: { input: Tensor; state: Tensor; elapsedTime?: Tensor } = {
      input: { shape: last.unbatched ? [I] : [B, I], data: r.input.data },
      state: r.hx.h,
    };
    if (last.tsShape && r.timespans) out.elapsedTime = { shape: [...last.tsShape], data: r.timespans.data };
    return out;
  }

  applyWeightConstraints(): void {
    this.model.applyWeightConstraints();
  }
  zeroGrad(): void {
    this.model.zeroGrad();
  }
  parameterCount(): number {
    return this.model.parameterCount();
  }
  /** Trainable parameters under ncps LTCCell names (gleak, vleak, ...). */
  parameters(): ParamRef[] {
    return this.model.parameters();
  }
  /** Tensors by ncps LTCCell name (masks included), in state_dict order. */
  stateDict(): Map<string, Tensor> {
    return this.model.stateDict();
  }
  loadStateDict(tensors: Map<string, Tensor> | Record<string, Tensor>, source?: string): void {
    this.model.loadStateDict(tensors, source);
  }
}

const CELL_OPTION_NAMES = new Set(["inputMapping", "outputMapping", "odeUnfolds", "epsilon", "implicitParamConstraints", "seed", "backend", "engine"]);
