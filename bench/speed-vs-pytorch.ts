/**
 * CfC against the real PyTorch ncps 1.0.1 at four sizes, four batch sizes and one and two threads, in one
 * run with the rounds interleaved; writes a JSON result and (with --into) the section of BENCHMARKS.md
 * between `<!-- speed:begin -->` and `<!-- speed:end -->`, so that no figure there is typed by hand.
 *
 *   npx tsx bench/speed-vs-pytorch.ts [--rounds 5] [--quick] [--out bench/results/speed.json] [--into BENCHMARKS.md]
 *
 * The engine loads its relaxed-SIMD build as the CLI does (enableRelaxedSimd: Node 20 has relaxed SIMD
 * behind a V8 flag, which the CLI sets). Models: ncps-ts CfC and ncps.torch.CfC, default mode, 16 inputs, units / backbone units 32/64, 64/128,
 * 128/256 and 256/512 (one backbone layer), float32, sequence length 32. Workloads as `ncps bench`
 * (src/cli/bench-workload.ts, bench/pytorch_suite.py): a training step (zero grads, forward, MSE on every
 * step's output, backward through time, Adam step) and batched inference, at batch 1, 8, 64 and 256, on
 * one and two threads; plus one-sample streaming (256 steps per run) on one thread. Two ncps-ts threads:
 * fit's own step (trainStep with a one-worker pool: the batch split between a worker and the main thread)
 * and its split inference; two PyTorch threads: torch.set_num_threads(2), BLAS single-threaded.
 *
 * Measuring: every workload is built and warmed up (two runs), which sizes its repeats per round (about
 * --target-ms of timed work, at least one run). Then rounds: in each, every workload runs its repeats
 * back to back with its PyTorch counterpart (which goes first alternates), so load from other processes
 * hits both alike; a time is the median over rounds of the round's median, a ratio (ncps-ts / PyTorch,
 * below 1 ncps-ts is faster) the median over rounds of the per-round ratio. The machine's load average
 * before and after the run is recorded. Without torch or ncps the script says what is missing and exits 3.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import path from "node:path";
import { benchModelConfig, buildBenchModel } from "../src/cli/bench-models.js";
import { defaultPytorchPaths, PytorchServer } from "../src/cli/bench-pytorch.js";
import { median, roundRatio } from "../src/cli/bench-stats.js";
import { prepareWorkload, randomTensor, type BenchWhat } from "../src/cli/bench-workload.js";
import type { SequenceDataset } from "../src/data/dataset.js";
import { writeFileAtomic } from "../src/io/atomic.js";
import type { RecurrentModel } from "../src/models/recurrent.js";
import { resolveLoss } from "../src/train/losses.js";
import { createOptimizer } from "../src/train/optimizers.js";
import { BatchAssembler, modelShape, predictShard } from "../src/train/shard.js";
import { trainStep, type TrainStepContext } from "../src/train/train-step.js";
import { WorkerPool } from "../src/train/workers.js";
import { enableRelaxedSimd } from "../src/cli/relaxed-simd.js";
import { wasmVariant } from "../src/engine/wasm.js";

const BEGIN = "<!-- speed:begin -->";
const END = "<!-- speed:end -->";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const quick = process.argv.includes("--quick");
const rounds = Number(flag("--rounds") ?? (quick ? 2 : 5));
const targetMs = Number(flag("--target-ms") ?? (quick ? 20 : 150));
const outFile = flag("--out") ?? "bench/results/speed.json";
const into = flag("--into");
const SEQ_LEN = quick ? 4 : 32;
const INPUT = 16;
const STREAM_STEPS = quick ? 8 : 256;
const SIZES: Array<[number, number]> = quick ? [[8, 16], [16, 32]] : [[32, 64], [64, 128], [128, 256], [256, 512]];
const BATCHES = quick ? [1, 4] : [1, 8, 64, 256];
const THREADS = [1, 2];

interface Item {
  id: string;
  size: string;
  what: BenchWhat;
  batch: number;
  threads: number;
  run: () => void | Promise<void>;
  reps: number;
  ours: number[][];
  theirs: number[][];
}

/** Times `reps` runs, one by one; milliseconds. */
async function timeRuns(run: () => void | Promise<void>, reps: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return times;
}

function dataset(model: RecurrentModel, batch: number): SequenceDataset {
  return {
    size: batch,
    steps: SEQ_LEN,
    features: INPUT,
    x: Float32Array.from(randomTensor([batch, SEQ_LEN, INPUT], "float32", 7).data),
    timespans: null,
    lengths: null,
    task: "regress",
    targetMode: "per_step",
    y: Float32Array.from(randomTensor([batch, SEQ_LEN, model.outputSize], "float32", 9).data),
    targets: model.outputSize,
    numClasses: 0,
    targetMask: null,
  };
}

