/**
 * What every client command shares: the --url/--token/--password/--timeout/--json flags, target
 * resolution, one scoped connection, and errors printed with the target and a hint (exit 1).
 */
import { Options } from "@effect/cli"
import { Effect, Option } from "effect"
import {
  connectTarget,
  type EventFrame,
  type GatewayClientError,
  type TargetConnection
} from "../client/GatewayClient.js"
import { resolveTarget, type Target } from "../client/target.js"
import { ConfigError, loadConfig } from "../config/load.js"
import { SshTunnel, type SshTunnelError } from "../services/ssh/SshTunnel.js"
import { fail } from "./exit.js"
import { portFlag, timeoutFlag } from "./flags.js"
import { printJson } from "./output.js"

export const clientOptions = {
  url: Options.text("url").pipe(
    Options.withDescription("Gateway URL (ws:// or wss://); needs --token or --password"),
    Options.optional
  ),
  port: portFlag("port").pipe(
    Options.withDescription("Port of a Gateway on this machine (default: the running one)"),
    Options.optional
  ),
  token: Options.text("token").pipe(
    Options.withDescription("Gateway token (default: config; OPENCLAW_GATEWAY_TOKEN is safer)"),
    Options.optional
  ),
  password: Options.text("password").pipe(
    Options.withDescription("Gateway password (default: config, OPENCLAW_GATEWAY_PASSWORD)"),
    Options.optional
  ),
  tlsFingerprint: Options.text("tls-fingerprint").pipe(
    Options.withPseudoName("sha256"),
    Options.withDescription("Pin the certificate's SHA-256 (wss:// only)"),
    Options.optional
  ),
  timeout: timeoutFlag().pipe(
    Options.withDescription("Timeout in milliseconds (default 10000)"),
    Options.withDefault(10_000)
  ),
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
  NO_BROWSER_NODE:
    "on the machine with the browser run `openclaw node run --url <gateway url> --token <token>`, then `openclaw nodes pending` and `openclaw nodes approve <requestId>` here",
  MULTIPLE_BROWSER_NODES:
    'pick one: set gateway.nodes.browser.mode "manual" and gateway.nodes.browser.node to its id or name (`openclaw nodes list`)',
  BROWSER_DISABLED:
    'set gateway.nodes.browser.mode to "auto" (or "manual" with gateway.nodes.browser.node) and restart the Gateway',
  BROWSER_FUNNEL_REFUSED: "connect through Tailscale Serve, the tailnet or an SSH tunnel instead of Funnel",
  NOT_CONNECTED: "start `openclaw node run` on that machine; `openclaw nodes list` shows which nodes are connected",
  NODE_DISCONNECTED: "the node host dropped its link (sleep, network); it reconnects by itself, then retry",
  TIMEOUT: "pass a larger --timeout, or look at the node host's output",
  NODE_ERROR:
    "this came from the browser on the node host (a page that does not load there, a selector that matches nothing); its output on that machine may say more",
  AMBIGUOUS_REQUEST: "give more of the request id, as `openclaw nodes pending` shows it",
  UNKNOWN_NODE: "`openclaw nodes list` shows paired nodes, `openclaw nodes pending` the ones waiting for approval",
  COMMAND_NOT_APPROVED:
    "the node declares this command but its pairing does not cover it: `openclaw nodes pending` shows what it asks for, `openclaw nodes approve <requestId>` allows it",
  APPROVAL_NOT_FOUND:
    "requests expire after 5 minutes; the node asks again on its next retry: `openclaw nodes pending`",
  MISSING_SCOPE: "this command needs a scope the connection was not granted",
  UNKNOWN_DEVICE: "`openclaw devices list` shows the paired devices with their ids and names",
  AMBIGUOUS_DEVICE: "give more characters of the device id (`openclaw devices list`)",
  REPLY_TOO_LONG:
    "the model (or the Gateway) kept sending without end; the partial reply stays in the session, marked aborted"
}

