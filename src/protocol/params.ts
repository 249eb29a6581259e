/**
 * Params of the methods of shared/protocol.md as Schemas: the Gateway decodes requests with them
 * (a wrong field is INVALID_REQUEST naming it), and GatewayMethods (methods.ts) takes the client's
 * types from them. Field schemas carry descriptions ("a non-empty string") that the error names.
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

const optional = <S extends Schema.Schema.Any>(s: S) => Schema.optionalWith(s, { exact: true })

export const DEFAULT_SESSION_KEY = "main"
export const MAX_MESSAGE_CHARS = 200_000
const sessionKey = Schema.optionalWith(SessionKey, { exact: true, default: () => DEFAULT_SESSION_KEY })
const message = Text(MAX_MESSAGE_CHARS)

/** agent and chat.send: a message for the agent in a session (default "main"). */
export const AgentParams = Schema.Struct({ message, sessionKey, idempotencyKey: IdempotencyKey })
/** send: a message into a session without running the agent. */
export const SendParams = Schema.Struct({ to: SessionKey, message, idempotencyKey: IdempotencyKey })
export const AgentWaitParams = Schema.Struct({
  runId: NonEmptyString,
  timeoutMs: Schema.optionalWith(Count(10 * 60_000), { exact: true, default: () => 30_000 })
})
export const ChatHistoryParams = Schema.Struct({
  sessionKey,
  limit: Schema.optionalWith(Count(1000), { exact: true, default: () => 200 })
})
export const ChatAbortParams = Schema.Struct({ sessionKey, runId: optional(Schema.String) })

export const MAX_INVOKE_TIMEOUT_MS = 10 * 60_000
export const NodeInvokeParams = Schema.Struct({
  nodeId: NonEmptyString,
  command: NonEmptyString,
  params: optional(Schema.Unknown),
  timeoutMs: optional(TimeoutMs(MAX_INVOKE_TIMEOUT_MS)),
  idempotencyKey: IdempotencyKey
})
export const BrowserRequestParams = Schema.Struct({
  method: Schema.optionalWith(Schema.Literal("GET", "POST", "DELETE"), { exact: true, default: () => "GET" as const }),
  path: NonEmptyString,
  query: optional(Schema.Unknown),
  body: optional(Schema.Unknown),
  timeoutMs: optional(TimeoutMs(MAX_INVOKE_TIMEOUT_MS))
})
