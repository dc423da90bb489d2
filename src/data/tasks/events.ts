/**
 * Event-based sequences as the paper's XOR and ET-sMNIST tasks store them: at most `pad` events per
 * sample, each with a value, the elapsed count of raw steps since the previous event, and a mask of
 * real events (always a prefix). `eventDataset` turns them into the trainer's sequence-level
 * classification dataset: the value is the one input feature, elapsed / `timeScale` the timespan, and
 * the readout is taken at the last real event (as Keras masking does).
 */
import type { SequenceDataset } from "../dataset.js";

export interface EventArrays {
  readonly samples: number;
  readonly pad: number;
  /** samples x pad */
  readonly events: Float32Array;
  /** samples x pad, raw step counts */
  readonly elapsed: Float32Array;
  /** samples x pad, 1 = real event */
  readonly mask: Uint8Array;
  /** samples, class index */
  readonly labels: Int32Array;
}

export function emptyEvents(samples: number, pad: number): EventArrays {
  return {
    samples,
    pad,
    events: new Float32Array(samples * pad),
    elapsed: new Float32Array(samples * pad),
    mask: new Uint8Array(samples * pad),
    labels: new Int32Array(samples),
  };
}

/** The first `limit` samples (all when limit is undefined). */
export function takeEvents(a: EventArrays, limit?: number): EventArrays {
  const n = limit === undefined ? a.samples : Math.min(limit, a.samples);
  if (n === a.samples) return a;
  const P = a.pad;
  return {
    samples: n,
    pad: P,
    events: a.events.slice(0, n * P),
    elapsed: a.elapsed.slice(0, n * P),
    mask: a.mask.slice(0, n * P),
    labels: a.labels.slice(0, n),
  };
}

export function eventDataset(a: EventArrays, timeScale: number, numClasses: number, names: { feature: string; target: string }): SequenceDataset {
  const { samples: N, pad: P } = a;
  const lengths = new Int32Array(N);
  const timespans = new Float32Array(N * P);
  for (let i = 0; i < N; i++) {
    let len = 0;
    for (let k = 0; k < P; k++) {
      if (a.mask[i * P + k]) len = k + 1;
      timespans[i * P + k] = a.elapsed[i * P + k] / timeScale;
    }
    lengths[i] = Math.max(1, len);
  }
  return {
    size: N,
    steps: P,
    features: 1,
    x: a.events,
    timespans,
    lengths,
    task: "classify",
    targetMode: "last",
    y: Float32Array.from(a.labels),
    targets: 1,
    numClasses,
    targetMask: null,
    featureNames: [names.feature],
    targetNames: [names.target],
  };
}
