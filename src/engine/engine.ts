/**
 * The engine contract. Every model is written once against this interface; an engine is a flat heap of
 * floats plus a fixed set of kernels that read and write it by element offset (llm.c style: plain loops
 * over flat arrays, explicit forward and backward). Two engines implement it:
 *  - `ReferenceEngine` (reference.ts): float64, plain TypeScript, the oracle for tests and gradient checks.
 *  - `WasmEngine` (wasm.ts): float32, AssemblyScript kernels compiled to WebAssembly SIMD.
 * Both must compute the same functions; the reference is the specification of each kernel.
 *
 * Conventions: matrices are row-major; `ld*` is the row stride in elements; offsets are element indices
 * into the heap. `heap()` returns a view that stays valid only until the next `alloc` (memory may move or
 * grow), so callers re-read it after allocating and never keep views across allocations.
 */
import type { DType, FloatArray } from "../tensor.js";

export type BackendKind = "wasm" | "reference";

/** Activation codes shared with the WebAssembly kernels. */
export const Act = {
  identity: 0,
  lecun_tanh: 1,
  silu: 2,
  relu: 3,
  tanh: 4,
  gelu: 5,
  sigmoid: 6,
} as const;
export type ActivationName = keyof typeof Act;
export const BACKBONE_ACTIVATIONS = ["lecun_tanh", "silu", "relu", "tanh", "gelu"] as const;
export type BackboneActivation = (typeof BACKBONE_ACTIVATIONS)[number];

/** CfC cell modes (ncps torch semantics). `pure` uses cfcPureForward/cfcPureBackward. */
export const CfcMode = { default: 0, no_gate: 1, pure: 2 } as const;
export type CfcModeName = keyof typeof CfcMode;

export interface Engine {
  readonly kind: BackendKind;
  readonly dtype: DType;

  /** Allocates `n` zero-filled elements aligned to 4 elements; returns the element offset. */
  alloc(n: number): number;
  /** The whole heap; valid until the next `alloc`. */
  heap(): FloatArray;
  /** The current end of allocated memory, to give back later with `release`. */
  mark(): number;
  /** Frees everything allocated after `mark` (a value from `mark()`), whoever allocated it; later allocations reuse it. */
  release(mark: number): void;
  /**
   * Gives back the `n` elements at `offset` (an `alloc(n)` result), in any order: later allocations
   * reuse them, so models sharing an engine each reclaim their own memory.
   */
  free(offset: number, n: number): void;
  /**
   * While `into` is an array, each `alloc` appends its offset and element count to it (null stops):
   * a model collects what one of its buffers sets took this way, to `free` it later.
   */
  recordAllocations(into: number[] | null): void;

  /** dst[0..n) = value */
  fill(dst: number, n: number, value: number): void;
  /** dst[0..n) = src[0..n) (regions must not overlap) */
  copy(src: number, dst: number, n: number): void;
  /** dst[r, 0..cols) = src[r, 0..cols) for r < rows */
  copyRows(rows: number, cols: number, src: number, ldSrc: number, dst: number, ldDst: number): void;
  /** dst (cols x rows) = transpose of src (rows x cols) */
  transpose(rows: number, cols: number, src: number, ldSrc: number, dst: number, ldDst: number): void;
  /** dst[r, 0..cols) += src[r, 0..cols) for r < rows */
  addRows(rows: number, cols: number, src: number, ldSrc: number, dst: number, ldDst: number): void;
  /** dst[i] = a[i] * b[i] (dst may alias a or b) */
  mul(n: number, a: number, b: number, dst: number): void;
  /** y[i] += alpha * x[i] */
  axpy(n: number, alpha: number, x: number, y: number): void;
  /** dst[j] += sum over r < rows of src[r, j] (bias gradients) */
  colSum(rows: number, cols: number, src: number, ld: number, dst: number): void;

  /** C (m x n) = A (m x k) . B (k x n), or C += A.B when accumulate is true. */
  gemm(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean): void;

