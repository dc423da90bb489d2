/**
 * `ncps train`'s defaults say what they do: a warning for very long sequences without --window, the best
 * validation epoch kept (the summary, the log and the file agree), the validation split counted,
 * contradictory flags and unusable columns refused, and outputs replaced only by a run that succeeds.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { main } from "../src/cli/main.js";
import { TestRng } from "./helpers/gradcheck.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "ncps-defaults-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[], failOn?: RegExp): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, {
    out: (s) => void (out += s),
    err: (s) => {
      // stands for a run that dies part way (a full disk, a crash): the error comes from inside training
      if (failOn && failOn.test(s)) throw new Error("simulated failure during training");
      err += s;
    },
    isTTY: false,
  });
  return { code, out, err };
}

/** `series` series of `rows` rows each: y follows a decaying sum of a; optional columns all empty. */
function csv(file: string, series: number, rows: number, o: { emptyFeature?: boolean; emptyTarget?: boolean; seed?: number } = {}): string {
  const rng = new TestRng(o.seed ?? 1);
  const lines = [`id,t,a${o.emptyFeature ? ",b" : ""},y`];
  for (let q = 0; q < series; q++) {
    let y = 0;
    for (let k = 0; k < rows; k++) {
      const a = Math.sin(0.3 * k + q) + rng.range(-0.1, 0.1);
      y = 0.7 * y + a;
      lines.push(`s${q},${k},${a.toFixed(4)}${o.emptyFeature ? "," : ""},${o.emptyTarget ? "" : y.toFixed(4)}`);
    }
  }
  const p = path.join(dir, file);
  writeFileSync(p, lines.join("\n") + "\n");
  return p;
}

const small = ["--units", "4", "--backbone-units", "8", "--batch", "4"];

describe("ncps train: defaults that say what they do", () => {
  test("a sequence of thousands of steps without --window gets a warning with a suggested window", async () => {
    const long = csv("long.csv", 1, 2500);
    const r = await cli(["train", long, "--target", "y", "--features", "a", "--time", "t", ...small, "--epochs", "1", "--out", path.join(dir, "long.safetensors")]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /warning: the longest training sequence has 2,500 steps and no --window is given: .*consider --window 256/);
    const w = await cli(["train", long, "--target", "y", "--features", "a", "--time", "t", ...small, "--epochs", "1", "--window", "100", "--out", path.join(dir, "long.safetensors")]);
    assert.equal(w.code, 0, w.err);
    assert.doesNotMatch(w.err, /warning: the longest/);
  });

  test("with validation data the file holds the best validation epoch, and the summary and log say which", async () => {
    const train = csv("fit.csv", 4, 30, { seed: 2 });
    const valid = csv("valid.csv", 4, 30, { seed: 3 });
    const model = path.join(dir, "best.safetensors");
    const log = path.join(dir, "best.jsonl");
    // a large learning rate makes the validation loss move about, so the last epoch is rarely the best
    const r = await cli(["train", train, "--target", "y", "--time", "t", "--sequence", "id", ...small, "--lr", "0.08", "--epochs", "12", "--valid", valid, "--seed", "5", "--log", log, "--out", model]);
    assert.equal(r.code, 0, r.err);
    const summary = JSON.parse(r.out);
    const records = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const losses = records.map((x) => x.valid_loss as number);
    const bestEpoch = records[losses.indexOf(Math.min(...losses))].epoch;
    assert.equal(summary.best.epoch, bestEpoch, "the best epoch is the one with the lowest validation loss in the log");
    assert.equal(summary.saved_epoch, bestEpoch, "the file holds the best epoch");
    assert.equal(summary.restored_best, bestEpoch !== 12);
    assert.equal(summary.saved.valid_loss, summary.best.value);
    const lastImproved = records.filter((x) => x.improved).at(-1).epoch;
    assert.equal(lastImproved, bestEpoch, "the log marks improving epochs");
    assert.match(r.err, new RegExp(`saved .*best\\.safetensors: weights of epoch ${bestEpoch} of 12 \\(the best validation loss`));
    const e = await cli(["eval", model, valid, "--json"]);
    assert.equal(e.code, 0, e.err);
    const loss = JSON.parse(e.out).loss;
    assert.ok(Math.abs(loss - summary.best.value) <= 1e-6 * Math.max(1, loss), `the file scores the best epoch's validation loss: ${loss} vs ${summary.best.value}`);
  });

  test("--valid-split splits by sequence and says how many sequences and rows went each way", async () => {
    const data = csv("split.csv", 10, 30);
    const r = await cli(["train", data, "--target", "y", "--time", "t", "--sequence", "id", ...small, "--epochs", "1", "--valid-split", "0.2", "--out", path.join(dir, "split.safetensors")]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /--valid-split 0\.2: split by sequence; 8 sequences \(240 rows\) for training, 2 sequences \(60 rows\) for validation/);
    const one = await cli(["train", csv("one.csv", 1, 50), "--target", "y", "--features", "a", "--time", "t", ...small, "--epochs", "1", "--valid-split", "0.2", "--out", path.join(dir, "one.safetensors")]);
    assert.equal(one.code, 0, one.err);
    assert.match(one.err, /--valid-split 0\.2: one series, split in time: its last rows validate; 1 sequences \(40 rows\) for training, 1 sequences \(10 rows\) for validation/);
    // one series named by --sequence is split the same way, and the line says so
    const named = await cli(["train", csv("one-named.csv", 1, 50), "--target", "y", "--time", "t", "--sequence", "id", ...small, "--epochs", "1", "--valid-split", "0.2", "--out", path.join(dir, "one-named.safetensors")]);
    assert.equal(named.code, 0, named.err);
    assert.match(named.err, /--valid-split 0\.2: one series, split in time: its last rows validate; 1 sequences \(40 rows\) for training, 1 sequences \(10 rows\) for validation/);
  });
});

