/**
 * Person activity (UCI "Localization Data for Person Activity"), per-time-step 7-class activity
 * recognition, prepared as the CfC paper's code does (raminmh/CfC duv_person_activity.py, adapted from
 * Rubanova et al.): per sequence (A01, A02, ...), times in .NET ticks re-based to the sequence's first
 * line and quantised to 10^5 ticks (10 ms; Python round, halves to even); a new step whenever the
 * quantised time changes; 4 tags x (x, y, z) = 12 values, several readings of one tag in one step
 * averaged, a per-value mask; the label of a step is the lowest of the 7 merged classes read in it
 * (the argmax of the paper's multi-hot label row)
 * (the paper's label list spells one activity "standing up from sit on grnd", so steps whose only
 * activity is "standing up from sitting on the ground" carry no label there, and none here either);
 * each sequence cut into windows of 50 steps with stride 25 (while offset + 50 < length), times
 * re-based per window; split by scikit-learn train_test_split(train_size=0.8, random_state=42).
 * Model input per step: the 12 values forward-filled (0 before the first reading), then the 12 mask
 * bits; timespans = the gap to the previous step (in 10 ms bins, 0 at the first) times `tau`. The file
 * is not sorted by time within a sequence, so the quantised time sometimes steps back (a new step, as in
 * the paper's code); such a step's gap, negative in the paper's code, is 0 here (the models take no
 * negative elapsed times).
 * Differences: the paper then bootstrap-resamples both sets with an unseeded np.random.choice, which
 * cannot be replayed; this loader keeps the split as it is.
 *
 * The data here is usually the PARTIAL third-party copy (first 16,480 of 164,860 lines; see
 * ../shared/data/person-activity-partial/SOURCE.md): results on it are not comparable with the paper's.
 * Portable: takes the text of the partial CSV or of the original ConfLongDemo_JSI.txt.
 */
import type { SequenceDataset } from "../dataset.js";
import { trainTestSplit } from "./split.js";

export const PERSON_TAGS = ["010-000-024-033", "010-000-030-096", "020-000-033-111", "020-000-032-221"] as const;
const TAG_INDEX = new Map<string, number>(PERSON_TAGS.map((t, i) => [t, i]));
/** The paper's label list and its merge into 7 classes. */
export const PERSON_CLASSES: Readonly<Record<string, number>> = {
  walking: 0, falling: 1, lying: 2, "lying down": 2, sitting: 3, "sitting down": 3, "standing up from lying": 4,
  "standing up from sitting": 4, "standing up from sit on grnd": 4, "on all fours": 5, "sitting on the ground": 6,
};
export const PERSON_CLASS_COUNT = 7;
export const PERSON_WINDOW = 50;

export interface PersonLine {
  readonly sequence: string;
  readonly tag: string;
  readonly ticks: number;
  readonly xyz: readonly [number, number, number];
  readonly activity: string;
}

const ACTIVITIES = new Set(["walking", "falling", "lying down", "lying", "sitting down", "sitting", "standing up from lying", "on all fours", "sitting on the ground", "standing up from sitting", "standing up from sitting on the ground"]);

function checkLine(l: PersonLine, where: string): PersonLine {
  if (!TAG_INDEX.has(l.tag)) throw new Error(`${where}: unknown tag ${JSON.stringify(l.tag)} (expected one of ${PERSON_TAGS.join(", ")})`);
  if (!Number.isFinite(l.ticks) || !l.xyz.every(Number.isFinite)) throw new Error(`${where}: expected numeric ticks and x, y, z`);
  if (!ACTIVITIES.has(l.activity)) throw new Error(`${where}: unknown activity ${JSON.stringify(l.activity)}`);
  return l;
}

/**
 * Lines of either layout: the original `A01,010-000-024-033,633790226051280329,27.05.2009
 * 14:03:25:127,x,y,z,walking`, or the partial copy's flattened CSV (header `,0,1,...,39`, then a row
 * number and 5 records of [index, sequence, tag, ticks, x, y, z, activity] per line).
 */
