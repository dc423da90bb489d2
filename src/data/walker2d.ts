/**
 * Walker2d kinematics (Lechner & Hasani 2020; the CfC paper's per-time-step regression task), prepared
 * as the reference pipeline does (described in ../shared/data/walker2d/SOURCE.md):
 *  1. per rollout file (T x 17): x = rows 0..T-2, y = rows 1..T-1 (predict the next state);
 *  2. irregular sampling: one numpy RandomState(891374) stream over train, valid, test files (in split
 *     order), one rand() per step, a step kept when rand() < 0.9; its elapsed time is the number of raw
 *     steps since the previously kept step;
 *  3. windows of 64 steps with stride 16 (starts range(0, n - 64, 16)) per rollout.
 * Inputs and targets stay in raw units, as in the paper (its MSE is on raw values).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { loadNpy } from "../io/npy.js";
import { RandomState } from "../wirings/mt19937.js";
import type { SequenceDataset } from "./dataset.js";

export interface Walker2dOptions {
  window?: number;
  stride?: number;
  keepProbability?: number;
  seed?: number;
}

export interface Walker2dData {
  train: SequenceDataset;
  valid: SequenceDataset;
  test: SequenceDataset;
}

const FEATURES = 17;

export function loadWalker2d(dataDir: string, options: Walker2dOptions = {}): Walker2dData {
  const window = options.window ?? 64;
  const stride = options.stride ?? 16;
  const keep = options.keepProbability ?? 0.9;
  const splitFile = path.join(dataDir, "split.json");
  let split: Record<string, string[]>;
  try {
    split = JSON.parse(readFileSync(splitFile, "utf8"));
  } catch (e) {
    throw new Error(`${splitFile}: cannot read the train/valid/test split: ${(e as Error).message}`);
  }
  for (const k of ["train", "valid", "test"]) {
    if (!Array.isArray(split[k])) throw new Error(`${splitFile}: expected a list of files under "${k}"`);
  }
  const rng = new RandomState(options.seed ?? 891374);
  const build = (name: "train" | "valid" | "test"): SequenceDataset => {
    const xs: number[][] = [];
    const ts: number[][] = [];
    const ys: number[][] = [];
    for (const file of split[name]) {
      const full = path.join(dataDir, file);
      const arr = loadNpy(full);
      if (arr.shape.length !== 2 || arr.shape[1] !== FEATURES) throw new Error(`${full}: expected shape (T, ${FEATURES}), got (${arr.shape.join(", ")})`);
      const T = arr.shape[0];
      const d = arr.data as Float64Array;
      // kept steps of this rollout: x row i, target row i + 1, elapsed steps since the last kept one
      const rows: number[] = [];
      const elapsed: number[] = [];
      let since = 0;
      for (let i = 0; i < T - 1; i++) {
        since += 1;
        if (rng.randomSample() < keep) {
          rows.push(i);
          elapsed.push(since);
          since = 0;
        }
      }
      for (let start = 0; start < rows.length - window; start += stride) {
        const x: number[] = [];
        const y: number[] = [];
        const t: number[] = [];
        for (let k = start; k < start + window; k++) {
          const i = rows[k];
          for (let j = 0; j < FEATURES; j++) {
            x.push(Math.fround(d[i * FEATURES + j]));
            y.push(Math.fround(d[(i + 1) * FEATURES + j]));
          }
          t.push(elapsed[k]);
        }
        xs.push(x);
        ys.push(y);
        ts.push(t);
      }
    }
    const N = xs.length;
    return {
      size: N,
      steps: window,
      features: FEATURES,
      x: Float32Array.from(xs.flat()),
      timespans: Float32Array.from(ts.flat()),
      lengths: null,
      task: "regress",
      targetMode: "per_step",
      y: Float32Array.from(ys.flat()),
      targets: FEATURES,
      numClasses: 0,
      targetMask: null,
    };
  };
  // the order of the random stream: train, valid, test
  const train = build("train");
  const valid = build("valid");
  const test = build("test");
  return { train, valid, test };
}
