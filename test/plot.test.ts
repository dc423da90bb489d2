import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { figureSvg, formatTick, lineChartSvg, logTicks, niceTicks } from "../src/plot/svg-plot.js";
import { parseRunLog, predictionsSvg, trainingCurvesSvg } from "../src/plot/curves.js";
import { findOnPath, svgToPng, writeFigure } from "../src/plot/png.js";
import { main } from "../src/cli/main.js";
import type { CliIO } from "../src/cli/util.js";
import { checkXml } from "./helpers/xml-check.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ncps-plot-test-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

const count = (s: string, needle: string) => s.split(needle).length - 1;

describe("ticks", () => {
  test("nice linear ticks", () => {
    assert.deepEqual(niceTicks(0, 1, 5), { ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], step: 0.2 });
    // span 0.74 / 5 = 0.148 -> step 0.1, ticks inside [0.13, 0.87]
    assert.deepEqual(niceTicks(0.13, 0.87, 5).ticks, [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    assert.deepEqual(niceTicks(1, 37, 6).ticks, [5, 10, 15, 20, 25, 30, 35]);
    assert.deepEqual(niceTicks(-250, 1000, 5).ticks, [-200, 0, 200, 400, 600, 800, 1000]);
  });

  test("log ticks: decades, with 2 and 5 over short ranges", () => {
    assert.deepEqual(logTicks(0.01, 10), [0.01, 0.1, 1, 10]);
    assert.deepEqual(logTicks(0.1, 10), [0.1, 0.2, 0.5, 1, 2, 5, 10]);
  });

  test("tick labels", () => {
    assert.equal(formatTick(0.1 + 0.2, 0.1), "0.3");
    assert.equal(formatTick(1500, 500), "1500");
    assert.equal(formatTick(0.25, 0.05), "0.25");
    assert.equal(formatTick(2.5e-5, 5e-6), "2.5e-5");
    assert.equal(formatTick(3e7, 1e7), "3e7");
  });
});

describe("SVG line charts", () => {
  test("well-formed, one path per series, legend entries, escaped text", () => {
    const svg = lineChartSvg(
      [
        { name: "train_loss", x: [1, 2, 3], y: [1, 0.5, 0.25] },
        { name: 'a<b & "c"', x: [1, 2, 3], y: [0.9, NaN, 0.3], dashed: true },
      ],
      { title: "Loss & friends", xLabel: "epoch", yLabel: "loss" },
    );
    const elements = checkXml(svg);
    assert.equal(elements[0], "svg");
    assert.equal(count(svg, 'class="series"'), 2);
    assert.match(svg, /<text class="legend-label"[^>]*>train_loss<\/text>/);
    assert.match(svg, /<text class="legend-label"[^>]*>a&lt;b &amp; &quot;c&quot;<\/text>/);
    assert.match(svg, /<text class="panel-title"[^>]*>Loss &amp; friends<\/text>/);
    // The NaN breaks the second line: two separate "M" moves, and isolated points become dots.
    const d = /data-series="a&lt;b &amp; &quot;c&quot;" d="([^"]*)"/.exec(svg)![1];
    assert.equal(count(d, "M"), 2);
    assert.equal(count(d, "L"), 0);
    assert.ok(count(svg, "<circle") >= 2);
  });

  test("log scale: values <= 0 are skipped, ticks are powers of ten", () => {
    const svg = lineChartSvg([{ name: "loss", x: [0, 1, 2, 3], y: [10, 1, 0, 0.01] }], { logY: true });
    checkXml(svg);
    for (const label of ["0.01", "0.1", "1", "10"]) assert.match(svg, new RegExp(`class="tick-label"[^>]*>${label.replace(".", "\\.")}</text>`));
    const d = /class="series" data-series="loss" d="([^"]*)"/.exec(svg)![1];
    assert.equal(count(d, "M") + count(d, "L"), 3);
  });

  test("log x axis: sizes that double are evenly spaced; chosen ticks; values <= 0 left out", () => {
    const sizes = [0, 8, 16, 32, 64];
    const svg = lineChartSvg([{ name: "cost", x: sizes, y: [1, 1, 2, 3, 4] }], { logX: true, xTicks: sizes.slice(1).map((v) => ({ value: v, label: String(v) })) });
    checkXml(svg);
    for (const label of ["8", "16", "32", "64"]) assert.match(svg, new RegExp(`class="tick-label"[^>]*text-anchor="middle"[^>]*>${label}</text>`));
    const d = /class="series" data-series="cost" d="([^"]*)"/.exec(svg)![1];
    const xs = [...d.matchAll(/[ML]([\d.]+),/g)].map((m) => Number(m[1]));
    assert.equal(xs.length, 4);
    const gaps = xs.slice(1).map((x, i) => x - xs[i]);
    for (const g of gaps) assert.ok(Math.abs(g - gaps[0]) < 0.05, `uneven gaps ${gaps}`);
    // without chosen ticks, a log x axis labels round values inside the data range
    const auto = lineChartSvg([{ name: "cost", x: [1, 1000], y: [1, 2] }], { logX: true });
    for (const label of ["1", "10", "100", "1000"]) assert.match(auto, new RegExp(`class="tick-label"[^>]*text-anchor="middle"[^>]*>${label}</text>`));
  });

  test("points land where the axes say", () => {
    const svg = lineChartSvg([{ name: "", x: [0, 10], y: [0, 1] }], { legend: false });
    const d = /class="series" data-series="" d="M([\d.]+),([\d.]+) L([\d.]+),([\d.]+)"/.exec(svg)!;
    const [x0, y0, x1, y1] = d.slice(1).map(Number);
    const frame = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none"/.exec(svg)!.slice(1).map(Number);
    // x spans the data range; y = 0 and 1 are the axis ends (ticks 0 ... 1).
    assert.ok(Math.abs(x0 - frame[0]) < 0.01 && Math.abs(x1 - (frame[0] + frame[2])) < 0.01);
    assert.ok(Math.abs(y0 - (frame[1] + frame[3])) < 0.01 && Math.abs(y1 - frame[1]) < 0.01);
  });

  test("grid of panels; empty data says so", () => {
    const svg = figureSvg([{ series: [] }, { series: [{ name: "s", x: [], y: [] }] }, { series: [{ name: "t", x: [1], y: [2] }] }], { columns: 2, title: "grid" });
    checkXml(svg);
    assert.equal(count(svg, 'class="panel"'), 3);
    assert.equal(count(svg, ">no data</text>"), 2);
    assert.throws(() => figureSvg([]), /no panels/);
  });
});

