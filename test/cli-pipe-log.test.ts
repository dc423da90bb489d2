/** The CLI as a Unix tool: a reader that closes the pipe early ends it quietly; --log survives --resume. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { cli } from "./helpers/cli.js";
import { projectRoot } from "./helpers/goldens.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "ncps-pipe-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function waveCsv(rows: number): string {
  const lines = ["a,b,y"];
  for (let i = 0; i < rows; i++) lines.push(`${Math.sin(i).toFixed(6)},${Math.cos(i).toFixed(6)},${(Math.sin(i) - Math.cos(i)).toFixed(6)}`);
  return lines.join("\n") + "\n";
}

describe("ncps predict into a pipe closed early", () => {
  test("`ncps predict ... | head -n 1` ends quietly with exit 0", async () => {
    const data = path.join(dir, "wave.csv");
    const model = path.join(dir, "wave.safetensors");
    writeFileSync(data, waveCsv(4000));
    const t = await cli("train", data, "--target", "y", "--window", "8", "--units", "4", "--epochs", "1", "--quiet", "--out", model);
    assert.equal(t.code, 0, t.err);
    // the predictions (well over a pipe buffer) go to head, which exits after one line
    const launcher = path.join(projectRoot, "scripts/dev-cli.ts");
    const script = `"${process.execPath}" --import tsx "${launcher}" predict "${model}" "${data}" 2>"${dir}/err.txt" | head -n 1; echo "status \${PIPESTATUS[0]}"`;
    const r = spawnSync("bash", ["-c", script], { cwd: projectRoot, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const [first, status] = r.stdout.trim().split("\n");
    assert.equal(first, "a,b,y,pred_y");
    assert.equal(status, "status 0", readFileSync(`${dir}/err.txt`, "utf8"));
    assert.equal(readFileSync(`${dir}/err.txt`, "utf8"), "");
  });
});

describe("ncps train --log", () => {
  const data = path.join(dir, "log.csv");
  writeFileSync(data, waveCsv(200));
  const base = ["train", data, "--target", "y", "--window", "8", "--units", "4", "--quiet"];
  const epochsOf = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l).epoch);

  test("--resume appends to the log instead of truncating it", async () => {
    const log = path.join(dir, "resume.jsonl");
    const model = path.join(dir, "resume.safetensors");
    const first = await cli(...base, "--epochs", "2", "--log", log, "--out", model);
    assert.equal(first.code, 0, first.err);
    assert.deepEqual(epochsOf(log), [1, 2]);
    const resumed = await cli(...base, "--epochs", "4", "--resume", model, "--log", log, "--out", model);
    assert.equal(resumed.code, 0, resumed.err);
    assert.deepEqual(epochsOf(log), [1, 2, 3, 4]);
    assert.equal(existsSync(`${log}.partial`), false);
  });

  test("a new run over an existing log is refused unless --overwrite-log", async () => {
    const log = path.join(dir, "fresh.jsonl");
    const model = path.join(dir, "fresh.safetensors");
    assert.equal((await cli(...base, "--epochs", "3", "--log", log, "--out", model)).code, 0);
    const before = readFileSync(log, "utf8");
    const refused = await cli(...base, "--epochs", "1", "--log", log, "--out", model);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /--log .*fresh\.jsonl exists: give --overwrite-log to replace it, --resume to continue its run, or another file/);
    assert.equal(readFileSync(log, "utf8"), before);
    const replaced = await cli(...base, "--epochs", "1", "--log", log, "--overwrite-log", "--out", model);
    assert.equal(replaced.code, 0, replaced.err);
    assert.deepEqual(epochsOf(log), [1]);
  });
});
