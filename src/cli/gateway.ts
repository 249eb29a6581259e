/** `openclaw gateway [run|status|health|call|agent|send]`: run the Gateway in the foreground, or talk to one. */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Layer, Logger, LogLevel, Option } from "effect"
import { BindModes, AuthModes, TailscaleModes } from "../config/schema.js"
import type { ServerFlags } from "../config/settings.js"
import { lanLines } from "../services/binder/lan-addresses.js"
import { removeRuntimeRecord, runtimeRecordPath, writeRuntimeRecord } from "../config/runtime-record.js"
import { gatewayServices } from "../layers/index.js"
import { AgentRuntime } from "../services/agent/AgentRuntime.js"
import { Gateway } from "../services/gateway/Gateway.js"
import { GatewayConfig } from "../services/config/GatewayConfig.js"
import { type ExposureStatus, TailscaleExposure } from "../services/tailscale/TailscaleExposure.js"
import { agentCommand, sendCommand } from "./agent.js"
import { fail } from "./exit.js"
import { portFlag } from "./flags.js"
import { callCommand, healthCommand, statusCommand } from "./inspect.js"
import { passwordCommand, tokenCommand } from "./secret.js"
import { tunnelCommand } from "./tunnel.js"

export const runOptions = {
  port: portFlag("port", true).pipe(
    Options.withDescription("Port for WebSocket and HTTP (gateway.port, default 18789)"),
    Options.optional
  ),
  bind: Options.choice("bind", BindModes).pipe(
    Options.withDescription("Where to listen (gateway.bind)"),
    Options.optional
  ),
  auth: Options.choice("auth", AuthModes).pipe(
    Options.withDescription("Auth mode (gateway.auth.mode)"),
    Options.optional
  ),
  token: Options.text("token").pipe(
    Options.withDescription("Shared token (gateway.auth.token); prefer --token-file (ps shows flags)"),
    Options.optional
  ),
  tokenFile: Options.file("token-file", { exists: "yes" }).pipe(
    Options.withDescription("Read the token from a file (its first line)"),
    Options.optional
  ),
  password: Options.text("password").pipe(
    Options.withDescription("Shared password (gateway.auth.password); prefer --password-file"),
    Options.optional
  ),
  passwordFile: Options.file("password-file", { exists: "yes" }).pipe(
    Options.withDescription("Read the password from a file (its first line)"),
    Options.optional
  ),
  tailscale: Options.choice("tailscale", TailscaleModes).pipe(
    Options.withDescription("Tailscale exposure (gateway.tailscale.mode)"),
    Options.optional
  ),
  tailscaleResetOnExit: Options.boolean("tailscale-reset-on-exit").pipe(
    Options.withDescription("Withdraw the Serve route on exit (Funnel always is)")
  ),
  verbose: Options.boolean("verbose").pipe(Options.withDescription("Log connections and refusals"))
}

type RunFlags = {
  readonly [K in keyof typeof runOptions]: (typeof runOptions)[K] extends Options.Options<infer A> ? A : never
}

export const toServerFlags = (f: Partial<RunFlags>): ServerFlags => ({
  port: f.port && Option.getOrUndefined(f.port),
  bind: f.bind && Option.getOrUndefined(f.bind),
  auth: f.auth && Option.getOrUndefined(f.auth),
  token: f.token && Option.getOrUndefined(f.token),
  tokenFile: f.tokenFile && Option.getOrUndefined(f.tokenFile),
  password: f.password && Option.getOrUndefined(f.password),
  passwordFile: f.passwordFile && Option.getOrUndefined(f.passwordFile),
  tailscale: f.tailscale && Option.getOrUndefined(f.tailscale),
  tailscaleResetOnExit: f.tailscaleResetOnExit ? true : undefined,
  verbose: f.verbose
})

/** The start-up lines for Tailscale exposure: the route, and where to reach the Gateway through it. */
export const exposureLines = (exposure: ExposureStatus): Array<string> => {
  if (exposure.mode === "off") return []
  if (exposure.state === "active") {
    return [
      `  Tailscale:  ${exposure.mode} active (${exposure.route}${exposure.resetOnExit ? ", removed on exit" : ", kept on exit"})`,
      `  Remote UI:  ${exposure.url}`,
      `  Remote WS:  ${exposure.wsUrl}`
    ]
  }
  return [`  Tailscale:  ${exposure.mode} failed: ${exposure.reason} (retrying; serving on loopback meanwhile)`]
}

/** Plain one-line logs on stderr: `[gateway] warning: ...`. */
const plainLogger = Logger.make(({ logLevel, message }) => {
  const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
  const level = logLevel._tag === "Info" ? "" : `${logLevel._tag.toLowerCase()}: `
  process.stderr.write(`[gateway] ${level}${text}\n`)
})

