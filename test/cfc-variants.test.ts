/**
 * The CfC variants ("torch", "keras", "paper"): each against an independent float64 implementation
 * written here from the equations (ncps-and-paper.md section 3), the wasm engine against the reference
 * engine (values and gradients, sizes off the 4-lane tile), finite-difference gradient checks, and the
 * variant's placement of dropout, init, wiring rules, config round trip and CLI flag.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { modelConfigFromFlags } from "../src/cli/train.js";
import { CliError } from "../src/cli/util.js";
import { Act, CfcMode } from "../src/engine/engine.js";
import { ReferenceEngine } from "../src/engine/reference.js";
import { createEngine } from "../src/engine/index.js";
import { buildModel } from "../src/models/build.js";
import { CfC, type CfCOptions } from "../src/models/cfc.js";
import { CfCCell } from "../src/models/cfc-cell.js";
import { CFC_VARIANTS, type CfcVariant } from "../src/models/cfc-variant.js";
import type { Tensor } from "../src/tensor.js";
import { AutoNCP } from "../src/wirings/auto-ncp.js";
import { TestRng, gradCheck, randomInputs } from "./helpers/gradcheck.js";

const MODES = ["default", "no_gate", "pure"] as const;

// ---- the independent implementation -------------------------------------------------------------

const sig = (x: number) => 1 / (1 + Math.exp(-x));
const lecun = (x: number) => 1.7159 * Math.tanh(0.666 * x);
const silu = (x: number) => x * sig(x);
/** head activation and gate sign of each implementation, as the reference document's table lists them */
const SPEC: Record<CfcVariant, { head: (u: number) => number; gate: (ta: number, t: number, tb: number) => number }> = {
  torch: { head: Math.tanh, gate: (ta, t, tb) => sig(ta * t + tb) },
  keras: { head: (u) => u, gate: (ta, t, tb) => sig(-ta * t + tb) },
  paper: { head: lecun, gate: (ta, t, tb) => sig(-ta * t + tb) },
};

/** y = W x + b with a torch-layout W [out, in] */
function affine(sd: Map<string, Tensor>, name: string, x: number[], bias = true): number[] {
  const w = sd.get(`${name}.weight`)!;
  const [out, inF] = w.shape;
  const b = bias ? sd.get(`${name}.bias`)!.data : null;
  const y: number[] = [];
  for (let o = 0; o < out; o++) {
    let s = b ? b[o] : 0;
    for (let i = 0; i < inF; i++) s += w.data[o * inF + i] * x[i];
    y.push(s);
  }
  return y;
}

/**
 * One sample's sequence through a fully connected CfC (eval mode: no dropout) with a silu backbone and
 * ncps torch mixed memory (LSTM in front, its h the cell's previous state, forget bias fb).
 */
function plainCfc(sd: Map<string, Tensor>, variant: CfcVariant, mode: string, backboneIdx: number[], xs: number[][], ts: number[], H: number, mixed: boolean, fb: number): number[][] {
  let h = new Array<number>(H).fill(0);
  let c = new Array<number>(H).fill(0);
  const outs: number[][] = [];
  for (let t = 0; t < xs.length; t++) {
    if (mixed) {
      const z = affine(sd, "lstm.input_map", xs[t]).map((v, i) => v + affine(sd, "lstm.recurrent_map", h, false)[i]);
      const cn = c.map((cj, j) => cj * sig(z[2 * H + j] + fb) + Math.tanh(z[j]) * sig(z[H + j]));
      h = cn.map((v, j) => Math.tanh(v) * sig(z[3 * H + j]));
      c = cn;
    }
    let z = [...xs[t], ...h];
    for (const idx of backboneIdx) z = affine(sd, `rnn_cell.backbone.${idx}`, z).map(silu);
    const ff1Pre = affine(sd, "rnn_cell.ff1", z);
    let next: number[];
    if (mode === "pure") {
      const wTau = sd.get("rnn_cell.w_tau")!.data;
      const A = sd.get("rnn_cell.A")!.data;
      next = ff1Pre.map((f, j) => -A[j] * Math.exp(-ts[t] * (Math.abs(wTau[j]) + Math.abs(f))) * f + A[j]);
    } else {
      const { head, gate } = SPEC[variant];
      const ff1 = ff1Pre.map(head);
      const ff2 = affine(sd, "rnn_cell.ff2", z).map(head);
      const ta = affine(sd, "rnn_cell.time_a", z);
      const tb = affine(sd, "rnn_cell.time_b", z);
      next = ff1.map((f1, j) => {
        const s = gate(ta[j], ts[t], tb[j]);
        return mode === "no_gate" ? f1 + s * ff2[j] : f1 * (1 - s) + s * ff2[j];
      });
    }
    h = next;
    outs.push(h);
  }
  return outs;
}

