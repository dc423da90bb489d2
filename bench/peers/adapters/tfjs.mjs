// TensorFlow.js contestants: tf.layers.lstm or tf.layers.gru (library defaults otherwise) with a dense
// readout at every step, on the pure-JavaScript cpu backend or the WebAssembly backend, trained batch by
// batch with trainOnBatch so a turn can stop at its time budget like the others.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs";
import * as tfWasm from "@tensorflow/tfjs-backend-wasm";
import { makeSplits, mulberry32, shuffledOrder } from "../task.mjs";

const require = createRequire(import.meta.url);
const versionOf = (name) => JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")).version;

export async function create(spec, sizes) {
  if (!(await tf.setBackend(spec.backend))) throw new Error(`tfjs: backend ${spec.backend} did not initialise`);
  await tf.ready();
  let backendNote = "pure JavaScript, 1 thread";
  if (spec.backend === "wasm") {
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    const threaded = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
    backendNote = `WebAssembly${simd ? " SIMD" : ""}, ${tfWasm.getThreadsCount()} thread${threaded ? "s (multithreaded build)" : " (no multithread support in Node)"}`;
  }
  const splits = makeSplits(sizes, true);
  const { steps: L, batch: B } = sizes;
  const F = splits.train.features;

  const net = tf.sequential();
  net.add(tf.layers[spec.model]({ units: spec.hidden, returnSequences: true, inputShape: [L, F] }));
  net.add(tf.layers.dense({ units: 1 }));
  net.compile({ optimizer: tf.train.adam(spec.lr), loss: "meanSquaredError" });

  const rng = mulberry32(spec.seed);
  let order = [];
  let next = 0;
  const { x, y } = splits.train;
  const xb = new Float32Array(B * L * F);
  const yb = new Float32Array(B * L);

  return {
    describe: {
      library: "TensorFlow.js",
      version: `@tensorflow/tfjs ${versionOf("@tensorflow/tfjs")}${spec.backend === "wasm" ? `, @tensorflow/tfjs-backend-wasm ${versionOf("@tensorflow/tfjs-backend-wasm")}` : ""}`,
      backend: `${spec.backend} (${backendNote})`,
      params: net.countParams(),
      optimizer: `Adam (tf.train.adam, lr ${spec.lr}, constant)`,
      inputs: "pulse and elapsed time as 2 input features",
      notes: spec.model === "lstm"
        ? "tf.layers.lstm defaults: recurrentActivation hardSigmoid, unitForgetBias true; dense readout per step"
        : "tf.layers.gru defaults: recurrentActivation hardSigmoid, reset gate before the recurrent product; dense readout per step",
    },
    async trainTurn(budgetSeconds) {
      const started = performance.now();
      order = shuffledOrder(splits.train.size, rng);
      let sum = 0;
      let batches = 0;
      for (next = 0; next + B <= order.length; next += B) {
        for (let b = 0; b < B; b++) {
          const n = order[next + b];
          xb.set(x.subarray(n * L * F, (n + 1) * L * F), b * L * F);
          yb.set(y.subarray(n * L, (n + 1) * L), b * L);
        }
        const xt = tf.tensor3d(xb, [B, L, F]);
        const yt = tf.tensor3d(yb, [B, L, 1]);
        sum += await net.trainOnBatch(xt, yt);
        xt.dispose();
        yt.dispose();
        batches++;
        const last = next + 2 * B > order.length;
        if (!last && (performance.now() - started) / 1000 >= budgetSeconds) {
          return { seconds: (performance.now() - started) / 1000, complete: false, loss: sum / batches, budgetSpent: true };
        }
      }
      return { seconds: (performance.now() - started) / 1000, complete: true, loss: sum / batches, budgetSpent: false };
    },
    predict(split) {
      const ds = splits[split];
      const out = new Float32Array(ds.size * L);
      const chunk = 128;
      for (let s = 0; s < ds.size; s += chunk) {
        const count = Math.min(chunk, ds.size - s);
        const predicted = tf.tidy(() => net.predict(tf.tensor3d(ds.x.subarray(s * L * F, (s + count) * L * F), [count, L, F])));
        out.set(predicted.dataSync(), s * L);
        predicted.dispose();
      }
      return out;
    },
    splits,
    async close() {},
  };
}
