import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { csvToDataset, predictionsByRow } from "../src/data/csv-dataset.js";
import { csvFileToDataset } from "../src/data/csv-file-dataset.js";
import { validateDataset } from "../src/data/dataset.js";
import { applyNormalization, checkNormalization, denormalizeTargets, meanStd, median } from "../src/data/normalization.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ncps-csv-dataset-test-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const close = (actual: ArrayLike<number>, expected: readonly number[], tol = 1e-5, what = "values") => {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
};

/** Population mean/std written out independently of the library. */
const stats = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return { m, s: Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length) };
};

// Two patients, rows interleaved and (for b) out of time order is tested separately; irregular gaps,
// missing feature and target cells.
const VITALS = `id,t,hr,spo2,temp
a,2024-01-01T00:00:00Z,60,98,36.0
b,2024-01-01T00:00:00Z,80,,37.0
a,2024-01-01T00:10:00Z,,97,36.5
b,2024-01-01T00:05:00Z,90,95,
a,2024-01-01T00:40:00Z,70,,37.0
b,2024-01-01T00:35:00Z,,96,38.0
`;

describe("csvToDataset: irregular vitals", () => {
  const r = csvToDataset(VITALS, "vitals.csv", { target: "temp", time: "t", sequence: "id" });
  const hr = stats([60, 70, 80, 90]);
  const spo2 = stats([98, 97, 95, 96]);
  const temp = stats([36, 36.5, 37, 37, 38]);

  test("shape, names and consistency", () => {
    validateDataset(r.train);
    assert.equal(r.train.size, 2);
    assert.equal(r.train.steps, 3);
    assert.equal(r.train.features, 4);
    assert.equal(r.train.lengths, null);
    assert.deepEqual(r.featureColumns, ["hr", "spo2"]);
    assert.deepEqual(r.featureNames, ["hr", "spo2", "hr_observed", "spo2_observed"]);
    assert.deepEqual(r.targetNames, ["temp"]);
    assert.equal(r.missingMask, true);
    assert.equal(r.targetMode, "per_step");
    assert.equal(r.valid, undefined);
  });

  test("elapsed times: gaps within each patient, divided by the median gap; first step = median", () => {
    // a: 0, 10 min, 40 min -> gaps 600, 1800; b: 0, 5 min, 35 min -> gaps 300, 1800; median 1200 s.
    assert.equal(r.normalization.timeScale, 1200);
    assert.equal(r.normalization.firstElapsed, 1200);
    close(r.train.timespans!, [1, 0.5, 1.5, 1, 0.25, 1.5]);
  });

  test("forward fill in scaled units, 0 before the first observation, masks appended", () => {
    const z = (v: number, s: { m: number; s: number }) => (v - s.m) / s.s;
    // prettier-ignore
    close(r.train.x, [
      z(60, hr), z(98, spo2), 1, 1,
      z(60, hr), z(97, spo2), 0, 1, // hr missing: carried from the previous step
      z(70, hr), z(97, spo2), 1, 0,
      z(80, hr), 0, 1, 0, //          spo2 not yet observed: 0 (the training mean)
      z(90, hr), z(95, spo2), 1, 1,
      z(90, hr), z(96, spo2), 0, 1,
    ], 1e-5, "x");
    assert.deepEqual(r.normalization.featureMean, [hr.m, spo2.m]);
    close(r.normalization.featureStd, [hr.s, spo2.s], 1e-12);
  });

  test("targets scaled; the empty target cell is unlabelled", () => {
    close(r.normalization.targetMean!, [temp.m], 1e-12);
    close(r.normalization.targetStd!, [temp.s], 1e-12);
    const z = (v: number) => (v - temp.m) / temp.s;
    close(r.train.y, [z(36), z(36.5), z(37), z(37), 0, z(38)], 1e-5, "y");
    assert.deepEqual([...r.train.targetMask!], [1, 1, 1, 1, 0, 1]);
    const back = denormalizeTargets([r.train.y[0], r.train.y[5]], r.normalization, 1);
    close(back, [36, 38], 1e-5);
  });

  test("row index: steps map back to data rows; every row to its own step", () => {
    assert.deepEqual([...r.rowIndex.train], [0, 2, 4, 1, 3, 5]);
    assert.deepEqual(r.rowIndex.lines, [2, 3, 4, 5, 6, 7]);
    assert.deepEqual([...r.rowIndex.ownerSplit], [0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...r.rowIndex.ownerStep], [0, 3, 1, 4, 2, 5]);
    // Outputs equal to "10 * step + 1" come back in file order.
    const out = Float32Array.from({ length: 6 }, (_, s) => 10 * s + 1);
    assert.deepEqual([...predictionsByRow(r, { train: out }, 1)], [1, 31, 11, 41, 21, 51]);
  });

  test("rows out of time order are sorted, with a warning", () => {
    const lines = VITALS.trim().split("\n");
    const shuffled = [lines[0], lines[5], lines[1], lines[2], lines[3], lines[4], lines[6]].join("\n");
    const warnings: string[] = [];
    const s = csvToDataset(shuffled, "v.csv", { target: "temp", time: "t", sequence: "id", onWarning: (m) => warnings.push(m) });
    close(s.train.timespans!, [1, 0.5, 1.5, 1, 0.25, 1.5]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /v\.csv: .*"a".*not in time order; sorted by "t"/);
    assert.deepEqual(s.warnings, warnings);
  });

  test("missingMask false drops the masks; auto adds none for complete data", () => {
    const noMask = csvToDataset(VITALS, "v.csv", { target: "temp", time: "t", sequence: "id", missingMask: false });
    assert.equal(noMask.train.features, 2);
    const complete = "t,x,y\n0,1,2\n1,2,3\n3,4,5\n";
    const c = csvToDataset(complete, "c.csv", { target: "y", time: "t" });
    assert.equal(c.missingMask, false);
    assert.deepEqual(c.featureNames, ["x"]);
    assert.equal(c.train.targetMask, null);
  });

  test("no time column: no timespans; normalize false keeps raw values", () => {
    const raw = csvToDataset(VITALS, "v.csv", { target: "temp", sequence: "id", features: ["hr"], normalize: false });
    assert.equal(raw.train.timespans, null);
    // File order within each patient; 0 only before the first observation.
    close(raw.train.x, [60, 1, 60, 0, 70, 1, 80, 1, 90, 1, 90, 0]);
    close(raw.train.y, [36, 36.5, 37, 37, 0, 38]);
  });
});

