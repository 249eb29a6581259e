/**
 * Limits on JSON decoded from clients (shared/security.md section 8): nesting is bounded before
 * JSON.parse runs (recursive code such as JSON.stringify would otherwise overflow the stack on a
 * deep value, and a deep value costs a lot of memory per byte), and strings that are not valid
 * UTF-16 (lone surrogates) or `__proto__` keys are refused with the field named.
 * No imports: the CLI loads this through frames.ts.
 */

/** Deepest nesting of arrays and objects accepted in one decoded value (a frame counts as 1). */
export const MAX_JSON_DEPTH = 128

/**
 * True when `text` nests arrays/objects deeper than `max`. One pass over the text; string
 * contents are skipped with indexOf, so brackets inside strings do not count and long strings
 * cost little. Malformed text is left for JSON.parse to refuse.
 */
export const nestingExceeds = (text: string, max: number = MAX_JSON_DEPTH): boolean => {
  // Deeper than `max` needs more than `max` opening brackets.
  if (text.length <= max) return false
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // A string: jump to the quote that ends it (one not escaped by an odd run of backslashes).
      let j = i
      for (;;) {
        j = text.indexOf('"', j + 1)
        if (j === -1) return false
        let k = j - 1
        while (text.charCodeAt(k) === 0x5c) k--
        if ((j - 1 - k) % 2 === 0) break
      }
      i = j
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
  return false
}

const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed()

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/
/** A path segment for messages: `.name`, or `["odd key"]` quoted and cut short. */
const segment = (key: string): string =>
  IDENTIFIER.test(key) && key.length <= 64 ? `.${key}` : `[${JSON.stringify(key.slice(0, 40))}]`

export interface InvalidField {
  /** Where, e.g. "params.to" or "params.items[2]". */
  readonly path: string
  readonly problem: string
}

/**
 * The first string (value or key) that is not well-formed UTF-16, or the first `__proto__` key,
 * inside a value from JSON.parse (so its depth is already bounded); undefined when all is well.
 */
export const findInvalidField = (value: unknown, path = ""): InvalidField | undefined => {
  if (typeof value === "string") {
    return wellFormed(value)
      ? undefined
      : { path: path || "value", problem: "contains an unpaired UTF-16 surrogate (not valid Unicode text)" }
  }
  if (typeof value !== "object" || value === null) return undefined
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findInvalidField(value[i], `${path}[${i}]`)
      if (bad !== undefined) return bad
    }
    return undefined
  }
  for (const key of Object.keys(value)) {
    const at = path === "" ? segment(key).replace(/^\./, "") : `${path}${segment(key)}`
    if (key === "__proto__") return { path: at, problem: 'is not allowed (the key "__proto__")' }
    if (!wellFormed(key))
      return { path: at, problem: "is a key with an unpaired UTF-16 surrogate (not valid Unicode text)" }
    const bad = findInvalidField((value as Record<string, unknown>)[key], at)
    if (bad !== undefined) return bad
  }
  return undefined
}

/**
 * Whether `findInvalidField` can find anything in the value parsed from `text`: a lone surrogate
 * can only come from a \u escape (decoded UTF-8 never holds one), and a `__proto__` key is
 * spelt out or escaped. Most frames have neither, so the walk is skipped on the hot path.
 */
export const mayHoldInvalidField = (text: string): boolean => text.includes("\\u") || text.includes("__proto__")

export type JsonDecoded =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: string }

/** JSON.parse with the limits above: depth, then valid strings and keys. */
export const decodeJson = (text: string, max: number = MAX_JSON_DEPTH): JsonDecoded => {
  if (nestingExceeds(text, max)) return { ok: false, problem: `JSON nested deeper than ${max} levels` }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, problem: "not valid JSON" }
  }
  if (mayHoldInvalidField(text)) {
    const bad = findInvalidField(value)
    if (bad !== undefined) return { ok: false, problem: `${bad.path} ${bad.problem}` }
  }
  return { ok: true, value }
}
