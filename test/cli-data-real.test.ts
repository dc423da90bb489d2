/**
 * The real data sets in ../shared/data, as they are shipped, each with one command: the UCI traffic
 * file (text columns, repeated hours, gzip) and PhysioNet 2012 set A record files with the outcomes
 * file (long format, HH:MM times). Skipped with a message when ../shared/data is absent. Training is
 * kept short (a few epochs, a small model; PhysioNet on the first 300 records) to stay quick.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { cli } from "./helpers/cli.js";
import { parseCsv } from "../src/io/csv.js";
import { loadCheckpoint } from "../src/train/checkpoint-file.js";
import { sharedDir } from "./helpers/goldens.js";
import { readTarGz } from "./helpers/tar.js";

const data = path.join(sharedDir, "data");
const traffic = path.join(data, "traffic", "Metro_Interstate_Traffic_Volume.csv.gz");
const setA = path.join(data, "physionet2012", "set-a.tar.gz");
const outcomesA = path.join(data, "physionet2012", "Outcomes-a.txt");
const skip = (file: string) => (existsSync(file) ? false : `${file} not found (../shared/data is absent): skipping`);

const dir = mkdtempSync(path.join(os.tmpdir(), "ncps-real-data-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("UCI traffic: trains with one command on the shipped file (--target traffic_volume --time date_time)", { skip: skip(traffic) }, async () => {
  const model = path.join(dir, "traffic.safetensors");
  const t = await cli("train", traffic, "--target", "traffic_volume", "--time", "date_time", "--window", "32", "--epochs", "2", "--units", "8", "--backbone-units", "16", "--batch", "64", "--out", model);
  assert.equal(t.code, 0, t.err);
  // SOURCE.md: 7,629 rows repeat the previous time stamp (40,575 distinct hours of 48,204 rows).
  assert.match(t.err, /merged 7629 row\(s\) that repeat a time of their sequence/);
  for (const c of ["holiday", "weather_main", "weather_description"]) assert.match(t.err, new RegExp(`column "${c}" is text: one-hot encoded`));
  const prep = loadCheckpoint(model).extras.data as { categorical: { column: string; values: string[] }[]; timeFormat: string };
  const weather = prep.categorical.find((c) => c.column === "weather_main")!;
  // SOURCE.md lists 11 weather_main classes.
  assert.deepEqual(weather.values, ["Clear", "Clouds", "Drizzle", "Fog", "Haze", "Mist", "Rain", "Smoke", "Snow", "Squall", "Thunderstorm"]);
  assert.equal(prep.timeFormat, "datetime");
  const out = path.join(dir, "traffic-pred.csv");
  const p = await cli("predict", model, traffic, "--out", out);
  assert.equal(p.code, 0, p.err);
  const pred = parseCsv(readFileSync(out, "utf8"), out);
  assert.equal(pred.rows.length, 48204);
  assert.equal(pred.header.at(-1), "pred_traffic_volume");
  // Rows of one hour (merged into one step) share one prediction.
  const k = pred.header.indexOf("date_time");
  for (let r = 1; r < pred.rows.length; r++) if (pred.rows[r][k] === pred.rows[r - 1][k]) assert.equal(pred.rows[r].at(-1), pred.rows[r - 1].at(-1));
});

test("PhysioNet 2012 set A: trains from raw record files and the outcomes file with one command", { skip: skip(setA) }, async () => {
  const records = path.join(dir, "set-a");
  mkdirSync(records);
  const files = readTarGz(setA, (n) => n.endsWith(".txt"), 300);
  for (const f of files) writeFileSync(path.join(records, path.basename(f.name)), f.data);
  const model = path.join(dir, "icu.safetensors");
  const args = ["--long", "Time,Parameter,Value", "--id", "RecordID", "--outcomes", outcomesA, "--target", "In-hospital_death", "--task", "classify", "--time-bin", "1h"];
  const t = await cli("train", records, ...args, "--epochs", "2", "--units", "8", "--backbone-units", "16", "--batch", "32", "--valid-split", "0.2", "--out", model);
  assert.equal(t.code, 0, t.err);
  assert.match(t.err, /300 of 300 sequence\(s\) .* found in its 4000 row\(s\) \(--id RecordID\)/);
  const prep = loadCheckpoint(model).extras.data as { features: string[] };
  // The descriptors and the time series named in SOURCE.md are among the variables; RecordID is not.
  for (const v of ["Age", "Gender", "Height", "ICUType", "Weight", "HR", "MAP", "SysABP", "DiasABP", "Urine"]) assert.ok(prep.features.includes(v), v);
  assert.ok(!prep.features.includes("RecordID"));
  const e = await cli("eval", model, records, "--outcomes", outcomesA, "--json");
  assert.equal(e.code, 0, e.err);
  assert.ok("roc_auc" in JSON.parse(e.out).metrics, e.out);
  const p = await cli("predict", model, records);
  assert.equal(p.code, 0, p.err);
  const pred = parseCsv(p.out, "stdout");
  assert.deepEqual(pred.header, ["RecordID", "prob_0", "prob_1", "pred_In-hospital_death"]);
  assert.deepEqual(pred.rows.map((r) => r[0]), files.map((f) => path.basename(f.name, ".txt")));
});
