/**
 * `ncps predict` on checkpoints that carry no data preparation (as tools/export_ncps.py writes them):
 * .npy input for any number of outputs (named y0..yN unless --target names them), the first step's
 * elapsed time of CSV series (--first-gap, default 1) so a series predicted alone equals the same series
 * inside a larger file, and a clear message when the column flags are missing.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { cli } from "./helpers/cli.js";
import { parseCsv } from "../src/io/csv.js";
import { loadNpy, saveNpy } from "../src/io/npy.js";
import { CfC } from "../src/models/cfc.js";
import { saveCheckpoint } from "../src/train/checkpoint-file.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "ncps-predict-exported-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A CfC with 2 inputs and `outputs` outputs, saved with no extras (like a PyTorch export). */
function exportedModel(outputs: number): { model: CfC; file: string } {
  const model = new CfC(2, 5, { backboneUnits: 6, projSize: outputs, seed: 3, backend: "reference" });
  const file = path.join(dir, `m${outputs}.safetensors`);
  saveCheckpoint(file, model, {}, { dtype: "float64" });
  return { model, file };
}

const N = 3;
const L = 4;
const x = Float64Array.from({ length: N * L * 2 }, (_, i) => Math.sin(i * 0.7));
const ts = Float64Array.from({ length: N * L }, (_, i) => 0.5 + (i % 3) * 0.25);

test("predict .npy: a model with 3 outputs writes (N, L, 3) equal to forward; --target is optional", async () => {
  const { model, file } = exportedModel(3);
  const xf = path.join(dir, "x.npy");
  const tf = path.join(dir, "t.npy");
  saveNpy(xf, { shape: [N, L, 2], data: x });
  saveNpy(tf, { shape: [N, L], data: ts });
  const out = path.join(dir, "p.npy");
  const r = await cli("predict", file, xf, "--time-file", tf, "--out", out, "--backend", "reference");
  assert.equal(r.code, 0, r.err);
  const pred = loadNpy(out);
  assert.deepEqual(pred.shape, [N, L, 3]);
  const want = model.forward({ shape: [N, L, 2], data: x }, { timespans: { shape: [N, L], data: ts } }).output.data;
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(Number(pred.data[i]) - want[i]) < 1e-5, `value ${i}: ${pred.data[i]} vs ${want[i]}`);
  const named = await cli("predict", file, xf, "--time-file", tf, "--out", out, "--target", "a,b,c", "--backend", "reference");
  assert.equal(named.code, 0, named.err);
});

test("predict CSV: a series predicted alone equals the same series inside a larger file (--first-gap, default 1)", async () => {
  const { file } = exportedModel(1);
  const rows = (id: string, times: number[], off: number) => times.map((t, i) => `${id},${t},${Math.sin(i + off)},${Math.cos(i * off)}`);
  const a = rows("a", [0, 1, 3, 4], 1);
  // the other series has much wider gaps, so the file's median gap differs from series a's alone
  const b = rows("b", [0, 10, 30, 60, 100], 2);
  const alone = path.join(dir, "alone.csv");
  const both = path.join(dir, "both.csv");
  writeFileSync(alone, ["id,t,f1,f2", ...a].join("\n") + "\n");
  writeFileSync(both, ["id,t,f1,f2", ...b, ...a].join("\n") + "\n");
  const flags = ["--features", "f1,f2", "--time", "t", "--sequence", "id", "--backend", "reference"];
  const predA = async (csv: string, extra: string[] = []) => {
    const r = await cli("predict", file, csv, ...flags, ...extra);
    assert.equal(r.code, 0, r.err);
    const t = parseCsv(r.out, "pred", { separator: ",", trimColumnNames: true });
    const k = t.header.indexOf("pred_y0");
    assert.ok(k >= 0, `columns ${t.header.join(",")}`);
    return t.rows.filter((row) => row[0] === "a").map((row) => Number(row[k]));
  };
  assert.deepEqual(await predA(both), await predA(alone));
  assert.deepEqual(await predA(both, ["--first-gap", "2.5"]), await predA(alone, ["--first-gap", "2.5"]));
  assert.notDeepEqual(await predA(alone, ["--first-gap", "2.5"]), await predA(alone), "--first-gap changes the first step");
  assert.deepEqual(await predA(alone, ["--first-gap", "1"]), await predA(alone), "the default first gap is 1");
  const bad = await cli("predict", file, alone, ...flags, "--first-gap", "0");
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--first-gap must be a positive number/);
});

test("predict CSV on an exported model without column flags says which flags it needs", async () => {
  const { file } = exportedModel(1);
  const csv = path.join(dir, "cols.csv");
  writeFileSync(csv, "t,f1,f2,f3\n0,1,2,3\n1,2,3,4\n");
  const r = await cli("predict", file, csv);
  assert.equal(r.code, 2);
  assert.match(r.err, /carries no data preparation.*--features COLS \(the model takes 2\)/);
  const wrong = await cli("predict", file, csv, "--features", "f1,f2,f3");
  assert.equal(wrong.code, 2);
  assert.match(wrong.err, /takes 2 inputs per step, .*cols\.csv gives 3 \(f1, f2, f3\)/);
  assert.ok(readFileSync(csv, "utf8").startsWith("t,"));
});