export function parsePersonLines(text: string, fileName: string): PersonLine[] {
  const rows = text.split("\n").map((l) => l.replace(/\r$/, ""));
  const out: PersonLine[] = [];
  const flattened = rows[0]?.startsWith(",0,1,2,");
  for (let n = flattened ? 1 : 0; n < rows.length; n++) {
    if (rows[n] === "") continue;
    const c = rows[n].split(",");
    const where = `${fileName}: line ${n + 1}`;
    if (flattened) {
      if ((c.length - 1) % 8 !== 0 || c.length < 9) throw new Error(`${where}: expected a row number and groups of 8 fields (index, sequence, tag, ticks, x, y, z, activity), got ${c.length} fields`);
      for (let g = 1; g < c.length; g += 8) {
        out.push(checkLine({ sequence: c[g + 1], tag: c[g + 2], ticks: Number(c[g + 3]), xyz: [Number(c[g + 4]), Number(c[g + 5]), Number(c[g + 6])], activity: c[g + 7] }, where));
      }
    } else {
      if (c.length !== 8) throw new Error(`${where}: expected 8 fields (sequence, tag, ticks, date, x, y, z, activity), got ${c.length}`);
      out.push(checkLine({ sequence: c[0], tag: c[1], ticks: Number(c[2]), xyz: [Number(c[4]), Number(c[5]), Number(c[6])], activity: c[7] }, where));
    }
  }
  if (out.length === 0) throw new Error(`${fileName}: no data lines`);
  return out;
}

interface Steps {
  times: number[];
  values: number[];
  mask: number[];
  labels: number[];
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Steps of each sequence, in file order. */
export function personSequences(lines: readonly PersonLine[]): Steps[] {
  const sequences: Steps[] = [];
  let current: Steps | null = null;
  let name: string | null = null;
  let first = 0;
  let prev = 0;
  let counts: number[] = [];
  const newStep = (s: Steps, t: number) => {
    s.times.push(t);
    for (let k = 0; k < 12; k++) s.values.push(0), s.mask.push(0);
    s.labels.push(-1);
    counts = [0, 0, 0, 0];
  };
  for (const l of lines) {
    if (l.sequence !== name) {
      name = l.sequence;
      current = { times: [], values: [], mask: [], labels: [] };
      sequences.push(current);
      newStep(current, 0);
      first = l.ticks;
      prev = 0;
    }
    const s = current!;
    const t = roundHalfEven((l.ticks - first) / 1e5);
    if (t !== prev) {
      newStep(s, t);
      prev = t;
    }
    const tag = TAG_INDEX.get(l.tag)!;
    const step = s.times.length - 1;
    const seen = counts[tag];
    for (let j = 0; j < 3; j++) {
      const at = step * 12 + tag * 3 + j;
      const f = Math.fround;
      s.values[at] = seen > 0 ? f(f(f(s.values[at] * seen) + f(l.xyz[j])) / (seen + 1)) : f(l.xyz[j]);
      s.mask[at] = 1;
    }
    counts[tag] = seen + 1;
    const cls = PERSON_CLASSES[l.activity];
    if (cls !== undefined && (s.labels[step] < 0 || cls < s.labels[step])) s.labels[step] = cls;
  }
  return sequences;
}

export interface PersonActivityData {
  train: SequenceDataset;
  test: SequenceDataset;
  windows: number;
}

export function buildPersonActivity(lines: readonly PersonLine[], tau: number): PersonActivityData {
  const W = PERSON_WINDOW;
  const windows: { s: Steps; offset: number }[] = [];
  for (const s of personSequences(lines)) {
    for (let offset = 0; offset + W < s.times.length; offset += W / 2) windows.push({ s, offset });
  }
  if (windows.length < 2) throw new Error(`person activity: only ${windows.length} windows of ${W} steps; the file is too short`);
  const build = (idx: number[]): SequenceDataset => {
    const N = idx.length;
    const x = new Float32Array(N * W * 24);
    const timespans = new Float32Array(N * W);
    const y = new Float32Array(N * W);
    const targetMask = new Uint8Array(N * W);
    idx.forEach((wi, i) => {
      const { s, offset } = windows[wi];
      const filled = new Float32Array(12);
      for (let t = 0; t < W; t++) {
        const src = offset + t;
        timespans[i * W + t] = t === 0 ? 0 : Math.max(0, s.times[src] - s.times[src - 1]) * tau;
        const row = (i * W + t) * 24;
        for (let k = 0; k < 12; k++) {
          if (s.mask[src * 12 + k]) {
            filled[k] = s.values[src * 12 + k];
            x[row + 12 + k] = 1;
          }
          x[row + k] = filled[k];
        }
        const label = s.labels[src];
        if (label >= 0) {
          y[i * W + t] = label;
          targetMask[i * W + t] = 1;
        }
      }
    });
    const names = PERSON_TAGS.flatMap((tag) => ["x", "y", "z"].map((a) => `${tag}_${a}`));
    return {
      size: N, steps: W, features: 24, x, timespans, lengths: null, task: "classify", targetMode: "per_step", y, targets: 1,
      numClasses: PERSON_CLASS_COUNT, targetMask, featureNames: [...names, ...names.map((n) => `${n}_observed`)], targetNames: ["activity"],
    };
  };
  const split = trainTestSplit(windows.length, 0.8, 42);
  return { train: build(split.train), test: build(split.test), windows: windows.length };
}
