#!/usr/bin/env node
// `npm test`: runs the test files (all of test/*.test.ts, or the files given) with node's test runner.
// On a terminal the report is compact (scripts/test-reporter.mjs); in CI or when the output is piped it
// is TAP, whose closing lines (# tests, # pass, # fail) CI reads. A --test-reporter given here wins.
//   npm test                         npm test -- test/cfc-api.test.ts
//   npm test -- --test-reporter=spec --test-name-pattern=LTC
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith("-"));
let files = args.filter((a) => !a.startsWith("-"));
if (files.length === 0) {
  files = readdirSync(path.join(root, "test"))
    .filter((f) => f.endsWith(".test.ts"))
    .sort()
    .map((f) => path.join("test", f));
}

const inCI = Boolean(process.env.CI) && process.env.CI !== "false";
const reporter = [];
if (!flags.some((f) => f.startsWith("--test-reporter"))) {
  const compact = process.stdout.isTTY && !inCI;
  reporter.push(`--test-reporter=${compact ? path.join(root, "scripts/test-reporter.mjs") : "tap"}`, "--test-reporter-destination=stdout");
}

const child = spawn(process.execPath, ["--import", "tsx", "--test", ...reporter, ...flags, ...files], { cwd: root, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
