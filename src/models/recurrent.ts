/**
 * What CfC and LTC share (ncps torch's `CfC.forward` / `LTC.forward` loop): the sequence layouts, elapsed
 * times, initial states, mixed memory (an LSTM in front of the cell), the optional output projection, the
 * backward pass through time, and streaming one step at a time. A subclass supplies the cell ("core"):
 * one forward step, one backward step, and the weight gradients of a whole sequence.
 *
 * Buffers are time-major with one row per sample (row = t * B + b). States are kept for t = 0..L, slot 0
 * holding the initial state, so the previous states of all steps form one contiguous block.
 */
import type { Engine } from "../engine/engine.js";
import { ParameterSet, type ParamRef } from "../nn/parameters.js";
import { linearDefault } from "../nn/init.js";
import { type Linear, addLinear, linearBackwardInput, linearBackwardWeights, linearForward, linearPrepare } from "../nn/linear.js";
import { LstmCache, LstmCell } from "../nn/lstm-cell.js";
import { Rng } from "../nn/rng.js";
import { type DType, type FloatArray, type Tensor, type TensorInput, arrayFor, asTensor, shapeString } from "../tensor.js";
import {
  type ResolvedTimespans,
  type SequenceLayout,
  checkFiniteInputs,
  checkState,
  resolveInput,
  resolveTimespans,
  sequenceShape,
  stepShape,
  timespansGrad,
} from "./sequence.js";

export type HiddenState = Tensor | { h: Tensor; c?: Tensor } | [Tensor, Tensor];

export interface ForwardOptions {
  /** initial state: h, or {h, c} / [h, c] with mixed memory; zeros when absent */
  hx?: HiddenState | null;
  /** elapsed time per step (see resolveTimespans; a tensor or nested arrays); 1.0 when absent */
  timespans?: TensorInput | number | null;
  /** dropout active (default false) */
  training?: boolean;
  /** keep what backward needs (default true, as torch's autograd) */
  grad?: boolean;
  /** reject NaN / infinite values in input, timespans and hx with an error naming the position */
  checkFinite?: boolean;
  /** also return every step's full state (B, L, stateSize) in `states` */
  returnStates?: boolean;
}

export interface ForwardResult {
  output: Tensor;
  state: { h: Tensor; c?: Tensor };
  states?: Tensor;
}

export interface BackwardResult {
  input: Tensor;
  hx: { h: Tensor; c?: Tensor };
  timespans?: Tensor;
}

export interface RecurrentOptions {
  returnSequences: boolean;
  batchFirst: boolean;
  mixedMemory: boolean;
  projSize: number | null;
  seed: number;
}

/**
 * What a forward pass keeps: `training` switches dropout on (so caches hold dropout masks), `grad` keeps
 * every step's activations for backward (so caches hold gradient buffers and one slot per step; without
 * it one slot is reused by every step). The two are independent.
 */
export interface PassMode {
  readonly training: boolean;
  readonly grad: boolean;
  /** steps of the whole pass (the sequence length; 1 for a stream), whatever the number of cache slots */
  readonly sequenceSteps: number;
}

/** Buffers of one forward pass, kept for the backward pass. */
interface Tape {
  layout: SequenceLayout;
  ts: ResolvedTimespans;
  training: boolean;
  grad: boolean;
  steps: number;
  rows: number;
  core: unknown;
  lstm: LstmCache | null;
  x: number; // R x I
  tsRows: number; // R
  h: number; // (L+1)B x S
  c: number; // (L+1)B x S (mixed)
  hl: number; // R x S (mixed: LSTM output = the cell's previous state)
  y: number; // R x cellOut
  out: number; // R x P (projection)
  dx: number;
  dh: number; // (L+1)B x S
  dy: number; // R x cellOut
  dts: number; // R
  dc: number; // B x S
  dhl: number; // B x S
  /** the engine memory of these buffers: offset, element count, ... (freed when the tape is dropped) */
  memory: number[];
  scratch: number; // P x R
  stage: number; // R x widest: user-layout staging for layout changes done by the engine
}