  /**
   * x[r, j] += bias[j] (skipped when bias < 0), then y[r, j] = act(x[r, j]).
   * x keeps the pre-activation for the backward pass; y may alias x only for `identity`.
   */
  biasAct(rows: number, cols: number, act: number, x: number, ldx: number, bias: number, y: number, ldy: number): void;
  /** dx[r, j] = dy[r, j] * act'(x[r, j]) with x the pre-activation (dx may alias dy). */
  actBackward(rows: number, cols: number, act: number, x: number, ldx: number, dy: number, ldDy: number, dx: number, ldDx: number): void;

  /**
   * CfC output for modes default / no_gate (eq. 4 of the paper). `heads` holds, per row, the four head
   * pre-activations [ff1 | ff2 | time_a | time_b] (each H wide, without bias); `bias` holds their 4H biases.
   * With ff1 = headAct(.), ff2 = headAct(.) and sigma = sigmoid(gateSign * time_a * ts[r] + time_b):
   *   default: h = ff1 * (1 - sigma) + sigma * ff2      no_gate: h = ff1 + sigma * ff2
   * headAct is an Act code among tanh (ncps torch, the default), identity (ncps keras) and lecun_tanh (the
   * paper's tf_cfc.py); gateSign is 1 (ncps torch, the default) or -1 (keras and the paper).
   * Afterwards `heads` holds the cache [ff1 | ff2 | time_a | sigma].
   */
  cfcForward(mode: number, rows: number, hidden: number, heads: number, bias: number, ts: number, h: number, ldh: number, headAct?: number, gateSign?: number): void;
  /**
   * Backward of cfcForward from its cache (same mode, headAct and gateSign): dHeads (rows x 4H) receives
   * the gradients of the head pre-activations (the head derivative is taken from the cached head output);
   * dts[r] = d loss / d ts[r] (overwritten).
   */
  cfcBackward(mode: number, rows: number, hidden: number, heads: number, ts: number, dh: number, ldDh: number, dHeads: number, dts: number, headAct?: number, gateSign?: number): void;
  /**
   * CfC "pure" (Cf-S, eq. 3 of the paper) mode: f = ff1 pre-activation + bias (stored back into `ff1`, rows x H),
   * h = A - A * exp(-ts * (|w_tau| + |f|)) * f, with w_tau and A vectors of H.
   */
  cfcPureForward(rows: number, hidden: number, ff1: number, bias: number, ts: number, wTau: number, a: number, h: number, ldh: number): void;
  /** Backward of cfcPureForward: dff1 (rows x H) overwritten, dts overwritten, dWTau and dA accumulated. */
  cfcPureBackward(rows: number, hidden: number, ff1: number, ts: number, wTau: number, a: number, dh: number, ldDh: number, dff1: number, dts: number, dWTau: number, dA: number): void;

  /**
   * ncps LSTMCell step (mixed memory). `gates` holds per row the 4H pre-activations
   * [input activation | input gate | forget gate | output gate] with all biases already added except the
   * forget gate's constant forget bias fb (default 1, as ncps torch; keras ncps and the paper's
   * MixedCfcCell make it a setting). c' = c * sigmoid(f + fb) + tanh(i) * sigmoid(ig); h' = tanh(c') * sigmoid(og).
   * Afterwards `gates` holds the cache [tanh(i) | sigmoid(ig) | sigmoid(f+fb) | sigmoid(og)].
   */
  lstmForward(rows: number, hidden: number, gates: number, c: number, ldc: number, cOut: number, hOut: number, ldh: number, forgetBias?: number): void;
  /**
   * Backward of lstmForward. dh: gradient w.r.t. h'; dc (rows x H, contiguous): gradient w.r.t. c' on
   * entry, replaced by the gradient w.r.t. c on exit; dGates (rows x 4H) receives the pre-activation gradients.
   */
  lstmBackward(rows: number, hidden: number, gates: number, c: number, ldc: number, cOut: number, dh: number, ldDh: number, dc: number, dGates: number): void;

