/**
 * The CfC variants: the same closed-form cell as written by three implementations, which differ in the
 * head activation of ff1 and ff2, the sign of the time gate, where backbone dropout sits and how the
 * heads are initialised (ncps-and-paper.md section 3):
 *  - "torch": ncps torch CfCCell (the default; bit-exact with ncps torch);
 *  - "keras": ncps keras CfCCell (linear heads, gate sigmoid(-t_a t + t_b));
 *  - "paper": the paper's tf_cfc.py CfcCell (lecun_tanh heads, negated gate), whose reported numbers
 *    (XOR, ET-sMNIST, IMDB, Walker2d) come from it.
 * Mode "pure" (Cf-S) has a linear ff1 in all three; there only dropout placement and init differ.
 */
import { Act } from "../engine/engine.js";

export const CFC_VARIANTS = ["torch", "keras", "paper"] as const;
export type CfcVariant = (typeof CFC_VARIANTS)[number];

export interface CfcVariantForm {
  /** activation of ff1 and ff2 in modes default and no_gate (engine Act code) */
  headAct: number;
  /** sigma = sigmoid(gateSign * t_a * t + t_b) */
  gateSign: 1 | -1;
  /** dropout after every backbone layer (keras, paper) instead of only after the 2nd, 3rd, ... (torch) */
  dropoutAfterEveryLayer: boolean;
  /**
   * Keras initialisers: zero head and backbone biases, pure mode's w_tau zeros and A ones (torch draws the
   * biases from U(+-1/sqrt(fan_in)) and overwrites w_tau and A with xavier draws). Kernels are
   * xavier/glorot uniform in all three.
   */
  kerasInit: boolean;
}

export const CFC_VARIANT_FORMS: Record<CfcVariant, CfcVariantForm> = {
  torch: { headAct: Act.tanh, gateSign: 1, dropoutAfterEveryLayer: false, kerasInit: false },
  keras: { headAct: Act.identity, gateSign: -1, dropoutAfterEveryLayer: true, kerasInit: true },
  paper: { headAct: Act.lecun_tanh, gateSign: -1, dropoutAfterEveryLayer: true, kerasInit: true },
};

/** The variant named by `value`, or a one-line error naming `where` and the valid ones. */
export function resolveCfcVariant(value: unknown, where: string): CfcVariant {
  if (value === undefined) return "torch";
  if (typeof value === "string" && (CFC_VARIANTS as readonly string[]).includes(value)) return value as CfcVariant;
  throw new Error(`${where}: unknown variant ${JSON.stringify(value)}, expected one of ${CFC_VARIANTS.join(", ")}`);
}