describe("csvToDataset: sequences of different lengths, windows, splits", () => {
  test("whole series padded to the longest, with lengths", () => {
    const csv = "s,v,y\np,1,10\nq,2,20\np,3,30\np,5,50\n";
    const r = csvToDataset(csv, "d.csv", { target: "y", sequence: "s", normalize: false });
    assert.equal(r.train.steps, 3);
    assert.deepEqual([...r.train.lengths!], [3, 1]);
    assert.deepEqual([...r.rowIndex.train], [0, 2, 3, 1, -1, -1]);
    close(r.train.x, [1, 3, 5, 2, 0, 0]);
    assert.equal(r.train.targetMask, null); // padding alone is described by lengths
  });

  const series = (n: number) => "t,v,y\n" + Array.from({ length: n }, (_, i) => `${i * 2},${i},${i * 10}`).join("\n") + "\n";

  test("windows with stride, plus a last window ending at the last row", () => {
    const r = csvToDataset(series(10), "w.csv", { target: "y", time: "t", window: 4, normalize: false, timeScale: 1 });
    // Starts 0 and 4; 8 + 2 rows remain, so one more window starts at 6.
    assert.equal(r.train.size, 3);
    assert.deepEqual([...r.rowIndex.train], [0, 1, 2, 3, 4, 5, 6, 7, 6, 7, 8, 9]);
    close(r.train.x, [0, 1, 2, 3, 4, 5, 6, 7, 6, 7, 8, 9]);
    // Only the series' first row lacks a gap; windows starting later keep their real gap (2).
    close(r.train.timespans!, [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    // Rows 8 and 9 are answered by window 2, steps 2 and 3; rows 6, 7 by window 1 (more history).
    assert.equal(r.rowIndex.ownerStep[8], 2 * 4 + 2);
    assert.equal(r.rowIndex.ownerStep[9], 2 * 4 + 3);
    assert.equal(r.rowIndex.ownerStep[6], 1 * 4 + 2);
  });

  test("overlapping windows: a row is answered by the first window covering it", () => {
    const r = csvToDataset(series(8), "w.csv", { target: "y", window: 4, stride: 2, normalize: false });
    assert.equal(r.train.size, 3); // starts 0, 2, 4
    assert.equal(r.rowIndex.ownerStep[3], 0 * 4 + 3);
    assert.equal(r.rowIndex.ownerStep[4], 1 * 4 + 2);
    assert.equal(r.rowIndex.ownerStep[7], 2 * 4 + 3);
    const out = Float32Array.from({ length: 12 }, (_, s) => s);
    assert.deepEqual([...predictionsByRow(r, { train: out }, 1)], [0, 1, 2, 3, 6, 7, 10, 11]);
  });

  test("a series shorter than the window is skipped with a warning; error when none fits", () => {
    const csv = "p,v,y\np1,1,1\np1,2,2\np1,3,3\np7,1,1\np7,2,2\n";
    const r = csvToDataset(csv, "d.csv", { target: "y", sequence: "p", window: 3 });
    assert.equal(r.train.size, 1);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0], /d\.csv: skipped 1 training sequence\(s\) shorter than --window 3: sequence "p7" \(2 rows\)/);
    assert.deepEqual([...r.rowIndex.ownerSplit], [0, 0, 0, -1, -1]);
    assert.throws(() => csvToDataset(csv, "d.csv", { target: "y", sequence: "p", window: 10 }), /d\.csv: no training sequence has at least 10 rows \(--window 10\): sequence "p1" has 3, sequence "p7" has 2/);
    const one = "p,v,y\np7,1,1\np7,2,2\np7,3,3\n";
    assert.throws(() => csvToDataset(one, "data.csv", { target: "y", sequence: "p", window: 10 }), /^Error: data\.csv: sequence "p7" has 3 rows, fewer than --window 10$/);
    assert.throws(() => csvToDataset("v,y\n1,2\n", "f.csv", { target: "y", window: 2 }), /f\.csv: the file has 1 data rows, fewer than --window 2/);
  });

  test("validation split by sequence: statistics from the training sequences only", () => {
    // Five sequences with very different levels, so train-only statistics differ from all-data ones.
    const rows: string[] = ["s,t,v,y"];
    const level: Record<string, number> = { s0: 0, s1: 100, s2: 200, s3: 300, s4: 400 };
    for (let i = 0; i < 4; i++) for (const s of Object.keys(level)) rows.push(`${s},${i * (1 + level[s] / 100)},${level[s] + i},${level[s] * 2 + i}`);
    const csv = rows.join("\n") + "\n";
    const r = csvToDataset(csv, "d.csv", { target: "y", time: "t", sequence: "s", validSplit: 0.4, seed: 3 });
    assert.equal(r.train.size, 3);
    assert.equal(r.valid!.size, 2);
    validateDataset(r.valid!, "valid");
    const seqOfRow = (row: number) => row % 5;
    const trainSeqs = new Set([...r.rowIndex.train].map(seqOfRow));
    const validSeqs = new Set([...r.rowIndex.valid!].map(seqOfRow));
    assert.equal(trainSeqs.size, 3);
    assert.equal(validSeqs.size, 2);
    assert.ok([...validSeqs].every((s) => !trainSeqs.has(s)));
    const dataRows = rows.slice(1).map((l) => l.split(","));
    const trainRows = dataRows.filter((_, i) => trainSeqs.has(seqOfRow(i)));
    const v = stats(trainRows.map((c) => Number(c[2])));
    const y = stats(trainRows.map((c) => Number(c[3])));
    close(r.normalization.featureMean, [v.m], 1e-9);
    close(r.normalization.featureStd, [v.s], 1e-9);
    close(r.normalization.targetMean!, [y.m], 1e-9);
    // Training gaps: 1 + level/100 for each training sequence, three per sequence.
    const gaps = [...trainSeqs].map((s) => 1 + s).sort((a, b) => a - b);
    assert.equal(r.normalization.timeScale, gaps[1]);
    // Validation inputs use the training statistics.
    const firstValidRow = r.rowIndex.valid![0];
    close([r.valid!.x[0]], [(Number(dataRows[firstValidRow][2]) - v.m) / v.s], 1e-4);
    // Every row is answered by the split that holds it.
    for (let row = 0; row < 20; row++) assert.equal(r.rowIndex.ownerSplit[row], trainSeqs.has(seqOfRow(row)) ? 0 : 1);
    // Same seed, same split; another seed, (here) another split.
    const again = csvToDataset(csv, "d.csv", { target: "y", time: "t", sequence: "s", validSplit: 0.4, seed: 3 });
    assert.deepEqual([...again.rowIndex.valid!], [...r.rowIndex.valid!]);
  });

  test("a single series is split in time: the last rows validate", () => {
    const r = csvToDataset(series(10), "w.csv", { target: "y", time: "t", validSplit: 0.3 });
    assert.deepEqual([...r.rowIndex.train], [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...r.rowIndex.valid!], [7, 8, 9]);
    const v = stats([0, 1, 2, 3, 4, 5, 6]);
    close(r.normalization.featureMean, [v.m], 1e-12);
    // The first validation step keeps its real gap to row 6 (2, the median gap -> 1).
    close(r.valid!.timespans!, [1, 1, 1]);
    assert.throws(() => csvToDataset(series(10), "w.csv", { target: "y", validSplit: 0.3, window: 4 }), /w\.csv: cannot split the file \(10 rows\) into training and validation parts of at least 4 row\(s\)/);
  });

  test("separate validation file; its rows are indexed in that file", () => {
    const trainFile = path.join(scratch, "train.csv");
    const validFile = path.join(scratch, "valid.csv");
    fs.writeFileSync(trainFile, "x,y\n1,2\n3,4\n5,6\n");
    fs.writeFileSync(validFile, "y,x\n8,7\n10,9\n");
    const r = csvFileToDataset(trainFile, { target: "y", validFile, normalize: false });
    close(r.valid!.x, [7, 9]);
    close(r.valid!.y, [8, 10]);
    assert.deepEqual([...r.rowIndex.valid!], [0, 1]);
    assert.deepEqual([...r.rowIndex.ownerSplit], [0, 0, 0]);
    assert.throws(() => csvFileToDataset(path.join(scratch, "nope.csv"), { target: "y" }), /nope\.csv: cannot read the CSV file/);
  });
});

