/** `ncps replay CASE.json`: runs a reference case (PyTorch ncps golden format) forward and backward. */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../io/atomic.js";
import { type ReplayCase, replayCase } from "../models/replay.js";
import { CliError, type CliIO, parseArgs } from "./util.js";

const USAGE = `usage: ncps replay CASE.json [--out RESULT.json] [--dtype float32|float64]

Builds the model of CASE.json (the format of PyTorch ncps reference cases: spec.model,
spec.constructor_args, weights, input, timespans, init_state, loss_weights), runs forward and
backward for loss = sum(output * loss_weights) and writes
{ output, final_state, loss, grads } as JSON (to stdout without --out).
float32 (default) runs on the WebAssembly engine, float64 on the reference engine.`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, { out: { type: "string" }, dtype: { type: "string", default: "float32" } }, USAGE);
  if (positionals.length !== 1) throw new CliError(`expected one CASE.json, got ${positionals.length} arguments`, 2, USAGE);
  const dtype = flags.dtype;
  if (dtype !== "float32" && dtype !== "float64") throw new CliError(`--dtype must be float32 or float64, got '${dtype}'`, 2, USAGE);
  const file = positionals[0];
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let c: ReplayCase;
  try {
    c = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  let result;
  try {
    result = replayCase(c, dtype);
  } catch (e) {
    throw new CliError(`${file}: ${(e as Error).message}`);
  }
  const json = JSON.stringify(result);
  if (typeof flags.out === "string") {
    writeFileAtomic(flags.out, json + "\n");
    io.err(`wrote ${flags.out} (loss ${result.loss})\n`);
  } else io.out(json + "\n");
  return 0;
}
