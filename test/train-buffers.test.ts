// labelRows refilling a previous result (what the batch assembler does every step) against fresh ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SequenceDataset } from "../src/data/dataset.js";
import { labelRows, type LabelRows } from "../src/train/shard.js";

function dataset(targetMode: "per_step" | "last"): SequenceDataset {
  const N = 7;
  const L = 5;
  const T = 3;
  const yLen = targetMode === "last" ? N * T : N * L * T;
  return {
    size: N, steps: L, features: 1, x: new Float32Array(N * L), timespans: null,
    lengths: Int32Array.from({ length: N }, (_, i) => 1 + (i % L)),
    task: "regress", targetMode,
    y: Float32Array.from({ length: yLen }, (_, i) => Math.sin(i) * 10),
    targets: T, numClasses: 0,
    targetMask: targetMode === "per_step" ? Uint8Array.from({ length: N * L }, (_, i) => (i % 4 === 3 ? 0 : 1)) : null,
  };
}

for (const mode of ["per_step", "last"] as const) {
  test(`labelRows into a previous result equals a fresh one and keeps its arrays (${mode})`, () => {
    const ds = dataset(mode);
    const batches = [[0, 3, 5], [6, 1, 2], [4, 4, 0]];
    let previous: LabelRows | undefined;
    for (const b of batches) {
      const fresh = labelRows(ds, b);
      const reused = labelRows(ds, b, previous);
      assert.deepEqual([...reused.targets], [...fresh.targets]);
      assert.deepEqual(reused.mask && [...reused.mask], fresh.mask && [...fresh.mask]);
      assert.equal(reused.n, fresh.n);
      if (previous) {
        assert.equal(reused.targets, previous.targets, "targets array reused");
        assert.equal(reused.mask, previous.mask, "mask array reused");
      }
      previous = reused;
    }
    // a different batch size gets new arrays of the right length
    const other = labelRows(ds, [1, 2], previous);
    assert.deepEqual([...other.targets], [...labelRows(ds, [1, 2]).targets]);
  });
}
