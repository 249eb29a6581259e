/** `openclaw node run`: the node host, on the machine whose browser the Gateway should drive. */
import * as os from "node:os"
import { Command, Options } from "@effect/cli"
import { Effect, Option, type Scope } from "effect"
import { checkPlaintext, resolveTarget } from "../client/target.js"
import { ConfigError, loadConfig } from "../config/load.js"
import { DEFAULT_PORT } from "../config/settings.js"
import { BrowserController, findChromium } from "../services/node-host/browser.js"
import { NodeHostFatal, type NodeLink, NodeLinkError, runNodeHost } from "../services/node-host/host.js"
import {
  SSH_FATAL_AFTER_UP,
  type SshFailureKind,
  type SshSpec,
  SshTunnel,
  type SshTunnelService
} from "../services/ssh/SshTunnel.js"
import { loadDeviceToken, loadOrCreateIdentity } from "../services/node-host/identity.js"
import { fail } from "./exit.js"
import { portFlag } from "./flags.js"
import { writeText } from "./output.js"
import { forTerminal } from "../protocol/client-text.js"

const runOptions = {
  url: Options.text("url").pipe(
    Options.withDescription("Gateway URL (ws:// or wss://); needs --token or --password to pair"),
    Options.optional
  ),
  host: Options.text("host").pipe(Options.withDescription("Gateway host (instead of --url)"), Options.optional),
  port: portFlag("port").pipe(
    Options.withDescription(`Gateway port with --host (default ${DEFAULT_PORT})`),
    Options.optional
  ),
  tls: Options.boolean("tls").pipe(Options.withDescription("Use wss:// with --host")),
  token: Options.text("token").pipe(
    Options.withDescription("Gateway token, needed until paired (OPENCLAW_GATEWAY_TOKEN is safer)"),
    Options.optional
  ),
  password: Options.text("password").pipe(
    Options.withDescription("The Gateway's password (gateway.auth.password)"),
    Options.optional
  ),
  tlsFingerprint: Options.text("tls-fingerprint").pipe(
    Options.withPseudoName("sha256"),
    Options.withDescription("Pin the certificate's SHA-256 (wss:// only)"),
    Options.optional
  ),
  displayName: Options.text("display-name").pipe(
    Options.withDescription("Name operators see (nodeHost.displayName, default: the host name)"),
    Options.optional
  )
}

type Flags = {
  readonly [K in keyof typeof runOptions]: (typeof runOptions)[K] extends Options.Options<infer A> ? A : never
}

/** ssh failures another attempt will not fix: the node host stops (like `gateway tunnel` once it was up). */
const SSH_FATAL: ReadonlyArray<SshFailureKind> = [...SSH_FATAL_AFTER_UP, "spawn"]

/**
 * gateway.remote.transport "ssh": each connection attempt opens its own SSH tunnel (SshTunnel, a
 * free local port, stopped when the attempt's scope closes) and dials the Gateway URL with the
 * tunnel's local port.
 */
const sshLink = (
  ssh: SshTunnelService,
  spec: SshSpec,
  gatewayUrl: string
): Effect.Effect<NodeLink, NodeLinkError | NodeHostFatal, Scope.Scope> =>
  ssh.open(spec, { serverAliveIntervalS: 5 }).pipe(
    Effect.mapError((e) =>
      SSH_FATAL.includes(e.kind)
        ? new NodeHostFatal({ message: `cannot open the SSH tunnel: ${e.message}` })
        : new NodeLinkError({ message: e.message })
    ),
    Effect.map((tunnel) => {
      const local = new URL(gatewayUrl)
      local.port = String(tunnel.localPort)
      return {
        url: local.toString().replace(/\/$/, ""),
        via: `through the SSH tunnel to ${spec.target} (ssh pid ${tunnel.pid})`,
        down: Effect.map(tunnel.exited, (e) => e.message)
      }
    })
  )

/** The node host's log: lines quote the Gateway (request ids, messages), so each stays one visible line. */
const log = (line: string) => writeText(`[node] ${forTerminal(line)}\n`)