/** How many input shapes keep their buffers before the model gives all tape memory back. */
const MAX_CACHED_SHAPES = 6;

export abstract class RecurrentModel {
  readonly params: ParameterSet;
  readonly dtype: DType;
  readonly returnSequences: boolean;
  readonly batchFirst: boolean;
  readonly mixedMemory: boolean;
  readonly projSize: number | null;
  /** the generator for weight initialisation (then for dropout masks) */
  protected readonly rng: Rng;
  protected lstm: LstmCell | null = null;
  /** the output projection (ncps `fc`), when projSize is set */
  private fc: Linear | null = null;
  private tape: Tape | null = null;
  /** buffers per (batch, steps, grad, training), reused across calls with the same shapes */
  private tapes = new Map<string, Tape>();

  /** Size of the recurrent state h. */
  abstract readonly stateSize: number;
  /** The model's name when its cell divides by the elapsed time, so zero is refused (LTC); else null. */
  protected positiveTimespansFor(): string | null {
    return null;
  }
  /** @internal streams check their elapsed times as forward does */
  _positiveTimespansFor(): string | null {
    return this.positiveTimespansFor();
  }
  /**
   * The model as ncps constructor arguments (`{model, constructor_args}` with snake_case names, units an
   * int or {wiring: spec}): enough, with the weights, to rebuild it (see models/build.ts).
   */
  abstract toConfig(): { model: string; constructor_args: Record<string, unknown> };
  /** Size of the cell's output before projection (motor neurons of a wiring, else the state). */
  abstract readonly cellOutputSize: number;

  protected constructor(readonly engine: Engine, readonly inputSize: number, options: RecurrentOptions) {
    if (!Number.isInteger(inputSize) || inputSize < 1) throw new Error(`inputSize must be a positive integer, got ${inputSize}`);
    this.params = new ParameterSet(engine);
    this.dtype = engine.dtype;
    this.returnSequences = options.returnSequences;
    this.batchFirst = options.batchFirst;
    this.mixedMemory = options.mixedMemory;
    this.projSize = options.projSize;
    if (this.projSize !== null && (!Number.isInteger(this.projSize) || this.projSize < 1)) {
      throw new Error(`projSize must be a positive integer or null, got ${this.projSize}`);
    }
    this.rng = new Rng(options.seed);
  }

  /** Registers mixed memory and projection after the cell (ncps module order: rnn_cell, lstm, fc). */
  protected buildHeadAndTail(): void {
    if (this.mixedMemory) this.lstm = new LstmCell(this.engine, this.params, "lstm.", this.inputSize, this.stateSize, this.rng);
    if (this.projSize !== null) {
      const P = this.projSize;
      const O = this.cellOutputSize;
      const fc = addLinear(this.params, "fc", O, P, true);
      const wv = new Float64Array(P * O);
      linearDefault(wv, O, this.rng);
      const bv = new Float64Array(P);
      linearDefault(bv, O, this.rng);
      this.engine.heap().set(wv, fc.weight.value);
      this.engine.heap().set(bv, fc.bias!.value);
      this.fc = fc;
    }
  }

  /** Output size after the projection. */
  get outputSize(): number {
    return this.projSize ?? this.cellOutputSize;
  }

