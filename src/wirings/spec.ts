/**
 * Wiring specs: `{kind, args}` with ncps's class name and its constructor arguments in ncps's
 * snake_case names, e.g. `{"kind": "AutoNCP", "args": {"units": 16, "output_size": 4}}`. This is
 * how golden files and saved models describe wirings. A spec names a wiring *before* it is built;
 * building it for an input size is the caller's job.
 *
 * Besides ncps's four classes, kind "Wiring" carries explicit matrices (the base class config), so
 * that any wiring, including a user's own, can be written out and read back.
 */
import { AutoNCP } from "./auto-ncp.js";
import { FullyConnected } from "./fully-connected.js";
import { NCP } from "./ncp.js";
import { Random } from "./random.js";
import { describeValue, Wiring } from "./wiring.js";

export type WiringKind = "AutoNCP" | "NCP" | "FullyConnected" | "Random" | "Wiring";

export interface WiringSpec {
  kind: WiringKind;
  args: Record<string, unknown>;
}

type ArgType = "int" | "number" | "bool" | "int?" | "matrix" | "matrix?" | "int|null" | "layers?";

interface KindInfo {
  args: Record<string, { type: ArgType; required: boolean }>;
  make(a: Record<string, unknown>): Wiring;
}

const req = (type: ArgType) => ({ type, required: true });
const opt = (type: ArgType) => ({ type, required: false });

const KINDS: Record<WiringKind, KindInfo> = {
  AutoNCP: {
    args: { units: req("int"), output_size: req("int"), sparsity_level: opt("number"), seed: opt("int") },
    make: (a) =>
      new AutoNCP(a.units as number, a.output_size as number, {
        sparsityLevel: a.sparsity_level as number | undefined,
        seed: a.seed as number | undefined,
      }),
  },
  NCP: {
    args: {
      inter_neurons: req("int"),
      command_neurons: req("int"),
      motor_neurons: req("int"),
      sensory_fanout: req("int"),
      inter_fanout: req("int"),
      recurrent_command_synapses: req("int"),
      motor_fanin: req("int"),
      seed: opt("int"),
    },
    make: (a) =>
      new NCP(
        a.inter_neurons as number,
        a.command_neurons as number,
        a.motor_neurons as number,
        a.sensory_fanout as number,
        a.inter_fanout as number,
        a.recurrent_command_synapses as number,
        a.motor_fanin as number,
        { seed: a.seed as number | undefined },
      ),
  },
  FullyConnected: {
    args: { units: req("int"), output_dim: opt("int?"), erev_init_seed: opt("int"), self_connections: opt("bool") },
    make: (a) =>
      new FullyConnected(a.units as number, a.output_dim as number | null | undefined, {
        erevInitSeed: a.erev_init_seed as number | undefined,
        selfConnections: a.self_connections as boolean | undefined,
      }),
  },
  Random: {
    args: { units: req("int"), output_dim: opt("int?"), sparsity_level: opt("number"), random_seed: opt("int") },
    make: (a) =>
      new Random(a.units as number, a.output_dim as number | null | undefined, {
        sparsityLevel: a.sparsity_level as number | undefined,
        randomSeed: a.random_seed as number | undefined,
      }),
  },
  Wiring: {
    args: {
      units: req("int"),
      adjacency_matrix: req("matrix"),
      sensory_adjacency_matrix: opt("matrix?"),
      input_dim: opt("int|null"),
      output_dim: opt("int"),
      layers: opt("layers?"),
    },
    make: (a) => Wiring.fromConfig(a),
  },
};

function isMatrix(v: unknown): boolean {
  return Array.isArray(v) && v.every((row) => Array.isArray(row) && row.every((x) => typeof x === "number"));
}

function typeOk(v: unknown, t: ArgType): boolean {
  switch (t) {
    case "int":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "bool":
      return typeof v === "boolean";
    case "int?":
    case "int|null":
      return v === null || (typeof v === "number" && Number.isInteger(v));
    case "matrix":
      return isMatrix(v);
    case "matrix?":
      return v === null || isMatrix(v);
    case "layers?":
      return isMatrix(v);
  }
}

const TYPE_WORDS: Record<ArgType, string> = {
  int: "an integer",
  number: "a number",
  bool: "a boolean",
  "int?": "an integer or null",
  "int|null": "an integer or null",
  matrix: "a nested array of numbers",
  "matrix?": "a nested array of numbers or null",
  "layers?": "an array of neuron id arrays",
};

/** Builds the (unbuilt) wiring a spec describes; any problem with the spec is an Error naming it. */
export function wiringFromSpec(spec: unknown): Wiring {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    throw new Error(`wiring spec must be an object {kind, args}, got ${describeValue(spec)}`);
  }
  const s = spec as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (key !== "kind" && key !== "args") throw new Error(`wiring spec: unknown field "${key}" (expected "kind" and "args")`);
  }
  const kind = s.kind;
  if (typeof kind !== "string" || !Object.prototype.hasOwnProperty.call(KINDS, kind)) {
    throw new Error(`wiring spec: unknown kind ${describeValue(kind)}, expected one of ${Object.keys(KINDS).join(", ")}`);
  }
  const info = KINDS[kind as WiringKind];
  const args = s.args ?? {};
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    throw new Error(`wiring spec (${kind}): args must be an object, got ${describeValue(args)}`);
  }
  const a = args as Record<string, unknown>;
  for (const key of Object.keys(a)) {
    if (!Object.prototype.hasOwnProperty.call(info.args, key)) {
      throw new Error(`wiring spec (${kind}): unknown argument "${key}"; ${kind} takes ${Object.keys(info.args).join(", ")}`);
    }
  }
  for (const [name, { type, required }] of Object.entries(info.args)) {
    if (!(name in a) || a[name] === undefined) {
      if (required) throw new Error(`wiring spec (${kind}): missing argument "${name}" (${TYPE_WORDS[type]})`);
      continue;
    }
    if (!typeOk(a[name], type)) {
      throw new Error(`wiring spec (${kind}): argument "${name}" must be ${TYPE_WORDS[type]}, got ${describeValue(a[name])}`);
    }
  }
  try {
    return info.make(a);
  } catch (e) {
    throw new Error(`wiring spec: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The spec of a wiring: its class and constructor arguments (its matrices for a plain Wiring). */
export function wiringToSpec(wiring: Wiring): WiringSpec {
  // Checked from the most specific class down: AutoNCP is also an NCP.
  if (wiring instanceof AutoNCP) return { kind: "AutoNCP", args: wiring.getConfig() };
  if (wiring instanceof NCP) return { kind: "NCP", args: wiring.getConfig() };
  if (wiring instanceof FullyConnected) return { kind: "FullyConnected", args: wiring.getConfig() };
  if (wiring instanceof Random) return { kind: "Random", args: wiring.getConfig() };
  return { kind: "Wiring", args: Wiring.prototype.getConfig.call(wiring) };
}
