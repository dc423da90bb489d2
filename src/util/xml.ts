/** Text for XML and SVG documents (wiring drawings, charts): the one escaping rule they share. */

const XML_ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** `s` safe inside XML text and attribute values (both quote styles). */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]);
}
