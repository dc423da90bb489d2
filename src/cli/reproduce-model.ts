/** Builds the model `ncps reproduce` trains: one of REPRODUCE_MODELS at a task's setting. */
import { CfC, type CfCOptions } from "../models/cfc.js";
import { CFC_VARIANTS, type CfcVariant } from "../models/cfc-variant.js";
import { CTRNN } from "../models/ct-rnn.js";
import { GRU } from "../models/gru.js";
import { GRUODE } from "../models/gru-ode.js";
import { LSTM } from "../models/lstm.js";
import { LTC } from "../models/ltc.js";
import { ODELSTM } from "../models/ode-lstm.js";
import { ODERNN } from "../models/ode-rnn.js";
import type { RecurrentModel } from "../models/recurrent.js";
import { FullyConnected } from "../wirings/fully-connected.js";
import type { ReproduceModel, RunConfig } from "./reproduce-tasks.js";

/** The CfC implementations a run can follow (the CfC `variant` option, src/models/cfc-variant.ts). */
export const VARIANTS = CFC_VARIANTS;
export type Variant = CfcVariant;

/** The ODE baselines integrate with dopri5 at the tolerances of Rubanova et al.'s ODE-RNN (rtol 1e-3, atol 1e-4). */
const ODE_SOLVER = { solver: "dopri5", rtol: 1e-3, atol: 1e-4 } as const;

/**
 * The CfC options of a variant: "paper" builds the cell the paper's script for the task computes
 * (`paperCell`: its TensorFlow cell, or its torch cell, which is ncps torch's); the paper's tuned
 * mixed-memory forget bias goes with its TensorFlow-family cells (keras, paper), while "torch" keeps
 * ncps torch's fixed forget bias of 1.
 */
export function cfcVariantOptions(variant: Variant, cfg: RunConfig, mixed: boolean, paperCell: Variant): Pick<CfCOptions, "variant" | "forgetBias"> {
  const form = variant === "paper" ? paperCell : variant;
  const forgetBias = mixed && form !== "torch" && cfg.forgetBias !== undefined ? { forgetBias: cfg.forgetBias } : {};
  return { variant: form, ...forgetBias };
}

export function buildReproduceModel(model: ReproduceModel, cfg: RunConfig, inputs: number, outputs: number, variant: Variant, paperCell: Variant, seed: number): RecurrentModel {
  const common = { projSize: outputs, seed };
  switch (model) {
    case "cfc":
    case "cfc-no_gate":
    case "cfc-pure":
    case "cfc-mixed": {
      const mixed = model === "cfc-mixed";
      const mode = model === "cfc-no_gate" ? "no_gate" : model === "cfc-pure" ? "pure" : "default";
      return new CfC(inputs, cfg.units, {
        ...common,
        mode,
        mixedMemory: mixed,
        activation: cfg.activation ?? "lecun_tanh",
        backboneUnits: cfg.backboneUnits ?? 128,
        backboneLayers: cfg.backboneLayers ?? 1,
        backboneDropout: cfg.backboneDropout ?? 0,
        ...cfcVariantOptions(variant, cfg, mixed, paperCell),
      });
    }
    case "ltc":
      return new LTC(inputs, new FullyConnected(cfg.units, outputs), { seed, odeUnfolds: cfg.odeUnfolds ?? 6 });
    case "lstm":
      return new LSTM(inputs, cfg.units, common);
    case "gru":
      return new GRU(inputs, cfg.units, common);
    case "ode-rnn":
      return new ODERNN(inputs, cfg.units, { ...common, ...ODE_SOLVER });
    case "ct-rnn":
      return new CTRNN(inputs, cfg.units, { ...common, ...ODE_SOLVER });
    case "gru-ode":
      return new GRUODE(inputs, cfg.units, { ...common, ...ODE_SOLVER });
    case "ode-lstm":
      return new ODELSTM(inputs, cfg.units, { ...common, ...ODE_SOLVER });
  }
}
