/**
 * The base wiring: which neuron feeds which, with what polarity. A port of ncps's `Wiring` with the
 * same orientation and numbering, so matrices can be compared with ncps directly:
 *
 * - `adjacencyMatrix[src * units + dest]` is the polarity of the synapse src -> dest
 *   (-1 inhibitory, +1 excitatory, 0 none);
 * - `sensoryAdjacencyMatrix[s * units + dest]` is the polarity of input feature s -> neuron dest,
 *   and exists only once the wiring is built for an input size;
 * - neurons `0..outputDim-1` are the motor (output) neurons.
 *
 * Subclasses add recurrent synapses in their constructor and sensory synapses in `buildSensory`,
 * which `build` calls once.
 */
import { wiringToSVG, type WiringSvgOptions } from "./svg.js";

export type NeuronType = "motor" | "command" | "inter";

/** ncps's `Wiring.get_config()` for a plain wiring: the matrices themselves, as nested lists. */
export interface WiringMatrixConfig {
  units: number;
  adjacency_matrix: number[][];
  sensory_adjacency_matrix: number[][] | null;
  input_dim: number | null;
  output_dim: number;
  /** Not in ncps: an optional layer partition (see `Wiring.fromMatrices`). */
  layers?: number[][];
}

export interface WiringFromMatricesOptions {
  /** units x units polarities [src][dest] (nested) or flat row-major. */
  adjacency: ArrayLike<number> | ArrayLike<ArrayLike<number>>;
  /** inputDim x units polarities [sensory src][dest]; omit to build later with `build(inputDim)`. */
  sensoryAdjacency?: ArrayLike<number> | ArrayLike<ArrayLike<number>> | null;
  /** Needed when `sensoryAdjacency` is given flat; checked against it otherwise. */
  inputDim?: number;
  /** Number of motor neurons (ids 0..outputDim-1). */
  outputDim: number;
  /** Optional partition of the neuron ids into layers (first = closest to the inputs). */
  layers?: number[][];
}

export function checkPositiveInt(value: unknown, name: string, owner: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new Error(`${owner}: ${name} must be a positive integer, got ${describeValue(value)}`);
  }
  return value;
}

export function checkNonNegativeInt(value: unknown, name: string, owner: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new Error(`${owner}: ${name} must be a non-negative integer, got ${describeValue(value)}`);
  }
  return value;
}

export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "object") return "an object";
  return String(value);
}

function checkPolarity(polarity: number, what: string): void {
  if (polarity !== -1 && polarity !== 1) {
    throw new Error(`${what}: polarity must be -1 or +1, got ${describeValue(polarity)}`);
  }
}

/** Flattens a nested or flat matrix of polarities, checking its size and entries. */
function flattenMatrix(
  m: ArrayLike<number> | ArrayLike<ArrayLike<number>>,
  rows: number | undefined,
  cols: number,
  name: string,
): { data: Int32Array; rows: number } {
  let values: number[];
  let r: number;
  const first = m.length > 0 ? (m as ArrayLike<unknown>)[0] : undefined;
  if (first !== undefined && typeof first === "object" && first !== null) {
    const nested = m as ArrayLike<ArrayLike<number>>;
    r = nested.length;
    values = [];
    for (let i = 0; i < r; i++) {
      const row = nested[i];
      if (!row || typeof row !== "object" || row.length !== cols) {
        throw new Error(`${name}: row ${i} must have ${cols} entries, got ${row && typeof row === "object" ? row.length : describeValue(row)}`);
      }
      for (let j = 0; j < cols; j++) values.push(row[j]);
    }
  } else {
    values = Array.from(m as ArrayLike<number>);
    if (rows === undefined) {
      if (values.length % cols !== 0) throw new Error(`${name}: ${values.length} values is not a whole number of rows of ${cols}`);
      r = values.length / cols;
    } else r = rows;
    if (values.length !== r * cols) throw new Error(`${name}: expected ${r}x${cols} = ${r * cols} values, got ${values.length}`);
  }
  if (rows !== undefined && r !== rows) throw new Error(`${name}: expected ${rows} rows, got ${r}`);
  const data = new Int32Array(values.length);
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (v !== -1 && v !== 0 && v !== 1) {
      throw new Error(`${name}: entry [${Math.floor(k / cols)}][${k % cols}] must be -1, 0 or 1, got ${describeValue(v)}`);
    }
    data[k] = v;
  }
  return { data, rows: r };
}

function toNested(data: Int32Array, rows: number, cols: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < rows; i++) out.push(Array.from(data.subarray(i * cols, (i + 1) * cols)));
  return out;
}

