/**
 * `ncps train / eval / predict` end to end on generated files as real data comes: text columns and
 * targets, missing-value tokens, duplicate times, every way of writing a time, rows out of order, a
 * semicolon separator and long-format records. Predictions always come back one per input row, in
 * input order (one per record for per-record outcomes).
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { cli } from "./helpers/cli.js";
import { detectSeparator, parseCsv } from "../src/io/csv.js";
import { loadCheckpoint } from "../src/train/checkpoint-file.js";
import { TestRng } from "./helpers/gradcheck.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "ncps-cli-data-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const SMALL = ["--units", "8", "--backbone-units", "16", "--epochs", "2", "--batch", "16", "--seed", "1"];

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Trains on `file`, predicts on `predictOn` and checks one output row per input row, in input order. */
async function trainAndPredict(file: string, trainArgs: string[], predictOn = file): Promise<{ model: string; train: string; predictErr: string; pred: ReturnType<typeof parseCsv> }> {
  const model = file.replace(/\.[a-z]+$/, "") + ".safetensors";
  const t = await cli("train", file, ...trainArgs, ...SMALL, "--out", model);
  assert.equal(t.code, 0, t.err);
  const out = predictOn.replace(/\.[a-z]+$/, "") + ".pred.csv";
  const p = await cli("predict", model, predictOn, "--out", out);
  assert.equal(p.code, 0, p.err);
  const text = readFileSync(predictOn, "utf8");
  const input = parseCsv(text, predictOn, { separator: detectSeparator(text), trimColumnNames: true });
  const pred = parseCsv(readFileSync(out, "utf8"), out);
  assert.deepEqual(pred.header.slice(0, input.header.length), input.header);
  assert.equal(pred.rows.length, input.rows.length, "one prediction row per input row");
  pred.rows.forEach((row, r) => assert.deepEqual(row.slice(0, input.header.length), input.rows[r], `row ${r} in input order`));
  return { model, train: t.err, predictErr: p.err, pred };
}

/** Series of a sensor whose reading depends on a text "mode" column; labels are text. */
function modeCsv(seed: number, series: number, rows: number, modes: readonly string[], sep = ","): string {
  const rng = new TestRng(seed);
  const lines = [["unit", "t", "mode", "load", "state"].join(sep)];
  for (let q = 0; q < series; q++) {
    let t = Date.UTC(2026, 2, 1) / 1000 + q * 11;
    for (let k = 0; k < rows; k++) {
      t += 30 + Math.floor(rng.range(0, 90));
      const mode = modes[Math.floor(rng.range(0, modes.length))];
      const load = rng.range(0, 1);
      // The state is "busy" exactly when the mode is "bus" or "tram": learnable only from the text column.
      const state = mode === "bus" || mode === "tram" ? "busy" : "idle";
      lines.push([`u${q}`, new Date(t * 1000).toISOString(), mode, load.toFixed(3), state].join(sep));
    }
  }
  return lines.join("\n") + "\n";
}

