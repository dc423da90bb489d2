/**
 * JSON from untrusted files, parsed with a bound on nesting depth. JSON.parse recurses once per level,
 * so a header of a few hundred kilobytes of "[[[[..." overflows the stack with "Maximum call stack size
 * exceeded", an error that names neither the file nor the entry. The depth is measured first, in one
 * linear scan that skips string contents, and a deeper text is refused with a message naming `where`.
 */

/** Deepest nesting accepted: far beyond any config or metadata this library writes (about 6). */
export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of arrays and objects in `text`, ignoring brackets inside strings; stops early past `limit`. */
export function jsonNestingDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // skip the string, honouring backslash escapes
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/**
 * JSON.parse, but a text nested deeper than `maxDepth` is an Error "`where`: nested deeper than ...".
 * Syntax errors propagate from JSON.parse unchanged (callers add their own context).
 */
export function parseJsonBounded(text: string, where: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonNestingDepth(text, maxDepth) > maxDepth) throw new Error(`${where}: JSON nested deeper than ${maxDepth} levels (refused: not a file this library writes)`);
  return JSON.parse(text);
}
