/**
 * What every client command shares: the --url/--token/--password/--timeout/--json flags, target
 * resolution, one scoped connection, and errors printed with the target and a hint (exit 1).
 */
import { Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { connectTarget, type EventFrame, type GatewayClientError, type TargetConnection } from "../client/GatewayClient.js"
import { resolveTarget, type Target } from "../client/target.js"
import { ConfigError, loadConfig } from "../config/load.js"
import { SshTunnel, type SshTunnelError } from "../services/SshTunnel.js"
import { fail } from "./exit.js"
import { portFlag, timeoutFlag } from "./flags.js"

export const clientOptions = {
  url: Options.text("url").pipe(Options.withDescription("Gateway URL (ws:// or wss://); needs --token or --password"), Options.optional),
  port: portFlag("port").pipe(Options.withDescription("Port of a Gateway on this machine (default: the running one)"), Options.optional),
  token: Options.text("token").pipe(Options.withDescription("Gateway token (default: config, OPENCLAW_GATEWAY_TOKEN)"), Options.optional),
  password: Options.text("password").pipe(Options.withDescription("Gateway password (default: config, OPENCLAW_GATEWAY_PASSWORD)"), Options.optional),
  tlsFingerprint: Options.text("tls-fingerprint").pipe(Options.withPseudoName("sha256"), Options.withDescription("Pin the certificate's SHA-256 (wss:// only)"), Options.optional),
  timeout: timeoutFlag().pipe(Options.withDescription("Timeout in milliseconds (default 10000)"), Options.withDefault(10_000)),
  json: Options.boolean("json").pipe(Options.withDescription("Print machine-readable JSON"))
}

export interface ClientFlags {
  readonly url: Option.Option<string>
  readonly port: Option.Option<number>
  readonly token: Option.Option<string>
  readonly password: Option.Option<string>
  readonly tlsFingerprint: Option.Option<string>
  readonly timeout: number
  readonly json: boolean
}

/** The loaded config and the target resolved from it and the flags (commands that also need the config reuse it). */
export const loadClientTarget = (flags: ClientFlags) =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(process.env)
    const target = yield* Effect.try({
      try: () =>
        resolveTarget(loaded, process.env, {
          url: Option.getOrUndefined(flags.url),
          port: Option.getOrUndefined(flags.port),
          token: Option.getOrUndefined(flags.token),
          password: Option.getOrUndefined(flags.password),
          tlsFingerprint: Option.getOrUndefined(flags.tlsFingerprint)
        }),
      catch: (e) => (e instanceof ConfigError ? e : new ConfigError({ message: String(e) }))
    })
    return { loaded, target }
  })

export const resolveClientTarget = (flags: ClientFlags) => Effect.map(loadClientTarget(flags), ({ target }) => target)

/** Hints for the node and browser failures a method answers with (details.code). */
const codeHints: Record<string, string> = {
  NO_BROWSER_NODE: "on the machine with the browser run `openclaw node run --url <gateway url> --token <token>`, then `openclaw nodes pending` and `openclaw nodes approve <requestId>` here",
  MULTIPLE_BROWSER_NODES: 'pick one: set gateway.nodes.browser.mode "manual" and gateway.nodes.browser.node to its id or name (`openclaw nodes list`)',
  BROWSER_DISABLED: 'set gateway.nodes.browser.mode to "auto" (or "manual" with gateway.nodes.browser.node) and restart the Gateway',
  BROWSER_FUNNEL_REFUSED: "connect through Tailscale Serve, the tailnet or an SSH tunnel instead of Funnel",
  NOT_CONNECTED: "start `openclaw node run` on that machine; `openclaw nodes list` shows which nodes are connected",
  NODE_DISCONNECTED: "the node host dropped its link (sleep, network); it reconnects by itself, then retry",
  TIMEOUT: "pass a larger --timeout, or look at the node host's output",
  NODE_ERROR: "this came from the browser on the node host (a page that does not load there, a selector that matches nothing); its output on that machine may say more",
  UNKNOWN_NODE: "`openclaw nodes list` shows paired nodes, `openclaw nodes pending` the ones waiting for approval",
  APPROVAL_NOT_FOUND: "requests expire after 5 minutes; the node asks again on its next retry: `openclaw nodes pending`",
  MISSING_SCOPE: "this command needs a scope the connection was not granted"
}

/** The connection a client command runs on: tunnel (transport "ssh"), TLS pin, plaintext guard, handshake. */
export const connectClient = (target: Target, flags: ClientFlags, scopes: ReadonlyArray<string>, onEvent?: (event: EventFrame) => void) =>
  connectTarget(target, { scopes, timeoutMs: flags.timeout, ...(onEvent ? { onEvent } : {}) }).pipe(Effect.provide(SshTunnel.layer))

