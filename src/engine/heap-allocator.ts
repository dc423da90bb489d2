/**
 * Who owns which elements of an engine's heap. Both engines hand memory out with this: a bump pointer
 * (`top`) for new memory and a list of freed blocks that later allocations reuse first, so models that
 * share an engine can each give their memory back in any order (a bump pointer alone could only take
 * back what lay on top). Freed blocks next to each other merge, and a freed block that ends at the top
 * lowers the top, so the heap shrinks back to what is in use.
 *
 * Sizes are rounded up to whole groups of 4 elements, which keeps every block aligned for SIMD. The
 * allocator only does the bookkeeping: the engine grows its memory to `end` and zero-fills the block.
 */

/** Elements per alignment group. */
const ALIGN = 4;

export class HeapAllocator {
  /** one past the last element handed out (or freed on top) */
  private end: number;
  /** freed blocks below `end`, by offset, never adjacent (merged) */
  private readonly freed: Array<{ offset: number; size: number }> = [];
  /** while set, every allocation appends its offset and size (see Engine.recordAllocations) */
  private record: number[] | null = null;

  constructor(readonly base: number) {
    this.end = base;
  }

  static size(n: number): number {
    return Math.ceil(n / ALIGN) * ALIGN;
  }

  /**
   * Reserves `n` elements: the first freed block that holds them, else new memory at the top, for which
   * `grow(end)` is called first (it must make elements [0, end) addressable or throw).
   */
  alloc(n: number, grow: (end: number) => void): number {
    const size = HeapAllocator.size(n);
    let offset = -1;
    if (size > 0) {
      for (let i = 0; i < this.freed.length; i++) {
        const block = this.freed[i];
        if (block.size < size) continue;
        offset = block.offset;
        if (block.size === size) this.freed.splice(i, 1);
        else this.freed[i] = { offset: block.offset + size, size: block.size - size };
        break;
      }
    }
    if (offset < 0) {
      offset = this.end;
      grow(offset + size);
      this.end = offset + size;
    }
    this.record?.push(offset, n);
    return offset;
  }

  /** Gives back the `n` elements at `offset` (an earlier `alloc(n)`); throws on memory not handed out. */
  free(offset: number, n: number): void {
    const size = HeapAllocator.size(n);
    if (!Number.isInteger(offset) || !Number.isInteger(n) || n < 0 || offset < this.base || offset % ALIGN !== (this.base % ALIGN) || offset + size > this.end) {
      throw new Error(`free: ${n} elements at ${offset} were not allocated (the heap holds ${this.base}..${this.end})`);
    }
    if (size === 0) return;
    let i = 0;
    while (i < this.freed.length && this.freed[i].offset < offset) i++;
    const before = i > 0 ? this.freed[i - 1] : undefined;
    const after = this.freed[i];
    if ((before && before.offset + before.size > offset) || (after && offset + size > after.offset)) {
      throw new Error(`free: ${n} elements at ${offset} overlap memory that is already free`);
    }
    let block = { offset, size };
    if (before && before.offset + before.size === offset) {
      block = { offset: before.offset, size: before.size + size };
      this.freed.splice(--i, 1);
    }
    if (after && block.offset + block.size === after.offset) {
      block = { offset: block.offset, size: block.size + after.size };
      this.freed.splice(i, 1);
    }
    if (block.offset + block.size === this.end) this.end = block.offset;
    else this.freed.splice(i, 0, block);
  }

  /** The current top, for `release`. */
  mark(): number {
    return this.end;
  }

  /** Frees everything at or above `mark` (a value of `mark()`), whoever allocated it. */
  release(mark: number): void {
    if (!Number.isInteger(mark) || mark < this.base || mark > this.end) throw new Error(`release: bad mark ${mark} (allocated ${this.base}..${this.end})`);
    this.end = mark;
    while (this.freed.length > 0) {
      const last = this.freed[this.freed.length - 1];
      if (last.offset >= mark) this.freed.pop();
      else if (last.offset + last.size > mark) this.freed[this.freed.length - 1] = { offset: last.offset, size: mark - last.offset };
      else break;
    }
    // a free block that now ends at the top lowers it
    const last = this.freed[this.freed.length - 1];
    if (last && last.offset + last.size === this.end) {
      this.end = last.offset;
      this.freed.pop();
    }
  }

  /** Elements in use (handed out and not freed). */
  inUse(): number {
    return this.end - this.base - this.freed.reduce((s, b) => s + b.size, 0);
  }

  /** Starts (with an array) or stops (null) appending each allocation's offset and size to `into`. */
  recordAllocations(into: number[] | null): void {
    this.record = into;
  }
}