  // ---- LTC: liquid time-constant cell (ncps torch LTCCell) ------------------------------------------
  // Synapse matrices are [source, destination] (sources x units, row-major, row stride = units) as in
  // ncps. In these kernels `w` is the effective weight as the forward pass uses it, phi(w) * mask (phi =
  // softplus with implicit constraints, identity otherwise), `wErev` = w * erev, and `cm`, `gleak` are
  // phi(cm), phi(gleak). With s[i, j] = sigmoid(sigma[i, j] * (v[i] - mu[i, j])) a synapse carries
  // w[i, j] * s[i, j]. Sums over sources run over every source (no sparsity skipping: masked synapses
  // have w = 0). Only the LTC model calls these.

  /** y[i] = softplus(x[i]) = log(1 + exp(x[i])) as torch's Softplus (beta 1, threshold 20: x > 20 gives x). y may alias x. */
  ltcSoftplus(n: number, x: number, y: number): void;
  /** dx[i] = dy[i] * softplus'(x[i]), i.e. dy * sigmoid(x), or dy above the threshold 20 (torch). dx may alias dy. */
  ltcSoftplusBackward(n: number, x: number, dy: number, dx: number): void;
  /**
   * Per-column affine map (LTC input and output mappings): y[r, j] = x[r, j] * w[j] + b[j] for r < rows,
   * j < cols; w < 0 means no scale, b < 0 no shift. y may alias x.
   */
  ltcMap(rows: number, cols: number, x: number, ldx: number, w: number, b: number, y: number, ldy: number): void;
  /**
   * Backward of ltcMap: dx[r, j] += dy[r, j] * w[j] (dy when w < 0), dw[j] += sum_r dy[r, j] * x[r, j],
   * db[j] += sum_r dy[r, j]; each of dx, dw, db is skipped when < 0.
   */
  ltcMapBackward(rows: number, cols: number, x: number, ldx: number, w: number, dy: number, ldDy: number, dx: number, ldDx: number, dw: number, db: number): void;
  /**
   * Sensory synapses, once per step. For r < rows, j < units, with s[i, j] from the mapped input
   * x[r, i] (i < sources):
   *   num[r, j] = sum_i wErev[i, j] * s[i, j]        den[r, j] = sum_i w[i, j] * s[i, j]
   * num and den are rows x units, contiguous, overwritten.
   */
  ltcSensory(rows: number, sources: number, units: number, x: number, ldx: number, w: number, wErev: number, sigma: number, mu: number, num: number, den: number): void;
  /**
   * Backward of ltcSensory given dNum, dDen (rows x units, contiguous). With
   * dz[i, j] = (dNum[r, j] * erev[i, j] + dDen[r, j]) * w[i, j] * s (1 - s) it accumulates, over rows:
   *   accP[i, j] += dNum[r, j] * s        accQ[i, j] += dDen[r, j] * s
   *   dSigma[i, j] += dz * (x[r, i] - mu[i, j])     dMu[i, j] -= dz * sigma[i, j]
   *   dx[r, i] += sum_j dz * sigma[i, j]  (ld ldDx)
   * so that d/dw (effective) = erev * accP + accQ and d/derev = w * accP (the caller finishes these).
   */
  ltcSensoryBackward(rows: number, sources: number, units: number, x: number, ldx: number, w: number, erev: number, sigma: number, mu: number, dNum: number, dDen: number, dx: number, ldDx: number, accP: number, accQ: number, dSigma: number, dMu: number): void;
  /**
   * The fused ODE solver of one LTC step: `unfolds` (K) semi-implicit Euler sub-steps of dt = ts[r] / K.
   * Per row r, starting from v = v0[r, :] (ld ldv0), K times:
   *   cmT[j] = cm[j] / (ts[r] / K)
   *   num[j] = (cmT[j] * v[j] + gleakVleak[j]) + (sum_i wErev[i, j] * s[i, j] + sensNum[r, j])
   *   den[j] = (cmT[j] + gleak[j]) + (sum_i w[i, j] * s[i, j] + sensDen[r, j]) + epsilon
   *   v[j] <- num[j] / den[j]                     (s from the previous v, all j updated at once)
   * and writes the final v to vOut (ld ldOut; may alias v0). gleakVleak = phi(gleak) * vleak.
   * For backward, states (rows x (K+1) x units: v before each sub-step, then the result) and dens
   * (rows x K x units: den of each sub-step) are written when states >= 0 (then dens must be too).
   * scratch: ltcScratchSize(units) elements, the kernel's own (contents undefined before and after).
   */
  ltcForward(rows: number, units: number, unfolds: number, epsilon: number, v0: number, ldv0: number, ts: number, cm: number, gleak: number, gleakVleak: number, w: number, wErev: number, sigma: number, mu: number, sensNum: number, sensDen: number, vOut: number, ldOut: number, states: number, dens: number, scratch: number): void;
  /**
   * Backward of ltcForward from its states and dens. dv (ld ldDv): d loss / d vOut on entry, d loss / d v0
   * on exit. dNum, dDen (rows x units, contiguous, overwritten): gradients w.r.t. sensNum and sensDen.
   * Accumulated: dCm, dGleak (w.r.t. the phi'd vectors), dVleak; accP, accQ, dSigma, dMu (units x units)
   * as in ltcSensoryBackward (with dNum = 1/den, dDen = -v_next/den of each sub-step, times the incoming
   * gradient); dts[r] (d loss / d ts[r]). scratch: ltcScratchSize(units) elements, as for ltcForward.
   */
  ltcBackward(rows: number, units: number, unfolds: number, ts: number, cm: number, gleak: number, vleak: number, w: number, erev: number, sigma: number, mu: number, states: number, dens: number, dv: number, ldDv: number, dNum: number, dDen: number, dCm: number, dGleak: number, dVleak: number, accP: number, accQ: number, dSigma: number, dMu: number, dts: number, scratch: number): void;

