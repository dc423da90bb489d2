/** Neural circuit policy wirings: which neuron feeds which (a port of `ncps.wirings`). */
export { Wiring, type NeuronType, type WiringFromMatricesOptions, type WiringMatrixConfig } from "./wiring.js";
export { FullyConnected, type FullyConnectedOptions } from "./fully-connected.js";
export { Random, type RandomOptions } from "./random.js";
export { NCP, type NcpSizes } from "./ncp.js";
export { AutoNCP, autoNcpSizes, type AutoNcpOptions } from "./auto-ncp.js";
export { wiringFromSpec, wiringToSpec, type WiringSpec, type WiringKind } from "./spec.js";
export { wiringToSVG, type WiringSvgOptions } from "./svg.js";
export { RandomState } from "./mt19937.js";
export { defaultRng, Generator, PCG64, SeedSequence } from "./pcg64.js";
