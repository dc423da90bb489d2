/** Subcommand dispatch for the `ncps` command. Each subcommand lives in its own file. */
import { CliError, type CliIO, defaultIO } from "./util.js";
import { enableRelaxedSimd } from "./relaxed-simd.js";

type Handler = (argv: string[], io: CliIO) => Promise<number>;

/** Lazily imported so one subcommand's dependencies never slow another's start. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Handler> }> = {
  demo: { summary: "train a CfC and an LSTM on a generated irregularly sampled task", load: async () => (await import("./demo.js")).run },
  train: { summary: "train a model on a CSV of time series (or .npy arrays)", load: async () => (await import("./train.js")).run },
  eval: { summary: "loss and metrics of a trained model on new data", load: async () => (await import("./eval.js")).run },
  predict: { summary: "predictions of a trained model, one per input row", load: async () => (await import("./predict.js")).run },
  bench: { summary: "time a training step, batched inference or streaming", load: async () => (await import("./bench.js")).run },
  plot: { summary: "draw learning curves from a run log, or predictions against true values, as SVG/PNG", load: async () => (await import("./plot.js")).run },
  replay: { summary: "run a PyTorch ncps reference case forward and backward", load: async () => (await import("./replay.js")).run },
  reproduce: { summary: "train a model on one of the CfC paper's tasks and compare with the paper", load: async () => (await import("./reproduce.js")).run },
  export: { summary: "export a CfC/LTC to ONNX, or its weights alone for PyTorch ncps", load: async () => (await import("./export.js")).run },
  verify: { summary: "check a PyTorch export against the probe it stores", load: async () => (await import("./verify.js")).run },
  wiring: { summary: "build an NCP/random/fully-connected wiring; print it as JSON or draw it as SVG", load: async () => (await import("./wiring.js")).run },
  serve: { summary: "serve the workbench: a page that trains and inspects models in the browser", load: async () => (await import("./serve.js")).run },
};

/** The subcommands, in the order the usage lists them. */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

export function usage(): string {
  const lines = ["usage: ncps <command> [options]", "       ncps help <command>", "       ncps --version", "", "commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push("", "Run `ncps help <command>` or `ncps <command> --help` for a command's options.");
  return lines.join("\n");
}

/**
 * A subcommand's usage text, the one its own `--help` prints: every subcommand parses its arguments
 * before doing anything, and `--help` makes that parse throw the usage (exit code 0).
 */
async function commandUsage(name: string): Promise<string> {
  const handler = await COMMANDS[name].load();
  const silent: CliIO = { out: () => {}, err: () => {}, isTTY: false };
  try {
    await handler(["--help"], silent);
  } catch (e) {
    if (e instanceof CliError && e.exitCode === 0 && e.usage !== undefined) return e.usage;
    throw e;
  }
  throw new Error(`ncps ${name} --help ran the command instead of giving its usage`);
}

/**
 * A reader that stops early (`ncps predict ... | head`) closes the pipe: the next write fails with
 * EPIPE. Like other Unix tools, the command then ends quietly, exit 0, instead of an uncaught error.
 */
export function endQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(0);
      throw e;
    });
  }
}

export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  enableRelaxedSimd();
  const [cmd, ...rest] = argv;
  const helpFlag = (a: string | undefined) => a === "--help" || a === "-h";
  if (!cmd || helpFlag(cmd) || (cmd === "help" && (rest.length === 0 || helpFlag(rest[0])))) {
    io.out(usage() + "\n");
    return cmd ? 0 : 2;
  }
  if (cmd === "--version" || cmd === "-V") return runGuarded(cmd, io, async () => {
    const { packageVersion } = await import("./version.js");
    io.out(`${packageVersion()}\n`);
    return 0;
  });
  if (cmd === "help") {
    if (rest.length > 1) return usageError(`ncps help: expected one command, got ${rest.length}: ${rest.join(" ")}`, io);
    if (!Object.hasOwn(COMMANDS, rest[0])) return usageError(`ncps help: unknown command '${rest[0]}'`, io);
    return runGuarded("help", io, async () => {
      io.out((await commandUsage(rest[0])) + "\n");
      return 0;
    });
  }
  if (!Object.hasOwn(COMMANDS, cmd)) return usageError(`ncps: unknown command '${cmd}'`, io);
  return runGuarded(cmd, io, async () => (await COMMANDS[cmd].load())(rest, io));
}

function usageError(message: string, io: CliIO): number {
  io.err(`${message}\n\n${usage()}\n`);
  return 2;
}

/** Runs a command, turning its errors into messages and exit codes (2 = usage, 1 = failure). */
async function runGuarded(cmd: string, io: CliIO, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof CliError) {
      // `--help` is a CliError with exit code 0: the usage asked for goes to stdout, as `ncps help` prints it
      if (e.exitCode === 0 && e.usage !== undefined) {
        io.out(`${e.usage}\n`);
        return 0;
      }
      io.err(`ncps ${cmd}: ${e.message}\n`);
      if (e.usage) io.err(`\n${e.usage}\n`);
      return e.exitCode;
    }
    const msg = e instanceof Error ? e.message : String(e);
    io.err(`ncps ${cmd}: error: ${msg}\n`);
    return 1;
  }
}
