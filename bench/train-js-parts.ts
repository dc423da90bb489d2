/**
 * The JavaScript parts of a training step that moved to kernels or stopped allocating, old way against
 * new in interleaved rounds: `npx tsx bench/train-js-parts.ts [--rounds N]`.
 *  - clip: clipGradNorm over a CfC's gradients (the global norm and, with a small maxNorm, the scaling)
 *    with plain loops (no engine) and with the engine's sumSquares/scale kernels;
 *  - labels: labelRows for a batch of per-step labels, freshly allocated and refilled in place.
 * Prints per-variant medians (microseconds per call) and the median of per-round ratios new / old.
 */
import { CfC } from "../src/models/cfc.js";
import { clipGradNorm } from "../src/train/clip.js";
import { labelRows, type LabelRows } from "../src/train/shard.js";
import type { SequenceDataset } from "../src/data/dataset.js";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const rounds = arg("--rounds", 15);

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Microseconds per call of `f`, over enough calls to take ~20 ms. */
function time(f: () => void, calls: number): number {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) f();
  return ((performance.now() - t0) * 1000) / calls;
}

function compare(what: string, old: () => void, neu: () => void, calls: number): void {
  for (let i = 0; i < 3; i++) (old(), neu());
  const a: number[] = [];
  const b: number[] = [];
  const r: number[] = [];
  for (let k = 0; k < rounds; k++) {
    const x = time(old, calls);
    const y = time(neu, calls);
    a.push(x);
    b.push(y);
    r.push(y / x);
  }
  console.log(`${what.padEnd(44)} old ${median(a).toFixed(1).padStart(8)} us  new ${median(b).toFixed(1).padStart(8)} us  ratio ${median(r).toFixed(3)}`);
}

for (const [units, backbone] of [[64, 128], [256, 512]]) {
  const model = new CfC(16, units, { backboneUnits: backbone, backend: "wasm", seed: 1 });
  const params = model.parameters();
  const n = params.reduce((s, p) => s + p.grad.length, 0);
  for (const p of params) for (let i = 0; i < p.grad.length; i++) p.grad[i] = Math.sin(i + p.grad.length);
  // maxNorm huge: norm only; tiny: norm + scaling (gradients shrink towards 0 over the calls, still finite)
  compare(`clip ${units}/${backbone} (${n} params) norm only`, () => void clipGradNorm(params, 1e30), () => void clipGradNorm(params, 1e30, model.engine), 10);
  compare(`clip ${units}/${backbone} norm + scale`, () => {
    for (const p of params) p.grad.fill(0.5);
    clipGradNorm(params, 1e-3);
  }, () => {
    for (const p of params) p.grad.fill(0.5);
    clipGradNorm(params, 1e-3, model.engine);
  }, 10);
}

{
  const N = 512;
  const L = 32;
  const ds = { size: N, steps: L, features: 2, targets: 2, task: "regress", targetMode: "per_step", x: new Float32Array(N * L * 2), y: new Float32Array(N * L * 2), lengths: null, timespans: null, targetMask: null } as unknown as SequenceDataset;
  const indices = Int32Array.from({ length: 64 }, (_, i) => i * 3);
  let reuse: LabelRows | undefined;
  compare("labelRows B=64 L=32 x2 fresh vs reused", () => void labelRows(ds, indices), () => void (reuse = labelRows(ds, indices, reuse)), 200);
}