  // ---- the cell, supplied by subclasses -------------------------------------------------------------
  protected abstract corePrepare(): void;
  protected abstract coreCache(steps: number, rows: number, mode: PassMode): unknown;
  /** One step: x (ld ldx), hPrev and hOut (ld S), ts (rows), cell output y (ld cellOutputSize). */
  protected abstract coreForward(cache: unknown, slot: number, rows: number, x: number, ldx: number, hPrev: number, hOut: number, ts: number, y: number, dropout: Rng | null): void;
  /**
   * Backward of one step: dy (rows x cellOut) is d loss / d y; dh (ld S) holds d loss / d hOut from later
   * steps and may be modified. Accumulates into dx (ld ldDx), dhPrev (ld S) and dts (rows).
   */
  /* hPrev and hOut (ld S) are the states the step read and wrote in the forward pass. */
  protected abstract coreBackward(cache: unknown, slot: number, rows: number, dy: number, dh: number, dx: number, ldDx: number, dhPrev: number, ts: number, dts: number, hPrev: number, hOut: number): void;
  /** Weight gradients of all steps; x (R x I) and hPrev (R x S) are the inputs and previous states the steps read. */
  protected abstract coreFinishBackward(cache: unknown, steps: number, x: number, hPrev: number): void;
  /**
   * Called before the steps of a pass with all their inputs x (time-major, steps * rows rows, ld I); the
   * steps then run in order. A cell whose input enters through a linear map alone (the GRU) maps every
   * step's input here in one matmul. Default: nothing.
   */
  protected coreMapInputs(_cache: unknown, _steps: number, _rows: number, _x: number): void {}

  // ---- parameters -----------------------------------------------------------------------------------
  parameters(): ParamRef[] {
    return this.params.params();
  }
  zeroGrad(): void {
    this.params.zeroGrad();
  }
  parameterCount(): number {
    return this.params.count();
  }
  /** Tensors by ncps state_dict name (masks included), in state_dict order. */
  stateDict(): Map<string, Tensor> {
    const m = new Map<string, Tensor>();
    for (const e of this.params.stateDict()) m.set(e.name, { shape: e.shape, data: e.data });
    return m;
  }
  loadStateDict(tensors: Map<string, Tensor> | Record<string, Tensor>, source?: string): void {
    this.params.loadStateDict(tensors, source);
  }

  /** State of the model's generator (dropout masks), for checkpoints and reproducible runs. */
  getRngState(): number[] {
    return this.rng.getState();
  }
  setRngState(state: readonly number[]): void {
    this.rng.setState(state);
  }

  private prepare(): void {
    this.corePrepare();
    this.lstm?.prepare();
    if (this.fc) linearPrepare(this.engine, this.fc);
  }

  private getTape(layout: SequenceLayout, grad: boolean, training: boolean): Tape {
    const B = layout.batch;
    const L = layout.steps;
    const key = `${B}x${L}:${grad ? "g" : "n"}${training ? "t" : ""}`;
    const cached = this.tapes.get(key);
    if (cached) return { ...cached, layout, training };
    const e = this.engine;
    // Calls with ever new shapes (e.g. sequences of every length) would otherwise keep allocating:
    // past a few cached shapes, give all tape memory back and start over (freed block by block, so
    // it works whatever other models allocated on the same engine meanwhile).
    if (this.tapes.size >= MAX_CACHED_SHAPES) this.dropTapes();
    const memory: number[] = [];
    e.recordAllocations(memory);
    try {
      return this.buildTape(key, layout, grad, training, memory);
    } finally {
      e.recordAllocations(null);
    }
  }

  /** Gives the memory of every cached tape back to the engine. */
  private dropTapes(): void {
    const e = this.engine;
    for (const t of this.tapes.values()) {
      for (let i = t.memory.length - 2; i >= 0; i -= 2) e.free(t.memory[i], t.memory[i + 1]);
    }
    this.tapes.clear();
    this.tape = null;
  }

