/**
 * One CfC cell (ncps torch `CfCCell`), the engine-level part: backbone of [Linear -> activation] blocks over [input | state],
 * then heads ff1, ff2, time_a, time_b and the closed-form update (eq. 4 of the paper, torch form):
 *   default: h' = ff1 * (1 - s) + s * ff2     no_gate: h' = ff1 + s * ff2     s = sigmoid(time_a * t + time_b)
 *   pure (Cf-S, eq. 3): h' = A - A * exp(-t (|w_tau| + |ff1|)) * ff1, ff1 linear.
 * The kernels themselves are in the engine (cfcForward / cfcBackward / cfcPure*). A wired CfC is a stack
 * of these cells without backbone and with a sparsity mask on ff1 and ff2 (wired-layers.ts).
 *
 * The cell computes a step at a time into per-step caches laid out as (steps x rows) blocks, so that the
 * weight gradients of a whole sequence are one large matmul each (`finishBackward`).
 */
import { Act, type BackboneActivation, CfcMode, type CfcModeName, type Engine } from "../engine/engine.js";
import { linearDefault, xavierUniform } from "../nn/init.js";
import type { ParameterSet } from "../nn/parameters.js";
import type { Rng } from "../nn/rng.js";
import type { PassMode } from "./recurrent.js";

export interface CfCCellCoreOptions {
  mode: CfcModeName;
  activation: BackboneActivation;
  backboneUnits: number;
  backboneLayers: number;
  backboneDropout: number;
}

interface Linear {
  inF: number;
  outF: number;
  w: number; // [outF, inF] torch layout
  gw: number;
  b: number;
  gb: number;
  wt: number; // [inF, outF] transposed copy for the forward matmul
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
  readonly backbone: Linear[] = [];
  readonly heads: Linear;
  /** pure mode: w_tau and A (1 x H) */
  readonly wTau = { v: -1, g: -1 };
  readonly a = { v: -1, g: -1 };
  /** wired: [H, cat] 0/1 mask on ff1 and ff2; heads.wt then holds the masked transpose */
  private mask = -1;
  /** masked copy of the head weights in torch layout for the backward matmul */
  private headsEff = -1;

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
    this.catSize = inputSize + H;
    this.backboneUnits = options.backboneLayers > 0 ? options.backboneUnits : 0;
    this.headIn = options.backboneLayers > 0 ? options.backboneUnits : this.catSize;
    const nHeads = options.mode === "pure" ? 1 : 4;
    this.headWidth = nHeads * H;

