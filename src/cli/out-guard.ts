/**
 * What `ncps train` does about its output files before it spends any time training: the `--out` path
 * is checked (its directory exists and is writable, the path itself is not a directory), a lock keeps
 * two runs from writing the same file, and hidden temporary files that killed runs left beside it are
 * removed.
 *
 * The lock is `<out>.lock`, created exclusively and holding the owner's process id. A lock whose
 * process no longer exists (a run killed with -9, a crashed machine) is taken over; a live one stops
 * the second run with exit 1, naming the lock and the pid. The lock is removed when the run ends,
 * successfully or not.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { tempFilesOf } from "../io/atomic.js";
import { CliError } from "./util.js";

/** Refuses an output path that cannot be written, naming the flag and the path. */
export function checkOutputPath(flag: string, file: string): void {
  const dir = path.dirname(path.resolve(file));
  let dirStat: fs.Stats;
  try {
    dirStat = fs.statSync(dir);
  } catch {
    throw new CliError(`--${flag} ${file}: directory ${dir} does not exist`, 1);
  }
  if (!dirStat.isDirectory()) throw new CliError(`--${flag} ${file}: ${dir} is not a directory`, 1);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new CliError(`--${flag} ${file}: directory ${dir} is not writable`, 1);
  }
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) throw new CliError(`--${flag} ${file} is a directory: give a file name (e.g. ${path.join(file, "model.safetensors")})`, 1);
  if (stat) {
    try {
      fs.accessSync(file, fs.constants.W_OK);
    } catch {
      throw new CliError(`--${flag} ${file} exists and is not writable`, 1);
    }
  }
}

/** Whether a process with this id exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** An exclusive claim on an output file for the length of one run. */
export class OutputLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(readonly file: string) {
    process.on("exit", this.onExit);
  }

  /** Takes `<target>.lock`, or throws a CliError naming the lock and the pid that holds it. */
  static acquire(flag: string, target: string): OutputLock {
    const file = `${target}.lock`;
    // two attempts: the second after removing a lock left by a dead process
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = fs.openSync(file, "wx");
        try {
          fs.writeSync(fd, `${process.pid}\n`);
        } finally {
          fs.closeSync(fd);
        }
        return new OutputLock(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new CliError(`--${flag} ${target}: cannot create the lock ${file} (${(e as Error).message})`, 1);
      }
      const owner = lockOwner(file);
      if (owner !== null && processAlive(owner)) {
        throw new CliError(`--${flag} ${target} is being written by another run: the lock ${file} is held by pid ${owner} (wait for it, or remove the lock if that process is not an ncps run)`, 1);
      }
      if (owner === null && recentlyCreated(file)) {
        // another run is between creating the lock and writing its pid into it
        throw new CliError(`--${flag} ${target} is being written by another run: the lock ${file} was just created`, 1);
      }
      try {
        fs.unlinkSync(file);
      } catch {
        // someone else took it over first; the next attempt reports them
      }
    }
    throw new CliError(`--${flag} ${target}: the lock ${file} was taken by another run`, 1);
  }

  /** Removes the lock (once; also called when the process exits). */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.off("exit", this.onExit);
    try {
      fs.unlinkSync(this.file);
    } catch {
      // already gone
    }
  }
}

/** The pid written in a lock file, or null when it cannot be read. */
function lockOwner(file: string): number | null {
  try {
    const text = fs.readFileSync(file, "utf8").trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

function recentlyCreated(file: string): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs < 2000;
  } catch {
    return false;
  }
}

/**
 * Removes the hidden temporary files (src/io/atomic.ts naming) that processes no longer alive left
 * beside `targets`; returns their paths. Those of live processes are writes in progress and stay.
 */
export function removeStaleTempFiles(targets: readonly string[]): string[] {
  const removed: string[] = [];
  for (const target of targets) {
    for (const { file, pid } of tempFilesOf(target)) {
      if (processAlive(pid)) continue;
      try {
        fs.unlinkSync(file);
        removed.push(file);
      } catch {
        // gone already, or not ours to remove
      }
    }
  }
  return removed;
}