  private buildTape(key: string, layout: SequenceLayout, grad: boolean, training: boolean, memory: number[]): Tape {
    const e = this.engine;
    const B = layout.batch;
    const L = layout.steps;
    const S = this.stateSize;
    const R = B * L;
    const P = this.projSize ?? 0;
    const O = this.cellOutputSize;
    const coreSteps = grad ? L : 1;
    const t: Tape = {
      layout,
      ts: { kind: "default", rows: new Float64Array(0), shape: [] },
      training,
      grad,
      steps: L,
      rows: B,
      core: this.coreCache(coreSteps, B, { training, grad, sequenceSteps: L }),
      lstm: this.lstm ? new LstmCache(e, S, coreSteps, B, grad) : null,
      x: e.alloc(R * this.inputSize),
      tsRows: e.alloc(R),
      h: e.alloc((L + 1) * B * S),
      c: this.mixedMemory ? e.alloc((L + 1) * B * S) : -1,
      hl: this.mixedMemory ? e.alloc(R * S) : -1,
      y: e.alloc(R * O),
      out: P ? e.alloc(R * P) : -1,
      dx: grad ? e.alloc(R * this.inputSize) : -1,
      dh: grad ? e.alloc((L + 1) * B * S) : -1,
      dy: grad ? e.alloc(R * O) : -1,
      dts: grad ? e.alloc(R) : -1,
      dc: grad && this.mixedMemory ? e.alloc(B * S) : -1,
      dhl: grad && this.mixedMemory ? e.alloc(B * S) : -1,
      scratch: grad && P ? e.alloc(P * R) : -1,
      stage: e.alloc(R * Math.max(this.inputSize, S, O, P)),
      memory,
    };
    this.tapes.set(key, t);
    return t;
  }

  /** Copies a user-layout sequence (rows of `width`) into time-major rows at `dst` (ld = width). */
  private loadSequence(data: FloatArray, tape: Tape, width: number, dst: number): void {
    const { batch: B, steps: L, unbatched, batchFirst } = tape.layout;
    const heap = this.engine.heap();
    if (unbatched || !batchFirst || B === 1) {
      heap.set(data.subarray(0, B * L * width), dst); // already time-major
      return;
    }
    heap.set(data.subarray(0, B * L * width), tape.stage);
    for (let t = 0; t < L; t++) this.engine.copyRows(B, width, tape.stage + t * width, L * width, dst + t * B * width, width);
  }

  /** Copies time-major rows at `src` (row stride srcLd) out into a user-layout array. */
  private storeSequence(src: number, srcLd: number, tape: Tape, width: number, into: FloatArray): void {
    const { batch: B, steps: L, unbatched, batchFirst } = tape.layout;
    const e = this.engine;
    if (unbatched || !batchFirst || B === 1) {
      if (srcLd === width) {
        into.set(e.heap().subarray(src, src + B * L * width));
        return;
      }
      e.copyRows(B * L, width, src, srcLd, tape.stage, width);
    } else {
      for (let t = 0; t < L; t++) e.copyRows(B, width, src + t * B * srcLd, srcLd, tape.stage + t * width, L * width);
    }
    into.set(e.heap().subarray(tape.stage, tape.stage + B * L * width));
  }

  private parseHx(hx: HiddenState | null | undefined): { h?: Tensor; c?: Tensor } {
    if (!hx) return {};
    const checked = (t: Tensor | undefined, name: string) => (t === undefined || t === null ? undefined : asTensor(t, name, this.dtype));
    if (Array.isArray(hx)) return { h: checked(hx[0], "hx[0]"), c: checked(hx[1], "hx[1]") };
    if ("shape" in hx) {
      if (this.mixedMemory) throw new Error("hx: with mixedMemory the state is {h, c} (or [h, c]), got a single tensor");
      return { h: checked(hx, "hx") };
    }
    return { h: checked(hx.h, "hx.h"), c: checked(hx.c, "hx.c") };
  }

