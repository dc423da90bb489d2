/**
 * The PyTorch side of `ncps bench --suite`: the real ncps 1.0.1 (ncps.torch) and torch.nn's GRU and LSTM,
 * timed by bench/pytorch_suite.py in a Python process that the suite starts once, before any timing, and
 * drives in JSON lines (one request, one reply), so each round can time an ncps-ts workload and its
 * PyTorch counterpart back to back. The Python side times its own runs (time.perf_counter around each
 * run), so neither the pipe nor Python's start-up is in any figure.
 *
 * It needs a source checkout (bench/pytorch_suite.py and, by default, ../shared/reference/ncps-1.0.1
 * beside it) and a Python that imports torch (default /usr/bin/python3, Debian's torch). `auto` measures
 * PyTorch when all of that is there and otherwise says in one line what is missing; `on` makes a missing
 * piece an error; `off` never starts Python.
 *
 * The process cannot outlive the suite: it is killed when the suite ends, fails or exits; it exits by
 * itself when its stdin closes (the suite's process died), and on Linux it asks the kernel for SIGTERM
 * when its parent dies.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchWhat } from "./bench-workload.js";

export const PYTORCH_MODES = ["auto", "on", "off"] as const;
export type PytorchMode = (typeof PYTORCH_MODES)[number];

/** The suite keys that have a PyTorch counterpart, and what that counterpart is. */
export const PYTORCH_COUNTERPARTS: Readonly<Record<string, string>> = {
  cfc: "ncps.torch.CfC",
  "cfc-no_gate": "ncps.torch.CfC no_gate",
  "cfc-pure": "ncps.torch.CfC pure",
  "cfc-wired": "ncps.torch.CfC AutoNCP",
  ltc: "ncps.torch.LTC",
  gru: "torch.nn.GRU",
  lstm: "torch.nn.LSTM",
};

export interface PytorchPaths {
  /** the Python to run (a path, or a name looked up on PATH) */
  python: string;
  /** the folder holding the ncps package (its `ncps/torch/__init__.py`) */
  ncpsDir: string;
  /** bench/pytorch_suite.py */
  script: string;
}

/** The repository root of this source checkout (src/cli or dist/cli are two levels below it). */
const repoRoot = (): string => fileURLToPath(new URL("../../", import.meta.url));

/** Debian's Python (the `python3` on PATH may lack torch), ncps 1.0.1 beside the checkout, and the script. */
export function defaultPytorchPaths(): PytorchPaths {
  const root = repoRoot();
  return {
    python: "/usr/bin/python3",
    ncpsDir: path.resolve(root, "..", "shared", "reference", "ncps-1.0.1"),
    script: path.join(root, "bench", "pytorch_suite.py"),
  };
}

/** What the Python process reports once torch and ncps are imported. */
export interface PytorchInfo {
  torch: string;
  python: string;
  executable: string;
  ncps: string;
  threads: number;
}

/** The sizes of one PyTorch workload (the suite's), sent with its build request. */
export interface PytorchWorkloadSpec {
  model: string;
  what: BenchWhat;
  batch: number;
  seq_len: number;
  input_size: number;
  units: number;
  backbone_units: number;
  backbone_layers: number;
  ode_unfolds: number;
  stream_steps: number;
  autoncp_sparsity?: number;
}

/** Why PyTorch cannot be measured: a missing piece, named. */
export class PytorchUnavailable extends Error {}

/** Whatever a fresh Python needs to print its first line: importing torch on a busy 2-core machine. */
const READY_TIMEOUT_MS = 180_000;
/** One request: a few runs of the slowest workload (an LTC training step) on a busy machine. */
const REQUEST_TIMEOUT_MS = 300_000;

type Reply = Record<string, unknown>;