function checkLayers(layers: number[][], units: number, owner: string): number[][] {
  if (!Array.isArray(layers) || layers.length === 0) throw new Error(`${owner}: layers must be a non-empty array of neuron id arrays`);
  const seen = new Set<number>();
  layers.forEach((layer, l) => {
    if (!Array.isArray(layer)) throw new Error(`${owner}: layers[${l}] must be an array of neuron ids, got ${describeValue(layer)}`);
    for (const id of layer) {
      if (!Number.isInteger(id) || id < 0 || id >= units) {
        throw new Error(`${owner}: layers[${l}] contains ${describeValue(id)}, expected a neuron id in [0, ${units})`);
      }
      if (seen.has(id)) throw new Error(`${owner}: neuron ${id} appears in more than one layer`);
      seen.add(id);
    }
  });
  if (seen.size !== units) {
    const missing = Array.from({ length: units }, (_, i) => i).filter((i) => !seen.has(i));
    throw new Error(`${owner}: layers must cover every neuron; missing ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? ", ..." : ""}`);
  }
  return layers.map((l) => [...l]);
}

export class Wiring {
  readonly units: number;
  inputDim: number | null = null;
  /** Number of motor neurons; ncps leaves this unset on a bare `Wiring`, here it defaults to `units`. */
  outputDim: number;
  readonly adjacencyMatrix: Int32Array;
  sensoryAdjacencyMatrix: Int32Array | null = null;
  /** Layers given to `fromMatrices`; null means the single layer of all neurons. */
  private customLayers: number[][] | null = null;

  constructor(units: number, outputDim?: number) {
    this.units = checkPositiveInt(units, "units", this.constructor.name);
    this.adjacencyMatrix = new Int32Array(units * units);
    this.outputDim = units;
    this.setOutputDim(outputDim ?? units);
  }

  /** Short name used in messages and in the SVG title. */
  get kind(): string {
    return "Wiring";
  }

  protected setOutputDim(outputDim: number): void {
    checkPositiveInt(outputDim, "output_dim", this.kind);
    if (outputDim > this.units) throw new Error(`${this.kind}: output_dim must be at most units (${this.units}), got ${outputDim}`);
    this.outputDim = outputDim;
  }

  get numLayers(): number {
    return this.customLayers ? this.customLayers.length : 1;
  }

