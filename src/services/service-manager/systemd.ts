/**
 * The systemd user manager, reached only through `systemctl --user`, `loginctl` and `journalctl`
 * (never by reading /run/systemd), so tests put a faithful fake on PATH.
 */
import * as path from "node:path"
import { Effect } from "effect"
import { ProcessRunner, type ProcessError } from "../../platform/process-runner.js"
import type { ServiceDriver, ServiceStatus } from "./driver.js"
import { NoServiceManager, ServiceCommandFailed } from "./errors.js"
import { SYSTEMD_UNIT, systemdUnit } from "./unit-file.js"

const TIMEOUT = "30 seconds"

/** The first line the program wrote to stderr (systemctl's reason), or how it failed. */
export const firstLine = (e: ProcessError): string => {
  const stderr = "stderr" in e ? e.stderr.trim().split("\n")[0] : undefined
  return stderr && stderr.length > 0 ? stderr : e.message
}

const run = (argv: ReadonlyArray<string>, env?: NodeJS.ProcessEnv) =>
  Effect.flatMap(ProcessRunner, (p) => p.run(argv, { timeout: TIMEOUT, ...(env ? { env } : {}) })).pipe(
    Effect.mapError((e) => new ServiceCommandFailed({ command: argv.join(" "), detail: firstLine(e) }))
  )

const PROPERTIES = [
  "LoadState",
  "ActiveState",
  "SubState",
  "MainPID",
  "ExecMainStartTimestamp",
  "ExecMainCode",
  "ExecMainStatus",
  "UnitFileState",
  "NRestarts"
]

/** `systemctl show` prints `Key=value` lines, in its own order. */
export const parseShow = (text: string): Record<string, string> => {
  const props: Record<string, string> = {}
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=")
    if (eq > 0) props[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return props
}

/** ExecMainCode is the child's si_code: 1 exited, 2 killed, 3 dumped core. */
const lastExitOf = (code: string | undefined, status: string | undefined): string | undefined =>
  code === "1" ? `exit code ${status}` : code === "2" || code === "3" ? `killed by signal ${status}` : undefined

export const systemdStatus = (unitPath: string, installed: boolean, props: Record<string, string>): ServiceStatus => {
  const pid = Number(props.MainPID ?? "0")
  const since = props.ExecMainStartTimestamp
  const lastExit = lastExitOf(props.ExecMainCode, props.ExecMainStatus)
  const restarts = Number(props.NRestarts ?? "0")
  return {
    manager: "systemd",
    unit: SYSTEMD_UNIT,
    path: unitPath,
    installed,
    active: props.ActiveState ?? "unknown",
    ...(props.SubState ? { subState: props.SubState } : {}),
    enabled: props.UnitFileState === "enabled",
    ...(pid > 0 ? { pid } : {}),
    ...(since && since.length > 0 ? { since } : {}),
    ...(lastExit ? { lastExit } : {}),
    ...(restarts > 0 ? { restarts } : {})
  }
}

export interface SystemdOptions {
  /** The user's systemd config dir ($XDG_CONFIG_HOME/systemd/user or ~/.config/systemd/user). */
  readonly unitDir: string
  readonly fileExists: (file: string) => boolean
}

export const systemdDriver = (options: SystemdOptions): ServiceDriver => {
  const unitPath = path.join(options.unitDir, SYSTEMD_UNIT)
  const systemctl = (...args: ReadonlyArray<string>) => run(["systemctl", "--user", ...args])
  return {
    manager: "systemd",
    unit: SYSTEMD_UNIT,
    path: unitPath,
    render: systemdUnit,
    probe: Effect.flatMap(ProcessRunner, (p) =>
      p.run(["systemctl", "--user", "show", "-p", "Version"], { timeout: "10 seconds" })
    ).pipe(
      Effect.asVoid,
      Effect.mapError(
        (e) =>
          new NoServiceManager({
            reason:
              e._tag === "ProcessNotFound" ? "systemctl is not installed" : `\`systemctl --user\` says: ${firstLine(e)}`
          })
      )
    ),
    activate: (replaced) =>
      Effect.gen(function* () {
        yield* systemctl("daemon-reload")
        if (replaced) {
          yield* systemctl("enable", SYSTEMD_UNIT)
          yield* systemctl("restart", SYSTEMD_UNIT)
        } else yield* systemctl("enable", "--now", SYSTEMD_UNIT)
      }),
    deactivate: Effect.asVoid(systemctl("disable", "--now", SYSTEMD_UNIT)),
    forget: Effect.zipRight(
      systemctl("daemon-reload"),
      // A failed unit stays listed until reset; nothing to reset is not an error.
      Effect.ignore(systemctl("reset-failed", SYSTEMD_UNIT))
    ),
    start: Effect.asVoid(systemctl("start", SYSTEMD_UNIT)),
    stop: Effect.asVoid(systemctl("stop", SYSTEMD_UNIT)),
    restart: Effect.asVoid(systemctl("restart", SYSTEMD_UNIT)),
    status: Effect.map(systemctl("show", "-p", PROPERTIES.join(","), SYSTEMD_UNIT), (text) =>
      systemdStatus(unitPath, options.fileExists(unitPath), parseShow(text))
    ),
    logs: (follow, write) => {
      const argv = ["journalctl", "--user", "-u", SYSTEMD_UNIT, "-n", "200", "--no-pager", ...(follow ? ["-f"] : [])]
      return follow
        ? Effect.scoped(
            Effect.gen(function* () {
              const p = yield* ProcessRunner
              const child = yield* p.spawn(argv, { onStdout: write })
              yield* child.exit
            })
          ).pipe(Effect.mapError((e) => new ServiceCommandFailed({ command: argv.join(" "), detail: firstLine(e) })))
        : Effect.map(run(argv), write)
    }
  }
}

/** Linger keeps the user manager (and the Gateway) running after the last session ends. */
export const lingerEnabled = (user: string) =>
  Effect.map(run(["loginctl", "show-user", user, "-p", "Linger"]), (out) => /^Linger=yes$/m.test(out))

export const enableLinger = (user: string) => Effect.asVoid(run(["loginctl", "enable-linger", user]))
