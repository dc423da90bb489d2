/**
 * Summaries of repeated timings. On a shared, noisy machine a figure is a median with its spread, and a
 * comparison is a ratio taken within one round (both sides measured back to back), summarised over rounds.
 */

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Linear-interpolation quantile (numpy's default) of a non-empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Timings of one workload over rounds: every sample, and each round's median. */
export interface TimingStats {
  /** median over rounds of each round's median */
  median_ms: number;
  /** interquartile range and extremes of all samples */
  q1_ms: number;
  q3_ms: number;
  min_ms: number;
  max_ms: number;
  /** timed runs in all, and rounds */
  samples: number;
  rounds: number;
  round_medians_ms: number[];
}

export function timingStats(roundSamples: readonly (readonly number[])[]): TimingStats {
  const all = roundSamples.flat();
  const roundMedians = roundSamples.map((r) => median(r));
  return {
    median_ms: median(roundMedians),
    q1_ms: quantile(all, 0.25),
    q3_ms: quantile(all, 0.75),
    min_ms: Math.min(...all),
    max_ms: Math.max(...all),
    samples: all.length,
    rounds: roundSamples.length,
    round_medians_ms: roundMedians,
  };
}

/** A ratio of two workloads' times: per round (round medians), then the median over rounds. */
export interface RoundRatio {
  median: number;
  min: number;
  max: number;
  per_round: number[];
}

export function roundRatio(numerator: readonly number[], denominator: readonly number[]): RoundRatio {
  const n = Math.min(numerator.length, denominator.length);
  const perRound = Array.from({ length: n }, (_, r) => numerator[r] / denominator[r]);
  return { median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), per_round: perRound };
}
