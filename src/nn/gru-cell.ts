/**
 * The GRU cell of torch (`nn.GRU`, one layer, `nn.GRUCell`), reusable by any model that updates a state
 * with it: the input map W_ih x + b_ih and the recurrent map W_hh h + b_hh are two linear layers, both
 * with bias, over torch's parameters `weight_ih_l0` [3H, I], `weight_hh_l0` [3H, H], `bias_ih_l0` [3H],
 * `bias_hh_l0` [3H] (nn.GRUCell's lack the `_l0`; gate blocks [r | z | n]); the gate equations are the
 * engine's gruForward / gruBackward. The input map does not depend on the state, so a whole sequence's
 * inputs are mapped in one matmul (mapInputs) before the steps. Init as torch: U(-1/sqrt(H), 1/sqrt(H))
 * on all four tensors.
 */
import type { Engine } from "../engine/engine.js";
import { uniform } from "./init.js";
import { type Linear, createLinear, linearBackwardInput, linearBackwardWeights, linearForward, linearPrepare } from "./linear.js";
import type { ParameterSet } from "./parameters.js";
import type { Rng } from "./rng.js";

/**
 * Buffers of a pass: input gates for `inputSteps` steps (all the steps the pass maps at once), recurrent
 * gates for `steps` slots (every step with grad, one reused slot without), and, with grad, the gate
 * gradients and the transposition scratch of the weight gradients.
 */
export class GruCache {
  /** (inputSteps * rows) x 3H: W_ih x + b_ih, replaced step by step by the gates [r | z | n] */
  readonly inputGates: number;
  /** (steps * rows) x 3H: W_hh h + b_hh */
  readonly hiddenGates: number;
  readonly dInputGates: number;
  readonly dHiddenGates: number;
  readonly transposeScratch: number;

  constructor(engine: Engine, hidden: number, readonly inputSteps: number, readonly steps: number, readonly rows: number, grad: boolean) {
    // backward reads a step's gates from its slot
    if (grad && inputSteps !== steps) throw new Error(`GruCache: with grad every step needs its slot (inputSteps ${inputSteps}, steps ${steps})`);
    const G = 3 * hidden;
    this.inputGates = engine.alloc(inputSteps * rows * G);
    this.hiddenGates = engine.alloc(steps * rows * G);
    const R = steps * rows;
    this.dInputGates = grad ? engine.alloc(R * G) : -1;
    this.dHiddenGates = grad ? engine.alloc(R * G) : -1;
    this.transposeScratch = grad ? engine.alloc(R * G) : -1;
  }
}

export class GruCell {
  readonly inputMap: Linear;
  readonly recurrentMap: Linear;

  /**
   * Registers `${prefix}weight_ih${suffix}`, `weight_hh${suffix}`, `bias_ih${suffix}`, `bias_hh${suffix}`
   * (torch's order). The suffix is "_l0" for nn.GRU's one layer, "" for nn.GRUCell.
   */
  constructor(readonly engine: Engine, params: ParameterSet, prefix: string, readonly inputSize: number, readonly hidden: number, rng: Rng, suffix = "_l0") {
    const G = 3 * hidden;
    const weightIh = params.region(G * inputSize, true);
    params.register(`${prefix}weight_ih${suffix}`, [G, inputSize], weightIh);
    const weightHh = params.region(G * hidden, true);
    params.register(`${prefix}weight_hh${suffix}`, [G, hidden], weightHh);
    const biasIh = params.region(G, true);
    params.register(`${prefix}bias_ih${suffix}`, [G], biasIh);
    const biasHh = params.region(G, true);
    params.register(`${prefix}bias_hh${suffix}`, [G], biasHh);
    this.inputMap = createLinear(engine, inputSize, G, weightIh, biasIh);
    this.recurrentMap = createLinear(engine, hidden, G, weightHh, biasHh);
    // torch's GRU.reset_parameters: every tensor U(-1/sqrt(H), 1/sqrt(H)), in registration order
    const bound = 1 / Math.sqrt(hidden);
    for (const [offsets, n] of [[weightIh, G * inputSize], [weightHh, G * hidden], [biasIh, G], [biasHh, G]] as const) {
      const values = new Float64Array(n);
      uniform(values, -bound, bound, rng);
      engine.heap().set(values, offsets.value);
    }
  }

  prepare(): void {
    linearPrepare(this.engine, this.inputMap);
    linearPrepare(this.engine, this.recurrentMap);
  }

  /** Input gates of `steps` steps at once: x is (steps * rows) x I (ld ldx), time-major. */
  mapInputs(cache: GruCache, steps: number, x: number, ldx: number): void {
    if (steps > cache.inputSteps) throw new Error(`GruCell.mapInputs: ${steps} steps, the cache holds ${cache.inputSteps}`);
    const G = 3 * this.hidden;
    linearForward(this.engine, this.inputMap, steps * cache.rows, x, ldx, cache.inputGates, G);
  }

  /** h' = GRU(x_step, h) for one step whose input gates mapInputs computed; hOut (ld ldhOut) may alias h (ld ldh). */
  forwardStep(cache: GruCache, step: number, slot: number, rows: number, h: number, ldh: number, hOut: number, ldhOut: number): void {
    const G = 3 * this.hidden;
    const inputGates = cache.inputGates + step * cache.rows * G;
    const hiddenGates = cache.hiddenGates + slot * cache.rows * G;
    linearForward(this.engine, this.recurrentMap, rows, h, ldh, hiddenGates, G);
    this.engine.gruForward(rows, this.hidden, inputGates, hiddenGates, h, ldh, hOut, ldhOut);
  }

  /**
   * Backward of one step (slot = step, as with grad every step has its slot). h (ld ldh) is the state the
   * step read; dh (ld ldDh) is d loss / d h'. Accumulates d loss / d x into dx and d loss / d h into dhPrev.
   */
  backwardStep(cache: GruCache, slot: number, rows: number, h: number, ldh: number, dh: number, ldDh: number, dx: number, ldDx: number, dhPrev: number, ldDhPrev: number): void {
    const e = this.engine;
    const G = 3 * this.hidden;
    const at = slot * cache.rows * G;
    e.gruBackward(rows, this.hidden, cache.inputGates + at, cache.hiddenGates + at, h, ldh, dh, ldDh, cache.dInputGates + at, cache.dHiddenGates + at, dhPrev, ldDhPrev);
    linearBackwardInput(e, this.inputMap, rows, cache.dInputGates + at, G, dx, ldDx, true);
    linearBackwardInput(e, this.recurrentMap, rows, cache.dHiddenGates + at, G, dhPrev, ldDhPrev, true);
  }

  /** Weight and bias gradients of all steps: x (R x I, ld ldx) and hPrev (R x H, ld ldh) as the steps read them. */
  finishBackward(cache: GruCache, steps: number, x: number, ldx: number, hPrev: number, ldh: number): void {
    const e = this.engine;
    const G = 3 * this.hidden;
    const R = steps * cache.rows;
    linearBackwardWeights(e, this.inputMap, R, cache.dInputGates, G, x, ldx, cache.transposeScratch);
    linearBackwardWeights(e, this.recurrentMap, R, cache.dHiddenGates, G, hPrev, ldh, cache.transposeScratch);
  }
}
