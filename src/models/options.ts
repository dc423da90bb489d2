/** Option checks shared by the model constructors. */

/**
 * Throws when `options` has a name outside `valid` (a misspelt or snake_case option would otherwise be
 * ignored silently): `CfC: unknown option 'backbone_units' (valid: mode, activation, ...)`. `internal`
 * names are accepted but not listed (options one model passes to another, such as cellPrefix). Models
 * list their names as `Object.keys({...} satisfies Record<keyof Options, true>)`, so the compiler checks
 * the list is complete and has nothing extra.
 */
export function rejectUnknownOptions(owner: string, options: object, valid: readonly string[], internal: readonly string[] = []): void {
  if (options === null || typeof options !== "object") throw new Error(`${owner}: options must be an object, got ${String(options)}`);
  for (const name of Object.keys(options)) {
    if (!valid.includes(name) && !internal.includes(name)) {
      throw new Error(`${owner}: unknown option '${name}' (valid: ${valid.join(", ")})`);
    }
  }
}
