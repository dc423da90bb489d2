/** The files of long-format data on disk (Node); pivoting them is long-format.ts, which runs anywhere. */
import * as fs from "node:fs";
import * as path from "node:path";
import { readTextPieces } from "../io/text-file.js";
import type { LongSource } from "./long-format.js";

/** The files of a long-format input: the file, or every file of the directory in name order. */
export function readLongSources(input: string): LongSource[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(input);
  } catch (e) {
    throw new Error(`${input}: cannot read the data (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!stat.isDirectory()) return [{ fileName: input, text: readTextPieces(input, "data file") }];
  const names = fs
    .readdirSync(input)
    .filter((n) => !n.startsWith("."))
    .sort();
  const files = names.map((n) => path.join(input, n)).filter((f) => fs.statSync(f).isFile());
  if (files.length === 0) throw new Error(`${input}: the directory holds no data files`);
  return files.map((f) => ({ fileName: f, text: readTextPieces(f, "data file") }));
}