describe("csvToDataset: classification", () => {
  test("string labels sorted; per-step labels; empty label = unlabelled", () => {
    const csv = "t,acc,activity\n0,0.1,walk\n1,0.9,run\n2,0.2,\n3,0.3,sit\n4,0.8,run\n";
    const r = csvToDataset(csv, "act.csv", { target: "activity", time: "t", task: "classify" });
    assert.deepEqual(r.classes, ["run", "sit", "walk"]);
    assert.equal(r.targetMode, "per_step");
    assert.equal(r.train.numClasses, 3);
    assert.deepEqual([...r.train.y], [2, 0, 0, 1, 0]);
    assert.deepEqual([...r.train.targetMask!], [1, 1, 0, 1, 1]);
    assert.equal(r.normalization.targetMean, undefined);
    validateDataset(r.train);
  });

  test("numeric labels sort numerically and 1 / 1.0 are one class", () => {
    const csv = "v,c\n1,10\n2,9\n3,1.0\n4,1\n";
    const r = csvToDataset(csv, "n.csv", { target: "c", task: "classify" });
    assert.deepEqual(r.classes, ["1", "9", "10"]);
    assert.deepEqual([...r.train.y], [2, 1, 0, 0]);
  });

  test("one label per sequence: sequence classification ('last'), label read at the last step", () => {
    const csv = "pid,t,v,died\np1,0,1,no\np2,0,5,yes\np1,1,2,no\np2,2,6,\np2,3,7,yes\n";
    const r = csvToDataset(csv, "icu.csv", { target: "died", time: "t", sequence: "pid", task: "classify" });
    assert.equal(r.targetMode, "last");
    assert.deepEqual(r.classes, ["no", "yes"]);
    assert.deepEqual([...r.train.y], [0, 1]);
    assert.deepEqual([...r.train.lengths!], [2, 3]);
    const perStep = csvToDataset(csv, "icu.csv", { target: "died", time: "t", sequence: "pid", task: "classify", targetMode: "per_step" });
    assert.deepEqual([...perStep.train.y], [0, 0, 0, 1, 0, 1]);
    assert.deepEqual([...perStep.train.targetMask!], [1, 1, 0, 1, 0, 1]);
  });

  test("a label in the validation file that training never saw is an error", () => {
    const train = "x,label\n1,cat\n2,dog\n";
    const valid = "x,label\n3,dog\n4,bird\n";
    assert.throws(
      () => csvToDataset(train, "train.csv", { target: "label", task: "classify", valid: { text: valid, fileName: "valid.csv" } }),
      /valid\.csv line 3, column "label": class "bird" does not occur in the training data \(classes: cat, dog\)/,
    );
  });

  test("a single class is an error; several target columns are refused", () => {
    assert.throws(() => csvToDataset("x,c\n1,a\n2,a\n", "one.csv", { target: "c", task: "classify" }), /one\.csv: column "c" has only 1 distinct value \("a"\); classification needs at least 2 classes/);
    assert.throws(() => csvToDataset("x,c,d\n1,a,b\n", "f.csv", { target: ["c", "d"], task: "classify" }), /classification takes one target column/);
  });
});

