/**
 * The core of one CfC cell (ncps torch `CfCCell`) on the engine: a backbone of [Linear -> activation]
 * blocks over [input | state], then the heads ff1, ff2, time_a, time_b as one fused linear layer, then
 * the closed-form update. The equations are the engine's: eq. 4 of the paper (modes default and
 * no_gate): engine cfcForward / cfcBackward; eq. 3 (Cf-S, mode pure): engine cfcPureForward /
 * cfcPureBackward; the linear layers: nn/linear.ts. A wired CfC is a stack of these cells without
 * backbone and with a sparsity mask on ff1 and ff2 (wired-layers.ts).
 *
 * The variant (cfc-variant.ts) selects the head activation and gate sign passed to cfcForward /
 * cfcBackward, the dropout placement and the initialisation.
 *
 * The cell computes a step at a time into per-step caches laid out as (steps x rows) blocks, so that the
 * weight gradients of a whole sequence are one large matmul each (`finishBackward`).
 */
import { Act, type BackboneActivation, CfcMode, type CfcModeName, type Engine } from "../engine/engine.js";
import { linearDefault, xavierUniform } from "../nn/init.js";
import {
  type Linear,
  addLinear,
  createLinear,
  linearBackwardInput,
  linearBackwardWeights,
  linearForward,
  linearMatmul,
  linearPrepare,
} from "../nn/linear.js";
import type { ParamOffsets, ParameterSet } from "../nn/parameters.js";
import type { Rng } from "../nn/rng.js";
import { CFC_VARIANT_FORMS, type CfcVariant, type CfcVariantForm } from "./cfc-variant.js";
import type { PassMode } from "./recurrent.js";

export interface CfCCellCoreOptions {
  mode: CfcModeName;
  activation: BackboneActivation;
  backboneUnits: number;
  backboneLayers: number;
  backboneDropout: number;
  variant: CfcVariant;
}

/**
 * Per-step activations for `steps` steps of up to `rows` rows each: dropout masks when the pass trains,
 * gradient buffers when it keeps a tape for backward.
 */
export class CfCCellCache {
  readonly z: number; // (steps*rows) x cat: [input | previous state]
  readonly pre: number[]; // backbone pre-activations, per layer
  readonly post: number[]; // backbone outputs (after dropout), per layer
  readonly dropMask: number[]; // per layer (or -1)
  readonly heads: number; // (steps*rows) x nh*H head cache
  readonly dHeads: number;
  readonly dPre: number[];
  readonly dY: number; // rows x max width scratch
  readonly dts: number; // steps*rows
  readonly transposeScratch: number;

  constructor(engine: Engine, cell: CfCCellCore, readonly steps: number, readonly rows: number, { training, grad }: PassMode) {
    const R = steps * rows;
    const U = cell.backboneUnits;
    const nb = cell.backbone.length;
    this.z = engine.alloc(R * cell.catSize);
    this.pre = [];
    this.post = [];
    this.dropMask = [];
    this.dPre = [];
    for (let l = 0; l < nb; l++) {
      this.pre.push(engine.alloc(R * U));
      this.post.push(engine.alloc(R * U));
      this.dropMask.push(training && cell.dropoutAfter(l) ? engine.alloc(R * U) : -1);
      this.dPre.push(grad ? engine.alloc(R * U) : -1);
    }
    this.heads = engine.alloc(R * cell.headWidth);
    this.dHeads = grad ? engine.alloc(R * cell.headWidth) : -1;
    this.dY = grad ? engine.alloc(rows * Math.max(cell.headIn, U)) : -1;
    this.dts = grad ? engine.alloc(R) : -1;
    const widest = Math.max(cell.headWidth, nb > 0 ? U : 0);
    this.transposeScratch = grad ? engine.alloc(R * widest) : -1;
  }
}

