/**
 * The float32 engine: the kernels of engine.ts as fused WebAssembly SIMD code (src/engine/assembly),
 * embedded as base64 by scripts/build-wasm.mjs. Each engine owns one instance and so one linear memory;
 * the heap is that memory above the module's static data, handed out by a bump allocator. Kernel
 * methods forward straight to the module's exports, so a call costs one JS-to-WebAssembly transition.
 */
import { Act, type AdamStepScalars, type Engine, type RmspropStepScalars, type SgdStepScalars } from "./engine.js";
import { HeapAllocator } from "./heap-allocator.js";
import { ENGINE_WASM_BASE64, ENGINE_WASM_RELAXED_BASE64 } from "./wasm-binary.generated.js";

/** The module's exports (src/engine/assembly/index.ts). Offsets are in float32 elements. */
interface Kernels {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  fill(dst: number, n: number, value: number): void;
  copy(src: number, dst: number, n: number): void;
  copyRows(rows: number, cols: number, src: number, ldSrc: number, dst: number, ldDst: number): void;
  transpose(rows: number, cols: number, src: number, ldSrc: number, dst: number, ldDst: number): void;
  addRows(rows: number, cols: number, src: number, ldSrc: number, dst: number, ldDst: number): void;
  mul(n: number, a: number, b: number, dst: number): void;
  axpy(n: number, alpha: number, x: number, y: number): void;
  colSum(rows: number, cols: number, src: number, ld: number, dst: number): void;
  gemm(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: number): void;
  biasAct(rows: number, cols: number, act: number, x: number, ldx: number, bias: number, y: number, ldy: number): void;
  actBackward(rows: number, cols: number, act: number, x: number, ldx: number, dy: number, ldDy: number, dx: number, ldDx: number): void;
  cfcForward(mode: number, rows: number, hidden: number, heads: number, bias: number, ts: number, h: number, ldh: number, headAct: number, gateSign: number): void;
  cfcBackward(mode: number, rows: number, hidden: number, heads: number, ts: number, dh: number, ldDh: number, dHeads: number, dts: number, headAct: number, gateSign: number): void;
  cfcPureForward(rows: number, hidden: number, ff1: number, bias: number, ts: number, wTau: number, a: number, h: number, ldh: number): void;
  cfcPureBackward(rows: number, hidden: number, ff1: number, ts: number, wTau: number, a: number, dh: number, ldDh: number, dff1: number, dts: number, dWTau: number, dA: number): void;
  lstmForward(rows: number, hidden: number, gates: number, c: number, ldc: number, cOut: number, hOut: number, ldh: number, forgetBias: number): void;
  lstmBackward(rows: number, hidden: number, gates: number, c: number, ldc: number, cOut: number, dh: number, ldDh: number, dc: number, dGates: number): void;
  ltcSoftplus(n: number, x: number, y: number): void;
  ltcSoftplusBackward(n: number, x: number, dy: number, dx: number): void;
  ltcMap(rows: number, cols: number, x: number, ldx: number, w: number, b: number, y: number, ldy: number): void;
  ltcMapBackward(rows: number, cols: number, x: number, ldx: number, w: number, dy: number, ldDy: number, dx: number, ldDx: number, dw: number, db: number): void;
  ltcSensory(rows: number, sources: number, units: number, x: number, ldx: number, w: number, wErev: number, sigma: number, mu: number, num: number, den: number): void;
  ltcSensoryBackward(rows: number, sources: number, units: number, x: number, ldx: number, w: number, erev: number, sigma: number, mu: number, dNum: number, dDen: number, dx: number, ldDx: number, accP: number, accQ: number, dSigma: number, dMu: number): void;
  ltcForward(rows: number, units: number, unfolds: number, epsilon: number, v0: number, ldv0: number, ts: number, cm: number, gleak: number, gleakVleak: number, w: number, wErev: number, sigma: number, mu: number, sensNum: number, sensDen: number, vOut: number, ldOut: number, states: number, dens: number, scratch: number): void;
  ltcBackward(rows: number, units: number, unfolds: number, ts: number, cm: number, gleak: number, vleak: number, w: number, erev: number, sigma: number, mu: number, states: number, dens: number, dv: number, ldDv: number, dNum: number, dDen: number, dCm: number, dGleak: number, dVleak: number, accP: number, accQ: number, dSigma: number, dMu: number, dts: number, scratch: number): void;
  // GRU
  gruForward(rows: number, hidden: number, inputGates: number, hiddenGates: number, h: number, ldh: number, hOut: number, ldhOut: number): void;
  gruBackward(rows: number, hidden: number, gates: number, hiddenGates: number, h: number, ldh: number, dh: number, ldDh: number, dInputGates: number, dHiddenGates: number, dhPrev: number, ldDhPrev: number): void;
  rowAxpy(rows: number, cols: number, alpha: number, s: number, x: number, ldx: number, y: number, ldy: number): void;
  rowDot(rows: number, cols: number, alpha: number, a: number, lda: number, b: number, ldb: number, out: number): void;
  rowErrorNorm(rows: number, cols: number, e: number, lde: number, y0: number, ldy0: number, y1: number, ldy1: number, atol: number, rtol: number, out: number): void;
  copyRowsWhere(rows: number, cols: number, mask: number, src: number, ldSrc: number, dst: number, ldDst: number): void;
  nonFiniteIndex(n: number, x: number): number;
  gruOdeGatesForward(rows: number, hidden: number, gates: number, h: number, ldh: number): void;
  gruOdeForward(rows: number, hidden: number, gates: number, h: number, ldh: number, dhdt: number, ldDhdt: number): void;
  gruOdeBackward(rows: number, hidden: number, gates: number, h: number, ldh: number, dDhdt: number, ldDDhdt: number, dGates: number, dh: number, ldDh: number): void;
  gruOdeGatesBackward(rows: number, hidden: number, gates: number, h: number, ldh: number, dGates: number, dh: number, ldDh: number): void;
  adamUpdate(n: number, value: number, grad: number, m: number, v: number, shrink: number, l2: number, w1: number, keep1: number, b2: number, c2: number, bias2Sqrt: number, eps: number, stepSize: number, tail: number): void;
  packMatrix(k: number, n: number, b: number, ldb: number, packed: number): void;
  rmspropUpdate(n: number, value: number, grad: number, sq: number, gAvg: number, buf: number, wd: number, alpha: number, c: number, w: number, keepW: number, eps: number, mom: number, lr: number): void;
  sgdUpdate(n: number, value: number, grad: number, buf: number, wd: number, mom: number, keep: number, lr: number, first: number, nesterov: number): void;
  gemmPrepacked(m: number, n: number, k: number, a: number, lda: number, packed: number, b: number, ldb: number, c: number, ldc: number, acc: number): void;
  sumSquares(n: number, x: number): number;
  scale(n: number, alpha: number, x: number): void;
}