  /**
   * Runs the sequence. `x` is a tensor whose data length must match its shape, or nested arrays
   * ((B, L, I) batch-first, (L, B, I) time-major, (L, I) unbatched). See ForwardOptions.
   */
  forward(input: TensorInput, options: ForwardOptions = {}): ForwardResult {
    const x = asTensor(input, "input", this.dtype);
    const layout = resolveInput(x, this.inputSize, this.batchFirst);
    const { h: h0, c: c0 } = this.parseHx(options.hx);
    if (h0) checkState(h0, layout, this.stateSize, "hx");
    if (c0) {
      if (!this.mixedMemory) throw new Error("hx.c: a cell state is only used with mixedMemory");
      checkState(c0, layout, this.stateSize, "hx.c");
    }
    const given = options.timespans;
    const timespans = given === undefined || given === null || typeof given === "number" ? given : asTensor(given, "timespans", this.dtype);
    if (options.checkFinite) checkFiniteInputs(x, timespans, [h0, c0].filter((t): t is Tensor => !!t));
    const ts = resolveTimespans(timespans, layout, "timespans", this.positiveTimespansFor());
    const grad = options.grad ?? true;
    const training = options.training ?? false;
    const tape = this.getTape(layout, grad, training);
    tape.ts = ts;
    // backward differentiates the last forward that kept its tape (a predict in between does not count)
    if (grad) this.tape = tape;

    const e = this.engine;
    const B = layout.batch;
    const L = layout.steps;
    const S = this.stateSize;
    const I = this.inputSize;
    const O = this.cellOutputSize;
    this.prepare();
    let heap = e.heap();
    this.loadSequence(x.data, tape, I, tape.x);
    heap = e.heap();
    heap.set(ts.rows, tape.tsRows);
    if (h0) heap.set(h0.data, tape.h);
    else heap.fill(0, tape.h, tape.h + B * S);
    if (this.mixedMemory) {
      if (c0) heap.set(c0.data, tape.c);
      else heap.fill(0, tape.c, tape.c + B * S);
    }
    const dropout = training ? this.rng : null;
    this.coreMapInputs(tape.core, L, B, tape.x);
    for (let t = 0; t < L; t++) {
      const slot = grad ? t : 0;
      const xt = tape.x + t * B * I;
      let hPrev = tape.h + t * B * S;
      if (this.lstm) {
        const hl = tape.hl + t * B * S;
        this.lstm.forwardStep(tape.lstm!, slot, B, xt, I, hPrev, S, tape.c + t * B * S, S, tape.c + (t + 1) * B * S, hl, S);
        hPrev = hl;
      }
      this.coreForward(tape.core, slot, B, xt, I, hPrev, tape.h + (t + 1) * B * S, tape.tsRows + t * B, tape.y + t * B * O, dropout);
    }
    let outOff = tape.y;
    let outW = O;
    if (this.fc) {
      linearForward(e, this.fc, L * B, tape.y, O, tape.out, this.fc.outFeatures);
      outOff = tape.out;
      outW = this.fc.outFeatures;
    }
    heap = e.heap();
    let output: Tensor;
    if (this.returnSequences) {
      const data = arrayFor(this.dtype, L * B * outW);
      this.storeSequence(outOff, outW, tape, outW, data);
      output = { shape: sequenceShape(layout, outW), data };
    } else {
      const data = arrayFor(this.dtype, B * outW);
      data.set(heap.subarray(outOff + (L - 1) * B * outW, outOff + L * B * outW));
      output = { shape: stepShape(layout, outW), data };
    }
    const hT = arrayFor(this.dtype, B * S);
    hT.set(heap.subarray(tape.h + L * B * S, tape.h + (L + 1) * B * S));
    const state: { h: Tensor; c?: Tensor } = { h: { shape: stepShape(layout, S), data: hT } };
    if (this.mixedMemory) {
      const cT = arrayFor(this.dtype, B * S);
      cT.set(heap.subarray(tape.c + L * B * S, tape.c + (L + 1) * B * S));
      state.c = { shape: stepShape(layout, S), data: cT };
    }
    const result: ForwardResult = { output, state };
    if (options.returnStates) {
      const data = arrayFor(this.dtype, L * B * S);
      this.storeSequence(tape.h + B * S, S, tape, S, data);
      result.states = { shape: sequenceShape(layout, S), data };
    }
    return result;
  }

