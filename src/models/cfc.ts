/**
 * CfC: closed-form continuous-time network (ncps torch `CfC`), fully connected with a backbone, or wired
 * by a Wiring (NCP, AutoNCP, ...). See cfc-cell-core.ts for the cell and recurrent.ts for the loop.
 */
import { BACKBONE_ACTIVATIONS, type BackboneActivation, type CfcModeName } from "../engine/engine.js";
import { createEngine } from "../engine/index.js";
import type { Rng } from "../nn/rng.js";
import { wiringToSpec } from "../wirings/spec.js";
import { Wiring } from "../wirings/wiring.js";
import { CfCCellCache, CfCCellCore } from "./cfc-cell-core.js";
import { type CfcVariant, resolveCfcVariant } from "./cfc-variant.js";
import { rejectUnknownOptions, type SequenceModelOptions } from "./options.js";
import { type PassMode, RecurrentModel } from "./recurrent.js";
import { wiredLayers } from "./wired-layers.js";

export interface CfCOptions extends SequenceModelOptions {
  mode?: CfcModeName;
  /**
   * Which implementation's CfC to compute (see cfc-variant.ts and the README table): "torch" (ncps torch,
   * default), "keras" (ncps keras: linear heads, negated time gate) or "paper" (the paper's tf_cfc.py:
   * lecun_tanh heads, negated time gate). Wired: "torch" and "keras" (signed masks, as ncps keras).
   */
  variant?: CfcVariant;
  activation?: BackboneActivation;
  backboneUnits?: number;
  backboneLayers?: number;
  backboneDropout?: number;
  mixedMemory?: boolean;
  /**
   * mixedMemory only: the constant added to the LSTM forget gate (default 1, as ncps torch's LSTMCell, ncps
   * keras's MixedMemoryRNN and the paper's MixedCfcCell; the paper tunes it per task as `forget_bias`)
   */
  forgetBias?: number;
  /** seed of weight initialisation and dropout: same seed, same model */
  seed?: number;
  /** wired only: use the wiring's within-layer synapses instead of ncps's all-ones block (off by default) */
  wiringRecurrence?: boolean;
  /** @internal parameter name prefix of the cell ("rnn_cell." as in ncps CfC; "" for a bare CfCCell) */
  cellPrefix?: string;
}

const MODES: readonly CfcModeName[] = ["default", "no_gate", "pure"];

const OPTION_NAMES = Object.keys({
  mode: true, variant: true, activation: true, backboneUnits: true, backboneLayers: true, backboneDropout: true, mixedMemory: true, forgetBias: true,
  projSize: true, returnSequences: true, batchFirst: true, seed: true, backend: true, engine: true, wiringRecurrence: true,
} satisfies Record<Exclude<keyof CfCOptions, "cellPrefix">, true>);

export class CfC extends RecurrentModel {
  readonly stateSize: number;
  readonly cellOutputSize: number;
  readonly mode: CfcModeName;
  readonly variant: CfcVariant;
  readonly wiring: Wiring | null;
  readonly cells: CfCCellCore[] = [];
  /** first state column of each cell */
  private readonly offsets: number[] = [];
  private readonly outputOffset: number;
  /** the options as given, with defaults filled (for checkpoints) */
  readonly config: Required<Omit<CfCOptions, "engine" | "backend" | "projSize" | "cellPrefix">> & { projSize: number | null };

