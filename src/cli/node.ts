/** `openclaw node run`: the node host, on the machine whose browser the Gateway should drive. */
import * as os from "node:os"
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { checkPlaintext, resolveTarget } from "../client/target.js"
import { ConfigError, loadConfig } from "../config/load.js"
import { DEFAULT_PORT } from "../config/settings.js"
import { BrowserController, findChromium } from "../node/browser.js"
import { NodeHostFatal, runNodeHost } from "../node/host.js"
import { loadDeviceToken, loadOrCreateIdentity } from "../node/identity.js"
import { fail } from "./exit.js"

const runOptions = {
  url: Options.text("url").pipe(Options.withDescription("Gateway WebSocket URL (ws:// or wss://); needs --token or --password until paired"), Options.optional),
  host: Options.text("host").pipe(Options.withDescription("Gateway host (instead of --url)"), Options.optional),
  port: Options.integer("port").pipe(Options.withDescription(`Gateway port with --host (default ${DEFAULT_PORT})`), Options.optional),
  tls: Options.boolean("tls").pipe(Options.withDescription("Use wss:// with --host")),
  token: Options.text("token").pipe(Options.withDescription("The Gateway's token (gateway.auth.token)"), Options.optional),
  password: Options.text("password").pipe(Options.withDescription("The Gateway's password (gateway.auth.password)"), Options.optional),
  tlsFingerprint: Options.text("tls-fingerprint").pipe(Options.withDescription("SHA-256 fingerprint the Gateway's certificate must have (wss://)"), Options.optional),
  displayName: Options.text("display-name").pipe(Options.withDescription("Name operators see (nodeHost.displayName, default: the host name)"), Options.optional)
}

type Flags = { readonly [K in keyof typeof runOptions]: (typeof runOptions)[K] extends Options.Options<infer A> ? A : never }

const log = (line: string) => process.stdout.write(`[node] ${line}\n`)

const runNode = (flags: Flags) =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(process.env)
    const host = Option.getOrUndefined(flags.host)
    const explicitUrl = Option.getOrUndefined(flags.url) ?? (host === undefined ? undefined : `${flags.tls ? "wss" : "ws"}://${host.includes(":") ? `[${host}]` : host}:${Option.getOrElse(flags.port, () => DEFAULT_PORT)}`)
    const token = Option.getOrUndefined(flags.token)
    const password = Option.getOrUndefined(flags.password)
    const tlsFingerprint = Option.getOrUndefined(flags.tlsFingerprint)
    const identity = yield* Effect.try({
      try: () => loadOrCreateIdentity(loaded.stateDir),
      catch: (e) => new ConfigError({ message: `device identity in ${loaded.stateDir}/identity: ${(e as Error).message}` })
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
    if (target.ssh !== undefined) {
      return yield* fail(
        78,
        `Config error: gateway.remote.transport is "ssh", but the node host does not open SSH tunnels itself: keep one up with \`openclaw gateway tunnel\` (or ssh -N -L 18789:127.0.0.1:18789 ${target.ssh.target}) and pass --url ws://127.0.0.1:18789 --token ...`
      )
    }
    yield* Effect.try({ try: () => checkPlaintext(target.url, process.env), catch: (e) => e as ConfigError })
    const nodeHost = loaded.file.nodeHost ?? {}
    let browser: BrowserController | undefined
    if (nodeHost.browser?.enabled !== false) {
      const found = findChromium(nodeHost.browser?.executablePath)
      if (found.path !== undefined) browser = new BrowserController(found.path, nodeHost.browser?.headless ?? true)
      else log(`browser control disabled: ${found.problem}`)
    }
    const displayName = Option.getOrUndefined(flags.displayName) ?? nodeHost.displayName ?? os.hostname()
    log(`node ${identity.deviceId} (${displayName}); identity ${identity.file}${browser ? `; browser ${browser.executablePath}` : ""}`)
    yield* Effect.acquireUseRelease(
      Effect.sync(() => new AbortController()),
      (abort) =>
        Effect.tryPromise({
          try: () =>
            runNodeHost(
              {
                url: target.url,
                ...(target.token ? { token: target.token } : {}),
                ...(target.password ? { password: target.password } : {}),
                ...(target.tlsFingerprint === undefined ? {} : { tlsFingerprint: target.tlsFingerprint }),
                stateDir: loaded.stateDir,
                identity,
                displayName,
                ...(browser === undefined ? {} : { browser }),
                log
              },
              abort.signal
            ),
          catch: (e) => e
        }),
      (abort) =>
        Effect.promise(async () => {
          abort.abort()
          await browser?.close()
        })
    ).pipe(
      Effect.catchAll((e) =>
        e instanceof NodeHostFatal
          ? fail(1, `node host stopped: ${e.message}\nGateway target: ${target.url} (${target.source})${target.pinSource ? `\nTLS pin: ${target.pinSource}` : ""}`)
          : Effect.die(e)
      )
    )
  }).pipe(Effect.catchTag("ConfigError", (e) => fail(e.exitCode, `Config error: ${e.message}`)))

const runCommand = Command.make("run", runOptions, runNode).pipe(
  Command.withDescription("Run a node host: connect to a Gateway as a node and offer this machine's browser (Ctrl-C stops it)")
)

export const nodeCommand = Command.make("node").pipe(
  Command.withDescription("Node host commands (run this on the machine whose browser the Gateway should use)"),
  Command.withSubcommands([runCommand])
)
