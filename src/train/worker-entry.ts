/**
 * The worker thread side of WorkerPool (see workers.ts): rebuilds the model replica, then serves
 * commands from its shared control block until told to stop.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { SequenceDataset } from "../data/dataset.js";
import { buildModel } from "../models/build.js";
import type { RecurrentModel } from "../models/recurrent.js";
import { Rng } from "../nn/rng.js";
import type { FloatArray, Tensor } from "../tensor.js";
import { BatchAssembler, modelShape, predictShard, trainShard } from "./shard.js";
import { CMD, CTRL, ERROR_BYTES, type SharedDataset, spinWhileEqual, type WorkerInit } from "./workers.js";

function datasetOf(s: SharedDataset): SequenceDataset {
  return {
    ...s.meta,
    x: new Float32Array(s.x),
    y: new Float32Array(s.y),
    timespans: s.timespans ? new Float32Array(s.timespans) : null,
    lengths: s.lengths ? new Int32Array(s.lengths) : null,
    targetMask: s.targetMask ? new Uint8Array(s.targetMask) : null,
  };
}

function buildReplica(init: WorkerInit): RecurrentModel {
  const model = buildModel(init.config, { backend: init.backend });
  if (model.dtype !== init.dtype) throw new Error(`replica has dtype ${model.dtype}, the main model ${init.dtype}`);
  const tensors = new Map<string, Tensor>();
  for (const t of init.stateDict) tensors.set(t.name, { shape: t.shape, data: t.data });
  model.loadStateDict(tensors, "worker replica");
  const refs = model.parameters();
  if (refs.length !== init.layout.length || refs.some((p, i) => p.name !== init.layout[i].name || p.value.length !== init.layout[i].size)) {
    throw new Error("the replica's parameters do not match the main model's");
  }
  return model;
}

function serve(init: WorkerInit, model: RecurrentModel): void {
  const control = new Int32Array(init.control);
  const results = new Float64Array(init.results);
  const indicesAll = new Int32Array(init.indices);
  const errorBytes = new Uint8Array(init.error);
  const params: FloatArray = init.dtype === "float64" ? new Float64Array(init.params) : new Float32Array(init.params);
  const grads: FloatArray = init.dtype === "float64" ? new Float64Array(init.grads) : new Float32Array(init.grads);
  const shape = modelShape(model);
  const datasets = init.datasets.map(datasetOf);
  const assemblers = datasets.map((ds) => new BatchAssembler(shape, ds));
  const outputs = init.datasets.map((d) => (init.dtype === "float64" ? new Float64Array(d.out) : new Float32Array(d.out)));

  const loadParams = (): void => {
    const refs = model.parameters();
    refs.forEach((p, i) => {
      const { offset, size } = init.layout[i];
      p.value.set(params.subarray(offset, offset + size));
    });
  };

  let seen = 0;
  for (;;) {
    spinWhileEqual(control, CTRL.SEQ, seen);
    Atomics.wait(control, CTRL.SEQ, seen);
    const seq = Atomics.load(control, CTRL.SEQ);
    if (seq === seen) continue;
    seen = seq;
    const cmd = control[CTRL.CMD];
    if (cmd === CMD.STOP) break;
    try {
      const indices = indicesAll.subarray(0, control[CTRL.COUNT]);
      const d = control[CTRL.DATASET];
      loadParams();
      if (cmd === CMD.TRAIN) {
        if (!init.loss) throw new Error("training needs a loss; the pool was created without one");
        model.zeroGrad();
        model.setRngState(new Rng(control[CTRL.SEED] >>> 0).getState());
        const r = trainShard(model, assemblers[d], indices, init.loss, results[2]);
        results[0] = r.sum;
        results[1] = r.weight;
        if (r.weight > 0) {
          for (const [i, p] of model.parameters().entries()) grads.set(p.grad, init.layout[i].offset);
        }
      } else if (cmd === CMD.PREDICT) {
        const batch = Math.max(1, control[CTRL.BATCH]);
        for (let start = 0; start < indices.length; start += batch) {
          predictShard(model, assemblers[d], indices.subarray(start, Math.min(indices.length, start + batch)), outputs[d], datasets[d].targetMode);
        }
      } else {
        throw new Error(`unknown command ${cmd}`);
      }
    } catch (e) {
      const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
      const bytes = new TextEncoder().encode(text).subarray(0, ERROR_BYTES);
      errorBytes.set(bytes);
      control[CTRL.ERRLEN] = bytes.length;
      control[CTRL.STATUS] = 1;
    }
    Atomics.store(control, CTRL.DONE, seq);
    Atomics.notify(control, CTRL.DONE);
  }
}

const init = workerData as WorkerInit;
let replica: RecurrentModel | null = null;
try {
  replica = buildReplica(init);
} catch (e) {
  parentPort!.postMessage({ ready: false, error: e instanceof Error ? e.message : String(e) });
}
if (replica) {
  parentPort!.postMessage({ ready: true });
  serve(init, replica);
}
