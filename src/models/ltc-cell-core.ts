/**
 * The core of an LTC cell (ncps torch `LTCCell`): a conductance-based neuron model integrated by a fused
 * semi-implicit Euler solver. The equations are the engine's: the ODE solver's sub-steps (the LTC update
 * of ncps, the paper's eq. 1 discretised): engine ltcForward / ltcBackward; the sensory synapses: engine
 * ltcSensory / ltcSensoryBackward; the input and output mappings: engine ltcMap / ltcMapBackward; the
 * positivity constraint (softplus): engine ltcSoftplus. This class owns the parameters (ncps names,
 * shapes and order), the effective copies the kernels read, and the per-step caches of the backward pass.
 */
import { type Engine, ltcScratchSize } from "../engine/engine.js";
import type { ParamOffsets, ParameterSet } from "../nn/parameters.js";
import type { Rng } from "../nn/rng.js";
import type { Wiring } from "../wirings/wiring.js";

/** ncps input/output mapping: "affine" (scale and shift), "linear" (scale) or null (identity). */
export type LtcMapping = "affine" | "linear" | null;

export interface LtcCellCoreOptions {
  inputMapping: LtcMapping;
  outputMapping: LtcMapping;
  odeUnfolds: number;
  epsilon: number;
  implicitParamConstraints: boolean;
}

const MAPPINGS: readonly LtcMapping[] = ["affine", "linear", null];

/** An ncps mapping option (undefined: "affine"), or an error naming it. */
export function checkMapping(value: unknown, name: string, owner: string): LtcMapping {
  if (value === undefined) return "affine";
  if (!MAPPINGS.includes(value as LtcMapping)) {
    throw new Error(`${owner}: ${name} must be "affine", "linear" or null (identity), got ${JSON.stringify(value)}`);
  }
  return value as LtcMapping;
}

