/**
 * Learning-rate schedules as pure functions: the rate depends only on the epoch (0-based; epoch 0 runs
 * at the base rate) and, for step-based warm-up, on the global optimizer step, never on history. A
 * resumed run therefore gets the same rates without saving any schedule state.
 */
export interface Schedule {
  /** Canonical text form, accepted back by parseSchedule. */
  readonly spec: string;
  /** True when the rate changes within an epoch, so the trainer must set it before every step. */
  readonly perStep: boolean;
  /**
   * Learning rate for `epoch` (0-based integer); `globalStep` (0-based count of optimizer steps taken
   * before this one) is needed only by schedules whose `perStep` is true.
   */
  lrAt(epoch: number, baseLr: number, globalStep?: number): number;
}

function checkEpoch(where: string, epoch: number, baseLr: number): void {
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`${where}: epoch must be a non-negative integer, got ${epoch}`);
  if (!Number.isFinite(baseLr) || baseLr < 0) throw new Error(`${where}: base learning rate must be a non-negative finite number, got ${baseLr}`);
}

function positive(where: string, name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${where}: ${name} must be a positive finite number, got ${value}`);
  return value;
}

function positiveInteger(where: string, name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${where}: ${name} must be a positive integer, got ${value}`);
  return value;
}

/** The base rate throughout. */
export function constant(): Schedule {
  return {
    spec: "constant",
    perStep: false,
    lrAt(epoch, baseLr) {
      checkEpoch("constant schedule", epoch, baseLr);
      return baseLr;
    },
  };
}

/** baseLr * gamma^epoch: the per-epoch decay (decay_lr) of the CfC paper's training scripts. */
export function exponential(gamma: number): Schedule {
  positive("exponential schedule", "gamma", gamma);
  return {
    spec: `exp:${gamma}`,
    perStep: false,
    lrAt(epoch, baseLr) {
      checkEpoch("exponential schedule", epoch, baseLr);
      return baseLr * Math.pow(gamma, epoch);
    },
  };
}

/** baseLr * gamma^floor(epoch / stepSize), as torch StepLR. */
export function step(stepSize: number, gamma: number): Schedule {
  positiveInteger("step schedule", "stepSize", stepSize);
  positive("step schedule", "gamma", gamma);
  return {
    spec: `step:${stepSize}:${gamma}`,
    perStep: false,
    lrAt(epoch, baseLr) {
      checkEpoch("step schedule", epoch, baseLr);
      return baseLr * Math.pow(gamma, Math.floor(epoch / stepSize));
    },
  };
}

/**
 * Cosine annealing from baseLr to etaMin over tMax epochs (torch CosineAnnealingLR's closed form).
 * Unlike that closed form, which rises again after tMax, the rate then stays at etaMin: a run longer
 * than tMax keeps the annealed rate instead of restarting without warning.
 */
export function cosine(tMax: number, etaMin = 0): Schedule {
  positiveInteger("cosine schedule", "tMax", tMax);
  if (!Number.isFinite(etaMin) || etaMin < 0) throw new Error(`cosine schedule: etaMin must be a non-negative finite number, got ${etaMin}`);
  return {
    spec: etaMin === 0 ? `cosine:${tMax}` : `cosine:${tMax}:${etaMin}`,
    perStep: false,
    lrAt(epoch, baseLr) {
      checkEpoch("cosine schedule", epoch, baseLr);
      const t = Math.min(epoch, tMax);
      return etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2;
    },
  };
}

export type WarmupUnit = "epochs" | "steps";

/**
 * Linear warm-up over the first `length` epochs (or optimizer steps): during warm-up unit k
 * (0-based, k < length) the inner schedule's rate is multiplied by (k + 1) / (length + 1), so the
 * rate climbs in equal increments and first reaches the inner rate right after warm-up. The inner
 * schedule keeps counting epochs from 0 underneath, so e.g. a cosine horizon set to the run length
 * still ends with the run.
 */
