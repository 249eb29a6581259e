/**
 * `openclaw gateway [run|status|health|call|agent|send]`: run the Gateway in the foreground, or talk
 * to one; `install|uninstall|start|stop|restart|logs` keep it running as a user service (service.ts).
 */
import { Command, Options } from "@effect/cli"
import { Effect, Logger, LogLevel, Option } from "effect"
import { BindModes, AuthModes, TailscaleModes } from "../config/schema.js"
import type { ServerFlags } from "../config/settings.js"
import { GatewayConfig } from "../services/config/GatewayConfig.js"
import { agentCommand, sendCommand } from "./agent.js"
import { fail } from "./exit.js"
import { writeError } from "./output.js"
import { forTerminal } from "../protocol/client-text.js"
import { serveGateway } from "./gateway-serve.js"
import { portFlag } from "./flags.js"
import { callCommand, healthCommand, statusCommand } from "./inspect.js"
import { passwordCommand, tokenCommand } from "./secret.js"
import { serviceCommands } from "./service.js"
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

/**
 * Plain one-line logs on stderr: `[gateway] warning: ...`. Messages quote clients (names, ids,
 * addresses, reasons): each entry stays one line of visible characters (forTerminal), so no client
 * can forge another entry or drive the terminal of whoever reads the log.
 */
const plainLogger = Logger.make(({ logLevel, message }) => {
  const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
  const level = logLevel._tag === "Info" ? "" : `${logLevel._tag.toLowerCase()}: `
  writeError(`[gateway] ${level}${forTerminal(text)}\n`)
})

const runGateway = (flags: RunFlags) =>
  Effect.gen(function* () {
    const settings = yield* GatewayConfig.load({
      env: process.env,
      flags: toServerFlags(flags),
      createIfMissing: true
    }).pipe(Effect.catchTag("ConfigError", (e) => fail(e.exitCode, `Config error: ${e.message}`)))
    if (settings.auth.mode === "none") {
      yield* Effect.logWarning(
        'gateway.auth.mode is "none": any local process or web page can control this Gateway; use token auth unless you know why'
      )
    }
    yield* serveGateway(settings)
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
    passwordCommand,
    ...serviceCommands
  ])
)
