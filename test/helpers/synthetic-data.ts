/** Small synthetic sequence tasks for the training tests. */
import type { SequenceDataset } from "../../src/data/dataset.js";
import { Rng } from "../../src/nn/rng.js";

/**
 * Irregularly sampled sine: the input is cos(tau) at random times tau (elapsed time 0.1..0.5 between
 * samples), the per-step target is sin(tau). sin is not a function of cos alone, so the model must use
 * the previous inputs and the elapsed times. The first two steps are unlabelled (targetMask 0).
 */
export function sineDataset(n: number, steps: number, seed: number): SequenceDataset {
  const rng = new Rng(seed);
  const x = new Float32Array(n * steps);
  const y = new Float32Array(n * steps);
  const ts = new Float32Array(n * steps);
  const mask = new Uint8Array(n * steps);
  for (let i = 0; i < n; i++) {
    let tau = rng.range(0, 2 * Math.PI);
    for (let t = 0; t < steps; t++) {
      const dt = rng.range(0.1, 0.5);
      tau += dt;
      ts[i * steps + t] = dt;
      x[i * steps + t] = Math.cos(tau);
      y[i * steps + t] = Math.sin(tau);
      mask[i * steps + t] = t >= 2 ? 1 : 0;
    }
  }
  return { size: n, steps, features: 1, x, timespans: ts, lengths: null, task: "regress", targetMode: "per_step", y, targets: 1, numClasses: 0, targetMask: mask };
}

/**
 * Two classes, one label per sequence: noisy steps drawn around +0.6 (class 1) or -0.6 (class 0) in the
 * first feature, pure noise in the second. Sequences have 4..steps real steps; the padding holds values
 * pointing at the wrong class, so a model that read past the real end would be misled.
 */
export function signDataset(n: number, steps: number, seed: number): SequenceDataset {
  const rng = new Rng(seed);
  const F = 2;
  const x = new Float32Array(n * steps * F);
  const y = new Float32Array(n);
  const lengths = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = rng.uniform() < 0.5 ? 0 : 1;
    y[i] = label;
    const len = 4 + rng.int(steps - 3);
    lengths[i] = len;
    const mean = label === 1 ? 0.6 : -0.6;
    for (let t = 0; t < steps; t++) {
      const o = (i * steps + t) * F;
      if (t < len) {
        x[o] = mean + 0.8 * rng.normal();
        x[o + 1] = rng.normal();
      } else {
        x[o] = -3 * mean;
        x[o + 1] = 0;
      }
    }
  }
  return { size: n, steps, features: F, x, timespans: null, lengths, task: "classify", targetMode: "last", y, targets: 1, numClasses: 2, targetMask: null };
}

/** A copy of a dataset with some fields replaced. */
export function withFields(ds: SequenceDataset, fields: Partial<SequenceDataset>): SequenceDataset {
  return { ...ds, ...fields };
}