export class CfCCellCore {
  readonly mode: number;
  readonly act: number;
  readonly catSize: number;
  readonly headIn: number;
  readonly headWidth: number;
  readonly backboneUnits: number;
  readonly form: CfcVariantForm;
  readonly backbone: Linear[] = [];
  /**
   * ff1, ff2, time_a, time_b (pure mode: ff1 alone) as one layer [ff1 | ff2 | time_a | time_b] so they run
   * as one matmul; their biases are added by the engine's cfc kernels. Wired cells run it with the masked
   * weight (effectiveWeight).
   */
  readonly heads: Linear;
  /** pure mode: w_tau and A (1 x H) */
  readonly wTau: ParamOffsets = { value: -1, grad: -1 };
  readonly a: ParamOffsets = { value: -1, grad: -1 };
  /** wired: [H, cat] 0/1 mask on ff1 and ff2 */
  private mask = -1;

  constructor(
    readonly engine: Engine,
    readonly params: ParameterSet,
    readonly prefix: string,
    readonly inputSize: number,
    readonly hiddenSize: number,
    readonly options: CfCCellCoreOptions,
    rng: Rng,
    sparsityMask?: Float64Array,
  ) {
    const H = hiddenSize;
    this.mode = CfcMode[options.mode];
    this.act = Act[options.activation];
    this.form = CFC_VARIANT_FORMS[options.variant];
    this.catSize = inputSize + H;
    this.backboneUnits = options.backboneLayers > 0 ? options.backboneUnits : 0;
    this.headIn = options.backboneLayers > 0 ? options.backboneUnits : this.catSize;
    const nHeads = options.mode === "pure" ? 1 : 4;
    this.headWidth = nHeads * H;

    // state_dict order (ncps): sparsity_mask, then pure mode's w_tau and A, then the submodules.
    if (sparsityMask) {
      const m = params.add(`${prefix}sparsity_mask`, [H, this.catSize], false);
      this.mask = m.offsets.value;
      engine.heap().set(sparsityMask, this.mask);
    }
    if (options.mode === "pure") {
      this.wTau = params.region(H, true);
      params.register(`${prefix}w_tau`, [1, H], this.wTau);
      this.a = params.region(H, true);
      params.register(`${prefix}A`, [1, H], this.a);
    }
    let inF = this.catSize;
    const moduleIndex = this.backboneModuleIndices();
    for (let l = 0; l < options.backboneLayers; l++) {
      this.backbone.push(addLinear(params, `${prefix}backbone.${moduleIndex[l]}`, inF, options.backboneUnits, true));
      inF = options.backboneUnits;
    }
    const w = params.region(this.headWidth * this.headIn, true);
    const b = params.region(this.headWidth, true);
    const names = options.mode === "pure" ? ["ff1"] : ["ff1", "ff2", "time_a", "time_b"];
    names.forEach((name, i) => {
      params.register(`${prefix}${name}.weight`, [H, this.headIn], { value: w.value + i * H * this.headIn, grad: w.grad + i * H * this.headIn });
      params.register(`${prefix}${name}.bias`, [H], { value: b.value + i * H, grad: b.grad + i * H });
    });
    // a wired cell's forward pass reads a masked copy of the head weights (torch layout)
    const effectiveWeight = this.mask >= 0 ? engine.alloc(this.headWidth * this.headIn) : w.value;
    this.heads = createLinear(engine, this.headIn, this.headWidth, w, b, effectiveWeight);
    this.initialise(rng);
  }

  /** torch Sequential indices: Linear, act[, Dropout] per layer (torch: dropout only after layers 2, 3, ...) */
  private backboneModuleIndices(): number[] {
    const idx: number[] = [];
    let i = 0;
    for (let l = 0; l < this.options.backboneLayers; l++) {
      idx.push(i);
      i += 2 + (this.dropoutAfter(l) ? 1 : 0);
    }
    return idx;
  }

  dropoutAfter(layer: number): boolean {
    return this.options.backboneDropout > 0 && (layer >= 1 || this.form.dropoutAfterEveryLayer);
  }