    // state_dict order (ncps): sparsity_mask, then pure mode's w_tau and A, then the submodules.
    if (sparsityMask) {
      const m = params.add(`${prefix}sparsity_mask`, [H, this.catSize], false);
      this.mask = m.offset;
      engine.heap().set(sparsityMask, m.offset);
    }
    if (options.mode === "pure") {
      const rw = params.region(H, true);
      params.register(`${prefix}w_tau`, [1, H], rw.value, rw.grad);
      this.wTau.v = rw.value;
      this.wTau.g = rw.grad;
      const ra = params.region(H, true);
      params.register(`${prefix}A`, [1, H], ra.value, ra.grad);
      this.a.v = ra.value;
      this.a.g = ra.grad;
    }
    let inF = this.catSize;
    const moduleIndex = this.backboneModuleIndices(options);
    for (let l = 0; l < options.backboneLayers; l++) {
      const lin = this.linear(`${prefix}backbone.${moduleIndex[l]}`, inF, options.backboneUnits, true);
      this.backbone.push(lin);
      inF = options.backboneUnits;
    }
    // The heads share one block [ff1 | ff2 | time_a | time_b] so they run as one matmul.
    const w = params.region(this.headWidth * this.headIn, true);
    const b = params.region(this.headWidth, true);
    const names = options.mode === "pure" ? ["ff1"] : ["ff1", "ff2", "time_a", "time_b"];
    names.forEach((name, i) => {
      params.register(`${prefix}${name}.weight`, [H, this.headIn], w.value + i * H * this.headIn, w.grad + i * H * this.headIn);
      params.register(`${prefix}${name}.bias`, [H], b.value + i * H, b.grad + i * H);
    });
    this.heads = { inF: this.headIn, outF: this.headWidth, w: w.value, gw: w.grad, b: b.value, gb: b.grad, wt: engine.alloc(this.headWidth * this.headIn) };
    if (this.mask >= 0) this.headsEff = engine.alloc(this.headWidth * this.headIn);
    this.initialise(rng);
  }

  /** torch Sequential indices: Linear, act[, Dropout] per layer; dropout only after layers 2, 3, ... */
  private backboneModuleIndices(o: CfCCellCoreOptions): number[] {
    const idx: number[] = [];
    let i = 0;
    for (let l = 0; l < o.backboneLayers; l++) {
      idx.push(i);
      i += 2 + (l >= 1 && o.backboneDropout > 0 ? 1 : 0);
    }
    return idx;
  }

  dropoutAfter(layer: number): boolean {
    return layer >= 1 && this.options.backboneDropout > 0;
  }

  private linear(name: string, inF: number, outF: number, bias: boolean): Linear {
    const w = this.params.region(outF * inF, true);
    this.params.register(`${name}.weight`, [outF, inF], w.value, w.grad);
    let b = { value: -1, grad: -1 };
    if (bias) {
      b = this.params.region(outF, true);
      this.params.register(`${name}.bias`, [outF], b.value, b.grad);
    }
    return { inF, outF, w: w.value, gw: w.grad, b: b.value, gb: b.grad, wt: this.engine.alloc(inF * outF) };
  }

  /** ncps init: xavier_uniform on every trainable 2-D tensor, torch's default U(+-1/sqrt(fan_in)) on biases. */
  private initialise(rng: Rng): void {
    const H = this.hiddenSize;
    const put = (off: number, values: Float64Array) => this.engine.heap().set(values, off);
    if (this.mode === CfcMode.pure) {
      for (const p of [this.wTau, this.a]) {
        const v = new Float64Array(H);
        xavierUniform(v, 1, H, rng);
        put(p.v, v);
      }
    }
    for (const lin of this.backbone) {
      const w = new Float64Array(lin.outF * lin.inF);
      xavierUniform(w, lin.outF, lin.inF, rng);
      put(lin.w, w);
      const b = new Float64Array(lin.outF);
      linearDefault(b, lin.inF, rng);
      put(lin.b, b);
    }
    const nHeads = this.headWidth / H;
    for (let i = 0; i < nHeads; i++) {
      const w = new Float64Array(H * this.headIn);
      xavierUniform(w, H, this.headIn, rng);
      put(this.heads.w + i * H * this.headIn, w);
      const b = new Float64Array(H);
      linearDefault(b, this.headIn, rng);
      put(this.heads.b + i * H, b);
    }
  }

  /** Refreshes the transposed (and masked) weight copies; call after the weights changed. */
  prepare(): void {
    const e = this.engine;
    for (const lin of this.backbone) e.transpose(lin.outF, lin.inF, lin.w, lin.inF, lin.wt, lin.outF);
    const h = this.heads;
    if (this.mask >= 0) {
      const block = this.hiddenSize * h.inF;
      e.copy(h.w, this.headsEff, h.outF * h.inF);
      e.mul(block, this.headsEff, this.mask, this.headsEff);
      if (this.mode !== CfcMode.pure) e.mul(block, this.headsEff + block, this.mask, this.headsEff + block);
      e.transpose(h.outF, h.inF, this.headsEff, h.inF, h.wt, h.outF);
    } else {
      e.transpose(h.outF, h.inF, h.w, h.inF, h.wt, h.outF);
    }
  }

  /** The head weights as used in the forward pass, torch layout (masked for wired cells). */
  private headWeights(): number {
    return this.mask >= 0 ? this.headsEff : this.heads.w;
  }

  /**
   * One step for `rows` rows into cache slot `slot`: input x (rows x inputSize, row stride ldx), previous
   * state hPrev (ld ldh), elapsed times ts (rows), new state written to hOut (ld ldOut).
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
      const lin = this.backbone[l];
      const pre = c.pre[l] + slot * c.rows * U;
      const post = c.post[l] + slot * c.rows * U;
      e.gemm(rows, U, lin.inF, inp, ldIn, lin.wt, U, pre, U, false);
      e.biasAct(rows, U, this.act, pre, U, lin.b, post, U);
      if (dropoutRng && c.dropMask[l] >= 0) {
        const mask = c.dropMask[l] + slot * c.rows * U;
        this.fillDropoutMask(mask, rows * U, dropoutRng);
        e.mul(rows * U, post, mask, post);
      }
      inp = post;
      ldIn = U;
    }
    const heads = c.heads + slot * c.rows * this.headWidth;
    e.gemm(rows, this.headWidth, this.headIn, inp, ldIn, this.heads.wt, this.headWidth, heads, this.headWidth, false);
    if (this.mode === CfcMode.pure) {
      e.cfcPureForward(rows, H, heads, this.heads.b, ts, this.wTau.v, this.a.v, hOut, ldOut);
    } else {
      e.cfcForward(this.mode, rows, H, heads, this.heads.b, ts, hOut, ldOut);
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
      e.cfcPureBackward(rows, H, heads, ts, this.wTau.v, this.a.v, dh, ldDh, dHeads, dts, this.wTau.g, this.a.g);
    } else {
      e.cfcBackward(this.mode, rows, H, heads, ts, dh, ldDh, dHeads, dts);
    }
    let dOut = dHeads;
    let ldOut = hw;
    let w = this.headWeights();
    let wIn = this.headIn;
    let wOut = hw;
    for (let l = this.backbone.length - 1; l >= 0; l--) {
      // d(post_l) = dOut . W (rows x U)
      e.gemm(rows, U, wOut, dOut, ldOut, w, wIn, c.dY, U, false);
      if (c.dropMask[l] >= 0) e.mul(rows * U, c.dY, c.dropMask[l] + slot * c.rows * U, c.dY);
      const dPre = c.dPre[l] + slot * c.rows * U;
      e.actBackward(rows, U, this.act, c.pre[l] + slot * c.rows * U, U, c.dY, U, dPre, U);
      dOut = dPre;
      ldOut = U;
      w = this.backbone[l].w;
      wIn = this.backbone[l].inF;
      wOut = U;
    }
    // d[input | hPrev] = dOut . W, split by columns straight into the two destinations.
    e.gemm(rows, I, wOut, dOut, ldOut, w, wIn, dx, ldDx, true);
    e.gemm(rows, H, wOut, dOut, ldOut, w + I, wIn, dhPrev, ldDhPrev, true);
  }

  /** Weight and bias gradients of all `steps` cached steps at once (rows per step as in the cache). */
  finishBackward(c: CfCCellCache, steps: number): void {
    const e = this.engine;
    const R = steps * c.rows;
    const U = this.backboneUnits;
    const T = c.transposeScratch;
    const hw = this.headWidth;
    const headInput = this.backbone.length > 0 ? c.post[this.backbone.length - 1] : c.z;
    e.transpose(R, hw, c.dHeads, hw, T, R);
    e.gemm(hw, this.headIn, R, T, R, headInput, this.headIn, this.heads.gw, this.headIn, true);
    e.colSum(R, hw, c.dHeads, hw, this.heads.gb);
    if (this.mask >= 0) {
      const block = this.hiddenSize * this.headIn;
      e.mul(block, this.heads.gw, this.mask, this.heads.gw);
      if (this.mode !== CfcMode.pure) e.mul(block, this.heads.gw + block, this.mask, this.heads.gw + block);
    }
    for (let l = 0; l < this.backbone.length; l++) {
      const lin = this.backbone[l];
      const input = l === 0 ? c.z : c.post[l - 1];
      e.transpose(R, U, c.dPre[l], U, T, R);
      e.gemm(U, lin.inF, R, T, R, input, lin.inF, lin.gw, lin.inF, true);
      e.colSum(R, U, c.dPre[l], U, lin.gb);
    }
  }
}
