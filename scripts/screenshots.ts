#!/usr/bin/env node
// `npm run screenshots`: pictures of the workbench in each state, for the README, written to
// docs/screenshots/ (or the folder given). Needs the build (npm run build) and Debian's chromium
// (or NCPS_CHROMIUM); drives them with playwright-core against `ncps serve`.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Page, chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outDir = path.resolve(process.argv[2] ?? path.join(root, "docs/screenshots"));
const executablePath = process.env.NCPS_CHROMIUM ?? "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  console.error(`screenshots: no chromium at ${executablePath} (apt-get install chromium, or set NCPS_CHROMIUM)`);
  process.exit(1);
}
if (!existsSync(path.join(root, "dist/web/index.html"))) {
  console.error("screenshots: the workbench is not built: run npm run build");
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });

const server = spawn(process.execPath, [path.join(root, "bin/ncps.js"), "serve", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
const origin = await new Promise<string>((resolve, reject) => {
  let out = "";
  server.stdout!.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
    if (m) resolve(m[0]);
  });
  server.once("exit", (code) => reject(new Error(`ncps serve exited with ${code}`)));
});
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const written: string[] = [];

async function shot(page: Page, name: string, selector?: string): Promise<void> {
  const file = path.join(outDir, `${name}.png`);
  if (selector) await page.locator(selector).screenshot({ path: file });
  else await page.screenshot({ path: file, fullPage: true });
  written.push(file);
}

async function open(query: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 })).newPage();
  await page.goto(`${origin}/${query}`);
  return page;
}

const done = (page: Page) => page.waitForSelector('body[data-status="done"]', { timeout: 300_000 });

try {
  // 1. an example loaded, columns guessed, ready to train
  let page = await open("?example=leaky-memory");
  await shot(page, "1-data", "main");
  // 2. training: live curves, throughput and time left
  page = await open("?example=leaky-memory&epochs=12&autorun=1");
  await page.waitForFunction(() => document.querySelectorAll("#curves svg").length > 0 && /epoch [3-9]/.test(document.getElementById("progress")?.textContent ?? ""), undefined, { timeout: 300_000 });
  await shot(page, "2-training", "#training-section");
  await done(page);
  // 3. results: predictions against truth, the per-neuron states
  await page.waitForSelector("#states-plot svg");
  await shot(page, "3-results", "#results-section");
  // 4. a wired CfC on the classification example: the wiring coloured by each neuron's state
  page = await open("?example=irregular-classes&model=cfc-ncp&units=12&autorun=1");
  await done(page);
  await page.waitForSelector("#wiring svg");
  await page.fill("#inspect-step", "8");
  await page.dispatchEvent("#inspect-step", "input");
  await page.waitForTimeout(300);
  await shot(page, "4-inside-wired-cfc", "#results-section");
  // 5. CfC against LSTM on the same split
  await page.click("#compare");
  await page.waitForSelector("#compare-results svg", { timeout: 300_000 });
  await shot(page, "5-cfc-vs-lstm", "#compare-results");
  // 6. a CSV the page cannot use as chosen: the reader's message next to the window field
  page = await open("?example=sine-cosine&window=100");
  await page.click("#train");
  await page.waitForSelector('body[data-status="failed"]');
  await shot(page, "6-bad-input", "#model-section");
} finally {
  await browser.close();
  server.kill("SIGTERM");
}
console.log(`screenshots: wrote ${written.map((f) => path.relative(process.cwd(), f)).join(", ")}`);
