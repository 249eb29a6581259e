/** The connect request's params, decoded with Schema (once per connection, so cost is irrelevant). */
import { Schema } from "effect"
import { ClientModes, type ConnectParams } from "../../protocol/frames.js"
import { firstProblem } from "./params.js"

const Client = Schema.Struct({
  id: Schema.String.pipe(Schema.minLength(1)),
  version: Schema.String,
  platform: Schema.String,
  mode: Schema.Literal(...ClientModes),
  displayName: Schema.optional(Schema.String),
  deviceFamily: Schema.optional(Schema.String),
  instanceId: Schema.optional(Schema.String)
})

const ConnectParamsSchema = Schema.Struct({
  minProtocol: Schema.Int,
  maxProtocol: Schema.Int,
  client: Client,
  // Role is checked separately so that a wrong role gets its own "invalid role" answer.
  role: Schema.optional(Schema.String),
  scopes: Schema.optional(Schema.Array(Schema.String)),
  caps: Schema.optional(Schema.Array(Schema.String)),
  commands: Schema.optional(Schema.Array(Schema.String)),
  auth: Schema.optional(
    Schema.Struct({
      token: Schema.optional(Schema.String),
      password: Schema.optional(Schema.String),
      deviceToken: Schema.optional(Schema.String),
      signInCode: Schema.optional(Schema.String)
    })
  ),
  device: Schema.optional(
    Schema.Struct({
      id: Schema.String,
      publicKey: Schema.String,
      signature: Schema.String,
      signedAt: Schema.Number,
      nonce: Schema.String
    })
  )
})

// Unknown params (locale, userAgent, permissions, ...) are accepted and ignored, as real clients send them.
const decode = Schema.decodeUnknownEither(ConnectParamsSchema, { errors: "first", onExcessProperty: "ignore" })

export const decodeConnectParams = (
  params: unknown
): { ok: true; params: ConnectParams & { role?: string } } | { ok: false; problem: string } => {
  const result = decode(params)
  if (result._tag === "Right") return { ok: true, params: result.right as ConnectParams & { role?: string } }
  const p = firstProblem(result.left.issue)
  const message =
    p.kind === "missing"
      ? "is missing"
      : p.kind === "not-allowed"
        ? "is not allowed"
        : `expected ${p.expected}, got ${p.got}`
  return { ok: false, problem: `${p.path.length > 0 ? `${p.path.join(".")}: ` : ""}${message}` }
}