const REQUIRED_EXPORTS = [
  "memory", "heapBase", "fill", "copy", "copyRows", "transpose", "addRows", "mul", "axpy", "colSum", "gemm", "biasAct", "actBackward",
  "cfcForward", "cfcBackward", "cfcPureForward", "cfcPureBackward", "lstmForward", "lstmBackward",
  "gruForward", "gruBackward",
  "rowAxpy", "rowDot", "rowErrorNorm", "copyRowsWhere", "nonFiniteIndex",
  "gruOdeGatesForward", "gruOdeForward", "gruOdeBackward", "gruOdeGatesBackward",
  "adamUpdate", "rmspropUpdate", "sgdUpdate", "packMatrix", "gemmPrepacked",
  "sumSquares", "scale",
] as const;

/**
 * LTC kernels (src/engine/assembly/ltc.ts) are built by a separate piece of work; an engine whose module
 * lacks them still serves every other model, and calling one of them explains what is missing.
 */
const LTC_EXPORTS = [
  "ltcSoftplus", "ltcSoftplusBackward", "ltcMap", "ltcMapBackward", "ltcSensory", "ltcSensoryBackward", "ltcForward", "ltcBackward",
] as const;

const PAGE_BYTES = 65536;
/** Memory grows by at least this many pages (4 MiB) and at least doubles, so growth is rare. */
const MIN_GROW_PAGES = 64;
/** wasm32 addresses at most 4 GiB. */
const MAX_PAGES = 65536;

let compiled: WebAssembly.Module | undefined;
let compiling: Promise<WebAssembly.Module> | undefined;

/** The engine's two builds: plain SIMD, and the same kernels with relaxed SIMD's fused multiply-add. */
export type WasmVariant = "simd" | "relaxed-simd";
let variantWanted: WasmVariant | "auto" = "auto";
let variantChosen: { variant: WasmVariant; bytes: Uint8Array } | undefined;

