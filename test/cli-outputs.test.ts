/**
 * `ncps train`'s output files: --out checked and locked before training, stale temporary files of dead
 * processes removed, --checkpoint-every, the checkpoint read back before success, and --resume refusing
 * data prepared unlike the checkpoint's.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { cli } from "./helpers/cli.js";
import { readBackCheckpoint } from "../src/cli/checkpoint-readback.js";
import { CfC } from "../src/models/cfc.js";
import { readCheckpoint, saveCheckpoint } from "../src/train/checkpoint-file.js";
import { decodeSafetensors, encodeSafetensors } from "../src/io/safetensors.js";
import { projectRoot } from "./helpers/goldens.js";
import { type CsvCell, csvPieces, writeCsv } from "../src/io/csv.js";
import { writeChunksAtomic } from "../src/io/atomic.js";
import { fit } from "../src/train/trainer.js";
import { sineDataset } from "./helpers/synthetic-data.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "ncps-outputs-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function waveCsv(rows: number, scale = 1): string {
  const lines = ["a,b,y"];
  for (let i = 0; i < rows; i++) lines.push(`${(scale * Math.sin(i)).toFixed(6)},${Math.cos(i).toFixed(6)},${(Math.sin(i) - Math.cos(i)).toFixed(6)}`);
  return lines.join("\n") + "\n";
}

/** The id of a process that has exited (nothing else is likely to take it in the test's time). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

const data = path.join(dir, "wave.csv");
writeFileSync(data, waveCsv(120));
const base = ["train", data, "--target", "y", "--window", "8", "--units", "4", "--backbone-units", "8", "--quiet"];
/** Files in the test folder (to show nothing was left behind). */
const listing = (sub = dir) => readdirSync(sub).sort();

describe("--out is checked before training", () => {
  test("a missing directory: exit 1 naming --out and the path, before any epoch, nothing written", async () => {
    const out = path.join(dir, "no-such-dir", "m.safetensors");
    const before = listing();
    const r = await cli(...base.filter((a) => a !== "--quiet"), "--epochs", "1", "--out", out);
    assert.equal(r.code, 1);
    assert.match(r.err, /--out .*no-such-dir[/\\]m\.safetensors: directory .*no-such-dir does not exist/);
    assert.doesNotMatch(r.err, /epoch|parameters/);
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
    assert.deepEqual(listing(), before);
  });

  test("--out naming a directory: exit 1 naming it", async () => {
    const out = path.join(dir, "a-dir");
    mkdirSync(out);
    const r = await cli(...base, "--epochs", "1", "--out", out);
    assert.equal(r.code, 1);
    assert.match(r.err, /--out .*a-dir is a directory/);
    assert.deepEqual(readdirSync(out), []);
    assert.ok(!existsSync(`${out}.lock`));
  });

  test("--log in a missing directory: exit 1 naming --log", async () => {
    const out = path.join(dir, "log-dir.safetensors");
    const r = await cli(...base, "--epochs", "1", "--out", out, "--log", path.join(dir, "missing", "run.jsonl"));
    assert.equal(r.code, 1);
    assert.match(r.err, /--log .*missing[/\\]run\.jsonl: directory .* does not exist/);
    assert.ok(!existsSync(out) && !existsSync(`${out}.lock`));
  });

  test("a directory that cannot be written: exit 1 naming it", { skip: process.getuid?.() === 0 ? "running as root: every directory is writable" : false }, async () => {
    const locked = path.join(dir, "read-only");
    mkdirSync(locked, { mode: 0o555 });
    const r = await cli(...base, "--epochs", "1", "--out", path.join(locked, "m.safetensors"));
    assert.equal(r.code, 1);
    assert.match(r.err, /--out .*read-only[/\\]m\.safetensors: directory .*read-only is not writable/);
  });
});

