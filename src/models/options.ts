/** Option checks and the options shared by the model constructors. */
import type { BackendKind, Engine } from "../engine/engine.js";
import { createEngine } from "../engine/index.js";
import type { RecurrentOptions } from "./recurrent.js";

/** Options of the sequence models that take no wiring (LSTM, GRU and the ODE baselines). */
export interface SequenceModelOptions {
  projSize?: number | null;
  returnSequences?: boolean;
  batchFirst?: boolean;
  /** seed of weight initialisation: same seed, same model */
  seed?: number;
  /** "wasm" (float32, default) or "reference" (float64) */
  backend?: BackendKind;
  /** an engine to build on instead of a new one of `backend` */
  engine?: Engine;
}

export const SEQUENCE_MODEL_OPTION_NAMES = Object.keys({
  projSize: true, returnSequences: true, batchFirst: true, seed: true, backend: true, engine: true,
} satisfies Record<keyof SequenceModelOptions, true>);

/** The engine a model builds on: the given one, or a new one of `backend`. */
export function modelEngine(options: { engine?: Engine; backend?: BackendKind }): Engine {
  return options.engine ?? createEngine(options.backend ?? "wasm");
}

/** RecurrentModel's settings from a sequence model's options, defaults filled in. */
export function sequenceModelSettings(o: SequenceModelOptions, mixedMemory = false): RecurrentOptions {
  return { returnSequences: o.returnSequences ?? true, batchFirst: o.batchFirst ?? true, mixedMemory, projSize: o.projSize ?? null, seed: o.seed ?? 0 };
}

/**
 * Throws when `options` has a name outside `valid` (a misspelt or snake_case option would otherwise be
 * ignored silently): `CfC: unknown option 'backbone_units' (valid: mode, activation, ...)`. `internal`
 * names are accepted but not listed (options one model passes to another, such as cellPrefix). Models
 * list their names as `Object.keys({...} satisfies Record<keyof Options, true>)`, so the compiler checks
 * the list is complete and has nothing extra.
 */
export function rejectUnknownOptions(owner: string, options: object, valid: readonly string[], internal: readonly string[] = []): void {
  if (options === null || typeof options !== "object") throw new Error(`${owner}: options must be an object, got ${String(options)}`);
  for (const name of Object.keys(options)) {
    if (!valid.includes(name) && !internal.includes(name)) {
      throw new Error(`${owner}: unknown option '${name}' (valid: ${valid.join(", ")})`);
    }
  }
}
