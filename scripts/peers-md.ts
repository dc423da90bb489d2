/**
 * Turns a JavaScript-peers result (`cd bench/peers && node run.mjs` writes bench/peers/peers.json) into
 * the peers section of BENCHMARKS.md, so that no figure there is typed by hand:
 *
 *   npx tsx scripts/peers-md.ts bench/peers/peers.json                      # print the section
 *   npx tsx scripts/peers-md.ts bench/peers/peers.json --into BENCHMARKS.md # replace it there
 *
 * With --into, the text between `<!-- bench-peers:begin -->` and `<!-- bench-peers:end -->` is replaced
 * (appended with its markers when the file has none); the rest of the file is left as it is.
 */
import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../src/io/atomic.js";

const BEGIN = "<!-- bench-peers:begin -->";
const END = "<!-- bench-peers:end -->";

interface PeerResult {
  library: string;
  backend: string;
  model: string;
  version: string;
  hidden: number;
  params: number;
  msPerEpoch: { median: number; min: number; max: number; n: number };
  ratioToCfc: { sameRun: { median: number }; ofMedians: number };
  epochsCompleted: number;
  partialLastEpoch: boolean;
  testMse: number;
  sparseTestMse: number;
}

interface PeersRun {
  benchmark: string;
  date: string;
  command: string;
  commit: string;
  node: string;
  cpu: string;
  cores: number;
  loadAverage: { start: number[]; end: number[] };
  task: { name: string; train: number; test: number; steps: number; sparserTest: string; predictZeroMse: { test: number; sparse: number } };
  settings: { batch: number; lr: number; budgetSecondsEach: number; quick: boolean };
  method: string[];
  notes: string[];
  results: PeerResult[];
}

function usage(message: string): never {
  process.stderr.write(`peers-md: ${message}\nusage: npx tsx scripts/peers-md.ts PEERS.json [--into BENCHMARKS.md]\n`);
  process.exit(2);
}

function readRun(file: string): PeersRun {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    usage(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const run = value as Partial<PeersRun> | null;
  if (!run || !Array.isArray(run.results) || typeof run.date !== "string") usage(`${file}: expected a bench/peers result with "date" and "results"`);
  if (run.settings?.quick) usage(`${file}: a --quick run (toy budget); run the full comparison for BENCHMARKS.md`);
  return run as PeersRun;
}

const fixed = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : "-");
const error = (v: number): string => (!Number.isFinite(v) ? "-" : v < 0.01 ? v.toPrecision(2) : v.toFixed(4));
const MODEL_NAMES: Record<string, string> = { cfc: "CfC", lstm: "LSTM", gru: "GRU" };
const ms = (v: number): string => (v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toPrecision(3));

function section(run: PeersRun): string {
  const rows = run.results.map((r) => {
    const epochs = `${r.epochsCompleted}${r.partialLastEpoch ? "+" : ""}`;
    const time = `${ms(r.msPerEpoch.median)} (${ms(r.msPerEpoch.min)}-${ms(r.msPerEpoch.max)}, n ${r.msPerEpoch.n})`;
    return `| ${r.library} ${MODEL_NAMES[r.model] ?? r.model} (${r.version}) | ${r.backend} | ${r.hidden} | ${r.params.toLocaleString("en-US")} | ${time} | ${fixed(r.ratioToCfc.sameRun.median, 2)}x | ${epochs} | ${error(r.testMse)} | ${error(r.sparseTestMse)} |`;
  });
  const t = run.task;
  return [
    BEGIN,
    `### JavaScript peers, ${run.date.slice(0, 10)}`,
    "",
    "```sh",
    run.command,
    "```",
    "",
    `Machine: ${run.cpu}, ${run.cores} cores; Node ${run.node}; commit ${run.commit}; load average ${run.loadAverage.start[0]} at the start, ${run.loadAverage.end[0]} at the end.`,
    `Task: ${t.name}; ${t.train} training sequences of ${t.steps} steps, ${t.test} test sequences, and ${t.sparserTest}. Batch ${run.settings.batch}, learning rate ${run.settings.lr}, ${run.settings.budgetSecondsEach} s of training time each. Predicting 0 everywhere scores ${t.predictZeroMse.test} (sparser: ${t.predictZeroMse.sparse}).`,
    "",
    "| contestant | backend | hidden | parameters | ms per epoch (min-max, n) | epoch time / CfC's, same run | epochs in the budget | test MSE | sparser test MSE |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    ...run.method.map((m) => `- ${m}`),
    ...run.notes.map((n) => `- Note: ${n}`),
    END,
  ].join("\n");
}

function replaceSection(document: string, text: string): string {
  const begin = document.indexOf(BEGIN);
  const end = document.indexOf(END);
  if (begin < 0 && end < 0) return `${document.trimEnd()}\n\n${text}\n`;
  if (begin < 0 || end < begin) usage(`the markers ${BEGIN} and ${END} are not in order`);
  return document.slice(0, begin) + text + document.slice(end + END.length);
}

const args = process.argv.slice(2);
const file = args[0];
if (!file || file.startsWith("--")) usage("give the peers.json file");
const intoAt = args.indexOf("--into");
const into = intoAt >= 0 ? args[intoAt + 1] : undefined;
if (intoAt >= 0 && !into) usage("--into needs a file");
const unknown = args.slice(1).filter((a, i) => a !== "--into" && !(intoAt >= 0 && i + 1 === intoAt + 1));
if (unknown.length) usage(`unknown argument ${unknown[0]}`);
const text = section(readRun(file));
if (into) {
  const document = existsSync(into) ? readFileSync(into, "utf8") : "";
  writeFileAtomic(into, replaceSection(document, text));
  process.stderr.write(`peers-md: wrote the peers section of ${into} from ${file}\n`);
} else {
  process.stdout.write(text + "\n");
}
