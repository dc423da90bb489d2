/** Reading text data files as they are shipped: plain, or gzip-compressed (a name ending in .gz). */
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { gunzipSync } from "node:zlib";

/** Bytes decoded per piece by readTextPieces. */
const PIECE_BYTES = 4 << 20;

/** The file's text (UTF-8); `.gz` files are decompressed. Errors name the file and what it was for. */
export function readTextFile(file: string, what: string): string {
  return readGzipped(file, what, readBytes(file, what)).toString("utf8");
}

function readBytes(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read the ${what} (${e instanceof Error ? e.message : String(e)})`);
  }
}

function readGzipped(file: string, what: string, bytes: Buffer): Buffer {
  if (!file.toLowerCase().endsWith(".gz")) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new Error(`${file}: cannot decompress the ${what} (${e instanceof Error ? e.message : String(e)})`);
  }
}

/**
 * The file's text (UTF-8) in pieces of about 4 MiB, read from disk as they are iterated, so that no
 * string holds the whole file (V8 strings stop at about 512 MiB). Iterating again reads the file
 * again. A `.gz` file is decompressed into memory whole (as bytes) and decoded piece by piece.
 */
export function readTextPieces(file: string, what: string): Iterable<string> {
  if (file.toLowerCase().endsWith(".gz")) {
    const bytes = readGzipped(file, what, readBytes(file, what));
    return {
      *[Symbol.iterator]() {
        const decoder = new StringDecoder("utf8");
        for (let at = 0; at < bytes.length; at += PIECE_BYTES) yield decoder.write(bytes.subarray(at, at + PIECE_BYTES));
        const rest = decoder.end();
        if (rest) yield rest;
      },
    };
  }
  // opened once here, so that a missing file is reported before anything is parsed
  closeSync(openFile(file, what));
  return {
    *[Symbol.iterator]() {
      const fd = openFile(file, what);
      try {
        const decoder = new StringDecoder("utf8");
        const buffer = Buffer.alloc(PIECE_BYTES);
        for (;;) {
          let read: number;
          try {
            read = readSync(fd, buffer, 0, PIECE_BYTES, null);
          } catch (e) {
            throw new Error(`${file}: cannot read the ${what} (${e instanceof Error ? e.message : String(e)})`);
          }
          if (read === 0) break;
          yield decoder.write(buffer.subarray(0, read));
        }
        const rest = decoder.end();
        if (rest) yield rest;
      } finally {
        closeSync(fd);
      }
    },
  };
}

function openFile(file: string, what: string): number {
  try {
    return openSync(file, "r");
  } catch (e) {
    throw new Error(`${file}: cannot read the ${what} (${e instanceof Error ? e.message : String(e)})`);
  }
}
