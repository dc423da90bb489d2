/** `ncps wiring`: build a wiring from a spec and print it as JSON, draw it as SVG, or summarise it. */
import * as fs from "node:fs";
import { writeFileAtomic } from "../io/atomic.js";
import { wiringFromSpec } from "../wirings/spec.js";
import { wiringToSVG } from "../wirings/svg.js";
import type { Wiring } from "../wirings/wiring.js";
import { CliError, type CliIO, intFlag, parseArgs } from "./util.js";

const USAGE = `usage: ncps wiring --spec JSON|@FILE --input-dim N [--json] [--svg FILE]

Builds a neural circuit policy wiring (bit-exact with Python ncps 1.0.1) and shows it.

  --spec JSON|@FILE  {"kind": "AutoNCP"|"NCP"|"FullyConnected"|"Random"|"Wiring", "args": {...}}
                     with ncps's argument names, e.g.
                     '{"kind":"AutoNCP","args":{"units":16,"output_size":4}}';
                     @FILE reads the spec from a file
  --input-dim N      number of input features to build the wiring for
  --json             print units, dims, layers, the adjacency matrices ([source, destination],
                     entries -1/0/+1, ncps neuron numbering) and synapse counts as JSON
  --svg FILE         write a layered drawing of the wiring to FILE

Without --json or --svg a short summary is printed.`;

function readSpec(text: string): unknown {
  let source = "--spec";
  let json = text;
  if (text.startsWith("@")) {
    const file = text.slice(1);
    source = `--spec file ${file}`;
    try {
      json = fs.readFileSync(file, "utf8");
    } catch (e) {
      throw new CliError(`cannot read ${source}: ${e instanceof Error ? e.message : String(e)}`, 2, USAGE);
    }
  }
  try {
    return JSON.parse(json);
  } catch (e) {
    throw new CliError(`${source} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, 2, USAGE);
  }
}

/** The wiring in ncps orientation, as `--json` prints it. */
export function wiringToJson(w: Wiring): Record<string, unknown> {
  return {
    units: w.units,
    input_dim: w.inputDim,
    output_dim: w.outputDim,
    layers: w.layers,
    adjacency_matrix: { shape: [w.units, w.units], data: Array.from(w.adjacencyMatrix) },
    sensory_adjacency_matrix: w.sensoryAdjacencyMatrix ? { shape: [w.inputDim, w.units], data: Array.from(w.sensoryAdjacencyMatrix) } : null,
    synapse_count: w.synapseCount,
    sensory_synapse_count: w.sensorySynapseCount,
  };
}

/** One key per line, each value compact: readable for people, still one JSON document. */
function formatJson(obj: Record<string, unknown>): string {
  const lines = Object.entries(obj).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n${lines.join(",\n")}\n}\n`;
}

function idRange(ids: number[]): string {
  if (ids.length === 0) return "[]";
  const contiguous = ids.every((id, i) => i === 0 || id === ids[i - 1] + 1);
  return contiguous ? `[${ids[0]}..${ids[ids.length - 1]}]` : `[${ids.join(", ")}]`;
}

function summary(w: Wiring): string {
  const args = Object.entries(w.getConfig())
    .filter(([, v]) => v !== null && typeof v !== "object")
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(", ");
  const layers = w.layers.map((ids) => {
    const types = [...new Set(ids.map((id) => w.getTypeOfNeuron(id)))].join("/");
    return `${types} ${ids.length} ${idRange(ids)}`;
  });
  return [
    `${w.kind}(${args}) built for ${w.inputDim} inputs`,
    `  units ${w.units}, output_dim ${w.outputDim}`,
    `  layers: ${layers.join("; ")}`,
    `  synapses ${w.synapseCount}, sensory synapses ${w.sensorySynapseCount}`,
  ].join("\n") + "\n";
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(
    argv,
    { spec: { type: "string" }, "input-dim": { type: "string" }, json: { type: "boolean" }, svg: { type: "string" } },
    USAGE,
  );
  if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0]}'`, 2, USAGE);
  const specText = flags.spec;
  if (typeof specText !== "string") throw new CliError("--spec is required", 2, USAGE);
  const inputDim = intFlag(flags, "input-dim", USAGE, 1);
  if (inputDim === undefined) throw new CliError("--input-dim is required", 2, USAGE);

  let wiring: Wiring;
  try {
    wiring = wiringFromSpec(readSpec(specText));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(e instanceof Error ? e.message : String(e), 2, USAGE);
  }
  wiring.build(inputDim);

  if (flags.json) io.out(formatJson(wiringToJson(wiring)));
  const svgFile = flags.svg;
  if (typeof svgFile === "string") {
    if (svgFile === "") throw new CliError("--svg needs a file name", 2, USAGE);
    try {
      writeFileAtomic(svgFile, wiringToSVG(wiring));
    } catch (e) {
      throw new CliError(`cannot write ${svgFile}: ${e instanceof Error ? e.message : String(e)}`, 1);
    }
    if (!flags.json) io.out(`wrote ${svgFile}\n`);
  }
  if (!flags.json && typeof svgFile !== "string") io.out(summary(wiring));
  return 0;
}