describe("csvToDataset: errors name file, line and column", () => {
  test("missing target column lists the columns", () => {
    assert.throws(() => csvToDataset("a,b,c\n1,2,3\n", "data.csv", { target: "temp" }), /^Error: data\.csv: no column "temp" \(columns: a, b, c\); --target names it$/);
    assert.throws(() => csvToDataset("a,b,c\n1,2,3\n", "data.csv", { target: "a", time: "when" }), /data\.csv: no column "when" \(columns: a, b, c\)/);
  });

  test("non-numeric feature cell", () => {
    const rows = ["t,pressure,y"];
    for (let i = 0; i < 20; i++) rows.push(`${i},${i === 15 ? "abc" : 1000 + i},${i}`);
    // The 16th data row is line 17 (the header is line 1).
    assert.throws(() => csvToDataset(rows.join("\n"), "data.csv", { target: "y", time: "t" }), /data\.csv line 17, column "pressure": expected a number, got "abc"/);
    assert.throws(() => csvToDataset("x,y\ninf,1\n", "i.csv", { target: "y" }), /i\.csv line 2, column "x": "inf" is not a finite number/);
  });

  test("empty file and header-only file", () => {
    assert.throws(() => csvToDataset("", "empty.csv", { target: "y" }), /empty\.csv: empty file/);
    assert.throws(() => csvToDataset("x,y\n", "head.csv", { target: "y" }), /head\.csv: no data rows \(the file has only a header\)/);
  });

  test("two rows of one sequence at the same time", () => {
    const csv = "id,t,x,y\na,2024-01-01T00:00:00Z,1,1\na,2024-01-01T00:00:00Z,2,2\n";
    assert.throws(
      () => csvToDataset(csv, "dup.csv", { target: "y", time: "t", sequence: "id", duplicateTimes: "error" }),
      /dup\.csv lines 2 and 3: sequence "a" has two rows at the same time \(column "t": "2024-01-01T00:00:00Z"\); pass --duplicate-times merge .* or --duplicate-times keep/,
    );
  });

  test("bad time and sequence cells, bad options", () => {
    assert.throws(() => csvToDataset("t,x,y\nyesterday,1,1\n", "t.csv", { target: "y", time: "t" }), /t\.csv line 2, column "t": expected a time \(a number, an ISO 8601 date-time .*\), got "yesterday"/);
    assert.throws(() => csvToDataset("s,x,y\n,1,1\n", "s.csv", { target: "y", sequence: "s" }), /s\.csv line 2, column "s": empty sequence id/);
    assert.throws(() => csvToDataset("x,y\n1,1\n", "o.csv", { target: "y", window: 0 }), /window must be an integer >= 1, got 0/);
    assert.throws(() => csvToDataset("x,y\n1,1\n", "o.csv", { target: "y" , validSplit: 0.5 }), /cannot split the file \(1 rows\)/);
    assert.throws(() => csvToDataset("y\n1\n", "o.csv", { target: "y" }), /o\.csv: no feature columns/);
  });
});

