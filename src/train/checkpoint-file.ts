/** Checkpoint files on disk (Node): the format and its checks are checkpoint.ts, which runs anywhere. */
import { writeFileAtomic } from "../io/atomic.js";
import { loadSafetensors } from "../io/safetensors-file.js";
import type { RecurrentModel } from "../models/recurrent.js";
import {
  type CheckpointExtras,
  type DecodedCheckpoint,
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
  type SaveCheckpointOptions,
  checkpointFromSafetensors,
  encodeCheckpoint,
  modelFromCheckpoint,
} from "./checkpoint.js";

/** Writes a checkpoint atomically: the previous file at `path` survives any failure. */
export function saveCheckpoint(path: string, model: RecurrentModel, extras: CheckpointExtras = {}, options: SaveCheckpointOptions = {}): void {
  writeFileAtomic(path, encodeCheckpoint(model, extras, options));
}

/** Reads and validates a checkpoint file (see checkpointFromSafetensors). */
export function readCheckpoint(path: string): DecodedCheckpoint {
  return checkpointFromSafetensors(loadSafetensors(path), path);
}

/** Builds the model a checkpoint file describes and loads its weights. */
export function loadCheckpoint(path: string, options: LoadCheckpointOptions = {}): LoadedCheckpoint {
  return modelFromCheckpoint(readCheckpoint(path), options);
}
