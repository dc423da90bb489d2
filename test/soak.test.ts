/**
 * Memory that stays flat in a long-running process: several models share one engine and are trained,
 * run on batches of ever new shapes (each new shape needs new tape buffers) and streamed, round after
 * round, in an interleaved order, so every model's memory lies between the others'. After a few warm-up
 * rounds the engine's heap and the process's RSS must stop growing.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Engine } from "../src/engine/engine.js";
import { createEngine } from "../src/engine/index.js";
import { HeapAllocator } from "../src/engine/heap-allocator.js";
import { CfC } from "../src/models/cfc.js";
import { CTRNN } from "../src/models/ct-rnn.js";
import { GRU } from "../src/models/gru.js";
import { LTC } from "../src/models/ltc.js";
import { FullyConnected } from "../src/wirings/fully-connected.js";
import type { RecurrentModel } from "../src/models/recurrent.js";
import { fit } from "../src/train/fit.js";
import { sineDataset } from "./helpers/synthetic-data.js";

const ROUNDS = 24;
const WARM_UP = 4;

function modelsOn(engine: Engine): RecurrentModel[] {
  return [
    new CfC(1, 8, { backboneUnits: 8, projSize: 1, engine, seed: 1 }),
    new LTC(1, new FullyConnected(6, 1), { engine, seed: 2 }),
    new GRU(1, 6, { projSize: 1, engine, seed: 3 }),
    new CTRNN(1, 6, { projSize: 1, engine, seed: 4, solver: "rk4" }),
  ];
}

/** One round: every model trains an epoch, predicts on a batch of a shape not seen before, streams. */
async function round(models: RecurrentModel[], r: number): Promise<void> {
  const train = sineDataset(6, 5 + (r % 3), r);
  for (const m of models) await fit(m, train, { epochs: 1, batchSize: 4, lr: 0.01, seed: r });
  for (const m of models) {
    const batch = 1 + (r % 5);
    const steps = 3 + r; // a new shape every round
    const x = new Float32Array(batch * steps).map((_, i) => Math.sin(i + r));
    const out = m.predict({ shape: [batch, steps, 1], data: x }).output;
    assert.ok(out.data.every(Number.isFinite));
    const stream = m.stream();
    for (let t = 0; t < 10; t++) stream.step([Math.cos(t)], 0.5);
    stream.close();
  }
}

describe("a soak: several models on one engine", () => {
  for (const backend of ["wasm", "reference"] as const) {
    test(`${backend}: the heap and the process RSS stay bounded over ${ROUNDS} rounds`, async () => {
      const engine = createEngine(backend);
      const models = modelsOn(engine);
      for (let r = 0; r < WARM_UP; r++) await round(models, r);
      const warmTop = engine.mark();
      const warmHeap = engine.heap().length;
      const warmRss = process.memoryUsage().rss;
      let highest = warmTop;
      for (let r = WARM_UP; r < ROUNDS; r++) {
        await round(models, r);
        highest = Math.max(highest, engine.mark());
      }
      // Each round's batch is larger than the last (3 + r steps), so tapes grow a little; leaking instead
      // (the old behaviour) kept every round's buffers: measured 3.6x the warm heap top after 24 rounds.
      assert.ok(highest < 2 * warmTop, `heap top ${warmTop} after warm-up, up to ${highest} later`);
      assert.ok(engine.heap().length <= 2 * warmHeap, `heap ${warmHeap} elements after warm-up, ${engine.heap().length} later`);
      const grown = (process.memoryUsage().rss - warmRss) / 2 ** 20;
      assert.ok(grown < 150, `RSS grew by ${grown.toFixed(0)} MiB after warm-up`);
    });
  }
});

describe("the heap allocator", () => {
  test("freed blocks are reused, merged, and lower the top", () => {
    const a = new HeapAllocator(8);
    const grown: number[] = [];
    const grow = (end: number) => void grown.push(end);
    const p = a.alloc(5, grow); // 8 elements
    const q = a.alloc(4, grow);
    const r = a.alloc(4, grow);
    assert.deepEqual([p, q, r], [8, 16, 20]);
    a.free(q, 4);
    assert.equal(a.alloc(3, grow), 16, "a freed block is reused");
    a.free(16, 3);
    a.free(p, 5);
    assert.equal(a.inUse(), 4);
    assert.equal(a.alloc(12, grow), 8, "neighbouring free blocks merge");
    a.free(8, 12);
    a.free(r, 4);
    assert.equal(a.mark(), 8, "the top comes down to the base once all is free");
    assert.equal(a.inUse(), 0);
    assert.deepEqual(grown, [16, 20, 24]);
  });

  test("freeing what was not allocated, or twice, throws", () => {
    const a = new HeapAllocator(0);
    const p = a.alloc(8, () => undefined);
    a.alloc(4, () => undefined);
    assert.throws(() => a.free(100, 4), /free: 4 elements at 100 were not allocated/);
    assert.throws(() => a.free(2, 4), /not allocated/);
    a.free(p, 8);
    assert.throws(() => a.free(p, 8), /overlap memory that is already free/);
  });

  test("release drops the free blocks above the mark; recordAllocations lists what alloc handed out", () => {
    const a = new HeapAllocator(0);
    const log: number[] = [];
    a.alloc(4, () => undefined);
    const mark = a.mark();
    a.recordAllocations(log);
    const x = a.alloc(6, () => undefined);
    const y = a.alloc(4, () => undefined);
    a.recordAllocations(null);
    a.alloc(4, () => undefined);
    assert.deepEqual(log, [x, 6, y, 4]);
    a.free(x, 6);
    a.release(mark);
    assert.equal(a.mark(), mark);
    assert.equal(a.inUse(), 4);
    assert.equal(a.alloc(4, () => undefined), mark);
  });
});