describe("text columns", () => {
  test("a text feature and a text target train; the vocabulary is stored; an unseen category predicts with a warning", async () => {
    const file = write("modes.csv", modeCsv(1, 12, 30, ["car", "bus", "bike", "tram"]));
    const model = path.join(dir, "modes.safetensors");
    const t = await cli("train", file, "--target", "state", "--task", "classify", "--time", "t", "--sequence", "unit", "--target-mode", "per_step", "--units", "8", "--backbone-units", "16", "--epochs", "15", "--batch", "4", "--lr", "0.02", "--seed", "2", "--out", model);
    assert.equal(t.code, 0, t.err);
    assert.match(t.err, /column "mode" is text: one-hot encoded/);
    const { extras } = loadCheckpoint(model);
    const prep = extras.data as { categorical: { column: string; values: string[] }[]; classes: string[] };
    assert.deepEqual(prep.categorical, [{ column: "mode", values: ["bike", "bus", "car", "tram"] }]);
    assert.deepEqual(prep.classes, ["busy", "idle"]);
    assert.deepEqual(extras.feature_names, ["mode=bike", "mode=bus", "mode=car", "mode=tram", "load"]);
    const e = await cli("eval", model, file, "--json");
    assert.equal(e.code, 0, e.err);
    assert.ok(JSON.parse(e.out).metrics.accuracy > 0.9, e.out);

    // New data with a mode never seen in training: a warning, not a failure.
    const fresh = write("modes-new.csv", modeCsv(3, 3, 10, ["car", "ferry", "bus"]));
    const out = path.join(dir, "modes-new.pred.csv");
    const p = await cli("predict", model, fresh, "--out", out);
    assert.equal(p.code, 0, p.err);
    const ferries = fresh.length > 0 ? readFileSync(fresh, "utf8").split("\n").filter((l) => l.includes(",ferry,")).length : 0;
    assert.ok(ferries > 0);
    assert.match(p.err, new RegExp(`warning: .*modes-new\\.csv: column "mode": ${ferries} step\\(s\\) hold values not seen in training \\("ferry" x${ferries}\\), encoded as all zeros`));
    const pred = parseCsv(readFileSync(out, "utf8"), out);
    assert.deepEqual(pred.header.slice(-3), ["prob_busy", "prob_idle", "pred_state"]);
    assert.equal(pred.rows.length, 30);
    const ev = await cli("eval", model, fresh);
    assert.equal(ev.code, 0, ev.err);
    assert.match(ev.err, /warning: .*column "mode": \d+ step\(s\) hold values not seen in training/);
  });

  test("a semicolon-separated file with untidy names reads like a comma-separated one", async () => {
    const text = modeCsv(4, 4, 12, ["car", "bus"], ";").replace("unit;t;mode", " unit ; t ; mode ");
    const file = write("semi.csv", text);
    const r = await trainAndPredict(file, ["--target", "state", "--task", "classify", "--time", "t", "--sequence", "unit"]);
    assert.deepEqual(r.pred.header, ["unit", "t", "mode", "load", "state", "prob_busy", "prob_idle", "pred_state"]);
    const sep = await cli("train", write("pipe.csv", text.replaceAll(";", "|")), "--target", "state", "--task", "classify", "--sep", "|", "--time", "t", "--sequence", "unit", ...SMALL, "--out", path.join(dir, "pipe.safetensors"));
    assert.equal(sep.code, 0, sep.err);
  });
});

describe("missing cells and times", () => {
  test("every missing-value token, in features, text and targets", async () => {
    const tokens = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "?"];
    const lines = ["id,t,a,kind,y"];
    for (let q = 0; q < 4; q++) {
      for (let k = 0; k < 20; k++) {
        const token = tokens[(q * 20 + k) % tokens.length];
        const holeA = k % 4 === 1;
        const holeKind = k % 5 === 2;
        const holeY = k % 7 === 3;
        lines.push([`s${q}`, String(k * 2 + q), holeA ? token : (k / 10).toFixed(2), holeKind ? token : k % 2 ? "up" : "down", holeY ? token : String(k)].join(","));
      }
    }
    const file = write("holes.csv", lines.join("\n") + "\n");
    const r = await trainAndPredict(file, ["--target", "y", "--time", "t", "--sequence", "id"]);
    const { extras } = loadCheckpoint(r.model);
    assert.deepEqual(extras.feature_names, ["a", "kind=down", "kind=up", "a_observed", "kind=down_observed", "kind=up_observed"]);
  });

  test("rows out of time order and at the same time: merge (default), keep, error", async () => {
    const rng = new TestRng(7);
    const lines = ["dev,t,x,y"];
    for (let q = 0; q < 3; q++) for (let k = 0; k < 15; k++) lines.push(`d${q},${k % 5 === 4 ? k - 1 : k},${rng.range(0, 1).toFixed(3)},${k}`);
    // shuffle the data rows so files are out of order
    const body = lines.slice(1);
    for (let i = body.length - 1; i > 0; i--) {
      const j = Math.floor(rng.range(0, i + 1));
      [body[i], body[j]] = [body[j], body[i]];
    }
    const file = write("dups.csv", [lines[0], ...body].join("\n") + "\n");
    const merged = await trainAndPredict(file, ["--target", "y", "--time", "t", "--sequence", "dev"]);
    // k = 4, 9, 14 repeat the time of k = 3, 8, 13 in each of 3 devices
    assert.match(merged.train, /merged 9 row\(s\) that repeat a time of their sequence into 9 step\(s\)/);
    assert.match(merged.train, /were not in time order; sorted by "t"/);
    // The merged rows share one prediction.
    const pred = merged.pred;
    const byKey = new Map<string, string>();
    for (const row of pred.rows) {
      const key = `${row[0]}@${row[1]}`;
      if (byKey.has(key)) assert.equal(row[4], byKey.get(key));
      byKey.set(key, row[4]);
    }
    const keep = await trainAndPredict(file, ["--target", "y", "--time", "t", "--sequence", "dev", "--duplicate-times", "keep"]);
    assert.match(keep.train, /kept 9 row\(s\) at the same time as the row before, with zero elapsed time/);
    const out = path.join(dir, "dups-error.safetensors");
    const e = await cli("train", file, "--target", "y", "--time", "t", "--sequence", "dev", "--duplicate-times", "error", ...SMALL, "--out", out);
    assert.equal(e.code, 1);
    assert.match(e.err, /dups\.csv lines \d+ and \d+: sequence "d\d" has two rows at the same time \(column "t": "\d+"\); pass --duplicate-times merge to average them into one step, or --duplicate-times keep/);
    assert.ok(!existsSync(out));
  });

  test("every way of writing a time trains and predicts row for row", async () => {
    const n = 40;
    const big = 633790226051280329n;
    const formats: Record<string, { cell: (k: number) => string; args?: string[] }> = {
      isoZ: { cell: (k) => new Date(Date.UTC(2024, 0, 1) + k * 61_000).toISOString() },
      isoLocal: { cell: (k) => new Date(Date.UTC(2024, 0, 1) + k * 3_600_000).toISOString().replace("T", " ").replace(".000Z", "") },
      isoOffset: { cell: (k) => `2024-05-06T${String(10 + Math.floor(k / 10)).padStart(2, "0")}:${String((k % 10) * 6).padStart(2, "0")}:00.5+02:00` },
      ms: { cell: (k) => String(1_700_000_000_000 + k * 1500), args: ["--time-unit", "ms"] },
      hhmm: { cell: (k) => `${String(Math.floor((k * 7) / 60)).padStart(2, "0")}:${String((k * 7) % 60).padStart(2, "0")}` },
      hhmmss: { cell: (k) => `00:${String(Math.floor(k / 2)).padStart(2, "0")}:${String((k % 2) * 30).padStart(2, "0")}.25` },
      days: { cell: (k) => `${Math.floor(k / 24)} days ${String(k % 24).padStart(2, "0")}:00:00` },
      // .NET ticks above 2^53 that differ by 1: must stay distinct steps
      ticks: { cell: (k) => String(big + BigInt(k)) },
    };
    for (const [name, f] of Object.entries(formats)) {
      const lines = ["t,x,y"];
      for (let k = 0; k < n; k++) lines.push(`${f.cell(k)},${Math.sin(k / 3).toFixed(3)},${Math.cos(k / 3).toFixed(3)}`);
      const file = write(`time-${name}.csv`, lines.join("\n") + "\n");
      const r = await trainAndPredict(file, ["--target", "y", "--time", "t", "--window", "10", ...(f.args ?? [])]);
      assert.doesNotMatch(r.train, /merged/, `${name}: no two rows share a time`);
      assert.match(r.train, /CfC with \d+ parameters; 4 training sequences of 10 steps/, name);
      assert.ok(r.pred.rows.every((row) => row[3] !== ""), `${name}: every row predicted`);
    }
  });
});

