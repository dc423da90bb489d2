/** Well-formedness checks of generated XML (SVG figures) for the tests. */
import assert from "node:assert/strict";

/**
 * A strict-enough XML check: every tag closed in order, attributes quoted, no stray "<" or "&" in
 * text. Returns the element names in document order.
 */
export function checkXml(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const token = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < body.length) {
    token.lastIndex = at;
    m = token.exec(body);
    assert.ok(m, `malformed XML near: ${JSON.stringify(body.slice(at, at + 60))}`);
    at = token.lastIndex;
    if (m[5] !== undefined) {
      assert.doesNotMatch(m[5], /&(?!(amp|lt|gt|quot|apos);)/, `unescaped & in text ${JSON.stringify(m[5])}`);
      continue;
    }
    const [, closing, name, , selfClosing] = m;
    if (closing) assert.equal(stack.pop(), name, `closing </${name}> does not match`);
    else {
      names.push(name);
      if (!selfClosing) stack.push(name);
    }
  }
  assert.deepEqual(stack, [], "unclosed elements");
  return names;
}