  /**
   * ncps torch init: xavier_uniform on every trainable 2-D tensor, torch's default U(+-1/sqrt(fan_in)) on
   * biases. Keras init (keras, paper variants): glorot_uniform kernels, zero biases, w_tau 0 and A 1.
   */
  private initialise(rng: Rng): void {
    const H = this.hiddenSize;
    const keras = this.form.kerasInit;
    const put = (off: number, values: Float64Array) => this.engine.heap().set(values, off);
    const initBias = (b: Float64Array, fanIn: number) => {
      if (!keras) linearDefault(b, fanIn, rng);
    };
    if (this.mode === CfcMode.pure) {
      for (const [p, kerasValue] of [[this.wTau, 0], [this.a, 1]] as const) {
        const v = new Float64Array(H);
        if (keras) v.fill(kerasValue);
        else xavierUniform(v, 1, H, rng);
        put(p.value, v);
      }
    }
    for (const lin of this.backbone) {
      const w = new Float64Array(lin.outFeatures * lin.inFeatures);
      xavierUniform(w, lin.outFeatures, lin.inFeatures, rng);
      put(lin.weight.value, w);
      const b = new Float64Array(lin.outFeatures);
      initBias(b, lin.inFeatures);
      put(lin.bias!.value, b);
    }
    const nHeads = this.headWidth / H;
    for (let i = 0; i < nHeads; i++) {
      const w = new Float64Array(H * this.headIn);
      xavierUniform(w, H, this.headIn, rng);
      put(this.heads.weight.value + i * H * this.headIn, w);
      const b = new Float64Array(H);
      initBias(b, this.headIn);
      put(this.heads.bias!.value + i * H, b);
    }
  }

  /** Refreshes the transposed (and masked) weight copies; call after the weights changed. */
  prepare(): void {
    const e = this.engine;
    for (const lin of this.backbone) linearPrepare(e, lin);
    const h = this.heads;
    if (this.mask >= 0) {
      e.copy(h.weight.value, h.effectiveWeight, h.outFeatures * h.inFeatures);
      this.applyMask(h.effectiveWeight);
    }
    linearPrepare(e, h);
  }

  /** Multiplies the ff1 and ff2 blocks of a head-weight-shaped buffer by the sparsity mask (ncps masks only those). */
  private applyMask(headWeights: number): void {
    const e = this.engine;
    const block = this.hiddenSize * this.headIn;
    e.mul(block, headWeights, this.mask, headWeights);
    if (this.mode !== CfcMode.pure) e.mul(block, headWeights + block, this.mask, headWeights + block);
  }

  /**
   * One step for `rows` rows into cache slot `slot`: input x (rows x inputSize, row stride ldx), previous
   * state hPrev (ld ldh), elapsed times ts (rows), new state written to hOut (ld ldOut). Dropout (with
   * masks from dropoutRng) when the cache was made for training and dropoutRng is given.
   */
  forwardStep(c: CfCCellCache, slot: number, rows: number, x: number, ldx: number, hPrev: number, ldh: number, ts: number, hOut: number, ldOut: number, dropoutRng: Rng | null): void {
    const e = this.engine;
    const I = this.inputSize;
    const H = this.hiddenSize;
    const cat = this.catSize;
    const z = c.z + slot * c.rows * cat;
    e.copyRows(rows, I, x, ldx, z, cat);
    e.copyRows(rows, H, hPrev, ldh, z + I, cat);
    let inp = z;
    let ldIn = cat;
    const U = this.backboneUnits;
    for (let l = 0; l < this.backbone.length; l++) {
      const pre = c.pre[l] + slot * c.rows * U;
      const post = c.post[l] + slot * c.rows * U;
      linearForward(e, this.backbone[l], rows, inp, ldIn, pre, U, this.act, post, U);
      if (dropoutRng && c.dropMask[l] >= 0) {
        const mask = c.dropMask[l] + slot * c.rows * U;
        this.fillDropoutMask(mask, rows * U, dropoutRng);
        e.mul(rows * U, post, mask, post);
      }
      inp = post;
      ldIn = U;
    }
    const heads = c.heads + slot * c.rows * this.headWidth;
    linearMatmul(e, this.heads, rows, inp, ldIn, heads, this.headWidth, false);
    if (this.mode === CfcMode.pure) {
      e.cfcPureForward(rows, H, heads, this.heads.bias!.value, ts, this.wTau.value, this.a.value, hOut, ldOut);
    } else {
      e.cfcForward(this.mode, rows, H, heads, this.heads.bias!.value, ts, hOut, ldOut, this.form.headAct, this.form.gateSign);
    }
  }

