/**
 * `CfCCell`: one CfC step as a module of its own (ncps torch `CfCCell(input_size, hidden_size, ...)`),
 * for users who drive the time loop themselves. Parameter names are the cell's own (`backbone.0.weight`,
 * `ff1.weight`, ...), as in a state_dict of an ncps CfCCell. It runs the CfC machinery on 1-step
 * sequences, so it shares every kernel and gradient with CfC.
 */
import type { BackboneActivation, BackendKind, CfcModeName, Engine } from "../engine/engine.js";
import type { ParamRef } from "../nn/param-ref.js";
import type { Tensor, TensorInput } from "../tensor.js";
import { CfC } from "./cfc.js";
import type { CfcVariant } from "./cfc-variant.js";
import { rejectUnknownOptions } from "./options.js";
import { resolveCellStep } from "./sequence.js";

export interface CfCCellOptions {
  mode?: CfcModeName;
  /** "torch" (default), "keras" or "paper": see CfCOptions.variant */
  variant?: CfcVariant;
  backboneActivation?: BackboneActivation;
  backboneUnits?: number;
  backboneLayers?: number;
  backboneDropout?: number;
  seed?: number;
  backend?: BackendKind;
  engine?: Engine;
}

const OPTION_NAMES = Object.keys({
  mode: true, variant: true, backboneActivation: true, backboneUnits: true, backboneLayers: true, backboneDropout: true, seed: true, backend: true, engine: true,
} satisfies Record<keyof CfCCellOptions, true>);

export class CfCCell {
  private readonly model: CfC;
  private batched = true;

  constructor(readonly inputSize: number, readonly hiddenSize: number, options: CfCCellOptions = {}) {
    rejectUnknownOptions("CfCCell", options, OPTION_NAMES);
    this.model = new CfC(inputSize, hiddenSize, {
      mode: options.mode,
      variant: options.variant,
      activation: options.backboneActivation,
      backboneUnits: options.backboneUnits,
      backboneLayers: options.backboneLayers,
      backboneDropout: options.backboneDropout,
      seed: options.seed,
      backend: options.backend,
      engine: options.engine,
      cellPrefix: "",
    });
  }

  /**
   * h' = cell(input, hx, ts): input (B, I) or unbatched (I); hx (B, H) / (H), zeros when absent;
   * ts a number or per sample (B) / (B, 1). Returns the new state (which is also the output).
   */
  forward(input: TensorInput, hx?: TensorInput | null, ts: number | TensorInput = 1, options: { training?: boolean } = {}): Tensor {
    const step = resolveCellStep(input, this.inputSize, hx, this.hiddenSize, ts, this.model.dtype);
    this.batched = step.batched;
    const { state } = this.model.forward(step.x, { hx: step.hx, timespans: step.timespans, training: options.training });
    return { shape: step.batched ? [step.batch, this.hiddenSize] : [this.hiddenSize], data: state.h.data };
  }

  /** Backward of the last forward: d loss / d h' in; gradients of input, hx and ts out. */
  backward(dState: Tensor): { input: Tensor; hx: Tensor; ts?: Tensor } {
    const B = this.batched ? dState.shape[0] : 1;
    const r = this.model.backward({ shape: [B, 1, this.hiddenSize], data: dState.data });
    const shape = (w: number) => (this.batched ? [B, w] : [w]);
    const out: { input: Tensor; hx: Tensor; ts?: Tensor } = {
      input: { shape: shape(this.inputSize), data: r.input.data },
      hx: { shape: shape(this.hiddenSize), data: r.hx.h.data },
    };
    if (r.timespans) out.ts = { shape: this.batched ? [B] : [1], data: r.timespans.data };
    return out;
  }

  parameters(): ParamRef[] {
    return this.model.parameters();
  }
  zeroGrad(): void {
    this.model.zeroGrad();
  }
  stateDict(): Map<string, Tensor> {
    return this.model.stateDict();
  }
  loadStateDict(t: Map<string, Tensor> | Record<string, Tensor>, source?: string): void {
    this.model.loadStateDict(t, source);
  }
}