  constructor(inputSize: number, units: number | Wiring, options: CfCOptions = {}) {
    rejectUnknownOptions("CfC", options, OPTION_NAMES, ["cellPrefix"]);
    const engine = options.engine ?? createEngine(options.backend ?? "wasm");
    const mode = options.mode ?? "default";
    if (!MODES.includes(mode)) throw new Error(`CfC: unknown mode '${String(mode)}', expected one of ${MODES.join(", ")}`);
    const activation = options.activation ?? "lecun_tanh";
    if (!BACKBONE_ACTIVATIONS.includes(activation)) {
      throw new Error(`CfC: unknown activation '${String(activation)}', expected one of ${BACKBONE_ACTIVATIONS.join(", ")}`);
    }
    const variant = resolveCfcVariant(options.variant, "CfC");
    const wired = units instanceof Wiring;
    if (wired && variant === "paper") {
      throw new Error(`CfC: variant 'paper' cannot be used with a wiring (the paper's tf_cfc.py has no wired CfC); use 'torch' or 'keras'`);
    }
    if (wired) {
      for (const k of ["backboneUnits", "backboneLayers", "backboneDropout"] as const) {
        if (options[k] !== undefined) throw new Error(`CfC: ${k} cannot be used with a wiring (wired CfC cells have no backbone)`);
      }
    } else if (!Number.isInteger(units) || (units as number) < 1) {
      throw new Error(`CfC: units must be a positive integer or a Wiring, got ${String(units)}`);
    }
    const backboneUnits = options.backboneUnits ?? 128;
    const backboneLayers = options.backboneLayers ?? 1;
    const backboneDropout = options.backboneDropout ?? 0;
    if (!wired) {
      if (!Number.isInteger(backboneLayers) || backboneLayers < 0) throw new Error(`CfC: backboneLayers must be an integer >= 0, got ${backboneLayers}`);
      if (backboneLayers > 0 && (!Number.isInteger(backboneUnits) || backboneUnits < 1)) throw new Error(`CfC: backboneUnits must be a positive integer, got ${backboneUnits}`);
      if (!(backboneDropout >= 0 && backboneDropout < 1)) throw new Error(`CfC: backboneDropout must be in [0, 1), got ${backboneDropout}`);
    }
    const forgetBias = options.forgetBias ?? 1;
    if (options.forgetBias !== undefined) {
      if (!(options.mixedMemory ?? false)) throw new Error("CfC: forgetBias applies to mixedMemory only (the forget gate of its LSTM)");
      if (typeof forgetBias !== "number" || !Number.isFinite(forgetBias)) throw new Error(`CfC: forgetBias must be a finite number, got ${String(forgetBias)}`);
    }
    super(engine, inputSize, {
      returnSequences: options.returnSequences ?? true,
      batchFirst: options.batchFirst ?? true,
      mixedMemory: options.mixedMemory ?? false,
      projSize: options.projSize ?? null,
      seed: options.seed ?? 0,
    });
    this.mode = mode;
    this.variant = variant;
    this.config = {
      mode,
      variant,
      activation,
      backboneUnits,
      backboneLayers,
      backboneDropout,
      mixedMemory: this.mixedMemory,
      forgetBias,
      projSize: this.projSize,
      returnSequences: this.returnSequences,
      batchFirst: this.batchFirst,
      seed: options.seed ?? 0,
      wiringRecurrence: options.wiringRecurrence ?? false,
    };
    const prefix = options.cellPrefix ?? "rnn_cell.";
    if (units instanceof Wiring) {
      this.wiring = units;
      const layers = wiredLayers(units, inputSize, options.wiringRecurrence ?? false, variant === "keras");
      let off = 0;
      layers.forEach((layer, l) => {
        const cell = new CfCCellCore(engine, this.params, `${prefix}layer_${l}.`, layer.inputSize, layer.neurons.length,
          { mode, activation: "lecun_tanh", backboneUnits: 0, backboneLayers: 0, backboneDropout: 0, variant }, this.rng, layer.mask);
        this.cells.push(cell);
        this.offsets.push(off);
        off += layer.neurons.length;
      });
      this.stateSize = off;
      this.cellOutputSize = layers[layers.length - 1].neurons.length;
      this.outputOffset = off - this.cellOutputSize;
      if (this.cellOutputSize !== units.outputDim) {
        throw new Error(`CfC: the wiring's last layer has ${this.cellOutputSize} neurons but output_dim is ${units.outputDim}`);
      }
    } else {
      this.wiring = null;
      const H = units as number;
      this.cells.push(new CfCCellCore(engine, this.params, prefix, inputSize, H, { mode, activation, backboneUnits, backboneLayers, backboneDropout, variant }, this.rng));
      this.offsets.push(0);
      this.stateSize = H;
      this.cellOutputSize = H;
      this.outputOffset = 0;
    }
    this.buildHeadAndTail();
    if (this.lstm) this.lstm.forgetBias = forgetBias;
  }

  toConfig(): { model: string; constructor_args: Record<string, unknown> } {
    const c = this.config;
    const args: Record<string, unknown> = {
      input_size: this.inputSize,
      units: this.wiring ? { wiring: wiringToSpec(this.wiring) } : this.stateSize,
      proj_size: c.projSize,
      return_sequences: c.returnSequences,
      batch_first: c.batchFirst,
      mixed_memory: c.mixedMemory,
      mode: c.mode,
      variant: c.variant,
    };
    if (c.mixedMemory) args.forget_bias = c.forgetBias;
    if (this.wiring) {
      if (c.wiringRecurrence) args.wiring_recurrence = true;
    } else {
      Object.assign(args, { activation: c.activation, backbone_units: c.backboneUnits, backbone_layers: c.backboneLayers, backbone_dropout: c.backboneDropout });
    }
    return { model: "CfC", constructor_args: args };
  }

  protected corePrepare(): void {
    for (const c of this.cells) c.prepare();
  }

  protected coreCache(steps: number, rows: number, mode: PassMode): CfCCellCache[] {
    return this.cells.map((c) => new CfCCellCache(this.engine, c, steps, rows, mode));
  }

  protected coreForward(cache: unknown, slot: number, rows: number, x: number, ldx: number, hPrev: number, hOut: number, ts: number, y: number, dropout: Rng | null): void {
    const caches = cache as CfCCellCache[];
    const S = this.stateSize;
    let inp = x;
    let ldIn = ldx;
    for (let l = 0; l < this.cells.length; l++) {
      const off = this.offsets[l];
      this.cells[l].forwardStep(caches[l], slot, rows, inp, ldIn, hPrev + off, S, ts, hOut + off, S, dropout);
      inp = hOut + off;
      ldIn = S;
    }
    this.engine.copyRows(rows, this.cellOutputSize, hOut + this.outputOffset, S, y, this.cellOutputSize);
  }

  protected coreBackward(cache: unknown, slot: number, rows: number, dy: number, dh: number, dx: number, ldDx: number, dhPrev: number, ts: number, dts: number): void {
    const caches = cache as CfCCellCache[];
    const S = this.stateSize;
    const e = this.engine;
    e.addRows(rows, this.cellOutputSize, dy, this.cellOutputSize, dh + this.outputOffset, S);
    for (let l = this.cells.length - 1; l >= 0; l--) {
      const off = this.offsets[l];
      const inGrad = l === 0 ? dx : dh + this.offsets[l - 1];
      const ldIn = l === 0 ? ldDx : S;
      this.cells[l].backwardStep(caches[l], slot, rows, dh + off, S, inGrad, ldIn, dhPrev + off, S, ts);
      e.axpy(rows, 1, caches[l].dts + slot * caches[l].rows, dts);
    }
  }

  protected coreFinishBackward(cache: unknown, steps: number, _x: number, _hPrev: number): void {
    const caches = cache as CfCCellCache[];
    this.cells.forEach((c, l) => c.finishBackward(caches[l], steps));
  }
}
