/**
 * The JSON that `tailscale status|whois|serve status --json` prints, decoded with Schema. Only
 * the fields the Gateway reads are declared (others are ignored); Tailscale prints `null` for
 * empty lists and maps, so those are nullish. A field of the wrong type is a "bad-output" error
 * naming the field, never a guess.
 */
import { Either, ParseResult, Schema } from "effect"

const List = Schema.optional(Schema.NullishOr(Schema.Array(Schema.String)))
const Map = <V extends Schema.Schema.Any>(value: V) =>
  Schema.optional(Schema.NullishOr(Schema.Record({ key: Schema.String, value })))

export const StatusJson = Schema.Struct({
  BackendState: Schema.optional(Schema.String),
  CertDomains: List,
  Self: Schema.optional(
    Schema.NullishOr(
      Schema.Struct({
        DNSName: Schema.optional(Schema.String),
        TailscaleIPs: List,
        Capabilities: List,
        CapMap: Map(Schema.Unknown)
      })
    )
  )
})

export const WhoisJson = Schema.Struct({
  UserProfile: Schema.optional(
    Schema.NullishOr(
      Schema.Struct({ LoginName: Schema.optional(Schema.String), DisplayName: Schema.optional(Schema.String) })
    )
  ),
  Node: Schema.optional(Schema.NullishOr(Schema.Struct({ Tags: List })))
})

const Handler = Schema.Struct({
  Proxy: Schema.optional(Schema.String),
  Path: Schema.optional(Schema.String),
  Text: Schema.optional(Schema.Unknown)
})

export const ServeStatusJson = Schema.Struct({
  Web: Map(Schema.Struct({ Handlers: Map(Handler) })),
  AllowFunnel: Map(Schema.Boolean),
  TCP: Map(Schema.Struct({ TCPForward: Schema.optional(Schema.String) }))
})

/** Decodes `json` or says which field was wrong (for the bad-output message). */
export const decodeTailscaleJson = <A, I>(schema: Schema.Schema<A, I>, json: unknown): Either.Either<A, string> =>
  Either.mapLeft(Schema.decodeUnknownEither(schema)(json), (error) => {
    const [first] = ParseResult.ArrayFormatter.formatErrorSync(error)
    return first === undefined ? "unexpected shape" : `${first.path.join(".") || "(top level)"}: ${first.message}`
  })