  // ---- GRU: gated recurrent unit (torch.nn.GRU / GRUCell) -------------------------------------------
  // Gate blocks are in torch's order [r | z | n] (reset, update, new), each H wide, as the rows of
  // weight_ih_l0 / weight_hh_l0. `inputGates` (rows x 3H, contiguous) holds W_ih x + b_ih and
  // `hiddenGates` (rows x 3H, contiguous) W_hh h + b_hh, both computed by the caller's linear layers.

  /**
   * One GRU step, torch's equations:
   *   r = sigmoid(gi_r + gh_r)    z = sigmoid(gi_z + gh_z)    n = tanh(gi_n + r * gh_n)
   *   h' = (1 - z) * n + z * h
   * with gi = inputGates, gh = hiddenGates. h (ld ldh) is the previous state, hOut (ld ldhOut) receives h'
   * (it may alias h). Afterwards `inputGates` holds the cache [r | z | n]; hiddenGates is left unchanged
   * (its n block, W_hn h + b_hn, is part of what gruBackward needs).
   */
  gruForward(rows: number, hidden: number, inputGates: number, hiddenGates: number, h: number, ldh: number, hOut: number, ldhOut: number): void;
  /**
   * Backward of gruForward from its cache (gates = [r | z | n], hiddenGates, h as in the forward pass).
   * dh (ld ldDh) is d loss / d h'. Overwrites dInputGates (rows x 3H) with the gradient w.r.t. gi and
   * dHiddenGates (rows x 3H) with the gradient w.r.t. gh (they differ only in the n block, where gh's is
   * r times gi's); accumulates the direct part of d loss / d h, dh * z, into dhPrev (ld ldDhPrev).
   */
  gruBackward(rows: number, hidden: number, gates: number, hiddenGates: number, h: number, ldh: number, dh: number, ldDh: number, dInputGates: number, dHiddenGates: number, dhPrev: number, ldDhPrev: number): void;

  // ---- per-row kernels (models/ode-solver.ts): each row of a batch has its own scalar -----------------
  // An ODE solver steps every sample with its own step size; these scale, reduce, or select whole rows
  // by a per-row value read from the heap (s, mask: one value per row, contiguous).

