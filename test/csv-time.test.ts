/**
 * Time columns: every accepted way of writing a time, exact integers of any size, units, bins, sorting
 * and rows of one sequence at the same time (merge, keep, error).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { csvToDataset } from "../src/data/csv-dataset.js";
import { parseTimeBin, parseTimeExact, readTimeColumn } from "../src/data/time-parse.js";

const column = (cells: (string | undefined)[], unit?: "s" | "ms" | "us" | "ns" | "min" | "h" | "d") =>
  readTimeColumn(cells.length, (i) => cells[i], (i) => `t.csv line ${i + 2}, column "t"`, unit ? { unit } : {});

/** Elapsed times between consecutive cells of a column. */
const gaps = (cells: string[], unit?: "s" | "ms" | "us" | "ns" | "min" | "h" | "d"): number[] => {
  const c = column(cells, unit);
  return cells.slice(1).map((_, i) => c.elapsed(i, i + 1));
};

describe("time cells", () => {
  test("ISO 8601 with and without zone, with fractional seconds, date only", () => {
    // Expected values from Date.UTC, independently of the parser.
    const s = (ms: number) => ms / 1000;
    assert.deepEqual(gaps(["2012-10-02T09:00:00Z", "2012-10-02 10:30:00", "2012-10-02T10:30:00.25+00:00", "2012-10-02T12:30:00.75+02:00"]), [
      s(Date.UTC(2012, 9, 2, 10, 30) - Date.UTC(2012, 9, 2, 9)),
      0.25,
      0.5,
    ]);
    assert.deepEqual(gaps(["2020-02-28", "2020-03-01"]), [2 * 86400]);
    assert.deepEqual(gaps(["2021-06-01T00:00:00.000000001Z", "2021-06-01T00:00:00.000000003Z"]), [2e-9]);
    const t = parseTimeExact("2012-10-02T09:00:00.5-05:30", "w");
    assert.equal(t.format, "datetime");
    assert.equal(Number(t.int) / 10 ** t.scale, Date.UTC(2012, 9, 2, 14, 30) / 1000 + 0.5);
  });

  test("durations: HH:MM, HH:MM:SS(.fff), D days HH:MM:SS; hours past 24", () => {
    assert.deepEqual(gaps(["00:00", "00:07", "01:30", "47:59", "48:00"]), [7 * 60, 83 * 60, (46 * 60 + 29) * 60, 60]);
    assert.deepEqual(gaps(["12:30:15", "12:30:15.5", "1 days 00:00:00", "2 days 01:00:00", "3 day, 01:00:01"]), [0.5, 86400 - (12 * 3600 + 30 * 60 + 15.5), 86400 + 3600, 86401]);
    assert.equal(parseTimeExact("05:07", "w").format, "duration");
    assert.throws(() => parseTimeExact("12:61", "t.csv line 4, column \"t\""), /t\.csv line 4, column "t": invalid minutes in time "12:61"/);
  });

  test("numbers: decimals, exponents, negative; in the file's unit unless --time-unit", () => {
    assert.deepEqual(gaps(["-1.5", "0", "2.5e1", "1e2"]), [1.5, 25, 75]);
    assert.deepEqual(gaps(["0", "1500", "4500"], "ms"), [1.5, 3]);
    assert.deepEqual(gaps(["0", "2"], "min"), [120]);
    assert.deepEqual(gaps(["0", "1"], "d"), [86400]);
    assert.deepEqual(gaps(["1000", "3000"], "us"), [0.002]);
    assert.deepEqual(gaps(["5", "7"], "ns"), [2e-9]);
  });

  test("integers above 2^53 are exact: neighbours differ by 1, and sort correctly", () => {
    // 633790226051280329 (.NET ticks from the person-activity data) is far above 2^53 ~ 9.007e15,
    // where float64 cannot tell consecutive integers apart.
    const a = "633790226051280329";
    const b = "633790226051280330";
    assert.equal(Number(a), Number(b)); // the float rounding the exact reader must avoid
    const c = column([b, a, "633790226051280331"]);
    assert.equal(c.elapsed(1, 0), 1);
    assert.equal(c.elapsed(1, 2), 2);
    assert.ok(c.compare(1, 0) < 0 && c.compare(0, 2) < 0);
    // 2^64 + 1 and 2^64 + 2: beyond 64-bit integers too.
    const big = column(["18446744073709551617", "18446744073709551618"]);
    assert.equal(big.elapsed(0, 1), 1);
    // A long decimal fraction on a large value keeps its last digit.
    assert.equal(column(["1700000000.000000001", "1700000000.000000002"]).elapsed(0, 1), 1e-9);
  });

  test("one format per column; --time-unit only for numbers; missing and malformed times are errors", () => {
    assert.throws(() => column(["1", "2012-10-02"]), /t\.csv line 3, column "t": "2012-10-02" is an ISO 8601 date-time, but the column's first time \("1" at t\.csv line 2, column "t"\) is a number/);
    assert.throws(() => column(["2012-10-02", "2012-10-03"], "ms"), /t\.csv line 2, column "t": --time-unit ms applies to numeric times, but the column holds an ISO 8601 date-time .*drop --time-unit/);
    assert.throws(() => column(["1", undefined]), /t\.csv line 3, column "t": missing time value/);
    assert.throws(() => column(["soon"]), /t\.csv line 2, column "t": expected a time \(a number, an ISO 8601 date-time .*\), got "soon"/);
    assert.throws(() => column(["2012-13-01"]), /invalid month/);
  });

  test("--time-bin rounds down to multiples of the width", () => {
    const c = column(["00:00", "00:59", "01:00", "02:30", "49:59"]).binned(parseTimeBin("1h"));
    assert.deepEqual([0, 1, 2, 3].map((i) => c.elapsed(i, i + 1)), [0, 3600, 3600, 47 * 3600]);
    const ms = column(["0", "1999", "2000", "5001"], "ms").binned(parseTimeBin("2s"));
    assert.deepEqual([0, 1, 2].map((i) => ms.elapsed(i, i + 1)), [0, 2, 2]);
    const plain = column(["-3", "-1", "4"]).binned(parseTimeBin("5"));
    assert.deepEqual([0, 1].map((i) => plain.elapsed(i, i + 1)), [0, 5]);
    assert.throws(() => column(["1", "2"]).binned(parseTimeBin("1h")), /--time-bin 3600 s is a duration, but the times are plain numbers of unknown unit: give --time-unit/);
    assert.throws(() => parseTimeBin("soon"), /--time-bin must be a width such as 30min, 1h/);
    for (const [text, seconds] of [["30min", 1800], ["15s", 15], ["1d", 86400], ["500ms", 0.5], ["01:30", 5400], ["2.5h", 9000]] as const) {
      const w = parseTimeBin(text);
      assert.equal(Number(w.int) / 10 ** w.scale, seconds, text);
    }
  });
});

describe("time order and rows at the same time", () => {
  // Sequence a: three rows at 00:10 (one with a missing x), out of order; sequence b: two rows at one time.
  const CSV = `id,t,x,mode,y
a,00:20,4,bus,40
a,00:10,1,car,10
a,00:00,0,car,0
a,00:10,,bus,NA
a,00:10,3,,20
b,00:05,7,car,1
b,00:05,9,bus,3
`;

  test("merge (default): numbers averaged over present cells, text and targets likewise; one step per time", () => {
    const notes: string[] = [];
    const warnings: string[] = [];
    const r = csvToDataset(CSV, "d.csv", { target: "y", time: "t", sequence: "id", normalize: false, timeScale: 1, firstElapsed: 1, onNote: (m) => notes.push(m), onWarning: (m) => warnings.push(m) });
    assert.deepEqual(r.featureColumns, ["x", "mode"]);
    assert.deepEqual(r.featureNames.slice(0, 3), ["x", "mode=bus", "mode=car"]);
    assert.deepEqual([...(r.train.lengths ?? [])], [3, 1]);
    // a: 00:00 (x 0, car, y 0); 00:10 (x mean(1, 3) = 2, mode last present = "bus" of line 5, y mean(10, 20) = 15); 00:20.
    const W = r.train.features;
    const step = (n: number, l: number) => Array.from(r.train.x.subarray((n * r.train.steps + l) * W, (n * r.train.steps + l) * W + 3));
    assert.deepEqual(step(0, 0), [0, 0, 1]);
    assert.deepEqual(step(0, 1), [2, 1, 0]);
    assert.deepEqual(step(0, 2), [4, 1, 0]);
    assert.deepEqual(step(1, 0), [8, 1, 0]);
    assert.deepEqual([...r.train.y.subarray(0, 3)], [0, 15, 40]);
    assert.equal(r.train.y[r.train.steps], 2);
    assert.deepEqual([...r.train.timespans!.subarray(0, 3)], [1, 600, 600]);
    assert.ok(notes.some((n) => /d\.csv: merged 3 row\(s\) that repeat a time of their sequence into 2 step\(s\)/.test(n)), notes.join("\n"));
    assert.ok(warnings.some((w) => /not in time order/.test(w)));
    // Every input row is answered by its merged step: rows 2, 4, 5 (0-based 1, 3, 4) share step 1 of a.
    const L = r.train.steps;
    assert.deepEqual([...r.rowIndex.ownerStep], [2, 1, 0, 1, 1, L, L]);
  });

  test("keep: rows at one time stay separate steps with zero elapsed time, in file order", () => {
    const notes: string[] = [];
    const r = csvToDataset(CSV, "d.csv", { target: "y", time: "t", sequence: "id", normalize: false, timeScale: 1, firstElapsed: 1, duplicateTimes: "keep", onNote: (m) => notes.push(m) });
    assert.deepEqual([...(r.train.lengths ?? [])], [5, 2]);
    assert.deepEqual([...r.train.timespans!.subarray(0, 5)], [1, 600, 0, 0, 600]);
    assert.deepEqual([...r.rowIndex.train.subarray(0, 5)], [2, 1, 3, 4, 0]);
    assert.ok(notes.some((n) => /kept 3 row\(s\) at the same time/.test(n)));
  });

  test("error: names the file, both lines, the time and the flags", () => {
    assert.throws(
      () => csvToDataset(CSV, "d.csv", { target: "y", time: "t", sequence: "id", duplicateTimes: "error" }),
      /^Error: d\.csv lines 3 and 5: sequence "a" has two rows at the same time \(column "t": "00:10"\); pass --duplicate-times merge to average them into one step, or --duplicate-times keep/,
    );
  });

  test("big integer times one apart are separate steps, elapsed 1", () => {
    const csv = "t,x,y\n633790226051280330,2,2\n633790226051280329,1,1\n633790226051280331,3,3\n";
    const r = csvToDataset(csv, "ticks.csv", { target: "y", time: "t", normalize: false, timeScale: 1, firstElapsed: 5 });
    assert.equal(r.train.steps, 3);
    assert.deepEqual([...r.train.timespans!], [5, 1, 1]);
    assert.deepEqual([...r.train.x], [1, 2, 3]);
    assert.deepEqual([...r.rowIndex.ownerStep], [1, 0, 2]);
  });

  test("--time-bin merges rows of one interval", () => {
    const csv = "t,x,y\n2024-01-01T00:10:00Z,1,1\n2024-01-01T00:50:00Z,3,3\n2024-01-01T01:20:00Z,5,5\n2024-01-01T03:00:00Z,7,7\n";
    const r = csvToDataset(csv, "b.csv", { target: "y", time: "t", normalize: false, timeScale: 1, firstElapsed: 1, timeBin: "1h" });
    assert.deepEqual([...r.train.x], [2, 5, 7]);
    assert.deepEqual([...r.train.timespans!], [1, 3600, 7200]);
    assert.throws(() => csvToDataset(csv, "b.csv", { target: "y", timeBin: "1h" }), /--time-bin needs a time column: --time COL/);
  });
});
