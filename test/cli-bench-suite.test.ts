/**
 * `ncps bench --suite paper --quick`, end to end through the CLI dispatcher: the result's shape, its
 * plots and the work counts that follow from the models' equations; never its timings.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { main } from "../src/cli/main.js";
import { paperEntries, SCALING_KEYS, suiteDefaults, type ModelResult, type SuiteResult, type WorkloadResult } from "../src/cli/bench-suite.js";
import { suiteMarkdown } from "../src/cli/bench-report.js";
import { defaultPytorchPaths, PYTORCH_COUNTERPARTS } from "../src/cli/bench-pytorch.js";
import { checkXml } from "./helpers/xml-check.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ncps-bench-suite-test-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(["bench", ...args], { out: (s) => (out += s), err: (s) => (err += s), isTTY: false });
  return { code, out, err };
}

function checkTiming(r: WorkloadResult, rounds: number, where: string): void {
  for (const k of ["median_ms", "q1_ms", "q3_ms", "min_ms", "max_ms"] as const) assert.ok(Number.isFinite(r[k]) && r[k] >= 0, `${where} ${k}: ${r[k]}`);
  assert.ok(r.min_ms <= r.q1_ms && r.q1_ms <= r.q3_ms && r.q3_ms <= r.max_ms, `${where}: quartiles out of order`);
  assert.ok(r.min_ms <= r.median_ms && r.median_ms <= r.max_ms, `${where}: median outside the samples`);
  assert.equal(r.rounds, rounds, where);
  assert.equal(r.round_medians_ms.length, rounds, where);
  assert.ok(r.samples >= rounds, where);
  assert.ok(r.gemm_gflop_per_run >= 0 && r.gemm_fraction >= 0, where);
}

describe("ncps bench --suite paper --quick", () => {
  const dir = path.join(scratch, "suite");
  // PyTorch left to auto with a Python that is not there: the run must not need it
  const noPython = path.join(scratch, "no-such-python");
  let result: SuiteResult;
  let stdout: SuiteResult;
  let log: string;
  const d = suiteDefaults(true);

  before(async () => {
    const { code, out, err } = await cli(["--suite", "paper", "--quick", "--json", "--out", dir, "--backend", "wasm", "--pytorch-python", noPython]);
    assert.equal(code, 0, err);
    stdout = JSON.parse(out);
    log = err;
    result = JSON.parse(fs.readFileSync(path.join(dir, "suite.json"), "utf8"));
  });

  test("PyTorch on auto without its Python: skipped, one line naming what is missing, no PyTorch figures", () => {
    const lines = log.split("\n").filter((l) => l.startsWith("PyTorch"));
    assert.equal(lines.length, 1, log);
    assert.ok(lines[0].includes(`${noPython} not found`), lines[0]);
    assert.equal(result.pytorch!.status, "skipped");
    assert.equal(result.pytorch!.mode, "auto");
    assert.ok(result.pytorch!.reason!.includes(noPython));
    assert.ok(result.models.every((m) => m.pytorch === undefined));
    assert.ok(result.notes.some((n) => n.startsWith("PyTorch ncps: not measured") && n.includes(noPython)));
    assert.match(suiteMarkdown(result), /PyTorch ncps: not measured in this run/);
  });

  test("suite.json is the result printed, with the run's provenance", () => {
    assert.deepEqual(stdout.models.map((m) => m.key), result.models.map((m) => m.key));
    assert.equal(result.format, "ncps-bench-suite/1");
    assert.equal(result.suite, "paper");
    assert.equal(result.quick, true);
    assert.equal(result.command, `ncps bench --suite paper --quick --json --out ${dir} --backend wasm --pytorch-python ${noPython}`);
    assert.ok(!Number.isNaN(Date.parse(result.date)));
    assert.equal(result.machine.node, process.version);
    assert.equal(result.machine.cpu, os.cpus()[0].model);
    assert.equal(result.config.rounds, d.rounds);
    assert.deepEqual([result.config.batch, result.config.seq_len, result.config.hidden], [d.batch, d.seqLen, d.sizes.units]);
    assert.ok(result.runtime_s > 0 && result.peak_rss_mib > 0);
  });

  test("every paper model is listed: measured, or not in this build with a note; none failed", () => {
    const keys = paperEntries(d.sizes).map((e) => e.key);
    assert.deepEqual(result.models.map((m) => m.key), keys);
    for (const m of result.models) {
      assert.notEqual(m.status, "error", `${m.key}: ${m.note}`);
      if (m.status === "unavailable") {
        assert.match(m.note!, new RegExp(`^${m.config.model} is not in this build`));
        assert.ok(result.notes.some((n) => n.includes(m.label) && n.includes(m.note!)), `${m.key} missing from the notes`);
        continue;
      }
      assert.ok(m.parameters! > 0);
      for (const what of ["train", "infer", "stream"] as const) checkTiming(m[what]!, d.rounds, `${m.key} ${what}`);
      assert.ok(m.infer!.seq_per_s! > 0 && m.train!.seq_per_s! > 0);
      assert.equal(m.stream!.steps, d.streamSteps);
      assert.ok(m.stream!.us_per_step!.median > 0);
      for (const what of ["train", "infer", "stream"] as const) {
        const ratio = m[what]!.vs_cfc;
        if (m.key === "cfc") assert.equal(ratio, undefined);
        else {
          assert.equal(ratio!.per_round.length, d.rounds, `${m.key} ${what}`);
          assert.ok(ratio!.min <= ratio!.median && ratio!.median <= ratio!.max);
        }
      }
    }
    for (const key of ["cfc", "cfc-no_gate", "cfc-pure", "cfc-wired", "ltc", "gru", "lstm"]) assert.equal(result.models.find((m) => m.key === key)!.status, "ok", key);
  });

  test("ODE models: one RK4 step of four evaluations per observation; dopri5 steps and its ratio to RK4", () => {
    const ode = result.models.filter((m) => m.solver);
    assert.equal(ode.length, 8);
    for (const m of ode.filter((x) => x.status === "ok")) {
      assert.deepEqual(m.config.constructor_args.solver, m.solver!.solver);
      for (const what of ["train", "infer", "stream"] as const) {
        const s = m[what]!.solver!;
        if (m.solver!.solver === "rk4") {
          assert.deepEqual([s.accepted_per_observation, s.rejected_per_observation, s.evaluations_per_observation], [1, 0, 4], `${m.key} ${what}`);
        } else {
          assert.ok(s.accepted_per_observation >= 1, `${m.key} ${what}`);
          // dopri5 (FSAL): six new evaluations per trial step, plus the start
          assert.ok(s.evaluations_per_observation >= 6 * (s.accepted_per_observation + s.rejected_per_observation), `${m.key} ${what}`);
          const rk4 = result.models.find((x) => x.key === m.key.replace("dopri5", "rk4"))!;
          if (rk4.status === "ok") assert.equal(m[what]!.vs_rk4!.per_round.length, d.rounds);
        }
      }
    }
  });

  test("matrix-product FLOPs counted over a run follow the models' equations", () => {
    const { batch: B, seqLen: L } = d;
    const { inputSize: I, units: H, backboneUnits: BB } = d.sizes;
    const rows = B * L;
    const flop = (m: ModelResult) => m.infer!.gemm_gflop_per_run * 1e9;
    const cfc = result.models.find((m) => m.key === "cfc")!;
    // backbone [x, h] -> BB, then the four heads ff1, ff2, time_a, time_b: BB -> 4 H
    assert.ok(Math.abs(flop(cfc) - rows * (2 * (I + H) * BB + 2 * BB * 4 * H)) < 1e-3);
    const lstm = result.models.find((m) => m.key === "lstm")!;
    // the four gates from [x, h]
    assert.ok(Math.abs(flop(lstm) - rows * 2 * (I + H) * 4 * H) < 1e-3);
    // a training step is at least the forward pass again (backward products for inputs and weights)
    assert.ok(cfc.train!.gemm_gflop_per_run > 2 * cfc.infer!.gemm_gflop_per_run);
    for (const g of result.gemm) assert.ok(g.gflops.median > 0 && g.gflops.per_round.length === d.rounds);
    assert.ok(result.gemm.some((g) => g.kind === "batched") && result.gemm.some((g) => g.kind === "row"));
  });

  test("scaling: four or more sizes per axis for the scaling models, train and infer (stream with hidden size)", () => {
    assert.deepEqual(result.scaling.map((s) => s.axis), ["seq_len", "hidden", "batch"]);
    for (const s of result.scaling) {
      assert.ok(s.values.length >= 4, s.axis);
      const whats = [...new Set(s.series.map((x) => x.what))];
      assert.deepEqual(whats, s.axis === "hidden" ? ["train", "infer", "stream"] : ["train", "infer"]);
      for (const x of s.series) {
        assert.ok(SCALING_KEYS.includes(x.key));
        assert.deepEqual(x.points.map((p) => p.value), s.values);
        const model = result.models.find((m) => m.key === x.key)!;
        assert.equal(x.status, model.status);
        for (const p of x.points) {
          if (x.status !== "ok") assert.equal(p.result, null);
          else {
            checkTiming(p.result!, d.rounds, `${s.axis} ${x.key} ${x.what} ${p.value}`);
            const size = s.axis === "seq_len" ? p.result!.seq_len : s.axis === "hidden" ? p.result!.hidden : p.result!.batch;
            if (x.what !== "stream") assert.equal(size, p.value);
          }
        }
      }
    }
  });

  test("plots: one valid SVG per scaling axis, a line per measured model", () => {
    assert.deepEqual(result.plots, ["scaling-seq-len.svg", "scaling-hidden.svg", "scaling-batch.svg"]);
    for (const file of result.plots) {
      const svg = fs.readFileSync(path.join(dir, file), "utf8");
      const names = checkXml(svg);
      assert.equal(names[0], "svg");
      for (const x of result.scaling.flatMap((s) => s.series).filter((x) => x.status === "ok")) assert.match(svg, new RegExp(`data-series="${x.label.replace(/[()]/g, "\\$&")}"`));
    }
  });

  test("the Markdown report names the run and links the plots", () => {
    const md = suiteMarkdown(result, { plotPrefix: "bench/results/suite/" });
    assert.ok(md.includes(result.command));
    assert.ok(md.includes(result.machine.cpu) && md.includes(result.machine.node));
    for (const file of result.plots) assert.ok(md.includes(`](bench/results/suite/${file})`), file);
    for (const m of result.models) assert.ok(md.includes(`| ${m.label} |`), m.label);
  });
});

describe("scripts/benchmarks-md.ts", () => {
  const dir = path.join(scratch, "md");
  const tsx = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", "scripts/benchmarks-md.ts", ...args], { encoding: "utf8" });

  before(async () => {
    const { code, err } = await cli(["--suite", "paper", "--quick", "--models", "cfc,lstm", "--rounds", "1", "--pytorch", "off", "--out", path.join(dir, "results")]);
    assert.equal(code, 0, err);
  });

  test("prints the section, or replaces it between its markers, leaving the rest of the file", () => {
    const suiteFile = path.join(dir, "results", "suite.json");
    const printed = tsx([suiteFile]);
    assert.equal(printed.status, 0, printed.stderr);
    assert.match(printed.stdout, /^### Suite "paper" \(quick/);
    const doc = path.join(dir, "BENCHMARKS.md");
    fs.writeFileSync(doc, "# Benchmarks\n\nprose before\n\n<!-- bench-suite:begin -->\nold figures\n<!-- bench-suite:end -->\n\nprose after\n");
    const refused = tsx([suiteFile, "--into", doc]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /is a --quick run/);
    const written = tsx([suiteFile, "--into", doc, "--allow-quick"]);
    assert.equal(written.status, 0, written.stderr);
    const text = fs.readFileSync(doc, "utf8");
    assert.ok(text.startsWith("# Benchmarks\n\nprose before\n\n<!-- bench-suite:begin -->\n### Suite"));
    assert.ok(text.endsWith("<!-- bench-suite:end -->\n\nprose after\n"));
    assert.doesNotMatch(text, /old figures/);
    assert.match(text, /\]\(results\/scaling-hidden\.svg\)/);
    const notSuite = tsx([doc]);
    assert.equal(notSuite.status, 2);
    assert.match(notSuite.stderr, /cannot read .*BENCHMARKS\.md/);
  });
});

describe("ncps bench --suite: usage errors name the flag", () => {
  const cases: Array<[string[], RegExp]> = [
    [["--suite", "nope"], /--suite must be one of paper, got 'nope'/],
    [["--suite", "paper", "--models", "cfc,bogus"], /--models must list suite keys/],
    [["--suite", "paper", "--batch", "0"], /--batch must be an integer >= 1, got '0'/],
    [["--suite", "paper", "--units", "-4"], /--units must be an integer >= 1/],
    [["--suite", "paper", "--rounds", "0"], /--rounds must be an integer >= 1/],
    [["--suite", "paper", "--what", "train"], /--what does not apply to --suite/],
    [["--suite", "paper", "--solver", "rk4"], /--solver does not apply to --suite/],
    [["--quick"], /--quick applies to --suite only/],
    [["--rounds", "3"], /--rounds applies to --suite only/],
    [["--suite", "paper", "--pytorch", "yes"], /--pytorch must be one of auto, on, off, got 'yes'/],
    [["--pytorch", "on"], /--pytorch applies to --suite only/],
  ];
  for (const [args, message] of cases) {
    test(args.join(" "), async () => {
      const { code, err } = await cli(args);
      assert.equal(code, 2);
      assert.match(err, message);
    });
  }
});

describe("ncps bench --suite --pytorch: a missing piece", () => {
  const fast = ["--suite", "paper", "--quick", "--models", "cfc", "--no-scaling", "--rounds", "1"];
  const noPython = path.join(scratch, "missing", "python3");
  const emptyDir = fs.mkdtempSync(path.join(scratch, "no-ncps-"));

  test("on: a Python that is not there is an error (exit 1) naming it", async () => {
    const { code, err } = await cli([...fast, "--pytorch", "on", "--pytorch-python", noPython]);
    assert.equal(code, 1);
    assert.match(err, /--pytorch on: PyTorch ncps cannot be measured: .*missing\/python3 not found/);
  });

  test("on: a folder without ncps is an error naming it; auto skips it with one line", async () => {
    const on = await cli([...fast, "--pytorch", "on", "--pytorch-ncps", emptyDir]);
    assert.equal(on.code, 1);
    assert.ok(on.err.includes(`no ncps package in ${emptyDir}`), on.err);
    const auto = await cli([...fast, "--json", "--pytorch-ncps", emptyDir]);
    assert.equal(auto.code, 0, auto.err);
    assert.equal(auto.err.split("\n").filter((l) => l.startsWith("PyTorch")).length, 1);
    assert.equal((JSON.parse(auto.out) as SuiteResult).pytorch!.status, "skipped");
  });

  test("off: Python is never started, nothing is said", async () => {
    const { code, out, err } = await cli([...fast, "--json", "--pytorch", "off", "--pytorch-python", noPython]);
    assert.equal(code, 0, err);
    assert.doesNotMatch(err, /PyTorch/);
    assert.deepEqual((JSON.parse(out) as SuiteResult).pytorch, { mode: "off", status: "off", reason: "--pytorch off" });
  });

  test("a model selection without PyTorch counterparts starts nothing", async () => {
    const { code, out, err } = await cli(["--suite", "paper", "--quick", "--models", "ct-rnn-rk4", "--no-scaling", "--rounds", "1", "--json", "--pytorch", "on", "--pytorch-python", noPython]);
    assert.equal(code, 0, err);
    assert.match((JSON.parse(out) as SuiteResult).pytorch!.reason!, /none of the selected models has a PyTorch counterpart/);
  });

  // a real Python whose `import torch` fails: a package named torch that raises, first on PYTHONPATH
  const python = [defaultPytorchPaths().python, "python3"].find((p) => spawnSync(p, ["-c", "pass"]).status === 0);
  test("a Python without torch: on exits 1 saying so, auto skips", { skip: python ? false : "no Python here to run without torch" }, async () => {
    const shadow = path.join(scratch, "shadow");
    fs.mkdirSync(path.join(shadow, "torch"), { recursive: true });
    fs.writeFileSync(path.join(shadow, "torch", "__init__.py"), "raise ImportError('no torch in this test')\n");
    const ncps = fs.mkdtempSync(path.join(scratch, "fake-ncps-"));
    fs.mkdirSync(path.join(ncps, "ncps", "torch"), { recursive: true });
    fs.writeFileSync(path.join(ncps, "ncps", "torch", "__init__.py"), "");
    const saved = process.env.PYTHONPATH;
    process.env.PYTHONPATH = shadow;
    try {
      const on = await cli([...fast, "--pytorch", "on", "--pytorch-python", python!, "--pytorch-ncps", ncps]);
      assert.equal(on.code, 1);
      assert.match(on.err, /cannot import torch \(ImportError: no torch in this test\)/);
      const auto = await cli([...fast, "--json", "--pytorch-python", python!, "--pytorch-ncps", ncps]);
      assert.equal(auto.code, 0, auto.err);
      assert.match(auto.err, /PyTorch ncps: skipped, .*cannot import torch/);
    } finally {
      if (saved === undefined) delete process.env.PYTHONPATH;
      else process.env.PYTHONPATH = saved;
    }
  });

  test("a PyTorch process that dies after starting: its figures fail with the reason, the suite still finishes", { skip: process.platform === "win32" ? "needs a shell script" : false }, async () => {
    const fake = path.join(scratch, "dying-python");
    fs.writeFileSync(fake, '#!/bin/sh\necho \'{"ready": true, "torch": "0", "python": "0", "executable": "fake", "ncps": "fake", "threads": 1}\'\necho "gone" >&2\nexit 0\n', { mode: 0o755 });
    const ncps = fs.mkdtempSync(path.join(scratch, "fake-ncps-"));
    fs.mkdirSync(path.join(ncps, "ncps", "torch"), { recursive: true });
    fs.writeFileSync(path.join(ncps, "ncps", "torch", "__init__.py"), "");
    const { code, out, err } = await cli([...fast, "--json", "--pytorch", "on", "--pytorch-python", fake, "--pytorch-ncps", ncps]);
    assert.equal(code, 0, err);
    const r = JSON.parse(out) as SuiteResult;
    const cfc = r.models.find((m) => m.key === "cfc")!;
    assert.equal(cfc.status, "ok");
    assert.equal(cfc.pytorch!.status, "error");
    assert.match(cfc.pytorch!.note!, /the PyTorch process exited/);
    assert.ok(r.notes.some((n) => n.includes("PyTorch") && n.includes("failed")));
  });
});

/** Processes whose parent is this one and whose command line runs the PyTorch server (Linux /proc). */
function torchChildren(): number[] {
  if (!fs.existsSync("/proc/self/stat")) return [];
  const found: number[] = [];
  for (const pid of fs.readdirSync("/proc").filter((f) => /^\d+$/.test(f))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (cmd.includes("pytorch_suite.py") && ppid === process.pid) found.push(Number(pid));
    } catch {
      // the process ended while being read
    }
  }
  return found;
}

