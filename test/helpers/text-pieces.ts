/** `text` cut at the given positions (modulo its length), as a file read in pieces hands it over. */
export function cut(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const a of at) {
    pieces.push(text.slice(from, a));
    from = a;
  }
  pieces.push(text.slice(from));
  return pieces;
}