describe("training curves and predictions", () => {
  const log =
    [1, 2, 3, 4, 5]
      .map((e) => JSON.stringify({ epoch: e, train_loss: 2 / e ** 2, valid_loss: 2.2 / e ** 2, train_acc: 0.5 + e / 20, valid_acc: 0.45 + e / 20, lr: 0.01 * 0.9 ** e, epoch_time_s: 1.2 }))
      .join("\n") + "\n";

  test("loss panel (log when spanning > 20x), one panel per metric, lr panel", () => {
    const records = parseRunLog(log, "run.jsonl");
    assert.equal(records.length, 5);
    const svg = trainingCurvesSvg(records);
    checkXml(svg);
    assert.equal(count(svg, 'class="panel"'), 3); // loss, acc, learning rate
    assert.equal(count(svg, 'class="series"'), 5);
    for (const name of ["train_loss", "valid_loss", "train_acc", "valid_acc"]) assert.match(svg, new RegExp(`class="legend-label"[^>]*>${name}</text>`));
    assert.match(svg, /loss \(log scale\)/);
    assert.doesNotMatch(svg, /epoch_time_s/);
    const linear = trainingCurvesSvg(records, { logLoss: false });
    assert.doesNotMatch(linear, /log scale/);
  });

  test("epochs get whole-number ticks and every panel marks the best epoch", () => {
    const tickLabels = (svg: string) => [...svg.matchAll(/class="tick-label" x="[\d.]+" y="([\d.]+)"[^>]*>([^<]*)</g)];
    const records = [
      { epoch: 1, train_loss: 1, valid_loss: 0.9, valid_acc: 0.5, improved: true },
      { epoch: 2, train_loss: 0.8, valid_loss: 0.7, valid_acc: 0.6, improved: true },
      { epoch: 3, train_loss: 0.6, valid_loss: 0.75, valid_acc: 0.7, improved: false },
    ];
    const svg = trainingCurvesSvg(records);
    checkXml(svg);
    // x tick labels sit below the plot, y tick labels beside it: take those on the lowest row
    const labels = tickLabels(svg);
    const bottom = Math.max(...labels.map((m) => Number(m[1])));
    const xTicks = [...new Set(labels.filter((m) => Number(m[1]) === bottom).map((m) => m[2]))];
    assert.deepEqual(xTicks, ["1", "2", "3"], "no fractional epochs");
    const marks = [...svg.matchAll(/class="mark-label"[^>]*>([^<]*)</g)].map((m) => m[1]);
    assert.deepEqual(marks, ["best epoch 2", "best epoch 2"], "the loss panel and the accuracy panel");
    // without "improved" flags: the lowest validation loss; none without validation data
    const plain = records.map(({ improved: _, ...r }) => ({ ...r, valid_loss: r.epoch === 3 ? 0.1 : r.valid_loss }));
    assert.match(trainingCurvesSvg(plain), /best epoch 3/);
    assert.doesNotMatch(trainingCurvesSvg(records.map((r) => ({ epoch: r.epoch, train_loss: r.train_loss }))), /class="mark"/);
    assert.doesNotMatch(trainingCurvesSvg(records, { bestEpoch: null }), /class="mark"/);
  });

  test("run log errors", () => {
    assert.throws(() => parseRunLog('{"epoch":1}\n{oops\n', "run.jsonl"), /run\.jsonl line 2: not valid JSON/);
    assert.throws(() => parseRunLog("[1,2]\n", "run.jsonl"), /run\.jsonl line 1: expected a JSON object/);
    assert.throws(() => trainingCurvesSvg([{ epoch: 1, lr: 0.1 }]), /no loss or metric values to plot/);
  });

  test("predictions: one panel per sequence, capped", () => {
    const seq = (k: number) => Array.from({ length: 5 }, (_, i) => i * k);
    const svg = predictionsSvg({ true: [seq(1), seq(2), seq(3)], pred: [seq(1.1), seq(2.1), seq(2.9)], names: ["p1", "p2", "p3"], maxPanels: 2 });
    checkXml(svg);
    assert.equal(count(svg, 'class="panel"'), 2);
    assert.equal(count(svg, 'class="series"'), 4);
    assert.match(svg, /first 2 of 3 sequences/);
    assert.throws(() => predictionsSvg({ true: [[1]], pred: [], names: ["a"] }), /expected one of each per sequence/);
    const classes = predictionsSvg({ true: [[0, 1, 2]], pred: [[0, 2, 2]], names: ["s"], classes: ["run", "sit", "walk"] });
    assert.match(classes, /class="tick-label"[^>]*>walk<\/text>/);
  });
});

