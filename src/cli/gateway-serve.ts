/**
 * `gateway run` once its settings are loaded: the whole server graph, started, announced (the
 * ready line and the runtime record) and kept up until interrupted. (Imported statically: loading
 * it lazily saved no measurable CLI start-up and cost the running Gateway 2.3 MiB of idle RSS.)
 */ import { Console, Effect, Layer } from "effect"
import { removeRuntimeRecord, runtimeRecordPath, writeRuntimeRecord } from "../config/runtime-record.js"
import type { GatewaySettings } from "../config/settings.js"
import { gatewayServices } from "../layers/index.js"
import { AgentRuntime } from "../services/agent/AgentRuntime.js"
import { Auth, type AuthService } from "../services/auth/Auth.js"
import { lanLines } from "../services/binder/lan-addresses.js"
import { GatewayConfig } from "../services/config/GatewayConfig.js"
import { Gateway } from "../services/gateway/api.js"
import { type ExposureStatus, TailscaleExposure } from "../services/tailscale-exposure/TailscaleExposure.js"
import { fail } from "./exit.js"
import { writeError } from "./output.js"

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

/**
 * How to sign in to the Control UI, under its address. On a terminal (someone is watching) a
 * one-time sign-in link (a fresh code: one use, about 2 minutes); anywhere else (a service
 * journal, a log file) only the command that makes one: a link there would outlive its code, and
 * the long-lived token never goes in either.
 */
export const signInLine = (auth: AuthService, controlUiUrl: string, terminal: boolean): string | undefined => {
  if (auth.mode === "none") return undefined
  if (!terminal || auth.mintSignInCode === undefined) return "  Sign in:    `openclaw dashboard`"
  const { code, expiresAt } = auth.mintSignInCode()
  const seconds = Math.max(1, Math.round((expiresAt - Date.now()) / 1000))
  const within = seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} minutes`
  return `  Sign in:    ${controlUiUrl}#code=${encodeURIComponent(code)}\n              (one use, within ${within}; later: \`openclaw dashboard\`)`
}

export const serveGateway = (settings: GatewaySettings) => {
  const program = Effect.gen(function* () {
    const gateway = yield* Gateway
    const exposure = yield* (yield* TailscaleExposure).status
    const agent = yield* AgentRuntime
    const auth = yield* Auth
    const http = gateway.url.replace(/^ws/, "http")
    const controlUiUrl = `${http}${settings.controlUi.basePath}/`
    const signIn = settings.controlUi.enabled
      ? signInLine(auth, controlUiUrl, process.stdout.isTTY === true)
      : undefined
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
      ...(settings.controlUi.enabled ? [`  Control UI: ${controlUiUrl}`] : []),
      ...(signIn === undefined ? [] : [signIn]),
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
            ...(settings.controlUi.enabled ? { controlUiUrl } : {}),
            healthUrl: `${http}/healthz`,
            ...(gateway.tls ? { tlsFingerprint: gateway.tls.fingerprint, tlsCertPath: gateway.tls.certPath } : {}),
            authMode: settings.auth.mode,
            ...(settings.auth.secretSource ? { secretSource: settings.auth.secretSource } : {}),
            ...(settings.auth.secretFile ? { secretFile: settings.auth.secretFile } : {}),
            ...(settings.auth.mode === "none" ? {} : { secretGeneration: 0, secretSince: new Date().toISOString() }),
            configPath: settings.configPath,
            startedAt: new Date().toISOString()
          })
        } catch (e) {
          writeError(
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
  return program.pipe(
    Effect.provide(gatewayServices(Layer.succeed(GatewayConfig, settings))),
    Effect.catchTags({
      BindError: (e) => fail(e.config ? 78 : 1, `Cannot start the Gateway: ${e.message}`),
      TlsSetupError: (e) => fail(e.config ? 78 : 1, `Cannot start the Gateway: ${e.message}`),
      ExposureConflict: (e) => fail(e.exitCode, `Cannot start the Gateway: ${e.message}`),
      PairingError: (e) => fail(1, `Cannot start the Gateway: pairing state: ${e.message}`)
    })
  )
}
