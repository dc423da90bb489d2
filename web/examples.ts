/**
 * The built-in examples, generated as CSV text so that they take the same path as a user's file (the
 * library's CSV reader): the demo's leaky-memory task, the sine/cosine task of ncps's first-steps
 * tutorial, and a small irregularly sampled classification task.
 */
import { Rng, leakyMemoryTask } from "../src/index.js";
import type { ModelKind } from "./protocol.js";

export interface Example {
  readonly name: string;
  readonly title: string;
  /** what the page pre-selects for it */
  readonly settings: { readonly epochs: number; readonly lr: number; readonly window?: number; readonly task: "regress" | "classify"; readonly model?: ModelKind; readonly units?: number };
  csv(): string;
}

const line = (cells: ReadonlyArray<string | number>): string => cells.join(",");

/** The demo's task (ncps demo), fewer sequences: pulses at irregular times, the target their decaying sum. */
function leakyMemoryCsv(): string {
  const ds = leakyMemoryTask({ sequences: 192, steps: 48, seed: 1 });
  const rows = [line(["sequence", "time", "pulse", "memory"])];
  for (let n = 0; n < ds.size; n++) {
    let time = 0;
    for (let t = 0; t < ds.steps; t++) {
      const k = n * ds.steps + t;
      time += ds.timespans![k];
      rows.push(line([`s${n}`, time.toFixed(4), ds.x[k].toFixed(4), ds.y[k].toFixed(4)]));
    }
  }
  return rows.join("\n") + "\n";
}

/** ncps's first-steps tutorial: inputs sin and cos over [0, 3 pi], target sin over [0, 6 pi], 48 steps. */
function sineCosineCsv(): string {
  const N = 48;
  const at = (stop: number, i: number): number => (stop * i) / (N - 1);
  const rows = [line(["step", "sin", "cos", "target"])];
  for (let i = 0; i < N; i++) rows.push(line([i, Math.sin(at(3 * Math.PI, i)).toFixed(6), Math.cos(at(3 * Math.PI, i)).toFixed(6), Math.sin(at(6 * Math.PI, i)).toFixed(6)]));
  return rows.join("\n") + "\n";
}

/**
 * Slow or fast oscillation, observed at random times (12 to 30 noisy observations over 10 seconds):
 * the class of a whole series, which needs the time between observations to tell.
 */
function irregularClassesCsv(): string {
  const rng = new Rng(7);
  const rows = [line(["series", "time", "value", "class"])];
  for (let n = 0; n < 320; n++) {
    const fast = n % 2 === 1;
    const frequency = fast ? 0.45 + 0.1 * rng.uniform() : 0.15 + 0.1 * rng.uniform();
    const phase = rng.range(0, 2 * Math.PI);
    const count = 12 + Math.floor(rng.uniform() * 19);
    const times = Array.from({ length: count }, () => rng.range(0, 10)).sort((a, b) => a - b);
    for (const t of times) rows.push(line([`r${n}`, t.toFixed(3), (Math.sin(2 * Math.PI * frequency * t + phase) + 0.1 * rng.range(-1, 1)).toFixed(4), fast ? "fast" : "slow"]));
  }
  return rows.join("\n") + "\n";
}

export const EXAMPLES: readonly Example[] = [
  { name: "leaky-memory", title: "leaky memory (irregular pulses, the demo's task)", settings: { epochs: 10, lr: 0.01, task: "regress" }, csv: leakyMemoryCsv },
  { name: "sine-cosine", title: "sine/cosine (ncps's first steps)", settings: { epochs: 200, lr: 0.01, task: "regress" }, csv: sineCosineCsv },
  { name: "irregular-classes", title: "slow or fast? (irregularly sampled classification)", settings: { epochs: 20, lr: 0.01, task: "classify", model: "cfc-ncp", units: 12 }, csv: irregularClassesCsv },
];

export function findExample(name: string): Example | undefined {
  return EXAMPLES.find((e) => e.name === name);
}