  /** Inference: forward without keeping anything for backward, dropout off. */
  predict(x: TensorInput, options: Omit<ForwardOptions, "grad" | "training"> = {}): ForwardResult {
    return this.forward(x, { ...options, grad: false, training: false });
  }

  /**
   * Backpropagates d loss / d output (shaped like the last forward's output) through the sequence.
   * Parameter gradients accumulate into the parameters' grads (zeroGrad to reset); returns the gradients
   * w.r.t. the input, the initial state and the timespans (when given as a tensor).
   */
  backward(dOutputInput: TensorInput, options: { dState?: { h?: Tensor; c?: Tensor } } = {}): BackwardResult {
    const tape = this.tape;
    if (!tape) throw new Error("backward: no forward pass with grad to differentiate (call forward first, without grad: false)");
    const dOutput = asTensor(dOutputInput, "dOutput", this.dtype);
    const { layout } = tape;
    const e = this.engine;
    const B = layout.batch;
    const L = layout.steps;
    const S = this.stateSize;
    const I = this.inputSize;
    const O = this.cellOutputSize;
    const R = B * L;
    const outW = this.outputSize;
    const expected = this.returnSequences ? sequenceShape(layout, outW) : stepShape(layout, outW);
    if (dOutput.shape.length !== expected.length || dOutput.shape.some((d, i) => d !== expected[i])) {
      throw new Error(`backward: dOutput must have the output's shape ${shapeString(expected)}, got ${shapeString(dOutput.shape)}`);
    }
    let heap = e.heap();
    // d loss / d (projected) output, time-major
    const dOutOff = this.projSize !== null ? tape.out : tape.dy; // reuse tape.out as d(out) scratch
    heap.fill(0, dOutOff, dOutOff + R * outW);
    if (this.returnSequences) this.loadSequence(dOutput.data, tape, outW, dOutOff);
    else heap.set(dOutput.data, dOutOff + (L - 1) * B * outW);
    if (this.fc) {
      const P = this.fc.outFeatures;
      linearBackwardWeights(e, this.fc, R, dOutOff, P, tape.y, O, tape.scratch);
      linearBackwardInput(e, this.fc, R, dOutOff, P, tape.dy, O, false);
    }
    e.fill(tape.dx, R * I, 0);
    e.fill(tape.dh, (L + 1) * B * S, 0);
    e.fill(tape.dts, R, 0);
    heap = e.heap();
    const dState = options.dState ?? {};
    if (dState.h) {
      checkState(dState.h, layout, S, "dState.h");
      heap.set(dState.h.data, tape.dh + L * B * S);
    }
    if (this.mixedMemory) {
      e.fill(tape.dc, B * S, 0);
      if (dState.c) {
        checkState(dState.c, layout, S, "dState.c");
        e.heap().set(dState.c.data, tape.dc);
      }
    }
    for (let t = L - 1; t >= 0; t--) {
      const slot = t;
      const dh = tape.dh + (t + 1) * B * S;
      const dhPrev = tape.dh + t * B * S;
      const dxt = tape.dx + t * B * I;
      const hOut = tape.h + (t + 1) * B * S;
      if (this.lstm) {
        e.fill(tape.dhl, B * S, 0);
        this.coreBackward(tape.core, slot, B, tape.dy + t * B * O, dh, dxt, I, tape.dhl, tape.tsRows + t * B, tape.dts + t * B, tape.hl + t * B * S, hOut);
        this.lstm.backwardStep(tape.lstm!, slot, B, tape.c + t * B * S, S, tape.c + (t + 1) * B * S, tape.dhl, S, tape.dc, dxt, I, dhPrev, S);
      } else {
        this.coreBackward(tape.core, slot, B, tape.dy + t * B * O, dh, dxt, I, dhPrev, tape.tsRows + t * B, tape.dts + t * B, tape.h + t * B * S, hOut);
      }
    }
    this.coreFinishBackward(tape.core, L, tape.x, this.lstm ? tape.hl : tape.h);
    if (this.lstm) this.lstm.finishBackward(tape.lstm!, L, tape.x, tape.h, S);

    heap = e.heap();
    const dIn = arrayFor(this.dtype, R * I);
    this.storeSequence(tape.dx, I, tape, I, dIn);
    const dh0 = arrayFor(this.dtype, B * S);
    dh0.set(heap.subarray(tape.dh, tape.dh + B * S));
    const result: BackwardResult = {
      input: { shape: [...sequenceShape(layout, I)], data: dIn },
      hx: { h: { shape: stepShape(layout, S), data: dh0 } },
    };
    if (this.mixedMemory) {
      const dc0 = arrayFor(this.dtype, B * S);
      dc0.set(heap.subarray(tape.dc, tape.dc + B * S));
      result.hx.c = { shape: stepShape(layout, S), data: dc0 };
    }
    const dts = timespansGrad(tape.ts, heap.subarray(tape.dts, tape.dts + R), layout, this.dtype);
    if (dts) result.timespans = dts;
    return result;
  }

