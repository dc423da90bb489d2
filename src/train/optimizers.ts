import type { FloatArray } from "../tensor.js";
import { assertParamRefs, zeroGrads, type ParamRef } from "../nn/param-ref.js";
import { updateKernels } from "./update-kernels.js";

/**
 * First-order optimizers with PyTorch's update rules (torch.optim, single-tensor CPU path, no amsgrad,
 * maximize=False). Each update runs in the parameters' own precision: for Float32Array parameters the
 * moment buffers are Float32Array and every intermediate is rounded to float32 the way torch's float32
 * kernels round it, so a float32 run tracks a float32 torch run closely; Float64Array parameters get
 * float64 buffers and plain double arithmetic.
 */

export type OptimizerKind = "adam" | "adamw" | "rmsprop" | "sgd";
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ["adam", "adamw", "rmsprop", "sgd"];

export type HyperValue = number | boolean | readonly number[];

/**
 * Everything needed to resume an optimizer bit-exactly. Buffer keys are "<param name>/<buffer name>"
 * (buffer names: exp_avg, exp_avg_sq, square_avg, grad_avg, momentum_buffer); `paramSteps` is the
 * per-parameter step count torch keeps (Adam's bias correction uses it).
 */
export interface OptimizerState {
  kind: OptimizerKind;
  step: number;
  lr: number;
  hyper: Record<string, HyperValue>;
  paramSteps: Record<string, number>;
  buffers: Record<string, FloatArray>;
}

/** What `loadState` accepts: like OptimizerState, but buffers may be plain number arrays (e.g. from JSON). */
export interface OptimizerStateInput {
  kind: string;
  step: number;
  lr: number;
  hyper: Record<string, unknown>;
  paramSteps: Record<string, number>;
  buffers: Record<string, ArrayLike<number>>;
}

export interface Optimizer {
  readonly kind: OptimizerKind;
  /** Learning rate used by the next step; schedules assign it. */
  lr: number;
  /** Number of completed step() calls. */
  readonly stepCount: number;
  /** Updates every parameter's value in place from its gradient. */
  step(params: readonly ParamRef[]): void;
  zeroGrad(params: readonly ParamRef[]): void;
  /** A deep copy of the optimizer's state; later steps do not change it. */
  state(): OptimizerState;
  /**
   * Replaces hyperparameters, learning rate and buffers with a saved state (copied). With `params`,
   * also checks that the state describes exactly those parameters with matching lengths.
   */
  loadState(state: OptimizerStateInput, params?: readonly ParamRef[]): void;
}

export interface AdamOptions {
  lr: number;
  betas?: readonly [number, number];
  eps?: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay, p -= lr * weightDecay * p. */
  weightDecay?: number;
}

export interface RMSpropOptions {
  lr: number;
  alpha?: number;
  eps?: number;
  momentum?: number;
  centered?: boolean;
  weightDecay?: number;
}

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export type OptimizerOptions = AdamOptions | RMSpropOptions | SGDOptions;
/** Any optimizer's settings in one bag (what a command line collects before the optimizer is known). */
export type AnyOptimizerOptions = { lr: number } & Partial<Omit<AdamOptions & RMSpropOptions & SGDOptions, "lr">>;

type Round = (x: number) => number;
const exact: Round = (x) => x;

interface ParamSlot {
  step: number;
  buffers: Record<string, FloatArray>;
}

