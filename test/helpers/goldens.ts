/** Access to the PyTorch ncps reference cases in ../shared/goldens, and tensor comparison. */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const sharedDir = path.resolve(projectRoot, "../shared");
export const goldensDir = path.join(sharedDir, "goldens");
export const haveGoldens = existsSync(path.join(goldensDir, "index.json"));
export const SKIP_NO_GOLDENS = haveGoldens ? false : `reference cases not found at ${goldensDir} (../shared is absent): skipping`;

export function goldenFiles(filter: (name: string) => boolean): string[] {
  if (!haveGoldens) return [];
  return readdirSync(goldensDir).filter((f) => f.endsWith(".json") && f !== "index.json" && f !== "wirings.json" && filter(f)).sort();
}

export function loadGolden(file: string): any {
  return JSON.parse(readFileSync(path.join(goldensDir, file), "utf8"));
}

/** max |a - b| divided by max |b| (the tensor's largest reference magnitude). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= diff)) diff = d; // NaN propagates as a failure
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

interface JsonTensor {
  shape: number[];
  data: number[];
}

/** Compares a replay result with a reference case; returns a list of problems (empty when it matches). */
export function compareWithCase(result: any, c: any, tolValues: number, tolGrads: number): string[] {
  const problems: string[] = [];
  const check = (name: string, got: JsonTensor | undefined, want: JsonTensor, tol: number) => {
    if (!got) return void problems.push(`${name}: missing`);
    if (got.shape.join() !== want.shape.join()) return void problems.push(`${name}: shape [${got.shape}] vs [${want.shape}]`);
    const err = relativeError(got.data, want.data);
    if (!(err <= tol)) problems.push(`${name}: relative error ${err.toExponential(2)} > ${tol}`);
  };
  check("output", result.output, c.output, tolValues);
  check("final_state.h", result.final_state?.h, c.final_state.h, tolValues);
  if (c.final_state.c) check("final_state.c", result.final_state?.c, c.final_state.c, tolValues);
  for (const [k, g] of Object.entries(c.grads as Record<string, JsonTensor>)) check(`grads.${k}`, result.grads?.[k], g, tolGrads);
  for (const k of Object.keys(result.grads ?? {})) if (!(k in c.grads)) problems.push(`grads.${k}: not in the reference`);
  const lossErr = Math.abs(result.loss - c.loss) / Math.max(1, Math.abs(c.loss));
  if (!(lossErr <= tolValues)) problems.push(`loss: ${result.loss} vs ${c.loss}`);
  return problems;
}
