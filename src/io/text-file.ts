/** Reading text data files as they are shipped: plain, or gzip-compressed (a name ending in .gz). */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/** The file's text (UTF-8); `.gz` files are decompressed. Errors name the file and what it was for. */
export function readTextFile(file: string, what: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read the ${what} (${e instanceof Error ? e.message : String(e)})`);
  }
  if (file.toLowerCase().endsWith(".gz")) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new Error(`${file}: cannot decompress the ${what} (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  return bytes.toString("utf8");
}