describe("a lock on --out", () => {
  test("a second run writing the same --out while the first trains exits 1 naming the lock and the pid; the first succeeds", async () => {
    const out = path.join(dir, "both.safetensors");
    const launcher = path.join(projectRoot, "scripts/dev-cli.ts");
    const first = spawn(process.execPath, ["--import", "tsx", launcher, ...base, "--epochs", "100", "--out", out], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
    let firstErr = "";
    first.stderr.on("data", (d) => void (firstErr += d));
    const firstDone = new Promise<number | null>((resolve) => first.on("exit", (code) => resolve(code)));
    while (!existsSync(`${out}.lock`)) {
      if (first.exitCode !== null) assert.fail(`the first run ended before the second started: ${firstErr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const second = await cli(...base, "--epochs", "1", "--seed", "5", "--out", out);
    const firstStillRunning = first.exitCode === null;
    assert.equal(await firstDone, 0, firstErr);
    assert.ok(firstStillRunning, "the first run should outlast the second's start");
    assert.equal(second.code, 1);
    assert.equal(second.err.trim().split("\n").length, 1);
    assert.match(second.err, new RegExp(`--out .*both\\.safetensors is being written by another run: the lock .*both\\.safetensors\\.lock is held by pid ${first.pid}`));
    assert.equal(second.out, "");
    // the first run's file is whole, and the lock is gone
    assert.equal(readCheckpoint(out).training?.state.epoch, 100);
    assert.ok(!existsSync(`${out}.lock`));
    assert.ok(!existsSync(`${out}.partial`));
  });

  test("a lock held by a live process stops the run and is left alone", async () => {
    const out = path.join(dir, "held.safetensors");
    // the test runner that started this file is alive for as long as the test runs
    writeFileSync(`${out}.lock`, `${process.ppid}\n`);
    const r = await cli(...base, "--epochs", "1", "--out", out);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`lock .*held\\.safetensors\\.lock is held by pid ${process.ppid}`));
    assert.equal(readFileSync(`${out}.lock`, "utf8"), `${process.ppid}\n`);
    assert.ok(!existsSync(out) && !existsSync(`${out}.partial`));
  });

  test("a lock left by a dead process is taken over, and removed when the run ends", async () => {
    const out = path.join(dir, "stale-lock.safetensors");
    writeFileSync(`${out}.lock`, `${deadPid()}\n`);
    const r = await cli(...base, "--epochs", "1", "--out", out);
    assert.equal(r.code, 0, r.err);
    assert.ok(existsSync(out));
    assert.ok(!existsSync(`${out}.lock`));
  });

  test("the lock is removed when the run fails", async () => {
    const out = path.join(dir, "fails.safetensors");
    const r = await cli(...base, "--epochs", "1", "--target", "nope", "--out", out);
    assert.equal(r.code, 1);
    assert.ok(!existsSync(`${out}.lock`));
  });
});

describe("stale temporary files", () => {
  test("hidden temporary files of dead processes beside --out are removed; those of live ones stay", async () => {
    const sub = path.join(dir, "temps");
    mkdirSync(sub);
    const out = path.join(sub, "m.safetensors");
    const dead = deadPid();
    const stale = [path.join(sub, `.m.safetensors.partial.${dead}.0123456789ab.tmp`), path.join(sub, `.m.safetensors.${dead}.ba9876543210.tmp`)];
    const live = path.join(sub, `.m.safetensors.partial.${process.ppid}.00aa00aa00aa.tmp`);
    const unrelated = path.join(sub, `.other.safetensors.${dead}.0123456789ab.tmp`);
    for (const f of [...stale, live, unrelated]) writeFileSync(f, "half a checkpoint");
    const r = await cli(...base, "--epochs", "1", "--out", out);
    assert.equal(r.code, 0, r.err);
    for (const f of stale) assert.ok(!existsSync(f), f);
    assert.ok(existsSync(live));
    assert.ok(existsSync(unrelated));
    assert.deepEqual(listing(sub), [path.basename(live), path.basename(unrelated), "m.safetensors"].sort());
  });
});

describe("--checkpoint-every", () => {
  test("fit writes the checkpoint every N epochs and at the end", async () => {
    const file = path.join(dir, "every.safetensors");
    const model = new CfC(1, 4, { backboneUnits: 8, projSize: 1, backend: "reference", seed: 1 });
    const seen: Array<number | null> = [];
    await fit(model, sineDataset(6, 8, 1), {
      epochs: 5,
      checkpointPath: file,
      checkpointEvery: 2,
      callbacks: { onEpochEnd: () => void seen.push(existsSync(file) ? readCheckpoint(file).training!.state.epoch : null) },
    });
    assert.deepEqual(seen, [null, 2, 2, 4, 4]);
    assert.equal(readCheckpoint(file).training!.state.epoch, 5);
  });

  test("ncps train --checkpoint-every 2 --epochs 3 saves epoch 3; 0 is a usage error naming the flag", async () => {
    const out = path.join(dir, "every-cli.safetensors");
    const r = await cli(...base, "--epochs", "3", "--checkpoint-every", "2", "--out", out);
    assert.equal(r.code, 0, r.err);
    assert.equal(readCheckpoint(out).training!.state.epoch, 3);
    const bad = await cli(...base, "--epochs", "3", "--checkpoint-every", "0", "--out", path.join(dir, "every-0.safetensors"));
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--checkpoint-every/);
    assert.ok(!existsSync(path.join(dir, "every-0.safetensors")) && !existsSync(path.join(dir, "every-0.safetensors.lock")));
  });
});

describe("the written checkpoint is read back", () => {
  const model = () => new CfC(2, 4, { backboneUnits: 8, projSize: 1, backend: "reference", seed: 3 });

  test("a file holding the model passes", () => {
    const m = model();
    const file = path.join(dir, "back-ok.safetensors");
    saveCheckpoint(file, m, {}, { dtype: "float64" });
    readBackCheckpoint(file, m);
  });

  test("other weights, another model, a non-finite value or a damaged file: an error naming the file and tensor", () => {
    const m = model();
    const file = path.join(dir, "back-bad.safetensors");
    saveCheckpoint(file, model(), {}, { dtype: "float64" });
    const other = new CfC(2, 4, { backboneUnits: 8, projSize: 1, backend: "reference", seed: 4 });
    assert.throws(() => readBackCheckpoint(file, other), /the checkpoint written to .*back-bad\.safetensors does not read back: tensor "[^"]+"\[\d+\] is .*, the trained model has/);
    const wider = new CfC(2, 5, { backboneUnits: 8, projSize: 1, backend: "reference", seed: 3 });
    assert.throws(() => readBackCheckpoint(file, wider), /back-bad\.safetensors does not read back: .*different model/);
    saveCheckpoint(file, m, {}, { dtype: "float64" });
    const decoded = decodeSafetensors(readFileSync(file), file);
    const tensors = [...decoded.tensors].map(([n, t]) => ({ name: n, shape: [...t.shape], data: Float64Array.from(t.data as Float64Array) }));
    const name = tensors[0]!.name;
    tensors[0]!.data[0] = NaN;
    writeFileSync(file, encodeSafetensors(tensors, decoded.metadata));
    assert.throws(() => readBackCheckpoint(file, m), new RegExp(`back-bad\\.safetensors does not read back: tensor "${name.replace(/\./g, "\\.")}" holds a non-finite value at index 0`));
    writeFileSync(file, readFileSync(file).subarray(0, 40));
    assert.throws(() => readBackCheckpoint(file, m), /back-bad\.safetensors does not read back: .*back-bad\.safetensors/);
  });
});

describe("--resume on data prepared differently", () => {
  const first = path.join(dir, "resume-first.safetensors");
  const scaled = path.join(dir, "wave-scaled.csv");
  writeFileSync(scaled, waveCsv(120, 10));

  test("is refused naming the resumed file and what differs; the checkpoint is untouched", async () => {
    const t = await cli(...base, "--epochs", "1", "--out", first);
    assert.equal(t.code, 0, t.err);
    const bytes = readFileSync(first);
    const r = await cli("train", scaled, ...base.slice(2), "--epochs", "2", "--resume", first, "--out", first);
    assert.equal(r.code, 1);
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
    assert.match(r.err, /--resume .*resume-first\.safetensors: this data is prepared differently from the data the checkpoint was trained on \(normalization\.featureMean\[0\]: checkpoint [-0-9.e]+, this data [-0-9.e]+; normalization\.featureStd\[0\]/);
    assert.match(r.err, /--allow-new-normalization/);
    assert.deepEqual(readFileSync(first), bytes);
    assert.ok(!existsSync(`${first}.partial`) && !existsSync(`${first}.lock`));
  });

  test("other columns are named too", async () => {
    const r = await cli(...base, "--features", "a", "--epochs", "2", "--resume", first, "--out", path.join(dir, "resume-cols.safetensors"));
    assert.equal(r.code, 1);
    assert.match(r.err, /data\.features has 1 entries, the checkpoint's 2/);
    assert.ok(!existsSync(path.join(dir, "resume-cols.safetensors")));
  });

  test("--allow-new-normalization trains on, with a warning, and stores the new statistics", async () => {
    const out = path.join(dir, "resume-allowed.safetensors");
    const r = await cli("train", scaled, ...base.slice(2).filter((a) => a !== "--quiet"), "--epochs", "2", "--resume", first, "--out", out, "--allow-new-normalization");
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /warning: --resume .*prepared differently.*--allow-new-normalization/);
    const was = readCheckpoint(first).extras.normalization!.featureStd[0]!;
    const now = readCheckpoint(out).extras.normalization!.featureStd[0]!;
    assert.ok(Math.abs(now / was - 10) < 1e-3, `${was} -> ${now}`);
  });

  test("the same data resumes without a word", async () => {
    const out = path.join(dir, "resume-same.safetensors");
    const r = await cli(...base.filter((a) => a !== "--quiet"), "--epochs", "2", "--resume", first, "--out", out);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.err, /warning/);
  });
});

describe("predict writes its output as it goes", () => {
  test("csvPieces yields writeCsv's text in pieces of the asked size", () => {
    const header = ["a", "b,c"];
    const rows: CsvCell[][] = Array.from({ length: 500 }, (_, r) => [r / 7, r % 3 === 0 ? 'say "hi"' : NaN]);
    const pieces = [...csvPieces(header, rows, { pieceChars: 256 })];
    assert.ok(pieces.length > 10, `${pieces.length} pieces`);
    assert.ok(pieces.slice(0, -1).every((p) => p.length >= 256 && p.endsWith("\n")));
    assert.equal(pieces.join(""), writeCsv(header, rows));
  });

  test("a failure midway leaves the previous file and no temporary file", () => {
    const sub = path.join(dir, "chunks");
    mkdirSync(sub);
    const target = path.join(sub, "pred.csv");
    writeFileSync(target, "old\n");
    function* failing(): Generator<string> {
      yield "a,b\n";
      throw new Error("the model failed on row 2");
    }
    assert.throws(() => writeChunksAtomic(target, failing()), /row 2/);
    assert.equal(readFileSync(target, "utf8"), "old\n");
    assert.deepEqual(listing(sub), ["pred.csv"]);
    writeChunksAtomic(target, ["a,b\n", "1,2\n"]);
    assert.equal(readFileSync(target, "utf8"), "a,b\n1,2\n");
  });

  test("ncps predict --out over many pieces equals the stdout output", async () => {
    const big = path.join(dir, "wave-big.csv");
    writeFileSync(big, waveCsv(30_000));
    const model = path.join(dir, "wave-big.safetensors");
    assert.equal((await cli(...base, "--epochs", "1", "--out", model)).code, 0);
    const pred = path.join(dir, "wave-big-pred.csv");
    const toFile = await cli("predict", model, big, "--out", pred);
    assert.equal(toFile.code, 0, toFile.err);
    assert.match(toFile.err, /wrote .*wave-big-pred\.csv \(30000 rows, columns pred_y\)/);
    const toStdout = await cli("predict", model, big);
    assert.equal(toStdout.code, 0);
    const text = readFileSync(pred, "utf8");
    assert.ok(text.length > 1 << 20, "more than one piece");
    assert.equal(text, toStdout.out);
    assert.equal(text.split("\n").length, 30_002);
  });
});
