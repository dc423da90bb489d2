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
   * CfC output for modes default / no_gate. `heads` holds, per row, the four head pre-activations
   * [ff1 | ff2 | time_a | time_b] (each H wide, without bias); `bias` holds their 4H biases.
   * With sigma = sigmoid(time_a * ts[r] + time_b):
   *   default: h = ff1 * (1 - sigma) + sigma * ff2      no_gate: h = ff1 + sigma * ff2
   * where ff1 = tanh(.), ff2 = tanh(.). Afterwards `heads` holds the cache [ff1 | ff2 | time_a | sigma].
   */
  cfcForward(mode: number, rows: number, hidden: number, heads: number, bias: number, ts: number, h: number, ldh: number): void;
  /**
   * Backward of cfcForward from its cache: dHeads (rows x 4H) receives the gradients of the head
   * pre-activations; dts[r] = d loss / d ts[r] (overwritten).
   */
  cfcBackward(mode: number, rows: number, hidden: number, heads: number, ts: number, dh: number, ldDh: number, dHeads: number, dts: number): void;
  /**
   * CfC "pure" (Cf-S) mode: f = ff1 pre-activation + bias (stored back into `ff1`, rows x H),
   * h = A - A * exp(-ts * (|w_tau| + |f|)) * f, with w_tau and A vectors of H.
   */
  cfcPureForward(rows: number, hidden: number, ff1: number, bias: number, ts: number, wTau: number, a: number, h: number, ldh: number): void;
  /** Backward of cfcPureForward: dff1 (rows x H) overwritten, dts overwritten, dWTau and dA accumulated. */
  cfcPureBackward(rows: number, hidden: number, ff1: number, ts: number, wTau: number, a: number, dh: number, ldDh: number, dff1: number, dts: number, dWTau: number, dA: number): void;

  /**
   * ncps LSTMCell step (mixed memory). `gates` holds per row the 4H pre-activations
   * [input activation | input gate | forget gate | output gate] with all biases already added except the
   * forget gate's constant +1. c' = c * sigmoid(f + 1) + tanh(i) * sigmoid(ig); h' = tanh(c') * sigmoid(og).
   * Afterwards `gates` holds the cache [tanh(i) | sigmoid(ig) | sigmoid(f+1) | sigmoid(og)].
   */
  lstmForward(rows: number, hidden: number, gates: number, c: number, ldc: number, cOut: number, hOut: number, ldh: number): void;
  /**
   * Backward of lstmForward. dh: gradient w.r.t. h'; dc (rows x H, contiguous): gradient w.r.t. c' on
   * entry, replaced by the gradient w.r.t. c on exit; dGates (rows x 4H) receives the pre-activation gradients.
   */
  lstmBackward(rows: number, hidden: number, gates: number, c: number, ldc: number, cOut: number, dh: number, ldDh: number, dc: number, dGates: number): void;
}

/** Copies `n` elements out of an engine into a fresh array of the given kind. */
export function readOut(engine: Engine, off: number, n: number, into: FloatArray): FloatArray {
  into.set(engine.heap().subarray(off, off + n));
  return into;
}