async function main(): Promise<void> {
  enableRelaxedSimd(); // as the CLI does
  const paths = defaultPytorchPaths();
  let torch: PytorchServer;
  try {
    torch = await PytorchServer.start(paths);
  } catch (e) {
    process.stderr.write(`speed-vs-pytorch: PyTorch ncps is not available: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(3);
  }
  const started = new Date();
  const loadBefore = loadavg();
  const items: Item[] = [];
  const pools: WorkerPool[] = [];
  try {
    for (const [units, backboneUnits] of SIZES) {
      const size = `${units}/${backboneUnits}`;
      const choice = { name: "cfc", sizes: { inputSize: INPUT, units, backboneUnits, backboneLayers: 1, odeUnfolds: 6 } };
      const model = buildBenchModel(benchModelConfig(choice), "wasm");
      const datasets = BATCHES.map((b) => dataset(model, b));
      const loss = resolveLoss(datasets[0], model.outputSize, "mse");
      const pool = await WorkerPool.create(model, datasets, 1, loss);
      pools.push(pool);
      const add = async (what: BenchWhat, batch: number, threads: number, run: () => void | Promise<void>): Promise<void> => {
        const id = `${size}|${what}|B${batch}|t${threads}`;
        await torch.build(id, { model: "cfc", what, batch, seq_len: SEQ_LEN, input_size: INPUT, units, backbone_units: backboneUnits, backbone_layers: 1, ode_unfolds: 6, stream_steps: STREAM_STEPS });
        items.push({ id, size, what, batch, threads, run, reps: 1, ours: [], theirs: [] });
      };
      for (const [d, batch] of BATCHES.entries()) {
        for (const what of ["train", "infer"] as BenchWhat[]) {
          const w = prepareWorkload(model, what, { batch, seqLen: SEQ_LEN, streamSteps: STREAM_STEPS });
          await add(what, batch, 1, () => w.run());
        }
        const ctx: TrainStepContext = {
          model,
          train: datasets[d],
          assembler: new BatchAssembler(modelShape(model), datasets[d]),
          loss,
          optimizer: createOptimizer("adam", { lr: 1e-3 }),
          clipNorm: null,
          pool,
          seed: 0,
        };
        const all = Int32Array.from({ length: batch }, (_, i) => i);
        let step = 0;
        await add("train", batch, 2, async () => void (await trainStep(ctx, all, step++)));
        await add("infer", batch, 2, async () => {
          await pool.predict(model.parameters(), d, batch, (indices, dest) => predictShard(model, ctx.assembler, indices, dest, "per_step"));
        });
      }
      const s = prepareWorkload(model, "stream", { batch: 1, seqLen: SEQ_LEN, streamSteps: STREAM_STEPS });
      await add("stream", 1, 1, () => s.run());
    }
    process.stderr.write(`speed-vs-pytorch: ${items.length} workloads; warm-up\n`);
    for (const item of items) {
      await torch.setThreads(item.threads);
      const warm = await timeRuns(item.run, 2);
      await torch.run(item.id, 1, 1);
      item.reps = Math.max(1, Math.min(50, Math.round(targetMs / Math.max(warm[1], 1e-3))));
    }
    for (let r = 0; r < rounds; r++) {
      process.stderr.write(`speed-vs-pytorch: round ${r + 1} of ${rounds}\n`);
      for (const item of items) {
        await torch.setThreads(item.threads);
        if ((r + items.indexOf(item)) % 2 === 0) {
          item.ours.push(await timeRuns(item.run, item.reps));
          item.theirs.push(await torch.run(item.id, item.reps, 0));
        } else {
          item.theirs.push(await torch.run(item.id, item.reps, 0));
          item.ours.push(await timeRuns(item.run, item.reps));
        }
      }
    }
  } finally {
    torch.close();
    for (const p of pools) await p.close();
  }
  const result = {
    format: "ncps-speed-vs-pytorch/1",
    date: started.toISOString(),
    command: `npx tsx bench/speed-vs-pytorch.ts ${process.argv.slice(2).join(" ")}`.trim(),
    machine: { cpu: cpus()[0]?.model ?? "unknown", cores: availableParallelism(), memory_gib: totalmem() / 2 ** 30, node: process.version },
    wasm_variant: wasmVariant(),
    pytorch: torch.info,
    load_average_before: loadBefore,
    load_average_after: loadavg(),
    rounds,
    seq_len: SEQ_LEN,
    input_size: INPUT,
    stream_steps: STREAM_STEPS,
    quick,
    workloads: items.map((it) => {
      const ours = it.ours.map((r) => median(r));
      const theirs = it.theirs.map((r) => median(r));
      return {
        id: it.id, size: it.size, what: it.what, batch: it.batch, threads: it.threads, reps: it.reps,
        ncps_ts_ms: median(ours), pytorch_ms: median(theirs), ratio: roundRatio(ours, theirs),
      };
    }),
  };
  mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
  writeFileAtomic(outFile, JSON.stringify(result, null, 1) + "\n");
  const section = markdown(result);
  if (into) {
    const doc = existsSync(into) ? readFileSync(into, "utf8") : "";
    const block = `${BEGIN}\n${section.trimEnd()}\n${END}`;
    const b = doc.indexOf(BEGIN);
    const e = doc.indexOf(END);
    writeFileAtomic(into, b >= 0 && e > b ? doc.slice(0, b) + block + doc.slice(e + END.length) : `${doc.trimEnd()}\n\n${block}\n`);
  }
  process.stdout.write(section);
}

type Result = {
  date: string; command: string; machine: { cpu: string; cores: number; memory_gib: number; node: string }; wasm_variant: string;
  pytorch: PytorchServer["info"]; load_average_before: number[]; load_average_after: number[]; rounds: number; seq_len: number; stream_steps: number;
  workloads: Array<{ size: string; what: BenchWhat; batch: number; threads: number; ncps_ts_ms: number; pytorch_ms: number; ratio: { median: number; min: number; max: number } }>;
};

function ms(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
}

function markdown(r: Result): string {
  const sizes = [...new Set(r.workloads.map((w) => w.size))];
  const batches = [...new Set(r.workloads.filter((w) => w.what !== "stream").map((w) => w.batch))];
  const cell = (w: Result["workloads"][number] | undefined): string =>
    w ? `${w.ratio.median.toFixed(2)} (${w.ratio.min.toFixed(2)}-${w.ratio.max.toFixed(2)}); ${ms(w.ncps_ts_ms)} / ${ms(w.pytorch_ms)}` : "-";
  const find = (size: string, what: BenchWhat, batch: number, threads: number) => r.workloads.find((w) => w.size === size && w.what === what && w.batch === batch && w.threads === threads);
  const out: string[] = [];
  out.push(`### CfC against PyTorch ncps at four sizes, ${r.date.slice(0, 10)}`, "");
  out.push("```sh", r.command, "```", "");
  out.push(
    `Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memory_gib.toFixed(1)} GiB; Node ${r.machine.node}, engine wasm (${r.wasm_variant} build, as the CLI loads it); PyTorch ${r.pytorch?.torch} (Python ${r.pytorch?.python}), ncps 1.0.1 from ${r.pytorch?.ncps ? "../shared/reference/ncps-1.0.1" : "?"}. ` +
      `Started ${r.date}; load average (1, 5, 15 min) ${r.load_average_before.map((x) => x.toFixed(1)).join(", ")} before and ${r.load_average_after.map((x) => x.toFixed(1)).join(", ")} after: ` +
      `the machine was shared with other jobs, so absolute times are inflated and noisy; the ratios, taken within each round, are the figures to read.`,
    "",
    `CfC default mode, 16 inputs, units / backbone units as in the first column, sequence length ${r.seq_len}, float32. ${r.rounds} interleaved rounds. ` +
      `Each cell: ncps-ts time / PyTorch time, the median over rounds of the per-round ratio (min-max over rounds; below 1 ncps-ts is faster), then the median times in ms (ncps-ts / PyTorch). ` +
      `2 threads: ncps-ts splits the batch between the main thread and one worker (fit's step, --threads 2); PyTorch runs torch.set_num_threads(2).`,
    "",
  );
  for (const what of ["train", "infer"] as BenchWhat[]) {
    out.push(`#### ${what === "train" ? "Training step" : "Batched inference"}`, "");
    out.push(`| size | threads | ${batches.map((b) => `B = ${b}`).join(" | ")} |`, `|---|---|${batches.map(() => "---").join("|")}|`);
    for (const size of sizes) for (const t of THREADS) out.push(`| ${size} | ${t} | ${batches.map((b) => cell(find(size, what, b, t))).join(" | ")} |`);
    out.push("");
  }
  out.push(`#### Streaming (one sample, ${r.stream_steps} steps per run, 1 thread)`, "");
  out.push("| size | ratio; ncps-ts / PyTorch ms per run |", "|---|---|");
  for (const size of sizes) out.push(`| ${size} | ${cell(find(size, "stream", 1, 1))} |`);
  out.push("");
  const train64 = sizes.map((s) => {
    const one = find(s, "train", 64, 1);
    const two = find(s, "train", 64, 2);
    return one && two ? `${s}: ${(two.ncps_ts_ms / one.ncps_ts_ms).toFixed(2)}` : null;
  }).filter(Boolean);
  if (train64.length) out.push(`ncps-ts 2-thread over 1-thread training time at B = 64 (ratio of the medians): ${train64.join("; ")}.`, "");
  return out.join("\n");
}

await main();
