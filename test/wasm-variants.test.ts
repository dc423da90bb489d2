/**
 * The engine's two WebAssembly builds (plain SIMD and relaxed SIMD, chosen at load time): each loads
 * where it should and computes the matrix products to float32 accuracy against the float64 reference.
 * Each build runs in a child Node process, the relaxed one with --experimental-wasm-relaxed-simd (Node 20
 * has relaxed SIMD behind that flag; from Node 22 it is on by default and the flag is accepted).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("./helpers/wasm-variant-check.ts", import.meta.url));

function check(variant: string, flags: string[]): { variant: string; worst: number } {
  const r = spawnSync(process.execPath, [...flags, "--import", "tsx", script, variant], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

test("plain SIMD build: loads when asked and matches the reference", () => {
  const r = check("simd", []);
  assert.equal(r.variant, "simd");
  assert.ok(r.worst < 1e-5, `worst relative error ${r.worst}`);
});

test("relaxed SIMD build (fused multiply-add): loads where the runtime has relaxed SIMD and matches the reference", () => {
  const r = check("relaxed-simd", ["--experimental-wasm-relaxed-simd"]);
  assert.equal(r.variant, "relaxed-simd");
  assert.ok(r.worst < 1e-5, `worst relative error ${r.worst}`);
});
