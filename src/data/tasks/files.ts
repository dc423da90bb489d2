/**
 * Node-only file access for the paper's task loaders: every data file is read here, so that a missing
 * or damaged file gets one message naming the file, what it should hold and where it comes from, and
 * the task builders beside this file stay portable (they take bytes and text).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { decodeNpy, type NpyArray } from "../../io/npy.js";
import { readTarEntries, type TarEntry } from "../../io/tar.js";

/** What a data file is and where it comes from, for error messages. */
export interface DataFileInfo {
  /** e.g. "MNIST test images (IDX, gzip)" */
  readonly what: string;
  /** e.g. "see ../shared/data/mnist/SOURCE.md" */
  readonly origin: string;
}

export class DataFileError extends Error {}

function fail(file: string, info: DataFileInfo, problem: string): never {
  throw new DataFileError(`${file}: ${problem}; expected ${info.what} (${info.origin})`);
}

/** The file's bytes; a name ending in .gz is decompressed (a truncated gzip stream is an error). */
export function readDataBytes(file: string, info: DataFileInfo): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(file, info, code === "ENOENT" ? "file not found" : `cannot read (${(e as Error).message})`);
  }
  if (!file.endsWith(".gz")) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    fail(file, info, `cannot decompress, the file is truncated or not gzip (${(e as Error).message})`);
  }
}

export function readDataText(file: string, info: DataFileInfo): string {
  return new TextDecoder("utf-8").decode(readDataBytes(file, info));
}

export function readDataNpy(file: string, info: DataFileInfo): NpyArray {
  const bytes = readDataBytes(file, info);
  try {
    return decodeNpy(bytes, file);
  } catch (e) {
    fail(file, info, `not a valid .npy array (${(e as Error).message})`);
  }
}

export function readDataTar(file: string, info: DataFileInfo): TarEntry[] {
  const bytes = readDataBytes(file, info);
  try {
    return readTarEntries(bytes, file);
  } catch (e) {
    fail(file, info, (e as Error).message.replace(`${file}: `, ""));
  }
}

/** `dataDir/folder/name`, for messages and reading. */
export function dataPath(dataDir: string, folder: string, name: string): string {
  return path.join(dataDir, folder, name);
}
