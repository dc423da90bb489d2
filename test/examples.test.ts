/** The examples run as documented. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { projectRoot } from "./helpers/goldens.js";

for (const name of ["quickstart.ts", "custom-loop.ts"]) {
  test(`examples/${name} runs`, () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(projectRoot, "examples", name)], { encoding: "utf8", cwd: projectRoot, timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.length > 0);
  });
}
