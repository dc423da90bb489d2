/**
 * The workbench page end to end in a real browser (Debian's chromium, driven by playwright-core): the
 * page as `ncps serve` serves it trains an example from a deep link, trains a CSV uploaded through the
 * file input, and its downloaded checkpoint makes `ncps predict` give the page's numbers; bad input is
 * answered next to the control that can fix it. Every page must stay within its origin and log no
 * console error. Skips when chromium or the built CLI is missing.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { type Browser, type Page, chromium } from "playwright-core";
import { encodeSafetensors } from "../src/io/safetensors.js";
import { parseCsv } from "../src/io/csv.js";
import { projectRoot } from "./helpers/goldens.js";

const CHROMIUM = process.env.NCPS_CHROMIUM ?? "/usr/bin/chromium";
const CLI = path.join(projectRoot, "bin/ncps.js");
const skip = !existsSync(CHROMIUM)
  ? `no chromium at ${CHROMIUM} (apt-get install chromium, or set NCPS_CHROMIUM): skipping the workbench end-to-end tests`
  : !existsSync(path.join(projectRoot, "dist/web/index.html")) || !existsSync(path.join(projectRoot, "dist/cli/serve.js"))
    ? "dist/ is not built (npm run build): skipping the workbench end-to-end tests"
    : false;

/** A page with its watchers: requests leaving the origin, console errors and uncaught exceptions. */
interface Watched {
  page: Page;
  outside: string[];
  errors: string[];
}

