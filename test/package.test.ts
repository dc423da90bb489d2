/**
 * The package as a user gets it: packed with `npm pack`, installed from the tarball into an empty folder
 * (offline: the package has no runtime dependencies), then used the ways the README describes: ESM
 * imports of its three entries, require() on Node >= 20.19, the `ncps` command, and strict TypeScript
 * against the shipped declarations. Packs the dist/ already built (by `npm ci` or `npm run build`)
 * rather than building again, so it first checks that dist/ is current with src/.
 */
import assert from "node:assert/strict";
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import vm from "node:vm";
import { build } from "esbuild";
import { projectRoot } from "./helpers/goldens.js";

const VERSION = (JSON.parse(fs.readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { version: string }).version;

/** Why dist/ does not reflect src/ (so packing it would test old code), or null when it does. */
function distStaleness(): string | null {
  const src = path.join(projectRoot, "src");
  const dist = path.join(projectRoot, "dist");
  if (!fs.existsSync(dist)) return "dist/ is not built";
  const sources = listFiles(src).filter((f) => f.endsWith(".ts"));
  const newestSource = Math.max(...sources.map((f) => fs.statSync(f).mtimeMs));
  const outputs = ["ncps.browser.mjs", "ncps.browser.d.mts"].map((f) => path.join(dist, f));
  for (const file of sources) {
    const rel = path.relative(src, file);
    if (rel.startsWith(`engine${path.sep}assembly${path.sep}`) || !rel.endsWith(".ts")) continue;
    outputs.push(path.join(dist, rel.replace(/\.ts$/, ".js")), path.join(dist, rel.replace(/\.ts$/, ".d.ts")));
  }
  for (const out of outputs) {
    if (!fs.existsSync(out)) return `${path.relative(projectRoot, out)} is missing`;
    if (fs.statSync(out).mtimeMs < newestSource) return `${path.relative(projectRoot, out)} is older than the newest file in src/`;
  }
  const expected = new Set(outputs);
  for (const file of listFiles(dist)) {
    if (!expected.has(file)) return `${path.relative(projectRoot, file)} has no source in src/ (left over from a rename?)`;
  }
  return null;
}

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

const stale = distStaleness();
// In CI, dist/ has just been built by `npm ci`, so a stale one is a failure rather than a reason to skip.
const skip = stale && !process.env.CI ? `${stale}: run \`npm run build\` (or \`rm -rf dist && npm run build\`) to test the package` : false;

/** The environment of the npm run: without the npm_* variables of the `npm test` that may have started us. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
}

function npm(args: string[], cwd: string): SpawnSyncReturns<string> {
  const npmCli = process.env.npm_execpath;
  const [cmd, argv] = npmCli && /npm-cli\.js$/.test(npmCli) ? [process.execPath, [npmCli, ...args]] : ["npm", args];
  return spawnSync(cmd, argv, { cwd, env: cleanEnv(), encoding: "utf8", timeout: 120_000 });
}

function node(args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, args, { cwd, env: cleanEnv(), encoding: "utf8", timeout: 120_000 });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (status ${r.status}, ${r.error?.message ?? ""}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe("the packed package, installed into an empty folder", { skip }, () => {
  let work = "";
  let consumer = "";
  let installed = "";
  let packedFiles: string[] = [];

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "ncps-pack-"));
    // dist/ is current (checked above), so the prepack build is skipped to keep the test quick.
    const packed = JSON.parse(ok(npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work], projectRoot), "npm pack")) as {
      filename: string;
      files: { path: string }[];
    }[];
    packedFiles = packed[0].files.map((f) => f.path);
    consumer = path.join(work, "consumer");
    fs.mkdirSync(consumer);
    fs.writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    ok(npm(["install", "--offline", "--no-audit", "--no-fund", path.join(work, packed[0].filename)], consumer), "npm install of the tarball");
    installed = path.join(consumer, "node_modules", "ncps-ts");
  });

  after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test("the tarball holds the build, the launcher, the licence and the README, and no sources or tests", () => {
    for (const f of ["LICENSE", "NOTICE", "README.md", "package.json", "bin/ncps.js", "dist/index.js", "dist/index.d.ts", "dist/node.js", "dist/node.d.ts", "dist/ncps.browser.mjs", "dist/ncps.browser.d.mts"]) {
      assert.ok(packedFiles.includes(f), `${f} is in the tarball`);
    }
    const unwanted = packedFiles.filter((f) => /^(src|test|scripts|bench|examples|node_modules|build)\//.test(f));
    assert.deepEqual(unwanted, [], "no sources, tests or build folders in the tarball");
    assert.match(fs.readFileSync(path.join(installed, "LICENSE"), "utf8"), /Apache License\s+Version 2\.0/);
  });

  test("installing ran no build, and the build scripts do nothing outside a source checkout", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8")) as { scripts?: Record<string, string> };
    for (const hook of ["preinstall", "install", "postinstall"]) assert.equal(manifest.scripts?.[hook], undefined, `no ${hook} script`);
    // `npm install` inside the installed folder runs `prepare`; there is nothing to build there.
    const before = fs.readdirSync(path.join(installed, "dist")).sort();
    ok(npm(["run", "prepare"], installed), "npm run prepare in the installed package");
    assert.deepEqual(fs.readdirSync(path.join(installed, "dist")).sort(), before);
  });

  test("the declarations say what the exports are, without internals or the engine's bytes", () => {
    const binaryDecl = fs.readFileSync(path.join(installed, "dist/engine/wasm-binary.generated.d.ts"), "utf8");
    assert.match(binaryDecl, /export declare const ENGINE_WASM_BASE64: string;/);
    assert.ok(binaryDecl.length < 1000, `the engine binary is not repeated as a literal type (${binaryDecl.length} characters)`);
    assert.doesNotMatch(fs.readFileSync(path.join(installed, "dist/models/recurrent.d.ts"), "utf8"), /_streamParts/, "@internal members are stripped");
  });

  test("ESM: ncps-ts, ncps-ts/node and ncps-ts/browser each build and run the same CfC", () => {
    const script = `
      import * as core from "ncps-ts";
      import * as nodeEntry from "ncps-ts/node";
      import * as browser from "ncps-ts/browser";
      await browser.initWasm();
      const run = (m) => {
        const model = new m.CfC(3, new m.AutoNCP(10, 2), { seed: 1 });
        const x = m.tensor(Array.from({ length: 24 }, (_, i) => Math.sin(i)), [2, 4, 3]);
        const { output } = model.forward(x);
        return { engine: model.engine.kind, shape: output.shape, data: Array.from(output.data) };
      };
      console.log(JSON.stringify({
        results: [run(core), run(nodeEntry), run(browser)],
        nodeReexportsCore: nodeEntry.CfC === core.CfC,
        nodeOnly: [typeof nodeEntry.fit, typeof nodeEntry.saveCheckpoint, typeof core.fit, typeof core.saveCheckpoint, nodeEntry.fit === core.fit],
      }));`;
    const out = JSON.parse(ok(node(["--input-type=module", "-e", script], consumer), "the ESM script")) as {
      results: { engine: string; shape: number[]; data: number[] }[];
      nodeReexportsCore: boolean;
      nodeOnly: Array<string | boolean>;
    };
    for (const r of out.results) {
      assert.equal(r.engine, "wasm");
      assert.deepEqual(r.shape, [2, 4, 2], "AutoNCP(10, 2) outputs 2 features at each of the 4 steps");
      assert.ok(r.data.every(Number.isFinite));
    }
    assert.deepEqual(out.results[1].data, out.results[0].data, "the node entry runs the core's code");
    assert.deepEqual(out.results[2].data, out.results[0].data, "the browser bundle computes what the core computes");
    assert.equal(out.nodeReexportsCore, true);
    assert.deepEqual(out.nodeOnly, ["function", "function", "function", "undefined", false], "the core has a portable fit; the node entry's fit (threads, checkpoint files) and saveCheckpoint are its own");
  });

  test("a bundler trusting sideEffects: false drops what is not imported and keeps what a CfC needs", async () => {
    const entry = path.join(consumer, "page.mjs");
    fs.writeFileSync(
      entry,
      `import { CfC, AutoNCP, tensor, initWasm } from "ncps-ts";
       export async function run() {
         await initWasm();
         const model = new CfC(3, new AutoNCP(10, 2), { seed: 1 });
         return { engine: model.engine.kind, shape: model.forward(tensor(new Float32Array(24).fill(0.5), [2, 4, 3])).output.shape };
       }`,
    );
    const bundled = await build({ entryPoints: [entry], bundle: true, platform: "browser", format: "iife", globalName: "page", minify: true, write: false, logLevel: "silent" });
    const code = bundled.outputFiles[0].text;
    const whole = fs.statSync(path.join(installed, "dist/ncps.browser.mjs")).size;
    assert.ok(code.length < whole, `tree-shaken bundle (${code.length} bytes) is smaller than the whole core (${whole} bytes)`);
    // Run it as a page would: WebAssembly and nothing of Node.
    const context = vm.createContext({ WebAssembly, atob, TextDecoder, console, performance: { now: () => 0 } });
    vm.runInContext(code, context);
    const result = await (vm.runInContext("page.run()", context) as Promise<unknown>);
    assert.deepEqual(JSON.parse(JSON.stringify(result)), { engine: "wasm", shape: [2, 4, 2] });
  });

  const requireEsm = (() => {
    const [major, minor] = process.versions.node.split(".").map(Number);
    return major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);
  })();
  test("CommonJS: require('ncps-ts') and require('ncps-ts/node') work (require of ES modules)", { skip: requireEsm ? false : `Node ${process.versions.node} cannot require ES modules (needs 20.19 or 22.12)` }, () => {
    const script = `
      const core = require("ncps-ts");
      const nodeEntry = require("ncps-ts/node");
      const model = new core.CfC(3, 4, { seed: 1, backend: "reference" });
      const { output } = model.forward(core.tensor(new Array(6).fill(0.5), [2, 3], "float64"));
      console.log(JSON.stringify({ shape: output.shape, finite: Array.from(output.data).every(Number.isFinite), fit: typeof nodeEntry.fit }));`;
    const r = node(["--input-type=commonjs", "-e", script], consumer);
    assert.deepEqual(JSON.parse(ok(r, "the CommonJS script")), { shape: [2, 4], finite: true, fit: "function" });
  });

  test("`npx ncps --version` prints the package version; `ncps help train` prints train's usage", () => {
    assert.equal(ok(npm(["exec", "--offline", "--", "ncps", "--version"], consumer), "npx ncps --version").trim(), VERSION);
    const help = node([path.join(consumer, "node_modules/.bin/ncps"), "help", "train"], consumer);
    assert.match(ok(help, "ncps help train"), /^usage: ncps train /);
  });

  describe("strict TypeScript against the shipped declarations", () => {
    const tsc = path.join(projectRoot, "node_modules/typescript/bin/tsc");
    const usesEveryEntry = `
      import { CfC, AutoNCP, tensor, type Tensor, type FigureOptions } from "ncps-ts";
      import { fit, saveCheckpoint, type FitOptions, type PngResult } from "ncps-ts/node";
      import { CfC as BrowserCfC, initWasm } from "ncps-ts/browser";

      const model = new CfC(3, new AutoNCP(10, 2), { seed: 1, mode: "no_gate" });
      const x: Tensor = tensor(new Float32Array(24), [2, 4, 3]);
      const steps: number = model.forward(x).output.shape[1];
      const train: (o: FitOptions) => unknown = (o) => fit(model, undefined as never, o);
      const save: typeof saveCheckpoint = saveCheckpoint;
      const png: PngResult["png"] = null;
      const figure: FigureOptions | undefined = undefined;
      await initWasm();
      const browserModel: InstanceType<typeof BrowserCfC> = new BrowserCfC(3, 8);
      // @ts-expect-error an unknown option is a type error: the declarations are real, not any
      new BrowserCfC(3, 8, { backboneUnitz: 8 });
      // @ts-expect-error as for the core entry
      new CfC(3, 8, { mode: "gated" });
      export { steps, train, save, png, figure, browserModel };
    `;
    const portableOnly = `
      import { CfC, LTC, NCP } from "ncps-ts";
      import { initWasm, type Tensor } from "ncps-ts/browser";
      await initWasm();
      const x: Tensor = { shape: [1, 2, 3], data: new Float32Array(6) };
      export const out = [new CfC(3, 4).forward(x).output, new LTC(3, new NCP(2, 2, 1, 2, 2, 1, 1)).forward(x).output];
    `;
    // skipLibCheck is off, so the shipped .d.ts files are checked in full (TypeScript's own lib files are
    // not: skipDefaultLibCheck). No Node types are loaded: none of the declarations names one (a Node
    // project adds @types/node, which changes nothing here), and checking them would triple the time.
    const cases: [string, string, Record<string, unknown>][] = [
      ["module node16 (Node's own resolution), all three entries", usesEveryEntry, { module: "node16", moduleResolution: "node16", types: [] }],
      ["moduleResolution bundler, code for a page", portableOnly, { module: "preserve", moduleResolution: "bundler", types: [], lib: ["es2022", "dom"] }],
    ];
    for (const [name, source, options] of cases) {
      test(name, () => {
        const dir = fs.mkdtempSync(path.join(consumer, "ts-"));
        fs.writeFileSync(path.join(dir, "check.ts"), source);
        const compilerOptions = { strict: true, target: "es2022", noEmit: true, skipLibCheck: false, skipDefaultLibCheck: true, ...options };
        fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["check.ts"] }));
        const r = node([tsc, "-p", dir], dir);
        assert.equal(r.status, 0, `tsc reported:\n${r.stdout}${r.stderr}`);
      });
    }
  });
});
