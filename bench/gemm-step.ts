/**
 * What the packed (cache-blocked) gemm gains on whole CfC training steps and batched inference:
 * `npx tsx bench/gemm-step.ts [--rounds 5] [--sizes 64/128,256/512]`. One model per size; every round
 * times each workload once with the engine as built (engine.gemm packed above its threshold, the layers'
 * forward products on weights packed once per pass: gemmPrepacked) and once with every product on the
 * unpacked register-tiled kernel alone (the packing undone; the per-pass packing itself still runs), alternating which goes first, and reports the median time of each
 * and the median per-round ratio (packed / unpacked; below 1 the packing gains). B = 64, L = 32, 1 thread.
 */
import { benchModelConfig, buildBenchModel } from "../src/cli/bench-models.js";
import { prepareWorkload, type BenchWhat } from "../src/cli/bench-workload.js";
import type { Engine } from "../src/engine/engine.js";

type Product = (m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: number) => void;

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const rounds = Number(arg("--rounds", "5"));
const sizes = arg("--sizes", "64/128,128/256,256/512").split(",").map((s) => s.split("/").map(Number));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

console.log(`CfC B=64 L=32, ${rounds} rounds; ms median (packed, unpacked), per-round ratio packed/unpacked median (min-max)`);
for (const [units, backboneUnits] of sizes) {
  for (const what of ["train", "infer"] as BenchWhat[]) {
    const config = benchModelConfig({ name: "cfc", sizes: { inputSize: 16, units, backboneUnits, backboneLayers: 1, odeUnfolds: 6 } });
    const model = buildBenchModel(config, "wasm");
    const engine = model.engine as Engine & { k: { gemmUnpacked: Product } };
    const w = prepareWorkload(model, what, { batch: 64, seqLen: 32, streamSteps: 1 });
    const unpacked = (m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, acc: boolean): void =>
      engine.k.gemmUnpacked(m, n, k, a, lda, b, ldb, c, ldc, acc ? 1 : 0);
    const timeOnce = (packed: boolean): number => {
      if (!packed) {
        (engine as { gemm: Engine["gemm"] }).gemm = unpacked;
        (engine as { gemmPrepacked: Engine["gemmPrepacked"] }).gemmPrepacked = (m, n, k, a, lda, _packed, b, ldb, c, ldc, acc) => unpacked(m, n, k, a, lda, b, ldb, c, ldc, acc);
      }
      const t0 = performance.now();
      w.run();
      const t = performance.now() - t0;
      delete (engine as Partial<Engine>).gemm;
      delete (engine as Partial<Engine>).gemmPrepacked;
      return t;
    };
    timeOnce(true);
    timeOnce(false);
    const tp: number[] = [];
    const tu: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let p: number, u: number;
      if (r % 2 === 0) {
        p = timeOnce(true);
        u = timeOnce(false);
      } else {
        u = timeOnce(false);
        p = timeOnce(true);
      }
      tp.push(p);
      tu.push(u);
      ratios.push(p / u);
    }
    const sorted = [...ratios].sort((a, b) => a - b);
    console.log(`${units}/${backboneUnits} ${what}: ${median(tp).toFixed(1)} ms, ${median(tu).toFixed(1)} ms, ratio ${median(ratios).toFixed(2)} (${sorted[0].toFixed(2)}-${sorted[sorted.length - 1].toFixed(2)})`);
  }
}
