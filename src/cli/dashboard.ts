/**
 * `openclaw dashboard` (OpenClaw's name): a one-time sign-in link to the Control UI of the running
 * Gateway, opened in a browser where one exists. The link carries `#code=`, a code the Gateway
 * mints for it (one use, about 2 minutes: services/auth/sign-in-codes.ts), never the long-lived
 * token: an opener's argv is readable by every local user, and a browser keeps its argv and history.
 * With no Gateway confirmed running nothing is opened (the port may be anybody's).
 */
import { spawn } from "node:child_process"
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import type { GatewayClientError } from "../client/GatewayClient.js"
import type { Target } from "../client/target.js"
import type { LoadedConfig } from "../config/load.js"
import { runtimeRecordPath } from "../config/runtime-record.js"
import { normaliseBasePath } from "../config/settings.js"
import { findOnPath } from "../platform/executable.js"
import { SIGN_IN_CODE_METHOD } from "../protocol/contracts/sign-in.js"
import { type ClientFlags, loadClientTarget, printJson, withGateway } from "./client.js"
import { fail } from "./exit.js"
import { portFlag } from "./flags.js"
import { readTunnelState } from "./tunnel.js"

/** The Control UI's address (no credential): from the running Gateway's record, else from the config. */
const controlUiUrl = (target: Target, loaded: LoadedConfig): string | undefined => {
  if (target.running !== undefined) return target.running.controlUiUrl
  const http = target.url.replace(/^ws/, "http").replace(/\/+$/, "")
  if (target.remote) return `${http}/`
  const ui = loaded.file.gateway?.controlUi
  return ui?.enabled === false ? undefined : `${http}${normaliseBasePath(ui?.basePath)}/`
}

/** xdg-open / open, only where a graphical session can show a browser (never a text browser in this terminal). */
const opener = (env: NodeJS.ProcessEnv): string | undefined => {
  if (process.platform === "darwin") return findOnPath(["open"], env.PATH)
  if (process.platform === "win32") return undefined
  if ((env.DISPLAY ?? "") === "" && (env.WAYLAND_DISPLAY ?? "") === "") return undefined
  return findOnPath(["xdg-open"], env.PATH)
}

const openLink = (command: string, url: string) =>
  Effect.async<boolean>((resume) => {
    const child = spawn(command, [url], { detached: true, stdio: "ignore" })
    child.once("error", () => resume(Effect.succeed(false)))
    child.once("spawn", () => {
      child.unref()
      resume(Effect.succeed(true))
    })
  })

/** What a Gateway answered, read as untrusted: any field may be missing or wrong (a hostile Gateway). */
interface MintedCode {
  readonly authMode?: string
  readonly code?: string
  readonly expiresAt?: number
}

/** The link with its code; a code only ever goes in the fragment, which no request carries to a server. */
const codeLink = (base: string, code: string) => `${base}#code=${encodeURIComponent(code)}`

