/**
 * Turns a suite result (`ncps bench --suite paper --out DIR` writes DIR/suite.json) into the suite's
 * section of BENCHMARKS.md, so that no figure there is typed by hand:
 *
 *   npx tsx scripts/benchmarks-md.ts bench/results/suite/suite.json                      # print the section
 *   npx tsx scripts/benchmarks-md.ts bench/results/suite/suite.json --into BENCHMARKS.md # replace it there
 *
 * With --into, the text between the markers `<!-- bench-suite:begin -->` and `<!-- bench-suite:end -->`
 * is replaced (the section is appended, with its markers, when the file has none); everything else in
 * the file is left as it is. Plot links point from the document to the plots beside suite.json. A
 * --quick result is refused for --into (its sizes are toys) unless --allow-quick is given.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../src/io/atomic.js";
import { suiteMarkdown } from "../src/cli/bench-report.js";
import type { SuiteResult } from "../src/cli/bench-suite.js";

const BEGIN = "<!-- bench-suite:begin -->";
const END = "<!-- bench-suite:end -->";

function usage(message: string): never {
  process.stderr.write(`benchmarks-md: ${message}\nusage: npx tsx scripts/benchmarks-md.ts SUITE.json [--into BENCHMARKS.md] [--allow-quick]\n`);
  process.exit(2);
}

function readSuite(file: string): SuiteResult {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    usage(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const format = (value as { format?: unknown } | null)?.format;
  if (format !== "ncps-bench-suite/1") usage(`${file}: expected a suite result (format "ncps-bench-suite/1"), got format ${JSON.stringify(format)}`);
  return value as SuiteResult;
}

/** The document with its suite section replaced (or appended). */
function replaceSection(document: string, section: string): string {
  const block = `${BEGIN}\n${section.trimEnd()}\n${END}`;
  const begin = document.indexOf(BEGIN);
  const end = document.indexOf(END);
  if (begin < 0 && end < 0) return `${document.trimEnd()}\n\n${block}\n`;
  if (begin < 0 || end < begin) throw new Error(`the markers ${BEGIN} and ${END} must both appear, in that order`);
  return document.slice(0, begin) + block + document.slice(end + END.length);
}

function main(argv: string[]): void {
  const files = argv.filter((a, i) => !a.startsWith("--") && argv[i - 1] !== "--into");
  const intoAt = argv.indexOf("--into");
  const into = intoAt >= 0 ? argv[intoAt + 1] : undefined;
  const unknown = argv.filter((a) => a.startsWith("--") && a !== "--into" && a !== "--allow-quick");
  if (unknown.length) usage(`unknown flag ${unknown[0]}`);
  if (intoAt >= 0 && (into === undefined || into.startsWith("--"))) usage("--into needs a file");
  if (files.length !== 1) usage(`expected one suite.json, got ${files.length}`);
  const suiteFile = files[0];
  const result = readSuite(suiteFile);
  if (into !== undefined && result.quick && !argv.includes("--allow-quick")) usage(`${suiteFile} is a --quick run (toy sizes); pass --allow-quick to write it into ${into} anyway`);
  const docDir = path.dirname(path.resolve(into ?? "BENCHMARKS.md"));
  const rel = path.relative(docDir, path.dirname(path.resolve(suiteFile))).split(path.sep).join("/");
  // the section sits under BENCHMARKS.md's "## Model suite" heading
  const section = suiteMarkdown(result, { plotPrefix: rel ? `${rel}/` : "", headingLevel: 3 });
  if (into === undefined) {
    process.stdout.write(section);
    return;
  }
  const document = existsSync(into) ? readFileSync(into, "utf8") : "";
  writeFileAtomic(into, replaceSection(document, section));
  process.stderr.write(`benchmarks-md: wrote the suite section of ${into} from ${suiteFile}\n`);
}

main(process.argv.slice(2));
