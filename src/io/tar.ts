/**
 * Reading the regular files of a POSIX (ustar / GNU) tar archive held in memory, such as PhysioNet's
 * `set-a.tar.gz` after decompression. Directories, links and pax/GNU metadata entries are skipped
 * (a GNU long name applies to the entry after it). Portable: no file system access.
 */
export interface TarEntry {
  /** path inside the archive, e.g. "set-a/132539.txt" */
  readonly name: string;
  readonly data: Uint8Array;
}

const BLOCK = 512;

function text(bytes: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && bytes[end] !== 0) end++;
  return new TextDecoder("latin1").decode(bytes.subarray(start, end));
}

function octal(bytes: Uint8Array, start: number, length: number, where: string): number {
  const s = text(bytes, start, length).trim();
  if (!/^[0-7]*$/.test(s)) throw new Error(`${where}: bad octal field ${JSON.stringify(s)} in a tar header`);
  return s === "" ? 0 : parseInt(s, 8);
}

/** The regular files of the archive, in archive order. Throws naming `fileName` on a truncated or corrupt archive. */
export function readTarEntries(bytes: Uint8Array, fileName: string): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | null = null;
  while (offset + BLOCK <= bytes.length) {
    const header = bytes.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return entries; // end-of-archive marker
    const where = `${fileName} (tar header at byte ${offset})`;
    let checksum = 0;
    for (let i = 0; i < BLOCK; i++) checksum += i >= 148 && i < 156 ? 32 : header[i];
    if (checksum !== octal(header, 148, 8, where)) throw new Error(`${where}: header checksum mismatch; the archive is corrupt or not a tar file`);
    const size = octal(header, 124, 12, where);
    const type = String.fromCharCode(header[156] || 48);
    const prefix = text(header, 345, 155);
    let name = text(header, 0, 100);
    if (prefix) name = `${prefix}/${name}`;
    const dataStart = offset + BLOCK;
    if (dataStart + size > bytes.length) {
      throw new Error(`${fileName}: truncated tar archive: entry ${JSON.stringify(name)} needs ${size} bytes at byte ${dataStart}, the archive ends at ${bytes.length}`);
    }
    const data = bytes.subarray(dataStart, dataStart + size);
    if (type === "L") longName = text(data, 0, data.length);
    else {
      if (type === "0" || type === "7") entries.push({ name: longName ?? name, data });
      longName = null;
    }
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new Error(`${fileName}: truncated tar archive: no end-of-archive marker after ${entries.length} files (${bytes.length} bytes)`);
}