  /** Inverted dropout: kept units scaled by 1/(1-p), as torch. */
  private fillDropoutMask(off: number, n: number, rng: Rng): void {
    const p = this.options.backboneDropout;
    const keep = 1 / (1 - p);
    const heap = this.engine.heap();
    for (let i = 0; i < n; i++) heap[off + i] = rng.uniform() < p ? 0 : keep;
  }

  /**
   * Backward of one step: dh (rows x H, ld ldDh) is d loss / d hOut. Accumulates d loss / d x into dx
   * (ld ldDx) and d loss / d hPrev into dhPrev (ld ldDhPrev); writes d loss / d ts into the cache's dts.
   * Weight gradients are left to `finishBackward`.
   */
  backwardStep(c: CfCCellCache, slot: number, rows: number, dh: number, ldDh: number, dx: number, ldDx: number, dhPrev: number, ldDhPrev: number, ts: number): void {
    const e = this.engine;
    const H = this.hiddenSize;
    const I = this.inputSize;
    const U = this.backboneUnits;
    const hw = this.headWidth;
    const heads = c.heads + slot * c.rows * hw;
    const dHeads = c.dHeads + slot * c.rows * hw;
    const dts = c.dts + slot * c.rows;
    if (this.mode === CfcMode.pure) {
      e.cfcPureBackward(rows, H, heads, ts, this.wTau.value, this.a.value, dh, ldDh, dHeads, dts, this.wTau.grad, this.a.grad);
    } else {
      e.cfcBackward(this.mode, rows, H, heads, ts, dh, ldDh, dHeads, dts, this.form.headAct, this.form.gateSign);
    }
    // walk the layers back: `layer` is the one whose output gradient dOut (ld ldOut) holds
    let layer = this.heads;
    let dOut = dHeads;
    let ldOut = hw;
    for (let l = this.backbone.length - 1; l >= 0; l--) {
      linearBackwardInput(e, layer, rows, dOut, ldOut, c.dY, U, false);
      if (c.dropMask[l] >= 0) e.mul(rows * U, c.dY, c.dropMask[l] + slot * c.rows * U, c.dY);
      const dPre = c.dPre[l] + slot * c.rows * U;
      e.actBackward(rows, U, this.act, c.pre[l] + slot * c.rows * U, U, c.dY, U, dPre, U);
      layer = this.backbone[l];
      dOut = dPre;
      ldOut = U;
    }
    // the first layer reads [input | hPrev]: each part's gradient goes straight to its destination
    linearBackwardInput(e, layer, rows, dOut, ldOut, dx, ldDx, true, 0, I);
    linearBackwardInput(e, layer, rows, dOut, ldOut, dhPrev, ldDhPrev, true, I, H);
  }

  /** Weight and bias gradients of all `steps` cached steps at once (rows per step as in the cache). */
  finishBackward(c: CfCCellCache, steps: number): void {
    const e = this.engine;
    const R = steps * c.rows;
    const U = this.backboneUnits;
    const T = c.transposeScratch;
    const headInput = this.backbone.length > 0 ? c.post[this.backbone.length - 1] : c.z;
    linearBackwardWeights(e, this.heads, R, c.dHeads, this.headWidth, headInput, this.headIn, T);
    if (this.mask >= 0) this.applyMask(this.heads.weight.grad);
    for (let l = 0; l < this.backbone.length; l++) {
      const input = l === 0 ? c.z : c.post[l - 1];
      linearBackwardWeights(e, this.backbone[l], R, c.dPre[l], U, input, this.backbone[l].inFeatures, T);
    }
  }
}
