/**
 * Long-format tables (one measurement per row, PhysioNet's record layout) pivoted to one column per
 * variable and one step per time (bin), with per-record outcomes joined on the record id.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { csvToDataset } from "../src/data/csv-dataset.js";
import { csvFileToDataset } from "../src/data/csv-file-dataset.js";
import { validateDataset } from "../src/data/dataset.js";
import { parseLongSpec } from "../src/data/long-format.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ncps-long-test-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const LONG = parseLongSpec("Time,Parameter,Value");

// Two records in PhysioNet's layout: a header, the RecordID row, descriptors at 00:00, then
// measurements; HR twice at 00:30 in record 7 (averaged), a missing value ("NA") in record 9.
const RECORD_7 = `Time,Parameter,Value
00:00,RecordID,7
00:00,Age,54
00:30,HR,70
00:30,HR,80
00:30,Temp,36.6
01:45,HR,90
`;
const RECORD_9 = `Time,Parameter,Value
00:00,RecordID,9
00:00,Age,71
00:10,Temp,NA
00:40,Temp,38
02:00,HR,60
`;
const OUTCOMES = "RecordID,SAPS-I,In-hospital_death\n9,20,1\n7,11,0\n5,30,1\n";

const inputs = (ds: { x: Float32Array; steps: number; features: number }, n: number, l: number): number[] =>
  Array.from(ds.x.subarray((n * ds.steps + l) * ds.features, (n * ds.steps + l + 1) * ds.features));

describe("long format", () => {
  const options = { target: "In-hospital_death", task: "classify" as const, long: LONG, id: "RecordID", outcomes: { text: OUTCOMES, fileName: "Outcomes.txt" }, normalize: false, timeScale: 1, firstElapsed: 1 };

  test("pivots to one column per variable (sorted) and one step per time; values of one step averaged", () => {
    const notes: string[] = [];
    const r = csvToDataset(RECORD_7 + RECORD_9, "records.txt", { ...options, onNote: (m) => notes.push(m) });
    validateDataset(r.train);
    assert.deepEqual(r.featureColumns, ["Age", "HR", "Temp"]);
    assert.deepEqual(r.sequenceIds, ["7", "9"]);
    assert.equal(r.targetMode, "last");
    assert.deepEqual(r.classes, ["0", "1"]);
    assert.deepEqual([...r.train.y], [0, 1]);
    assert.deepEqual([...r.train.lengths!], [3, 4]);
    // record 7: 00:00 Age 54; 00:30 HR mean(70, 80) = 75, Temp 36.6; 01:45 HR 90. [values | masks]
    assert.deepEqual(inputs(r.train, 0, 0), [54, 0, 0, 1, 0, 0]);
    assert.deepEqual(inputs(r.train, 0, 1).map((v) => Math.round(v * 10) / 10), [54, 75, 36.6, 0, 1, 1]);
    assert.deepEqual(inputs(r.train, 0, 2).map((v) => Math.round(v * 10) / 10), [54, 90, 36.6, 0, 1, 0]);
    // record 9: the NA Temp at 00:10 is a step with nothing observed.
    assert.deepEqual(inputs(r.train, 1, 1), [71, 0, 0, 0, 0, 0]);
    assert.deepEqual(inputs(r.train, 1, 3), [71, 60, 38, 0, 1, 0]);
    // elapsed times in seconds (durations count in seconds)
    assert.deepEqual([...r.train.timespans!.subarray(0, 3)], [1, 1800, 4500]);
    assert.deepEqual([...r.train.timespans!.subarray(4, 8)], [1, 600, 1800, 4800]);
    assert.ok(notes.some((n) => /Outcomes\.txt: 2 of 2 sequence\(s\) of records\.txt found in its 3 row\(s\) \(--id RecordID\)/.test(n)), notes.join("\n"));
    // Each input row is answered by its step; header and id rows by none.
    assert.equal(r.rowIndex.rowCount, 12);
    assert.deepEqual([...r.rowIndex.ownerStep], expectedOwners(r.train.steps));
  });

  test("--time-bin puts measurements of one interval in one step", () => {
    const r = csvToDataset(RECORD_7 + RECORD_9, "records.txt", { ...options, timeBin: "1h" });
    // record 7: bins 0 (Age, HR 70/80, Temp) and 1 (HR 90); record 9: bins 0 (Age, Temp 38) and 2 (HR 60)
    assert.equal(r.train.steps, 2);
    assert.equal(r.train.lengths, null);
    assert.deepEqual(inputs(r.train, 0, 0).map((v) => Math.round(v * 10) / 10), [54, 75, 36.6, 1, 1, 1]);
    assert.deepEqual(inputs(r.train, 1, 0), [71, 0, 38, 1, 0, 1]);
    assert.deepEqual([...r.train.timespans!], [1, 3600, 1, 7200]);
  });

  test("a directory of record files and one concatenated file give the same data", () => {
    const dir = path.join(scratch, "set");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "7.txt"), RECORD_7);
    fs.writeFileSync(path.join(dir, "9.txt"), RECORD_9);
    const outcomesFile = path.join(scratch, "Outcomes.txt");
    fs.writeFileSync(outcomesFile, OUTCOMES);
    const { outcomes: _, ...rest } = options;
    const fromDir = csvFileToDataset(dir, { ...rest, outcomesFile });
    const joined = path.join(scratch, "all.txt");
    fs.writeFileSync(joined, RECORD_7 + RECORD_9);
    const fromFile = csvFileToDataset(joined, { ...rest, outcomesFile });
    assert.deepEqual([...fromDir.train.x], [...fromFile.train.x]);
    assert.deepEqual([...fromDir.train.timespans!], [...fromFile.train.timespans!]);
    assert.deepEqual(fromDir.sequenceIds, ["7", "9"]);
    assert.deepEqual(fromDir.rowIndex.files, [...Array(6).fill(path.join(dir, "7.txt")), ...Array(5).fill(path.join(dir, "9.txt"))]);
    assert.deepEqual(Array.from(fromDir.rowIndex.lines), [2, 3, 4, 5, 6, 7, 2, 3, 4, 5, 6]);
    // Without --id, every file is one record named after the file.
    const byFile = csvFileToDataset(dir, { ...rest, id: undefined, outcomesFile: undefined, target: "HR", task: "regress" });
    assert.deepEqual(byFile.sequenceIds, ["7", "9"]);
    assert.ok(byFile.featureColumns.includes("RecordID"));
  });

  test("a sequence column, and a target that is one of the variables (per step)", () => {
    const tidy = "pid,t,var,val\na,0,x,1\na,0,y,10\nb,0,x,2\na,5,x,3\nb,3,y,20\nb,3,x,4\n";
    const r = csvToDataset(tidy, "tidy.csv", { target: "y", long: parseLongSpec("t,var,val"), sequence: "pid", normalize: false, timeScale: 1, firstElapsed: 1 });
    assert.deepEqual(r.featureColumns, ["x"]);
    assert.equal(r.targetMode, "per_step");
    assert.equal(r.train.steps, 2);
    assert.deepEqual([...r.train.y], [10, 0, 0, 20]);
    assert.deepEqual([...r.train.targetMask!], [1, 0, 0, 1]);
    assert.deepEqual([...r.train.timespans!], [1, 5, 1, 3]);
  });

  test("sequences without an outcome are unlabelled, with a warning; outcome rows without a sequence are ignored", () => {
    const warnings: string[] = [];
    const r = csvToDataset(RECORD_7 + RECORD_9, "records.txt", { ...options, task: "regress", outcomes: { text: "RecordID,In-hospital_death\n7,0\n8,1\n", fileName: "o.txt" }, onWarning: (m) => warnings.push(m) });
    assert.ok(warnings.some((w) => /records\.txt: 1 sequence\(s\) have no row in o\.txt \("9"\) and are unlabelled/.test(w)), warnings.join("\n"));
    assert.ok(warnings.some((w) => /dropped 1 training sequence\(s\) without any label/.test(w)));
    assert.equal(r.train.size, 1);
  });

  test("errors name the file, line, column, value and flag", () => {
    assert.throws(() => csvToDataset(RECORD_7, "r.txt", { ...options, long: parseLongSpec("Time,Name,Value") }), /^Error: r\.txt: no column "Name" \(columns: Time, Parameter, Value\); --long names it$/);
    assert.throws(() => csvToDataset(RECORD_7.replace("36.6", "36,6"), "r.txt", options), /r\.txt line 6: expected 3 fields, got 4/);
    assert.throws(() => csvToDataset(RECORD_7.replace("36.6", "high"), "r.txt", options), /^Error: r\.txt line 6, column "Value": "high" is not a number \(variable "Temp"\); pass --na-values to read it as missing$/);
    assert.throws(() => csvToDataset(RECORD_7 + RECORD_7, "r.txt", options), /r\.txt line 9, column "Value": record "7" appears twice \(first at r\.txt line 2, column "Value"\)/);
    assert.throws(() => csvToDataset(RECORD_7, "r.txt", { ...options, outcomes: { text: "RecordID,In-hospital_death\n7,0\n7,1\n", fileName: "o.txt" } }), /o\.txt line 3, column "RecordID": id "7" also on line 2/);
    assert.throws(() => csvToDataset(RECORD_7, "r.txt", { ...options, id: undefined }), /--outcomes needs --id COL/);
    assert.throws(() => csvToDataset(RECORD_7, "r.txt", { ...options, target: "died" }), /^Error: Outcomes\.txt: no column "died" \(columns: RecordID, SAPS-I, In-hospital_death\); --target names it$/);
    assert.throws(() => parseLongSpec("Time,Parameter"), /--long takes the names of the time, variable and value columns, e.g\. --long Time,Parameter,Value/);
    assert.throws(() => csvToDataset(RECORD_7.replace("01:45", "1.75"), "r.txt", options), /r\.txt line 7, column "Time": "1\.75" is a number, but the column's first time/);
  });
});

/** Owners of the 12 data rows of RECORD_7 + RECORD_9 read as one file (the second header is a data row). */
function expectedOwners(L: number): number[] {
  // RECORD_7 rows: RecordID(-1), Age(0), HR(1), HR(1), Temp(1), HR(2); header of RECORD_9 (-1);
  // RECORD_9 rows: RecordID(-1), Age(L), Temp NA (L+1), Temp (L+2), HR (L+3).
  return [-1, 0, 1, 1, 1, 2, -1, -1, L, L + 1, L + 2, L + 3];
}