/** Where the target is, for messages: the URL, and for transport "ssh" the host it is reached through. */
export const describeTarget = (target: Target): string =>
  target.ssh === undefined ? target.url : `${target.url} on ${target.ssh.target} (through an SSH tunnel)`

export const describeTunnelFailure = (error: SshTunnelError, target: Target, what: string): string =>
  [`${what}: SSH tunnel failed: ${error.message}`, `Gateway target: ${describeTarget(target)}`, `Source: ${target.source}`, `Config: ${target.configPath}`].join("\n")

const hintFor = (error: GatewayClientError, target: Target): string => {
  switch (error.kind) {
    case "unreachable":
    case "timeout":
      return target.ssh !== undefined
        ? `start the Gateway on ${target.ssh.host} (\`openclaw gateway run\`), and check gateway.remote.remotePort (${target.ssh.remotePort}) is its port`
        : target.remote
        ? "check that the Gateway host is reachable and, for an SSH tunnel, that `ssh -N -L 18789:127.0.0.1:18789 user@host` is running"
        : "start the Gateway with `openclaw gateway run`, or check the port (gateway.port, OPENCLAW_GATEWAY_PORT)"
    case "auth": {
      if (error.code === "AUTH_RATE_LIMITED") return "too many wrong attempts from this address; wait, then retry with the right credential"
      const kind = error.code?.includes("PASSWORD") ? "password" : "token"
      return target.remote
        ? `set gateway.remote.${kind} (or pass --${kind}) to the Gateway host's gateway.auth.${kind}; gateway.remote.${kind} is only this CLI's credential and never configures a Gateway's own auth`
        : `pass --${kind}, or make OPENCLAW_GATEWAY_${kind.toUpperCase()} / gateway.auth.${kind} match the running Gateway's ${kind}`
    }
    case "pairing":
      return "approve this device on the Gateway host: `openclaw nodes pending`, then `openclaw nodes approve <requestId>`"
    case "tls":
      if (error.code === "ERR_TLS_REQUIRED") {
        return target.ssh !== undefined
          ? "the Gateway behind the tunnel has TLS on: set gateway.remote.tlsFingerprint to the fingerprint `openclaw gateway status` shows on the Gateway host (the tunnel then carries wss://)"
          : "use a wss:// URL (gateway.remote.url or --url) and pin the Gateway's certificate with gateway.remote.tlsFingerprint or --tls-fingerprint (`openclaw gateway status` on the Gateway host shows it)"
      }
      return error.code === "ERR_TLS_PIN"
        ? `nothing was sent. If the Gateway's certificate was replaced on purpose, set ${target.pinSource?.startsWith("local") ? "nothing: restart the Gateway so it serves the current certificate" : `${target.pinSource ?? "gateway.remote.tlsFingerprint"} to the fingerprint \`openclaw gateway status\` shows on the Gateway host`}; otherwise something is intercepting the connection`
        : "check that the Gateway serves wss:// (gateway.tls.enabled) and pin its certificate with gateway.remote.tlsFingerprint or --tls-fingerprint"
    default:
      return codeHints[error.code ?? ""] ?? "run with --json for the raw error, or check the Gateway's log"
  }
}

export const describeFailure = (error: GatewayClientError, target: Target, what: string): string =>
  [
    `${what}: ${error.message}`,
    `Gateway target: ${describeTarget(target)}`,
    `Source: ${target.source}`,
    `Config: ${target.configPath}`,
    `Hint: ${hintFor(error, target)}`
  ].join("\n")

/** Connects to the resolved target, runs `body`, and turns every expected failure into a message and exit code. */
export const withGateway = <A>(
  flags: ClientFlags,
  scopes: ReadonlyArray<string>,
  what: string,
  body: (conn: TargetConnection, target: Target) => Effect.Effect<A, GatewayClientError>,
  onEvent?: (event: EventFrame) => void
) =>
  Effect.gen(function* () {
    const target = yield* resolveClientTarget(flags)
    return yield* Effect.scoped(Effect.flatMap(connectClient(target, flags, scopes, onEvent), (conn) => body(conn, target))).pipe(
      Effect.catchTags({
        GatewayClientError: (error) => fail(1, describeFailure(error, target, what)),
        SshTunnelError: (error) => fail(1, describeTunnelFailure(error, target, what))
      })
    )
  }).pipe(Effect.catchTag("ConfigError", (error) => fail(error.exitCode, `Config error: ${error.message}`)))

export const printJson = (value: unknown) => Console.log(JSON.stringify(value, null, 2))