export function warmup(length: number, inner: Schedule = constant(), unit: WarmupUnit = "epochs"): Schedule {
  positiveInteger("warmup schedule", "length", length);
  if (unit !== "epochs" && unit !== "steps") throw new Error(`warmup schedule: unit must be "epochs" or "steps", got ${JSON.stringify(unit)}`);
  if (inner.spec.startsWith("warmup:")) throw new Error(`warmup schedule: the inner schedule cannot itself be a warm-up (got "${inner.spec}")`);
  return {
    spec: `warmup:${length}${unit === "steps" ? "steps" : ""},${inner.spec}`,
    perStep: unit === "steps" || inner.perStep,
    lrAt(epoch, baseLr, globalStep) {
      checkEpoch("warmup schedule", epoch, baseLr);
      const rate = inner.lrAt(epoch, baseLr, globalStep);
      let k = epoch;
      if (unit === "steps") {
        if (globalStep === undefined || !Number.isInteger(globalStep) || globalStep < 0) {
          throw new Error(`warmup schedule: step-based warm-up needs the global step as a non-negative integer, got ${globalStep}`);
        }
        k = globalStep;
      }
      return k < length ? (rate * (k + 1)) / (length + 1) : rate;
    },
  };
}

const SCHEDULE_HELP =
  'expected "constant", "exp:<gamma>", "step:<epochs>:<gamma>", "cosine:<tMax>[:<etaMin>]", optionally preceded by "warmup:<epochs>," or "warmup:<n>steps,"';

function parseNumber(text: string, what: string, spec: string): number {
  const trimmed = text.trim();
  const value = trimmed === "" ? NaN : Number(trimmed);
  if (!Number.isFinite(value)) throw new Error(`schedule "${spec}": ${what} must be a number, got "${text}"`);
  return value;
}

function parseSingle(part: string, spec: string): Schedule {
  const fields = part.trim().split(":");
  const name = fields[0].toLowerCase();
  const args = fields.slice(1);
  const arity = (n: number[], usage: string): void => {
    if (!n.includes(args.length)) throw new Error(`schedule "${spec}": "${part}" should look like "${usage}"`);
  };
  try {
    switch (name) {
      case "constant":
      case "none":
        arity([0], "constant");
        return constant();
      case "exp":
      case "exponential":
        arity([1], "exp:<gamma>");
        return exponential(parseNumber(args[0], "gamma", spec));
      case "step":
        arity([2], "step:<epochs>:<gamma>");
        return step(parseNumber(args[0], "step size", spec), parseNumber(args[1], "gamma", spec));
      case "cosine":
        arity([1, 2], "cosine:<tMax>[:<etaMin>]");
        return cosine(parseNumber(args[0], "tMax", spec), args.length > 1 ? parseNumber(args[1], "etaMin", spec) : 0);
      case "warmup":
        throw new Error(`schedule "${spec}": a warm-up must come first and only once, as in "warmup:3,exp:0.95"`);
      default:
        throw new Error(`schedule "${spec}": unknown schedule "${fields[0]}"; ${SCHEDULE_HELP}`);
    }
  } catch (e) {
    const message = (e as Error).message;
    throw new Error(message.startsWith("schedule ") ? message : `schedule "${spec}": ${message}`);
  }
}

/**
 * Parses the text form used on the command line: "constant", "exp:0.95", "step:10:0.5",
 * "cosine:50", "cosine:50:1e-5", "warmup:3,exp:0.95" (3 warm-up epochs), "warmup:500steps,cosine:50",
 * or a bare "warmup:3" (warm-up into a constant rate).
 */
export function parseSchedule(spec: string): Schedule {
  if (typeof spec !== "string" || spec.trim() === "") throw new Error(`schedule: empty specification; ${SCHEDULE_HELP}`);
  const parts = spec.split(",");
  if (parts.length > 2) throw new Error(`schedule "${spec}": at most one warm-up and one schedule may be combined; ${SCHEDULE_HELP}`);
  const head = parts[0].trim();
  if (head.toLowerCase().startsWith("warmup")) {
    const m = /^warmup:(\d+)(steps)?$/i.exec(head);
    if (!m) throw new Error(`schedule "${spec}": "${head}" should look like "warmup:<epochs>" or "warmup:<n>steps"`);
    const length = Number(m[1]);
    if (length <= 0) throw new Error(`schedule "${spec}": warm-up length must be a positive integer, got ${m[1]}`);
    const inner = parts.length === 2 ? parseSingle(parts[1], spec) : constant();
    return warmup(length, inner, m[2] ? "steps" : "epochs");
  }
  if (parts.length === 2) throw new Error(`schedule "${spec}": only a warm-up may precede another schedule; ${SCHEDULE_HELP}`);
  return parseSingle(head, spec);
}
