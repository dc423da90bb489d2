/**
 * GEMM throughput of the WebAssembly engine: `npx tsx bench/gemm.ts [--quick] [--tiles]`.
 *
 * Sizes are M x K x N (C = A . B with A M x K, B K x N) from CfC training steps at batch 64 and 32 time
 * steps: at 64/128 the backbone (64 x 80 x 128, 64 x 144 x 128), the four fused heads (64 x 128 x 256),
 * the heads over all time steps (2048 x 128 x 256) and weight gradients whose depth is batch x time
 * (128 x 2048 x 256, 256 x 2048 x 128, 128 x 2048 x 80); at 256/512 the backbone (64 x 272 x 512), the
 * heads (64 x 512 x 1024), their input gradient (64 x 1024 x 512) and weight gradient (1024 x 2048 x 512);
 * at 512/1024 the heads (64 x 1024 x 2048).
 *
 * Columns: "L1 ceiling" is the 5x8 tile with B held in L1 (ldb = 0, k = 512), i.e. what this core
 * delivers right now with no memory traffic, timed in the same interleaved rounds as the row's other
 * variants so that load from other processes hits them alike; "unpacked" is the register-tiled kernel
 * with k split into panels of 256; "packed" copies B into L2-sized 8-column panels first (gemm.ts);
 * "gemm" is what engine.gemm runs (packed above a size threshold); "prepacked" is gemmPrepacked on a
 * B packed beforehand (what a layer's forward product runs at every time step: its weights are packed
 * once per pass); "% ceil" is gemm's median over the ceiling's. Each cell is the median GFLOP/s over the rounds, each round a batch of calls worth 0.4
 * GFLOP. `--tiles` adds the register-tile families (4x8, 2x16, 5x8, whole k and k split) used to choose
 * the tile. A last table times `gemm` at the batch-1 sizes of a streaming step (matrix-vector products)
 * in microseconds per call.
 */
import { WasmEngine } from "../src/engine/wasm.js";

interface GemmExports {
  gemmPackedAlways(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: number): void;
  packMatrix(k: number, n: number, b: number, ldb: number, packed: number): void;
  gemmPrepacked(m: number, n: number, k: number, a: number, lda: number, packed: number, b: number, ldb: number, c: number, ldc: number, acc: number): void;
  gemmUnpacked(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: number): void;
  gemm(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: number): void;
  gemmTiles4x8(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: number, kc: number): void;
  gemmTiles2x16(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: number, kc: number): void;
  gemmTiles5x8(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: number, kc: number): void;
}

