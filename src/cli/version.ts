/** The package version, for `ncps --version`. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Read at run time from the package's own package.json, two levels up from this file both in the
 * sources (src/cli) and in the build (dist/cli), so the version is never a second copy to keep in step.
 */
export function packageVersion(): string {
  const file = fileURLToPath(new URL("../../package.json", import.meta.url));
  let version: unknown;
  try {
    version = (JSON.parse(readFileSync(file, "utf8")) as { version?: unknown }).version;
  } catch (e) {
    throw new Error(`cannot read the package version from ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof version !== "string" || version === "") throw new Error(`${file} has no "version" string (got ${JSON.stringify(version)})`);
  return version;
}
