#!/usr/bin/env node
// Builds the workbench page (web/) into dist/web/: index.html and style.css as they are, app.js (the
// page, an ES module) and worker.js (the training worker, a classic script). Both bundle the library's
// portable entry (src/index.ts); the worker carries the WebAssembly engine inside, so the page needs
// nothing but these four files.
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = resolve(root, "dist/web");
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const common = { bundle: true, platform: "browser", target: "es2022", minify: true, metafile: true, logLevel: "warning", legalComments: "none" };
const results = await Promise.all([
  build({ ...common, entryPoints: [resolve(root, "web/app.ts")], format: "esm", outfile: resolve(out, "app.js") }),
  build({ ...common, entryPoints: [resolve(root, "web/worker.ts")], format: "iife", outfile: resolve(out, "worker.js") }),
]);
for (const file of ["index.html", "style.css"]) await copyFile(resolve(root, "web", file), resolve(out, file));
const bytes = results.map((r) => Object.values(r.metafile.outputs)[0].bytes);
console.log(`build-web: web/ -> dist/web/ (app.js ${bytes[0]} bytes, worker.js ${bytes[1]} bytes, index.html, style.css)`);
