#!/usr/bin/env node
// Same-machine, same-run comparison of ncps-ts against the PyTorch baseline (bench/pytorch_baseline.py).
// Rounds interleave the two so machine noise hits both alike. PyTorch runs with torch.set_num_threads(N)
// and a single-threaded OpenBLAS: OpenBLAS threads on top of torch's oversubscribe the 2 cores (a CfC
// training step took 190-310 ms that way). Each figure is the median over rounds of
// each run's own median, and each ratio is the median of the per-round ratios.
// Usage: npm run build && node bench/compare.mjs [--rounds 3] [--out bench/results.json]
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const rounds = Number(opt("rounds", "3"));
const out = opt("out", null);
const python = opt("python", "/usr/bin/python3");

const ours = (flags) => JSON.parse(execFileSync(process.execPath, [path.join(root, "bin/ncps.js"), "bench", ...flags, "--json"], { encoding: "utf8" }));
const torch = (threads) => JSON.parse(execFileSync(python, [path.join(root, "bench/pytorch_baseline.py"), "--threads", String(threads), "--repeats", "15"], { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: "1" } }));

const cases = [
  { key: "cfc train", flags: ["--model", "cfc", "--what", "train"], torch: ["cfc", "train"], field: "median_ms" },
  { key: "cfc infer", flags: ["--model", "cfc", "--what", "infer"], torch: ["cfc", "infer"], field: "median_ms" },
  { key: "cfc stream", flags: ["--model", "cfc", "--what", "stream"], torch: ["cfc", "stream"], field: "median_us_per_step" },
  { key: "ltc train", flags: ["--model", "ltc", "--what", "train", "--repeats", "5"], torch: ["ltc", "train"], field: "median_ms" },
  { key: "ltc infer", flags: ["--model", "ltc", "--what", "infer", "--repeats", "5"], torch: ["ltc", "infer"], field: "median_ms" },
  { key: "ltc stream", flags: ["--model", "ltc", "--what", "stream", "--repeats", "10"], torch: ["ltc", "stream"], field: "median_us_per_step" },
];
const rows = {};
const push = (k, v) => (rows[k] ??= []).push(v);
for (let r = 0; r < rounds; r++) {
  for (const threads of [1, 2]) {
    const t = torch(threads);
    for (const c of cases) {
      const tr = t.results.find((x) => x.model === c.torch[0] && x.what === c.torch[1]);
      // a stream is one sample on one thread; training and inference split the batch over --threads
      const flags = c.flags[3] !== "stream" ? [...c.flags, "--threads", String(threads)] : c.flags;
      const o = ours(flags);
      push(`${c.key} | threads ${threads} | ncps-ts`, o[c.field]);
      push(`${c.key} | threads ${threads} | pytorch`, tr[c.field]);
      push(`${c.key} | threads ${threads} | speed-up`, tr[c.field] / o[c.field]);
      process.stderr.write(`round ${r + 1} threads ${threads} ${c.key}: ncps-ts ${o[c.field].toFixed(2)} pytorch ${tr[c.field].toFixed(2)}\n`);
    }
  }
}
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const summary = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, { median: median(v), runs: v }]));
const result = { date: new Date().toISOString(), node: process.version, rounds, summary };
if (out) writeFileSync(out, JSON.stringify(result, null, 1) + "\n");
for (const [k, v] of Object.entries(summary)) console.log(`${k.padEnd(44)} ${v.median.toFixed(2)}`);