describe("ncps train refuses what it cannot do well, naming the flag or column", () => {
  const data = csv("refuse.csv", 4, 10);
  const out = path.join(dir, "refused.safetensors");
  const base = ["train", data, "--time", "t", "--sequence", "id", "--epochs", "1", "--out", out];

  test("--patience without validation data", async () => {
    const r = await cli([...base, "--target", "y", "--patience", "3"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^ncps train: --patience 3 stops on the validation loss, but there is no validation data: add --valid FILE or --valid-split FRACTION, or drop --patience$/m);
    assert.ok(!existsSync(out));
  });

  test("the target column listed as a feature", async () => {
    const r = await cli([...base, "--target", "y", "--features", "a,y"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^ncps train: --features lists the target column "y": a target cannot also be an input; drop it from --features$/m);
  });

  test("a target with no labelled row, a feature with no observed value", async () => {
    const t = await cli(["train", csv("no-target.csv", 3, 10, { emptyTarget: true }), "--target", "y", "--time", "t", "--sequence", "id", "--epochs", "1", "--out", out]);
    assert.equal(t.code, 1);
    assert.match(t.err, /^ncps train: --target: target column "y" has no labelled row in the training data \(every cell is empty or missing\)$/m);
    const f = await cli(["train", csv("no-feature.csv", 3, 10, { emptyFeature: true }), "--target", "y", "--time", "t", "--sequence", "id", "--epochs", "1", "--out", out]);
    assert.equal(f.code, 1);
    assert.match(f.err, /^ncps train: feature column "b" has no observed value in the training data \(every cell is empty or missing\): leave it out with --features COLS$/m);
    assert.ok(!existsSync(out));
  });
});

describe("ncps train replaces its outputs only when the run succeeds", () => {
  test("a run that fails after training started leaves the previous model and log as they were", async () => {
    const data = csv("staged.csv", 6, 20);
    const model = path.join(dir, "staged.safetensors");
    const log = path.join(dir, "staged.jsonl");
    const args = ["train", data, "--target", "y", "--time", "t", "--sequence", "id", ...small, "--log", log, "--out", model];
    const first = await cli([...args, "--epochs", "2"]);
    assert.equal(first.code, 0, first.err);
    assert.ok(!existsSync(`${model}.partial`) && !existsSync(`${log}.partial`), "a successful run leaves no partial files");
    const [modelBefore, logBefore] = [readFileSync(model), readFileSync(log, "utf8")];

    const failed = await cli([...args, "--epochs", "5", "--seed", "9", "--overwrite-log"], /^epoch 3\/5/);
    assert.equal(failed.code, 1);
    assert.match(failed.err, /simulated failure during training \(.*staged\.safetensors is unchanged; the run so far is in .*staged\.safetensors\.partial: --resume .*staged\.safetensors\.partial continues it\)/);
    assert.deepEqual(readFileSync(model), modelBefore, "the previous model file is untouched");
    assert.equal(readFileSync(log, "utf8"), logBefore, "the previous log is untouched");

    const resumed = await cli([...args, "--epochs", "5", "--seed", "9", "--resume", `${model}.partial`]);
    assert.equal(resumed.code, 0, resumed.err);
    assert.equal(JSON.parse(resumed.out).epochs, 5);
    assert.ok(!existsSync(`${model}.partial`));
    assert.notDeepEqual(readFileSync(model), modelBefore, "the finished run replaced the model");
  });
});
