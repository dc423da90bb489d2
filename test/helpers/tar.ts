/** Reads the regular files of a .tar.gz (ustar) in archive order: enough to unpack shared test data. */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

export interface TarEntry {
  readonly name: string;
  readonly data: Buffer;
}

/** The first `limit` regular files whose name passes `keep`. */
export function readTarGz(file: string, keep: (name: string) => boolean, limit = Infinity): TarEntry[] {
  const tar = gunzipSync(readFileSync(file));
  const out: TarEntry[] = [];
  const text = (at: number, length: number) => tar.subarray(at, at + length).toString("latin1").replace(/\0.*$/s, "");
  for (let at = 0; at + 512 <= tar.length && out.length < limit; ) {
    const name = text(at, 100);
    if (name === "") break; // end-of-archive blocks
    const prefix = text(at + 345, 155);
    const size = parseInt(text(at + 124, 12).trim() || "0", 8);
    const type = text(at + 156, 1);
    const full = prefix ? `${prefix}/${name}` : name;
    if ((type === "0" || type === "") && keep(full)) out.push({ name: full, data: Buffer.from(tar.subarray(at + 512, at + 512 + size)) });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}
