/**
 * `ncps verify MODEL.safetensors`: runs the probe stored by tools/export_ncps.py (an example input and
 * PyTorch's output for it) in this library; exit 1 when the largest error exceeds 1e-5, naming it.
 */
import { applyCheckpoint } from "../train/checkpoint.js";
import { readCheckpoint } from "../train/checkpoint-file.js";
import { buildModel } from "../models/build.js";
import { describeProbe, runProbe } from "../train/probe.js";
import { CliError, type CliIO, parseArgs } from "./util.js";

const USAGE = `usage: ncps verify MODEL.safetensors [--backend wasm|reference]

Runs the probe a PyTorch export stores (probe.input, probe.timespans, probe.output) and compares:
exit 0 when the largest error is within 1e-5, exit 1 otherwise (naming the error and where).`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, { backend: { type: "string", default: "wasm" } }, USAGE);
  if (positionals.length !== 1) throw new CliError(`expected one MODEL.safetensors, got ${positionals.length} arguments`, 2, USAGE);
  const backend = flags.backend as string;
  if (backend !== "wasm" && backend !== "reference") throw new CliError(`--backend must be wasm or reference, got '${backend}'`, 2, USAGE);
  const [file] = positionals;
  const ckpt = readCheckpoint(file);
  const model = buildModel(ckpt.config, { backend });
  applyCheckpoint(model, ckpt);
  const result = runProbe(model, ckpt);
  if (!result.passed) throw new CliError(`${file}: ${describeProbe(result)}`, 1);
  io.out(`${file}: ${describeProbe(result)}\n`);
  return 0;
}
