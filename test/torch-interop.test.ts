/**
 * PyTorch ncps in both directions, against the real ncps 1.0.1 source (../shared/reference) and torch:
 * - from PyTorch: tools/export_ncps.py's export(model, ..., example_input, timespans) reads the config
 *   from the live module and stores a probe; `ncps verify` passes it, and fails naming the error and
 *   tensor when the config is wrong (a CfC exported with the wrong mode);
 * - to PyTorch: `ncps export --to torch` writes weights alone; tools/load_in_torch.py rebuilds the ncps
 *   model strictly and, for a model trained by `ncps train`, its predictions equal `ncps predict`.
 * CfC (default, no_gate, pure, mixed + proj, wired) and LTC (fully connected, AutoNCP), per-sample
 * timespans, batch 1 and 3. Skips with a message without python3 + torch or the ncps source.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import { cli } from "./helpers/cli.js";
import { loadNpy, saveNpy } from "../src/io/npy.js";
import { CfC } from "../src/models/cfc.js";
import { loadCheckpoint, readCheckpoint, saveCheckpoint } from "../src/train/checkpoint-file.js";
import { encodeSafetensors } from "../src/io/safetensors.js";
import { loadSafetensors } from "../src/io/safetensors-file.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ncpsSource = path.join(root, "../shared/reference/ncps-1.0.1");
const PYTHON = "/usr/bin/python3";
const env = { ...process.env, PYTHONPATH: `${ncpsSource}:${path.join(root, "tools")}` };
const probe = existsSync(ncpsSource) ? spawnSync(PYTHON, ["-c", "import torch, ncps.torch"], { encoding: "utf8", env }) : null;
const skip = !existsSync(ncpsSource)
  ? "../shared/reference/ncps-1.0.1 is missing: PyTorch round trips not checked"
  : probe?.status !== 0
    ? `python3 with torch and ncps is not available (${(probe?.stderr ?? "").trim().split("\n").pop()}): PyTorch round trips not checked`
    : false;

const dir = mkdtempSync(path.join(os.tmpdir(), "ncps-torch-interop-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function python(script: string): string {
  const r = spawnSync(PYTHON, ["-c", script], { encoding: "utf8", env, cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const MODELS: Record<string, string> = {
  "cfc-default": "CfC(3, 6, backbone_units=7)",
  "cfc-no_gate": "CfC(3, 5, mode='no_gate', backbone_units=6, backbone_layers=2, activation='gelu')",
  "cfc-pure": "CfC(3, 5, mode='pure', backbone_units=6, activation='silu')",
  "cfc-mixed-proj": "CfC(3, 6, mixed_memory=True, proj_size=2, backbone_units=5, activation='tanh')",
  "cfc-wired": "CfC(3, wirings.AutoNCP(9, 2, seed=6))",
  "cfc-wired-ncp": "CfC(3, wirings.NCP(4, 3, 2, 2, 2, 2, 2, seed=7), mode='no_gate')",
  "ltc-fc": "LTC(3, 5)",
  "ltc-autoncp": "LTC(3, wirings.AutoNCP(8, 2, seed=10), mixed_memory=True, input_mapping='linear', ode_unfolds=4)",
};

describe("PyTorch ncps round trips", { skip }, () => {
  test("export(model) reads the config from the module, stores a probe that `ncps verify` passes; to torch and back is exact", async () => {
    const names = Object.keys(MODELS);
    const lines = names.map((n) => `  ("${n}", ${MODELS[n]}),`).join("\n");
    python(`
import torch
from ncps.torch import CfC, LTC
from ncps import wirings
from export_ncps import export
torch.manual_seed(0)
for name, model in [
${lines}
]:
    for batch in (3, 1):
        x = torch.randn(batch, 5, 3)
        ts = torch.rand(batch, 5) * 1.5 + 0.3
        export(model, "%s-b%d.safetensors" % (name, batch), example_input=x, timespans=ts)
`);
    for (const name of names) {
      for (const b of [3, 1]) {
        const file = path.join(dir, `${name}-b${b}.safetensors`);
        const v = await cli("verify", file);
        assert.equal(v.code, 0, `${name} b${b}: ${v.err}`);
        assert.match(v.out, /probe passed: largest error/);
        loadCheckpoint(file, { verify: true });
      }
      // back to PyTorch: weights alone, rebuilt strictly, same outputs as the original probe
      const w = path.join(dir, `${name}.torch.safetensors`);
      const e = await cli("export", path.join(dir, `${name}-b3.safetensors`), "--to", "torch", "--out", w);
      assert.equal(e.code, 0, e.err);
      assert.ok([...readCheckpoint(w).tensors.keys()].every((k) => !k.startsWith("probe.")));
    }
    const out = python(`
import torch
from load_in_torch import load, read_safetensors
worst = 0.0
for name in ${JSON.stringify(names)}:
    model = load(name + ".torch.safetensors")
    _, t = read_safetensors(name + "-b3.safetensors")
    tensor = lambda k: torch.tensor(t[k][1], dtype=torch.float32).reshape(t[k][0])
    with torch.no_grad():
        y, _ = model(tensor("probe.input"), timespans=tensor("probe.timespans"))
    worst = max(worst, float((y - tensor("probe.output")).abs().max()))
print(worst)
`);
    assert.ok(Number(out) <= 1e-6, `largest error after the round trip: ${out}`);
  });

  test("the probe catches a wrong config: a no_gate CfC exported as default fails `ncps verify`, naming the error and tensor", async () => {
    const file = path.join(dir, "cfc-no_gate-b3.safetensors");
    assert.ok(existsSync(file), "written by the first test");
    const st = loadSafetensors(file);
    const config = JSON.parse(st.metadata.config);
    config.constructor_args.mode = "default";
    const wrong = path.join(dir, "wrong-mode.safetensors");
    writeFileSync(wrong, encodeSafetensors([...st.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data as Float32Array })), { ...st.metadata, config: JSON.stringify(config) }));
    const v = await cli("verify", wrong);
    assert.equal(v.code, 1);
    assert.match(v.err, /probe failed: largest error \S+ exceeds 1e-5 at probe\.output\[\d+, \d+, \d+\]: stored/);
    assert.throws(() => loadCheckpoint(wrong, { verify: true }), /probe failed/);
  });

  test("the script form (--config) stores a probe too, and `ncps verify` passes it", async () => {
    for (const [name, config] of [
      ["script-cfc", { model: "CfC", constructor_args: { input_size: 3, units: { wiring: { kind: "NCP", args: { inter_neurons: 4, command_neurons: 3, motor_neurons: 2, sensory_fanout: 2, inter_fanout: 2, recurrent_command_synapses: 2, motor_fanin: 2, seed: 5 } } }, mode: "pure" } }],
      ["script-ltc", { model: "LTC", constructor_args: { input_size: 2, units: 4, batch_first: false, ode_unfolds: 3 } }],
    ] as const) {
      const out = path.join(dir, `${name}.safetensors`);
      const r = spawnSync(PYTHON, [path.join(root, "tools/export_ncps.py"), "--out", out, "--config", JSON.stringify(config)], { encoding: "utf8", env });
      assert.equal(r.status, 0, r.stderr);
      const v = await cli("verify", out);
      assert.equal(v.code, 0, `${name}: ${v.err}`);
    }
  });

  test("a model trained by `ncps train` predicts the same in Python (load_in_torch) as `ncps predict`", async () => {
    const N = 6;
    const L = 5;
    const x = Float64Array.from({ length: N * L * 2 }, (_, i) => 3 + 2 * Math.sin(i * 0.37));
    const y = Float64Array.from({ length: N * L }, (_, i) => 10 + 5 * Math.cos(i * 0.21));
    const t = Float64Array.from({ length: N * L }, (_, i) => 2 + (i % 4));
    for (const [n, v, shape] of [["x", x, [N, L, 2]], ["y", y, [N, L, 1]], ["t", t, [N, L]]] as const) saveNpy(path.join(dir, `${n}.npy`), { shape: [...shape], data: v });
    const model = path.join(dir, "trained.safetensors");
    const tr = await cli("train", path.join(dir, "x.npy"), "--y", path.join(dir, "y.npy"), "--time-file", path.join(dir, "t.npy"), "--units", "4", "--backbone-units", "5", "--epochs", "2", "--batch", "3", "--out", model, "--quiet", "--weights-only");
    assert.equal(tr.code, 0, tr.err);
    assert.equal(readCheckpoint(model).training, null, "--weights-only leaves the training state out");
    const w = path.join(dir, "trained.torch.safetensors");
    assert.equal((await cli("export", model, "--to", "torch", "--out", w)).code, 0);
    const pred = path.join(dir, "pred.npy");
    const p = await cli("predict", w, path.join(dir, "x.npy"), "--time-file", path.join(dir, "t.npy"), "--out", pred, "--backend", "reference");
    assert.equal(p.code, 0, p.err);
    const fromTorch = path.join(dir, "torch-pred.json");
    python(`
import json, torch
from load_in_torch import load, read_safetensors
model = load("trained.torch.safetensors")
import struct
def npy(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<H", raw[8:10])[0]
    header = eval(raw[10:10 + n].decode("latin1"))
    code = {"<f8": "d", "<f4": "f"}[header["descr"]]
    count = 1
    for d in header["shape"]: count *= d
    values = struct.unpack("<%d%s" % (count, code), raw[10 + n:10 + n + count * struct.calcsize(code)])
    return torch.tensor(values, dtype=torch.float32).reshape(header["shape"])
with torch.no_grad():
    y, _ = model(npy("x.npy"), timespans=npy("t.npy"))
json.dump(y.reshape(-1).tolist(), open("torch-pred.json", "w"))
`);
    const mine = loadNpy(pred).data;
    const theirs = JSON.parse(readFileSync(fromTorch, "utf8")) as number[];
    assert.equal(theirs.length, mine.length);
    let worst = 0;
    for (let i = 0; i < mine.length; i++) worst = Math.max(worst, Math.abs(Number(mine[i]) - theirs[i]) / Math.max(1, Math.abs(theirs[i])));
    assert.ok(worst <= 1e-5, `largest relative error ${worst}`);
  });
});

test("export refuses an option PyTorch ncps lacks, with the reason, and writes nothing", async () => {
  const { AutoNCP } = await import("../src/wirings/auto-ncp.js");
  const model = new CfC(2, new AutoNCP(6, 1, { seed: 1 }), { wiringRecurrence: true, backend: "reference" });
  const file = path.join(dir, "recurrence.safetensors");
  saveCheckpoint(file, model);
  const out = path.join(dir, "nothing.safetensors");
  const r = await cli("export", file, "--to", "torch", "--out", out);
  assert.equal(r.code, 1);
  assert.match(r.err, /wiringRecurrence .* has no ncps equivalent/);
  assert.ok(!existsSync(out));
  const onnx = path.join(dir, "r.onnx");
  const ok = await cli("export", file, "--to", "onnx", "--out", onnx, "--step");
  assert.equal(ok.code, 0, ok.err);
  assert.ok(existsSync(onnx));
  const bad = await cli("export", file, "--to", "onnx", "--out", onnx, "--step", "--sequence-length", "3");
  assert.equal(bad.code, 2);
  for (const [name, options, reason] of [
    ["keras", { variant: "keras" }, /CfC variant "keras" is not ncps torch's CfC/],
    ["forget", { mixedMemory: true, forgetBias: 0.5 }, /forgetBias 0.5: ncps's mixed memory LSTMCell always adds 1/],
  ] as const) {
    const f = path.join(dir, `${name}.safetensors`);
    saveCheckpoint(f, new CfC(2, 3, { backboneUnits: 4, backend: "reference", ...options }));
    const e = await cli("export", f, "--to", "torch", "--out", out);
    assert.equal(e.code, 1);
    assert.match(e.err, reason);
    assert.ok(!existsSync(out));
  }
  const noProbe = await cli("verify", file);
  assert.equal(noProbe.code, 1);
  assert.match(noProbe.err, /no probe to verify/);
});

test("--weights-only and `ncps export --to torch` keep the weights, config and scaling, and leave the optimizer state out", async () => {
  const N = 4;
  const L = 3;
  saveNpy(path.join(dir, "wx.npy"), { shape: [N, L, 2], data: Float64Array.from({ length: N * L * 2 }, (_, i) => Math.sin(i)) });
  saveNpy(path.join(dir, "wy.npy"), { shape: [N, L, 1], data: Float64Array.from({ length: N * L }, (_, i) => Math.cos(i)) });
  const common = [path.join(dir, "wx.npy"), "--y", path.join(dir, "wy.npy"), "--units", "3", "--backbone-units", "4", "--epochs", "1", "--batch", "2", "--quiet"];
  const full = path.join(dir, "full.safetensors");
  const slim = path.join(dir, "slim.safetensors");
  assert.equal((await cli("train", ...common, "--out", full)).code, 0);
  assert.equal((await cli("train", ...common, "--out", slim, "--weights-only")).code, 0);
  const a = readCheckpoint(full);
  const b = readCheckpoint(slim);
  assert.notEqual(a.training, null);
  assert.ok(a.trainingTensors.size > 0);
  assert.equal(b.training, null);
  assert.equal(b.trainingTensors.size, 0);
  assert.deepEqual(b.extras, a.extras, "scaling and data preparation kept");
  for (const [name, t] of a.tensors) assert.deepEqual([...b.tensors.get(name)!.data], [...t.data], name);
  const exported = path.join(dir, "full.torch.safetensors");
  assert.equal((await cli("export", full, "--to", "torch", "--out", exported)).code, 0);
  const c = readCheckpoint(exported);
  assert.equal(c.training, null);
  assert.equal(c.trainingTensors.size, 0);
  assert.deepEqual(c.extras, a.extras);
  for (const [name, t] of a.tensors) assert.deepEqual([...c.tensors.get(name)!.data], [...t.data], name);
});
