/**
 * Training that diverges is an error, never a success: a NaN or infinite loss, gradient or weight stops
 * `fit` (and `ncps train`, exit 1, previous output untouched) unless skipping such batches is asked for.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { cli } from "./helpers/cli.js";
import { fit, DivergenceError } from "../src/train/trainer.js";
import { buildModel } from "../src/models/build.js";
import { TestRng } from "./helpers/gradcheck.js";
import type { SequenceDataset } from "../src/data/dataset.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "ncps-diverge-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function smallCsv(rows: number, seed = 1): string {
  const rng = new TestRng(seed);
  const lines = ["a,b,y"];
  for (let i = 0; i < rows; i++) {
    const a = rng.range(-1, 1);
    const b = rng.range(-1, 1);
    lines.push(`${a.toFixed(4)},${b.toFixed(4)},${(a - 2 * b).toFixed(4)}`);
  }
  return lines.join("\n") + "\n";
}

function dataset(samples: number, steps: number, seed = 2): SequenceDataset {
  const rng = new TestRng(seed);
  const x = new Float32Array(samples * steps * 2).map(() => rng.range(-1, 1));
  const y = new Float32Array(samples * steps).map(() => rng.range(-1, 1));
  return { size: samples, steps, features: 2, x, timespans: null, lengths: null, task: "regress", targetMode: "per_step", y, targets: 1, numClasses: 0, targetMask: null };
}

describe("divergence", () => {
  const csv = path.join(dir, "small.csv");
  writeFileSync(csv, smallCsv(64));

  test("ncps train --lr 1e20 exits 1 naming epoch, batch and what diverged; no output file", async () => {
    const out = path.join(dir, "diverged.safetensors");
    const r = await cli("train", csv, "--target", "y", "--window", "4", "--units", "4", "--backbone-units", "8", "--epochs", "3", "--batch", "4", "--lr", "1e20", "--quiet", "--out", out);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /training diverged at epoch \d+, batch \d+: (the loss|the gradient of parameter \S+|parameter \S+ after the update) is not finite/);
    assert.match(r.err, /--lr/);
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
    assert.equal(existsSync(out), false);
    assert.equal(r.out, "");
  });

  test("a diverging run leaves the previous --out file as it was", async () => {
    const out = path.join(dir, "kept.safetensors");
    const ok = await cli("train", csv, "--target", "y", "--window", "4", "--units", "4", "--backbone-units", "8", "--epochs", "1", "--quiet", "--out", out);
    assert.equal(ok.code, 0, ok.err);
    const before = readFileSync(out);
    const r = await cli("train", csv, "--target", "y", "--window", "4", "--units", "4", "--backbone-units", "8", "--epochs", "3", "--batch", "4", "--lr", "1e20", "--quiet", "--out", out);
    assert.equal(r.code, 1);
    assert.deepEqual(readFileSync(out), before);
  });

  test("SGD at a huge learning rate stops fit with a DivergenceError", async () => {
    const model = buildModel({ model: "CfC", constructor_args: { input_size: 2, units: 4, proj_size: 1, backbone_units: 8 } }, { backend: "reference", seed: 1 });
    await assert.rejects(
      fit(model, dataset(16, 5), { epochs: 5, batchSize: 4, optimizer: "sgd", lr: 1e200 }),
      (e: unknown) => e instanceof DivergenceError && e.epoch >= 1 && e.batch !== null && /not finite/.test(e.message),
    );
  });

  test("onNonFinite skip-batch skips poisoned batches, counts them and completes", async () => {
    const model = buildModel({ model: "CfC", constructor_args: { input_size: 2, units: 4, proj_size: 1, backbone_units: 8 } }, { backend: "reference", seed: 1 });
    const ds = dataset(16, 5);
    // sample 3 poisons every batch it lands in
    ds.x[3 * 5 * 2] = NaN;
    const before = model.parameters().map((p) => Array.from(p.value));
    const r = await fit(model, ds, { epochs: 3, batchSize: 4, onNonFinite: "skip-batch", shuffle: true });
    assert.equal(r.stopReason, "completed");
    assert.equal(r.skippedBatches, 3);
    assert.equal(r.globalStep, 9);
    for (const p of model.parameters()) for (const v of p.value) assert.ok(Number.isFinite(v));
    assert.notDeepEqual(model.parameters().map((p) => Array.from(p.value)), before);
    await assert.rejects(fit(model, ds, { epochs: 1, batchSize: 4 }), DivergenceError);
    await assert.rejects(fit(model, ds, { epochs: 1, onNonFinite: "ignore" as never }), /onNonFinite must be "error" or "skip-batch"/);
  });

  test("ncps train --on-nan skip-batch reports the skipped batches in its summary", async () => {
    const out = path.join(dir, "skipped.safetensors");
    const r = await cli("train", csv, "--target", "y", "--window", "4", "--units", "4", "--epochs", "1", "--on-nan", "skip-batch", "--quiet", "--out", out);
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).skipped_batches, 0);
    const u = await cli("train", csv, "--target", "y", "--on-nan", "maybe", "--out", out);
    assert.equal(u.code, 2);
    assert.match(u.err, /--on-nan must be error or skip-batch, got 'maybe'/);
  });
});

describe("predict and eval refuse non-finite outputs", () => {
  const good = path.join(dir, "wave.csv");
  const bad = path.join(dir, "wave-bad.csv");
  const model = path.join(dir, "wave.safetensors");
  const lines = ["a,b,y"];
  for (let i = 0; i < 40; i++) lines.push(`${Math.sin(i)},${Math.cos(i)},${Math.sin(i) - Math.cos(i)}`);
  writeFileSync(good, lines.join("\n") + "\n");
  // two inputs overflowing float32 with opposite signs: inf - inf inside the first layer gives NaN
  lines[10] = "1e300,-1e300,1";
  writeFileSync(bad, lines.join("\n") + "\n");

  test("predict exits 1 naming the count and the first row, writes nothing; --allow-nan warns and writes", async () => {
    const t = await cli("train", good, "--target", "y", "--window", "4", "--units", "4", "--epochs", "1", "--quiet", "--out", model);
    assert.equal(t.code, 0, t.err);
    const out = path.join(dir, "pred.csv");
    const r = await cli("predict", model, bad, "--out", out);
    assert.equal(r.code, 1);
    assert.match(r.err, /\d+ of 40 output values are not finite \(NaN or infinite\), first at data row 10;/);
    assert.equal(existsSync(out), false);
    const stdout = await cli("predict", model, bad);
    assert.equal(stdout.code, 1);
    assert.equal(stdout.out, "");
    const a = await cli("predict", model, bad, "--out", out, "--allow-nan");
    assert.equal(a.code, 0, a.err);
    assert.match(a.err, /warning: \d+ of 40 output values are not finite/);
    assert.ok(existsSync(out));
  });

  test("eval exits 1 instead of printing a null loss; --allow-nan scores the finite sequences and counts the rest", async () => {
    const r = await cli("eval", model, bad, "--json");
    assert.equal(r.code, 1);
    assert.equal(r.out, "");
    assert.match(r.err, /output values are not finite .*first at sequence 3, step 2/);
    const a = await cli("eval", model, bad, "--json", "--allow-nan");
    assert.equal(a.code, 0, a.err);
    const report = JSON.parse(a.out);
    assert.ok(Number.isFinite(report.loss));
    assert.equal(report.sequences, 9);
    assert.ok(report.non_finite_outputs >= 1);
    const clean = JSON.parse((await cli("eval", model, good, "--json")).out);
    assert.equal(clean.non_finite_outputs, undefined);
  });
});

describe("normalisation statistics near the float64 limit", () => {
  test("meanStd stays finite for finite values up to the float64 maximum", async () => {
    const { meanStd } = await import("../src/data/normalization.js");
    const big = meanStd([1.7e308, -1.7e308, 1.7e308, -1.7e308]);
    assert.ok(Math.abs(big.mean) < 1e300, `mean ${big.mean}`);
    assert.ok(Math.abs(big.std / 1.7e308 - 1) < 1e-12, `std ${big.std}`);
    const near = meanStd([3e300, 3.3e300, 2.7e300]);
    assert.ok(Math.abs(near.mean / 3e300 - 1) < 1e-12, `mean ${near.mean}`);
    assert.ok(Math.abs(near.std / (Math.sqrt(0.06) * 1e300) - 1) < 1e-12, `std ${near.std}`);
  });

  test("a feature around 3e300 trains, and its checkpoint loads and predicts", async () => {
    const csv = path.join(dir, "huge.csv");
    const lines = ["a,b,y"];
    for (let i = 0; i < 40; i++) lines.push(`${(3 + Math.sin(i)).toExponential(6).replace("e+0", "e+300")},${Math.cos(i)},${Math.sin(i) - Math.cos(i)}`);
    writeFileSync(csv, lines.join("\n") + "\n");
    const model = path.join(dir, "huge.safetensors");
    const t = await cli("train", csv, "--target", "y", "--window", "4", "--units", "4", "--epochs", "2", "--quiet", "--out", model);
    assert.equal(t.code, 0, t.err);
    const p = await cli("predict", model, csv);
    assert.equal(p.code, 0, p.err);
    assert.equal(p.out.trim().split("\n").length, 41);
  });
});

describe("firstNonFinite on a model's heap (the engine's scan kernel)", () => {
  for (const backend of ["wasm", "reference"] as const) {
    test(`${backend}: finds the parameter holding a NaN or an infinity in its values or gradients, as the plain loop does`, async () => {
      const { firstNonFinite } = await import("../src/train/train-step.js");
      const model = buildModel({ model: "CfC", constructor_args: { input_size: 3, units: 5, backbone_units: 7 } }, { backend, seed: 1 });
      const params = model.parameters();
      for (const field of ["value", "grad"] as const) {
        assert.equal(firstNonFinite(params, field, model.engine), null);
        for (const [k, bad] of [[1, NaN], [params.length - 1, -Infinity]] as const) {
          const a = model.parameters()[k][field];
          const at = a.length - 1; // the last element: a tail past the vector body for odd sizes
          const keep = a[at];
          a[at] = bad;
          const fresh = model.parameters();
          assert.equal(firstNonFinite(fresh, field, model.engine), params[k].name, `${field} ${bad} in ${params[k].name}`);
          assert.equal(firstNonFinite(fresh, field), params[k].name);
          a[at] = keep;
        }
      }
    });
  }
});
