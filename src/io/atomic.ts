/**
 * Atomic file replacement: the target path holds either the complete old content or the complete
 * new content, never a half-written file, even if the process dies mid-write.
 *
 * The data goes to a uniquely named temporary file in the same directory (a rename is only atomic
 * within one file system), is fsynced so the bytes are on disk before the name points at them, and
 * is then renamed over the target. Any failure removes the temporary file and rethrows.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";

/** `<dir>/.<base>.<pid>.<random>.tmp`: hidden, unique per process and call, matched by `*.tmp` ignores. */
export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  return path.join(dir, `.${base}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

/**
 * The temporary files of `tempPathFor(target)`'s naming found beside `target`, with the pid of the
 * process that made each (for cleaning up after processes that were killed mid-write).
 */
export function tempFilesOf(target: string): Array<{ file: string; pid: number }> {
  const dir = path.dirname(target);
  const prefix = `.${path.basename(target)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const found: Array<{ file: string; pid: number }> = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length));
    if (m) found.push({ file: path.join(dir, name), pid: Number(m[1]) });
  }
  return found;
}

function checkData(data: unknown, target: string): asserts data is string | Uint8Array {
  if (typeof data !== "string" && !(data instanceof Uint8Array)) {
    throw new TypeError(`writeFileAtomic ${target}: data must be a string or Uint8Array, got ${describe(data)}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return typeof value;
}

/** Keep the permissions of the file being replaced; a new file gets the usual 0o666 minus umask. */
function existingMode(target: string): number | undefined {
  try {
    return fs.statSync(target).mode & 0o7777;
  } catch {
    return undefined;
  }
}

/**
 * Makes the rename itself durable. Not every platform lets a directory be opened and fsynced
 * (Windows does not), and the data is already safe at this point, so failures here are ignored.
 */
function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // best effort, see above
  } finally {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // ignore
      }
    }
  }
}

function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // the temp file may never have been created
  }
}

/** Writes `data` to `target` atomically (see the module comment). Strings are written as UTF-8. */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  checkData(data, target);
  writeChunksAtomic(target, [data]);
}

/**
 * Writes the pieces `chunks` yields, one after the other, to `target` atomically: a large output is
 * written as it is produced, never held whole. Strings are written as UTF-8.
 */
export function writeChunksAtomic(target: string, chunks: Iterable<string | Uint8Array>): void {
  const tmp = tempPathFor(target);
  const mode = existingMode(target);
  let fd: number | undefined;
  try {
    // "wx": fail rather than clobber if the temp name somehow exists already.
    fd = fs.openSync(tmp, "wx", mode ?? 0o666);
    if (mode !== undefined) fs.fchmodSync(fd, mode);
    for (const chunk of chunks) {
      checkData(chunk, target);
      const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
      let written = 0;
      while (written < bytes.byteLength) {
        written += fs.writeSync(fd, bytes, written, bytes.byteLength - written);
      }
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (error) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // ignore: the original error is the one worth reporting
      }
    }
    removeQuietly(tmp);
    throw error;
  }
  fsyncDirectory(path.dirname(target));
}

/** Async twin of {@link writeFileAtomic}, same guarantees. */
export async function writeFileAtomicAsync(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(target);
  const mode = existingMode(target);
  let handle: fsp.FileHandle | undefined;
  try {
    checkData(data, target);
    handle = await fsp.open(tmp, "wx", mode ?? 0o666);
    if (mode !== undefined) await handle.chmod(mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, target);
  } catch (error) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    await fsp.unlink(tmp).catch(() => undefined);
    throw error;
  }
  fsyncDirectory(path.dirname(target));
}