describe("long format and per-record outcomes", () => {
  /** PhysioNet-style record files: the outcome is 1 when the record's HR runs high. */
  function records(count: number, seed: number): { dir: string; outcomes: string } {
    const rng = new TestRng(seed);
    const d = path.join(dir, `records-${seed}`);
    mkdirSync(d);
    const outcome = ["RecordID,Length_of_stay,In-hospital_death"];
    for (let i = 0; i < count; i++) {
      const id = 1000 + i;
      const high = i % 2 === 0;
      const lines = ["Time,Parameter,Value", `00:00,RecordID,${id}`, `00:00,Age,${40 + (i % 30)}`, `00:00,Weight,${i % 3 === 0 ? -1 : 60 + i}`]; // -1: PhysioNet's "not measured"
      let minute = 0;
      for (let k = 0; k < 12; k++) {
        minute += 20 + Math.floor(rng.range(0, 50));
        const time = `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
        lines.push(`${time},HR,${((high ? 110 : 70) + rng.range(-8, 8)).toFixed(0)}`);
        if (k % 3 === 0) lines.push(`${time},Temp,${(36.5 + rng.range(0, 1.5)).toFixed(1)}`);
        if (k % 4 === 1) lines.push(`${time},MAP,${k === 5 ? "NA" : (85 + rng.range(-10, 10)).toFixed(1)}`);
      }
      writeFileSync(path.join(d, `${id}.txt`), lines.join("\n") + "\n");
      outcome.push(`${id},${5 + (i % 9)},${high ? 1 : 0}`);
    }
    const outcomes = path.join(dir, `Outcomes-${seed}.txt`);
    writeFileSync(outcomes, outcome.join("\n") + "\n");
    return { dir: d, outcomes };
  }

  test("a directory of record files trains with one command; eval needs the outcomes; predict writes one row per record", async () => {
    const { dir: recs, outcomes } = records(24, 5);
    const model = path.join(dir, "icu.safetensors");
    const args = ["--long", "Time,Parameter,Value", "--id", "RecordID", "--outcomes", outcomes, "--target", "In-hospital_death", "--task", "classify", "--time-bin", "1h", "--na-values", "NA,-1"];
    const t = await cli("train", recs, ...args, "--units", "8", "--backbone-units", "16", "--epochs", "25", "--batch", "8", "--lr", "0.02", "--seed", "3", "--out", model);
    assert.equal(t.code, 0, t.err);
    assert.match(t.err, /24 of 24 sequence\(s\) .* found in its 24 row\(s\) \(--id RecordID\)/);
    const { extras } = loadCheckpoint(model);
    const prep = extras.data as Record<string, unknown>;
    assert.deepEqual(prep.features, ["Age", "HR", "MAP", "Temp", "Weight"]);
    assert.deepEqual(prep.long, { time: "Time", variable: "Parameter", value: "Value" });
    assert.equal(prep.timeBin, "1h");
    const noOutcomes = await cli("eval", model, recs);
    assert.equal(noOutcomes.code, 2);
    assert.match(noOutcomes.err, /trained with targets from an outcomes file joined on RecordID: pass --outcomes FILE/);
    const e = await cli("eval", model, recs, "--outcomes", outcomes, "--json");
    assert.equal(e.code, 0, e.err);
    assert.ok(JSON.parse(e.out).metrics.accuracy > 0.9, e.out);
    const p = await cli("predict", model, recs);
    assert.equal(p.code, 0, p.err);
    const pred = parseCsv(p.out, "stdout");
    assert.deepEqual(pred.header, ["RecordID", "prob_0", "prob_1", "pred_In-hospital_death"]);
    assert.deepEqual(pred.rows.map((r) => r[0]), Array.from({ length: 24 }, (_, i) => String(1000 + i)));
    const correct = pred.rows.filter((r, i) => (Number(r[2]) > 0.5) === (i % 2 === 0)).length;
    assert.ok(correct >= 22, `${correct} of 24 records classified correctly`);
  });

  test("long format without outcomes predicts one row per input row, with the file of each row", async () => {
    const { dir: recs } = records(4, 6);
    const model = path.join(dir, "hr.safetensors");
    const t = await cli("train", recs, "--long", "Time,Parameter,Value", "--id", "RecordID", "--target", "HR", "--features", "Age,Temp,MAP", ...SMALL, "--out", model);
    assert.equal(t.code, 0, t.err);
    const p = await cli("predict", model, recs);
    assert.equal(p.code, 0, p.err);
    const pred = parseCsv(p.out, "stdout");
    assert.deepEqual(pred.header, ["file", "Time", "Parameter", "Value", "pred_HR"]);
    const files = ["1000", "1001", "1002", "1003"].map((id) => path.join(recs, `${id}.txt`));
    const expectedRows = files.flatMap((f) => parseCsv(readFileSync(f, "utf8"), f).rows.map((row) => [f, ...row]));
    assert.deepEqual(pred.rows.map((r) => r.slice(0, 4)), expectedRows);
    // The RecordID rows are not measurements, and Weight is neither a feature nor the target: no prediction.
    pred.rows.forEach((r) => assert.equal(r[4] === "", r[2] === "RecordID" || r[2] === "Weight", r.join(",")));
  });
});

describe("bad data flags are refused with the flag and the expected values", () => {
  const file = write("flags.csv", "t,x,y\n0,1,1\n1,2,2\n2,3,3\n");
  const cases: [string[], RegExp][] = [
    [["--duplicate-times", "average"], /--duplicate-times must be one of merge, keep, error, got 'average'/],
    [["--time-unit", "weeks"], /--time-unit must be one of s, ms, us, ns, min, h, d, got 'weeks'/],
    [["--sep", "::"], /--sep must be one character \(or tab\), got '::'/],
    [["--long", "a,b"], /--long takes the names of the time, variable and value columns/],
    [["--categorical", "z"], /flags\.csv: --categorical z: "z" is not one of the feature columns \(x\)/],
    [["--outcomes", "o.csv"], /--outcomes needs --id COL/],
    [["--time-bin", "soon"], /--time-bin must be a width such as 30min, 1h/],
  ];
  for (const [flags, message] of cases) {
    test(flags.join(" "), async () => {
      const out = path.join(dir, "flags.safetensors");
      const r = await cli("train", file, "--target", "y", "--time", "t", ...flags, ...SMALL, "--out", out);
      assert.notEqual(r.code, 0);
      assert.match(r.err, message);
      assert.ok(!existsSync(out));
    });
  }
});
