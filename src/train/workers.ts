/**
 * Data-parallel training on worker threads. Each worker holds a copy of the model (rebuilt from
 * `model.toConfig()` and the weights) and computes the gradient of its slice of every batch; the main
 * thread computes a slice too, sums the gradients in a fixed order (main, worker 0, worker 1, ...) and
 * takes the one optimizer step.
 *
 * Nothing is copied per step: the datasets, the parameters, every worker's gradients and the batch
 * indices live in SharedArrayBuffers. A command is a few integers in a worker's control block; the
 * worker sleeps in Atomics.wait until the block's sequence number moves, runs the command and publishes
 * the sequence number it finished. The main thread waits with Atomics.waitAsync, so its event loop still
 * sees a worker that dies and can report it instead of hanging. One round trip per training step (the
 * forward and backward of a whole sequence), never per time step.
 */
import { Worker } from "node:worker_threads";
import type { SequenceDataset, TargetMode } from "../data/dataset.js";
import type { RecurrentModel } from "../models/recurrent.js";
import { arrayFor, type DType, type FloatArray } from "../tensor.js";
import type { LossSpec } from "./losses.js";
import type { ParamRef } from "../nn/param-ref.js";
import { splitEvenly } from "./shard.js";

export { splitEvenly };

/**
 * Waking a sleeping thread costs about 0.1-0.2 ms on a small virtual machine, as much as a whole step of
 * a tiny model, so both sides first watch the flag for a short while before going to sleep.
 */
export const SPIN_MS = 0.2;

/** Busy-waits up to SPIN_MS while array[index] still equals `value`. */
export function spinWhileEqual(array: Int32Array, index: number, value: number): void {
  const until = performance.now() + SPIN_MS;
  while (Atomics.load(array, index) === value && performance.now() < until);
}

/** Slots of a worker's Int32 control block. */
export const CTRL = {
  SEQ: 0, // command sequence number, bumped by the main thread
  CMD: 1,
  DONE: 2, // last sequence number the worker finished
  STATUS: 3, // 0 ok, 1 the command failed (message in the error buffer)
  COUNT: 4, // number of sample indices
  DATASET: 5,
  SEED: 6, // dropout seed of this training step
  BATCH: 7, // samples per forward pass when predicting
  ERRLEN: 8,
  SIZE: 16,
} as const;

export const CMD = { TRAIN: 1, PREDICT: 2, STOP: 3 } as const;

export const ERROR_BYTES = 8192;

/** Atomics.waitAsync (Node 16+), missing from the ES2022 type library this project compiles against. */
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

/** A dataset as workers see it: its sizes, and its arrays in shared memory. */
export interface SharedDataset {
  meta: {
    size: number;
    steps: number;
    features: number;
    task: SequenceDataset["task"];
    targetMode: TargetMode;
    targets: number;
    numClasses: number;
  };
  x: SharedArrayBuffer;
  y: SharedArrayBuffer;
  timespans: SharedArrayBuffer | null;
  lengths: SharedArrayBuffer | null;
  targetMask: SharedArrayBuffer | null;
  /** predictions in the dataset's targetMode, model dtype */
  out: SharedArrayBuffer;
}

/** Everything a worker starts from (structured-cloned once; SharedArrayBuffers are shared, not copied). */
export interface WorkerInit {
  index: number;
  config: { model: string; constructor_args: Record<string, unknown> };
  backend: RecurrentModel["engine"]["kind"];
  dtype: DType;
  stateDict: Array<{ name: string; shape: number[]; data: FloatArray }>;
  layout: Array<{ name: string; offset: number; size: number }>;
  params: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  control: SharedArrayBuffer;
  results: SharedArrayBuffer;
  indices: SharedArrayBuffer;
  error: SharedArrayBuffer;
  datasets: SharedDataset[];
  loss: LossSpec | null;
}

