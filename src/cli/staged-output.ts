/**
 * Outputs a command writes over a run (a checkpoint every epoch, a log line every epoch) go to
 * `<file>.partial` first and replace `<file>` only when the run succeeds, so a run that fails or is
 * interrupted leaves the previous file as it was. The partial file stays behind on failure: for a
 * checkpoint it is the run so far, which `--resume` continues.
 */
import * as fs from "node:fs";

export class StagedOutput {
  readonly partial: string;

  constructor(readonly target: string) {
    this.partial = `${target}.partial`;
  }

  /** Moves the finished output over the target (atomically: a rename). */
  commit(): void {
    fs.renameSync(this.partial, this.target);
  }

  /** Whether the partial file exists (something was written before a failure). */
  get written(): boolean {
    return fs.existsSync(this.partial);
  }
}
