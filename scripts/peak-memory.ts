/**
 * Peak memory of `ncps train` and `ncps predict` on a generated CSV of many rows (1,000,000 by default),
 * measured with GNU time (`/usr/bin/time -v`: maximum resident set size), and written as the
 * peak-memory section of BENCHMARKS.md so that no figure there is typed by hand:
 *
 *   npm run build && npx tsx scripts/peak-memory.ts                           # print the section
 *   npm run build && npx tsx scripts/peak-memory.ts --into BENCHMARKS.md      # replace it there
 *   npx tsx scripts/peak-memory.ts --rows 100000                              # a smaller file
 *
 * The commands run the built CLI (bin/ncps.js) one after the other in a temporary folder, removed after.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../src/io/atomic.js";

const BEGIN = "<!-- peak-memory:begin -->";
const END = "<!-- peak-memory:end -->";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** One series: time t (seconds, irregular), three inputs, target y. */
function writeData(file: string, rows: number): void {
  const fd = openSync(file, "w");
  let t = 0;
  let text = "t,a,b,c,y\n";
  for (let r = 0; r < rows; r++) {
    t += 1 + (r % 3);
    const a = Math.sin(r / 50);
    const b = Math.cos(r / 70);
    const c = ((r * 7919) % 1000) / 1000;
    text += `${t},${a.toFixed(6)},${b.toFixed(6)},${c.toFixed(3)},${(a * b + 0.1 * c).toFixed(6)}\n`;
    if (text.length > 1 << 20) {
      writeSync(fd, text);
      text = "";
    }
  }
  writeSync(fd, text);
  closeSync(fd);
}

interface Measured {
  command: string;
  exit: number;
  peakMiB: number;
  wallSeconds: number;
}

/** Runs `ncps ARGS` under GNU time; the peak resident set and wall time it reports. */
function measure(args: string[], shown: string): Measured {
  const r = spawnSync("/usr/bin/time", ["-v", process.execPath, path.join(root, "bin/ncps.js"), ...args], { encoding: "utf8", maxBuffer: 1 << 30 });
  const err = r.stderr ?? "";
  const peak = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(err);
  if (!peak || !wall) throw new Error(`no measurement from /usr/bin/time for ${shown}:\n${err.slice(-2000)}`);
  if (r.status !== 0) throw new Error(`${shown} failed (exit ${r.status}):\n${err.slice(-2000)}`);
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  return { command: shown, exit: r.status ?? -1, peakMiB: Number(peak[1]) / 1024, wallSeconds: seconds };
}

function main(): void {
  if (!existsSync("/usr/bin/time")) throw new Error("GNU time (/usr/bin/time) is needed: apt-get install time");
  if (!existsSync(path.join(root, "dist/cli/main.js"))) throw new Error("build first: npm run build");
  const rows = Number(arg("rows") ?? 1_000_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), "ncps-peak-"));
  try {
    const data = path.join(dir, "rows.csv");
    writeData(data, rows);
    const bytes = statSync(data).size;
    const model = path.join(dir, "model.safetensors");
    const pred = path.join(dir, "pred.csv");
    const trainArgs = ["train", data, "--target", "y", "--time", "t", "--window", "32", "--stride", "32", "--epochs", "1", "--units", "16", "--quiet", "--out", model];
    const predictArgs = ["predict", model, data, "--out", pred];
    const shown = (a: string[]) => `ncps ${a.map((x) => (x === data ? "rows.csv" : x === model ? "model.safetensors" : x === pred ? "pred.csv" : x)).join(" ")}`;
    const train = measure(trainArgs, shown(trainArgs));
    const predict = measure(predictArgs, shown(predictArgs));
    const section = [
      BEGIN,
      `### Peak memory on ${rows.toLocaleString("en-US")} rows, ${new Date().toISOString().slice(0, 10)}`,
      "",
      "```sh",
      `npm run build && npx tsx scripts/peak-memory.ts --rows ${rows} --into BENCHMARKS.md`,
      "```",
      "",
      `Generated CSV: ${rows.toLocaleString("en-US")} rows of \`t,a,b,c,y\` (one series, irregular times), ${(bytes / 2 ** 20).toFixed(1)} MiB. ` +
        `Node ${process.version}, ${os.cpus().length} cores, load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}. ` +
        "Peak = maximum resident set size reported by `/usr/bin/time -v`.",
      "",
      "| command | peak RSS (MiB) | wall (s) |",
      "|---|---:|---:|",
      ...[train, predict].map((m) => `| \`${m.command}\` | ${m.peakMiB.toFixed(0)} | ${m.wallSeconds.toFixed(1)} |`),
      "",
      "The CSV is read in 4 MiB pieces (no string holds the whole file) and its cells are stored per column as they arrive " +
        "(a number written as a plain decimal as its float64 and its count of decimals, other cells as interned or buffered text), " +
        "so memory grows with the number of cells rather than with the characters of the text; `predict` reads the file once " +
        "(the input columns it writes back are the cells kept from that read) and writes its output as it goes.",
      END,
    ].join("\n");
    const into = arg("into");
    if (!into) {
      process.stdout.write(section + "\n");
      return;
    }
    const text = readFileSync(into, "utf8");
    const a = text.indexOf(BEGIN);
    const b = text.indexOf(END);
    const next = a >= 0 && b > a ? text.slice(0, a) + section + text.slice(b + END.length) : `${text.trimEnd()}\n\n## Peak memory of train and predict on a large CSV\n\n${section}\n`;
    writeFileAtomic(into, next);
    process.stdout.write(`${into}: peak-memory section written\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
