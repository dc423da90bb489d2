/**
 * `ncps export MODEL.safetensors --to onnx|torch --out FILE`: the model for another engine.
 * - onnx: an ONNX graph for ONNX Runtime (io/onnx/export-model.ts documents inputs, outputs, opset);
 *   the checkpoint's extras (normalization, data preparation) ride along as metadata_props.
 * - torch: the weights alone (ncps state_dict names, no optimizer tensors) with the ncps constructor
 *   config and the extras, for tools/load_in_torch.py.
 */
import { writeFileAtomic } from "../io/atomic.js";
import { exportOnnx } from "../io/onnx/export-model.js";
import type { RecurrentModel } from "../models/recurrent.js";
import { loadCheckpoint, saveCheckpoint } from "../train/checkpoint-file.js";
import { CliError, type CliIO, intFlag, parseArgs } from "./util.js";
import { packageVersion } from "./version.js";

const USAGE = `usage: ncps export MODEL.safetensors --to onnx --out MODEL.onnx [--sequence-length N | --step]
       ncps export MODEL.safetensors --to torch --out WEIGHTS.safetensors

onnx: CfC and LTC, float32, batch first, per-sample elapsed times (opset 17, IR version 8).
  default         sequence graph for any number of steps (ONNX Scan over the step):
                  x [batch, steps, inputs], elapsed [batch, steps], h0 [batch, state] (, c0) -> y, h_n (, c_n)
  --sequence-length N  the sequence graph unrolled for exactly N steps
  --step          one step: x [batch, inputs], elapsed [batch], h [batch, state] (, c) -> y, h_out (, c_out)
  c / c0 / c_out / c_n: the cell state of mixed memory models only.
torch: weights alone (ncps names) + constructor config + input/time/output scaling, for
  python3 tools/load_in_torch.py (from load_in_torch import load; model = load("WEIGHTS.safetensors")).`;

/** Why PyTorch ncps cannot rebuild `model`, or null. */
export function torchUnsupportedReason(model: RecurrentModel): string | null {
  const { model: kind, constructor_args: args } = model.toConfig();
  if (kind !== "CfC" && kind !== "LTC") return `PyTorch ncps has CfC and LTC; this model is a ${kind}`;
  if (args.wiring_recurrence) return "wiringRecurrence (within-layer wiring synapses in a wired CfC) has no ncps equivalent: ncps's WiredCfCCell always uses an all-ones block";
  if (args.variant !== undefined && args.variant !== "torch") return `CfC variant "${String(args.variant)}" is not ncps torch's CfC (only variant "torch" is)`;
  if (args.forget_bias !== undefined && args.forget_bias !== 1) return `forgetBias ${String(args.forget_bias)}: ncps's mixed memory LSTMCell always adds 1 to the forget gate`;
  return null;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, { to: { type: "string" }, out: { type: "string" }, "sequence-length": { type: "string" }, step: { type: "boolean" } }, USAGE);
  if (positionals.length !== 1) throw new CliError(`expected one MODEL.safetensors, got ${positionals.length} arguments`, 2, USAGE);
  const to = flags.to as string | undefined;
  if (to !== "onnx" && to !== "torch") throw new CliError(`--to must be onnx or torch, got ${to === undefined ? "nothing" : `'${to}'`}`, 2, USAGE);
  const out = flags.out as string | undefined;
  if (!out) throw new CliError("--out FILE is required", 2, USAGE);
  const length = intFlag(flags, "sequence-length", USAGE, 1);
  const step = flags.step === true;
  if (to === "torch" && (length !== undefined || step)) throw new CliError("--sequence-length and --step are for --to onnx", 2, USAGE);
  if (length !== undefined && step) throw new CliError("give --sequence-length N or --step, not both", 2, USAGE);
  const [modelFile] = positionals;
  // float64 engine: the stored float32 weights are read exactly
  const { model, extras } = loadCheckpoint(modelFile, { backend: "reference" });
  if (to === "onnx") {
    let bytes: Uint8Array;
    try {
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(extras)) if (v !== undefined) metadata[k] = JSON.stringify(v);
      bytes = exportOnnx(model, { graph: step ? "step" : "sequence", sequenceLength: length, metadata, producerVersion: packageVersion() });
    } catch (e) {
      throw new CliError(`${modelFile}: cannot export to ONNX: ${(e as Error).message}`, 1);
    }
    writeFileAtomic(out, bytes);
    io.err(`wrote ${out} (${step ? "step" : length !== undefined ? `sequence, ${length} steps unrolled` : "sequence, any length"}; opset 17)\n`);
    return 0;
  }
  const reason = torchUnsupportedReason(model);
  if (reason) throw new CliError(`${modelFile}: cannot export to PyTorch ncps: ${reason}`, 1);
  saveCheckpoint(out, model, extras, { weightsOnly: true });
  io.err(`wrote ${out} (weights alone, ncps names; load with tools/load_in_torch.py)\n`);
  return 0;
}