/** The connection a client command runs on: tunnel (transport "ssh"), TLS pin, plaintext guard, handshake. */
export const connectClient = (
  target: Target,
  flags: ClientFlags,
  scopes: ReadonlyArray<string>,
  onEvent?: (event: EventFrame) => void
) =>
  connectTarget(target, { scopes, timeoutMs: flags.timeout, ...(onEvent ? { onEvent } : {}) }).pipe(
    Effect.provide(SshTunnel.layer)
  )

/** Where the target is, for messages: the URL, and for transport "ssh" the host it is reached through. */
export const describeTarget = (target: Target): string =>
  target.ssh === undefined ? target.url : `${target.url} on ${target.ssh.target} (through an SSH tunnel)`

export const describeTunnelFailure = (error: SshTunnelError, target: Target, what: string): string =>
  [
    `${what}: SSH tunnel failed: ${error.message}`,
    `Gateway target: ${describeTarget(target)}`,
    `Source: ${target.source}`,
    `Config: ${target.configPath}`
  ].join("\n")

const unreachableHint = (target: Target): string =>
  target.ssh !== undefined
    ? `start the Gateway on ${target.ssh.host} (\`openclaw gateway run\`), and check gateway.remote.remotePort (${target.ssh.remotePort}) is its port`
    : target.remote
      ? "check that the Gateway host is reachable and, for an SSH tunnel, that `ssh -N -L 18789:127.0.0.1:18789 user@host` is running"
      : target.running !== undefined
        ? `the Gateway recorded as running (PID ${target.running.pid}) does not answer on ${target.url}: look at its terminal, or restart it with \`openclaw gateway run\``
        : "start the Gateway with `openclaw gateway run`; if it runs on another port, pass --port N (or set OPENCLAW_GATEWAY_PORT or gateway.port)"

const hintFor = (error: GatewayClientError, target: Target): string => {
  switch (error.kind) {
    case "timeout":
      if (error.code === "AGENT_SILENT")
        return "the Gateway stopped answering: check that it still runs (`openclaw status`); pass a larger --timeout if it is only slow"
      if (error.code === "AGENT_RUN_TIMEOUT")
        return "pass a larger --run-timeout for a long run; `openclaw gateway call agent.wait` can pick up its result later"
      return unreachableHint(target)
    case "unreachable":
      if (error.code === "LISTENER_NOT_OURS")
        return "`openclaw gateway run --port 0` starts your Gateway on a free port, and the CLI finds it there (its runtime record)"
      return unreachableHint(target)
    case "auth": {
      if (error.code === "AUTH_RATE_LIMITED")
        return "too many wrong attempts from this address; wait, then retry with the right credential"
      const kind = error.code?.includes("PASSWORD") ? "password" : "token"
      const other = kind === "token" ? "password" : "token"
      if (wrongKind(error, target))
        return `pass --${kind} with the Gateway's gateway.auth.${kind} instead of --${other}`
      const flagged = target.running?.secretSource?.startsWith("--") ? target.running.secretSource : undefined
      if (!target.remote && flagged !== undefined)
        return `the running Gateway (PID ${target.running!.pid}) took its ${kind} from ${flagged}: pass the same value with --${kind}`
      return target.remote
        ? `set gateway.remote.${kind} (or pass --${kind}) to the Gateway host's gateway.auth.${kind}; gateway.remote.${kind} is only this CLI's credential and never configures a Gateway's own auth`
        : `pass --${kind}, or make OPENCLAW_GATEWAY_${kind.toUpperCase()} / gateway.auth.${kind} match the running Gateway's ${kind}`
    }
    case "pairing":
      return "approve this device on the Gateway host: `openclaw nodes pending`, then `openclaw nodes approve <requestId>`"
    case "tls":
      if (error.code === "ERR_TLS_PLAINTEXT_SERVER") {
        return `use a ws:// URL for it (e.g. ${target.url.replace(/^wss:/, "ws:")}), or turn on gateway.tls.enabled on the Gateway and pin its certificate`
      }
      if (error.code === "ERR_SSH_SERVER")
        return `reach the Gateway through SSH instead: set gateway.remote.transport "ssh" with gateway.remote.sshTarget (the CLI opens the tunnel), or run \`openclaw gateway tunnel\` and use its local port; ${target.source} names the SSH port, not the Gateway's`
      if (error.code === "ERR_TLS_REQUIRED") {
        return target.ssh !== undefined
          ? "the Gateway behind the tunnel has TLS on: set gateway.remote.tlsFingerprint to the fingerprint `openclaw gateway status` shows on the Gateway host (the tunnel then carries wss://)"
          : "use a wss:// URL (gateway.remote.url or --url) and pin the Gateway's certificate with gateway.remote.tlsFingerprint or --tls-fingerprint (`openclaw gateway status` on the Gateway host shows it)"
      }
      return error.code === "ERR_TLS_PIN"
        ? `nothing was sent. If the Gateway's certificate was replaced on purpose, set ${target.pinSource?.startsWith("local") ? "nothing: restart the Gateway so it serves the current certificate" : `${target.pinSource ?? "gateway.remote.tlsFingerprint"} to the fingerprint \`openclaw gateway status\` shows on the Gateway host`}; otherwise something is intercepting the connection`
        : "check that the Gateway serves wss:// (gateway.tls.enabled) and pin its certificate with gateway.remote.tlsFingerprint or --tls-fingerprint"
    default:
      if (error.kind === "protocol" && error.code === "NOT_A_GATEWAY")
        return target.remote
          ? `something else answers at ${target.url}: point ${target.source} at the Gateway's address and port`
          : `something else listens on ${target.url}: stop it, or run the Gateway on another port (\`openclaw gateway run --port N\`, then pass --port N or set gateway.port)`
      // The code comes from the Gateway: an own key only (a code such as "__proto__" has no hint).
      return (
        (Object.hasOwn(codeHints, error.code ?? "") ? codeHints[error.code!] : undefined) ??
        "run with --json for the raw error, or check the Gateway's log"
      )
  }
}