describe("reusing statistics (prediction data)", () => {
  test("given normalization, classes and missingMask; no target column needed", () => {
    const trained = csvToDataset(VITALS, "vitals.csv", { target: "temp", time: "t", sequence: "id" });
    const fresh = "id,t,hr,spo2\nc,2024-02-01T00:00:00Z,75,\nc,2024-02-01T00:20:00Z,,96.5\n";
    const r = csvToDataset(fresh, "new.csv", {
      target: "temp",
      time: "t",
      sequence: "id",
      normalization: trained.normalization,
      missingMask: true,
      allowMissingTarget: true,
    });
    // hr = 75 and spo2 = 96.5 are exactly the training means -> 0 after scaling.
    close(r.train.x, [0, 0, 1, 0, 0, 0, 0, 1]);
    close(r.train.timespans!, [1, 1]); // first = median (1200 s), then 1200 s / 1200
    assert.deepEqual([...r.train.targetMask!], [0, 0]);
    assert.deepEqual(r.normalization, trained.normalization);
  });

  test("applyNormalization, checkNormalization, meanStd, median", () => {
    const norm = checkNormalization(JSON.parse(JSON.stringify({ featureMean: [1], featureStd: [2], targetMean: [10], targetStd: [5], timeScale: 4 })));
    const ds = applyNormalization(
      { size: 1, steps: 2, features: 2, x: Float32Array.from([3, 1, NaN, 0]), timespans: Float32Array.from([4, 8]), lengths: null, task: "regress", targetMode: "per_step", y: Float32Array.from([20, NaN]), targets: 1, numClasses: 0, targetMask: Uint8Array.from([1, 0]) },
      norm,
    );
    close(ds.x, [1, 1, 0, 0]);
    close(ds.timespans!, [1, 2]);
    close(ds.y, [2, 0]);
    assert.throws(() => checkNormalization({ featureMean: [0], featureStd: [0] }, "model.json"), /model\.json: featureStd must be an array of positive finite numbers/);
    assert.deepEqual(meanStd([5, 5, 5]), { mean: 5, std: 1 });
    assert.equal(median([3, 1, 2, 10]), 2.5);
    assert.equal(median([]), undefined);
  });
});