const quick = process.argv.includes("--quick");
const tiles = process.argv.includes("--tiles");
const rounds = quick ? 5 : 21;
const sizes: Array<[number, number, number]> = [
  [64, 144, 128],
  [64, 80, 128],
  [64, 128, 256],
  [2048, 128, 256],
  [128, 2048, 256],
  [256, 2048, 128],
  [128, 2048, 80],
  [64, 272, 512],
  [64, 512, 1024],
  [64, 1024, 512],
  [1024, 2048, 512],
  [64, 1024, 2048],
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
const tileVariants: Array<[string, Call]> = [
  ["4x8", (m, n, k, a, lda, b, ldb, c, ldc) => kernels.gemmTiles4x8(m, n, k, a, lda, b, ldb, c, ldc, 0, NO_SPLIT)],
  ["4x8 kc256", (m, n, k, a, lda, b, ldb, c, ldc) => kernels.gemmTiles4x8(m, n, k, a, lda, b, ldb, c, ldc, 0, 256)],
  ["2x16", (m, n, k, a, lda, b, ldb, c, ldc) => kernels.gemmTiles2x16(m, n, k, a, lda, b, ldb, c, ldc, 0, NO_SPLIT)],
  ["2x16 kc256", (m, n, k, a, lda, b, ldb, c, ldc) => kernels.gemmTiles2x16(m, n, k, a, lda, b, ldb, c, ldc, 0, 256)],
  ["5x8", (m, n, k, a, lda, b, ldb, c, ldc) => kernels.gemmTiles5x8(m, n, k, a, lda, b, ldb, c, ldc, 0, NO_SPLIT)],
];
const variants: Array<[string, Call]> = [
  ...(tiles ? tileVariants : []),
  ["unpacked", (m, n, k, a, lda, b, ldb, c, ldc) => kernels.gemmUnpacked(m, n, k, a, lda, b, ldb, c, ldc, 0)],
  ["packed", (m, n, k, a, lda, b, ldb, c, ldc) => kernels.gemmPackedAlways(m, n, k, a, lda, b, ldb, c, ldc, 0)],
  ["gemm", (m, n, k, a, lda, b, ldb, c, ldc) => kernels.gemm(m, n, k, a, lda, b, ldb, c, ldc, 0)],
];

function median(rates: number[]): number {
  const s = [...rates].sort((x, y) => x - y);
  return s[s.length >> 1];
}

/** GFLOP/s of each call over interleaved rounds. */
function measure(flop: number, calls: Array<() => void>): number[][] {
  return measureMixed(calls.map((call): [number, () => void] => [flop, call]));
}

/** GFLOP/s of each [flop per call, call] over interleaved rounds, each round ~0.4 GFLOP per call. */
function measureMixed(calls: Array<[number, () => void]>): number[][] {
  const perBatch = calls.map(([flop]) => Math.max(1, Math.round(4e8 / flop)));
  calls.forEach(([, call], v) => {
    for (let i = 0; i < perBatch[v] * 2; i++) call(); // let V8 tier up
  });
  const rates = calls.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    calls.forEach(([flop, call], v) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < perBatch[v]; i++) call();
      rates[v].push((flop * perBatch[v]) / Number(process.hrtime.bigint() - t0));
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

console.log(`GFLOP/s (median of ${rounds} interleaved rounds), sizes M x K x N; ${engine.kind} ${engine.dtype}, node ${process.version}`);
const CEILING_K = 512;
const ceilingOps = operands(5, CEILING_K, 8);
const ceilingCall = (): void => kernels.gemmTiles5x8(5, 8, CEILING_K, ceilingOps.a, CEILING_K, ceilingOps.b, 0, ceilingOps.c, 8, 0, NO_SPLIT);
console.log(["size".padEnd(16), "L1 ceiling".padStart(11), ...variants.map(([name]) => name.padStart(11)), "prepacked".padStart(11), "% ceil".padStart(8)].join(""));
for (const [m, k, n] of sizes) {
  const mark = engine.mark();
  const { a, b, c } = operands(m, k, n);
  const packed = engine.alloc(k * n);
  kernels.packMatrix(k, n, b, n, packed);
  const prepacked = (): void => kernels.gemmPrepacked(m, n, k, a, k, packed, b, n, c, n, 0);
  const timed = measureMixed([
    [2 * 5 * 8 * CEILING_K, ceilingCall],
    ...variants.map(([, call]): [number, () => void] => [2 * m * n * k, () => call(m, n, k, a, k, b, n, c, n)]),
    [2 * m * n * k, prepacked],
  ]);
  const medians = timed.map(median);
  const percent = (100 * medians[medians.length - 2]) / medians[0];
  console.log([`${m}x${k}x${n}`.padEnd(16), ...medians.map((r) => r.toFixed(1).padStart(11)), `${percent.toFixed(0)}%`.padStart(8)].join(""));
  engine.release(mark);
}
console.log(`batch 1: gemm us per call (median / best of ${rounds} rounds), GFLOP/s at the median`);
for (const [m, k, n] of rowSizes) {
  const { a, b, c } = operands(m, k, n);
  const flop = 2 * m * n * k;
  const [rates] = measure(flop, [() => kernels.gemm(m, n, k, a, k, b, n, c, n, 0)]);
  const us = rates.map((r) => flop / r / 1000).sort((x, y) => x - y);
  console.log(`${`${m}x${k}x${n}`.padEnd(16)}${us[us.length >> 1].toFixed(2).padStart(8)} / ${us[0].toFixed(2)} us  ${median(rates).toFixed(1)} GFLOP/s`);
}
