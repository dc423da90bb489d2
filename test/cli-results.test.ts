/**
 * Results people read: `ncps eval` reports regression errors in the target's units (checked against the
 * predictions `ncps predict` writes, in those units) besides the standardised ones, and for
 * classification a confusion matrix and per-class precision and recall (checked against the predicted
 * probabilities); `ncps plot --predictions` finds the true classes without --true.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { cli } from "./helpers/cli.js";
import { parseCsv } from "../src/io/csv.js";
import { TestRng } from "./helpers/gradcheck.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "ncps-results-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const small = ["--units", "8", "--backbone-units", "16", "--batch", "8", "--lr", "0.02", "--seed", "1"];

describe("ncps eval: regression in the target's units", () => {
  // a target in the thousands (a traffic volume, say), so standardised and original units differ a lot
  const rng = new TestRng(21);
  const rows = ["id,t,a,volume"];
  for (let q = 0; q < 16; q++) {
    let level = 0;
    for (let k = 0; k < 25; k++) {
      const a = Math.sin(0.4 * k + q);
      level = 0.6 * level + a;
      rows.push(`s${q},${k},${a.toFixed(4)},${(3000 + 800 * level + rng.range(-20, 20)).toFixed(1)}`);
    }
  }
  const data = path.join(dir, "volume.csv");
  writeFileSync(data, rows.join("\n") + "\n");
  const model = path.join(dir, "volume.safetensors");

  test("mae and rmse in the target's units agree with the predictions in those units", async () => {
    const r = await cli("train", data, "--target", "volume", "--time", "t", "--sequence", "id", ...small, "--epochs", "8", "--out", model);
    assert.equal(r.code, 0, r.err);
    const e = await cli("eval", model, data, "--json");
    assert.equal(e.code, 0, e.err);
    const report = JSON.parse(e.out);
    const p = await cli("predict", model, data);
    const table = parseCsv(p.out, "pred");
    const [y, pred] = [table.header.indexOf("volume"), table.header.indexOf("pred_volume")];
    let se = 0;
    let ae = 0;
    const values: number[] = [];
    for (const row of table.rows) {
      const d = Number(row[pred]) - Number(row[y]);
      se += d * d;
      ae += Math.abs(d);
      values.push(Number(row[y]));
    }
    const n = table.rows.length;
    assert.equal(report.labels, n);
    const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-4 * Math.abs(b), `${what}: ${a} vs ${b}`);
    close(report.units.mae, ae / n, "mae in units");
    close(report.units.rmse, Math.sqrt(se / n), "rmse in units");
    close(report.units.targets.volume.mse, se / n, "per-target mse");
    // standardised: divided by the training target's spread (all of this file trained)
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    close(report.metrics.mse, se / n / variance, "standardised mse");
    const text = await cli("eval", model, data);
    assert.match(text.out, /in the target's units \(volume\):  mae [\d.]+  rmse [\d.]+\n  standardised \(as trained\):  loss [\d.]+  mse [\d.]+  mae [\d.]+/);
  });
});

describe("ncps eval and plot: classification", () => {
  // two classes named 0 and 1, and a 0/1 feature that could be mistaken for the label column
  const rng = new TestRng(5);
  const rows = ["id,t,v,flag,label"];
  for (let q = 0; q < 40; q++) {
    const fast = q % 2 === 0;
    for (let k = 0; k < 15; k++) {
      const t = k * 0.3;
      rows.push(`q${q},${t.toFixed(2)},${Math.sin((fast ? 5 : 1.2) * t + rng.range(0, 0.3)).toFixed(4)},${rng.next() < 0.5 ? 1 : 0},${fast ? 1 : 0}`);
    }
  }
  const data = path.join(dir, "cls.csv");
  writeFileSync(data, rows.join("\n") + "\n");
  const model = path.join(dir, "cls.safetensors");
  const predFile = path.join(dir, "cls-pred.csv");

  test("a confusion matrix and per-class precision and recall, in --json and in text", async () => {
    const r = await cli("train", data, "--target", "label", "--time", "t", "--sequence", "id", "--task", "classify", ...small, "--epochs", "6", "--out", model);
    assert.equal(r.code, 0, r.err);
    const e = await cli("eval", model, data, "--json");
    assert.equal(e.code, 0, e.err);
    const report = JSON.parse(e.out);
    assert.deepEqual(report.classes, ["0", "1"]);
    // the same counts from the probabilities predict writes (one row per sequence suffices: all agree)
    const p = await cli("predict", model, data, "--out", predFile);
    assert.equal(p.code, 0, p.err);
    const table = parseCsv(readFileSync(predFile, "utf8"), "pred");
    const col = (name: string) => table.header.indexOf(name);
    const confusion = [
      [0, 0],
      [0, 0],
    ];
    const seen = new Set<string>();
    for (const row of table.rows) {
      if (seen.has(row[col("id")])) continue;
      seen.add(row[col("id")]);
      const predicted = Number(row[col("prob_1")]) > Number(row[col("prob_0")]) ? 1 : 0;
      assert.equal(row[col("pred_label")], String(predicted), "pred_label names the most probable class");
      confusion[Number(row[col("label")])][predicted]++;
    }
    assert.deepEqual(report.confusion, confusion);
    for (const c of [0, 1]) {
      const s = report.per_class[String(c)];
      const predictedAs = confusion[0][c] + confusion[1][c];
      assert.equal(s.support, confusion[c][0] + confusion[c][1]);
      assert.equal(s.recall, confusion[c][c] / s.support);
      if (predictedAs > 0) assert.equal(s.precision, confusion[c][c] / predictedAs);
      else assert.equal(s.precision, null, "a class never predicted has no precision (null in JSON)");
    }
    assert.equal(report.metrics.accuracy, (confusion[0][0] + confusion[1][1]) / 40);
    const text = await cli("eval", model, data);
    assert.match(text.out, /confusion matrix \(rows: true class, columns: predicted\)\n\s+0\s+1\n\s+0\s+\d+\s+\d+\n\s+1\s+\d+\s+\d+\n\s+class\s+precision\s+recall\s+f1\s+support\n\s+0\s+/);
  });

  test("ncps plot --predictions draws class probabilities and finds the target column itself", async () => {
    const out = path.join(dir, "cls.svg");
    const r = await cli("plot", "--predictions", predFile, "--sequence", "id", "--time", "t", "--out", out);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /probabilities of 2 classes, true class from label/);
    const svg = readFileSync(out, "utf8");
    assert.match(svg, /data-series="P\(0\)"/);
    assert.match(svg, /data-series="true: 1"/);
  });
});