/** A token offered to a password Gateway, or a password to a token Gateway (and nothing else). */
const wrongKind = (error: GatewayClientError, target: Target): boolean =>
  error.code?.startsWith("AUTH_TOKEN_") === true
    ? target.token === undefined && target.password !== undefined
    : error.code?.startsWith("AUTH_PASSWORD_") === true && target.password === undefined && target.token !== undefined

/** The server's message, except where the CLI knows better what happened. */
const failureMessage = (error: GatewayClientError, target: Target): string => {
  if (wrongKind(error, target)) {
    const kind = error.code!.includes("PASSWORD") ? "password" : "token"
    return `unauthorized: this Gateway expects a ${kind} (gateway.auth.mode "${kind}"), and a ${kind === "token" ? "password" : "token"} was given`
  }
  // The server's own advice in brackets is for a remote CLI; the Hint line below fits this target.
  return error.kind === "auth" && !target.remote
    ? error.message.replace(/ \(set gateway\.remote\.[a-z]+ to match [^)]*\)$/, "")
    : error.message
}

export const describeFailure = (error: GatewayClientError, target: Target, what: string): string =>
  [
    `${what}: ${failureMessage(error, target)}`,
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
    const base = { ok: false, target: target.url, source: target.source, config: target.configPath }
    // With --json a script gets a JSON error object on stdout too; the message stays on stderr.
    const jsonError = (error: Record<string, unknown>) => (flags.json ? printJson({ ...base, error }) : Effect.void)
    return yield* Effect.scoped(
      Effect.flatMap(connectClient(target, flags, scopes, onEvent), (conn) => body(conn, target))
    ).pipe(
      Effect.catchTags({
        GatewayClientError: (error) =>
          Effect.zipRight(
            jsonError({
              kind: error.kind,
              ...(error.code ? { code: error.code } : {}),
              ...(error.serverCode ? { serverCode: error.serverCode } : {}),
              message: failureMessage(error, target)
            }),
            fail(1, describeFailure(error, target, what))
          ),
        SshTunnelError: (error) =>
          Effect.zipRight(
            jsonError({ kind: "ssh", code: error.kind, message: error.message }),
            fail(1, describeTunnelFailure(error, target, what))
          )
      })
    )
  }).pipe(Effect.catchTag("ConfigError", (error) => fail(error.exitCode, `Config error: ${error.message}`)))

/** Commands print JSON through the terminal-safe printer (C1 and bidi escaped too). */
export { printJson } from "./output.js"