describe("workbench in chromium", { skip }, () => {
  let server: ChildProcess;
  let origin = "";
  let browser: Browser;
  let scratch = "";

  before(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), "ncps-workbench-"));
    server = spawn(process.execPath, [CLI, "serve", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    origin = await new Promise<string>((resolve, reject) => {
      let out = "";
      server.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
        if (m) resolve(m[0]);
      });
      server.once("exit", (code) => reject(new Error(`ncps serve exited with ${code} before listening`)));
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      // playwright gives every launch a fresh temporary profile (it refuses --user-data-dir here)
    });
  });

  after(async () => {
    await browser?.close();
    server?.kill("SIGTERM");
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  async function open(query = ""): Promise<Watched> {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const watched: Watched = { page, outside: [], errors: [] };
    page.on("request", (r) => {
      const url = r.url();
      if (!url.startsWith(origin + "/") && !url.startsWith("blob:") && !url.startsWith("data:")) watched.outside.push(url);
    });
    page.on("console", (m) => {
      if (m.type() === "error") watched.errors.push(m.text());
    });
    page.on("pageerror", (e) => watched.errors.push(e.message));
    // Every value body[data-status] takes, in order. A string: tsx would wrap a function's inner functions in a helper the page lacks.
    await page.addInitScript(`
      window.statuses = [];
      const record = () => {
        const s = document.body && document.body.dataset.status;
        if (s && window.statuses[window.statuses.length - 1] !== s) window.statuses.push(s);
      };
      new MutationObserver(record).observe(document, { childList: true, attributes: true, subtree: true, attributeFilter: ["data-status"] });
      document.addEventListener("DOMContentLoaded", record);
    `);
    await page.goto(`${origin}/${query}`);
    return watched;
  }

  function assertClean(w: Watched): void {
    assert.deepEqual(w.outside, [], "the page requests nothing outside its origin");
    assert.deepEqual(w.errors, [], "the page logs no console error");
  }

  const finalMetric = async (page: Page) => Number(await page.locator("#final-metric").getAttribute("data-value"));

  test("the deep link trains the leaky-memory example to done, idle -> training -> done, with a finite metric", async () => {
    const w = await open("?example=leaky-memory&epochs=2&autorun=1");
    await w.page.waitForSelector('body[data-status="done"]', { timeout: 60_000 });
    const statuses = await w.page.evaluate(() => (window as unknown as { statuses: string[] }).statuses);
    assert.deepEqual(statuses, ["idle", "training", "done"]);
    const metric = await finalMetric(w.page);
    assert.ok(Number.isFinite(metric) && metric > 0, `finite validation MSE, got ${metric}`);
    assert.match((await w.page.locator("#curves").innerHTML()) ?? "", /<svg/);
    assert.match(await w.page.locator("#states-plot").innerHTML(), /<svg/);
    assertClean(w);
    await w.page.context().close();
  });

  test("a CSV uploaded through the file input trains; the downloaded checkpoint makes ncps predict give the page's numbers", async () => {
    // Irregularly sampled series: y follows a decaying trace of x, so the elapsed time matters.
    const lines = ["unit,time,x,y"];
    let seed = 3;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let s = 0; s < 12; s++) {
      let t = 0;
      let y = 0;
      for (let k = 0; k < 25; k++) {
        const dt = 0.2 + 2 * rand();
        t += dt;
        const x = rand() < 0.3 ? 1 : 0;
        y = y * Math.exp(-dt) + x;
        lines.push(`u${s},${t.toFixed(3)},${x},${y.toFixed(4)}`);
      }
    }
    const csvText = lines.join("\n") + "\n";
    const csvFile = path.join(scratch, "uploaded.csv");
    writeFileSync(csvFile, csvText);

    const w = await open();
    const { page } = w;
    await page.setInputFiles("#csv-file", { name: "uploaded.csv", mimeType: "text/csv", buffer: Buffer.from(csvText) });
    await page.waitForFunction(() => !(document.getElementById("train") as HTMLButtonElement).disabled);
    assert.equal(await page.locator("#target").inputValue(), "y", "the target guess");
    assert.equal(await page.locator("#time").inputValue(), "time", "the time column guess");
    assert.equal(await page.locator("#sequence").inputValue(), "unit", "the sequence column guess");
    await page.fill("#epochs", "3");
    await page.selectOption("#model", "cfc-ncp");
    await page.fill("#units", "8");
    await page.click("#train");
    await page.waitForSelector('body[data-status="done"]', { timeout: 60_000 });
    assert.ok(Number.isFinite(await finalMetric(page)));
    assert.match(await page.locator("#wiring").innerHTML(), /class="neuron neuron-motor"/, "the wired model is drawn");

    const save = async (buttonId: string, file: string) => {
      const [download] = await Promise.all([page.waitForEvent("download"), page.click(buttonId)]);
      const target = path.join(scratch, file);
      await download.saveAs(target);
      return target;
    };
    const modelFile = await save("#download-checkpoint", "model.safetensors");
    const pagePredictions = readFileSync(await save("#download-predictions", "page-predictions.csv"), "utf8");
    const logText = readFileSync(await save("#download-log", "run.jsonl"), "utf8");
    assert.equal(logText.trim().split("\n").length, 3, "one log line per epoch");

    const cli = spawnSync(process.execPath, [CLI, "predict", modelFile, csvFile], { encoding: "utf8" });
    assert.equal(cli.status, 0, cli.stderr);
    const ours = parseCsv(pagePredictions, "page");
    const theirs = parseCsv(cli.stdout, "cli");
    assert.deepEqual(ours.header, theirs.header);
    assert.equal(ours.rows.length, 300);
    const column = theirs.header.indexOf("pred_y");
    assert.ok(column > 0, `ncps predict writes pred_y: ${theirs.header.join(",")}`);
    let compared = 0;
    ours.rows.forEach((row, r) => {
      const a = Number(row[column]);
      const b = Number(theirs.rows[r][column]);
      assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `row ${r + 1}: page ${a}, ncps predict ${b}`);
      if (row[column] !== "") compared++;
    });
    assert.equal(compared, 300, "every row has a prediction");

    // the downloaded checkpoint, loaded back into the page, predicts on a CSV the same numbers
    await page.setInputFiles("#checkpoint-file", modelFile);
    await page.waitForFunction(() => /parameters/.test(document.getElementById("checkpoint-summary")?.textContent ?? ""));
    await page.setInputFiles("#predict-file", csvFile);
    await page.waitForSelector("#download-new-predictions:not([hidden])");
    const reloaded = readFileSync(await save("#download-new-predictions", "reloaded-predictions.csv"), "utf8");
    assert.equal(reloaded, pagePredictions, "predictions from the reloaded checkpoint equal the trained model's");
    assertClean(w);
    await page.context().close();
  });

  test("bad input is answered next to the control that can fix it, and a diverging run stops with its message", async () => {
    const w = await open("?example=sine-cosine");
    const { page } = w;
    // a window longer than the series: the CLI's message, next to the window field
    await page.fill("#window", "500");
    await page.fill("#epochs", "1");
    await page.click("#train");
    await page.waitForSelector('body[data-status="failed"]');
    assert.match(await page.locator("#window-error").textContent() ?? "", /--window 500/);

    // an absurd learning rate diverges; the page stays usable
    await page.fill("#window", "");
    await page.fill("#lr", "1e30");
    await page.fill("#epochs", "5");
    await page.click("#train");
    await page.waitForFunction(() => document.body.dataset.status !== "training" && (document.getElementById("train-error")?.textContent ?? "") !== "");
    assert.match(await page.locator("#train-error").textContent() ?? "", /training diverged/);
    assert.equal(await page.locator("body").getAttribute("data-status"), "failed");
    assert.equal(await page.locator("#train").isDisabled(), false, "the page can train again");

    // the stop button ends a long run after the epoch in progress, with its results
    await page.selectOption("#example", "leaky-memory");
    await page.fill("#epochs", "200");
    await page.click("#train");
    await page.waitForSelector("#curves svg");
    await page.click("#stop");
    await page.waitForSelector('body[data-status="done"]');
    assert.match(await page.locator("#result-summary").textContent() ?? "", /stopped early/);

    // checkpoints of another kind or version are refused with the reason
    const foreign = encodeSafetensors({ w: { shape: [1], data: new Float32Array([1]) } }, { format: "pt" });
    await page.setInputFiles("#checkpoint-file", { name: "other.safetensors", mimeType: "application/octet-stream", buffer: Buffer.from(foreign) });
    await page.waitForFunction(() => (document.getElementById("checkpoint-error")?.textContent ?? "") !== "");
    assert.match(await page.locator("#checkpoint-error").textContent() ?? "", /other\.safetensors: metadata "format" is "pt", expected "ncps-ts"/);
    const future = encodeSafetensors({ w: { shape: [1], data: new Float32Array([1]) } }, { format: "ncps-ts", version: "9", config: "{}" });
    await page.setInputFiles("#checkpoint-file", { name: "future.safetensors", mimeType: "application/octet-stream", buffer: Buffer.from(future) });
    await page.waitForFunction(() => /future/.test(document.getElementById("checkpoint-error")?.textContent ?? ""));
    assert.match(await page.locator("#checkpoint-error").textContent() ?? "", /checkpoint version "9" is not supported/);
    assertClean(w);
    await page.context().close();
  });
});
