/**
 * What the relaxed-SIMD build (fused multiply-add in the matrix products) gains over the plain SIMD build
 * on this machine, both in one process, timed in interleaved rounds:
 *
 *   node --experimental-wasm-relaxed-simd --import tsx bench/relaxed-simd.ts [--rounds 7] [--into BENCHMARKS.md]
 *
 * (Node 20 needs the flag; from Node 22 relaxed SIMD is on by default.) Rows: engine gemm at CfC sizes
 * (GFLOP/s) and a CfC training step (B = 64, L = 32) at 64/128 and 256/512 (ms), each the median over
 * rounds; the ratio is relaxed / plain time per round, median (min-max). With --into, the section between
 * `<!-- relaxed-simd:begin -->` and `<!-- relaxed-simd:end -->` of that file is replaced (or appended).
 */
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { benchModelConfig, buildBenchModel } from "../src/cli/bench-models.js";
import { median, roundRatio } from "../src/cli/bench-stats.js";
import { prepareWorkload } from "../src/cli/bench-workload.js";
import { selectWasmVariant, type WasmVariant, WasmEngine } from "../src/engine/wasm.js";
import { writeFileAtomic } from "../src/io/atomic.js";

const BEGIN = "<!-- relaxed-simd:begin -->";
const END = "<!-- relaxed-simd:end -->";
const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const rounds = Number(flag("--rounds") ?? 7);
const into = flag("--into");
const VARIANTS: WasmVariant[] = ["simd", "relaxed-simd"];

try {
  selectWasmVariant("relaxed-simd");
  new WasmEngine();
} catch (e) {
  process.stderr.write(`relaxed-simd: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(3);
}

interface Row {
  label: string;
  unit: "GFLOP/s" | "ms";
  runs: Array<() => number>; // per variant: one timed batch, returns ms
  flop: number;
}

const rows: Row[] = [];
for (const [m, k, n] of [[64, 128, 256], [2048, 128, 256], [64, 512, 1024]]) {
  const runs = VARIANTS.map((v) => {
    selectWasmVariant(v);
    const e = new WasmEngine();
    const a = e.alloc(m * k);
    const b = e.alloc(k * n);
    const c = e.alloc(m * n);
    e.heap().fill(0.5, a, c + m * n);
    const calls = Math.max(1, Math.round(2e8 / (2 * m * n * k)));
    return () => {
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) e.gemm(m, n, k, a, k, b, n, c, n, false);
      return (performance.now() - t0) / calls;
    };
  });
  rows.push({ label: `gemm ${m} x ${k} x ${n}`, unit: "GFLOP/s", runs, flop: 2 * m * n * k });
}
for (const [units, backboneUnits] of [[64, 128], [256, 512]]) {
  const runs = VARIANTS.map((v) => {
    selectWasmVariant(v);
    const model = buildBenchModel(benchModelConfig({ name: "cfc", sizes: { inputSize: 16, units, backboneUnits, backboneLayers: 1, odeUnfolds: 6 } }), "wasm");
    const w = prepareWorkload(model, "train", { batch: 64, seqLen: 32, streamSteps: 1 });
    return () => {
      const t0 = performance.now();
      w.run();
      return performance.now() - t0;
    };
  });
  rows.push({ label: `CfC ${units}/${backboneUnits} training step, B = 64`, unit: "ms", runs, flop: 0 });
}
selectWasmVariant("auto");

const started = new Date();
const loadBefore = loadavg();
for (const row of rows) for (const run of row.runs) for (let i = 0; i < 2; i++) run();
const times = rows.map((row) => row.runs.map(() => [] as number[]));
for (let r = 0; r < rounds; r++) {
  rows.forEach((row, i) => {
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const v of order) times[i][v].push(row.runs[v]());
  });
}
const fmt = (row: Row, ms: number): string => (row.unit === "ms" ? `${ms.toFixed(1)} ms` : `${(row.flop / ms / 1e6).toFixed(1)} GFLOP/s`);
const lines = [
  `### Relaxed SIMD (fused multiply-add) against plain SIMD, ${started.toISOString().slice(0, 10)}`,
  "",
  "```sh",
  `node --experimental-wasm-relaxed-simd --import tsx bench/relaxed-simd.ts ${process.argv.slice(2).join(" ")}`.trim(),
  "```",
  "",
  `${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}; ${rounds} interleaved rounds, load average ${loadBefore.map((x) => x.toFixed(1)).join(", ")} at the start (shared machine). ` +
    "The engine loads the relaxed build wherever the runtime validates it (browsers, Node >= 22) and the plain one elsewhere (Node 20 without the flag). " +
    "Ratio: relaxed time over plain time per round, median (min-max); below 1 the relaxed build is faster.",
  "",
  "| what | plain SIMD | relaxed SIMD | ratio |",
  "|---|---|---|---|",
  ...rows.map((row, i) => {
    const ratio = roundRatio(times[i][1], times[i][0]);
    return `| ${row.label} | ${fmt(row, median(times[i][0]))} | ${fmt(row, median(times[i][1]))} | ${ratio.median.toFixed(2)} (${ratio.min.toFixed(2)}-${ratio.max.toFixed(2)}) |`;
  }),
  "",
];
const section = lines.join("\n");
if (into) {
  const doc = existsSync(into) ? readFileSync(into, "utf8") : "";
  const block = `${BEGIN}\n${section.trimEnd()}\n${END}`;
  const b = doc.indexOf(BEGIN);
  const e = doc.indexOf(END);
  writeFileAtomic(into, b >= 0 && e > b ? doc.slice(0, b) + block + doc.slice(e + END.length) : `${doc.trimEnd()}\n\n${block}\n`);
}
process.stdout.write(section);
