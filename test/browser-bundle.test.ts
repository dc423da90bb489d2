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

test("the core bundles for browsers and runs a CfC forward/backward/Adam step in a bare context", async () => {
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
  const context = vm.createContext({ WebAssembly, atob, TextDecoder, console, performance: { now: () => 0 } });
  vm.runInContext(code, context);
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
