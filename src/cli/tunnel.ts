/**
 * `openclaw gateway tunnel [--local-port N]`: keeps an SSH tunnel to the remote Gateway up in the
 * foreground for other tools (a browser on the Control UI, WebChat), restarting ssh with backoff
 * when it dies (services/ssh/keep-up.ts), printing each state change, and releasing everything on Ctrl-C / SIGTERM.
 * Its state is kept in <stateDir>/gateway/tunnel.json so `openclaw gateway status` can show it.
 */
import { Command, Options } from "@effect/cli"
import * as fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import * as path from "node:path"
import { Clock, Console, Duration, Effect, Option } from "effect"
import { resolveSshSpec } from "../client/target.js"
import { readPrivateText, writePrivateJson } from "../platform/private-file.js"
import { ConfigError, loadConfig } from "../config/load.js"
import { TLS_REQUIRED_HEADER, TLS_REQUIRED_VALUE } from "../protocol/frames.js"
import { keepTunnelUp } from "../services/ssh/keep-up.js"
import { SshTunnel } from "../services/ssh/SshTunnel.js"
import { fail } from "./exit.js"
import { portFlag } from "./flags.js"
import { writeText } from "./output.js"

export interface TunnelState {
  readonly pid: number
  readonly state: "starting" | "up" | "down"
  readonly sshTarget: string
  readonly localPort: number
  readonly remotePort: number
  readonly sshPid?: number
  readonly since: number
  readonly reason?: string
}

export const tunnelStateFile = (stateDir: string) => path.join(stateDir, "gateway", "tunnel.json")

const writeState = (file: string, state: TunnelState) =>
  Effect.sync(() => {
    try {
      writePrivateJson(file, state)
    } catch {
      // Status display only: never fail the tunnel for it.
    }
  })

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** The running `gateway tunnel`'s state, if one runs for this state directory. */
export const readTunnelState = (stateDir: string): TunnelState | undefined => {
  try {
    const state = JSON.parse(readPrivateText(tunnelStateFile(stateDir)) ?? "null") as TunnelState
    return typeof state.pid === "number" && isAlive(state.pid) ? state : undefined
  } catch {
    return undefined
  }
}

/**
 * GET /healthz through the tunnel: says whether a Gateway answers at the far end. Sends no
 * credential, so for wss it does not need the pin (a liveness probe, nothing to protect).
 */
const probeGateway = (secure: boolean, port: number) =>
  Effect.async<"answers" | "tls-only" | "silent">((resume) => {
    const req = (secure ? https : http).get(
      { host: "127.0.0.1", port, path: "/healthz", timeout: 3_000, rejectUnauthorized: false },
      (res) => {
        res.resume()
        // A TLS Gateway answers plaintext with this header (no pin configured, so we guessed http).
        const tlsOnly = !secure && res.headers[TLS_REQUIRED_HEADER] === TLS_REQUIRED_VALUE
        resume(Effect.succeed(res.statusCode === 200 ? "answers" : tlsOnly ? "tls-only" : "silent"))
      }
    )
    req.on("timeout", () => req.destroy())
    req.on("error", () => resume(Effect.succeed("silent" as const)))
  })

/** HH:MM:SS (UTC) of Effect's Clock, for the state-change lines. */
const stamp = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString().slice(11, 19))

