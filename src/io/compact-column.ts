/**
 * One CSV column held compactly while a file streams in: a cell written as a plain decimal that
 * `Number` reads and `toFixed` writes back to the same text ("12", "-0.500", "3.25") is kept as its
 * number and its count of decimals (9 bytes); any other cell keeps its text, interned while a column
 * has few distinct texts (categories, missing tokens) and otherwise copied into one character buffer.
 * `cell(r)` gives back exactly the text of the file, so every decision made on the text (missing
 * tokens, numbers, categories, exact times) and every message quoting it stays as it was, while a
 * numeric column costs memory per number rather than per character.
 */

/** `kind` of a cell kept as text; other kinds are the number of decimals `toFixed` writes. */
const TEXT = 255;
const MAX_DECIMALS = 100;
/** Distinct texts interned per column; further ones go to the character buffer. */
const MAX_INTERNED = 4096;
const ZERO = 48;
const NINE = 57;
const MINUS = 45;
const DOT = 46;

export class CompactColumn {
  private kinds = new Uint8Array(1024);
  /** the number, or for a text cell its id (interned index, or MAX_INTERNED + buffer index) */
  private values = new Float64Array(1024);
  private size = 0;
  private readonly interned: string[] = [];
  private readonly internIndex = new Map<string, number>();
  private chars = new Uint16Array(0);
  private charCount = 0;
  /** start of each buffered text in `chars`, then the end of the last */
  private starts = new Float64Array(16);
  private buffered = 0;

  get length(): number {
    return this.size;
  }

  push(cell: string): void {
    if (this.size === this.kinds.length) this.grow();
    const r = this.size++;
    const decimals = plainDecimals(cell);
    if (decimals >= 0) {
      const v = Number(cell);
      if (v.toFixed(decimals) === cell && !(v === 0 && cell.charCodeAt(0) === MINUS)) {
        this.kinds[r] = decimals;
        this.values[r] = v;
        return;
      }
    }
    this.kinds[r] = TEXT;
    this.values[r] = this.textId(cell);
  }

  /** The cell's text, exactly as in the file. */
  cell(r: number): string {
    const kind = this.kinds[r];
    if (kind !== TEXT) return this.values[r].toFixed(kind);
    const id = this.values[r];
    if (id < MAX_INTERNED) return this.interned[id];
    const b = id - MAX_INTERNED;
    return charsText(this.chars, this.starts[b], this.starts[b + 1]);
  }

  /** The cell's number when it is written as a plain decimal (what `Number` reads of its text), else undefined. */
  number(r: number): number | undefined {
    return this.kinds[r] === TEXT ? undefined : this.values[r];
  }

  private grow(): void {
    const kinds = new Uint8Array(this.kinds.length * 2);
    kinds.set(this.kinds);
    this.kinds = kinds;
    const values = new Float64Array(this.values.length * 2);
    values.set(this.values);
    this.values = values;
  }

  private textId(cell: string): number {
    const known = this.internIndex.get(cell);
    if (known !== undefined) return known;
    if (this.interned.length < MAX_INTERNED) {
      // a fresh copy, so that the key does not keep the whole piece of the file it was cut from alive
      const copy = (" " + cell).slice(1);
      this.internIndex.set(copy, this.interned.length);
      this.interned.push(copy);
      return this.interned.length - 1;
    }
    return MAX_INTERNED + this.buffer(cell);
  }

  private buffer(cell: string): number {
    if (this.charCount + cell.length > this.chars.length) {
      const chars = new Uint16Array(Math.max(1024, 2 * (this.charCount + cell.length)));
      chars.set(this.chars.subarray(0, this.charCount));
      this.chars = chars;
    }
    if (this.buffered + 2 > this.starts.length) {
      const starts = new Float64Array(this.starts.length * 2);
      starts.set(this.starts);
      this.starts = starts;
    }
    const b = this.buffered++;
    this.starts[b] = this.charCount;
    for (let i = 0; i < cell.length; i++) this.chars[this.charCount++] = cell.charCodeAt(i);
    this.starts[b + 1] = this.charCount;
    return b;
  }
}

/** Decimals of a cell of the form -?digits[.digits] (no spaces, sign +, exponent), or -1. */
function plainDecimals(cell: string): number {
  const n = cell.length;
  if (n === 0 || n > 40) return -1;
  let i = cell.charCodeAt(0) === MINUS ? 1 : 0;
  const digitsFrom = i;
  while (i < n) {
    const c = cell.charCodeAt(i);
    if (c < ZERO || c > NINE) break;
    i++;
  }
  if (i === digitsFrom) return -1;
  if (i === n) return 0;
  if (cell.charCodeAt(i) !== DOT) return -1;
  const fractionFrom = ++i;
  while (i < n) {
    const c = cell.charCodeAt(i);
    if (c < ZERO || c > NINE) return -1;
    i++;
  }
  const decimals = n - fractionFrom;
  return decimals === 0 || decimals > MAX_DECIMALS ? -1 : decimals;
}

function charsText(chars: Uint16Array, from: number, to: number): string {
  let text = "";
  for (let at = from; at < to; at += 4096) text += String.fromCharCode(...chars.subarray(at, Math.min(to, at + 4096)));
  return text;
}
