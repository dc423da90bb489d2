/** Safetensors files on disk (Node): the codec is safetensors.ts, which runs anywhere. */
import * as fs from "node:fs";
import { writeFileAtomic } from "./atomic.js";
import { type DecodedSafetensors, type SafetensorsInputs, checkHeaderLength, decodeSafetensors, encodeSafetensors } from "./safetensors.js";

/** Writes a safetensors file atomically (the previous file survives any failure). */
export function saveSafetensors(path: string, tensors: SafetensorsInputs, metadata?: Readonly<Record<string, string>>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export function loadSafetensors(path: string): DecodedSafetensors {
  let bytes: Uint8Array;
  try {
    // The header length is checked before the file is read whole: a corrupt length must not cost a huge read.
    const fd = fs.openSync(path, "r");
    try {
      const prefix = new Uint8Array(8);
      if (fs.readSync(fd, prefix, 0, 8, 0) === 8) checkHeaderLength(new DataView(prefix.buffer).getBigUint64(0, true), path);
    } finally {
      fs.closeSync(fd);
    }
    bytes = fs.readFileSync(path);
  } catch (e) {
    if ((e as Error).message.startsWith(`${path}: safetensors header length`)) throw e;
    throw new Error(`${path}: cannot read safetensors file (${(e as Error).message})`);
  }
  return decodeSafetensors(bytes, path);
}