  /** y[r, j] += (alpha * s[r]) * x[r, j] for r < rows, j < cols. y may alias x. */
  rowAxpy(rows: number, cols: number, alpha: number, s: number, x: number, ldx: number, y: number, ldy: number): void;
  /** out[r] += alpha * sum over j < cols of a[r, j] * b[r, j] */
  rowDot(rows: number, cols: number, alpha: number, a: number, lda: number, b: number, ldb: number, out: number): void;
  /**
   * The error norm of adaptive step control (root mean square, as scipy and torchdiffeq):
   *   out[r] = sqrt(mean over j < cols of (e[r, j] / (atol + rtol * max(|y0[r, j]|, |y1[r, j]|)))^2)
   * Non-finite values propagate (an infinite or NaN error gives a non-finite norm).
   */
  rowErrorNorm(rows: number, cols: number, e: number, lde: number, y0: number, ldy0: number, y1: number, ldy1: number, atol: number, rtol: number, out: number): void;
  /** dst[r, 0..cols) = src[r, 0..cols) for the rows r < rows whose mask[r] is not 0; other rows untouched */
  copyRowsWhere(rows: number, cols: number, mask: number, src: number, ldSrc: number, dst: number, ldDst: number): void;
  /** The index of the first NaN or infinite value among x[0..n), or -1 when all are finite. */
  nonFiniteIndex(n: number, x: number): number;

  // ---- GRU-ODE: the GRU's continuous form (models/gru-ode.ts) -----------------------------------------
  // dh/dt = (1 - z) * (g - h) with r = sigmoid(W_r h + b_r), z = sigmoid(W_z h + b_z),
  // g = tanh(W_g (r * h) + b_g). `gates` (rows x 4H, contiguous) is one evaluation's cache
  // [r | z | g | r * h]; the caller's linear layers write the pre-activations of r and z into blocks 0
  // and 1, then (after gruOdeGatesForward) that of g into block 2, reading r * h from block 3.

  /** r = sigmoid(block 0) and z = sigmoid(block 1) in place; block 3 = r * h (h: rows x H, ld ldh). */
  gruOdeGatesForward(rows: number, hidden: number, gates: number, h: number, ldh: number): void;
  /** g = tanh(block 2) in place, then dhdt = (1 - z) * (g - h) (ld ldDhdt; must not alias h). */
  gruOdeForward(rows: number, hidden: number, gates: number, h: number, ldh: number, dhdt: number, ldDhdt: number): void;
  /**
   * Backward of gruOdeForward from its cache, given dDhdt = d loss / d dhdt (ld ldDDhdt): blocks 1 and 2
   * of dGates (rows x 4H) are overwritten with the gradients w.r.t. the pre-activations of z and g,
   *   -dDhdt * (g - h) * z * (1 - z)   and   dDhdt * (1 - z) * (1 - g^2),
   * and the direct part -dDhdt * (1 - z) accumulates into dh (ld ldDh).
   */
  gruOdeBackward(rows: number, hidden: number, gates: number, h: number, ldh: number, dDhdt: number, ldDDhdt: number, dGates: number, dh: number, ldDh: number): void;
  /**
   * Backward of gruOdeGatesForward, given d loss / d (r * h) in block 3 of dGates: block 0 is overwritten
   * with the gradient w.r.t. r's pre-activation, d(r * h) * h * r * (1 - r); d(r * h) * r accumulates into
   * dh (ld ldDh).
   */
  gruOdeGatesBackward(rows: number, hidden: number, gates: number, h: number, ldh: number, dGates: number, dh: number, ldDh: number): void;

  // ---- optimizer updates over a parameter block (train/optimizers.ts) ---------------------------------

