/**
 * PhysioNet/CinC Challenge 2012, in-hospital mortality from set A (the CfC paper's Table 5), prepared as
 * the paper's code does (raminmh/CfC duv_physionet.py, adapted from Rubanova et al.'s loader):
 *  1. per record file (`Time,Parameter,Value`, header skipped): times HH:MM become hours, quantised to
 *     multiples of 0.016 h (Python's round, half to even); a new step starts whenever the quantised time
 *     differs from the previous line's; step 0 is time 0;
 *  2. 41 variables (PHYSIONET_VARIABLES; the RecordID line is skipped); several values of one variable
 *     in one step are averaged (float32, as the torch tensors); a per-variable mask marks observed cells;
 *  3. label = In-hospital_death of Outcomes-a.txt;
 *  4. split: scikit-learn train_test_split(train_size=0.8, random_state=42) over the records;
 *  5. normalisation (x - min) / max per variable, min and max over the observed values of all records
 *     (a max of 0 becomes 1);
 *  6. model input per step: the values forward-filled per variable (0 before the first observation),
 *     then the 41 mask bits (82 features), as the paper's Cfc mask mode builds it.
 * Differences, on purpose: records are taken in file-name order (the paper's `os.listdir` order is the
 * file system's, so its exact split cannot be replayed), and timespans are the true elapsed hours
 * between steps (the paper's collate function subtracts in the wrong order, feeding minus the previous
 * gap; see ../shared/reference/ncps-and-paper.md section 9.3). Portable: takes record texts.
 */
import type { SequenceDataset } from "../dataset.js";
import { trainTestSplit } from "./split.js";

export const PHYSIONET_VARIABLES = [
  "Age", "Gender", "Height", "ICUType", "Weight", "Albumin", "ALP", "ALT", "AST", "Bilirubin", "BUN", "Cholesterol",
  "Creatinine", "DiasABP", "FiO2", "GCS", "Glucose", "HCO3", "HCT", "HR", "K", "Lactate", "Mg", "MAP", "MechVent", "Na",
  "NIDiasABP", "NIMAP", "NISysABP", "PaCO2", "PaO2", "pH", "Platelets", "RespRate", "SaO2", "SysABP", "Temp", "TroponinI",
  "TroponinT", "Urine", "WBC",
] as const;
const VARIABLE_INDEX = new Map<string, number>(PHYSIONET_VARIABLES.map((v, i) => [v, i]));
export const PHYSIONET_QUANTIZATION = 0.016;

export interface PhysioRecord {
  readonly id: string;
  /** step times in hours */
  readonly times: number[];
  /** steps x 41 values (0 where not observed) */
  readonly values: Float32Array;
  /** steps x 41, 1 = observed */
  readonly mask: Uint8Array;
}

/** Python's round(x): to the nearest integer, halves to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** One record file. `fileName` names it in errors. */
export function parsePhysioRecord(text: string, fileName: string, id: string): PhysioRecord {
  const V = PHYSIONET_VARIABLES.length;
  const lines = text.split("\n");
  if (!/^Time,Parameter,Value\s*$/.test(lines[0] ?? "")) throw new Error(`${fileName}: line 1: expected the header "Time,Parameter,Value", got ${JSON.stringify((lines[0] ?? "").slice(0, 60))}`);
  const times = [0];
  const values: number[] = new Array(V).fill(0);
  const mask: number[] = new Array(V).fill(0);
  let counts: number[] = new Array(V).fill(0);
  let prev = 0;
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n].replace(/\r$/, "");
    if (line === "") continue;
    const parts = line.split(",");
    const hm = /^(\d+):(\d+)$/.exec(parts[0]);
    const value = Number(parts[2]);
    if (parts.length !== 3 || !hm || parts[2].trim() === "" || !Number.isFinite(value)) {
      throw new Error(`${fileName}: line ${n + 1}: expected HH:MM,Parameter,number, got ${JSON.stringify(line.slice(0, 80))}`);
    }
    const hours = Number(hm[1]) + Number(hm[2]) / 60;
    const t = roundHalfEven(hours / PHYSIONET_QUANTIZATION) * PHYSIONET_QUANTIZATION;
    if (t !== prev) {
      times.push(t);
      for (let k = 0; k < V; k++) values.push(0), mask.push(0);
      counts = new Array(V).fill(0);
      prev = t;
    }
    const name = parts[1];
    const k = VARIABLE_INDEX.get(name);
    if (k === undefined) {
      if (name === "RecordID" || name === "") continue;
      throw new Error(`${fileName}: line ${n + 1}: unknown parameter ${JSON.stringify(name)} (expected one of the 41 PhysioNet 2012 variables or RecordID)`);
    }
    const at = (times.length - 1) * V + k;
    const seen = counts[k];
    const f = Math.fround;
    values[at] = seen > 0 ? f(f(f(values[at] * seen) + f(value)) / (seen + 1)) : f(value);
    mask[at] = 1;
    counts[k] = seen + 1;
  }
  return { id, times, values: Float32Array.from(values), mask: Uint8Array.from(mask) };
}