const runGateway = (flags: RunFlags) =>
  Effect.gen(function* () {
    const settings = yield* GatewayConfig.load({ flags: toServerFlags(flags), createIfMissing: true }).pipe(
      Effect.catchTag("ConfigError", (e) => fail(e.exitCode, `Config error: ${e.message}`))
    )
    if (settings.auth.mode === "none") {
      yield* Effect.logWarning(
        'gateway.auth.mode is "none": any local process or web page can control this Gateway; use token auth unless you know why'
      )
    }
    const program = Effect.gen(function* () {
      const gateway = yield* Gateway
      const exposure = yield* (yield* TailscaleExposure).status
      const agent = yield* AgentRuntime
      const http = gateway.url.replace(/^ws/, "http")
      const details = [
        `  Config:     ${settings.configPath}`,
        `  Auth:       ${settings.auth.mode}${settings.auth.secretSource ? ` (from ${settings.auth.secretSource})` : ""}`,
        `  Bind:       ${settings.bind} (${gateway.listeners.addresses.map((a) => a.host).join(", ")})`,
        ...(gateway.listeners.effectiveMode === "lan"
          ? lanLines(gateway.listeners.port, {
              tls: gateway.tls !== undefined,
              controlUiPath: settings.controlUi.enabled ? settings.controlUi.basePath : undefined
            })
          : []),
        ...(gateway.tls
          ? [
              `  TLS:        TLS 1.3, certificate sha256 ${gateway.tls.fingerprint}`,
              `              (${gateway.tls.source}: ${gateway.tls.certPath})`
            ]
          : []),
        ...(settings.controlUi.enabled ? [`  Control UI: ${http}${settings.controlUi.basePath}/`] : []),
        `  Health:     ${http}/healthz`,
        `  Agent:      ${agent.provider.label}`,
        ...exposureLines(exposure)
      ]
      // Remembered for the local CLI (`openclaw status`, `dashboard` ...), removed when this scope closes.
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          try {
            writeRuntimeRecord(settings.stateDir, {
              pid: process.pid,
              port: gateway.listeners.port,
              bind: settings.bind,
              addresses: gateway.listeners.addresses.map((a) => a.host),
              url: gateway.url,
              ...(settings.controlUi.enabled ? { controlUiUrl: `${http}${settings.controlUi.basePath}/` } : {}),
              healthUrl: `${http}/healthz`,
              ...(gateway.tls ? { tlsFingerprint: gateway.tls.fingerprint, tlsCertPath: gateway.tls.certPath } : {}),
              authMode: settings.auth.mode,
              ...(settings.auth.secretSource ? { secretSource: settings.auth.secretSource } : {}),
              configPath: settings.configPath,
              startedAt: new Date().toISOString()
            })
          } catch (e) {
            process.stderr.write(
              `[gateway] warning: cannot write ${runtimeRecordPath(settings.stateDir)} (${(e as NodeJS.ErrnoException).code ?? e}); local commands will not find this port by themselves\n`
            )
          }
        }),
        () => Effect.sync(() => removeRuntimeRecord(settings.stateDir))
      )
      // One write, so whoever waits for the ready line gets the details with it.
      yield* Console.log([`listening on ${gateway.url} (PID ${process.pid})`, ...details].join("\n"))
      return yield* Effect.never
    }).pipe(Effect.scoped)
    yield* program.pipe(
      Effect.provide(gatewayServices(Layer.succeed(GatewayConfig, settings))),
      Effect.catchTags({
        BindError: (e) => fail(e.config ? 78 : 1, `Cannot start the Gateway: ${e.message}`),
        TlsSetupError: (e) => fail(e.config ? 78 : 1, `Cannot start the Gateway: ${e.message}`),
        ExposureConflict: (e) => fail(e.exitCode, `Cannot start the Gateway: ${e.message}`),
        PairingError: (e) => fail(1, `Cannot start the Gateway: pairing state: ${e.message}`)
      })
    )
  }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, plainLogger)), Logger.withMinimumLogLevel(LogLevel.Info))

const runCommand = Command.make("run", runOptions, runGateway).pipe(
  Command.withDescription("Run the Gateway in the foreground (Ctrl-C stops it)")
)

export const gatewayCommand = Command.make("gateway", runOptions, runGateway).pipe(
  Command.withDescription("Run the Gateway (default: run), or query one"),
  Command.withSubcommands([
    runCommand,
    statusCommand("status"),
    healthCommand("health"),
    callCommand,
    agentCommand,
    sendCommand,
    tunnelCommand,
    tokenCommand,
    passwordCommand
  ])
)