function checkNumber(kind: string, name: string, value: unknown, min: number, max = Infinity, minInclusive = true, maxInclusive = true): number {
  const ok =
    typeof value === "number" &&
    Number.isFinite(value) &&
    (minInclusive ? value >= min : value > min) &&
    (maxInclusive ? value <= max : value < max);
  if (!ok) {
    const lo = `${minInclusive ? "[" : "("}${min}`;
    const hi = `${max}${maxInclusive ? "]" : ")"}`;
    throw new Error(`${kind}: ${name} must be a finite number in ${lo}, ${hi}, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

function checkBoolean(kind: string, name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new Error(`${kind}: ${name} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function sameDtypeArray(like: FloatArray, n: number): FloatArray {
  return like instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
}

function copyArray(a: FloatArray): FloatArray {
  return a instanceof Float32Array ? new Float32Array(a) : new Float64Array(a);
}

/** torch.lerp's two-branch formula, which keeps the result exact at both ends. */
function lerp(start: number, end: number, weight: number, r: Round): number {
  return weight < 0.5 ? r(start + r(weight * r(end - start))) : r(end - r(r(end - start) * r(1 - weight)));
}

abstract class BaseOptimizer implements Optimizer {
  abstract readonly kind: OptimizerKind;
  private _lr = 0;
  private _step = 0;
  private slots = new Map<string, ParamSlot>();

  get lr(): number {
    return this._lr;
  }
  set lr(value: number) {
    this._lr = checkNumber(this.kind, "lr", value, 0);
  }
  get stepCount(): number {
    return this._step;
  }

  /** Names of the per-parameter buffers the current hyperparameters need. */
  protected abstract bufferNames(): string[];
  /** Current hyperparameters (learning rate excluded) for state(). */
  protected abstract hyper(): Record<string, HyperValue>;
  /** Validates and applies saved hyperparameters. */
  protected abstract setHyper(hyper: Record<string, unknown>): void;
  /** Updates one parameter; `slot.step` already counts this step. */
  protected abstract update(p: ParamRef, slot: ParamSlot, r: Round): void;

  step(params: readonly ParamRef[]): void {
    assertParamRefs(params, `${this.kind}.step`);
    for (const p of params) {
      const slot = this.slotFor(p);
      slot.step += 1;
      this.update(p, slot, p.value instanceof Float32Array ? Math.fround : exact);
    }
    this._step += 1;
  }

  zeroGrad(params: readonly ParamRef[]): void {
    zeroGrads(params);
  }

  private slotFor(p: ParamRef): ParamSlot {
    let slot = this.slots.get(p.name);
    if (!slot) {
      slot = { step: 0, buffers: {} };
      for (const b of this.bufferNames()) slot.buffers[b] = sameDtypeArray(p.value, p.value.length);
      this.slots.set(p.name, slot);
      return slot;
    }
    for (const b of this.bufferNames()) {
      const buf = slot.buffers[b];
      if (buf.length !== p.value.length) {
        throw new Error(`${this.kind}.step: optimizer buffer "${p.name}/${b}" has length ${buf.length} but parameter "${p.name}" has ${p.value.length} values`);
      }
      // A loaded state may hold float64 copies of float32 buffers (or the reverse); convert once.
      if (buf.constructor !== p.value.constructor) {
        const converted = sameDtypeArray(p.value, buf.length);
        converted.set(buf);
        slot.buffers[b] = converted;
      }
    }
    return slot;
  }

  state(): OptimizerState {
    const paramSteps: Record<string, number> = {};
    const buffers: Record<string, FloatArray> = {};
    for (const [name, slot] of this.slots) {
      paramSteps[name] = slot.step;
      for (const [b, buf] of Object.entries(slot.buffers)) buffers[`${name}/${b}`] = copyArray(buf);
    }
    const hyper: Record<string, HyperValue> = {};
    for (const [k, v] of Object.entries(this.hyper())) hyper[k] = Array.isArray(v) ? [...v] : v;
    return { kind: this.kind, step: this._step, lr: this._lr, hyper, paramSteps, buffers };
  }

  loadState(state: OptimizerStateInput, params?: readonly ParamRef[]): void {
    const where = `${this.kind}.loadState`;
    if (state === null || typeof state !== "object") throw new Error(`${where}: expected a state object, got ${JSON.stringify(state)}`);
    if (state.kind !== this.kind) {
      throw new Error(`${where}: the saved state belongs to optimizer "${String(state.kind)}", not "${this.kind}"`);
    }
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`${where}: step must be a non-negative integer, got ${JSON.stringify(state.step)}`);
    checkNumber(where, "lr", state.lr, 0);
    if (state.hyper === null || typeof state.hyper !== "object") throw new Error(`${where}: hyper must be an object, got ${JSON.stringify(state.hyper)}`);
    if (state.paramSteps === null || typeof state.paramSteps !== "object") throw new Error(`${where}: paramSteps must be an object`);
    if (state.buffers === null || typeof state.buffers !== "object") throw new Error(`${where}: buffers must be an object`);

    // Validate everything into fresh structures first so a bad state leaves this optimizer untouched.
    const previousHyper = this.hyper();
    this.setHyper(state.hyper);
    try {
      const names = this.bufferNames();
      const slots = new Map<string, ParamSlot>();
      for (const [name, step] of Object.entries(state.paramSteps)) {
        if (!Number.isInteger(step) || step < 0) throw new Error(`${where}: paramSteps["${name}"] must be a non-negative integer, got ${JSON.stringify(step)}`);
        slots.set(name, { step, buffers: {} });
      }
      for (const [key, values] of Object.entries(state.buffers)) {
        const cut = key.lastIndexOf("/");
        const name = key.slice(0, cut);
        const b = key.slice(cut + 1);
        const slot = slots.get(name);
        if (cut < 0 || !slot) throw new Error(`${where}: buffer "${key}" does not name a parameter listed in paramSteps (expected "<param>/<buffer>")`);
        if (!names.includes(b)) throw new Error(`${where}: buffer "${key}" is not used by ${this.kind} with these settings (expected one of: ${names.join(", ") || "none"})`);
        if (values === null || typeof values !== "object" || typeof values.length !== "number") {
          throw new Error(`${where}: buffer "${key}" must be an array of numbers`);
        }
        slot.buffers[b] = values instanceof Float32Array ? new Float32Array(values) : Float64Array.from(values);
      }
      for (const [name, slot] of slots) {
        let length = -1;
        for (const b of names) {
          const buf = slot.buffers[b];
          if (!buf) throw new Error(`${where}: parameter "${name}" is missing buffer "${name}/${b}"`);
          if (length >= 0 && buf.length !== length) {
            throw new Error(`${where}: buffers of parameter "${name}" disagree in length (${length} vs ${buf.length} for "${b}")`);
          }
          length = buf.length;
        }
      }
      if (params) {
        assertParamRefs(params, where);
        const byName = new Map(params.map((p) => [p.name, p]));
        for (const [name, slot] of slots) {
          const p = byName.get(name);
          if (!p) throw new Error(`${where}: the saved state has an entry for parameter "${name}", which the model does not have`);
          for (const [b, buf] of Object.entries(slot.buffers)) {
            if (buf.length !== p.value.length) {
              throw new Error(`${where}: buffer "${name}/${b}" has length ${buf.length} but parameter "${name}" has ${p.value.length} values`);
            }
          }
        }
        if (state.step > 0) {
          for (const p of params) {
            if (!slots.has(p.name)) throw new Error(`${where}: the saved state has no entry for parameter "${p.name}"`);
          }
        }
      }
      this._lr = state.lr;
      this._step = state.step;
      this.slots = slots;
    } catch (e) {
      this.setHyper(previousHyper);
      throw e;
    }
  }
}

/** torch.optim.Adam (weightDecay = L2 term added to the gradient) and torch.optim.AdamW (decoupled). */
class AdamFamily extends BaseOptimizer {
  readonly kind: "adam" | "adamw";
  private beta1 = 0.9;
  private beta2 = 0.999;
  private eps = 1e-8;
  private weightDecay = 0;

  constructor(kind: "adam" | "adamw", options: AdamOptions) {
    super();
    this.kind = kind;
    if (options === null || typeof options !== "object") throw new Error(`${kind}: expected an options object with lr`);
    this.lr = options.lr;
    this.setHyper({
      betas: options.betas ?? [0.9, 0.999],
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? (kind === "adamw" ? 0.01 : 0),
    });
  }

  protected bufferNames(): string[] {
    return ["exp_avg", "exp_avg_sq"];
  }

  protected hyper(): Record<string, HyperValue> {
    return { betas: [this.beta1, this.beta2], eps: this.eps, weightDecay: this.weightDecay };
  }

  protected setHyper(h: Record<string, unknown>): void {
    const betas = h.betas;
    if (!Array.isArray(betas) || betas.length !== 2) throw new Error(`${this.kind}: betas must be a pair [beta1, beta2], got ${JSON.stringify(betas)}`);
    const b1 = checkNumber(this.kind, "betas[0]", betas[0], 0, 1, true, false);
    const b2 = checkNumber(this.kind, "betas[1]", betas[1], 0, 1, true, false);
    const eps = checkNumber(this.kind, "eps", h.eps, 0);
    const wd = checkNumber(this.kind, "weightDecay", h.weightDecay, 0);
    this.beta1 = b1;
    this.beta2 = b2;
    this.eps = eps;
    this.weightDecay = wd;
  }

  protected update(p: ParamRef, slot: ParamSlot, r: Round): void {
    const value = p.value;
    const grad = p.grad;
    const m = slot.buffers.exp_avg;
    const v = slot.buffers.exp_avg_sq;
    // Python-float scalars (computed in double) enter torch's float32 kernels rounded to float32.
    const lr = this.lr;
    const decoupled = this.kind === "adamw";
    const l2 = decoupled ? 0 : r(this.weightDecay);
    const shrink = decoupled && this.weightDecay !== 0 ? r(1 - lr * this.weightDecay) : 1;
    const w1 = 1 - this.beta1;
    const b2 = r(this.beta2);
    const c2 = r(1 - this.beta2);
    const eps = r(this.eps);
    const bias1 = 1 - Math.pow(this.beta1, slot.step);
    const bias2Sqrt = r(Math.sqrt(1 - Math.pow(this.beta2, slot.step)));
    const stepSize = r(lr / bias1);
    const kernels = value instanceof Float32Array ? updateKernels() : null;
    if (kernels) {
      const keep1 = r(1 - w1);
      kernels.adam(value as Float32Array, grad as Float32Array, m as Float32Array, v as Float32Array, { shrink, l2, w1, keep1, b2, c2, bias2Sqrt, eps, stepSize });
      return;
    }
    for (let i = 0; i < value.length; i++) {
      let p0 = value[i];
      if (shrink !== 1) p0 = r(p0 * shrink);
      let g = grad[i];
      if (l2 !== 0) g = r(g + r(l2 * p0));
      const mi = lerp(m[i], g, w1, r);
      const vi = r(r(b2 * v[i]) + r(c2 * r(g * g)));
      m[i] = mi;
      v[i] = vi;
      const denom = r(r(r(Math.sqrt(vi)) / bias2Sqrt) + eps);
      value[i] = r(p0 - r(r(stepSize * mi) / denom));
    }
  }
}

export class Adam extends AdamFamily {
  constructor(options: AdamOptions) {
    super("adam", options);
  }
}

export class AdamW extends AdamFamily {
  constructor(options: AdamOptions) {
    super("adamw", options);
  }
}

/** torch.optim.RMSprop. */
export class RMSprop extends BaseOptimizer {
  readonly kind = "rmsprop" as const;
  private alpha = 0.99;
  private eps = 1e-8;
  private momentum = 0;
  private centered = false;
  private weightDecay = 0;

  constructor(options: RMSpropOptions) {
    super();
    if (options === null || typeof options !== "object") throw new Error(`rmsprop: expected an options object with lr`);
    this.lr = options.lr;
    this.setHyper({
      alpha: options.alpha ?? 0.99,
      eps: options.eps ?? 1e-8,
      momentum: options.momentum ?? 0,
      centered: options.centered ?? false,
      weightDecay: options.weightDecay ?? 0,
    });
  }

  protected bufferNames(): string[] {
    const names = ["square_avg"];
    if (this.momentum > 0) names.push("momentum_buffer");
    if (this.centered) names.push("grad_avg");
    return names;
  }

  protected hyper(): Record<string, HyperValue> {
    return { alpha: this.alpha, eps: this.eps, momentum: this.momentum, centered: this.centered, weightDecay: this.weightDecay };
  }

  protected setHyper(h: Record<string, unknown>): void {
    const alpha = checkNumber(this.kind, "alpha", h.alpha, 0);
    const eps = checkNumber(this.kind, "eps", h.eps, 0);
    const momentum = checkNumber(this.kind, "momentum", h.momentum, 0);
    const centered = checkBoolean(this.kind, "centered", h.centered);
    const wd = checkNumber(this.kind, "weightDecay", h.weightDecay, 0);
    this.alpha = alpha;
    this.eps = eps;
    this.momentum = momentum;
    this.centered = centered;
    this.weightDecay = wd;
  }

  protected update(p: ParamRef, slot: ParamSlot, r: Round): void {
    const value = p.value;
    const grad = p.grad;
    const sq = slot.buffers.square_avg;
    const buf = slot.buffers.momentum_buffer;
    const gAvg = slot.buffers.grad_avg;
    const wd = r(this.weightDecay);
    const alpha = r(this.alpha);
    const c = r(1 - this.alpha);
    const eps = r(this.eps);
    const mom = r(this.momentum);
    const lr = r(this.lr);
    const kernels = value instanceof Float32Array ? updateKernels() : null;
    if (kernels) {
      const w = 1 - this.alpha;
      const f32 = (a: FloatArray | undefined): Float32Array | null => (a ? (a as Float32Array) : null);
      kernels.rmsprop(value as Float32Array, grad as Float32Array, sq as Float32Array, f32(gAvg), f32(buf), { wd, alpha, c, w, keepW: r(1 - w), eps, momentum: mom, lr });
      return;
    }
    for (let i = 0; i < value.length; i++) {
      const p0 = value[i];
      let g = grad[i];
      if (wd !== 0) g = r(g + r(wd * p0));
      const s = r(r(alpha * sq[i]) + r(c * r(g * g)));
      sq[i] = s;
      let avg: number;
      if (gAvg) {
        const ga = lerp(gAvg[i], g, 1 - this.alpha, r);
        gAvg[i] = ga;
        avg = r(Math.sqrt(r(s - r(ga * ga))));
      } else {
        avg = r(Math.sqrt(s));
      }
      avg = r(avg + eps);
      if (buf) {
        const b = r(r(mom * buf[i]) + r(g / avg));
        buf[i] = b;
        value[i] = r(p0 - r(lr * b));
      } else {
        value[i] = r(p0 - r(lr * r(g / avg)));
      }
    }
  }
}

/** torch.optim.SGD: the momentum buffer starts as a copy of the first gradient (no dampening then). */
export class SGD extends BaseOptimizer {
  readonly kind = "sgd" as const;
  private momentum = 0;
  private dampening = 0;
  private nesterov = false;
  private weightDecay = 0;

  constructor(options: SGDOptions) {
    super();
    if (options === null || typeof options !== "object") throw new Error(`sgd: expected an options object with lr`);
    this.lr = options.lr;
    this.setHyper({
      momentum: options.momentum ?? 0,
      dampening: options.dampening ?? 0,
      nesterov: options.nesterov ?? false,
      weightDecay: options.weightDecay ?? 0,
    });
  }

  protected bufferNames(): string[] {
    return this.momentum !== 0 ? ["momentum_buffer"] : [];
  }

  protected hyper(): Record<string, HyperValue> {
    return { momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }

  protected setHyper(h: Record<string, unknown>): void {
    const momentum = checkNumber(this.kind, "momentum", h.momentum, 0);
    const dampening = checkNumber(this.kind, "dampening", h.dampening, -Infinity);
    const nesterov = checkBoolean(this.kind, "nesterov", h.nesterov);
    const wd = checkNumber(this.kind, "weightDecay", h.weightDecay, 0);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new Error(`sgd: nesterov momentum needs momentum > 0 and dampening = 0, got momentum ${momentum}, dampening ${dampening}`);
    }
    this.momentum = momentum;
    this.dampening = dampening;
    this.nesterov = nesterov;
    this.weightDecay = wd;
  }

  protected update(p: ParamRef, slot: ParamSlot, r: Round): void {
    const value = p.value;
    const grad = p.grad;
    const buf = slot.buffers.momentum_buffer;
    const first = slot.step === 1;
    const wd = r(this.weightDecay);
    const mom = r(this.momentum);
    const keep = r(1 - this.dampening);
    const lr = r(this.lr);
    const kernels = value instanceof Float32Array ? updateKernels() : null;
    if (kernels) {
      kernels.sgd(value as Float32Array, grad as Float32Array, buf ? (buf as Float32Array) : null, { wd, momentum: mom, keep, lr, first, nesterov: this.nesterov });
      return;
    }
    for (let i = 0; i < value.length; i++) {
      const p0 = value[i];
      let g = grad[i];
      if (wd !== 0) g = r(g + r(wd * p0));
      if (buf) {
        const b = first ? g : r(r(mom * buf[i]) + r(keep * g));
        buf[i] = b;
        g = this.nesterov ? r(g + r(mom * b)) : b;
      }
      value[i] = r(p0 - r(lr * g));
    }
  }
}

const OPTION_KEYS: Record<OptimizerKind, readonly string[]> = {
  adam: ["lr", "betas", "eps", "weightDecay"],
  adamw: ["lr", "betas", "eps", "weightDecay"],
  rmsprop: ["lr", "alpha", "eps", "momentum", "centered", "weightDecay"],
  sgd: ["lr", "momentum", "dampening", "nesterov", "weightDecay"],
};

export function isOptimizerKind(name: string): name is OptimizerKind {
  return (OPTIMIZER_KINDS as readonly string[]).includes(name);
}

/**
 * Builds an optimizer by name. Options that the chosen optimizer does not take are rejected (an
 * option set to undefined counts as absent), so a misspelt or misplaced setting is not silently ignored.
 */
export function createOptimizer(name: string, options: AnyOptimizerOptions): Optimizer {
  if (!isOptimizerKind(name)) throw new Error(`createOptimizer: unknown optimizer "${name}", expected one of: ${OPTIMIZER_KINDS.join(", ")}`);
  if (options === null || typeof options !== "object") throw new Error(`createOptimizer: expected an options object with lr for "${name}"`);
  const allowed = OPTION_KEYS[name];
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && !allowed.includes(key)) {
      throw new Error(`createOptimizer: option "${key}" does not apply to "${name}" (it takes: ${allowed.join(", ")})`);
    }
  }
  switch (name) {
    case "adam":
      return new Adam(options as AdamOptions);
    case "adamw":
      return new AdamW(options as AdamOptions);
    case "rmsprop":
      return new RMSprop(options as RMSpropOptions);
    case "sgd":
      return new SGD(options as SGDOptions);
  }
}