/** Outcomes-a.txt: record id -> In-hospital_death (0/1). */
export function parseOutcomes(text: string, fileName: string): Map<string, number> {
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  const header = lines[0].split(",");
  const kid = header.indexOf("RecordID");
  const kd = header.indexOf("In-hospital_death");
  if (kid < 0 || kd < 0) throw new Error(`${fileName}: line 1: expected columns RecordID and In-hospital_death, got ${JSON.stringify(lines[0].slice(0, 100))}`);
  const out = new Map<string, number>();
  for (let n = 1; n < lines.length; n++) {
    if (lines[n] === "") continue;
    const cells = lines[n].split(",");
    const death = Number(cells[kd]);
    if (death !== 0 && death !== 1) throw new Error(`${fileName}: line ${n + 1}: In-hospital_death must be 0 or 1, got ${JSON.stringify(cells[kd])}`);
    out.set(cells[kid], death);
  }
  return out;
}

export interface PhysioNetData {
  train: SequenceDataset;
  test: SequenceDataset;
  /** records used, deaths among them */
  records: number;
  deaths: number;
}

/** Labels, split, normalisation and forward fill (steps 3-6 above) for records in file-name order. */
export function buildPhysioNet(records: readonly PhysioRecord[], outcomes: ReadonlyMap<string, number>, outcomesName: string): PhysioNetData {
  const V = PHYSIONET_VARIABLES.length;
  const labels = records.map((r) => {
    const y = outcomes.get(r.id);
    if (y === undefined) throw new Error(`${outcomesName}: no outcome row for record ${r.id}`);
    return y;
  });
  const min = new Float32Array(V).fill(Infinity);
  const max = new Float32Array(V).fill(-Infinity);
  for (const r of records) {
    for (let i = 0; i < r.mask.length; i++) {
      if (!r.mask[i]) continue;
      const k = i % V;
      if (r.values[i] < min[k]) min[k] = r.values[i];
      if (r.values[i] > max[k]) max[k] = r.values[i];
    }
  }
  for (let k = 0; k < V; k++) {
    if (max[k] === 0) max[k] = 1;
    if (!Number.isFinite(min[k])) (min[k] = 0), (max[k] = 1); // never observed: its mask is always 0
  }
  const steps = Math.max(...records.map((r) => r.times.length));
  const build = (idx: number[]): SequenceDataset => {
    const N = idx.length;
    const F = 2 * V;
    const x = new Float32Array(N * steps * F);
    const timespans = new Float32Array(N * steps);
    const lengths = new Int32Array(N);
    const y = new Float32Array(N);
    idx.forEach((ri, i) => {
      const r = records[ri];
      const L = r.times.length;
      lengths[i] = L;
      y[i] = labels[ri];
      const filled = new Float32Array(V);
      for (let t = 0; t < L; t++) {
        timespans[i * steps + t] = t === 0 ? 0 : r.times[t] - r.times[t - 1];
        const row = (i * steps + t) * F;
        for (let k = 0; k < V; k++) {
          if (r.mask[t * V + k]) {
            filled[k] = Math.fround(Math.fround(r.values[t * V + k] - min[k]) / max[k]);
            x[row + V + k] = 1;
          }
          x[row + k] = filled[k];
        }
      }
    });
    return {
      size: N, steps, features: F, x, timespans, lengths, task: "classify", targetMode: "last", y, targets: 1, numClasses: 2, targetMask: null,
      featureNames: [...PHYSIONET_VARIABLES, ...PHYSIONET_VARIABLES.map((v) => `${v}_observed`)],
      targetNames: ["In-hospital_death"],
    };
  };
  const split = trainTestSplit(records.length, 0.8, 42);
  return { train: build(split.train), test: build(split.test), records: records.length, deaths: labels.reduce((s, v) => s + v, 0) };
}
