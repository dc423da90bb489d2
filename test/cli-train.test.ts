/**
 * End to end through the command line: train on a generated CSV (irregular ISO timestamps, several
 * interleaved series, missing cells), then eval and predict; bad input gets clear errors.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { cli } from "./helpers/cli.js";
import { parseCsv } from "../src/io/csv.js";
import { SKIP_NO_GOLDENS, loadGolden, projectRoot } from "./helpers/goldens.js";
import { encodeSafetensors } from "../src/io/safetensors.js";
import { TestRng } from "./helpers/gradcheck.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "ncps-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** y_k = y_{k-1} exp(-dt) + a_k over irregular times; rows of the series interleaved; some b cells empty. */
function regressionCsv(seed: number, series: number, rowsPer: number): string {
  const rng = new TestRng(seed);
  const rows: string[][] = [];
  for (let q = 0; q < series; q++) {
    let t = Date.UTC(2026, 0, 1) / 1000 + q * 7;
    let y = 0;
    const phase = rng.range(0, 6);
    for (let k = 0; k < rowsPer; k++) {
      const dt = 0.05 + rng.range(0, 1.5);
      t += dt * 60;
      const a = Math.sin(0.4 * k + phase);
      y = y * Math.exp(-dt) + a;
      const b = rng.next() < 0.2 ? "" : rng.range(-1, 1).toFixed(3);
      rows.push([`s${q}`, new Date(t * 1000).toISOString(), a.toFixed(4), b, y.toFixed(4)]);
    }
  }
  // interleave series by time so grouping has work to do
  rows.sort((r1, r2) => r1[1].localeCompare(r2[1]));
  return ["sensor,time,a,b,y", ...rows.map((r) => r.join(","))].join("\n") + "\n";
}