  /**
   * A stateful single-sample stepper for streaming inference: no allocation per step. Weights are read
   * when the stream is created and on `reset()`; create a new stream after changing them.
   */
  stream(): StreamSession {
    return new StreamSession(this);
  }

  /** @internal used by StreamSession */
  _streamParts() {
    const e = this.engine;
    // a stream's buffers are its own (tapes come and go): recorded, to be freed when it closes
    const S = this.stateSize;
    const I = this.inputSize;
    const O = this.cellOutputSize;
    const P = this.projSize;
    const memory: number[] = [];
    e.recordAllocations(memory);
    let parts;
    try {
      parts = this.streamBuffers(e, S, I, O, P);
    } finally {
      e.recordAllocations(null);
    }
    const step = (cur: number): void => {
      const hPrevSlot = parts.h + cur * S;
      const hNextSlot = parts.h + (1 - cur) * S;
      let hPrev = hPrevSlot;
      if (this.lstm) {
        this.lstm.forwardStep(parts.lstm!, 0, 1, parts.x, I, hPrevSlot, S, parts.c + cur * S, S, parts.c + (1 - cur) * S, parts.hl, S);
        hPrev = parts.hl;
      }
      this.coreMapInputs(parts.core, 1, 1, parts.x);
      this.coreForward(parts.core, 0, 1, parts.x, I, hPrev, hNextSlot, parts.ts, parts.y, null);
      if (this.fc) linearForward(e, this.fc, 1, parts.y, O, parts.out, this.fc.outFeatures);
    };
    return { parts, step, prepare: () => this.prepare(), memory };
  }

  /** The buffers of one stream. */
  private streamBuffers(e: Engine, S: number, I: number, O: number, P: number | null) {
    return {
      core: this.coreCache(1, 1, { training: false, grad: false, sequenceSteps: 1 }),
      lstm: this.lstm ? new LstmCache(e, S, 1, 1, false) : null,
      x: e.alloc(I),
      ts: e.alloc(1),
      h: e.alloc(2 * S),
      c: this.mixedMemory ? e.alloc(2 * S) : -1,
      hl: this.mixedMemory ? e.alloc(S) : -1,
      y: e.alloc(O),
      out: P !== null ? e.alloc(P) : -1,
    };
  }
}

/** A stream's engine memory: offset, element count, ... */
interface StreamMemory {
  readonly engine: Engine;
  readonly memory: number[];
}

function freeStreamMemory(m: StreamMemory): void {
  for (let i = m.memory.length - 2; i >= 0; i -= 2) m.engine.free(m.memory[i], m.memory[i + 1]);
  m.memory.length = 0;
}

