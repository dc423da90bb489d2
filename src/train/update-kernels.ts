/**
 * The WebAssembly kernels that run the optimizers' float32 updates (engine adamUpdate, rmspropUpdate,
 * sgdUpdate). They work on a
 * private engine heap: each parameter's arrays are copied in (one memcpy each), updated there by SIMD
 * code, and copied back, so they serve any Float32Array parameters whoever holds them (a model's engine
 * heap, a worker's, plain arrays), and the optimizer's buffers stay ordinary arrays that its state and
 * checkpoints read as before. The copies cost ~1 ns per element; the update in plain JavaScript, with
 * every operation rounded through Math.fround, cost 50-90 ns per element here (a 660k-parameter CfC
 * step spent ~60 ms in Adam). The kernels compute the same bits as the JavaScript float32 path, which
 * stays the fallback where WebAssembly SIMD (or a synchronous compile, in a browser) is not available.
 */
import type { AdamStepScalars, RmspropStepScalars, SgdStepScalars } from "../engine/engine.js";
import { WasmEngine, wasmSimdSupported } from "../engine/wasm.js";

class UpdateKernels {
  private readonly base: number;
  private block = 0;
  private capacity = -1;

  constructor(private readonly engine: WasmEngine) {
    this.base = engine.mark();
  }

  /** The offset of a block of at least n elements (the previous block, grown when too small). */
  private scratch(n: number): number {
    if (n > this.capacity) {
      this.engine.release(this.base);
      this.block = this.engine.alloc(n);
      this.capacity = n;
    }
    return this.block;
  }

  adam(value: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, s: AdamStepScalars): void {
    const n = value.length;
    const stride = Math.ceil(n / 4) * 4;
    const off = this.scratch(4 * stride + 16);
    const h = this.engine.heap();
    h.set(value, off);
    h.set(grad, off + stride);
    h.set(m, off + 2 * stride);
    h.set(v, off + 3 * stride);
    this.engine.adamUpdate(n, off, off + stride, off + 2 * stride, off + 3 * stride, s, off + 4 * stride);
    value.set(h.subarray(off, off + n));
    m.set(h.subarray(off + 2 * stride, off + 2 * stride + n));
    v.set(h.subarray(off + 3 * stride, off + 3 * stride + n));
  }

  /** Copies `arrays` (null: absent) into consecutive blocks; returns their offsets (-1 for absent ones). */
  private stage(n: number, arrays: Array<Float32Array | null>): number[] {
    const stride = Math.ceil(n / 4) * 4;
    const off = this.scratch(arrays.length * stride);
    const h = this.engine.heap();
    return arrays.map((a, i) => {
      if (!a) return -1;
      h.set(a, off + i * stride);
      return off + i * stride;
    });
  }

  /** Copies blocks back into the arrays (skipping absent ones and `skip`). */
  private unstage(n: number, offsets: number[], arrays: Array<Float32Array | null>, skip: number): void {
    const h = this.engine.heap();
    arrays.forEach((a, i) => {
      if (a && i !== skip) a.set(h.subarray(offsets[i], offsets[i] + n));
    });
  }

  rmsprop(value: Float32Array, grad: Float32Array, sq: Float32Array, gAvg: Float32Array | null, buf: Float32Array | null, s: RmspropStepScalars): void {
    const n = value.length;
    const arrays = [value, grad, sq, gAvg, buf];
    const o = this.stage(n, arrays);
    this.engine.rmspropUpdate(n, o[0], o[1], o[2], o[3], o[4], s);
    this.unstage(n, o, arrays, 1);
  }

  sgd(value: Float32Array, grad: Float32Array, buf: Float32Array | null, s: SgdStepScalars): void {
    const n = value.length;
    const arrays = [value, grad, buf];
    const o = this.stage(n, arrays);
    this.engine.sgdUpdate(n, o[0], o[1], o[2], s);
    this.unstage(n, o, arrays, 1);
  }
}

let kernels: UpdateKernels | null | undefined;
let enabled = true;

/** The kernels, or null where they cannot run (then the optimizers use their JavaScript path). */
export function updateKernels(): UpdateKernels | null {
  if (!enabled) return null;
  if (kernels === undefined) {
    try {
      kernels = wasmSimdSupported() ? new UpdateKernels(new WasmEngine()) : null;
    } catch {
      kernels = null; // e.g. a browser that refuses to compile synchronously before initWasm()
    }
  }
  return kernels;
}

/** Turns the kernels off (tests compare them with the JavaScript path) or back on. */
export function useUpdateKernels(on: boolean): void {
  enabled = on;
}
