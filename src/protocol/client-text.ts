/**
 * Strings someone else chose (a client, a Gateway, a node, a web page, a model) as terminals, log
 * lines and messages show them: cut short where a whole value is not needed, and never able to
 * drive the terminal. A terminal obeys C0 controls (ESC starts CSI/OSC sequences: clear the screen,
 * move the cursor, write the clipboard with OSC 52, hide a link with OSC 8), C1 controls (U+009B is
 * a one-character CSI) and reorders text around bidi and other format controls (U+202E turns
 * "gpj.exe" into "exe.jpg"). Each such character is shown as a visible escape instead.
 */

/**
 * C0 and DEL, C1, and the format (Cf) and separator characters that reorder or hide text: bidi
 * embeddings, overrides and isolates, zero-width characters, the BOM, line/paragraph separators.
 * (ZWJ stays: emoji sequences need it.) And lone surrogates (in a u-regex a pair is one code point).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|(?!\u200d)\p{Cf}|[\ud800-\udfff]/gu
const UNSAFE_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]|(?!\u200d)\p{Cf}|[\ud800-\udfff]/gu
/** What JSON.stringify leaves raw of the above: C1 and format characters (it escapes C0 and lone surrogates). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029]|(?!\u200d)\p{Cf}/gu

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\u001b": "\\e" }

/** `\e`, `\x9b`, `\u202e`, and for a format character beyond the BMP (U+E0001) `\u{e0001}`, not half of it. */
const escapeChar = (c: string): string => {
  const named = NAMED[c]
  if (named !== undefined) return named
  const code = c.codePointAt(0)!
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : code <= 0xffff
      ? `\\u${code.toString(16).padStart(4, "0")}`
      : `\\u{${code.toString(16)}}`
}

/** JSON's escape: one `\uXXXX` per UTF-16 unit, so a character beyond the BMP keeps both halves. */
const jsonEscape = (c: string): string =>
  Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, "0")}`).join("")

/**
 * One line of someone else's text for a terminal: every control, format and separator character
 * becomes a visible escape (`\e`, `\x9b`, `\u202e`, `\n`), so it stays one line and cannot drive
 * the terminal. Use it for names, ids, messages and anything printed inside a line.
 */
export const forTerminal = (s: string): string => s.replace(UNSAFE, escapeChar)

/**
 * Someone else's text where text is expected (an agent's reply, a page's text): newlines and tabs
 * kept, every other control, format and separator character made a visible escape.
 */
export const textForTerminal = (s: string): string => s.replace(UNSAFE_TEXT, escapeChar)

/**
 * JSON for a terminal: JSON.stringify escapes C0 but leaves C1, bidi and other format characters
 * raw; they become `\uXXXX` escapes here, so the output is the same JSON value and safe to print.
 */
export const jsonForTerminal = (value: unknown, space?: number): string => {
  const json = JSON.stringify(value, null, space) ?? "null"
  return json.replace(UNSAFE_IN_JSON, jsonEscape)
}

/** A client's string as error messages show it: cut short, never the whole of a large value. */
export const shortened = (s: string, max = 100): string => (s.length > max ? `${s.slice(0, max)}...` : s)

/** A client's string in a log line: quoted (JSON), so newlines cannot forge another line, and C1 and bidi escaped. */
export const quoted = (s: string, max = 64): string => jsonForTerminal(shortened(s, max))
