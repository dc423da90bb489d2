/**
 * `WiredCfCCell`: one step of a wired CfC as a module of its own (ncps torch `WiredCfCCell(input_size,
 * wiring, mode)`), for users who drive the time loop themselves. One CfC cell per wiring layer (inter ->
 * command -> motor) without backbone, with the sparsity masks of wired-layers.ts; the state is laid out
 * in layer order [inter | command | motor] and the output is the motor layer. Parameter names are the
 * cell's own (`layer_0.sparsity_mask`, `layer_0.ff1.weight`, ...), as in a state_dict of an ncps
 * WiredCfCCell. It runs the CfC machinery on 1-step sequences, so it shares every kernel and gradient
 * with a wired CfC.
 */
import type { BackendKind, CfcModeName, Engine } from "../engine/engine.js";
import type { ParamRef } from "../nn/parameters.js";
import { type Tensor, type TensorInput, shapeString } from "../tensor.js";
import { Wiring } from "../wirings/wiring.js";
import { CfC } from "./cfc.js";
import { rejectUnknownOptions } from "./options.js";
import { resolveCellStep } from "./sequence.js";

export interface WiredCfCCellOptions {
  mode?: CfcModeName;
  /** use the wiring's within-layer synapses instead of ncps's all-ones block (off by default, as ncps) */
  wiringRecurrence?: boolean;
  seed?: number;
  backend?: BackendKind;
  engine?: Engine;
}

const OPTION_NAMES = Object.keys({ mode: true, wiringRecurrence: true, seed: true, backend: true, engine: true } satisfies Record<keyof WiredCfCCellOptions, true>);

export class WiredCfCCell {
  readonly inputSize: number;
  private readonly model: CfC;
  private last: { batched: boolean; batch: number } | null = null;

  /** inputSize null: the wiring must already be built (ncps's `input_size=None`). */
  constructor(inputSize: number | null, readonly wiring: Wiring, options: WiredCfCCellOptions = {}) {
    rejectUnknownOptions("WiredCfCCell", options, OPTION_NAMES);
    if (!(wiring instanceof Wiring)) throw new Error(`WiredCfCCell: wiring must be a Wiring, got ${String(wiring)}`);
    if (inputSize === null || inputSize === undefined) {
      if (wiring.inputDim === null) throw new Error("WiredCfCCell: the wiring is not built; pass inputSize or call wiring.build(inputDim) first");
      inputSize = wiring.inputDim;
    } else if (!Number.isInteger(inputSize) || inputSize < 1) {
      throw new Error(`WiredCfCCell: inputSize must be a positive integer or null, got ${String(inputSize)}`);
    }
    this.inputSize = inputSize;
    this.model = new CfC(inputSize, wiring, { ...options, cellPrefix: "" });
  }

  /** Every neuron of the wiring (ncps state_size). */
  get stateSize(): number {
    return this.model.stateSize;
  }
  /** Neurons per layer, in state order (ncps layer_sizes). */
  get layerSizes(): number[] {
    return this.model.cells.map((c) => c.hiddenSize);
  }
  get numLayers(): number {
    return this.model.cells.length;
  }
  get sensorySize(): number {
    return this.inputSize;
  }
  get motorSize(): number {
    return this.model.cellOutputSize;
  }
  get outputSize(): number {
    return this.model.cellOutputSize;
  }
  get synapseCount(): number {
    return this.wiring.synapseCount;
  }
  /** The sensory synapse count (ncps 1.0.1's property returns the recurrent count by mistake). */
  get sensorySynapseCount(): number {
    return this.wiring.sensorySynapseCount;
  }

  /**
   * (output, h') = cell(input, hx, ts): input (B, I) or unbatched (I); hx (B, S) / (S), zeros when
   * absent; ts a number or per sample (B) / (B, 1). Returns the motor neurons' new state (B, M) and the
   * new state of every neuron (B, S), as ncps's (h, new_h_state).
   */
  forward(input: TensorInput, hx?: TensorInput | null, ts: number | TensorInput = 1, options: { training?: boolean } = {}): { output: Tensor; state: Tensor } {
    const step = resolveCellStep(input, this.inputSize, hx, this.stateSize, ts, this.model.dtype);
    const { output, state } = this.model.forward(step.x, { hx: step.hx, timespans: step.timespans, training: options.training });
    this.last = { batched: step.batched, batch: step.batch };
    const shape = (w: number) => (step.batched ? [step.batch, w] : [w]);
    return { output: { shape: shape(this.outputSize), data: output.data }, state: { shape: shape(this.stateSize), data: state.h.data } };
  }

  /**
   * Backward of the last forward: d loss / d output (and optionally d loss / d h') in; gradients of
   * input, hx and ts (when ts was a tensor) out. Parameter gradients accumulate.
   */
  backward(dOutput: Tensor, dState?: Tensor | null): { input: Tensor; hx: Tensor; ts?: Tensor } {
    const last = this.last;
    if (!last) throw new Error("WiredCfCCell.backward: call forward first");
    const B = last.batch;
    const shape = (w: number) => (last.batched ? [B, w] : [w]);
    const check = (t: Tensor, name: string, w: number) => {
      const want = shape(w);
      if (t.shape.join() !== want.join()) throw new Error(`WiredCfCCell.backward: ${name} must have shape ${shapeString(want)}, got ${shapeString(t.shape)}`);
    };
    check(dOutput, "dOutput", this.outputSize);
    if (dState) check(dState, "dState", this.stateSize);
    const r = this.model.backward(
      { shape: [B, 1, this.outputSize], data: dOutput.data },
      { dState: dState ? { h: { shape: [B, this.stateSize], data: dState.data } } : undefined },
    );
    const out: { input: Tensor; hx: Tensor; ts?: Tensor } = {
      input: { shape: shape(this.inputSize), data: r.input.data },
      hx: { shape: shape(this.stateSize), data: r.hx.h.data },
    };
    if (r.timespans) out.ts = { shape: last.batched ? [B] : [1], data: r.timespans.data };
    return out;
  }

  parameters(): ParamRef[] {
    return this.model.parameters();
  }
  zeroGrad(): void {
    this.model.zeroGrad();
  }
  parameterCount(): number {
    return this.model.parameterCount();
  }
  /** Tensors by ncps WiredCfCCell name (sparsity masks included), in state_dict order. */
  stateDict(): Map<string, Tensor> {
    return this.model.stateDict();
  }
  loadStateDict(t: Map<string, Tensor> | Record<string, Tensor>, source?: string): void {
    this.model.loadStateDict(t, source);
  }
}
