/**
 * Before `ncps train` reports success it reads the checkpoint it wrote back from disk: the file must
 * load as a checkpoint, describe the model that was trained, rebuild into a model that accepts its
 * weights, hold only finite values, and hold exactly the trained weights. A run whose file fails any of
 * these exits 1 instead of leaving a checkpoint that predict would refuse later.
 */
import { buildModel } from "../models/build.js";
import type { RecurrentModel } from "../models/recurrent.js";
import { applyCheckpoint, checkSameModel } from "../train/checkpoint.js";
import { readCheckpoint } from "../train/checkpoint-file.js";
import { CliError } from "./util.js";

/** The first tensor (by name) holding a NaN or infinite value, with the value's index; null if none. */
function firstNonFinite(tensors: Iterable<[string, { readonly data: ArrayLike<number | bigint> }]>): { name: string; index: number } | null {
  for (const [name, t] of tensors) {
    const data = t.data;
    if (!(data instanceof Float32Array || data instanceof Float64Array)) continue;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return { name, index: i };
  }
  return null;
}

/** Throws a CliError naming `file` and what is wrong unless the file holds `model` as trained. */
export function readBackCheckpoint(file: string, model: RecurrentModel): void {
  const fail = (what: string): never => {
    throw new CliError(`the checkpoint written to ${file} does not read back: ${what}`, 1);
  };
  let ckpt: ReturnType<typeof readCheckpoint>;
  try {
    ckpt = readCheckpoint(file);
    checkSameModel(model, ckpt);
  } catch (e) {
    return fail((e as Error).message);
  }
  const bad = firstNonFinite([...ckpt.tensors, ...ckpt.trainingTensors]);
  if (bad) fail(`tensor "${bad.name}" holds a non-finite value at index ${bad.index}`);
  let rebuilt: RecurrentModel;
  try {
    rebuilt = buildModel(ckpt.config, { backend: model.dtype === "float64" ? "reference" : "wasm" });
    applyCheckpoint(rebuilt, ckpt);
  } catch (e) {
    return fail((e as Error).message);
  }
  const stored = rebuilt.stateDict();
  for (const [name, t] of model.stateDict()) {
    const back = stored.get(name)!.data;
    for (let i = 0; i < t.data.length; i++) {
      if (!Object.is(back[i], t.data[i])) fail(`tensor "${name}"[${i}] is ${back[i]}, the trained model has ${t.data[i]}`);
    }
  }
}
