/** Subcommand dispatch for the `ncps` command. Each subcommand lives in its own file. */
import { CliError, type CliIO, defaultIO } from "./util.js";

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
  wiring: { summary: "build an NCP/random/fully-connected wiring; print it as JSON or draw it as SVG", load: async () => (await import("./wiring.js")).run },
};

export function usage(): string {
  const lines = ["usage: ncps <command> [options]", "", "commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push("", "Run `ncps <command> --help` for a command's options.");
  return lines.join("\n");
}

export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
    io.out(usage() + "\n");
    return cmd ? 0 : 2;
  }
  const entry = COMMANDS[cmd];
  if (!entry) {
    io.err(`ncps: unknown command '${cmd}'\n\n${usage()}\n`);
    return 2;
  }
  try {
    const handler = await entry.load();
    return await handler(rest, io);
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`ncps ${cmd}: ${e.message}\n`);
      if (e.usage) io.err(`\n${e.usage}\n`);
      return e.exitCode;
    }
    const msg = e instanceof Error ? e.message : String(e);
    io.err(`ncps ${cmd}: error: ${msg}\n`);
    return 1;
  }
}
