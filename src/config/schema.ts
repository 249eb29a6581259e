/**
 * The config file's shape (`openclaw.json`, JSON5), decoded with effect's Schema.
 * Every key is optional here: defaults are applied when settings are resolved, so that
 * precedence (flag > environment > file > default) can tell what the file really said.
 */
import { ParseResult, Schema } from "effect"

const show = (u: unknown): string => {
  if (u === undefined) return "nothing"
  const json = JSON.stringify(u)
  return json === undefined ? String(u) : json.length > 60 ? `${json.slice(0, 57)}...` : json
}

const actualOf = (issue: ParseResult.ParseIssue): unknown => ("actual" in issue ? issue.actual : undefined)

/** A literal union whose error reads `expected one of a|b, got "x"`. */
const oneOf = <const L extends readonly [string, ...Array<string>]>(...values: L) =>
  Schema.Literal(...values).annotations({
    message: (issue) => ({
      message: `expected one of ${values.join("|")}, got ${show(actualOf(issue))}`,
      override: true
    })
  })

/** `override` makes the formatter report this one line instead of the inner union/refinement steps. */
const expecting = (what: string) => (issue: ParseResult.ParseIssue) => ({
  message: `expected ${what}, got ${show(actualOf(issue))}`,
  override: true
})

const Str = Schema.String.annotations({ message: expecting("a string") })
const Bool = Schema.Boolean.annotations({ message: expecting("true or false") })
const PositiveInt = Schema.Number.pipe(Schema.int(), Schema.positive()).annotations({
  message: expecting("a positive integer")
})
export const Port = Schema.Number.pipe(Schema.int(), Schema.between(1, 65535)).annotations({
  message: expecting("an integer port between 1 and 65535")
})
/** The Gateway's own port: 0 takes any free port (as --port 0 does), e.g. for an embedded Gateway. */
export const ListenPort = Schema.Number.pipe(Schema.int(), Schema.between(0, 65535)).annotations({
  message: expecting("an integer port between 0 and 65535 (0: any free port)")
})

export const BindModes = ["loopback", "lan", "tailnet", "custom", "auto"] as const
export type BindMode = (typeof BindModes)[number]
export const AuthModes = ["none", "token", "password"] as const
export type AuthMode = (typeof AuthModes)[number]
export const TailscaleModes = ["off", "serve", "funnel"] as const
export type TailscaleMode = (typeof TailscaleModes)[number]

/** Exact optional keys: absent is fine, an explicit `undefined`/wrong type is reported once, with our message. */
const opt = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

/** A section: an object whose unknown keys are errors (see onExcessProperty below). */
const strict = <F extends Schema.Struct.Fields>(fields: F) =>
  Schema.Struct(fields).annotations({ message: (issue) => `expected an object, got ${show(actualOf(issue))}` })

export const RateLimitSection = strict({
  maxAttempts: opt(PositiveInt),
  windowMs: opt(PositiveInt),
  lockoutMs: opt(PositiveInt)
})

export const AuthSection = strict({
  mode: opt(oneOf(...AuthModes)),
  token: opt(Str),
  password: opt(Str),
  allowTailscale: opt(Bool),
  rateLimit: opt(RateLimitSection)
})

export const TailscaleSection = strict({
  mode: opt(oneOf(...TailscaleModes)),
  resetOnExit: opt(Bool),
  /** The tailscale CLI (OPENCLAW_TAILSCALE_BIN); default: `tailscale` on PATH, then the macOS app's. */
  binary: opt(Str),
  /** Each `tailscale` call's timeout (OPENCLAW_TAILSCALE_TIMEOUT_MS). */
  timeoutMs: opt(PositiveInt),
  /** First retry after a failed exposure, doubling up to retryMaxMs (OPENCLAW_TAILSCALE_RETRY_MS / _RETRY_MAX_MS). */
  retryMs: opt(PositiveInt),
  retryMaxMs: opt(PositiveInt),
  /** How often an active route is checked (OPENCLAW_TAILSCALE_CHECK_MS). */
  checkMs: opt(PositiveInt)
})