/** The running Python process and its line protocol; requests are answered in order. */
export class PytorchServer {
  private buffer = "";
  private stderrTail = "";
  private waiting: Array<{ resolve(r: Reply): void; reject(e: Error): void }> = [];
  private exited: string | null = null;
  private readonly killOnExit = () => this.child.kill("SIGKILL");
  info: PytorchInfo | null = null;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    process.on("exit", this.killOnExit);
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => this.onStdout(chunk));
    child.stderr.on("data", (chunk: string) => (this.stderrTail = (this.stderrTail + chunk).slice(-2000)));
    // a closed pipe (the process died) surfaces as the exit below, not as an unhandled error
    child.stdin.on("error", () => {});
    child.on("error", (e) => this.fail(`cannot run ${child.spawnfile}: ${e.message}`));
    // "close", not "exit": a last reply (a not-ready line, say) is read before the process counts as gone
    child.on("close", (code, signal) => this.fail(`the PyTorch process exited (${signal ?? `code ${code}`})${this.stderrSummary()}`));
  }

  /** Starts the process and waits until torch and ncps are imported; throws PytorchUnavailable. */
  static async start(paths: PytorchPaths): Promise<PytorchServer> {
    if (!existsSync(paths.script)) throw new PytorchUnavailable(`${paths.script} not found (it is in the source checkout, not in the package)`);
    if (!existsSync(path.join(paths.ncpsDir, "ncps", "torch", "__init__.py"))) throw new PytorchUnavailable(`no ncps package in ${paths.ncpsDir} (expected ncps/torch/__init__.py there)`);
    if (paths.python.includes("/") && !existsSync(paths.python)) throw new PytorchUnavailable(`${paths.python} not found`);
    const child = spawn(paths.python, [paths.script, "--ncps", paths.ncpsDir], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", MKL_NUM_THREADS: "1", PYTHONUNBUFFERED: "1" },
    });
    const server = new PytorchServer(child);
    let ready: Reply;
    try {
      ready = await server.next(READY_TIMEOUT_MS);
    } catch (e) {
      server.close();
      throw new PytorchUnavailable(e instanceof Error ? e.message : String(e));
    }
    if (ready.ready !== true) {
      server.close();
      throw new PytorchUnavailable(typeof ready.error === "string" ? ready.error : `unexpected first line from ${paths.script}: ${JSON.stringify(ready)}`);
    }
    server.info = { torch: String(ready.torch), python: String(ready.python), executable: String(ready.executable), ncps: String(ready.ncps), threads: Number(ready.threads) };
    return server;
  }

  /** Builds a workload (untimed); returns its model's trainable parameter count and constructor. */
  async build(id: string, spec: PytorchWorkloadSpec): Promise<{ parameters: number; spec: string }> {
    const r = await this.request({ cmd: "build", id, ...spec });
    return { parameters: Number(r.parameters), spec: String(r.spec) };
  }

  /** `warm` untimed runs, then `reps` runs timed one by one in Python; milliseconds. */
  async run(id: string, reps: number, warm: number): Promise<number[]> {
    const r = await this.request({ cmd: "run", id, reps, warm });
    const times = r.times_ms;
    if (!Array.isArray(times) || times.length !== reps || !times.every((t) => typeof t === "number" && Number.isFinite(t))) {
      throw new Error(`PyTorch run ${id}: expected ${reps} timings, got ${JSON.stringify(times)}`);
    }
    return times as number[];
  }

  /** Sets torch's intra-op thread count (torch.set_num_threads) for the runs that follow; returns it. */
  async setThreads(n: number): Promise<number> {
    const r = await this.request({ cmd: "threads", n });
    return Number(r.threads);
  }
  /** Asks the process to quit and kills it; safe to call more than once. */
  close(): void {
    process.off("exit", this.killOnExit);
    if (this.exited === null) {
      this.child.stdin.end(JSON.stringify({ cmd: "quit" }) + "\n");
      this.child.kill("SIGTERM");
    }
    this.fail("the PyTorch process was closed");
  }

  private async request(body: Record<string, unknown>): Promise<Reply> {
    if (this.exited !== null) throw new Error(this.exited);
    this.child.stdin.write(JSON.stringify(body) + "\n");
    const r = await this.next(REQUEST_TIMEOUT_MS);
    if (r.ok !== true) throw new Error(typeof r.error === "string" ? r.error : `unexpected reply ${JSON.stringify(r)}`);
    return r;
  }

  private next(timeoutMs: number): Promise<Reply> {
    if (this.exited !== null) return Promise.reject(new Error(this.exited));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        this.fail(`no answer from the PyTorch process within ${timeoutMs / 1000} s${this.stderrSummary()}`);
      }, timeoutMs);
      this.waiting.push({
        resolve: (r) => (clearTimeout(timer), resolve(r)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }

  private onStdout(chunk: string): void {
    this.buffer += chunk;
    for (let nl = this.buffer.indexOf("\n"); nl >= 0; nl = this.buffer.indexOf("\n")) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line.startsWith("{")) continue; // stray prints of imported modules are not replies
      let reply: Reply;
      try {
        reply = JSON.parse(line) as Reply;
      } catch {
        continue;
      }
      this.waiting.shift()?.resolve(reply);
    }
  }

  /** Ends the process's life as far as the suite is concerned: every pending and later request fails. */
  private fail(reason: string): void {
    if (this.exited === null) this.exited = reason;
    for (const w of this.waiting.splice(0)) w.reject(new Error(this.exited));
  }

  private stderrSummary(): string {
    const last = this.stderrTail.trim().split("\n").pop();
    return last ? `: ${last}` : "";
  }
}

/** The outcome of `--pytorch MODE`: a started server, or why there is none. */
export type PytorchStart = { server: PytorchServer } | { server: null; reason: string };

/**
 * Starts the server as the mode says. `on` turns a missing piece into PytorchUnavailable (the caller
 * exits 1); `auto` returns the reason to print; `off` returns without trying.
 */
export async function startPytorch(mode: PytorchMode, paths: PytorchPaths): Promise<PytorchStart> {
  if (mode === "off") return { server: null, reason: "--pytorch off" };
  try {
    return { server: await PytorchServer.start(paths) };
  } catch (e) {
    if (mode === "on" || !(e instanceof PytorchUnavailable)) throw e;
    return { server: null, reason: e.message };
  }
}