/** The build to load: relaxed SIMD where the runtime validates it (browsers, Node >= 22), else plain SIMD. */
function moduleToLoad(): { variant: WasmVariant; bytes: Uint8Array } {
  if (variantChosen) return variantChosen;
  if (variantWanted !== "simd") {
    const relaxed = decodeBase64(ENGINE_WASM_RELAXED_BASE64);
    let valid = false;
    try {
      valid = WebAssembly.validate(relaxed as Uint8Array<ArrayBuffer>);
    } catch {
      valid = false;
    }
    if (valid) return (variantChosen = { variant: "relaxed-simd", bytes: relaxed });
    if (variantWanted === "relaxed-simd") throw new Error("WasmEngine: this runtime does not support WebAssembly relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)");
  }
  return (variantChosen = { variant: "simd", bytes: decodeBase64(ENGINE_WASM_BASE64) });
}

/** Which build WasmEngines load (and have loaded, once one was created). */
export function wasmVariant(): WasmVariant {
  return moduleToLoad().variant;
}

/**
 * Chooses the build for the WasmEngines created from now on ("auto": relaxed SIMD where supported);
 * for tests and benchmarks that compare the two. Engines already created keep theirs.
 */
export function selectWasmVariant(variant: WasmVariant | "auto"): void {
  variantWanted = variant;
  variantChosen = undefined;
  compiled = undefined;
  compiling = undefined;
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Compiles the module asynchronously and caches it for every later WasmEngine. Older browsers (Chrome
 * before 114) refuse to compile modules over 4 KB synchronously on the main thread, and compiling off the
 * critical path is kinder anyway: in a browser, await this once before creating engines. In Node it is
 * optional (the first WasmEngine compiles synchronously).
 */
export async function initWasm(): Promise<void> {
  if (compiled) return;
  compiling ??= WebAssembly.compile(moduleToLoad().bytes as Uint8Array<ArrayBuffer>);
  try {
    compiled = await compiling;
  } finally {
    compiling = undefined;
  }
}

function compiledModule(): WebAssembly.Module {
  if (compiled) return compiled;
  try {
    compiled = new WebAssembly.Module(moduleToLoad().bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `WasmEngine: compiling the WebAssembly module synchronously failed (${reason}). ` +
        `In a browser, await initWasm() before creating the engine; without WebAssembly SIMD use the "reference" backend.`,
    );
  }
  return compiled;
}

// (module (func (result v128) (v128.const i32x4 0 0 0 0))): valid exactly where fixed-width SIMD is.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b,
]);

/** Whether this runtime validates WebAssembly fixed-width SIMD (needed by WasmEngine). */
export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

export class WasmEngine implements Engine {
  readonly kind = "wasm" as const;
  readonly dtype = "float32" as const;
  private readonly k: Kernels;
  private readonly memory: WebAssembly.Memory;
  private view: Float32Array;
  /** the heap's bookkeeping; it starts above the module's static data */
  private readonly allocator: HeapAllocator;

  constructor() {
    const instance = new WebAssembly.Instance(compiledModule(), {});
    const exports = instance.exports as Record<string, unknown>;
    for (const name of REQUIRED_EXPORTS) {
      if (!(name in exports)) throw new Error(`WasmEngine: the WebAssembly module lacks the export "${name}"; rebuild it with npm run build:wasm`);
    }
    const kernels: Record<string, unknown> = { ...exports };
    for (const name of LTC_EXPORTS) {
      kernels[name] ??= () => {
        throw new Error(`WasmEngine: the WebAssembly module has no kernel "${name}"; rebuild it with npm run build:wasm`);
      };
    }
    this.k = kernels as unknown as Kernels;
    this.memory = this.k.memory;
    this.allocator = new HeapAllocator((Math.ceil(this.k.heapBase() / 16) * 16) / 4);
    this.view = new Float32Array(this.memory.buffer);
  }

  alloc(n: number): number {
    if (!Number.isInteger(n) || n < 0) throw new Error(`alloc: element count must be a non-negative integer, got ${n}`);
    const off = this.allocator.alloc(n, (end) => this.growTo(end, n));
    // Fresh pages are zero, but freed memory is reused and a kernel may have written past an allocation's end.
    this.heap().fill(0, off, off + HeapAllocator.size(n));
    return off;
  }

