/**
 * launchd (macOS), through `launchctl` only. Stop is `bootout` and start `bootstrap`: the legacy
 * `load`/`unload` verbs leave agents unloaded after a stop then start (OpenClaw's users report it),
 * and a plain kill would be undone by KeepAlive.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { ProcessRunner } from "../../platform/process-runner.js"
import type { ServiceDriver, ServiceStatus } from "./driver.js"
import { NoServiceManager, ServiceCommandFailed } from "./errors.js"
import { firstLine } from "./systemd.js"
import { LAUNCHD_LABEL, launchdPlist } from "./unit-file.js"

const TIMEOUT = "30 seconds"

const run = (argv: ReadonlyArray<string>) =>
  Effect.flatMap(ProcessRunner, (p) => p.run(argv, { timeout: TIMEOUT })).pipe(
    Effect.mapError((e) => new ServiceCommandFailed({ command: argv.join(" "), detail: firstLine(e) }))
  )

/** `launchctl print gui/<uid>/<label>`: `state = running`, `pid = 123`, `last exit code = 1`. */
export const parsePrint = (text: string) => {
  const field = (name: string) => new RegExp(`^\\s*${name} = (.+)$`, "m").exec(text)?.[1]?.trim()
  return { state: field("state"), pid: field("pid"), lastExit: field("last exit code") }
}

const fileSize = (file: string): number | undefined => {
  try {
    return fs.statSync(file).size
  } catch {
    return undefined
  }
}

export interface LaunchdOptions {
  /** ~/Library/LaunchAgents */
  readonly agentDir: string
  readonly uid: number
  /** The file StandardOutPath and StandardErrorPath name. */
  readonly logFile: string
  readonly fileExists: (file: string) => boolean
}

export const launchdDriver = (options: LaunchdOptions): ServiceDriver => {
  const plistPath = path.join(options.agentDir, `${LAUNCHD_LABEL}.plist`)
  const domain = `gui/${options.uid}`
  const service = `${domain}/${LAUNCHD_LABEL}`
  const launchctl = (...args: ReadonlyArray<string>) => run(["launchctl", ...args])
  const loaded = Effect.flatMap(ProcessRunner, (p) =>
    p.run(["launchctl", "print", service], { timeout: TIMEOUT })
  ).pipe(
    Effect.map((text) => ({ loaded: true as const, text })),
    Effect.orElseSucceed(() => ({ loaded: false as const, text: "" }))
  )
  const bootstrap = Effect.asVoid(launchctl("bootstrap", domain, plistPath))
  const bootout = Effect.flatMap(loaded, (s) => (s.loaded ? Effect.asVoid(launchctl("bootout", service)) : Effect.void))
  return {
    manager: "launchd",
    unit: LAUNCHD_LABEL,
    path: plistPath,
    render: launchdPlist,
    probe: Effect.flatMap(ProcessRunner, (p) => p.run(["launchctl", "print", domain], { timeout: "10 seconds" })).pipe(
      Effect.asVoid,
      Effect.mapError(
        (e) =>
          new NoServiceManager({
            reason:
              e._tag === "ProcessNotFound"
                ? "launchctl is not installed"
                : `\`launchctl print ${domain}\` says: ${firstLine(e)} (no GUI session for this user?)`
          })
      )
    ),
    // bootstrap loads the file as it is now, so a replaced plist is booted out first.
    activate: () => Effect.zipRight(bootout, bootstrap),
    deactivate: bootout,
    forget: Effect.void,
    start: Effect.flatMap(loaded, (s) => (s.loaded ? Effect.asVoid(launchctl("kickstart", service)) : bootstrap)),
    stop: bootout,
    restart: Effect.flatMap(loaded, (s) =>
      s.loaded ? Effect.asVoid(launchctl("kickstart", "-k", service)) : bootstrap
    ),
    status: Effect.map(loaded, (s): ServiceStatus => {
      const p = parsePrint(s.text)
      const pid = Number(p.pid ?? "0")
      const lastExit = p.lastExit && /^-?\d+$/.test(p.lastExit) ? `exit code ${p.lastExit}` : undefined
      return {
        manager: "launchd",
        unit: LAUNCHD_LABEL,
        path: plistPath,
        installed: options.fileExists(plistPath),
        active: s.loaded ? (p.state ?? "loaded") : "not loaded",
        enabled: options.fileExists(plistPath),
        ...(pid > 0 ? { pid } : {}),
        ...(lastExit ? { lastExit } : {})
      }
    }),
    logs: (follow, write) =>
      Effect.gen(function* () {
        let offset: number | undefined
        const readMore = () => {
          const size = fileSize(options.logFile)
          if (size === undefined) return
          // The last 64 KiB at first, like journalctl -n; from the start again after a truncation.
          if (offset === undefined) offset = Math.max(0, size - 65_536)
          else if (size < offset) offset = 0
          if (size === offset) return
          const fd = fs.openSync(options.logFile, "r")
          try {
            const buffer = Buffer.alloc(size - offset)
            fs.readSync(fd, buffer, 0, buffer.length, offset)
            write(buffer.toString("utf8"))
            offset = size
          } finally {
            fs.closeSync(fd)
          }
        }
        readMore()
        while (follow) {
          yield* Effect.sleep("500 millis")
          readMore()
        }
      })
  }
}
