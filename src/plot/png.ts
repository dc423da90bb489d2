/**
 * Writing figures to disk as SVG, or as PNG when an external rasteriser can be found. The library
 * draws SVG only (no dependencies); PNG goes through `rsvg-convert` (librsvg) or ImageMagick
 * (`magick`, `convert`) on PATH. A tool counts only if it really returns PNG bytes: some machines
 * have a `convert` that is not ImageMagick, which would otherwise look like success.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../io/atomic.js";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Rasterisers in order of preference, each reading SVG on stdin and writing PNG to stdout. */
const RASTERIZERS: ReadonlyArray<{ name: string; args: string[] }> = [
  { name: "rsvg-convert", args: ["--format", "png"] },
  { name: "magick", args: ["svg:-", "png:-"] },
  { name: "convert", args: ["svg:-", "png:-"] },
];

/** The first executable called `name` on the search path, or undefined. */
export function findOnPath(name: string, searchPath = process.env.PATH ?? ""): string | undefined {
  const suffixes = process.platform === "win32" ? ["", ".exe", ".cmd", ".bat"] : [""];
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === "") continue;
    for (const suffix of suffixes) {
      const candidate = path.join(dir, name + suffix);
      try {
        if (fs.statSync(candidate).isFile()) {
          fs.accessSync(candidate, fs.constants.X_OK);
          return candidate;
        }
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export interface PngResult {
  /** The PNG bytes, or null when no tool produced any. */
  readonly png: Uint8Array | null;
  /** The tool that produced them. */
  readonly tool?: string;
  /** Why each tool was not used, e.g. "rsvg-convert: not found". */
  readonly attempts: string[];
}

/** Rasterises SVG text with the first working tool; `searchPath` defaults to $PATH. */
export function svgToPng(svg: string, searchPath?: string): PngResult {
  const attempts: string[] = [];
  for (const tool of RASTERIZERS) {
    const exe = findOnPath(tool.name, searchPath);
    if (!exe) {
      attempts.push(`${tool.name}: not found`);
      continue;
    }
    const run = spawnSync(exe, tool.args, { input: svg, maxBuffer: 256 * 1024 * 1024, timeout: 60_000 });
    const out = run.stdout as Buffer | null;
    const isPng = out !== null && out.length >= 8 && PNG_SIGNATURE.every((b, i) => out[i] === b);
    if (!run.error && run.status === 0 && isPng) return { png: new Uint8Array(out.buffer, out.byteOffset, out.length), tool: tool.name, attempts };
    // A tool that quits early without reading its input also raises EPIPE; its own message says more.
    const said = (run.stderr?.toString() ?? "").trim().split("\n")[0];
    attempts.push(`${tool.name}: ${said || run.error?.message || `exit status ${run.status}, no PNG output`}`);
  }
  return { png: null, attempts };
}

export interface WrittenFigure {
  /** The file actually written. */
  readonly path: string;
  readonly format: "svg" | "png";
  /** Set when PNG was asked for but SVG was written instead: says why and what to install. */
  readonly note?: string;
}

/**
 * Writes `svg` to `out` (atomically): as is for ".svg", rasterised for ".png". Without a working
 * rasteriser the SVG goes next to the requested file (same name, ".svg") and `note` explains.
 */
export function writeFigure(out: string, svg: string, searchPath?: string): WrittenFigure {
  const ext = path.extname(out).toLowerCase();
  if (ext === ".svg") {
    writeFileAtomic(out, svg);
    return { path: out, format: "svg" };
  }
  if (ext !== ".png") throw new Error(`${out}: unknown figure format ${JSON.stringify(ext || "(no extension)")}; use a .svg or .png file name`);
  const result = svgToPng(svg, searchPath);
  if (result.png) {
    writeFileAtomic(out, result.png);
    return { path: out, format: "png" };
  }
  const svgPath = out.slice(0, out.length - ext.length) + ".svg";
  writeFileAtomic(svgPath, svg);
  return {
    path: svgPath,
    format: "svg",
    note:
      `PNG output needs rsvg-convert (librsvg) or ImageMagick (magick or convert) on PATH, and none worked ` +
      `(${result.attempts.join("; ")}); wrote SVG to ${svgPath} instead`,
  };
}