  /** Makes elements [0, end) addressable, growing the memory at least geometrically. */
  private growTo(end: number, n: number): void {
    const bytesNeeded = end * 4;
    const have = this.memory.buffer.byteLength;
    if (bytesNeeded <= have) return;
    const havePages = have / PAGE_BYTES;
    const needPages = Math.ceil(bytesNeeded / PAGE_BYTES);
    if (needPages > MAX_PAGES) {
      throw new Error(`alloc: ${n} elements would need ${bytesNeeded} bytes of WebAssembly memory, more than the 4 GiB a 32-bit module addresses`);
    }
    const target = Math.min(MAX_PAGES, Math.max(needPages, 2 * havePages, havePages + MIN_GROW_PAGES));
    try {
      this.memory.grow(target - havePages);
    } catch {
      try {
        this.memory.grow(needPages - havePages);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new Error(`alloc: growing WebAssembly memory to ${needPages} pages for ${n} elements failed: ${reason}`);
      }
    }
  }

  mark(): number {
    return this.allocator.mark();
  }

  release(mark: number): void {
    this.allocator.release(mark);
  }

  free(offset: number, n: number): void {
    this.allocator.free(offset, n);
  }

  recordAllocations(into: number[] | null): void {
    this.allocator.recordAllocations(into);
  }

  heap(): Float32Array {
    // Growing a WebAssembly memory detaches its old ArrayBuffer, which empties every view on it; testing
    // the view's length avoids the `memory.buffer` getter, which costs ~50 ns (a streaming step calls
    // heap() twice). The memory is never empty (the module's static data lies below the heap).
    if (this.view.length === 0) this.view = new Float32Array(this.memory.buffer);
    return this.view;
  }

  fill(dst: number, n: number, value: number): void {
    this.k.fill(dst, n, value);
  }

  copy(src: number, dst: number, n: number): void {
    this.k.copy(src, dst, n);
  }

  copyRows(rows: number, cols: number, src: number, ldSrc: number, dst: number, ldDst: number): void {
    this.k.copyRows(rows, cols, src, ldSrc, dst, ldDst);
  }

  transpose(rows: number, cols: number, src: number, ldSrc: number, dst: number, ldDst: number): void {
    this.k.transpose(rows, cols, src, ldSrc, dst, ldDst);
  }

  addRows(rows: number, cols: number, src: number, ldSrc: number, dst: number, ldDst: number): void {
    this.k.addRows(rows, cols, src, ldSrc, dst, ldDst);
  }

  mul(n: number, a: number, b: number, dst: number): void {
    this.k.mul(n, a, b, dst);
  }

  axpy(n: number, alpha: number, x: number, y: number): void {
    this.k.axpy(n, alpha, x, y);
  }

  colSum(rows: number, cols: number, src: number, ld: number, dst: number): void {
    this.k.colSum(rows, cols, src, ld, dst);
  }

  gemm(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean): void {
    this.k.gemm(m, n, k, a, lda, b, ldb, c, ldc, accumulate ? 1 : 0);
  }

  biasAct(rows: number, cols: number, act: number, x: number, ldx: number, bias: number, y: number, ldy: number): void {
    this.k.biasAct(rows, cols, act, x, ldx, bias, y, ldy);
  }

  actBackward(rows: number, cols: number, act: number, x: number, ldx: number, dy: number, ldDy: number, dx: number, ldDx: number): void {
    this.k.actBackward(rows, cols, act, x, ldx, dy, ldDy, dx, ldDx);
  }

  cfcForward(mode: number, rows: number, hidden: number, heads: number, bias: number, ts: number, h: number, ldh: number, headAct: number = Act.tanh, gateSign = 1): void {
    this.k.cfcForward(mode, rows, hidden, heads, bias, ts, h, ldh, headAct, gateSign);
  }

  cfcBackward(mode: number, rows: number, hidden: number, heads: number, ts: number, dh: number, ldDh: number, dHeads: number, dts: number, headAct: number = Act.tanh, gateSign = 1): void {
    this.k.cfcBackward(mode, rows, hidden, heads, ts, dh, ldDh, dHeads, dts, headAct, gateSign);
  }