const torchPaths = defaultPytorchPaths();
const torchMissing = !fs.existsSync(path.join(torchPaths.ncpsDir, "ncps", "torch", "__init__.py"))
  ? `no ncps package at ${torchPaths.ncpsDir}`
  : spawnSync(torchPaths.python, ["-c", "import torch"]).status !== 0
    ? `${torchPaths.python} cannot import torch`
    : null;

describe("ncps bench --suite paper --quick --pytorch on (real PyTorch ncps)", { skip: torchMissing ? `PyTorch not here (${torchMissing}): the PyTorch side is not tested` : false }, () => {
  const d = suiteDefaults(true);
  const rounds = 2;
  const keys = ["cfc", "cfc-no_gate", "cfc-pure", "cfc-wired", "ltc", "gru", "lstm", "ct-rnn-rk4"];
  let result: SuiteResult;

  before(async () => {
    const { code, out, err } = await cli(["--suite", "paper", "--quick", "--models", keys.join(","), "--no-scaling", "--rounds", String(rounds), "--pytorch", "on", "--json"]);
    assert.equal(code, 0, err);
    result = JSON.parse(out);
  });

  test("the run says what it measured with", () => {
    const run = result.pytorch!;
    assert.equal(run.status, "measured");
    assert.equal(run.threads, 1);
    assert.ok(run.torch && run.python && run.executable);
    assert.equal(path.resolve(run.ncps!), path.resolve(torchPaths.ncpsDir));
  });

  test("every model with a counterpart has its PyTorch timings, per-round ratios, and the same parameters", () => {
    for (const m of result.models) {
      if (!(m.key in PYTORCH_COUNTERPARTS)) {
        assert.equal(m.pytorch, undefined, m.key);
        continue;
      }
      const t = m.pytorch!;
      assert.equal(t.status, "ok", `${m.key}: ${t.note}`);
      // torch.nn.LSTM keeps a second bias vector for each of its four gates
      assert.equal(t.parameters, m.key === "lstm" ? m.parameters! + 4 * d.sizes.units : m.parameters, m.key);
      for (const what of ["train", "infer", "stream"] as const) {
        const w = t[what]!;
        const where = `${m.key} ${what} (PyTorch)`;
        assert.ok(w.min_ms > 0 && w.min_ms <= w.q1_ms && w.q1_ms <= w.q3_ms && w.q3_ms <= w.max_ms, where);
        assert.equal(w.rounds, rounds, where);
        assert.equal(w.round_medians_ms.length, rounds, where);
        if (what === "stream") assert.ok(w.us_per_step!.median > 0, where);
        else assert.ok(w.seq_per_s! > 0, where);
        // the ratio is ncps-ts's round median over PyTorch's, round by round
        const ours = m[what]!.round_medians_ms;
        assert.equal(w.ratio.per_round.length, rounds, where);
        w.ratio.per_round.forEach((r, i) => assert.ok(Math.abs(r - ours[i] / w.round_medians_ms[i]) <= 1e-12 * r, where));
        assert.ok(w.ratio.min <= w.ratio.median && w.ratio.median <= w.ratio.max, where);
      }
    }
    assert.ok(result.notes.some((n) => n.startsWith("LSTM: PyTorch's torch.nn.LSTM")));
  });

  test("the report's PyTorch table: a row per model with a counterpart, the ratio columns", () => {
    const md = suiteMarkdown(result);
    assert.match(md, /Against PyTorch ncps, same run/);
    const header = md.split("\n").find((l) => l.startsWith("| model | PyTorch model |"))!;
    assert.equal(header.split("PyTorch ncps (IQR)").length - 1, 3);
    assert.equal(header.split("ratio (ncps-ts / PyTorch)").length - 1, 3);
    for (const m of result.models.filter((x) => x.pytorch)) assert.ok(md.includes(`| ${m.label} | ${PYTORCH_COUNTERPARTS[m.key]}`), m.key);
  });

  test("the PyTorch process is gone once the suite returns", async () => {
    for (let i = 0; i < 50 && torchChildren().length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(torchChildren(), []);
  });
});