export const dashboardCommand = Command.make(
  "dashboard",
  {
    noOpen: Options.boolean("no-open").pipe(Options.withDescription("Only print the link, do not open a browser")),
    port: portFlag("port").pipe(
      Options.withDescription("Port of a Gateway on this machine (default: the running one)"),
      Options.optional
    ),
    json: Options.boolean("json").pipe(Options.withDescription("Print the link as JSON (never opens a browser)"))
  },
  (flags) => {
    // With --json a script always gets a JSON object on stdout, a failure included; the message stays on stderr too.
    const refuse = (kind: string, message: string, code = 1) =>
      Effect.zipRight(
        flags.json ? printJson({ ok: false, running: false, error: { kind, message } }) : Effect.void,
        fail(code, message)
      )
    return Effect.gen(function* () {
      const none = Option.none<string>()
      const clientFlags: ClientFlags = {
        url: none,
        port: flags.port,
        token: none,
        password: none,
        tlsFingerprint: none,
        timeout: 10_000,
        json: flags.json
      }
      const { loaded, target } = yield* loadClientTarget(clientFlags)
      // Through SSH the browser needs a tunnel that stays up: a running `gateway tunnel` to the same
      // remote port. The code is minted through this command's own tunnel, the link points at that one.
      const tunnel = target.ssh === undefined ? undefined : readTunnelState(loaded.stateDir)
      if (target.ssh !== undefined && (tunnel?.state !== "up" || tunnel.remotePort !== target.ssh.remotePort)) {
        return yield* refuse(
          "ssh-tunnel",
          `The Gateway is reached through an SSH tunnel (${target.source}) that closes when a command ends, and no \`openclaw gateway tunnel\` is up: run it in another terminal, then \`openclaw dashboard\` again`
        )
      }
      const base =
        tunnel === undefined
          ? controlUiUrl(target, loaded)
          : `${target.url.startsWith("wss:") ? "https" : "http"}://127.0.0.1:${tunnel.localPort}/`
      if (base === undefined)
        return yield* refuse(
          "control-ui-off",
          "The Control UI is off on this Gateway: set gateway.controlUi.enabled to true and restart it"
        )
      // Whatever listens on the port without a record of ours may be another user's program: it
      // gets neither the token (to mint a code) nor a browser pointed at it.
      if (!target.remote && target.running === undefined) {
        const message = `No running Gateway recorded in ${runtimeRecordPath(loaded.stateDir)}${flags.port._tag === "Some" ? ` for port ${flags.port.value}` : ""}, so there is nothing to sign in to and nothing was opened: start it with \`openclaw gateway run\` (or as a service), then run \`openclaw dashboard\` again`
        return yield* refuse("not-running", message)
      }
      const minted = yield* withGateway(
        clientFlags,
        ["operator.admin"],
        "Cannot get a sign-in link from the Gateway (nothing was opened)",
        (conn) => conn.request(SIGN_IN_CODE_METHOD) as Effect.Effect<MintedCode, GatewayClientError>
      )
      // What the Gateway sent is checked like any server's answer: a code of the shape we mint, a sane time.
      const code =
        typeof minted.code === "string" && /^[A-Za-z0-9_-]{16,128}$/.test(minted.code) ? minted.code : undefined
      if (code === undefined && minted.authMode !== "none")
        return yield* refuse(
          "no-sign-in-code",
          `The Gateway at ${target.url} answered ${SIGN_IN_CODE_METHOD} without a usable sign-in code; nothing was opened (is it an OpenClaw Gateway of this version? \`openclaw status\` shows what answers there)`
        )
      const expiresAt =
        typeof minted.expiresAt === "number" &&
        Number.isFinite(minted.expiresAt) &&
        Math.abs(minted.expiresAt) < 8.64e15
          ? minted.expiresAt
          : undefined
      const link = code === undefined ? base : codeLink(base, code)
      if (flags.json) {
        return yield* printJson({
          url: link,
          controlUiUrl: base,
          signIn: code === undefined ? "none" : "code",
          ...(code !== undefined && expiresAt !== undefined ? { expiresAt: new Date(expiresAt).toISOString() } : {}),
          source: target.source,
          ...(target.running ? { pid: target.running.pid } : {}),
          running: true
        })
      }
      const lines = [`Control UI: ${link}`]
      if (code !== undefined) {
        const seconds =
          expiresAt === undefined ? 120 : Math.min(3600, Math.max(1, Math.round((expiresAt - Date.now()) / 1000)))
        lines.push(
          `  A one-time sign-in link: it works once, within ${seconds >= 90 ? `${Math.round(seconds / 60)} minutes` : `${seconds} s`}, and the page then keeps a device token of its own. Run \`openclaw dashboard\` again for another.`
        )
      }
      lines.push(
        `  Gateway: ${target.source}${tunnel === undefined ? "" : `, through \`openclaw gateway tunnel\` (PID ${tunnel.pid}) on 127.0.0.1:${tunnel.localPort}`}`
      )
      const command = flags.noOpen ? undefined : opener(process.env)
      if (!flags.noOpen) {
        const opened = command === undefined ? false : yield* openLink(command, link)
        lines.push(
          opened
            ? `  Opened in your browser (${command}).`
            : "  No browser to open here (no xdg-open/open or no graphical session): open the link yourself."
        )
      }
      yield* Console.log(lines.join("\n"))
    }).pipe(Effect.catchTag("ConfigError", (e) => refuse("config", `Config error: ${e.message}`, e.exitCode)))
  }
).pipe(Command.withDescription("Open the Control UI with a one-time sign-in link (never the token)"))
