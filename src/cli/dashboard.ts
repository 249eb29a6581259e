/**
 * `openclaw dashboard` (OpenClaw's name): the Control UI link for the Gateway this CLI targets,
 * with `#token=` so the browser signs in once (the page stores the token and removes it from the
 * address bar), opened in a browser where one exists.
 */
import { spawn } from "node:child_process"
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import type { Target } from "../client/target.js"
import type { LoadedConfig } from "../config/load.js"
import { runtimeRecordPath } from "../config/runtime-record.js"
import { normaliseBasePath } from "../config/settings.js"
import { findOnPath } from "../platform/executable.js"
import { loadClientTarget, printJson } from "./client.js"
import { fail } from "./exit.js"
import { portFlag } from "./flags.js"

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
  (flags) =>
    Effect.gen(function* () {
      const none = Option.none<string>()
      const { loaded, target } = yield* loadClientTarget({
        url: none,
        port: flags.port,
        token: none,
        password: none,
        tlsFingerprint: none,
        timeout: 10_000,
        json: flags.json
      })
      if (target.ssh !== undefined) {
        return yield* fail(
          1,
          `The Gateway is reached through an SSH tunnel (${target.source}) that closes when a command ends: run \`openclaw gateway tunnel\` and open the Control UI address it prints`
        )
      }
      const base = controlUiUrl(target, loaded)
      if (base === undefined)
        return yield* fail(
          1,
          "The Control UI is off on this Gateway: set gateway.controlUi.enabled to true and restart it"
        )
      const link = target.token !== undefined ? `${base}#token=${encodeURIComponent(target.token)}` : base
      const signIn = target.token !== undefined ? "token" : target.password !== undefined ? "password" : "none"
      const notRunning = !target.remote && target.running === undefined
      if (flags.json) {
        return yield* printJson({
          url: link,
          controlUiUrl: base,
          signIn,
          source: target.source,
          ...(target.running ? { pid: target.running.pid } : {}),
          running: target.running !== undefined
        })
      }
      const lines = [`Control UI: ${link}`]
      if (signIn === "token")
        lines.push(
          "  The link signs this browser in once and leaves the address bar (the page then keeps a device token of its own, or the token on plain http to a LAN address)."
        )
      if (signIn === "password")
        lines.push("  Sign in on the page with the Gateway's password (gateway.auth.password).")
      lines.push(`  Gateway: ${target.source}`)
      if (notRunning)
        lines.push(
          `  No running Gateway recorded in ${runtimeRecordPath(loaded.stateDir)}: start one with \`openclaw gateway run\`.`
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
    }).pipe(Effect.catchTag("ConfigError", (e) => fail(e.exitCode, `Config error: ${e.message}`)))
).pipe(Command.withDescription("Print the Control UI sign-in link and open it in a browser"))
