/** Runs the CLI in-process as a script would see it (no terminal), capturing its exit code and both streams. */
import { main } from "../../src/cli/main.js";

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export async function cli(...argv: string[]): Promise<CliRun> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s), isTTY: false });
  return { code, out, err };
}