describe("PNG output", () => {
  const tiny = lineChartSvg([{ name: "a", x: [0, 1], y: [0, 1] }]);

  test("a stand-in convert that prints no PNG does not count; SVG is written instead", () => {
    const bin = path.join(scratch, "fake-bin");
    fs.mkdirSync(bin, { recursive: true });
    const fake = path.join(bin, "convert");
    fs.writeFileSync(fake, "#!/bin/sh\necho 'convert: not ImageMagick' >&2\nexit 1\n", { mode: 0o755 });
    assert.equal(findOnPath("convert", bin), fake);
    const result = svgToPng(tiny, bin);
    assert.equal(result.png, null);
    assert.deepEqual(result.attempts, ["rsvg-convert: not found", "magick: not found", "convert: convert: not ImageMagick"]);
    const written = writeFigure(path.join(scratch, "fallback.png"), tiny, bin);
    assert.equal(written.format, "svg");
    assert.equal(written.path, path.join(scratch, "fallback.svg"));
    assert.match(written.note!, /PNG output needs rsvg-convert \(librsvg\) or ImageMagick/);
    assert.equal(fs.readFileSync(written.path, "utf8"), tiny);
    assert.throws(() => writeFigure(path.join(scratch, "x.pdf"), tiny), /use a \.svg or \.png file name/);
  });

  test("rsvg-convert, when installed, gives a PNG", { skip: findOnPath("rsvg-convert") ? false : "rsvg-convert is not on PATH" }, () => {
    const written = writeFigure(path.join(scratch, "real.png"), tiny);
    assert.equal(written.format, "png");
    const bytes = fs.readFileSync(written.path);
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // librsvg is a strict XML parser: a figure with awkward text must still render.
    const awkward = trainingCurvesSvg([{ epoch: 1, "loss<&>\u0001": 1 }, { epoch: 2, "loss<&>\u0001": 0.5 }]);
    const run = spawnSync(findOnPath("rsvg-convert")!, ["--format", "png"], { input: awkward });
    assert.equal(run.status, 0, String(run.stderr));
  });
});

