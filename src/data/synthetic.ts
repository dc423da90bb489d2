/**
 * Generated irregularly sampled tasks (no files, no network), for the demo, tests and examples.
 *
 * Leaky memory: pulses arrive at irregular times and the target is their exponentially decaying sum,
 * y_k = y_{k-1} * exp(-dt_k / tau) + x_k. The right answer depends on the elapsed time between
 * observations, which is what continuous-time models take as an input.
 */
import { Rng } from "../nn/rng.js";
import type { SequenceDataset } from "./dataset.js";

export interface LeakyMemoryOptions {
  sequences: number;
  steps: number;
  /** decay time constant (default 1) */
  tau?: number;
  /** gaps between observations are log-uniform in [minGap, maxGap] (default 0.05 to 3): very irregular */
  minGap?: number;
  maxGap?: number;
  /** probability that an observation carries a pulse (default 0.3) */
  pulseProbability?: number;
  seed?: number;
  /** add the elapsed time as a second input feature (for models without a time input, e.g. LSTM) */
  elapsedAsFeature?: boolean;
}

export function leakyMemoryTask(o: LeakyMemoryOptions): SequenceDataset {
  const { sequences: N, steps: L } = o;
  const tau = o.tau ?? 1;
  const logMin = Math.log(o.minGap ?? 0.05);
  const logMax = Math.log(o.maxGap ?? 3);
  const p = o.pulseProbability ?? 0.3;
  const rng = new Rng(o.seed ?? 0);
  const F = o.elapsedAsFeature ? 2 : 1;
  const x = new Float32Array(N * L * F);
  const ts = new Float32Array(N * L);
  const y = new Float32Array(N * L);
  for (let n = 0; n < N; n++) {
    let acc = 0;
    for (let t = 0; t < L; t++) {
      const dt = Math.exp(rng.range(logMin, logMax));
      const pulse = rng.uniform() < p ? rng.range(-2, 2) : 0;
      acc = acc * Math.exp(-dt / tau) + pulse;
      x[(n * L + t) * F] = pulse;
      if (F === 2) x[(n * L + t) * F + 1] = dt;
      ts[n * L + t] = dt;
      y[n * L + t] = acc;
    }
  }
  return {
    size: N,
    steps: L,
    features: F,
    x,
    timespans: ts,
    lengths: null,
    task: "regress",
    targetMode: "per_step",
    y,
    targets: 1,
    numClasses: 0,
    targetMask: null,
    featureNames: F === 2 ? ["pulse", "elapsed"] : ["pulse"],
    targetNames: ["memory"],
  };
}
