/**
 * Vector fields for the solver tests, written as plain loops over the heap (any engine), and the exact
 * solution of linear ODEs with a block-diagonal matrix, computed independently of any solver.
 */
import type { Engine } from "../../src/engine/engine.js";
import type { VectorField } from "../../src/models/ode-solver.js";

/** f(y; ctx) = A y (+ ctx when withContext): row r of the output is sum_j A[i, j] y[r, j] (+ ctx[r, i]). */
export class LinearField implements VectorField {
  readonly contextSize: number;
  readonly recordSize = 0;
  readonly scratchSize = 0;
  /** A (S x S, row-major) and its gradient */
  readonly a: number;
  readonly da: number;

  constructor(readonly engine: Engine, readonly stateSize: number, matrix: ArrayLike<number>, withContext = false) {
    this.contextSize = withContext ? stateSize : 0;
    this.a = engine.alloc(stateSize * stateSize);
    this.da = engine.alloc(stateSize * stateSize);
    engine.heap().set(matrix, this.a);
  }

  forward(rows: number, y: number, ldy: number, ctx: number, ldCtx: number, out: number, ldOut: number): void {
    const h = this.engine.heap();
    const S = this.stateSize;
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < S; i++) {
        let v = ctx >= 0 ? h[ctx + r * ldCtx + i] : 0;
        for (let j = 0; j < S; j++) v += h[this.a + i * S + j] * h[y + r * ldy + j];
        h[out + r * ldOut + i] = v;
      }
    }
  }

  backward(rows: number, y: number, ldy: number, _ctx: number, _ldCtx: number, _record: number, g: number, ldG: number, dy: number, ldDy: number, dCtx: number, ldDCtx: number): void {
    const h = this.engine.heap();
    const S = this.stateSize;
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < S; i++) {
        const gi = h[g + r * ldG + i];
        if (dCtx >= 0) h[dCtx + r * ldDCtx + i] += gi;
        for (let j = 0; j < S; j++) {
          h[dy + r * ldDy + j] += gi * h[this.a + i * S + j];
          h[this.da + i * S + j] += gi * h[y + r * ldy + j];
        }
      }
    }
  }
}

/** dy/dt = y elementwise while every y <= limit, NaN beyond (a field that breaks down at a finite time). */
export class BreakingField implements VectorField {
  readonly contextSize = 0;
  readonly recordSize = 0;
  readonly scratchSize = 0;
  constructor(readonly engine: Engine, readonly stateSize: number, readonly limit: number) {}
  forward(rows: number, y: number, ldy: number, _ctx: number, _ldCtx: number, out: number, ldOut: number): void {
    const h = this.engine.heap();
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < this.stateSize; j++) {
        const v = h[y + r * ldy + j];
        h[out + r * ldOut + j] = v <= this.limit ? v : Number.NaN;
      }
    }
  }
  backward(): void {
    throw new Error("BreakingField has no backward");
  }
}

/**
 * A block-diagonal matrix of 2x2 blocks [[-a, -b], [b, -a]] (damped rotations: eigenvalues -a +- ib)
 * and 1x1 blocks [-a] (decays), so that exp(A t) is known in closed form.
 */
export type Block = { a: number; b: number } | { a: number };

export function blockMatrix(blocks: Block[]): { size: number; matrix: Float64Array } {
  const size = blocks.reduce((n, blk) => n + ("b" in blk ? 2 : 1), 0);
  const m = new Float64Array(size * size);
  let k = 0;
  for (const blk of blocks) {
    if ("b" in blk) {
      m[k * size + k] = -blk.a;
      m[k * size + k + 1] = -blk.b;
      m[(k + 1) * size + k] = blk.b;
      m[(k + 1) * size + k + 1] = -blk.a;
      k += 2;
    } else {
      m[k * size + k] = -blk.a;
      k += 1;
    }
  }
  return { size, matrix: m };
}

/** exp(A t) y0 for the block matrix of `blocks`. */
export function blockSolution(blocks: Block[], y0: ArrayLike<number>, t: number): Float64Array {
  const out = new Float64Array(y0.length);
  let k = 0;
  for (const blk of blocks) {
    const decay = Math.exp(-blk.a * t);
    if ("b" in blk) {
      const c = Math.cos(blk.b * t);
      const s = Math.sin(blk.b * t);
      out[k] = decay * (c * y0[k] - s * y0[k + 1]);
      out[k + 1] = decay * (s * y0[k] + c * y0[k + 1]);
      k += 2;
    } else {
      out[k] = decay * y0[k];
      k += 1;
    }
  }
  return out;
}

/**
 * The symmetric 2x2 matrix Q diag(l1, l2) Q^T with Q the rotation by `angle`, and exp(A t) y0 for it
 * (eigen-decomposition), for stiff problems with eigenvalues of very different size.
 */
export function symmetric2(l1: number, l2: number, angle: number): { matrix: Float64Array; solve: (y0: ArrayLike<number>, t: number) => Float64Array } {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  // columns of Q are the eigenvectors (c, s) and (-s, c)
  const apply = (d1: number, d2: number, v: ArrayLike<number>) => {
    const p1 = c * v[0] + s * v[1];
    const p2 = -s * v[0] + c * v[1];
    return Float64Array.of(c * d1 * p1 - s * d2 * p2, s * d1 * p1 + c * d2 * p2);
  };
  const matrix = Float64Array.of(c * c * l1 + s * s * l2, c * s * (l1 - l2), c * s * (l1 - l2), s * s * l1 + c * c * l2);
  return { matrix, solve: (y0, t) => apply(Math.exp(l1 * t), Math.exp(l2 * t), y0) };
}