/** The audit log's rotation (OPENCLAW_AUDIT_MAX_BYTES, OPENCLAW_AUDIT_KEEP). */
export const AuditSection = strict({
  maxBytes: opt(PositiveInt),
  keep: opt(PositiveInt)
})

export const RemoteSection = strict({
  url: opt(Str),
  token: opt(Str),
  password: opt(Str),
  tlsFingerprint: opt(Str),
  transport: opt(oneOf("direct", "ssh")),
  sshTarget: opt(Str),
  sshIdentity: opt(Str),
  sshHostKeyPolicy: opt(oneOf("strict", "openssh")),
  sshKnownHostsFile: opt(Str),
  remotePort: opt(Port)
})

export const ControlUiSection = strict({
  enabled: opt(Bool),
  basePath: opt(Str),
  allowedOrigins: opt(Schema.Array(Str).annotations({ message: expecting("a list of origins") }))
})

export const TlsSection = strict({
  enabled: opt(Bool),
  autoGenerate: opt(Bool),
  certPath: opt(Str),
  keyPath: opt(Str)
})

export const NodesSection = strict({
  pairing: opt(strict({ autoApproveLocal: opt(Bool) })),
  browser: opt(
    strict({
      mode: opt(oneOf("auto", "manual", "off")),
      node: opt(Str),
      allowFunnel: opt(Bool)
    })
  )
})

/** Settings of `openclaw node run` on the machine that hosts the browser. */
export const NodeHostSection = strict({
  displayName: opt(Str),
  browser: opt(
    strict({
      enabled: opt(Bool),
      executablePath: opt(Str),
      headless: opt(Bool),
      // OpenClaw's browser.ssrfPolicy names: the node machine's own addresses are blocked unless allowed.
      ssrfPolicy: opt(
        strict({
          dangerouslyAllowPrivateNetwork: opt(Bool),
          allowedHostnames: opt(Schema.Array(Str).annotations({ message: expecting("a list of host names") }))
        })
      )
    })
  )
})

export const GatewaySection = strict({
  port: opt(ListenPort),
  mode: opt(oneOf("local", "remote")),
  bind: opt(oneOf(...BindModes)),
  customBindHost: opt(Str),
  handshakeTimeoutMs: opt(PositiveInt),
  auth: opt(AuthSection),
  tailscale: opt(TailscaleSection),
  remote: opt(RemoteSection),
  controlUi: opt(ControlUiSection),
  tls: opt(TlsSection),
  nodes: opt(NodesSection),
  audit: opt(AuditSection)
})

export const AgentProviderKinds = ["echo", "openai"] as const
export type AgentProviderKind = (typeof AgentProviderKinds)[number]

/** The agent's model provider. The API key is never in the file: apiKeyEnv names the variable that holds it. */
export const AgentProviderSection = strict({
  kind: opt(oneOf(...AgentProviderKinds)),
  baseUrl: opt(Str),
  model: opt(Str),
  apiKeyEnv: opt(Str)
})

export const AgentSection = strict({
  provider: opt(AgentProviderSection)
})

export const ConfigFile = strict({
  $schema: opt(Str),
  gateway: opt(GatewaySection),
  nodeHost: opt(NodeHostSection),
  agent: opt(AgentSection)
})
export type ConfigFile = typeof ConfigFile.Type
export type GatewaySection = typeof GatewaySection.Type

const decode = Schema.decodeUnknownEither(ConfigFile, { errors: "all", onExcessProperty: "error" })

const keyPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join("") ||
  "(top level)"

/** Decodes a parsed config value; on failure returns one line per problem, each naming its key path. */
export const decodeConfigFile = (
  value: unknown
): { ok: true; config: ConfigFile } | { ok: false; problems: Array<string> } => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, problems: [`(top level): expected an object like { gateway: { ... } }, got ${show(value)}`] }
  }
  const result = decode(value)
  if (result._tag === "Right") return { ok: true, config: result.right }
  const problems = ParseResult.ArrayFormatter.formatErrorSync(result.left).map((issue) =>
    issue._tag === "Unexpected" ? `${keyPath(issue.path)}: unknown key` : `${keyPath(issue.path)}: ${issue.message}`
  )
  return { ok: false, problems }
}
