/**
 * Model checkpoints: one safetensors file holding a model and, optionally, what is needed to resume
 * its training.
 *
 * Tensors: the model's state_dict under the ncps names (sparsity masks included), float32 by default,
 * in state_dict order. `__metadata__`: "format": "ncps-ts", "version": "1", "config": the compact JSON
 * of `model.toConfig()` ({model, constructor_args}, as tools/export_ncps.py writes it, so a file from
 * PyTorch loads the same way), plus JSON-encoded entries given as extras (normalization, feature_names,
 * target_names, task, target_mode, num_classes, ...).
 *
 * Training state (for resume): "training_state" (JSON: epoch, steps, optimizer settings and step counts,
 * generator states, early-stopping bookkeeping), the optimizer's buffers as tensors
 * "optimizer.<param name>.<buffer>" and, with early stopping, the best weights so far as "best.<name>".
 * A resumed run continues bit for bit when the weights are stored in the model's own dtype (the trainer
 * does that).
 *
 * This module works on bytes and runs anywhere (browsers too); checkpoint-file.ts reads and writes files.
 */
import { type SequenceDataset, type Task, type TargetMode } from "../data/dataset.js";
import { checkNormalization, type Normalization } from "../data/normalization.js";
import type { BackendKind, Engine } from "../engine/engine.js";
import { parseJsonBounded } from "../io/json-limits.js";
import {
  type DecodedSafetensors,
  type NamedSafetensorsInput,
  type SafetensorsTensor,
  checkTensorShapes,
  decodeSafetensors,
  encodeSafetensors,
  toFloatTensor,
} from "../io/safetensors.js";
import { MODEL_KINDS, buildModel, type ModelConfig } from "../models/build.js";
import { checkConfigLimits, minimumParameterCount } from "../models/config-limits.js";
import type { RecurrentModel } from "../models/recurrent.js";
import type { DType, FloatArray, Tensor } from "../tensor.js";
import type { HyperValue, OptimizerKind } from "./optimizers.js";
import { PROBE_PREFIX, describeProbe, runProbe } from "./probe.js";

export const CHECKPOINT_FORMAT = "ncps-ts";
export const CHECKPOINT_VERSION = "1";
const OPTIMIZER_PREFIX = "optimizer.";
const BEST_PREFIX = "best.";
/** The most buffers an optimizer keeps per parameter (RMSprop centered with momentum: 3). */
const MAX_OPTIMIZER_BUFFERS = 3;
/** The model kinds buildModel knows. */
const RESERVED_METADATA = new Set(["format", "version", "config", "training_state"]);

/** JSON metadata stored beside the model (keys as stored). Any other JSON-able entry may be added. */
export interface CheckpointExtras {
  normalization?: Normalization;
  feature_names?: string[];
  target_names?: string[];
  task?: Task;
  target_mode?: TargetMode;
  num_classes?: number;
  [key: string]: unknown;
}

/** The JSON part of a training checkpoint (optimizer buffers and best weights are tensors). */
export interface TrainingState {
  /** completed epochs */
  epoch: number;
  /** optimizer steps taken */
  globalStep: number;
  seed: number;
  /** the model's generator (dropout) and the batch shuffler; null stands for NaN */
  modelRng: Array<number | null>;
  shuffleRng: Array<number | null>;
  optimizer: { kind: OptimizerKind; step: number; lr: number; hyper: Record<string, HyperValue>; paramSteps: Record<string, number> };
  /** learning rate of the last epoch */
  lr: number;
  /** early stopping: the best validation value so far, and epochs since it improved */
  best: { metric: string; value: number; epoch: number } | null;
  badEpochs: number;
  /** true when written after the run ended (the weights may then be the restored best ones) */
  completed?: boolean;
}

export interface TrainingCheckpoint {
  state: TrainingState;
  /** buffers keyed "<param>/<buffer>" (as OptimizerState) */
  optimizerBuffers: Record<string, FloatArray>;
  /** early stopping's best weights (full state dict) */
  bestWeights: Map<string, Tensor> | null;
}

export interface SaveCheckpointOptions {
  training?: TrainingCheckpoint;
  /** dtype of the model tensors on disk (default float32, as tools/export_ncps.py) */
  dtype?: DType;
  /** a deployment file: the weights, config and extras alone (any `training` is left out) */
  weightsOnly?: boolean;
}

