/**
 * GEMM throughput of the WebAssembly engine: `npx tsx bench/gemm.ts [--quick]`.
 *
 * Sizes are M x K x N (C = A . B with A M x K, B K x N) from a CfC training step at batch 64: the backbone
 * (64 x 80 x 128, and 64 x 144 x 128 with a wider input), the four fused heads (64 x 128 x 256), the heads
 * over all 32 time steps at once (2048 x 128 x 256), and a weight gradient whose depth is batch x time
 * (128 x 2048 x 256), and the two weight gradients of the default CfC step (256 x 2048 x 128 and
 * 128 x 2048 x 80). The three register-tile families are timed whole and with k split into panels of
 * 256, plus `gemm` itself (what engine.gemm runs; 5x8 with k split). A second table times `gemm` at the
 * batch-1 sizes of a streaming step (matrix-vector products: CfC backbone and heads, LSTM gates) in
 * microseconds per call. The first line is a ceiling: the 4x8 tile with B held in L1
 * (ldb = 0), i.e. what this core delivers right now with no memory traffic; on a shared machine compare
 * the rows against it. Variants are timed in interleaved rounds (so load from other processes hits them
 * alike); each cell is "median / best" GFLOP/s over the rounds, each round a batch of calls worth 0.4 GFLOP (~10 ms).
 */
import { WasmEngine } from "../src/engine/wasm.js";

interface GemmExports {
  gemm(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: number): void;
  gemmTiles4x8(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: number, kc: number): void;
  gemmTiles2x16(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: number, kc: number): void;
  gemmTiles5x8(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: number, kc: number): void;
}

const quick = process.argv.includes("--quick");
const rounds = quick ? 5 : 21;
const sizes: Array<[number, number, number]> = [
  [64, 144, 128],
  [64, 80, 128],
  [64, 128, 256],
  [2048, 128, 256],
  [128, 2048, 256],
  [256, 2048, 128],
  [128, 2048, 80],
];
/** Batch-1 sizes M x K x N of a streaming step. */
const rowSizes: Array<[number, number, number]> = [
  [1, 80, 128],
  [1, 128, 256],
  [1, 16, 256],
  [1, 64, 256],
];

const engine = new WasmEngine();
// The tile families are not part of the Engine interface; the benchmark reaches the module's exports.
const kernels = (engine as unknown as { k: GemmExports }).k;
const NO_SPLIT = 1 << 30;

type Call = (m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number) => void;
const variants: Array<[string, Call]> = [
  ["4x8", (m, n, k, a, lda, b, ldb, c, ldc) => kernels.gemmTiles4x8(m, n, k, a, lda, b, ldb, c, ldc, 0, NO_SPLIT)],
  ["4x8 kc256", (m, n, k, a, lda, b, ldb, c, ldc) => kernels.gemmTiles4x8(m, n, k, a, lda, b, ldb, c, ldc, 0, 256)],
  ["2x16", (m, n, k, a, lda, b, ldb, c, ldc) => kernels.gemmTiles2x16(m, n, k, a, lda, b, ldb, c, ldc, 0, NO_SPLIT)],
  ["2x16 kc256", (m, n, k, a, lda, b, ldb, c, ldc) => kernels.gemmTiles2x16(m, n, k, a, lda, b, ldb, c, ldc, 0, 256)],
  ["5x8", (m, n, k, a, lda, b, ldb, c, ldc) => kernels.gemmTiles5x8(m, n, k, a, lda, b, ldb, c, ldc, 0, NO_SPLIT)],
  ["5x8 kc256", (m, n, k, a, lda, b, ldb, c, ldc) => kernels.gemmTiles5x8(m, n, k, a, lda, b, ldb, c, ldc, 0, 256)],
  ["gemm", (m, n, k, a, lda, b, ldb, c, ldc) => kernels.gemm(m, n, k, a, lda, b, ldb, c, ldc, 0)],
];

function summary(rates: number[]): string {
  const s = [...rates].sort((x, y) => x - y);
  return `${s[s.length >> 1].toFixed(1)} / ${s[s.length - 1].toFixed(1)}`;
}

/** GFLOP/s of each call over interleaved rounds. */
function measure(flop: number, calls: Array<() => void>): number[][] {
  const perBatch = Math.max(1, Math.round(4e8 / flop));
  for (const call of calls) for (let i = 0; i < perBatch * 5; i++) call(); // let V8 tier up
  const rates = calls.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    calls.forEach((call, v) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < perBatch; i++) call();
      rates[v].push((flop * perBatch) / Number(process.hrtime.bigint() - t0));
    });
  }
  return rates;
}

function operands(m: number, k: number, n: number): { a: number; b: number; c: number } {
  const a = engine.alloc(m * k);
  const b = engine.alloc(k * n);
  const c = engine.alloc(m * n);
  const h = engine.heap();
  for (let i = 0; i < m * k; i++) h[a + i] = Math.sin(i);
  for (let i = 0; i < k * n; i++) h[b + i] = Math.cos(i);
  return { a, b, c };
}

console.log(`GFLOP/s (median / best of ${rounds} rounds), sizes M x K x N; ${engine.kind} ${engine.dtype}, node ${process.version}`);
{
  const k = 4096;
  const { a, b, c } = operands(4, k, 8);
  const [ceiling] = measure(2 * 4 * 8 * k, [() => kernels.gemmTiles4x8(4, 8, k, a, k, b, 0, c, 8, 0, NO_SPLIT)]);
  console.log(`ceiling (4x8 tile, B in L1): ${summary(ceiling)}`);
}
console.log(["size".padEnd(16), ...variants.map(([name]) => name.padStart(13))].join(""));
for (const [m, k, n] of sizes) {
  const { a, b, c } = operands(m, k, n);
  const rates = measure(2 * m * n * k, variants.map(([, call]) => () => call(m, n, k, a, k, b, n, c, n)));
  console.log([`${m}x${k}x${n}`.padEnd(16), ...rates.map((r) => summary(r).padStart(13))].join(""));
}
console.log(`batch 1: gemm us per call (median / best of ${rounds} rounds), GFLOP/s at the median`);
for (const [m, k, n] of rowSizes) {
  const { a, b, c } = operands(m, k, n);
  const flop = 2 * m * n * k;
  const [rates] = measure(flop, [() => kernels.gemm(m, n, k, a, k, b, n, c, n, 0)]);
  const us = rates.map((r) => flop / r / 1000).sort((x, y) => x - y);
  const median = rates.sort((x, y) => x - y)[rates.length >> 1];
  console.log(`${`${m}x${k}x${n}`.padEnd(16)}${us[us.length >> 1].toFixed(2).padStart(8)} / ${us[0].toFixed(2)} us  ${median.toFixed(1)} GFLOP/s`);
}