  cfcPureForward(rows: number, hidden: number, ff1: number, bias: number, ts: number, wTau: number, a: number, h: number, ldh: number): void {
    this.k.cfcPureForward(rows, hidden, ff1, bias, ts, wTau, a, h, ldh);
  }

  cfcPureBackward(rows: number, hidden: number, ff1: number, ts: number, wTau: number, a: number, dh: number, ldDh: number, dff1: number, dts: number, dWTau: number, dA: number): void {
    this.k.cfcPureBackward(rows, hidden, ff1, ts, wTau, a, dh, ldDh, dff1, dts, dWTau, dA);
  }

  lstmForward(rows: number, hidden: number, gates: number, c: number, ldc: number, cOut: number, hOut: number, ldh: number, forgetBias = 1): void {
    this.k.lstmForward(rows, hidden, gates, c, ldc, cOut, hOut, ldh, forgetBias);
  }

  lstmBackward(rows: number, hidden: number, gates: number, c: number, ldc: number, cOut: number, dh: number, ldDh: number, dc: number, dGates: number): void {
    this.k.lstmBackward(rows, hidden, gates, c, ldc, cOut, dh, ldDh, dc, dGates);
  }

  ltcSoftplus(n: number, x: number, y: number): void {
    this.k.ltcSoftplus(n, x, y);
  }

  ltcSoftplusBackward(n: number, x: number, dy: number, dx: number): void {
    this.k.ltcSoftplusBackward(n, x, dy, dx);
  }

  ltcMap(rows: number, cols: number, x: number, ldx: number, w: number, b: number, y: number, ldy: number): void {
    this.k.ltcMap(rows, cols, x, ldx, w, b, y, ldy);
  }

  ltcMapBackward(rows: number, cols: number, x: number, ldx: number, w: number, dy: number, ldDy: number, dx: number, ldDx: number, dw: number, db: number): void {
    this.k.ltcMapBackward(rows, cols, x, ldx, w, dy, ldDy, dx, ldDx, dw, db);
  }

  ltcSensory(rows: number, sources: number, units: number, x: number, ldx: number, w: number, wErev: number, sigma: number, mu: number, num: number, den: number): void {
    this.k.ltcSensory(rows, sources, units, x, ldx, w, wErev, sigma, mu, num, den);
  }

  ltcSensoryBackward(rows: number, sources: number, units: number, x: number, ldx: number, w: number, erev: number, sigma: number, mu: number, dNum: number, dDen: number, dx: number, ldDx: number, accP: number, accQ: number, dSigma: number, dMu: number): void {
    this.k.ltcSensoryBackward(rows, sources, units, x, ldx, w, erev, sigma, mu, dNum, dDen, dx, ldDx, accP, accQ, dSigma, dMu);
  }

  ltcForward(rows: number, units: number, unfolds: number, epsilon: number, v0: number, ldv0: number, ts: number, cm: number, gleak: number, gleakVleak: number, w: number, wErev: number, sigma: number, mu: number, sensNum: number, sensDen: number, vOut: number, ldOut: number, states: number, dens: number, scratch: number): void {
    this.k.ltcForward(rows, units, unfolds, epsilon, v0, ldv0, ts, cm, gleak, gleakVleak, w, wErev, sigma, mu, sensNum, sensDen, vOut, ldOut, states, dens, scratch);
  }

  ltcBackward(rows: number, units: number, unfolds: number, ts: number, cm: number, gleak: number, vleak: number, w: number, erev: number, sigma: number, mu: number, states: number, dens: number, dv: number, ldDv: number, dNum: number, dDen: number, dCm: number, dGleak: number, dVleak: number, accP: number, accQ: number, dSigma: number, dMu: number, dts: number, scratch: number): void {
    this.k.ltcBackward(rows, units, unfolds, ts, cm, gleak, vleak, w, erev, sigma, mu, states, dens, dv, ldDv, dNum, dDen, dCm, dGleak, dVleak, accP, accQ, dSigma, dMu, dts, scratch);
  }

  // ---- GRU ------------------------------------------------------------------------------------------

  gruForward(rows: number, hidden: number, inputGates: number, hiddenGates: number, h: number, ldh: number, hOut: number, ldhOut: number): void {
    this.k.gruForward(rows, hidden, inputGates, hiddenGates, h, ldh, hOut, ldhOut);
  }