describe("ncps train / eval / predict on a CSV", () => {
  const data = path.join(dir, "train.csv");
  const test_ = path.join(dir, "test.csv");
  const model = path.join(dir, "model.safetensors");
  writeFileSync(data, regressionCsv(1, 24, 40));
  writeFileSync(test_, regressionCsv(2, 8, 40));

  test("trains, and the model beats predicting the mean by far on unseen series", async () => {
    const log = path.join(dir, "run.jsonl");
    const r = await cli("train", data, "--target", "y", "--time", "time", "--sequence", "sensor", "--units", "16", "--backbone-units", "32", "--epochs", "40", "--batch", "8", "--lr", "0.01", "--valid-split", "0.2", "--seed", "3", "--log", log, "--out", model);
    assert.equal(r.code, 0, r.err);
    assert.ok(existsSync(model));
    const lines = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 40);
    assert.ok("valid_loss" in lines[0] && "train_loss" in lines[0]);
    const e = await cli("eval", model, test_, "--json");
    assert.equal(e.code, 0, e.err);
    const res = JSON.parse(e.out);
    // targets are standardised with training statistics: predicting the mean scores about 1
    assert.ok(res.metrics.mse < 0.3, `test MSE ${res.metrics.mse}`);
  });

  test("predict writes one prediction per input row, in input order, in the target's units", async () => {
    const out = path.join(dir, "pred.csv");
    const r = await cli("predict", model, test_, "--out", out);
    assert.equal(r.code, 0, r.err);
    const input = parseCsv(readFileSync(test_, "utf8"), "test.csv");
    const pred = parseCsv(readFileSync(out, "utf8"), "pred.csv");
    assert.deepEqual(pred.header, [...input.header, "pred_y"]);
    assert.equal(pred.rows.length, input.rows.length);
    let se = 0;
    let sy = 0;
    let mean = 0;
    input.rows.forEach((row) => (mean += Number(row[4]) / input.rows.length));
    pred.rows.forEach((row, i) => {
      assert.deepEqual(row.slice(0, 5), input.rows[i]);
      const p = Number(row[5]);
      assert.ok(Number.isFinite(p));
      se += (p - Number(row[4])) ** 2;
      sy += (Number(row[4]) - mean) ** 2;
    });
    assert.ok(se < 0.3 * sy, `prediction error ${se} vs variance ${sy}`);
  });

  test("--model gru trains a GRU baseline whose checkpoint eval and predict load", async () => {
    const gru = path.join(dir, "gru.safetensors");
    const r = await cli("train", data, "--target", "y", "--time", "time", "--sequence", "sensor", "--model", "gru", "--units", "8", "--epochs", "3", "--batch", "8", "--seed", "1", "--out", gru);
    assert.equal(r.code, 0, r.err);
    const e = await cli("eval", gru, test_, "--json");
    assert.equal(e.code, 0, e.err);
    assert.ok(Number.isFinite(JSON.parse(e.out).metrics.mse));
    const w = await cli("train", data, "--target", "y", "--time", "time", "--sequence", "sensor", "--model", "gru", "--wiring", "autoncp:8:0.5", "--out", gru);
    assert.equal(w.code, 2);
    assert.match(w.err, /--wiring applies to cfc and ltc models, not gru/);
  });

  for (const [kind, modelName, solverFlags] of [
    ["ct-rnn", "CTRNN", ["--solver", "rk4", "--steps-per-gap", "2"]],
    ["gru-ode", "GRUODE", ["--solver", "dopri5", "--rtol", "1e-2", "--atol", "1e-4", "--max-steps", "500"]],
    ["ode-rnn", "ODERNN", ["--solver", "euler", "--step-size", "0.5"]],
    ["ode-lstm", "ODELSTM", ["--solver", "rk4", "--steps-per-gap", "1"]],
  ] as const) {
    test(`--model ${kind} trains the ODE baseline with the solver flags; eval loads its checkpoint`, async () => {
      const out = path.join(dir, `${kind}.safetensors`);
      const r = await cli("train", data, "--target", "y", "--time", "time", "--sequence", "sensor", "--model", kind, "--units", "6", "--epochs", "2", "--batch", "8", "--seed", "1", ...solverFlags, "--out", out);
      assert.equal(r.code, 0, r.err);
      const summary = JSON.parse(r.out);
      assert.equal(summary.epochs, 2);
      assert.ok(Number.isFinite(summary.final.train_loss));
      const { readCheckpoint } = await import("../src/train/checkpoint-file.js");
      const config = readCheckpoint(out).config;
      assert.equal(config.model, modelName);
      const args = config.constructor_args;
      assert.equal(args[kind === "ct-rnn" ? "units" : "hidden_size"], 6);
      assert.equal(args.proj_size, 1);
      if (kind === "ct-rnn") assert.deepEqual([args.solver, args.steps_per_gap], ["rk4", 2]);
      else if (kind === "ode-rnn") assert.deepEqual([args.solver, args.step_size], ["euler", 0.5]);
      else if (kind === "ode-lstm") assert.deepEqual([args.solver, args.steps_per_gap], ["rk4", 1]);
      else assert.deepEqual([args.solver, args.rtol, args.atol, args.max_steps], ["dopri5", 1e-2, 1e-4, 500]);
      const e = await cli("eval", out, test_, "--json");
      assert.equal(e.code, 0, e.err);
      assert.ok(Number.isFinite(JSON.parse(e.out).metrics.mse));
    });
  }

  test("solver flags: an unknown solver, or a flag that does not apply, is a usage error (exit 2)", async () => {
    const base = ["train", data, "--target", "y", "--time", "time", "--sequence", "sensor", "--epochs", "1", "--out", path.join(dir, "never.safetensors")];
    const cases: Array<[string[], RegExp]> = [
      [["--model", "gru-ode", "--solver", "midpoint"], /--solver must be one of euler, rk4, dopri5, got 'midpoint'/],
      [["--model", "ct-rnn", "--solver", "euler", "--rtol", "1e-3"], /--rtol applies to --solver dopri5, not euler/],
      [["--model", "gru-ode", "--step-size", "0.1"], /--step-size applies to --solver euler or rk4, not dopri5/],
      [["--model", "ct-rnn", "--solver", "rk4", "--step-size", "0.1", "--steps-per-gap", "2"], /give --step-size or --steps-per-gap, not both/],
      [["--model", "gru-ode", "--solver", "rk4", "--steps-per-gap", "0"], /--steps-per-gap must be an integer >= 1, got '0'/],
      [["--model", "cfc", "--solver", "rk4"], /--solver applies to the ODE models \(ct-rnn, gru-ode, ode-rnn, ode-lstm\), not cfc/],
      [["--model", "gru", "--atol", "1e-6"], /--atol applies to the ODE models \(ct-rnn, gru-ode, ode-rnn, ode-lstm\), not gru/],
      [["--model", "ct-rnn", "--wiring", "autoncp:8:0.5"], /--wiring applies to cfc and ltc models, not ct-rnn/],
    ];
    for (const [flags, message] of cases) {
      const r = await cli(...base, ...flags);
      assert.equal(r.code, 2, `${flags.join(" ")}: ${r.err}`);
      assert.match(r.err, message);
      assert.match(r.err, /usage: ncps train/);
    }
    assert.ok(!existsSync(path.join(dir, "never.safetensors")));
  });

  test("classification of whole series (last step), well beyond chance", async () => {
    const rng = new TestRng(9);
    const rows = ["id,t,v,label"];
    for (let q = 0; q < 60; q++) {
      const fast = q % 2 === 0;
      let t = 0;
      for (let k = 0; k < 20; k++) {
        t += 0.1 + rng.range(0, 0.4);
        const v = Math.sin((fast ? 6 : 1.5) * t + rng.range(0, 0.3)) + rng.range(-0.1, 0.1);
        rows.push(`q${q},${t.toFixed(3)},${v.toFixed(4)},${fast ? "fast" : "slow"}`);
      }
    }
    const file = path.join(dir, "cls.csv");
    writeFileSync(file, rows.join("\n") + "\n");
    const m = path.join(dir, "cls.safetensors");
    const r = await cli("train", file, "--target", "label", "--time", "t", "--sequence", "id", "--task", "classify", "--units", "16", "--backbone-units", "32", "--epochs", "30", "--batch", "8", "--lr", "0.01", "--seed", "1", "--out", m);
    assert.equal(r.code, 0, r.err);
    const e = await cli("eval", m, file, "--json");
    const acc = JSON.parse(e.out).metrics.accuracy;
    assert.ok(acc > 0.85, `accuracy ${acc}`);
    const p = await cli("predict", m, file);
    const table = parseCsv(p.out, "stdout");
    assert.deepEqual(table.header.slice(-3), ["prob_fast", "prob_slow", "pred_label"]);
    for (const row of table.rows) assert.ok(Math.abs(Number(row[4]) + Number(row[5]) - 1) < 1e-5);
  });
});