/** The array's memory as a SharedArrayBuffer: its own when it already is one, else a copy. */
function sharedCopy<T extends Float32Array | Int32Array | Uint8Array>(src: T): SharedArrayBuffer {
  if (src.buffer instanceof SharedArrayBuffer && src.byteOffset === 0 && src.byteLength === src.buffer.byteLength) return src.buffer;
  const sab = new SharedArrayBuffer(src.byteLength);
  new Uint8Array(sab).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
  return sab;
}

function floatView(sab: SharedArrayBuffer, dtype: DType): FloatArray {
  return dtype === "float64" ? new Float64Array(sab) : new Float32Array(sab);
}

function sharedFloats(n: number, dtype: DType): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(1, n) * (dtype === "float64" ? 8 : 4));
}

/** Where the worker entry is, and how to start it: from TypeScript under tsx (tests) or compiled (dist). */
function workerSource(): { file: URL | string; eval: boolean } {
  const self = new URL(import.meta.url);
  if (!self.pathname.endsWith(".ts")) return { file: new URL("./worker-entry.js", self), eval: false };
  // Node 20 workers do not inherit the parent's --import loaders reliably, so a tiny bootstrap registers
  // tsx's loader inside the worker and then imports the TypeScript entry.
  let api: string;
  try {
    api = import.meta.resolve("tsx/esm/api");
  } catch (e) {
    throw new Error(`worker threads: running from TypeScript source needs the tsx package (${(e as Error).message})`);
  }
  const entry = new URL("./worker-entry.ts", self).href;
  return { file: `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`, eval: true };
}

interface WorkerSlot {
  worker: Worker;
  control: Int32Array;
  results: Float64Array;
  indices: Int32Array;
  grads: FloatArray;
  error: Uint8Array;
  /** set when the worker died or failed to start */
  failure: Error | null;
  exited: Promise<void>;
  seq: number;
}

/**
 * A pool of worker threads, each with a model replica, working on the datasets given at creation (by
 * position). Always `close()` it (also after errors) so the threads end.
 */
export class WorkerPool {
  private closed = false;
  private readonly paramValues: FloatArray;
  private readonly outputs: FloatArray[];

