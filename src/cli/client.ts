/**
 * What every client command shares: the --url/--token/--password/--timeout/--json flags, target
 * resolution, one scoped connection, and errors printed with the target and a hint (exit 1).
 */
import { Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { connect, type GatewayClientError, type GatewayConnection } from "../client/GatewayClient.js"
import { checkPlaintext, resolveTarget, type Target } from "../client/target.js"
import { ConfigError, loadConfig } from "../config/load.js"
import { fail } from "./exit.js"

export const clientOptions = {
  url: Options.text("url").pipe(Options.withDescription("Gateway WebSocket URL (ws:// or wss://); needs --token or --password"), Options.optional),
  token: Options.text("token").pipe(Options.withDescription("Gateway token (overrides config and OPENCLAW_GATEWAY_TOKEN)"), Options.optional),
  password: Options.text("password").pipe(Options.withDescription("Gateway password (overrides config and OPENCLAW_GATEWAY_PASSWORD)"), Options.optional),
  timeout: Options.integer("timeout").pipe(Options.withDescription("Timeout in milliseconds"), Options.withDefault(10_000)),
  json: Options.boolean("json").pipe(Options.withDescription("Print machine-readable JSON"))
}

export interface ClientFlags {
  readonly url: Option.Option<string>
  readonly token: Option.Option<string>
  readonly password: Option.Option<string>
  readonly timeout: number
  readonly json: boolean
}

export const resolveClientTarget = (flags: ClientFlags) =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(process.env)
    const target = yield* Effect.try({
      try: () =>
        resolveTarget(loaded, process.env, {
          url: Option.getOrUndefined(flags.url),
          token: Option.getOrUndefined(flags.token),
          password: Option.getOrUndefined(flags.password)
        }),
      catch: (e) => (e instanceof ConfigError ? e : new ConfigError({ message: String(e) }))
    })
    yield* Effect.try({ try: () => checkPlaintext(target.url, process.env), catch: (e) => e as ConfigError })
    return target
  })

/** Hints for the node and browser failures a method answers with (details.code). */
const codeHints: Record<string, string> = {
  NO_BROWSER_NODE: "on the machine with the browser run `openclaw node run --url <gateway url> --token <token>`, then `openclaw nodes pending` and `openclaw nodes approve <requestId>` here",
  MULTIPLE_BROWSER_NODES: 'pick one: set gateway.nodes.browser.mode "manual" and gateway.nodes.browser.node to its id or name (`openclaw nodes list`)',
  BROWSER_DISABLED: 'set gateway.nodes.browser.mode to "auto" (or "manual" with gateway.nodes.browser.node) and restart the Gateway',
  BROWSER_FUNNEL_REFUSED: "connect through Tailscale Serve, the tailnet or an SSH tunnel instead of Funnel",
  NOT_CONNECTED: "start `openclaw node run` on that machine; `openclaw nodes list` shows which nodes are connected",
  NODE_DISCONNECTED: "the node host dropped its link (sleep, network); it reconnects by itself, then retry",
  TIMEOUT: "pass a larger --timeout, or look at the node host's output",
  UNKNOWN_NODE: "`openclaw nodes list` shows paired nodes, `openclaw nodes pending` the ones waiting for approval",
  APPROVAL_NOT_FOUND: "requests expire after 5 minutes; the node asks again on its next retry: `openclaw nodes pending`",
  MISSING_SCOPE: "this command needs a scope the connection was not granted"
}

const hintFor = (error: GatewayClientError, target: Target): string => {
  switch (error.kind) {
    case "unreachable":
    case "timeout":
      return target.remote
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
      return "the certificate does not match gateway.remote.tlsFingerprint; check the Gateway's fingerprint with `openclaw gateway status` on its host"
    default:
      return codeHints[error.code ?? ""] ?? "run with --json for the raw error, or check the Gateway's log"
  }
}

export const describeFailure = (error: GatewayClientError, target: Target, what: string): string =>
  [
    `${what}: ${error.message}`,
    `Gateway target: ${target.url}`,
    `Source: ${target.source}`,
    `Config: ${target.configPath}`,
    `Hint: ${hintFor(error, target)}`
  ].join("\n")

/** Connects to the resolved target, runs `body`, and turns every expected failure into a message and exit code. */
export const withGateway = <A>(
  flags: ClientFlags,
  scopes: ReadonlyArray<string>,
  what: string,
  body: (conn: GatewayConnection, target: Target) => Effect.Effect<A, GatewayClientError>
) =>
  Effect.gen(function* () {
    const target = yield* resolveClientTarget(flags)
    return yield* Effect.scoped(
      Effect.flatMap(connect({ url: target.url, token: target.token, password: target.password, scopes, timeoutMs: flags.timeout }), (conn) =>
        body(conn, target)
      )
    ).pipe(Effect.catchTag("GatewayClientError", (error) => fail(1, describeFailure(error, target, what))))
  }).pipe(Effect.catchTag("ConfigError", (error) => fail(error.exitCode, `Config error: ${error.message}`)))

export const printJson = (value: unknown) => Console.log(JSON.stringify(value, null, 2))