export interface DecodedCheckpoint {
  file: string;
  config: ModelConfig;
  /** the model's tensors (training tensors excluded) */
  tensors: Map<string, SafetensorsTensor>;
  extras: CheckpointExtras;
  training: TrainingCheckpoint | null;
  /** every metadata entry as stored */
  metadata: Record<string, string>;
  /** raw optimizer / best tensors, checked against a model by applyCheckpoint */
  trainingTensors: Map<string, SafetensorsTensor>;
  /** "probe.*" tensors: an example input and the output the exporting framework gave for it (probe.ts) */
  probeTensors: Map<string, SafetensorsTensor>;
}

/** Extras describing a dataset (task, target mode, classes, names), for a checkpoint trained on it. */
export function datasetExtras(ds: SequenceDataset): CheckpointExtras {
  const extras: CheckpointExtras = { task: ds.task, target_mode: ds.targetMode };
  if (ds.task === "classify") extras.num_classes = ds.numClasses;
  if (ds.featureNames) extras.feature_names = [...ds.featureNames];
  if (ds.targetNames) extras.target_names = [...ds.targetNames];
  return extras;
}

export { rngToJson, rngFromJson } from "./run-state.js";

function castFloats(data: FloatArray, dtype: DType): FloatArray {
  if (dtype === "float64") return data instanceof Float64Array ? data : Float64Array.from(data);
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/** Encodes a checkpoint in memory (see the module comment). */
export function encodeCheckpoint(model: RecurrentModel, extras: CheckpointExtras = {}, options: SaveCheckpointOptions = {}): Uint8Array {
  const dtype = options.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "float64") throw new Error(`saveCheckpoint: dtype must be "float32" or "float64", got ${JSON.stringify(dtype)}`);
  const metadata: Record<string, string> = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, config: JSON.stringify(model.toConfig()) };
  for (const [key, value] of Object.entries(extras)) {
    if (value === undefined) continue;
    if (RESERVED_METADATA.has(key)) throw new Error(`saveCheckpoint: extras key "${key}" is reserved for the checkpoint itself`);
    const text = JSON.stringify(value);
    if (text === undefined) throw new Error(`saveCheckpoint: extras["${key}"] cannot be stored as JSON`);
    metadata[key] = text;
  }
  const stateDict = model.stateDict();
  const tensors: NamedSafetensorsInput[] = [];
  for (const [name, t] of stateDict) tensors.push({ name, shape: t.shape, data: castFloats(t.data, dtype) });
  const training = options.weightsOnly ? undefined : options.training;
  if (training) {
    metadata.training_state = JSON.stringify(training.state);
    for (const [key, data] of Object.entries(training.optimizerBuffers)) {
      const cut = key.lastIndexOf("/");
      if (cut <= 0) throw new Error(`saveCheckpoint: optimizer buffer key "${key}" is not "<param>/<buffer>"`);
      const param = key.slice(0, cut);
      const paramShape = stateDict.get(param)?.shape;
      // the parameter's shape when the buffer fits it (a mismatch is reported when loading, by name)
      const shape = paramShape && paramShape.reduce((a, b) => a * b, 1) === data.length ? paramShape : [data.length];
      tensors.push({ name: `${OPTIMIZER_PREFIX}${param}.${key.slice(cut + 1)}`, shape, data });
    }
    if (training.bestWeights) {
      for (const [name, t] of training.bestWeights) tensors.push({ name: `${BEST_PREFIX}${name}`, shape: t.shape, data: castFloats(t.data, dtype) });
    }
  }
  return encodeSafetensors(tensors, metadata);
}