describe("ncps plot", () => {
  const capture = (): CliIO & { stdout: string; stderr: string } => {
    const io = { stdout: "", stderr: "", isTTY: false, out: (s: string) => void (io.stdout += s), err: (s: string) => void (io.stderr += s) };
    return io;
  };

  test("curves from a run log", async () => {
    const runLog = path.join(scratch, "run.jsonl");
    fs.writeFileSync(runLog, ['{"epoch":1,"train_loss":1.0,"valid_loss":1.2}', '{"epoch":2,"train_loss":0.6,"valid_loss":0.9}', '{"epoch":3,"train_loss":0.4,"valid_loss":0.8}', ""].join("\n"));
    const out = path.join(scratch, "curves.svg");
    const io = capture();
    assert.equal(await main(["plot", runLog, "--out", out], io), 0, io.stderr);
    assert.match(io.stdout, /wrote .*curves\.svg \(3 record\(s\)\)/);
    const svg = fs.readFileSync(out, "utf8");
    checkXml(svg);
    assert.equal(count(svg, 'class="series"'), 2);
    assert.match(svg, />valid_loss<\/text>/);
    assert.match(svg, /training curves: run\.jsonl/);
  });

  test("predictions file: panel per sequence, true against pred_ column", async () => {
    const pred = path.join(scratch, "pred.csv");
    fs.writeFileSync(
      pred,
      "id,t,hr,temp,pred_temp\na,2024-01-01T00:00:00Z,60,36.0,36.1\nb,2024-01-01T00:00:00Z,80,37.0,36.9\na,2024-01-01T02:00:00Z,62,36.5,36.4\nb,2024-01-01T05:00:00Z,82,38.0,\n",
    );
    const out = path.join(scratch, "pred.svg");
    const io = capture();
    assert.equal(await main(["plot", "--predictions", pred, "--out", out, "--sequence", "id", "--time", "t"], io), 0, io.stderr);
    assert.match(io.stdout, /2 sequence\(s\); pred_temp against temp/);
    const svg = fs.readFileSync(out, "utf8");
    checkXml(svg);
    assert.equal(count(svg, 'class="panel"'), 2);
    assert.equal(count(svg, 'class="series"'), 4);
    assert.match(svg, /class="panel-title"[^>]*>id a<\/text>/);
    assert.match(svg, /t \(h since start\)/);
  });

  test("classification predictions: each class's probability over time, the true class as a band", async () => {
    const pred = path.join(scratch, "cls.csv");
    fs.writeFileSync(pred, "x,label,prob_run,prob_walk\n1,walk,0.2,0.8\n2,run,0.7,0.3\n3,run,0.6,0.4\n");
    const out = path.join(scratch, "cls.svg");
    const io = capture();
    assert.equal(await main(["plot", "--predictions", pred, "--out", out], io), 0, io.stderr);
    assert.match(io.stdout, /probabilities of 2 classes, true class from label/);
    const svg = fs.readFileSync(out, "utf8");
    const paths = new Map([...svg.matchAll(/class="series" data-series="([^"]+)" d="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    assert.deepEqual([...paths.keys()], ["P(run)", "P(walk)", "true: run", "true: walk"]);
    const ys = (d: string) => [...d.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    const [run, walk] = [ys(paths.get("P(run)")!), ys(paths.get("P(walk)")!)];
    assert.equal(run.length, 3);
    assert.ok(walk[0] < run[0] && run[1] < walk[1], "the more probable class is drawn higher (smaller y) at each step");
    assert.equal(ys(paths.get("true: walk")!).length, 1, "walk is the true class at the first step only");
    assert.equal(ys(paths.get("true: run")!).length, 2);
    assert.ok(ys(paths.get("true: run")!)[0] < Math.min(...run, ...walk), "the true-class band lies above every probability");
    const legend = [...svg.matchAll(/class="legend-label"[^>]*>([^<]*)</g)].map((m) => m[1]);
    assert.deepEqual(legend, ["P(run)", "P(walk)"]);
  });

  test("bad flags and arguments exit 2 with usage", async () => {
    for (const argv of [
      ["plot", "run.jsonl", "--out", "x.svg", "--bogus"],
      ["plot", "run.jsonl"],
      ["plot", "run.jsonl", "--out", "x.gif"],
      ["plot", "--out", "x.svg"],
      ["plot", "run.jsonl", "--out", "x.svg", "--sequence", "id"],
      ["plot", "--predictions", "p.csv", "--out", "x.svg", "--log-loss"],
    ]) {
      const io = capture();
      assert.equal(await main(argv, io), 2, argv.join(" "));
      assert.match(io.stderr, /usage: ncps plot/);
    }
    const io = capture();
    const missing = path.join(scratch, "missing.jsonl");
    assert.equal(await main(["plot", missing, "--out", path.join(scratch, "m.svg")], io), 1);
    assert.match(io.stderr, /cannot read run log .*missing\.jsonl/);
  });

  test("PNG without a rasteriser: SVG written, exit 1 with an explanation", async () => {
    const runLog = path.join(scratch, "run2.jsonl");
    fs.writeFileSync(runLog, '{"epoch":1,"train_loss":1}\n{"epoch":2,"train_loss":0.5}\n');
    const saved = process.env.PATH;
    process.env.PATH = path.join(scratch, "empty-bin");
    try {
      const io = capture();
      assert.equal(await main(["plot", runLog, "--out", path.join(scratch, "c2.png")], io), 1);
      assert.match(io.stderr, /PNG output needs rsvg-convert .* wrote SVG to .*c2\.svg instead/);
      assert.ok(fs.existsSync(path.join(scratch, "c2.svg")));
      assert.ok(!fs.existsSync(path.join(scratch, "c2.png")));
    } finally {
      process.env.PATH = saved;
    }
  });
});
