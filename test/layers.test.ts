/**
 * The architecture as a test: every import in src/ points down the layer order of the README
 * (tensor/util <- engine <- nn, wirings <- models <- io <- data <- train <- plot <- cli <- entry points),
 * siblings on one level do not import each other, and no file imports itself round a circle.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SRC = join(ROOT, "src");

/** Rank of each top-level folder (or file) of src/; a file may import only from ranks at or below its own. */
const LAYERS: Record<string, number> = {
  "tensor.ts": 0,
  util: 0,
  engine: 1,
  nn: 2,
  wirings: 2,
  models: 3,
  io: 4,
  data: 5,
  train: 6,
  plot: 7,
  cli: 8,
  "index.ts": 9,
  "node.ts": 10,
};

interface ImportEdge {
  from: string; // path relative to src/
  to: string;
  line: number;
  /** `import type` / `export type`: erased at compile time, so it cannot close a circle at run time */
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      // AssemblyScript kernels are compiled separately and import only each other
      if (relative(SRC, p) === join("engine", "assembly")) continue;
      out.push(...sourceFiles(p));
    } else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** Relative imports and re-exports of a TypeScript source, resolved to paths relative to src/. */
export function importsOf(file: string, text: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\b(\s+type\b)?[^;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const spec = m[2] ?? m[3];
    if (!spec.startsWith(".")) continue;
    const target = relative(SRC, resolve(dirname(join(SRC, file)), spec.replace(/\.js$/, ".ts")));
    const line = text.slice(0, m.index + m[0].length).split("\n").length;
    edges.push({ from: file, to: target, line, typeOnly: m[1] !== undefined });
  }
  return edges;
}

function layerOf(path: string): string {
  return path.split(/[\\/]/)[0];
}

/** One message per import that breaks the layer order. */
export function layerViolations(edges: readonly ImportEdge[]): string[] {
  const problems: string[] = [];
  for (const e of edges) {
    const a = layerOf(e.from);
    const b = layerOf(e.to);
    if (!(a in LAYERS)) problems.push(`${e.from}: lies outside the known layers (${Object.keys(LAYERS).join(", ")})`);
    else if (!(b in LAYERS)) problems.push(`${e.from}:${e.line}: imports ${e.to}, outside the known layers`);
    else if (LAYERS[b] > LAYERS[a]) problems.push(`${e.from}:${e.line}: imports ${e.to} from a higher layer (${b} above ${a})`);
    else if (LAYERS[b] === LAYERS[a] && a !== b) problems.push(`${e.from}:${e.line}: imports ${e.to} from a sibling layer (${b} beside ${a})`);
  }
  return problems;
}

/** Import circles between files, each as a path a -> b -> ... -> a. */
export function importCycles(edges: readonly ImportEdge[]): string[] {
  const next = new Map<string, string[]>();
  for (const e of edges) if (!e.typeOnly) next.set(e.from, [...new Set([...(next.get(e.from) ?? []), e.to])]);
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (f: string): void => {
    state.set(f, "open");
    stack.push(f);
    for (const g of next.get(f) ?? []) {
      if (state.get(g) === "open") cycles.push([...stack.slice(stack.indexOf(g)), g].join(" -> "));
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of [...next.keys()].sort()) if (!state.has(f)) visit(f);
  return cycles;
}

const allEdges = sourceFiles(SRC).flatMap((p) => importsOf(relative(SRC, p), readFileSync(p, "utf8")));

describe("layers", () => {
  it("finds the imports of the sources", () => {
    assert.ok(allEdges.length > 100, `expected the sources to hold many relative imports, found ${allEdges.length}`);
    assert.ok(allEdges.some((e) => e.from === "index.ts" && layerOf(e.to) === "models"));
  });

  it("flags an upward import, a sibling import and a circle (the checker itself)", () => {
    const up = importsOf("nn/linear.ts", 'import { fit } from "../train/trainer.js";\n');
    assert.equal(up[0].to, join("train", "trainer.ts"));
    assert.match(layerViolations(up)[0], /nn\/linear\.ts:1: imports train\/trainer\.ts from a higher layer/);
    const side = importsOf("wirings/svg.ts", 'export { x } from "../nn/rng.js";');
    assert.match(layerViolations(side)[0], /sibling layer/);
    const dyn = importsOf("engine/wasm.ts", 'const m = await import("../models/cfc.js");');
    assert.equal(layerViolations(dyn).length, 1);
    const circle = [...importsOf("cli/a.ts", 'import { b } from "./b.js";'), ...importsOf("cli/b.ts", 'import { a } from "./a.js";')];
    assert.deepEqual(importCycles(circle), ["cli/a.ts -> cli/b.ts -> cli/a.ts"]);
    const typeOnly = [...importsOf("cli/a.ts", 'import { b } from "./b.js";'), ...importsOf("cli/b.ts", 'import type { A } from "./a.js";')];
    assert.deepEqual(importCycles(typeOnly), []);
    assert.deepEqual(layerViolations(importsOf("cli/train.ts", 'import type { X } from "../models/cfc.js";')), []);
  });

  it("every import in src/ points down the layer order", () => {
    const problems = layerViolations(allEdges);
    assert.deepEqual(problems, [], `imports against the layer order:\n  ${problems.join("\n  ")}`);
  });

  it("the workbench page (web/) uses the library only through the portable entry", () => {
    const web = join(ROOT, "web");
    const outside: string[] = [];
    for (const name of readdirSync(web).filter((n) => n.endsWith(".ts"))) {
      const text = readFileSync(join(web, name), "utf8");
      for (const m of text.matchAll(/\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)/g)) {
        const spec = m[1] ?? m[2];
        if (spec.startsWith("./") && !spec.slice(2).includes("/")) continue; // the page's own modules
        if (spec !== "../src/index.js") outside.push(`web/${name}: ${spec}`);
      }
    }
    assert.deepEqual(outside, [], "web/ imports only ../src/index.js and its own files");
  });

  it("no file imports itself round a circle", () => {
    const cycles = importCycles(allEdges);
    assert.deepEqual(cycles, [], `import circles:\n  ${cycles.join("\n  ")}`);
  });
});