const runNode = (flags: Flags) =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(process.env)
    const host = Option.getOrUndefined(flags.host)
    const explicitUrl =
      Option.getOrUndefined(flags.url) ??
      (host === undefined
        ? undefined
        : `${flags.tls ? "wss" : "ws"}://${host.includes(":") ? `[${host}]` : host}:${Option.getOrElse(flags.port, () => DEFAULT_PORT)}`)
    const token = Option.getOrUndefined(flags.token)
    const password = Option.getOrUndefined(flags.password)
    const tlsFingerprint = Option.getOrUndefined(flags.tlsFingerprint)
    const identity = yield* Effect.try({
      try: () => loadOrCreateIdentity(loaded.stateDir),
      catch: (e) =>
        new ConfigError({ message: `device identity in ${loaded.stateDir}/identity: ${(e as Error).message}` })
    })
    const target = yield* Effect.try({
      try: () => {
        if (explicitUrl === undefined) return resolveTarget(loaded, process.env, { token, password, tlsFingerprint })
        // A URL from the command line gets only credentials from the command line, or this
        // identity's own device token for exactly that URL.
        const paired = loadDeviceToken(loaded.stateDir, explicitUrl, identity.deviceId) !== undefined
        return paired || token !== undefined || password !== undefined
          ? resolveTarget(loaded, process.env, { url: explicitUrl, token: token ?? "", password, tlsFingerprint })
          : resolveTarget(loaded, process.env, { url: explicitUrl, tlsFingerprint })
      },
      catch: (e) => (e instanceof ConfigError ? e : new ConfigError({ message: String(e) }))
    })
    yield* Effect.try({ try: () => checkPlaintext(target.url, process.env), catch: (e) => e as ConfigError })
    const nodeHost = loaded.file.nodeHost ?? {}
    let browser: BrowserController | undefined
    if (nodeHost.browser?.enabled !== false) {
      const found = findChromium(nodeHost.browser?.executablePath)
      const ssrf = nodeHost.browser?.ssrfPolicy
      if (found.path !== undefined)
        browser = new BrowserController(found.path, nodeHost.browser?.headless ?? true, {
          policy: {
            dangerouslyAllowPrivateNetwork: ssrf?.dangerouslyAllowPrivateNetwork ?? false,
            allowedHostnames: ssrf?.allowedHostnames ?? []
          },
          note: log
        })
      else log(`browser control disabled: ${found.problem}`)
    }
    const displayName = Option.getOrUndefined(flags.displayName) ?? nodeHost.displayName ?? os.hostname()
    log(
      `node ${identity.deviceId} (${displayName}); identity ${identity.file}${browser ? `; browser ${browser.executablePath}` : ""}`
    )
    if (browser !== undefined) {
      log(`browser sandbox: ${browser.sandbox.sandbox ? "on" : "off"} (${browser.sandbox.why})`)
      log(
        browser.policy.dangerouslyAllowPrivateNetwork
          ? "browser may load this machine's loopback, link-local and metadata addresses (nodeHost.browser.ssrfPolicy.dangerouslyAllowPrivateNetwork)"
          : `browser blocks this machine's loopback, link-local and metadata addresses${browser.policy.allowedHostnames.length > 0 ? `, except ${browser.policy.allowedHostnames.join(", ")}` : ""} (nodeHost.browser.ssrfPolicy)`
      )
    }
    const ssh = yield* SshTunnel
    // The host closes its connection and SSH tunnel when it ends or is interrupted: no ssh outlives it.
    return yield* runNodeHost({
      url: target.url,
      ...(target.token ? { token: target.token } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.tlsFingerprint === undefined ? {} : { tlsFingerprint: target.tlsFingerprint }),
      stateDir: loaded.stateDir,
      ...(explicitUrl === undefined ? {} : { trustRootListener: true }),
      identity,
      displayName,
      ...(browser === undefined ? {} : { browser }),
      log,
      ...(target.ssh === undefined ? {} : { openLink: sshLink(ssh, target.ssh, target.url) })
    }).pipe(
      Effect.ensuring(Effect.promise(async () => browser?.close())),
      Effect.catchTag("NodeHostFatal", (e) =>
        fail(
          1,
          `node host stopped: ${forTerminal(e.message)}\nGateway target: ${target.url} (${target.source})${target.pinSource ? `\nTLS pin: ${target.pinSource}` : ""}`
        )
      )
    )
  }).pipe(
    Effect.provide(SshTunnel.layer),
    Effect.catchTag("ConfigError", (e) => fail(e.exitCode, `Config error: ${e.message}`))
  )

const runCommand = Command.make("run", runOptions, runNode).pipe(
  Command.withDescription("Connect to a Gateway as a node and offer this machine's browser")
)

export const nodeCommand = Command.make("node").pipe(
  Command.withDescription("Node host commands (run this on the machine whose browser the Gateway should use)"),
  Command.withSubcommands([runCommand])
)