describe("bad input gets a clear error and no output file", () => {
  const good = path.join(dir, "good.csv");
  writeFileSync(good, regressionCsv(5, 3, 12));
  const base = ["--target", "y", "--time", "time", "--sequence", "sensor", "--epochs", "1"];

  test("a missing target column names the file and the columns", async () => {
    const out = path.join(dir, "x1.safetensors");
    const r = await cli("train", good, "--target", "temp", "--out", out);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /good\.csv: no column "temp" \(columns: sensor, time, a, b, y\)/);
    assert.ok(!existsSync(out));
  });
  test("a non-numeric feature cell names the file, line and column", async () => {
    const bad = path.join(dir, "bad.csv");
    const text = readFileSync(good, "utf8").split("\n");
    text[3] = text[3].replace(/,([-0-9.]+),([^,]*),([^,]*)$/, ",abc,$2,$3");
    writeFileSync(bad, text.join("\n"));
    const r = await cli("train", bad, ...base, "--out", path.join(dir, "x2.safetensors"));
    assert.notEqual(r.code, 0);
    assert.match(r.err, /bad\.csv line 4, column "a": expected a number, got "abc"/);
  });
  test("series shorter than the window", async () => {
    const r = await cli("train", good, ...base, "--window", "50", "--out", path.join(dir, "x3.safetensors"));
    assert.notEqual(r.code, 0);
    assert.match(r.err, /good\.csv: no training sequence has at least 50 rows \(--window 50\): sequence "s0" has 12/);
  });
  test("an empty file", async () => {
    const empty = path.join(dir, "empty.csv");
    writeFileSync(empty, "");
    const r = await cli("train", empty, "--target", "y", "--out", path.join(dir, "x4.safetensors"));
    assert.notEqual(r.code, 0);
    assert.match(r.err, /empty\.csv.*empty/i);
  });
  test("a truncated checkpoint", async () => {
    const m = path.join(dir, "m.safetensors");
    const r = await cli("train", good, ...base, "--out", m);
    assert.equal(r.code, 0, r.err);
    const bytes = readFileSync(m);
    const cut = path.join(dir, "cut.safetensors");
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    const e = await cli("eval", cut, good);
    assert.notEqual(e.code, 0);
    assert.match(e.err, /cut\.safetensors/);
  });
  test("unknown flags and commands are usage errors (exit 2)", async () => {
    const r = await cli("train", good, "--targt", "y");
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown flag --targt/);
    assert.match(r.err, /usage: ncps train/);
    const u = await cli("fly");
    assert.equal(u.code, 2);
    assert.match(u.err, /unknown command 'fly'/);
  });
});

