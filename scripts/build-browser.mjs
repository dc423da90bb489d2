#!/usr/bin/env node
// Bundles the portable core (src/index.ts) into one ES module for browsers: dist/ncps.browser.mjs.
// The WebAssembly engine is inside (base64), so a page needs this one file and nothing else.
import { build } from "esbuild";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = resolve(root, "dist/ncps.browser.mjs");
const result = await build({
  entryPoints: [resolve(root, "src/index.ts")],
  bundle: true,
  platform: "browser",
  format: "esm",
  target: "es2022",
  minify: true,
  outfile: out,
  metafile: true,
  logLevel: "warning",
});
const bytes = Object.values(result.metafile.outputs)[0].bytes;
console.log(`build-browser: src/index.ts -> dist/ncps.browser.mjs (${bytes} bytes)`);