  private constructor(
    private readonly slots: WorkerSlot[],
    private readonly layout: Array<{ name: string; offset: number; size: number }>,
    params: SharedArrayBuffer,
    private readonly dtype: DType,
    private readonly shared: SharedDataset[],
  ) {
    this.paramValues = floatView(params, dtype);
    this.outputs = shared.map((d) => floatView(d.out, dtype));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Number of worker threads still running. */
  get alive(): number {
    return this.slots.filter((s) => s.failure === null).length;
  }

  /**
   * Starts `workers` threads with replicas of `model` and the datasets in shared memory. `loss` is
   * needed for training commands; prediction works without it.
   */
  static async create(model: RecurrentModel, datasets: readonly SequenceDataset[], workers: number, loss: LossSpec | null): Promise<WorkerPool> {
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`WorkerPool: workers must be a positive integer, got ${workers}`);
    const dtype = model.dtype;
    const refs = model.parameters();
    const layout: Array<{ name: string; offset: number; size: number }> = [];
    let total = 0;
    for (const p of refs) {
      layout.push({ name: p.name, offset: total, size: p.value.length });
      total += p.value.length;
    }
    const params = sharedFloats(total, dtype);
    const maxSamples = Math.max(1, ...datasets.map((d) => d.size));
    const shared: SharedDataset[] = datasets.map((ds) => {
      const rows = ds.targetMode === "last" ? ds.size : ds.size * ds.steps;
      return {
        meta: { size: ds.size, steps: ds.steps, features: ds.features, task: ds.task, targetMode: ds.targetMode, targets: ds.targets, numClasses: ds.numClasses },
        x: sharedCopy(ds.x),
        y: sharedCopy(ds.y),
        timespans: ds.timespans ? sharedCopy(ds.timespans) : null,
        lengths: ds.lengths ? sharedCopy(ds.lengths) : null,
        targetMask: ds.targetMask ? sharedCopy(ds.targetMask) : null,
        out: sharedFloats(rows * model.outputSize, dtype),
      };
    });
    const stateDict = [...model.stateDict()].map(([name, t]) => ({ name, shape: [...t.shape], data: t.data }));
    const config = model.toConfig();
    const source = workerSource();
    const slots: WorkerSlot[] = [];
    const ready: Promise<void>[] = [];
    for (let k = 0; k < workers; k++) {
      const init: WorkerInit = {
        index: k,
        config,
        backend: model.engine.kind,
        dtype,
        stateDict,
        layout,
        params,
        grads: sharedFloats(total, dtype),
        control: new SharedArrayBuffer(CTRL.SIZE * 4),
        results: new SharedArrayBuffer(4 * 8),
        indices: new SharedArrayBuffer(maxSamples * 4),
        error: new SharedArrayBuffer(ERROR_BYTES),
        datasets: shared,
        loss,
      };
      const worker = new Worker(source.file, { eval: source.eval, workerData: init, execArgv: [], stdout: false, stderr: false });
      const slot: WorkerSlot = {
        worker,
        control: new Int32Array(init.control),
        results: new Float64Array(init.results),
        indices: new Int32Array(init.indices),
        grads: floatView(init.grads, dtype),
        error: new Uint8Array(init.error),
        failure: null,
        exited: Promise.resolve(),
        seq: 0,
      };
      slot.exited = new Promise<void>((resolve) => {
        worker.once("exit", (code) => {
          if (!slot.failure) slot.failure = new Error(`worker ${k} exited (code ${code})`);
          // wake a main thread waiting for this worker's answer
          Atomics.notify(slot.control, CTRL.DONE);
          resolve();
        });
      });
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.once("message", (m: { ready?: boolean; error?: string }) => {
            if (m && m.ready) resolve();
            else reject(new Error(`worker ${k} failed to start: ${m?.error ?? JSON.stringify(m)}`));
          });
          worker.once("error", (e) => {
            slot.failure = new Error(`worker ${k} failed: ${e.message}`);
            reject(slot.failure);
          });
          worker.once("exit", (code) => reject(new Error(`worker ${k} exited during start-up (code ${code})`)));
        }),
      );
      slots.push(slot);
    }
    const pool = new WorkerPool(slots, layout, params, dtype, shared);
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    }
    for (const s of slots) {
      s.worker.removeAllListeners("message");
      s.worker.removeAllListeners("error");
      // A failure after start-up is reported by the next command that waits for the worker. The threads
      // stay referenced: Atomics.waitAsync alone would not keep the process alive while they work.
      s.worker.on("error", (e) => {
        s.failure = new Error(`worker ${slots.indexOf(s)} failed: ${e.message}`);
      });
    }
    return pool;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("WorkerPool: the pool is closed");
  }

  /** Publishes the current parameter values for the workers to read. */
  private publishParams(params: readonly ParamRef[]): void {
    if (params.length !== this.layout.length) throw new Error(`WorkerPool: the model has ${params.length} parameters, the pool was built for ${this.layout.length}`);
    for (let i = 0; i < params.length; i++) this.paramValues.set(params[i].value, this.layout[i].offset);
  }

  private send(slot: WorkerSlot, cmd: number, fields: Partial<Record<keyof typeof CTRL, number>>, indices: ArrayLike<number>): void {
    if (slot.failure) throw slot.failure;
    slot.indices.set(indices);
    const c = slot.control;
    c[CTRL.CMD] = cmd;
    c[CTRL.COUNT] = indices.length;
    for (const [k, v] of Object.entries(fields)) c[CTRL[k as keyof typeof CTRL]] = v as number;
    c[CTRL.STATUS] = 0;
    slot.seq += 1;
    Atomics.store(c, CTRL.SEQ, slot.seq);
    Atomics.notify(c, CTRL.SEQ);
  }

  private async wait(slot: WorkerSlot): Promise<void> {
    const c = slot.control;
    const first = Atomics.load(c, CTRL.DONE);
    if (first !== slot.seq) spinWhileEqual(c, CTRL.DONE, first);
    for (;;) {
      const done = Atomics.load(c, CTRL.DONE);
      if (done === slot.seq) break;
      if (slot.failure) throw slot.failure;
      const w = waitAsync(c, CTRL.DONE, done);
      if (w.async) await w.value;
    }
    if (c[CTRL.STATUS] !== 0) {
      const text = new TextDecoder().decode(slot.error.slice(0, c[CTRL.ERRLEN]));
      throw new Error(`worker ${this.slots.indexOf(slot)}: ${text}`);
    }
  }

  /**
   * Starts a training step: worker k computes the gradient of `shards[k]` (indices into dataset
   * `dataset`) with the loss normalised by `totalWeight`. Call `finishTrain` after computing the main
   * thread's own shard.
   */
  startTrain(params: readonly ParamRef[], dataset: number, shards: readonly ArrayLike<number>[], totalWeight: number, seeds: readonly number[]): void {
    this.checkOpen();
    this.publishParams(params);
    this.slots.forEach((s, k) => {
      s.results[2] = totalWeight;
      this.send(s, CMD.TRAIN, { DATASET: dataset, SEED: seeds[k] | 0 }, shards[k] ?? []);
    });
  }

  /** Waits for the workers and adds their gradients to `params` (fresh views, taken after the main shard's backward). */
  async finishTrain(params: readonly ParamRef[]): Promise<{ sum: number; weight: number }> {
    let sum = 0;
    let weight = 0;
    for (const s of this.slots) await this.wait(s);
    for (const s of this.slots) {
      sum += s.results[0];
      weight += s.results[1];
      if (s.results[1] === 0) continue; // no labels: its gradient is zero
      for (let i = 0; i < params.length; i++) {
        const g = params[i].grad;
        const { offset, size } = this.layout[i];
        const src = s.grads;
        for (let j = 0; j < size; j++) g[j] += src[offset + j];
      }
    }
    return { sum, weight };
  }

  /**
   * Predictions of dataset `dataset` in its targetMode (see predictDataset): the samples are split
   * between the workers and the main thread (`mainShard` runs the main thread's part, writing into the
   * array it is given). Returns a copy in the model dtype.
   */
  async predict(params: readonly ParamRef[], dataset: number, batchSize: number, mainShard: (indices: Int32Array, dest: FloatArray) => void): Promise<FloatArray> {
    this.checkOpen();
    this.publishParams(params);
    const N = this.shared[dataset].meta.size;
    const parts = splitEvenly(N, this.slots.length + 1);
    const range = (p: number): Int32Array => {
      const [a, b] = parts[p];
      const idx = new Int32Array(b - a);
      for (let i = a; i < b; i++) idx[i - a] = i;
      return idx;
    };
    this.slots.forEach((s, k) => this.send(s, CMD.PREDICT, { DATASET: dataset, BATCH: batchSize }, range(k + 1)));
    const out = this.outputs[dataset];
    let mainError: unknown = null;
    try {
      mainShard(range(0), out);
    } catch (e) {
      mainError = e;
    }
    for (const s of this.slots) await this.wait(s);
    if (mainError) throw mainError;
    const copy = arrayFor(this.dtype, out.length);
    copy.set(out);
    return copy;
  }

  /** Stops every worker and waits for the threads to end (terminating any that do not stop). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.slots) {
      if (s.failure) continue;
      s.control[CTRL.CMD] = CMD.STOP;
      s.seq += 1;
      Atomics.store(s.control, CTRL.SEQ, s.seq);
      Atomics.notify(s.control, CTRL.SEQ);
    }
    await Promise.all(
      this.slots.map(async (s) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), 2000);
        });
        const result = await Promise.race([s.exited.then(() => "exited" as const), timeout]);
        clearTimeout(timer);
        if (result === "timeout") await s.worker.terminate();
      }),
    );
  }
}