test("bin/ncps.js (built CLI) prints usage and exits 2 on an unknown command", { skip: existsSync(path.join(projectRoot, "dist/cli/main.js")) ? false : "dist/ is not built (npm run build): skipping the launcher test" }, () => {
  const r = spawnSync(process.execPath, [path.join(projectRoot, "bin/ncps.js"), "nope"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage: ncps <command>/);
});

test("ncps train / predict read .npy arrays (x, y, elapsed times)", async () => {
  const { saveNpy, loadNpy } = await import("../src/io/npy.js");
  const N = 16, L = 10, F = 2;
  const rng = new TestRng(4);
  const x = new Float32Array(N * L * F).map(() => rng.range(-1, 1));
  const t = new Float32Array(N * L).map(() => rng.range(0.1, 1));
  const y = new Float32Array(N * L).map((_, i) => x[i * F] * 0.5);
  const xf = path.join(dir, "x.npy");
  saveNpy(xf, { shape: [N, L, F], data: x });
  saveNpy(path.join(dir, "y.npy"), { shape: [N, L, 1], data: y });
  saveNpy(path.join(dir, "t.npy"), { shape: [N, L], data: t });
  const m = path.join(dir, "npy.safetensors");
  const r = await cli("train", xf, "--y", path.join(dir, "y.npy"), "--time-file", path.join(dir, "t.npy"), "--units", "8", "--backbone-units", "8", "--epochs", "2", "--out", m);
  assert.equal(r.code, 0, r.err);
  const out = path.join(dir, "pred.npy");
  const p = await cli("predict", m, xf, "--time-file", path.join(dir, "t.npy"), "--out", out);
  assert.equal(p.code, 0, p.err);
  const pred = loadNpy(out);
  assert.deepEqual(pred.shape, [N, L, 1]);
  assert.ok(Array.from(pred.data as Float64Array).every(Number.isFinite));
  const bad = await cli("train", xf, "--out", m);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /needs the targets too: --y FILE\.npy/);
});

test("ncps predict runs a model exported from PyTorch ncps on a CSV, matching PyTorch's outputs", { skip: SKIP_NO_GOLDENS }, async () => {
  // what tools/export_ncps.py writes, built from a reference case (zero initial state, elapsed time 1)
  const c = loadGolden("cfc_default_bb1_hx_none.json");
  const config = { model: c.spec.model, constructor_args: c.spec.constructor_args };
  const tensors = c.weights.map((w: { name: string; shape: number[]; data: number[] }) => ({ name: w.name, dtype: "F32" as const, shape: w.shape, data: w.data }));
  const ckpt = path.join(dir, "exported.safetensors");
  writeFileSync(ckpt, encodeSafetensors(tensors, { format: "ncps-ts", version: "1", config: JSON.stringify(config) }));
  const [B, L, I] = c.input.shape as number[];
  const H = c.output.shape[2] as number;
  const rows = ["id,t," + Array.from({ length: I }, (_, j) => `f${j}`).join(",")];
  for (let b = 0; b < B; b++) for (let t = 0; t < L; t++) rows.push(`p${b},${t + 1},${c.input.data.slice((b * L + t) * I, (b * L + t + 1) * I).join(",")}`);
  const csv = path.join(dir, "exported.csv");
  writeFileSync(csv, rows.join("\n") + "\n");
  const names = Array.from({ length: H }, (_, j) => `h${j}`).join(",");
  const noCols = await cli("eval", ckpt, csv);
  assert.equal(noCols.code, 2);
  assert.match(noCols.err, /carries no data preparation.*--target COLS/);
  const r = await cli("predict", ckpt, csv, "--features", "f0,f1,f2,f3", "--time", "t", "--sequence", "id", "--target", names);
  assert.equal(r.code, 0, r.err);
  const table = parseCsv(r.out, "stdout");
  assert.equal(table.rows.length, B * L);
  let worst = 0;
  table.rows.forEach((row, i) => {
    for (let j = 0; j < H; j++) worst = Math.max(worst, Math.abs(Number(row[2 + I + j]) - c.output.data[i * H + j]));
  });
  assert.ok(worst < 1e-5, `largest difference from PyTorch ${worst}`);
});
