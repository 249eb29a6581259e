/**
 * State files read back from disk, decoded with Schema. What is wrong is said as field paths
 * ("publicKey: expected string"), never with the offending value: a state file may hold a key or
 * a token digest. Fields this version does not know are ignored, so a file written by a newer
 * version still loads. Objects keyed by the file's own strings (device ids, URLs) are walked entry
 * by entry into Maps, never decoded with Schema.Record: a "__proto__" key would become a prototype.
 */
import { Either, ParseResult, Schema } from "effect"

/** A path element as a reader sees it: plain names bare, anything else quoted (and cut short). */
const segment = (p: PropertyKey): string => {
  const s = String(p)
  return /^[\w$-]{1,80}$/.test(s) ? s : JSON.stringify(s.slice(0, 80))
}

/** "field.path: expected X" for each field at fault (at most `max`), without the values found. */
export const describeParseError = (error: ParseResult.ParseError, max = 3): string => {
  const byPath = new Map<string, Array<string>>()
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const where = issue.path.map(segment).join(".")
    const what = issue.message.replace(/, actual [\s\S]*$/, "").replace(/^Expected\b/, "expected")
    const seen = byPath.get(where)
    if (seen === undefined) byPath.set(where, [what])
    else if (!seen.includes(what)) seen.push(what)
  }
  // An optional field's "or undefined" says nothing to someone editing a file: it may be left out.
  const parts = [...byPath].map(([where, whats]) => {
    const said = whats.length > 1 ? whats.filter((w) => w !== "expected undefined") : whats
    const joined = said.every((w) => w.startsWith("expected "))
      ? `expected ${said.map((w) => w.slice("expected ".length)).join(" or ")}`
      : said.join(" or ")
    return `${where === "" ? "" : `${where}: `}${joined}`
  })
  return parts.length > max ? `${parts.slice(0, max).join("; ")} (and ${parts.length - max} more)` : parts.join("; ")
}

/** JSON.parse without echoing the text: SyntaxError messages quote a piece of the file. */
export const parseStateText = (text: string): Either.Either<unknown, string> => {
  try {
    return Either.right(JSON.parse(text) as unknown)
  } catch (e) {
    const message = (e as Error).message
    const at = /position (\d+)/.exec(message)?.[1]
    // Parsing stopped at the end of the text: the file was cut short, not mistyped.
    const cut = /end of (JSON )?input/i.test(message) || (at !== undefined && Number(at) >= text.trimEnd().length)
    return Either.left(
      cut
        ? "is not valid JSON: it ends mid-value (cut short by a crash or a full disk?)"
        : `is not valid JSON${at === undefined ? "" : ` (at character ${at})`}`
    )
  }
}

/** Decodes a parsed value; Left is what is wrong, as field paths. */
export const decodeState = <A, I>(schema: Schema.Schema<A, I>, value: unknown): Either.Either<A, string> =>
  Either.mapLeft(Schema.decodeUnknownEither(schema, { errors: "all" })(value), (e) => describeParseError(e))

/** Parses and decodes a state file's text; Left is what is wrong (not JSON, or which fields). */
export const decodeStateText = <A, I>(schema: Schema.Schema<A, I>, text: string): Either.Either<A, string> =>
  Either.flatMap(parseStateText(text), (value) => decodeState(schema, value))

export interface DecodedEntries<A> {
  /** The entries that decoded, in file order, with the key the file gave them. */
  readonly entries: ReadonlyArray<readonly [string, A]>
  /** One line per entry that did not: its key and what is wrong with it. */
  readonly problems: ReadonlyArray<string>
}

/**
 * The entries of an object keyed by the file's own strings, each decoded with `schema`; a bad
 * entry is skipped and described, the others kept. Undefined when `value` is not an object.
 */
export const decodeEntries = <A, I>(schema: Schema.Schema<A, I>, value: unknown): DecodedEntries<A> | undefined => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
  const entries: Array<readonly [string, A]> = []
  const problems: Array<string> = []
  for (const [key, entry] of Object.entries(value)) {
    const decoded = decodeState(schema, entry)
    if (Either.isRight(decoded)) entries.push([key, decoded.right])
    else problems.push(`entry ${JSON.stringify(key.slice(0, 80))}: ${decoded.left}`)
  }
  return { entries, problems }
}