function perturb(model: CfC, rng: TestRng, amount = 0.3): void {
  for (const p of model.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] += rng.range(-amount, amount);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// ---- tests ----------------------------------------------------------------------------------------

describe("CfC variants: forward against an independent float64 implementation", () => {
  for (const variant of CFC_VARIANTS) {
    for (const mode of MODES) {
      for (const mixed of [false, true]) {
        test(`${variant} ${mode}${mixed ? " mixed memory (forget bias 1.7)" : ""}`, () => {
          const I = 3;
          const H = 5;
          const B = 2;
          const L = 4;
          const fb = mixed ? 1.7 : 1;
          // dropout is set so that the module indices follow the variant's placement (eval: no effect)
          const opts: CfCOptions = { variant, mode, activation: "silu", backboneUnits: 6, backboneLayers: 2, backboneDropout: 0.3, mixedMemory: mixed, backend: "reference", seed: 4 };
          if (mixed) opts.forgetBias = fb;
          const model = new CfC(I, H, opts);
          const rng = new TestRng(31 + variant.length * 7 + mode.length);
          perturb(model, rng);
          const x = rng.tensor([B, L, I]);
          const tsT = rng.tensor([B, L], 0.2, 2);
          const out = model.predict(x, { timespans: tsT }).output;
          const sd = model.stateDict();
          const idx = variant === "torch" ? [0, 2] : [0, 3];
          assert.ok(sd.has(`rnn_cell.backbone.${idx[1]}.weight`), `${variant}: backbone module indices ${idx.join(", ")}`);
          for (let b = 0; b < B; b++) {
            const xs = Array.from({ length: L }, (_, t) => Array.from(x.data.subarray((b * L + t) * I, (b * L + t + 1) * I)));
            const ts = Array.from(tsT.data.subarray(b * L, (b + 1) * L));
            const want = plainCfc(sd, variant, mode, idx, xs, ts, H, mixed, fb).flat();
            const got = out.data.subarray(b * L * H, (b + 1) * L * H);
            assert.ok(maxAbsDiff(got, want) < 1e-12, `sample ${b}: max difference ${maxAbsDiff(got, want)}`);
          }
        });
      }
    }
  }

  test("the variants are different functions of the same weights (default mode)", () => {
    const outs = CFC_VARIANTS.map((variant) => {
      const m = new CfC(2, 4, { variant, backboneUnits: 5, backend: "reference", seed: 9 });
      perturb(m, new TestRng(5)); // the same weights for all three (keras init draws fewer numbers, so set them)
      return m;
    });
    const sd = outs[0].stateDict();
    for (const m of outs.slice(1)) m.loadStateDict(sd);
    const x = new TestRng(6).tensor([1, 3, 2]);
    const y = outs.map((m) => m.predict(x, { timespans: { shape: [1, 3], data: Float64Array.from([0.5, 1, 2]) } }).output.data);
    assert.ok(maxAbsDiff(y[0], y[1]) > 1e-3 && maxAbsDiff(y[0], y[2]) > 1e-3 && maxAbsDiff(y[1], y[2]) > 1e-3);
  });
});

describe("CfC variants: the torch variant is the previous default", () => {
  for (const backend of ["reference", "wasm"] as const) {
    test(`variant "torch" equals no variant bit for bit (${backend}), forward and gradients`, () => {
      const rng = new TestRng(99);
      for (const mode of MODES) {
        const opts: CfCOptions = { mode, backboneUnits: 7, backboneLayers: 2, backboneDropout: 0.2, mixedMemory: true, backend, seed: 12 };
        const a = new CfC(3, 6, opts);
        const b = new CfC(3, 6, { ...opts, variant: "torch" });
        const x = rng.tensor([2, 5, 3]);
        const timespans = rng.tensor([2, 5], 0.1, 2);
        const ya = a.forward(x, { timespans, training: true });
        const yb = b.forward(x, { timespans, training: true });
        assert.deepEqual(yb.output.data, ya.output.data);
        const dy = { shape: ya.output.shape, data: ya.output.data.map((_, i) => Math.sin(i)) };
        const ga = a.backward(dy);
        const gb = b.backward(dy);
        assert.deepEqual(gb.input.data, ga.input.data);
        for (const p of a.parameters()) assert.deepEqual(b.params.grad(p.name), a.params.grad(p.name), p.name);
      }
    });
  }
});

describe("CfC variants: wasm engine against the reference engine", () => {
  test("kernels cfcForward / cfcBackward for every head activation and gate sign, odd sizes", () => {
    const ref = new ReferenceEngine();
    const wasm = createEngine("wasm");
    const rng = new TestRng(17);
    for (const [headAct, gateSign] of [[Act.tanh, 1], [Act.identity, -1], [Act.lecun_tanh, -1], [Act.lecun_tanh, 1]] as const) {
      for (const mode of [CfcMode.default, CfcMode.no_gate]) {
        for (const [rows, H] of [[1, 1], [2, 3], [3, 5], [2, 13]]) {
          const fill = (n: number, lo: number, hi: number) => Float64Array.from({ length: n }, () => Math.fround(rng.range(lo, hi)));
          const heads = fill(rows * 4 * H, -3, 3);
          const bias = fill(4 * H, -1, 1);
          const ts = fill(rows, 0.1, 2);
          const dh = fill(rows * H, -1, 1);
          const results = [ref, wasm].map((e) => {
            const oHeads = e.alloc(heads.length);
            const oBias = e.alloc(bias.length);
            const oTs = e.alloc(rows);
            const oH = e.alloc(rows * H);
            const oDh = e.alloc(rows * H);
            const oDHeads = e.alloc(heads.length);
            const oDts = e.alloc(rows);
            const heap = e.heap();
            heap.set(heads, oHeads);
            heap.set(bias, oBias);
            heap.set(ts, oTs);
            heap.set(dh, oDh);
            e.cfcForward(mode, rows, H, oHeads, oBias, oTs, oH, H, headAct, gateSign);
            e.cfcBackward(mode, rows, H, oHeads, oTs, oDh, H, oDHeads, oDts, headAct, gateSign);
            const h2 = e.heap();
            return { h: Array.from(h2.subarray(oH, oH + rows * H)), dHeads: Array.from(h2.subarray(oDHeads, oDHeads + heads.length)), dts: Array.from(h2.subarray(oDts, oDts + rows)) };
          });
          const label = `act ${headAct} sign ${gateSign} mode ${mode} rows ${rows} H ${H}`;
          for (const k of ["h", "dHeads", "dts"] as const) {
            const err = maxAbsDiff(results[1][k], results[0][k]);
            assert.ok(err < 2e-5 * (1 + Math.max(...results[0][k].map(Math.abs))), `${label} ${k}: ${err}`);
          }
        }
      }
    }
  });

  for (const variant of CFC_VARIANTS) {
    test(`${variant}: CfC forward and gradients, wasm (float32) vs reference (float64)`, () => {
      const rng = new TestRng(41 + variant.length);
      for (const mode of MODES) {
        for (const mixed of [false, true]) {
          const opts: CfCOptions = { variant, mode, backboneUnits: 7, backboneLayers: 1, mixedMemory: mixed, seed: 3 };
          if (mixed) opts.forgetBias = 0.6;
          const ref = new CfC(3, 5, { ...opts, backend: "reference" });
          const was = new CfC(3, 5, { ...opts, backend: "wasm" });
          perturb(ref, rng, 0.2);
          was.loadStateDict(ref.stateDict());
          const x = rng.tensor([3, 4, 3]);
          const timespans = rng.tensor([3, 4], 0.2, 2);
          const yr = ref.forward(x, { timespans });
          const yw = was.forward(x, { timespans });
          const label = `${variant} ${mode}${mixed ? " mixed" : ""}`;
          assert.ok(maxAbsDiff(yw.output.data, yr.output.data) < 1e-4, `${label} output`);
          const dy = { shape: yr.output.shape, data: Float64Array.from(yr.output.data, (_, i) => Math.cos(i)) };
          ref.zeroGrad();
          was.zeroGrad();
          const gr = ref.backward(dy);
          const gw = was.backward(dy);
          assert.ok(maxAbsDiff(gw.input.data, gr.input.data) < 1e-4, `${label} d input`);
          assert.ok(maxAbsDiff(gw.timespans!.data, gr.timespans!.data) < 1e-4, `${label} d timespans`);
          for (const p of ref.parameters()) {
            const a = ref.params.grad(p.name);
            const scale = 1 + Math.max(...Array.from(a, Math.abs));
            assert.ok(maxAbsDiff(was.params.grad(p.name), a) < 2e-4 * scale, `${label} d ${p.name}`);
          }
        }
      }
    });
  }
});

describe("CfC variants: backward matches central finite differences (float64)", () => {
  for (const variant of CFC_VARIANTS) {
    for (const mode of MODES) {
      test(`${variant} ${mode}, 2-layer backbone, mixed memory, projection`, () => {
        const rng = new TestRng(500 + variant.length * 13 + mode.length);
        const model = new CfC(3, 4, { variant, mode, backboneUnits: 5, backboneLayers: 2, activation: "tanh", mixedMemory: true, forgetBias: 2.1, projSize: 2, backend: "reference", seed: 8 });
        perturb(model, rng);
        gradCheck(model, randomInputs(model, { input: 3, batch: 2, steps: 3, ts: "per_sample", hx: true }, rng), rng);
      });
    }
    if (variant !== "paper") {
      test(`${variant} wired (AutoNCP)`, () => {
        const rng = new TestRng(700 + variant.length);
        const model = new CfC(3, new AutoNCP(8, 2, { seed: 3 }), { variant, backend: "reference", seed: 2 });
        perturb(model, rng);
        gradCheck(model, randomInputs(model, { input: 3, batch: 2, steps: 3, ts: "per_sample", hx: true }, rng), rng);
      });
    }
  }
});

describe("CfC variants: dropout, init, wiring, config and flags", () => {
  test("dropout: after every backbone layer for keras and paper, only after the 2nd, 3rd, ... for torch", () => {
    for (const variant of CFC_VARIANTS) {
      const m = new CfC(2, 3, { variant, backboneUnits: 8, backboneLayers: 1, backboneDropout: 0.5, backend: "reference", seed: 1 });
      const x = new TestRng(3).tensor([4, 3, 2]);
      const evalOut = m.predict(x).output.data;
      const trainOut = m.forward(x, { training: true, grad: false }).output.data;
      const differs = maxAbsDiff(trainOut, evalOut) > 0;
      assert.equal(differs, variant !== "torch", `${variant}: a one-layer backbone ${variant === "torch" ? "has no" : "has"} dropout`);
    }
  });

  test("init: keras and paper start with zero biases, and pure mode with w_tau 0 and A 1", () => {
    for (const variant of ["keras", "paper"] as const) {
      const sd = new CfC(2, 3, { variant, mode: "pure", backboneUnits: 4, backend: "reference" }).stateDict();
      assert.deepEqual(Array.from(sd.get("rnn_cell.w_tau")!.data), [0, 0, 0]);
      assert.deepEqual(Array.from(sd.get("rnn_cell.A")!.data), [1, 1, 1]);
      const gated = new CfC(2, 3, { variant, backboneUnits: 4, backend: "reference" }).stateDict();
      for (const name of ["rnn_cell.backbone.0.bias", "rnn_cell.ff1.bias", "rnn_cell.ff2.bias", "rnn_cell.time_a.bias", "rnn_cell.time_b.bias"]) {
        assert.ok(gated.get(name)!.data.every((v) => v === 0), `${variant} ${name}`);
      }
      assert.ok(gated.get("rnn_cell.ff1.weight")!.data.some((v) => v !== 0));
    }
  });

  test("wired: keras keeps the synapse polarity in its masks, torch takes absolute values, paper is refused", () => {
    const masks = (["torch", "keras"] as const).map((variant) => new CfC(3, new AutoNCP(8, 2, { seed: 3 }), { variant, backend: "reference" }).stateDict().get("rnn_cell.layer_0.sparsity_mask")!.data);
    assert.ok(masks[0].every((v) => v >= 0));
    assert.ok(masks[1].some((v) => v < 0));
    assert.deepEqual(Array.from(masks[1], Math.abs), Array.from(masks[0]));
    assert.throws(() => new CfC(3, new AutoNCP(8, 2), { variant: "paper" }), /^Error: CfC: variant 'paper' cannot be used with a wiring/);
  });

  test("bad values: an unknown variant lists the valid ones; unknown options list variant; forgetBias needs mixed memory", () => {
    assert.throws(() => new CfC(2, 3, { variant: "tf" as CfcVariant }), /^Error: CfC: unknown variant "tf", expected one of torch, keras, paper$/);
    assert.throws(() => new CfC(2, 3, { varient: "keras" } as CfCOptions), /unknown option 'varient' \(valid: .*\bvariant\b/);
    assert.throws(() => new CfCCell(2, 3, { varient: "keras" } as never), /unknown option 'varient' \(valid: .*\bvariant\b/);
    assert.throws(() => new CfC(2, 3, { forgetBias: 2 }), /^Error: CfC: forgetBias applies to mixedMemory only/);
    assert.throws(() => new CfC(2, 3, { mixedMemory: true, forgetBias: Number.NaN }), /^Error: CfC: forgetBias must be a finite number/);
  });

  test("CfCCell takes the variant: one step equals a 1-step CfC of the same weights", () => {
    const cell = new CfCCell(2, 3, { variant: "paper", backboneUnits: 4, backboneDropout: 0.1, backend: "reference", seed: 2 });
    const seq = new CfC(2, 3, { variant: "paper", backboneUnits: 4, backboneDropout: 0.1, backend: "reference", seed: 2 });
    const sd = new Map([...seq.stateDict()].map(([k, v]) => [k.replace(/^rnn_cell\./, ""), v]));
    assert.ok(sd.has("backbone.0.weight"));
    cell.loadStateDict(sd);
    const x = { shape: [2, 2], data: Float64Array.from([0.3, -0.2, 0.9, 0.1]) };
    const h = cell.forward(x, null, 0.7);
    const y = seq.predict({ shape: [2, 1, 2], data: x.data }, { timespans: { shape: [2, 1], data: Float64Array.from([0.7, 0.7]) } });
    assert.deepEqual(Array.from(h.data), Array.from(y.output.data));
  });

  test("config: variant and forget_bias round-trip through toConfig/buildModel; a config without them is torch", () => {
    const m = new CfC(2, 3, { variant: "keras", mixedMemory: true, forgetBias: 0.6, backboneUnits: 4, backend: "reference", seed: 5 });
    const config = JSON.parse(JSON.stringify(m.toConfig()));
    assert.equal(config.constructor_args.variant, "keras");
    assert.equal(config.constructor_args.forget_bias, 0.6);
    const rebuilt = buildModel(config, { backend: "reference" }) as CfC;
    assert.equal(rebuilt.variant, "keras");
    assert.deepEqual(rebuilt.toConfig(), m.toConfig());
    const old = buildModel({ model: "CfC", constructor_args: { input_size: 2, units: 3 } }, { backend: "reference" }) as CfC;
    assert.equal(old.variant, "torch");
    assert.throws(() => buildModel({ model: "CfC", constructor_args: { input_size: 2, units: 3, variant: "pytorch" } }), /unknown variant "pytorch", expected one of torch, keras, paper/);
  });

  test("ncps train --variant: sets the config key; unknown values and non-cfc models are usage errors (exit 2)", () => {
    const usage = "usage";
    const flags = (extra: Record<string, string>) => ({ model: "cfc", units: "8", "backbone-units": "16", "backbone-layers": "1", ...extra });
    assert.equal(modelConfigFromFlags(flags({ variant: "paper" }), 3, 1, usage).constructor_args.variant, "paper");
    assert.equal(modelConfigFromFlags(flags({}), 3, 1, usage).constructor_args.variant, undefined);
    const usageError = (extra: Record<string, string>, re: RegExp) =>
      assert.throws(() => modelConfigFromFlags(flags(extra), 3, 1, usage), (e: unknown) => e instanceof CliError && e.exitCode === 2 && re.test(e.message));
    usageError({ variant: "tf" }, /^--variant must be one of torch, keras, paper, got 'tf'$/);
    usageError({ variant: "keras", model: "lstm" }, /^--variant applies to the cfc models, not lstm$/);
    usageError({ variant: "paper", wiring: "autoncp:8" }, /^--variant paper has no wired form/);
  });
});
