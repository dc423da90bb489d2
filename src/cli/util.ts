/** Small shared pieces of the CLI: argument parsing, errors with exit codes, output sinks. */
import { availableParallelism } from "node:os";

export interface CliIO {
  out(s: string): void;
  err(s: string): void;
  isTTY: boolean;
}

export function defaultIO(): CliIO {
  return {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    isTTY: Boolean(process.stderr.isTTY),
  };
}

/** An error meant for the user: printed without a stack trace, with an exit code (2 = usage). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1, readonly usage?: string) {
    super(message);
  }
}

export interface FlagSpec {
  /** "string" takes a value, "boolean" does not. */
  type: "string" | "boolean";
  default?: string | boolean;
}

export interface ParsedArgs {
  flags: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses `--name value`, `--name=value` and boolean `--name`. Unknown flags and missing values are
 * usage errors (exit 2) that print the command's usage text.
 */
export function parseArgs(argv: string[], spec: Record<string, FlagSpec>, usageText: string): ParsedArgs {
  const flags: Record<string, string | boolean | undefined> = {};
  for (const [k, s] of Object.entries(spec)) flags[k] = s.default;
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") throw new CliError("help requested", 0, usageText);
    if (!a.startsWith("--") || a === "--") {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const s = spec[name];
    if (!s) throw new CliError(`unknown flag --${name}`, 2, usageText);
    if (s.type === "boolean") {
      if (eq >= 0) throw new CliError(`flag --${name} takes no value`, 2, usageText);
      flags[name] = true;
    } else {
      let v: string | undefined;
      if (eq >= 0) v = a.slice(eq + 1);
      else {
        v = argv[++i];
        if (v === undefined) throw new CliError(`flag --${name} needs a value`, 2, usageText);
      }
      flags[name] = v;
    }
  }
  return { flags, positionals };
}

export function intFlag(flags: ParsedArgs["flags"], name: string, usageText: string, min = -Infinity): number | undefined {
  const v = flags[name];
  if (v === undefined || v === false) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new CliError(`--${name} must be an integer >= ${min}, got '${v}'`, 2, usageText);
  return n;
}

/**
 * --threads: 1 up to the machine's core count. More threads than cores only time-slice the same cores
 * (each training step then waits for the slowest slice), so it is refused rather than run slowly.
 */
export function threadsFlag(flags: ParsedArgs["flags"], usageText: string, cores = availableParallelism()): number | undefined {
  const v = flags.threads;
  if (v === undefined || v === false) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > cores) {
    throw new CliError(`--threads must be an integer from 1 to ${cores} (this machine has ${cores} core${cores === 1 ? "" : "s"}), got '${v}'`, 2, usageText);
  }
  return n;
}

export function numFlag(flags: ParsedArgs["flags"], name: string, usageText: string): number | undefined {
  const v = flags[name];
  if (v === undefined || v === false) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliError(`--${name} must be a number, got '${v}'`, 2, usageText);
  return n;
}
