/**
 * `LTCCell`: one LTC step as a module of its own (ncps torch `LTCCell(wiring, in_features)`), for users who
 * drive the time loop themselves. It is an LTC over a sequence of length one, so it shares every kernel
 * and gradient with LTC (ltc.ts); parameter names are ncps LTCCell's (`gleak`, `w`, ... without the
 * `rnn_cell.` prefix).
 */
import type { BackendKind, Engine } from "../engine/engine.js";
import type { ParamRef } from "../nn/parameters.js";
import { type Tensor, type TensorInput, asTensor, numel, shapeString } from "../tensor.js";
import { Wiring } from "../wirings/wiring.js";
import { LTC } from "./ltc.js";
import { type LtcMapping, checkSolverOptions } from "./ltc-cell-core.js";
import { rejectUnknownOptions } from "./options.js";

export interface LTCCellOptions {
  inputMapping?: LtcMapping;
  outputMapping?: LtcMapping;
  odeUnfolds?: number;
  epsilon?: number;
  /** default false, as ncps's LTCCell (LTC defaults to true) */
  implicitParamConstraints?: boolean;
  seed?: number;
  backend?: BackendKind;
  engine?: Engine;
}

/** ncps's `LTCCell`: one step at a time, the state passed in and out by the caller. */
const OPTION_NAMES = Object.keys({
  inputMapping: true, outputMapping: true, odeUnfolds: true, epsilon: true, implicitParamConstraints: true, seed: true, backend: true, engine: true,
} satisfies Record<keyof LTCCellOptions, true>);

export class LTCCell {
  readonly model: LTC;
  private lastShape: { unbatched: boolean; batch: number; tsShape: readonly number[] | null } | null = null;

  constructor(wiring: Wiring, inFeatures: number | null = null, options: LTCCellOptions = {}) {
    rejectUnknownOptions("LTCCell", options, OPTION_NAMES);
    if (!(wiring instanceof Wiring)) throw new Error(`LTCCell: wiring must be a Wiring, got ${String(wiring)}`);
    let inputSize: number;
    if (inFeatures !== null && inFeatures !== undefined) {
      if (!Number.isInteger(inFeatures) || inFeatures < 1) throw new Error(`LTCCell: inFeatures must be a positive integer, got ${String(inFeatures)}`);
      inputSize = inFeatures;
    } else {
      if (wiring.inputDim === null) throw new Error("LTCCell: the wiring is not built; pass inFeatures or call wiring.build(inputDim) first");
      inputSize = wiring.inputDim;
    }
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
  forward(inputGiven: TensorInput, stateGiven: TensorInput | null = null, elapsedGiven: number | TensorInput = 1): { output: Tensor; state: Tensor } {
    const dtype = this.model.dtype;
    const input = asTensor(inputGiven, "input", dtype);
    const state = stateGiven === null ? null : asTensor(stateGiven, "state", dtype);
    const elapsedTime = typeof elapsedGiven === "number" ? elapsedGiven : asTensor(elapsedGiven, "elapsedTime", dtype);
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