/** Validates the solver options shared by LTC and LTCCell (defaults filled). */
export function checkSolverOptions(o: { odeUnfolds?: number; epsilon?: number; implicitParamConstraints?: boolean }, implicitDefault: boolean, owner: string) {
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

/** ncps `_init_ranges`: uniform initialisation interval of each parameter. */
export const LTC_INIT_RANGES = {
  gleak: [0.001, 1.0],
  vleak: [-0.2, 0.2],
  cm: [0.4, 0.6],
  w: [0.001, 1.0],
  sigma: [3, 8],
  mu: [0.3, 0.8],
  sensory_w: [0.001, 1.0],
  sensory_sigma: [3, 8],
  sensory_mu: [0.3, 0.8],
} as const;

/** Per-step buffers for `steps` steps of up to `rows` rows each. */
export class LtcCache {
  /** raw input per step (only with an input mapping: d input_w needs it) */
  readonly x: number;
  /** mapped input per step */
  readonly xm: number;
  /** rows x (K+1) x U per step: the state before each ODE sub-step and after the last */
  readonly states: number;
  /** rows x K x U per step: each sub-step's denominator */
  readonly dens: number;
  readonly sensNum: number;
  readonly sensDen: number;
  readonly scratch: number;
  readonly dNum: number;
  readonly dDen: number;
  readonly dxm: number;

  constructor(engine: Engine, cell: LtcCellCore, readonly steps: number, readonly rows: number, grad: boolean) {
    const R = steps * rows;
    const U = cell.units;
    const S = cell.sensorySize;
    const K = cell.options.odeUnfolds;
    const mapped = cell.options.inputMapping !== null;
    this.x = grad && mapped ? engine.alloc(R * S) : -1;
    this.xm = engine.alloc(R * S);
    this.states = grad ? engine.alloc(R * (K + 1) * U) : -1;
    this.dens = grad ? engine.alloc(R * K * U) : -1;
    this.sensNum = engine.alloc(rows * U);
    this.sensDen = engine.alloc(rows * U);
    this.scratch = engine.alloc(ltcScratchSize(U));
    this.dNum = grad ? engine.alloc(rows * U) : -1;
    this.dDen = grad ? engine.alloc(rows * U) : -1;
    this.dxm = grad && mapped ? engine.alloc(rows * S) : -1;
  }
}

/**
 * Parameters and step functions of one LTC cell over a built wiring. Parameter names are `prefix` +
 * ncps's names; memory is the engine's.
 */
export class LtcCellCore {
  readonly units: number;
  readonly sensorySize: number;
  readonly motorSize: number;
  readonly gleak: ParamOffsets;
  readonly vleak: ParamOffsets;
  readonly cm: ParamOffsets;
  readonly sigma: ParamOffsets;
  readonly mu: ParamOffsets;
  readonly w: ParamOffsets;
  readonly erev: ParamOffsets;
  readonly sensorySigma: ParamOffsets;
  readonly sensoryMu: ParamOffsets;
  readonly sensoryW: ParamOffsets;
  readonly sensoryErev: ParamOffsets;
  readonly mask: number;
  readonly sensoryMask: number;
  readonly inputW: ParamOffsets | null;
  readonly inputB: ParamOffsets | null;
  readonly outputW: ParamOffsets | null;
  readonly outputB: ParamOffsets | null;

  // Effective copies the kernels read, refreshed by prepare(): phi(w) * mask, that times erev, phi(cm),
  // phi(gleak), phi(gleak) * vleak.
  private readonly wEff: number;
  private readonly wErev: number;
  private readonly sensoryWEff: number;
  private readonly sensoryWErev: number;
  private readonly cmEff: number;
  private readonly gleakEff: number;
  private readonly gleakVleak: number;
  // Gradient accumulators of a backward pass, turned into parameter gradients by finishBackward.
  private readonly accP: number;
  private readonly accQ: number;
  private readonly sensoryAccP: number;
  private readonly sensoryAccQ: number;
  private readonly dCmEff: number;
  private readonly dGleakEff: number;
  private readonly tmp: number;

  constructor(readonly engine: Engine, readonly params: ParameterSet, readonly prefix: string, wiring: Wiring, readonly options: LtcCellCoreOptions, rng: Rng) {
    if (!wiring.isBuilt() || !wiring.sensoryAdjacencyMatrix || wiring.inputDim === null) {
      throw new Error(`LTC cell: the wiring must be built for an input size first (wiring.build(inputDim))`);
    }
    const U = wiring.units;
    const S = wiring.inputDim;
    const M = wiring.outputDim;
    this.units = U;
    this.sensorySize = S;
    this.motorSize = M;
    const add = (name: string, shape: number[], trainable = true): ParamOffsets => {
      return params.add(`${prefix}${name}`, shape, trainable).offsets;
    };
    // state_dict order of ncps's _allocate_parameters
    this.gleak = add("gleak", [U]);
    this.vleak = add("vleak", [U]);
    this.cm = add("cm", [U]);
    this.sigma = add("sigma", [U, U]);
    this.mu = add("mu", [U, U]);
    this.w = add("w", [U, U]);
    this.erev = add("erev", [U, U]);
    this.sensorySigma = add("sensory_sigma", [S, U]);
    this.sensoryMu = add("sensory_mu", [S, U]);
    this.sensoryW = add("sensory_w", [S, U]);
    this.sensoryErev = add("sensory_erev", [S, U]);
    this.mask = add("sparsity_mask", [U, U], false).value;
    this.sensoryMask = add("sensory_sparsity_mask", [S, U], false).value;
    const im = options.inputMapping;
    const om = options.outputMapping;
    this.inputW = im === "affine" || im === "linear" ? add("input_w", [S]) : null;
    this.inputB = im === "affine" ? add("input_b", [S]) : null;
    this.outputW = om === "affine" || om === "linear" ? add("output_w", [M]) : null;
    this.outputB = om === "affine" ? add("output_b", [M]) : null;

    const e = engine;
    this.wEff = e.alloc(U * U);
    this.wErev = e.alloc(U * U);
    this.sensoryWEff = e.alloc(S * U);
    this.sensoryWErev = e.alloc(S * U);
    this.cmEff = e.alloc(U);
    this.gleakEff = e.alloc(U);
    this.gleakVleak = e.alloc(U);
    this.accP = e.alloc(U * U);
    this.accQ = e.alloc(U * U);
    this.sensoryAccP = e.alloc(S * U);
    this.sensoryAccQ = e.alloc(S * U);
    this.dCmEff = e.alloc(U);
    this.dGleakEff = e.alloc(U);
    this.tmp = e.alloc(Math.max(U, S) * U);
    this.initialise(wiring, rng);
  }

  /** ncps init: uniform ranges (drawn in parameter order), erev and masks from the wiring, identity maps. */
  private initialise(wiring: Wiring, rng: Rng): void {
    const U = this.units;
    const S = this.sensorySize;
    const heap = this.engine.heap();
    const uniform = (ref: ParamOffsets, n: number, [lo, hi]: readonly [number, number]) => {
      for (let i = 0; i < n; i++) heap[ref.value + i] = rng.range(lo, hi);
    };
    const R = LTC_INIT_RANGES;
    uniform(this.gleak, U, R.gleak);
    uniform(this.vleak, U, R.vleak);
    uniform(this.cm, U, R.cm);
    uniform(this.sigma, U * U, R.sigma);
    uniform(this.mu, U * U, R.mu);
    uniform(this.w, U * U, R.w);
    const adj = wiring.erevInitializer();
    const sens = wiring.sensoryErevInitializer();
    for (let i = 0; i < U * U; i++) {
      heap[this.erev.value + i] = adj[i];
      heap[this.mask + i] = Math.abs(adj[i]);
    }
    uniform(this.sensorySigma, S * U, R.sensory_sigma);
    uniform(this.sensoryMu, S * U, R.sensory_mu);
    uniform(this.sensoryW, S * U, R.sensory_w);
    for (let i = 0; i < S * U; i++) {
      heap[this.sensoryErev.value + i] = sens[i];
      heap[this.sensoryMask + i] = Math.abs(sens[i]);
    }
    if (this.inputW) heap.fill(1, this.inputW.value, this.inputW.value + S);
    if (this.outputW) heap.fill(1, this.outputW.value, this.outputW.value + this.motorSize);
    // input_b and output_b start at zero (alloc zero-fills)
  }

  /** phi: softplus with implicit constraints, else the values as they are. */
  private positive(n: number, src: number, dst: number): void {
    if (this.options.implicitParamConstraints) this.engine.ltcSoftplus(n, src, dst);
    else this.engine.copy(src, dst, n);
  }

  /** Refreshes the effective parameter copies; call after the weights changed (every forward does). */
  prepare(): void {
    const e = this.engine;
    const U = this.units;
    const S = this.sensorySize;
    this.positive(U * U, this.w.value, this.wEff);
    e.mul(U * U, this.wEff, this.mask, this.wEff);
    e.mul(U * U, this.wEff, this.erev.value, this.wErev);
    this.positive(S * U, this.sensoryW.value, this.sensoryWEff);
    e.mul(S * U, this.sensoryWEff, this.sensoryMask, this.sensoryWEff);
    e.mul(S * U, this.sensoryWEff, this.sensoryErev.value, this.sensoryWErev);
    this.positive(U, this.cm.value, this.cmEff);
    this.positive(U, this.gleak.value, this.gleakEff);
    e.mul(U, this.gleakEff, this.vleak.value, this.gleakVleak);
  }

  /**
   * One step for `rows` rows into cache slot `slot`: input x (ld ldx), previous state hPrev and new state
   * hOut (ld units), elapsed times ts (rows), output y (rows x motorSize).
   */
  forwardStep(c: LtcCache, slot: number, rows: number, x: number, ldx: number, hPrev: number, hOut: number, ts: number, y: number): void {
    const e = this.engine;
    const U = this.units;
    const S = this.sensorySize;
    const M = this.motorSize;
    const K = this.options.odeUnfolds;
    const xm = c.xm + slot * c.rows * S;
    if (this.inputW) {
      if (c.x >= 0) e.copyRows(rows, S, x, ldx, c.x + slot * c.rows * S, S);
      e.ltcMap(rows, S, x, ldx, this.inputW.value, this.inputB ? this.inputB.value : -1, xm, S);
    } else {
      e.copyRows(rows, S, x, ldx, xm, S);
    }
    e.ltcSensory(rows, S, U, xm, S, this.sensoryWEff, this.sensoryWErev, this.sensorySigma.value, this.sensoryMu.value, c.sensNum, c.sensDen);
    const states = c.states >= 0 ? c.states + slot * c.rows * (K + 1) * U : -1;
    const dens = c.dens >= 0 ? c.dens + slot * c.rows * K * U : -1;
    e.ltcForward(rows, U, K, this.options.epsilon, hPrev, U, ts, this.cmEff, this.gleakEff, this.gleakVleak,
      this.wEff, this.wErev, this.sigma.value, this.mu.value, c.sensNum, c.sensDen, hOut, U, states, dens, c.scratch);
    if (this.outputW) e.ltcMap(rows, M, hOut, U, this.outputW.value, this.outputB ? this.outputB.value : -1, y, M);
    else e.copyRows(rows, M, hOut, U, y, M);
  }

  /**
   * Backward of one step. dy (rows x motorSize): d loss / d y; dh (ld units): d loss / d hOut on entry,
   * d loss / d hPrev on exit. Accumulates d loss / d x into dx (ld ldDx) and d loss / d ts into dts.
   */
  backwardStep(c: LtcCache, slot: number, rows: number, dy: number, dh: number, dx: number, ldDx: number, ts: number, dts: number): void {
    const e = this.engine;
    const U = this.units;
    const S = this.sensorySize;
    const M = this.motorSize;
    const K = this.options.odeUnfolds;
    const states = c.states + slot * c.rows * (K + 1) * U;
    const dens = c.dens + slot * c.rows * K * U;
    // the output reads the last state of each row: offset K * U inside its (K+1) x U block
    if (this.outputW) {
      e.ltcMapBackward(rows, M, states + K * U, (K + 1) * U, this.outputW.value, dy, M, dh, U, this.outputW.grad, this.outputB ? this.outputB.grad : -1);
    } else {
      e.addRows(rows, M, dy, M, dh, U);
    }
    e.ltcBackward(rows, U, K, ts, this.cmEff, this.gleakEff, this.vleak.value, this.wEff, this.erev.value, this.sigma.value, this.mu.value,
      states, dens, dh, U, c.dNum, c.dDen, this.dCmEff, this.dGleakEff, this.vleak.grad, this.accP, this.accQ, this.sigma.grad, this.mu.grad, dts, c.scratch);
    const xm = c.xm + slot * c.rows * S;
    if (this.inputW) {
      e.fill(c.dxm, rows * S, 0);
      e.ltcSensoryBackward(rows, S, U, xm, S, this.sensoryWEff, this.sensoryErev.value, this.sensorySigma.value, this.sensoryMu.value, c.dNum, c.dDen,
        c.dxm, S, this.sensoryAccP, this.sensoryAccQ, this.sensorySigma.grad, this.sensoryMu.grad);
      e.ltcMapBackward(rows, S, c.x + slot * c.rows * S, S, this.inputW.value, c.dxm, S, dx, ldDx, this.inputW.grad, this.inputB ? this.inputB.grad : -1);
    } else {
      e.ltcSensoryBackward(rows, S, U, xm, S, this.sensoryWEff, this.sensoryErev.value, this.sensorySigma.value, this.sensoryMu.value, c.dNum, c.dDen,
        dx, ldDx, this.sensoryAccP, this.sensoryAccQ, this.sensorySigma.grad, this.sensoryMu.grad);
    }
  }

  /** Turns the accumulators of the backward pass into parameter gradients (accumulated) and clears them. */
  finishBackward(): void {
    this.finishSynapses(this.units, this.w, this.erev, this.mask, this.wEff, this.accP, this.accQ);
    this.finishSynapses(this.sensorySize, this.sensoryW, this.sensoryErev, this.sensoryMask, this.sensoryWEff, this.sensoryAccP, this.sensoryAccQ);
    this.finishPositive(this.cm, this.dCmEff);
    this.finishPositive(this.gleak, this.dGleakEff);
  }

  /** d w = phi'(w) * mask * (erev * P + Q), d erev = wEff * P (see the engine's ltcSensoryBackward). */
  private finishSynapses(sources: number, w: ParamOffsets, erev: ParamOffsets, mask: number, wEff: number, accP: number, accQ: number): void {
    const e = this.engine;
    const n = sources * this.units;
    const t = this.tmp;
    e.mul(n, erev.value, accP, t);
    e.axpy(n, 1, accQ, t);
    e.mul(n, t, mask, t);
    if (this.options.implicitParamConstraints) e.ltcSoftplusBackward(n, w.value, t, t);
    e.axpy(n, 1, t, w.grad);
    e.mul(n, wEff, accP, t);
    e.axpy(n, 1, t, erev.grad);
    e.fill(accP, n, 0);
    e.fill(accQ, n, 0);
  }

  private finishPositive(p: ParamOffsets, dEff: number): void {
    const e = this.engine;
    const U = this.units;
    if (this.options.implicitParamConstraints) e.ltcSoftplusBackward(U, p.value, dEff, dEff);
    e.axpy(U, 1, dEff, p.grad);
    e.fill(dEff, U, 0);
  }

  /**
   * ncps `apply_weight_constraints`: without implicit constraints, clips w, sensory_w, cm and gleak at 0
   * in place (call it after each optimizer step); with implicit constraints it does nothing.
   */
  applyWeightConstraints(): void {
    if (this.options.implicitParamConstraints) return;
    const heap = this.engine.heap();
    const clip = (ref: ParamOffsets, n: number) => {
      for (let i = ref.value; i < ref.value + n; i++) if (heap[i] < 0) heap[i] = 0;
    };
    const U = this.units;
    clip(this.w, U * U);
    clip(this.sensoryW, this.sensorySize * U);
    clip(this.cm, U);
    clip(this.gleak, U);
  }
}