  /**
   * One torch.optim.Adam / AdamW step over n parameters, in place: value, m (exp_avg) and v (exp_avg_sq)
   * from grad, with the step's scalars (see AdamStepScalars). Per element, with p = value * shrink
   * (when shrink != 1) and g = grad + l2 * p:
   *   m = lerp(m, g, w1) (torch.lerp: m + w1 (g - m) when w1 < 0.5, else g - (g - m) keep1)
   *   v = b2 v + c2 g^2        value = p - stepSize m / (sqrt(v) / bias2Sqrt + eps)
   * The float32 engine rounds every operation to float32 as torch's float32 kernel does, except the
   * product with w1, which is taken in double and rounded (the same bits as the float32 path of
   * train/optimizers.ts). tail: 16 elements of scratch (contents undefined before and after).
   */
  adamUpdate(n: number, value: number, grad: number, m: number, v: number, s: AdamStepScalars, tail: number): void;
  /**
   * One torch.optim.RMSprop step over n parameters, in place, rounded as adamUpdate. With g = grad +
   * wd value: sq = alpha sq + c g^2; centered (gAvg >= 0): gAvg = lerp(gAvg, g, w) (keepW = 1 - w),
   * avg = sqrt(sq - gAvg^2), else avg = sqrt(sq); avg += eps; with momentum (buf >= 0): buf = mom buf +
   * g / avg, value -= lr buf; else value -= lr (g / avg).
   */
  rmspropUpdate(n: number, value: number, grad: number, sq: number, gAvg: number, buf: number, s: RmspropStepScalars): void;
  /**
   * One torch.optim.SGD step over n parameters, in place, rounded as adamUpdate. With g = grad + wd value:
   * with momentum (buf >= 0), buf = g on the first step, else mom buf + keep g, and g = g + mom buf
   * (nesterov) or buf; then value -= lr g.
   */
  sgdUpdate(n: number, value: number, grad: number, buf: number, s: SgdStepScalars): void;

  // ---- matrix products with B packed ahead of time ----------------------------------------------------
  // A layer's weights are the B of the same product at every time step of a pass: packing them once
  // per pass into the engine's cache-blocked layout spares gemm the copy at every step.

  /** Writes B (k x n, ld ldb) into `packed` (packedSize(k, n) elements) in the engine's own layout. */
  packB(k: number, n: number, b: number, ldb: number, packed: number): void;
  /** gemm(m, n, k, a, lda, b, ldb, c, ldc, accumulate), given `packed` = packB(k, n, b, ldb) of the current B. */
  gemmPrepacked(m: number, n: number, k: number, a: number, lda: number, packed: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean): void;

  // ---- gradient clipping (train/clip.ts) --------------------------------------------------------------

  /** The sum of x[i]^2 over i < n, accumulated in float64 (non-finite values propagate). */
  sumSquares(n: number, x: number): number;
  /** x[0..n) *= alpha (alpha rounded to the engine's dtype first) */
  scale(n: number, alpha: number, x: number): void;
}

/** The scalars of one RMSprop step (Engine.rmspropUpdate); all but w are float32 values. */
export interface RmspropStepScalars {
  wd: number;
  alpha: number;
  /** 1 - alpha */
  c: number;
  /** 1 - alpha in double (the centered average's lerp weight), and 1 - w */
  w: number;
  keepW: number;
  eps: number;
  momentum: number;
  lr: number;
}

/** The scalars of one SGD step (Engine.sgdUpdate), float32 values. */
export interface SgdStepScalars {
  wd: number;
  momentum: number;
  /** 1 - dampening */
  keep: number;
  lr: number;
  /** the first step (the momentum buffer starts as the gradient) */
  first: boolean;
  nesterov: boolean;
}

/** Elements that Engine.packB writes for a k x n matrix (its 8-column panels; the rest is read from B). */
export function packedSize(k: number, n: number): number {
  return k * (n & ~7);
}

/** The scalars of one Adam / AdamW step (Engine.adamUpdate); all but w1 are float32 values. */
export interface AdamStepScalars {
  /** AdamW's decoupled decay factor 1 - lr weightDecay (1: none) */
  shrink: number;
  /** Adam's L2 penalty (0: none) */
  l2: number;
  /** 1 - beta1, in double */
  w1: number;
  /** 1 - w1 */
  keep1: number;
  /** beta2 and 1 - beta2 */
  b2: number;
  c2: number;
  /** sqrt(1 - beta2^step) */
  bias2Sqrt: number;
  eps: number;
  /** lr / (1 - beta1^step) */
  stepSize: number;
}

/**
 * Elements of scratch that ltcForward and ltcBackward need for `units` neurons. The float32 kernels keep
 * a copy of the synapse parameters in it, in blocks of four destinations (forward: 16 floats per source
 * and block, backward: 32, the second half gradient accumulators), plus a sigmoid buffer of 8 floats per
 * block and a few row vectors: 4 * ceil(units / 4) * (10 * units + 8) in all.
 */
export function ltcScratchSize(units: number): number {
  return 4 * Math.ceil(units / 4) * (10 * units + 8);
}