/** Gives the memory of a stream that was dropped without close() back once it is collected. */
const unclosedStreams =
  typeof FinalizationRegistry === "function"
    ? new FinalizationRegistry<StreamMemory>((m) => {
        try {
          freeStreamMemory(m);
        } catch {
          // the engine was reset under the stream (engine.release): nothing left to give back
        }
      })
    : null;

export class StreamSession {
  private readonly parts;
  private readonly memory: StreamMemory;
  private closed = false;
  private readonly stepFn: (cur: number) => void;
  private readonly prepareFn: () => void;
  private cur = 0;
  private readonly result: FloatArray;
  /** the model's name when it refuses zero elapsed times (read once: step runs per reading) */
  private readonly positiveFor: string | null;

  constructor(private readonly model: RecurrentModel) {
    this.positiveFor = model._positiveTimespansFor();
    const s = model._streamParts();
    this.parts = s.parts;
    this.stepFn = s.step;
    this.prepareFn = s.prepare;
    this.memory = { engine: model.engine, memory: s.memory };
    unclosedStreams?.register(this, this.memory, this);
    this.result = arrayFor(model.dtype, model.outputSize);
    this.reset();
  }

  /**
   * Gives the stream's engine memory back (a stream dropped without closing gives it back when it is
   * garbage-collected). The stream cannot be used afterwards.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    unclosedStreams?.unregister(this);
    freeStreamMemory(this.memory);
  }

  /** Zeroes the state (or sets it) and re-reads the weights. */
  reset(state?: { h?: ArrayLike<number>; c?: ArrayLike<number> }): void {
    if (this.closed) throw new Error("stream.reset: the stream is closed");
    this.prepareFn();
    const S = this.model.stateSize;
    const heap = this.model.engine.heap();
    this.cur = 0;
    heap.fill(0, this.parts.h, this.parts.h + 2 * S);
    if (state?.h) {
      if (state.h.length !== S) throw new Error(`stream.reset: state h must have ${S} values, got ${state.h.length}`);
      heap.set(state.h, this.parts.h);
    }
    if (this.parts.c >= 0) {
      heap.fill(0, this.parts.c, this.parts.c + 2 * S);
      if (state?.c) {
        if (state.c.length !== S) throw new Error(`stream.reset: state c must have ${S} values, got ${state.c.length}`);
        heap.set(state.c, this.parts.c);
      }
    }
  }

  /**
   * Advances one step with input x (inputSize values) after `elapsed` time; returns the output in a
   * buffer that is reused by the next call (copy it to keep it).
   */
  step(x: ArrayLike<number>, elapsed = 1): FloatArray {
    if (this.closed) throw new Error("stream.step: the stream is closed");
    const I = this.model.inputSize;
    if (x.length !== I) throw new Error(`stream.step: input must have ${I} values, got ${x.length}`);
    const positiveFor = this.positiveFor;
    if (!(elapsed > 0 && elapsed !== Infinity) && !(elapsed === 0 && positiveFor === null)) {
      throw new Error(`stream.step: elapsed is ${elapsed}; expected a finite number ${positiveFor === null ? ">= 0" : `> 0 (${positiveFor} divides by the elapsed time)`}`);
    }
    const heap = this.model.engine.heap();
    const xo = this.parts.x;
    for (let i = 0; i < I; i++) heap[xo + i] = x[i];
    heap[this.parts.ts] = elapsed;
    this.stepFn(this.cur);
    this.cur = 1 - this.cur;
    const out = this.parts.out >= 0 ? this.parts.out : this.parts.y;
    const h2 = this.model.engine.heap();
    for (let i = 0; i < this.result.length; i++) this.result[i] = h2[out + i];
    return this.result;
  }

  /** The current state h (a copy). */
  state(): FloatArray {
    const S = this.model.stateSize;
    const heap = this.model.engine.heap();
    const off = this.parts.h + this.cur * S;
    return heap.slice(off, off + S);
  }
}
