/**
 * The probe a PyTorch export stores with the weights (tools/export_ncps.py): a small example input
 * "probe.input" (batch, steps, features), its elapsed times "probe.timespans" (batch, steps) and the
 * output PyTorch gave for them, "probe.output". Running it here and comparing shows that the file
 * describes the model it came from (a wrong mode or a missing option shows as a large error).
 */
import type { SafetensorsTensor } from "../io/safetensors.js";
import type { RecurrentModel } from "../models/recurrent.js";

export const PROBE_PREFIX = "probe.";
/** float32 on both sides: PyTorch and this library agree to about 1e-6 on the models of the tests */
export const PROBE_TOLERANCE = 1e-5; // written as 1e-5 in messages

export interface ProbeResult {
  passed: boolean;
  largestError: number;
  /** the stored tensor compared, and the position of the largest error in it */
  tensor: string;
  position: number[];
  expected: number;
  actual: number;
}

function unravel(index: number, shape: readonly number[]): number[] {
  const out: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    out.unshift(index % shape[d]);
    index = Math.floor(index / shape[d]);
  }
  return out;
}

/** Runs the checkpoint's probe on `model` (its weights loaded); throws when the file has no probe. */
export function runProbe(model: RecurrentModel, ckpt: { file: string; probeTensors: ReadonlyMap<string, SafetensorsTensor> }): ProbeResult {
  const get = (name: string): SafetensorsTensor => {
    const t = ckpt.probeTensors.get(`${PROBE_PREFIX}${name}`);
    if (!t) throw new Error(`${ckpt.file}: no probe to verify (tensor "${PROBE_PREFIX}${name}" missing; tools/export_ncps.py stores one when given example_input)`);
    return t;
  };
  const input = get("input");
  const output = get("output");
  const ts = ckpt.probeTensors.get(`${PROBE_PREFIX}timespans`);
  const asNumbers = (t: SafetensorsTensor) => ({ shape: [...t.shape], data: Float64Array.from(t.data as ArrayLike<number>) });
  const got = model.forward(asNumbers(input), { timespans: ts ? asNumbers(ts) : null, grad: false }).output;
  const tensor = `${PROBE_PREFIX}output`;
  if (got.data.length !== output.data.length) {
    throw new Error(`${ckpt.file}: tensor "${tensor}" has shape [${output.shape.join(", ")}], the model gives [${got.shape.join(", ")}] for "${PROBE_PREFIX}input"`);
  }
  let worst = 0;
  let at = 0;
  for (let i = 0; i < got.data.length; i++) {
    const d = Math.abs(got.data[i] - Number(output.data[i]));
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  return { passed: worst <= PROBE_TOLERANCE, largestError: worst, tensor, position: unravel(at, output.shape), expected: Number(output.data[at]), actual: got.data[at] };
}

export function describeProbe(r: ProbeResult): string {
  const where = `${r.tensor}[${r.position.join(", ")}]: stored ${r.expected}, computed ${r.actual}`;
  return r.passed
    ? `probe passed: largest error ${r.largestError.toExponential(2)} (tolerance 1e-5) at ${where}`
    : `probe failed: largest error ${r.largestError.toExponential(2)} exceeds 1e-5 at ${where}`;
}