// ---------------------------------------------------------------------------------------------
// Reading

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function parseJson(file: string, key: string, text: string): unknown {
  try {
    return parseJsonBounded(text, `${file}: metadata entry "${key}"`);
  } catch (e) {
    if ((e as Error).message.startsWith(file)) throw e;
    throw new Error(`${file}: metadata entry "${key}" is not valid JSON (${(e as Error).message})`);
  }
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/** Light type checks of the extras this library itself reads back. */
function checkExtra(file: string, key: string, value: unknown): void {
  const bad = (expected: string): never => {
    throw new Error(`${file}: metadata entry "${key}" must be ${expected}, got ${JSON.stringify(value)}`);
  };
  switch (key) {
    case "normalization":
      checkNormalization(value, `${file}: metadata entry "normalization"`);
      break;
    case "feature_names":
    case "target_names":
      if (!isStringArray(value)) bad("an array of strings");
      break;
    case "task":
      if (value !== "regress" && value !== "classify") bad('"regress" or "classify"');
      break;
    case "target_mode":
      if (value !== "per_step" && value !== "last") bad('"per_step" or "last"');
      break;
    case "num_classes":
      if (!Number.isInteger(value) || (value as number) < 2) bad("an integer >= 2");
      break;
  }
}

function floatData(file: string, name: string, t: SafetensorsTensor): FloatArray {
  if (t.data instanceof Float32Array || t.data instanceof Float64Array) return t.data;
  throw new Error(`${file}: tensor "${name}" must be F32 or F64 (training state), got ${t.dtype}`);
}

function checkTrainingState(file: string, s: unknown): TrainingState {
  const bad = (what: string): never => {
    throw new Error(`${file}: metadata entry "training_state": ${what}`);
  };
  if (!isObject(s)) return bad(`expected an object, got ${JSON.stringify(s)}`);
  const nonNegInt = (k: string): void => {
    if (!Number.isInteger(s[k]) || (s[k] as number) < 0) bad(`"${k}" must be a non-negative integer, got ${JSON.stringify(s[k])}`);
  };
  nonNegInt("epoch");
  nonNegInt("globalStep");
  nonNegInt("badEpochs");
  if (typeof s.seed !== "number") bad(`"seed" must be a number, got ${JSON.stringify(s.seed)}`);
  if (typeof s.lr !== "number") bad(`"lr" must be a number, got ${JSON.stringify(s.lr)}`);
  for (const k of ["modelRng", "shuffleRng"]) {
    const r = s[k];
    if (!Array.isArray(r) || r.length !== 5 || !r.every((v) => v === null || typeof v === "number")) bad(`"${k}" must be a generator state of 5 numbers, got ${JSON.stringify(r)}`);
  }
  const o = s.optimizer;
  if (!isObject(o) || typeof o.kind !== "string" || !Number.isInteger(o.step) || typeof o.lr !== "number" || !isObject(o.hyper) || !isObject(o.paramSteps)) {
    bad(`"optimizer" must be {kind, step, lr, hyper, paramSteps}, got ${JSON.stringify(o)}`);
  }
  const best = s.best;
  if (best !== null && best !== undefined) {
    if (!isObject(best) || typeof best.metric !== "string" || typeof best.value !== "number" || !Number.isInteger(best.epoch)) {
      bad(`"best" must be null or {metric, value, epoch}, got ${JSON.stringify(best)}`);
    }
  }
  return { ...(s as unknown as TrainingState), best: (best ?? null) as TrainingState["best"] };
}

/**
 * Checks the config against sane bounds and against the file's own tensors before any model is built:
 * a config from a file is untrusted, and building what it describes may cost far more than reading it.
 */
function checkConfigFitsTensors(file: string, config: ModelConfig, tensors: ReadonlyMap<string, SafetensorsTensor>): void {
  try {
    checkConfigLimits(config);
  } catch (e) {
    throw new Error(`${file}: metadata entry "config": ${(e as Error).message}`);
  }
  let stored = 0;
  for (const t of tensors.values()) stored += t.data.length;
  const needed = minimumParameterCount(config);
  if (stored < needed) {
    throw new Error(`${file}: metadata entry "config" describes a ${config.model} with at least ${needed} weights, but the file's model tensors hold ${stored} values`);
  }
}

/**
 * Bounds the training tensors by the model's own: each optimizer buffer and best weight belongs to a
 * model tensor of the file and has its size, and no parameter has more buffers than an optimizer
 * keeps. So a file cannot make a resumed run hold more than a few times the model's size.
 */
function checkTrainingTensorsFit(file: string, training: ReadonlyMap<string, SafetensorsTensor>, model: ReadonlyMap<string, SafetensorsTensor>): void {
  const buffersPerParam = new Map<string, number>();
  for (const [name, t] of training) {
    const best = name.startsWith(BEST_PREFIX);
    const rest = name.slice(best ? BEST_PREFIX.length : OPTIMIZER_PREFIX.length);
    const param = best ? rest : rest.slice(0, Math.max(0, rest.lastIndexOf(".")));
    const own = model.get(param);
    if (!own) {
      const what = best ? "a best weight" : "an optimizer buffer";
      throw new Error(`${file}: tensor "${name}" is ${what} of "${param}", which is not a model tensor of the file`);
    }
    if (t.data.length !== own.data.length) throw new Error(`${file}: tensor "${name}" has ${t.data.length} values, model tensor "${param}" has ${own.data.length}`);
    if (best) continue;
    const count = (buffersPerParam.get(param) ?? 0) + 1;
    if (count > MAX_OPTIMIZER_BUFFERS) throw new Error(`${file}: tensor "${name}" is optimizer buffer number ${count} of "${param}" (an optimizer keeps at most ${MAX_OPTIMIZER_BUFFERS} per parameter)`);
    buffersPerParam.set(param, count);
  }
}

/**
 * Validates a decoded safetensors file as a checkpoint (format, version, config, extras, training
 * state), without building the model. Errors name the file and the entry or tensor at fault.
 */
export function checkpointFromSafetensors(decoded: DecodedSafetensors, file: string): DecodedCheckpoint {
  const meta = decoded.metadata;
  if (meta.format === undefined) throw new Error(`${file}: not an ncps-ts checkpoint: the safetensors metadata has no "format" entry (expected "${CHECKPOINT_FORMAT}")`);
  if (meta.format !== CHECKPOINT_FORMAT) throw new Error(`${file}: metadata "format" is "${meta.format}", expected "${CHECKPOINT_FORMAT}"`);
  if (meta.version !== CHECKPOINT_VERSION) {
    throw new Error(`${file}: checkpoint version ${JSON.stringify(meta.version ?? null)} is not supported (this library reads version "${CHECKPOINT_VERSION}")`);
  }
  if (meta.config === undefined) throw new Error(`${file}: metadata has no "config" entry (the model description {model, constructor_args})`);
  const config = parseJson(file, "config", meta.config);
  if (!isObject(config) || typeof config.model !== "string" || !isObject(config.constructor_args)) {
    throw new Error(`${file}: metadata "config" must be {"model": ..., "constructor_args": {...}}, got ${meta.config}`);
  }
  if (!(MODEL_KINDS as readonly string[]).includes(config.model)) throw new Error(`${file}: unknown model kind "${config.model}" in the config (expected one of ${MODEL_KINDS.join(", ")})`);

  const extras: CheckpointExtras = {};
  for (const [key, text] of Object.entries(meta)) {
    if (RESERVED_METADATA.has(key)) continue;
    let value: unknown;
    try {
      value = parseJsonBounded(text, `${file}: metadata entry "${key}"`);
    } catch (e) {
      if ((e as Error).message.startsWith(`${file}: metadata entry`)) throw e;
      // Entries this library defines must be JSON; someone else's plain-text entry is kept as it is.
      if (["normalization", "feature_names", "target_names", "task", "target_mode", "num_classes"].includes(key)) {
        throw new Error(`${file}: metadata entry "${key}" is not valid JSON (${(e as Error).message})`);
      }
      value = text;
    }
    checkExtra(file, key, value);
    extras[key] = value;
  }

  const tensors = new Map<string, SafetensorsTensor>();
  const trainingTensors = new Map<string, SafetensorsTensor>();
  const probeTensors = new Map<string, SafetensorsTensor>();
  for (const [name, t] of decoded.tensors) {
    if (name.startsWith(PROBE_PREFIX)) probeTensors.set(name, t);
    else if (name.startsWith(OPTIMIZER_PREFIX) || name.startsWith(BEST_PREFIX)) trainingTensors.set(name, t);
    else tensors.set(name, t);
  }

  checkConfigFitsTensors(file, config as unknown as ModelConfig, tensors);
  checkTrainingTensorsFit(file, trainingTensors, tensors);

  let training: TrainingCheckpoint | null = null;
  if (meta.training_state !== undefined) {
    const state = checkTrainingState(file, parseJson(file, "training_state", meta.training_state));
    const optimizerBuffers: Record<string, FloatArray> = {};
    let bestWeights: Map<string, Tensor> | null = null;
    for (const [name, t] of trainingTensors) {
      if (name.startsWith(OPTIMIZER_PREFIX)) {
        const rest = name.slice(OPTIMIZER_PREFIX.length);
        const cut = rest.lastIndexOf(".");
        if (cut <= 0) throw new Error(`${file}: tensor "${name}" should be named "optimizer.<param>.<buffer>"`);
        optimizerBuffers[`${rest.slice(0, cut)}/${rest.slice(cut + 1)}`] = floatData(file, name, t);
      } else {
        bestWeights ??= new Map();
        bestWeights.set(name.slice(BEST_PREFIX.length), { shape: [...t.shape], data: floatData(file, name, t) });
      }
    }
    training = { state, optimizerBuffers, bestWeights };
  } else if (trainingTensors.size > 0) {
    throw new Error(`${file}: training tensors (${[...trainingTensors.keys()].slice(0, 3).join(", ")}, ...) without a "training_state" metadata entry`);
  }
  return { file, config: config as unknown as ModelConfig, tensors, extras, training, metadata: { ...meta }, trainingTensors, probeTensors };
}

/** Validates a checkpoint held in memory; `file` labels error messages. */
export function decodeCheckpoint(bytes: Uint8Array, file = "<buffer>"): DecodedCheckpoint {
  return checkpointFromSafetensors(decodeSafetensors(bytes, file), file);
}

/** Expected tensors of a model: every state_dict entry with its shape. */
function expectedTensors(model: RecurrentModel): Array<{ name: string; shape: readonly number[] }> {
  return [...model.stateDict()].map(([name, t]) => ({ name, shape: t.shape }));
}

/**
 * Loads a checkpoint's weights into `model` after checking every name and shape, and checks its
 * training tensors (optimizer buffers, best weights) against the model's parameters. Returns the best
 * weights in the model's dtype when the file has them.
 */
export function applyCheckpoint(model: RecurrentModel, ckpt: DecodedCheckpoint): Map<string, Tensor> | null {
  const file = ckpt.file;
  const expected = expectedTensors(model);
  checkTensorShapes(ckpt.tensors, expected, file);
  const weights = new Map<string, Tensor>();
  for (const [name, t] of ckpt.tensors) weights.set(name, toFloatTensor(t, model.dtype, `${file}: tensor "${name}"`));
  model.loadStateDict(weights, file);
  if (!ckpt.training) return null;
  const params = new Map(model.parameters().map((p) => [p.name, p.value.length]));
  for (const [key, data] of Object.entries(ckpt.training.optimizerBuffers)) {
    const param = key.slice(0, key.lastIndexOf("/"));
    const name = `${OPTIMIZER_PREFIX}${param}.${key.slice(key.lastIndexOf("/") + 1)}`;
    const size = params.get(param);
    if (size === undefined) throw new Error(`${file}: tensor "${name}" is an optimizer buffer of "${param}", which is not a trainable parameter of the model`);
    if (data.length !== size) throw new Error(`${file}: tensor "${name}" has ${data.length} values, parameter "${param}" has ${size}`);
  }
  const best = ckpt.training.bestWeights;
  if (!best) return null;
  checkTensorShapes(best, expected, `${file} (best weights, tensors "${BEST_PREFIX}*")`);
  const converted = new Map<string, Tensor>();
  for (const [name, t] of best) converted.set(name, { shape: t.shape, data: castFloats(t.data, model.dtype) });
  return converted;
}

export interface LoadCheckpointOptions {
  /** "wasm" (float32, default) or "reference" (float64) */
  backend?: BackendKind;
  engine?: Engine;
  /** run the stored probe (see probe.ts) and throw, naming the largest error, when it is off by more than 1e-5 */
  verify?: boolean;
}

export interface LoadedCheckpoint {
  model: RecurrentModel;
  extras: CheckpointExtras;
  config: ModelConfig;
  training: TrainingCheckpoint | null;
  metadata: Record<string, string>;
}

/**
 * Builds the model a validated checkpoint describes and loads its weights (checkpoint bytes from a
 * file, a download or a page: see decodeCheckpoint).
 */
export function modelFromCheckpoint(ckpt: DecodedCheckpoint, options: LoadCheckpointOptions = {}): LoadedCheckpoint {
  let model: RecurrentModel;
  try {
    model = buildModel(ckpt.config, { backend: options.backend, engine: options.engine });
  } catch (e) {
    throw new Error(`${ckpt.file}: cannot build the model described by its config: ${(e as Error).message}`);
  }
  applyCheckpoint(model, ckpt);
  if (options.verify) {
    const result = runProbe(model, ckpt);
    if (!result.passed) throw new Error(`${ckpt.file}: ${describeProbe(result)}`);
  }
  return { model, extras: ckpt.extras, config: ckpt.config, training: ckpt.training, metadata: ckpt.metadata };
}

/** Key-order-independent JSON, to compare model configs. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Throws unless the checkpoint describes the same model as `model.toConfig()`. */
export function checkSameModel(model: RecurrentModel, ckpt: DecodedCheckpoint): void {
  const mine = canonicalJson(model.toConfig());
  const theirs = canonicalJson(ckpt.config);
  if (mine !== theirs) throw new Error(`${ckpt.file}: the checkpoint is for a different model: ${theirs}, the model being trained is ${mine}`);
}