  getNeuronsOfLayer(layer: number): number[] {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.numLayers) {
      throw new Error(`${this.kind}: unknown layer ${describeValue(layer)}, expected 0..${this.numLayers - 1}`);
    }
    return this.customLayers ? [...this.customLayers[layer]] : Array.from({ length: this.units }, (_, i) => i);
  }

  /** All layers, first (closest to the inputs) to last. */
  get layers(): number[][] {
    return Array.from({ length: this.numLayers }, (_, l) => this.getNeuronsOfLayer(l));
  }

  isBuilt(): boolean {
    return this.inputDim !== null;
  }

  /**
   * Fixes the input size and adds the sensory synapses. Building again with the same size does
   * nothing (ncps would draw a second set of sensory synapses on top); another size is an error.
   */
  build(inputDim: number): void {
    checkPositiveInt(inputDim, "input_dim", this.kind);
    if (this.inputDim !== null) {
      if (this.inputDim !== inputDim) {
        throw new Error(
          `${this.kind}: Conflicting input dimensions: the wiring was built for input_dim ${this.inputDim} but is now asked for input_dim ${inputDim} (use a separate wiring object per layer)`,
        );
      }
      return;
    }
    this.inputDim = inputDim;
    this.sensoryAdjacencyMatrix = new Int32Array(inputDim * this.units);
    this.buildSensory(inputDim);
  }

  /** Subclass hook: add the sensory synapses. Called once, right after the input size is fixed. */
  protected buildSensory(_inputDim: number): void {}

  getTypeOfNeuron(neuronId: number): NeuronType {
    this.checkNeuron(neuronId, "neuron id");
    return neuronId < this.outputDim ? "motor" : "inter";
  }

  private checkNeuron(id: number, what: string): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.units) {
      throw new Error(`${this.kind}: ${what} must be an integer in [0, ${this.units}), got ${describeValue(id)}`);
    }
  }

  addSynapse(src: number, dest: number, polarity: number): void {
    this.checkNeuron(src, "synapse source");
    this.checkNeuron(dest, "synapse destination");
    checkPolarity(polarity, `${this.kind}: synapse ${src} -> ${dest}`);
    this.adjacencyMatrix[src * this.units + dest] = polarity;
  }

  addSensorySynapse(src: number, dest: number, polarity: number): void {
    if (this.inputDim === null || this.sensoryAdjacencyMatrix === null) {
      throw new Error(`${this.kind}: cannot add sensory synapses before build(inputDim) has been called`);
    }
    if (!Number.isInteger(src) || src < 0 || src >= this.inputDim) {
      throw new Error(`${this.kind}: sensory synapse source must be an integer in [0, ${this.inputDim}), got ${describeValue(src)}`);
    }
    this.checkNeuron(dest, "sensory synapse destination");
    checkPolarity(polarity, `${this.kind}: sensory synapse ${src} -> ${dest}`);
    this.sensoryAdjacencyMatrix[src * this.units + dest] = polarity;
  }

  get synapseCount(): number {
    let n = 0;
    for (const v of this.adjacencyMatrix) n += Math.abs(v);
    return n;
  }

  /** 0 until the wiring is built. */
  get sensorySynapseCount(): number {
    let n = 0;
    if (this.sensoryAdjacencyMatrix) for (const v of this.sensoryAdjacencyMatrix) n += Math.abs(v);
    return n;
  }

  /** A copy of the adjacency matrix (LTC's reversal-potential initialiser). */
  erevInitializer(): Int32Array {
    return this.adjacencyMatrix.slice();
  }

  /** A copy of the sensory adjacency matrix; the wiring must be built. */
  sensoryErevInitializer(): Int32Array {
    if (!this.sensoryAdjacencyMatrix) throw new Error(`${this.kind}: sensory matrix requested before build(inputDim)`);
    return this.sensoryAdjacencyMatrix.slice();
  }

  /** The matrices as nested lists, ncps orientation ([src][dest]). */
  adjacencyRows(): number[][] {
    return toNested(this.adjacencyMatrix, this.units, this.units);
  }

  sensoryAdjacencyRows(): number[][] | null {
    return this.sensoryAdjacencyMatrix && this.inputDim !== null ? toNested(this.sensoryAdjacencyMatrix, this.inputDim, this.units) : null;
  }

  /**
   * Plain JSON describing this wiring. The base class stores the matrices (as ncps does);
   * subclasses return their constructor arguments instead, in ncps's snake_case names.
   */
  getConfig(): Record<string, unknown> {
    const config: WiringMatrixConfig = {
      units: this.units,
      adjacency_matrix: this.adjacencyRows(),
      sensory_adjacency_matrix: this.sensoryAdjacencyRows(),
      input_dim: this.inputDim,
      output_dim: this.outputDim,
    };
    if (this.numLayers > 1) config.layers = this.layers;
    return config as unknown as Record<string, unknown>;
  }

  /** Rebuilds a plain wiring from `getConfig()` of any wiring's matrices (ncps `Wiring.from_config`). */
  static fromConfig(config: Record<string, unknown>): Wiring {
    const c = config as Partial<WiringMatrixConfig>;
    const units = checkPositiveInt(c.units, "units", "Wiring.fromConfig");
    if (!Array.isArray(c.adjacency_matrix)) throw new Error(`Wiring.fromConfig: adjacency_matrix must be a nested array, got ${describeValue(c.adjacency_matrix)}`);
    const sensory = c.sensory_adjacency_matrix ?? null;
    if (sensory !== null && !Array.isArray(sensory)) {
      throw new Error(`Wiring.fromConfig: sensory_adjacency_matrix must be a nested array or null, got ${describeValue(sensory)}`);
    }
    const w = Wiring.fromMatrices({
      adjacency: c.adjacency_matrix,
      sensoryAdjacency: sensory,
      inputDim: c.input_dim ?? undefined,
      outputDim: c.output_dim ?? units,
      layers: c.layers,
    });
    if (w.units !== units) throw new Error(`Wiring.fromConfig: units is ${units} but adjacency_matrix has ${w.units} rows`);
    if (c.input_dim !== undefined && c.input_dim !== null && sensory === null) w.build(checkPositiveInt(c.input_dim, "input_dim", "Wiring.fromConfig"));
    return w;
  }

  /** A wiring from explicit matrices, e.g. one designed by hand or exported from elsewhere. */
  static fromMatrices(options: WiringFromMatricesOptions): Wiring {
    const owner = "Wiring.fromMatrices";
    if (!options || typeof options !== "object") throw new Error(`${owner}: options must be an object`);
    const adj = options.adjacency;
    if (!adj || typeof adj !== "object" || typeof adj.length !== "number") throw new Error(`${owner}: adjacency must be a matrix, got ${describeValue(adj)}`);
    const first = adj.length > 0 ? (adj as ArrayLike<unknown>)[0] : undefined;
    const isNested = first !== undefined && typeof first === "object" && first !== null;
    const units = isNested ? adj.length : Math.round(Math.sqrt(adj.length));
    if (units < 1 || (!isNested && units * units !== adj.length)) {
      throw new Error(`${owner}: adjacency must be square (units x units), got ${adj.length} values`);
    }
    const { data } = flattenMatrix(adj, units, units, `${owner}: adjacency`);
    const w = new Wiring(units, options.outputDim);
    w.adjacencyMatrix.set(data);
    if (options.layers !== undefined) w.customLayers = checkLayers(options.layers, units, owner);
    const sens = options.sensoryAdjacency;
    if (sens !== undefined && sens !== null) {
      if (options.inputDim !== undefined) checkPositiveInt(options.inputDim, "inputDim", owner);
      const { data: sdata, rows } = flattenMatrix(sens, options.inputDim, units, `${owner}: sensoryAdjacency`);
      if (rows < 1) throw new Error(`${owner}: sensoryAdjacency must have at least one row`);
      w.inputDim = rows;
      w.sensoryAdjacencyMatrix = sdata;
    } else if (options.inputDim !== undefined) {
      w.build(options.inputDim);
    }
    return w;
  }

  /** An SVG drawing of the wiring (see `wiringToSVG`). */
  toSVG(options?: WiringSvgOptions): string {
    return wiringToSVG(this, options);
  }
}
