/** Engine selection and the engine module's public surface. */
import type { BackendKind, Engine } from "./engine.js";
import { ReferenceEngine } from "./reference.js";
import { WasmEngine, wasmSimdSupported } from "./wasm.js";

export { Act, BACKBONE_ACTIVATIONS, CfcMode, packedSize } from "./engine.js";
export type { ActivationName, AdamStepScalars, RmspropStepScalars, SgdStepScalars, BackboneActivation, BackendKind, CfcModeName, Engine } from "./engine.js";
export { ReferenceEngine } from "./reference.js";
export { WasmEngine, initWasm, wasmSimdSupported } from "./wasm.js";

/** A new engine of the given kind (each call its own heap). */
export function createEngine(kind: BackendKind): Engine {
  if (kind === "reference") return new ReferenceEngine();
  if (kind === "wasm") {
    if (!wasmSimdSupported()) {
      throw new Error('createEngine: backend "wasm" needs WebAssembly SIMD, which this runtime does not support; use backend "reference" instead');
    }
    return new WasmEngine();
  }
  throw new Error(`createEngine: unknown backend ${JSON.stringify(kind)}; expected "wasm" or "reference"`);
}