export const tunnelCommand = Command.make(
  "tunnel",
  {
    localPort: portFlag("local-port").pipe(
      Options.withDescription("Local port of the tunnel (default: gateway.remote.remotePort, 18789)"),
      Options.optional
    )
  },
  (flags) =>
    Effect.gen(function* () {
      const loaded = yield* loadConfig(process.env)
      const spec = yield* Effect.try({
        try: () => resolveSshSpec(loaded, process.env),
        catch: (e) => (e instanceof ConfigError ? e : new ConfigError({ message: String(e) }))
      })
      const localPort = Option.getOrElse(flags.localPort, () => spec.remotePort)
      if (!Number.isInteger(localPort) || localPort < 1 || localPort > 65535) {
        return yield* fail(2, `--local-port: expected a port between 1 and 65535, got ${localPort}`)
      }
      const secure = loaded.file.gateway?.remote?.tlsFingerprint !== undefined
      const file = tunnelStateFile(loaded.stateDir)
      const base = { pid: process.pid, sshTarget: spec.target, localPort, remotePort: spec.remotePort }
      yield* Effect.addFinalizer(() =>
        Effect.flatMap(stamp, (at) =>
          Effect.sync(() => {
            fs.rmSync(file, { force: true })
            writeText(`[${at}] tunnel closed\n`)
          })
        )
      )
      yield* writeState(file, { ...base, state: "starting", since: yield* Clock.currentTimeMillis })

      const { reason, everUp } = yield* keepTunnelUp(
        spec,
        { localPort, serverAliveIntervalS: 5 },
        {
          onUp: (tunnel, again) =>
            Effect.gen(function* () {
              for (const line of tunnel.cleanedUp) yield* Console.log(`[${yield* stamp}] ${line}`)
              yield* writeState(file, {
                ...base,
                state: "up",
                sshPid: tunnel.pid,
                since: yield* Clock.currentTimeMillis
              })
              const where = `127.0.0.1:${localPort} -> ${spec.target} -> 127.0.0.1:${spec.remotePort}`
              const probe = yield* probeGateway(secure, localPort)
              const answers = probe === "answers"
              const tls = secure || probe === "tls-only"
              const gatewayLine = answers
                ? "  Gateway:    answers (/healthz OK)"
                : probe === "tls-only"
                  ? "  Gateway:    answers with TLS only (gateway.tls.enabled there): use the https:// and wss:// addresses; CLI commands need gateway.remote.tlsFingerprint (`openclaw gateway status` on the Gateway host shows it)"
                  : `  Gateway:    not answering on 127.0.0.1:${spec.remotePort} of ${spec.host}: start it there (openclaw gateway run) or check gateway.remote.remotePort`
              if (!again) {
                const ws = `${tls ? "wss" : "ws"}://127.0.0.1:${localPort}`
                const web = `${tls ? "https" : "http"}://127.0.0.1:${localPort}`
                yield* Console.log(
                  [
                    `[${yield* stamp}] tunnel up: ${where} (ssh pid ${tunnel.pid})`,
                    `  WebSocket:  ${ws}`,
                    `  Control UI: ${web}/`,
                    `  Health:     ${web}/healthz`,
                    gatewayLine,
                    `  CLI:        openclaw health --url ${ws} --token <the remote gateway.auth.token>${tls && !secure ? " --tls-fingerprint <its sha256 fingerprint>" : ""}`,
                    "Ctrl-C closes the tunnel."
                  ].join("\n")
                )
              } else {
                yield* Console.log(
                  `[${yield* stamp}] tunnel up again: ${where} (ssh pid ${tunnel.pid})${probe === "silent" ? `\n${gatewayLine}` : ""}`
                )
              }
            }),
          onDown: (reason, delay) =>
            Effect.gen(function* () {
              yield* writeState(file, {
                ...base,
                state: "down",
                since: yield* Clock.currentTimeMillis,
                reason: reason.message
              })
              yield* Console.log(
                `[${yield* stamp}] tunnel down: ${reason.message}; reconnecting in ${(Duration.toMillis(delay) / 1000).toFixed(1)} s`
              )
            })
        }
      )
      if (!everUp) return yield* fail(1, `Cannot open the SSH tunnel: ${reason.message}`)
      const what =
        reason.kind === "auth"
          ? "the SSH login was refused on reconnect"
          : "the SSH host key changed since the tunnel was opened"
      return yield* fail(1, `Stopped the SSH tunnel (${what}; not retrying): ${reason.message}`)
    }).pipe(
      Effect.scoped,
      Effect.provide(SshTunnel.layer),
      Effect.catchTag("ConfigError", (e) => fail(e.exitCode, `Config error: ${e.message}`))
    )
).pipe(Command.withDescription("Keep an SSH tunnel to gateway.remote.sshTarget open (Ctrl-C closes it)"))
