/**
 * ONNX Runtime (onnxruntime-web, WebAssembly CPU backend, 1 thread) against this library's wasm engine
 * (1 thread), same model, same weights, same inputs, interleaved rounds in one run:
 *
 *   npx tsx bench/onnx.ts [--rounds 3] [--out bench/results/DATE-onnx.json] [--into BENCHMARKS.md]
 *
 * Rows: batched inference (B x L, the Scan sequence graph and the unrolled one) and a stream of
 * single-sample steps (the step graph, state carried by the caller; ncps-ts's StreamSession). Each
 * figure is the median over rounds of each round's median; each ratio is the median of per-round
 * ratios (ONNX Runtime time / ncps-ts time: above 1 means ncps-ts is faster). Outputs are checked to
 * agree within 1e-4 before timing. With --into, the section between `<!-- bench-onnx:begin -->` and
 * `<!-- bench-onnx:end -->` of that file is replaced (appended when absent).
 */
import { existsSync, readFileSync } from "node:fs";
import * as ort from "onnxruntime-web";
import { writeFileAtomic } from "../src/io/atomic.js";
import { exportOnnx } from "../src/io/onnx/export-model.js";
import { CfC } from "../src/models/cfc.js";
import { LTC } from "../src/models/ltc.js";
import type { RecurrentModel } from "../src/models/recurrent.js";

const BEGIN = "<!-- bench-onnx:begin -->";
const END = "<!-- bench-onnx:end -->";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const rounds = Number(flag("rounds") ?? 3);
const B = 64;
const L = 32;
const STREAM_STEPS = 128;
const I = 16;

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

function random(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

async function timeMs(repeats: number, body: () => unknown | Promise<unknown>): Promise<number> {
  await body(); // warm-up
  const t: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    await body();
    t.push(performance.now() - start);
  }
  return median(t);
}

interface Row {
  model: string;
  what: string;
  ncps: number[];
  onnx: number[];
}

async function benchModel(name: string, model: RecurrentModel & { stateSize: number }, repeats: number): Promise<Row[]> {
  const S = model.stateSize;
  const x = random(B * L * I, 1);
  const ts = random(B * L, 2, 0.5, 1.5);
  const scan = await ort.InferenceSession.create(exportOnnx(model));
  const unrolled = await ort.InferenceSession.create(exportOnnx(model, { sequenceLength: L }));
  const step = await ort.InferenceSession.create(exportOnnx(model, { graph: "step" }));
  const feeds = {
    x: new ort.Tensor("float32", x, [B, L, I]),
    elapsed: new ort.Tensor("float32", ts, [B, L]),
    h0: new ort.Tensor("float32", new Float32Array(B * S), [B, S]),
  };
  const ncpsInfer = () => model.predict({ shape: [B, L, I], data: x }, { timespans: { shape: [B, L], data: ts } });
  // the two engines agree before they are timed
  const mine = ncpsInfer().output.data;
  const theirs = (await scan.run(feeds)).y.data as Float32Array;
  let worst = 0;
  for (let i = 0; i < mine.length; i++) worst = Math.max(worst, Math.abs(mine[i] - theirs[i]));
  if (!(worst <= 1e-4)) throw new Error(`${name}: ONNX Runtime and ncps-ts differ by ${worst}`);

  const xs = random(STREAM_STEPS * I, 3);
  const rows = Array.from({ length: STREAM_STEPS }, (_, t) => xs.subarray(t * I, (t + 1) * I));
  const ncpsStream = () => {
    const s = model.stream();
    for (const r of rows) s.step(r, 1);
  };
  const one = new ort.Tensor("float32", Float32Array.of(1), [1]);
  const onnxStream = async () => {
    let h: ort.Tensor = new ort.Tensor("float32", new Float32Array(S), [1, S]);
    for (const r of rows) h = (await step.run({ x: new ort.Tensor("float32", r, [1, I]), elapsed: one, h })).h_out;
  };
  const out: Row[] = [
    { model: name, what: `inference B=${B} L=${L} (Scan graph)`, ncps: [], onnx: [] },
    { model: name, what: `inference B=${B} L=${L} (unrolled graph)`, ncps: [], onnx: [] },
    { model: name, what: `stream, ${STREAM_STEPS} single-sample steps (step graph)`, ncps: [], onnx: [] },
  ];
  for (let r = 0; r < rounds; r++) {
    out[0].ncps.push(await timeMs(repeats, ncpsInfer));
    out[0].onnx.push(await timeMs(repeats, () => scan.run(feeds)));
    out[1].ncps.push(await timeMs(repeats, ncpsInfer));
    out[1].onnx.push(await timeMs(repeats, () => unrolled.run(feeds)));
    out[2].ncps.push(await timeMs(repeats, ncpsStream));
    out[2].onnx.push(await timeMs(repeats, onnxStream));
  }
  return out;
}

function markdown(rows: Row[], date: string, command: string): string {
  const fmt = (ms: number) => (ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`);
  const lines = [
    `## ONNX Runtime against this engine, same model, same run (${date})`,
    "",
    "```sh",
    "npm ci && npm run build",
    command,
    "```",
    "",
    `\`bench/onnx.ts\` exports each model with \`exportOnnx\` (the graphs of \`ncps export --to onnx\`) and runs it in`,
    `onnxruntime-web ${ort.env.versions.web} (WebAssembly CPU backend, 1 thread) beside ncps-ts's WebAssembly engine (float32, 1 thread),`,
    `interleaved for ${rounds} rounds, after checking both give the same outputs (within 1e-4). Models: \`CfC(16, 64)\` default`,
    "mode, backbone 128 x 1; `LTC(16, 64)` fully connected, 6 unfolds. Figures: median over rounds of each round's median;",
    "ratio = ONNX Runtime time / ncps-ts time, median of the per-round ratios (above 1: ncps-ts is faster).",
    "",
    "| model | what | ncps-ts | ONNX Runtime (wasm) | ratio |",
    "|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const ratio = median(r.onnx.map((o, i) => o / r.ncps[i]));
    lines.push(`| ${r.model} | ${r.what} | ${fmt(median(r.ncps))} | ${fmt(median(r.onnx))} | ${ratio.toFixed(2)}x |`);
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  ort.env.wasm.numThreads = 1;
  const date = new Date().toISOString().slice(0, 10);
  const command = `npx tsx bench/onnx.ts --rounds ${rounds}${flag("out") ? ` --out ${flag("out")}` : ""}${flag("into") ? ` --into ${flag("into")}` : ""}`;
  const rows = [
    ...(await benchModel("CfC", new CfC(I, 64, { backboneUnits: 128, seed: 1 }), 5)),
    ...(await benchModel("LTC", new LTC(I, 64, { seed: 2 }), 3)),
  ];
  const section = markdown(rows, date, command);
  process.stdout.write(`${section}\n`);
  const out = flag("out");
  if (out) writeFileAtomic(out, JSON.stringify({ format: "ncps-bench-onnx/1", date, command, rounds, batch: B, steps: L, streamSteps: STREAM_STEPS, ort: ort.env.versions, rows }, null, 1) + "\n");
  const into = flag("into");
  if (into) {
    const doc = existsSync(into) ? readFileSync(into, "utf8") : "";
    const block = `${BEGIN}\n${section}\n${END}`;
    const b = doc.indexOf(BEGIN);
    const e = doc.indexOf(END);
    writeFileAtomic(into, b >= 0 && e > b ? doc.slice(0, b) + block + doc.slice(e + END.length) : `${doc.trimEnd()}\n\n${block}\n`);
  }
}

await main();