  gruBackward(rows: number, hidden: number, gates: number, hiddenGates: number, h: number, ldh: number, dh: number, ldDh: number, dInputGates: number, dHiddenGates: number, dhPrev: number, ldDhPrev: number): void {
    this.k.gruBackward(rows, hidden, gates, hiddenGates, h, ldh, dh, ldDh, dInputGates, dHiddenGates, dhPrev, ldDhPrev);
  }

  rowAxpy(rows: number, cols: number, alpha: number, s: number, x: number, ldx: number, y: number, ldy: number): void {
    this.k.rowAxpy(rows, cols, alpha, s, x, ldx, y, ldy);
  }

  rowDot(rows: number, cols: number, alpha: number, a: number, lda: number, b: number, ldb: number, out: number): void {
    this.k.rowDot(rows, cols, alpha, a, lda, b, ldb, out);
  }

  rowErrorNorm(rows: number, cols: number, e: number, lde: number, y0: number, ldy0: number, y1: number, ldy1: number, atol: number, rtol: number, out: number): void {
    this.k.rowErrorNorm(rows, cols, e, lde, y0, ldy0, y1, ldy1, atol, rtol, out);
  }

  copyRowsWhere(rows: number, cols: number, mask: number, src: number, ldSrc: number, dst: number, ldDst: number): void {
    this.k.copyRowsWhere(rows, cols, mask, src, ldSrc, dst, ldDst);
  }

  nonFiniteIndex(n: number, x: number): number {
    return this.k.nonFiniteIndex(n, x);
  }

  // ---- GRU-ODE --------------------------------------------------------------------------------------

  gruOdeGatesForward(rows: number, hidden: number, gates: number, h: number, ldh: number): void {
    this.k.gruOdeGatesForward(rows, hidden, gates, h, ldh);
  }

  gruOdeForward(rows: number, hidden: number, gates: number, h: number, ldh: number, dhdt: number, ldDhdt: number): void {
    this.k.gruOdeForward(rows, hidden, gates, h, ldh, dhdt, ldDhdt);
  }

  gruOdeBackward(rows: number, hidden: number, gates: number, h: number, ldh: number, dDhdt: number, ldDDhdt: number, dGates: number, dh: number, ldDh: number): void {
    this.k.gruOdeBackward(rows, hidden, gates, h, ldh, dDhdt, ldDDhdt, dGates, dh, ldDh);
  }

  gruOdeGatesBackward(rows: number, hidden: number, gates: number, h: number, ldh: number, dGates: number, dh: number, ldDh: number): void {
    this.k.gruOdeGatesBackward(rows, hidden, gates, h, ldh, dGates, dh, ldDh);
  }

  // ---- optimizer updates ----------------------------------------------------------------------------

  adamUpdate(n: number, value: number, grad: number, m: number, v: number, s: AdamStepScalars, tail: number): void {
    this.k.adamUpdate(n, value, grad, m, v, s.shrink, s.l2, s.w1, s.keep1, s.b2, s.c2, s.bias2Sqrt, s.eps, s.stepSize, tail);
  }

  rmspropUpdate(n: number, value: number, grad: number, sq: number, gAvg: number, buf: number, s: RmspropStepScalars): void {
    this.k.rmspropUpdate(n, value, grad, sq, gAvg, buf, s.wd, s.alpha, s.c, s.w, s.keepW, s.eps, s.momentum, s.lr);
  }

  sgdUpdate(n: number, value: number, grad: number, buf: number, s: SgdStepScalars): void {
    this.k.sgdUpdate(n, value, grad, buf, s.wd, s.momentum, s.keep, s.lr, s.first ? 1 : 0, s.nesterov ? 1 : 0);
  }

  // ---- matrix products with B packed ahead of time ----------------------------------------------------

  packB(k: number, n: number, b: number, ldb: number, packed: number): void {
    this.k.packMatrix(k, n, b, ldb, packed);
  }

  gemmPrepacked(m: number, n: number, k: number, a: number, lda: number, packed: number, b: number, ldb: number, c: number, ldc: number, accumulate: boolean): void {
    this.k.gemmPrepacked(m, n, k, a, lda, packed, b, ldb, c, ldc, accumulate ? 1 : 0);
  }

  // ---- gradient clipping ----------------------------------------------------------------------------

  sumSquares(n: number, x: number): number {
    return this.k.sumSquares(n, x);
  }

  scale(n: number, alpha: number, x: number): void {
    this.k.scale(n, alpha, x);
  }
}
