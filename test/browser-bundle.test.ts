/**
 * The portable core ("ncps-ts") must run without Node: bundled for the browser platform (any node:
 * import fails the bundle) and executed in a bare JavaScript context that has WebAssembly but no
 * require, process or file system, where it trains a CfC step on the WebAssembly engine.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import vm from "node:vm";
import { build } from "esbuild";
import { projectRoot } from "./helpers/goldens.js";

/** The core bundled for the browser platform, loaded into a fresh bare context as the global `ncps`. */
async function bareCore(): Promise<vm.Context> {
  const result = await build({
    entryPoints: [path.join(projectRoot, "src/index.ts")],
    bundle: true,
    platform: "browser",
    format: "iife",
    globalName: "ncps",
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles[0].text;
  assert.ok(!/require\(["']node:/.test(code), "no node: modules in the browser bundle");
  assert.ok(!/worker_threads/.test(code), "no worker threads in the browser bundle");
  const context = vm.createContext({ WebAssembly, atob, TextDecoder, console, performance: { now: () => 0 } });
  vm.runInContext(code, context);
  return context;
}

test("the core bundles for browsers and runs a CfC forward/backward/Adam step in a bare context", async () => {
  const context = await bareCore();
  const out = vm.runInContext(
    `(() => {
      const { CfC, AutoNCP, Adam, mseLoss } = ncps;
      const m = new CfC(3, new AutoNCP(10, 2), { seed: 1 });
      const x = { shape: [2, 4, 3], data: new Float32Array(24).map((_, i) => Math.sin(i)) };
      const before = m.forward(x).output.data.slice();
      const t = new Float32Array(before.length).fill(0.5);
      const opt = new Adam({ lr: 0.01 });
      for (let i = 0; i < 20; i++) {
        m.zeroGrad();
        const { output } = m.forward(x);
        m.backward({ shape: output.shape, data: mseLoss(output.data, t, 8, 2).grad });
        opt.step(m.parameters());
      }
      const after = m.forward(x).output.data;
      const err = (a) => a.reduce((s, v) => s + (v - 0.5) ** 2, 0);
      return { engine: m.engine.kind, before: err(before), after: err(after), svg: new AutoNCP(10, 2).toSVG !== undefined };
    })()`,
    context,
  );
  assert.equal(out.engine, "wasm");
  assert.ok(out.after < out.before * 0.5, `training in the bare context reduces the loss (${out.before} -> ${out.after})`);
});

test("in a bare context, the portable fit trains a CfC on datasetFromArrays (ragged sequences, times)", async () => {
  const context = await bareCore();
  const out = await vm.runInContext(
    `(async () => {
      const { CfC, fit, datasetFromArrays, evaluate } = ncps;
      // the target is the previous input: the model must remember one step
      let seed = 7;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
      const make = (n) => {
        const x = [], y = [], time = [];
        for (let i = 0; i < n; i++) {
          const L = 6 + (i % 4);
          const seq = Array.from({ length: L }, () => Float32Array.of(rand()));
          x.push(seq);
          y.push(seq.map((_, t) => (t === 0 ? 0 : seq[t - 1][0])));
          time.push(seq.map(() => 1 + 0.1 * rand()));
        }
        return datasetFromArrays({ x, y, time, task: "regress" });
      };
      const train = make(48), valid = make(16);
      const model = new CfC(1, 8, { backboneUnits: 16, projSize: 1, seed: 3 });
      const before = evaluate(model, valid).loss;
      const result = await fit(model, train, { epochs: 15, batchSize: 12, lr: 0.02, valid, restoreBest: true });
      const refused = await fit(model, train, { epochs: 1, threads: 2 }).then(() => "", (e) => e.message);
      return { engine: model.engine.kind, before, after: evaluate(model, valid).loss, epochs: result.epochs, padded: train.lengths !== null, refused };
    })()`,
    context,
  );
  assert.equal(out.engine, "wasm");
  assert.equal(out.epochs, 15);
  assert.ok(out.padded, "sequences of different lengths are padded with lengths");
  assert.ok(out.after < out.before * 0.5, `training in the bare context reduces the validation loss (${out.before} -> ${out.after})`);
  assert.match(out.refused, /fit: option threads \(2\) needs Node/);
});
