/** The Gateway's own methods: health, status, system-presence (their shapes are public). */
import { Schema } from "effect"
import { Method, MethodGroup } from "../contract.js"

const optional = <A, I>(s: Schema.Schema<A, I, never>) => Schema.optionalWith(s, { exact: true })

/** The `health` answer. */
export const HealthResult = Schema.Struct({
  ok: Schema.Literal(true),
  ts: Schema.Number,
  durationMs: Schema.Number,
  version: Schema.String,
  uptimeMs: Schema.Number
})
export type HealthResult = typeof HealthResult.Type

/** One authenticated client, as `system-presence` and presence events list it. */
export const PresenceEntry = Schema.Struct({
  connId: Schema.String,
  client: Schema.Struct({
    id: Schema.String,
    version: Schema.String,
    platform: Schema.String,
    mode: Schema.String,
    displayName: optional(Schema.String)
  }),
  role: Schema.String,
  scopes: Schema.Array(Schema.String),
  host: Schema.String,
  since: Schema.Number,
  /** How the client authenticated, and for Tailscale identity who it is. */
  authMethod: optional(Schema.String),
  user: optional(Schema.Struct({ login: Schema.String, name: optional(Schema.String) }))
})
export type PresenceEntry = typeof PresenceEntry.Type

/** The `status` answer: the Gateway's core fields; features add sections of their own. */
export const StatusResult = Schema.Struct(
  {
    ok: Schema.Literal(true),
    version: Schema.String,
    protocol: Schema.Number,
    pid: Schema.Number,
    startedAt: Schema.Number,
    uptimeMs: Schema.Number,
    url: Schema.String,
    bind: Schema.Struct({
      mode: Schema.String,
      effectiveMode: Schema.String,
      addresses: Schema.Array(Schema.String),
      port: Schema.Number
    }),
    auth: Schema.Struct({
      mode: Schema.String,
      secretSet: Schema.Boolean,
      secretSource: optional(Schema.String),
      allowTailscale: Schema.Boolean
    }),
    tls: Schema.Struct({
      enabled: Schema.Boolean,
      fingerprint: optional(Schema.String),
      certPath: optional(Schema.String),
      source: optional(Schema.String)
    }),
    controlUi: Schema.Struct({ enabled: Schema.Boolean, basePath: Schema.String }),
    clients: Schema.Number,
    nodes: Schema.Number,
    tailscaleUsers: Schema.Array(Schema.String)
  },
  // The sections features add (exposure, sessions, ...).
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)
export type StatusResult = typeof StatusResult.Type

// No params Schema: these are the hottest calls, and they read no params (`probe: true`, which
// OpenClaw's CLI sends to health, changes nothing here).
export const CoreGroup = MethodGroup.make({
  health: Method.make({ requires: "operator.read", result: HealthResult }),
  status: Method.make({ requires: "operator.read", result: StatusResult }),
  "system-presence": Method.make({ requires: "operator.read", result: Schema.Array(PresenceEntry) })
})
