import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { SequenceDataset } from "../src/data/dataset.js";
import { wasmSimdSupported } from "../src/engine/index.js";
import { CfC } from "../src/models/cfc.js";
import type { RecurrentModel } from "../src/models/recurrent.js";
import { fit, splitEvenly, WorkerPool, type FitOptions } from "../src/train/index.js";
import { relativeError } from "./helpers/goldens.js";
import { signDataset, sineDataset, withFields } from "./helpers/synthetic-data.js";

/** Records every pool fit creates, to check afterwards that its threads are gone. */
const pools: WorkerPool[] = [];
const originalCreate = WorkerPool.create;
WorkerPool.create = async (...args: Parameters<typeof WorkerPool.create>) => {
  const pool = await originalCreate.apply(WorkerPool, args);
  pools.push(pool);
  return pool;
};
afterEach(() => {
  for (const p of pools) assert.equal(p.alive, 0, "every worker thread has ended");
  pools.length = 0;
});

async function trainWith(threads: number, model: RecurrentModel, ds: SequenceDataset, options: Partial<FitOptions> = {}) {
  const result = await fit(model, ds, { epochs: 2, batchSize: 10, lr: 0.01, seed: 3, threads, ...options });
  return { result, weights: model.stateDict() };
}

function assertClose(a: Map<string, { data: ArrayLike<number> }>, b: Map<string, { data: ArrayLike<number> }>, tol: number): void {
  for (const [name, t] of a) {
    const err = relativeError(b.get(name)!.data, t.data);
    assert.ok(err <= tol, `${name}: relative difference ${err}`);
  }
}

describe("data-parallel training on worker threads", () => {
  test("2 threads give the 1-thread weights and losses (per-step targets, timespans, masks, validation)", async () => {
    const train = sineDataset(40, 8, 1);
    const valid = sineDataset(13, 8, 2);
    const make = () => new CfC(1, 8, { backboneUnits: 16, projSize: 1, backend: "reference", seed: 4 });
    const one = await trainWith(1, make(), train, { valid });
    const two = await trainWith(2, make(), train, { valid });
    assert.equal(pools.length, 1, "the 2-thread run used a worker pool");
    assertClose(one.weights, two.weights, 1e-5);
    for (let e = 0; e < 2; e++) {
      const [h1, h2] = [one.result.history[e], two.result.history[e]];
      assert.ok(Math.abs(h1.trainLoss - h2.trainLoss) <= 1e-9 * Math.abs(h1.trainLoss), `epoch ${e + 1} train loss ${h1.trainLoss} vs ${h2.trainLoss}`);
      assert.ok(Math.abs(h1.validLoss! - h2.validLoss!) <= 1e-9 * h1.validLoss!, `epoch ${e + 1} valid loss`);
    }
    // the weights did move, so the comparison means something
    assert.ok(relativeError(make().stateDict().get("fc.weight")!.data, one.weights.get("fc.weight")!.data) > 1e-3);
  });

  test("3 threads, last-step targets with lengths, uneven shards and class weights", async () => {
    const train = signDataset(23, 7, 1);
    const make = () => new CfC(2, 6, { backboneUnits: 8, projSize: 2, backend: "reference", seed: 2 });
    const options = { batchSize: 7, classWeights: [1, 2.5], valid: signDataset(9, 7, 3) };
    const one = await trainWith(1, make(), train, options);
    const three = await trainWith(3, make(), train, options);
    assertClose(one.weights, three.weights, 1e-5);
    assert.ok(Math.abs(one.result.history[1].validLoss! - three.result.history[1].validLoss!) < 1e-9);
  });

  test("float32 (wasm): 2 threads agree with 1 thread to float32 accuracy", { skip: wasmSimdSupported() ? false : "no WebAssembly SIMD" }, async () => {
    const train = sineDataset(40, 8, 1);
    const make = () => new CfC(1, 8, { backboneUnits: 16, projSize: 1, backend: "wasm", seed: 4 });
    const one = await trainWith(1, make(), train);
    const two = await trainWith(2, make(), train);
    // the sums run in another order in float32, and Adam's normalisation magnifies tiny gradients' differences
    assertClose(one.weights, two.weights, 1e-3);
  });

  test("an error in a worker rejects fit with the worker's message, and the threads end", async () => {
    const ds = signDataset(8, 5, 1);
    const y = Float32Array.from(ds.y);
    y[6] = 7; // not a class: sample 6 falls in the worker's half of the only batch
    const model = new CfC(2, 4, { backboneUnits: 4, projSize: 2, backend: "reference" });
    await assert.rejects(fit(model, withFields(ds, { y }), { epochs: 1, batchSize: 8, shuffle: false, threads: 2 }), /worker 0: .*class index/);
    assert.equal(pools.length, 1);
  });

  test("an error in the main thread (a throwing callback) also ends the threads", async () => {
    const ds = sineDataset(12, 4, 1);
    const model = new CfC(1, 4, { backboneUnits: 4, projSize: 1, backend: "reference" });
    const callbacks = {
      onBatchEnd: () => {
        throw new Error("callback failed");
      },
    };
    await assert.rejects(fit(model, ds, { epochs: 1, batchSize: 6, threads: 2, callbacks }), /callback failed/);
    assert.equal(pools.length, 1);
  });

  test("splitEvenly covers every item once, sizes differing by at most one", () => {
    assert.deepEqual(splitEvenly(7, 3), [[0, 3], [3, 5], [5, 7]]);
    assert.deepEqual(splitEvenly(2, 3), [[0, 1], [1, 2], [2, 2]]);
  });
});
