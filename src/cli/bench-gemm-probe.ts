/**
 * The engine's own matrix-product rate, measured in the same run as the models (bench/gemm.ts measures the
 * kernels in depth; this is its engine.gemm column at a few sizes), so that a model's achieved GFLOP/s
 * can be set against what the engine's gemm delivers on the machine at that moment.
 *
 * Sizes M x K x N: a CfC step's fused heads at batch 64 (64 x 128 x 256), the heads of all 32 steps at
 * once as the weight-gradient products see them (2048 x 128 x 256), and a streaming step's batch-1
 * product (1 x 128 x 256). Each run is a batch of calls worth about `flopPerRun` FLOPs.
 */
import type { BackendKind, Engine } from "../engine/engine.js";
import { createEngine } from "../engine/index.js";

export interface GemmProbe {
  /** "batched" probes are the reference for training and inference, "row" for streaming */
  readonly kind: "batched" | "row";
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** FLOPs one run performs */
  readonly flop: number;
  run(): void;
}

export interface GemmProbeSize {
  kind: "batched" | "row";
  m: number;
  k: number;
  n: number;
}

export const GEMM_PROBE_SIZES: readonly GemmProbeSize[] = [
  { kind: "batched", m: 64, k: 128, n: 256 },
  { kind: "batched", m: 2048, k: 128, n: 256 },
  { kind: "row", m: 1, k: 128, n: 256 },
];

/** Small sizes for --quick. */
export const QUICK_GEMM_PROBE_SIZES: readonly GemmProbeSize[] = [
  { kind: "batched", m: 16, k: 16, n: 32 },
  { kind: "row", m: 1, k: 16, n: 32 },
];

export function gemmProbe(engine: Engine, size: GemmProbeSize, flopPerRun: number): GemmProbe {
  const { m, k, n } = size;
  const a = engine.alloc(m * k);
  const b = engine.alloc(k * n);
  const c = engine.alloc(m * n);
  const heap = engine.heap();
  for (let i = 0; i < m * k; i++) heap[a + i] = Math.sin(i);
  for (let i = 0; i < k * n; i++) heap[b + i] = Math.cos(i);
  const calls = Math.max(1, Math.round(flopPerRun / (2 * m * n * k)));
  return {
    ...size,
    flop: 2 * m * n * k * calls,
    run() {
      for (let i = 0; i < calls; i++) engine.gemm(m, n, k, a, k, b, n, c, n, false);
    },
  };
}

export function gemmProbes(backend: BackendKind, sizes: readonly GemmProbeSize[], flopPerRun: number): GemmProbe[] {
  const engine = createEngine(backend);
  return sizes.map((s) => gemmProbe(engine, s, flopPerRun));
}
