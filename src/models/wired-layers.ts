/**
 * The layers of a wired CfC (ncps torch `WiredCfCCell.__init__`): one CfC cell per wiring layer (inter ->
 * command -> motor), each without backbone, fed by the previous layer's new state, with a 0/1 sparsity
 * mask on ff1 and ff2. The state is laid out in layer order [inter | command | motor]; the output is the
 * motor layer. Used by CfC with a wiring and by WiredCfCCell.
 */
import type { Wiring } from "../wirings/wiring.js";

export interface WiredLayer {
  neurons: number[];
  inputSize: number;
  /** [n_l, in_l + n_l] mask in torch weight layout: absolute (ncps torch) or signed (ncps keras) */
  mask: Float64Array;
}

/**
 * Masks of each layer: rows of the (sensory) adjacency feeding the layer restricted to its neurons, then
 * the within-layer block. ncps uses all ones for that block (its issue 53); `wiringRecurrence` takes the
 * wiring's own within-layer synapses instead. `signed` keeps the synapse polarities as ncps keras does
 * (its masks multiply the weights by +-1); ncps torch takes absolute values.
 */
export function wiredLayers(wiring: Wiring, inputSize: number, wiringRecurrence = false, signed = false): WiredLayer[] {
  const weight = signed ? (v: number) => v : Math.abs;
  wiring.build(inputSize);
  const U = wiring.units;
  const adj = wiring.adjacencyMatrix;
  const sens = wiring.sensoryAdjacencyMatrix!;
  const layers: WiredLayer[] = [];
  let prev: number[] | null = null;
  for (let l = 0; l < wiring.numLayers; l++) {
    const neurons = wiring.getNeuronsOfLayer(l);
    const n = neurons.length;
    const inSize = prev === null ? inputSize : prev.length;
    const cat = inSize + n;
    const mask = new Float64Array(n * cat);
    for (let j = 0; j < n; j++) {
      const dest = neurons[j];
      for (let i = 0; i < inSize; i++) {
        const v = prev === null ? sens[i * U + dest] : adj[prev[i] * U + dest];
        mask[j * cat + i] = weight(v);
      }
      for (let i = 0; i < n; i++) {
        mask[j * cat + inSize + i] = wiringRecurrence ? weight(adj[neurons[i] * U + dest]) : 1;
      }
    }
    layers.push({ neurons, inputSize: inSize, mask });
    prev = neurons;
  }
  return layers;
}
