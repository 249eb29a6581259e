/**
 * The field Schemas that methods' params share (ids, session keys, counts, timeouts, idempotency
 * keys); each method's params Schema is in its namespace's contract (contracts/). Field schemas
 * carry descriptions ("a non-empty string") that the INVALID_REQUEST answer names.
 */
import { Schema } from "effect"

/** A field's own answer to any problem with it: the message (given the method's name) and details.code. */
export const ParamProblem: unique symbol = Symbol.for("openclaw/ParamProblem") as never
export interface ParamProblemAnnotation {
  readonly message: (method: string) => string
  readonly code: string
}

/** An id or name: a string that is not empty. */
export const NonEmptyString = Schema.String.pipe(
  Schema.filter((s) => s.length > 0 || "must not be empty", { description: "a non-empty string" })
)

/** Text a person wrote: not blank, at most `max` characters. */
export const Text = (max: number) =>
  Schema.String.pipe(
    Schema.filter((s) => (s.length > max ? `is longer than ${max} characters` : s.trim().length > 0 || "is blank"), {
      description: "a non-empty string"
    })
  )

export const MAX_SESSION_KEY_LENGTH = 200

/** A sessionKey: 1-200 printable characters of valid Unicode (it becomes a file name, percent-encoded). */
export const invalidSessionKey = (key: string): string | undefined =>
  key.length === 0
    ? "is empty"
    : key.length > MAX_SESSION_KEY_LENGTH
      ? `is longer than ${MAX_SESSION_KEY_LENGTH} characters`
      : /[\u0000-\u001f\u007f]/.test(key)
        ? "contains control characters"
        : !(key as unknown as { isWellFormed(): boolean }).isWellFormed()
          ? "contains an unpaired UTF-16 surrogate (not valid Unicode text)"
          : undefined

/** A session key in either form (`main` or OpenClaw's `agent:main:main`). */
export const SessionKey = Schema.String.pipe(
  Schema.filter((s) => invalidSessionKey(s), { description: 'a session key such as "main"' })
)

/** A count asked for (`limit`): a non-negative integer, cut to `max`. */
export const Count = (max: number) =>
  Schema.transform(
    Schema.Number.pipe(
      Schema.filter((n) => (Number.isInteger(n) && n >= 0) || "must be a non-negative integer", {
        description: "a non-negative integer"
      })
    ),
    Schema.Number,
    { strict: true, decode: (n) => Math.min(n, max), encode: (n) => n }
  )

/** A timeout in milliseconds: a positive number, cut to `max` and rounded down. */
export const TimeoutMs = (max: number) =>
  Schema.transform(
    Schema.Number.pipe(
      Schema.filter((n) => (Number.isFinite(n) && n > 0) || "must be a positive number of milliseconds", {
        description: "a positive number of milliseconds"
      })
    ),
    Schema.Number,
    { strict: true, decode: (n) => Math.min(Math.floor(n), max), encode: (n) => n }
  )

/** Side-effecting methods take one: a repeat within 5 minutes returns the first result instead of acting twice. */
export const IdempotencyKey = Schema.String.pipe(
  Schema.filter((k) => k.trim().length > 0 && k.length <= 200),
  Schema.annotations({
    description: "a unique string (at most 200 characters) per request",
    [ParamProblem]: {
      code: "IDEMPOTENCY_KEY_REQUIRED",
      message: (method: string) =>
        `${method} needs params.idempotencyKey: a unique string (at most 200 characters) per request; a retry with the same key within 5 minutes returns the first result instead of acting twice`
    } satisfies ParamProblemAnnotation
  })
)

export const DEFAULT_SESSION_KEY = "main"
export const MAX_MESSAGE_CHARS = 200_000
export const MAX_INVOKE_TIMEOUT_MS = 10 * 60_000
