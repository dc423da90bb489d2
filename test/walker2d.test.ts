/** The Walker2d pipeline reproduces the reference statistics recorded in ../shared/data/walker2d/SOURCE.md. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { loadWalker2d } from "../src/data/walker2d.js";
import { sharedDir } from "./helpers/goldens.js";

const dir = path.join(sharedDir, "data/walker2d");
const skip = existsSync(path.join(dir, "split.json")) ? false : `Walker2d data not found at ${dir}: skipping`;

test("Walker2d windows, sums and elapsed times match the reference pipeline", { skip }, () => {
  const d = loadWalker2d(dir);
  const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
  const expect = {
    train: [9684, 1520128.5244965684, 689148, 1521422.5623976924],
    valid: [1272, 193639.38187467924, 90842, 193769.45977290478],
    test: [1937, 317805.6338384162, 137806, 314148.68460457795],
  } as const;
  for (const k of ["train", "valid", "test"] as const) {
    const ds = d[k];
    const [n, sx, st, sy] = expect[k];
    assert.equal(ds.size, n, `${k} windows`);
    assert.equal(ds.steps, 64);
    assert.ok(Math.abs(sum(ds.x) - sx) < 1e-6 * Math.abs(sx), `${k} sum(x) ${sum(ds.x)} vs ${sx}`);
    assert.equal(sum(ds.timespans!), st, `${k} sum(elapsed)`);
    assert.ok(Math.abs(sum(ds.y) - sy) < 1e-6 * Math.abs(sy), `${k} sum(y)`);
  }
});
