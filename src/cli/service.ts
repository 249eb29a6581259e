/**
 * `openclaw gateway install | uninstall | start | stop | restart | logs`: the Gateway as a user
 * service (systemd on Linux, launchd on macOS). This is the composition root for it: the only
 * place that reads HOME, XDG_CONFIG_HOME, the UID and where node and our entry point are.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { resolvePaths } from "../config/load.js"
import { readRuntimeRecord } from "../config/runtime-record.js"
import { BindModes } from "../config/schema.js"
import { ProcessRunner } from "../platform/process-runner.js"
import { forTerminal } from "../protocol/client-text.js"
import { GatewayConfig } from "../services/config/GatewayConfig.js"
import type { ServiceDriver, ServiceStatus } from "../services/service-manager/driver.js"
import type { ServiceError } from "../services/service-manager/errors.js"
import { installUnit, requireInstalled, uninstallUnit } from "../services/service-manager/install.js"
import { launchdDriver } from "../services/service-manager/launchd.js"
import { enableLinger, lingerEnabled, systemdDriver } from "../services/service-manager/systemd.js"
import { type ServiceSpec, systemdRefusesProgram } from "../services/service-manager/unit-file.js"
import { ExitWith, fail } from "./exit.js"
import { portFlag } from "./flags.js"
import { writeText } from "./output.js"

/** sysexits EX_UNAVAILABLE: no service manager to install into. */
const EXIT_UNAVAILABLE = 69

const fileExists = (file: string) => fs.existsSync(file)

/** The driver for this machine, with every path read from the environment here and nowhere else. */
export const serviceDriver = (env: NodeJS.ProcessEnv = process.env): ServiceDriver => {
  const home = env.HOME && env.HOME.length > 0 ? env.HOME : os.homedir()
  if (process.platform === "darwin")
    return launchdDriver({
      agentDir: path.join(home, "Library", "LaunchAgents"),
      uid: process.getuid?.() ?? 501,
      logFile: launchdLogFile(env),
      fileExists
    })
  const configHome =
    env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, ".config")
  return systemdDriver({ unitDir: path.join(configHome, "systemd", "user"), fileExists })
}

const launchdLogFile = (env: NodeJS.ProcessEnv) => path.join(resolvePaths(env).stateDir, "logs", "gateway.log")

/**
 * What the service runs: this node and this entry point as installed now (real paths, so a later
 * nvm switch or PATH change cannot point the service elsewhere), and the variables that find the
 * same config. Never a secret: the Gateway reads its token from the config file.
 */
export const serviceSpec = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): ServiceSpec => {
  const environment: Record<string, string> = {}
  for (const name of ["OPENCLAW_STATE_DIR", "OPENCLAW_CONFIG_PATH"] as const) {
    const value = env[name]
    if (value !== undefined && value.trim().length > 0) environment[name] = path.resolve(value)
  }
  return {
    node: fs.realpathSync(process.execPath),
    entry: fs.realpathSync(process.argv[1] ?? ""),
    args: ["gateway", "run", ...args],
    environment,
    logFile: launchdLogFile(env)
  }
}

export const describeStatus = (s: ServiceStatus): string => {
  if (!s.installed) return `not installed (${s.unit}; \`openclaw gateway install\`)`
  const state = s.subState && s.subState !== s.active ? `${s.active} (${s.subState})` : s.active
  return [
    `${s.manager} ${s.unit}: ${state}`,
    s.enabled ? "enabled" : "not enabled",
    ...(s.pid !== undefined ? [`PID ${s.pid}${s.since ? ` since ${s.since}` : ""}`] : []),
    ...(s.pid === undefined && s.since ? [`last started ${s.since}`] : []),
    ...(s.lastExit ? [`last exit: ${s.lastExit}`] : []),
    ...(s.restarts ? [`restarted ${s.restarts} time(s) after a failure`] : [])
  ].join(", ")
}

/** For `gateway status`: the service as its manager sees it; None where there is no manager. Never fails. */
export const serviceSummary: Effect.Effect<{ readonly service?: ServiceStatus; readonly noManager?: string }> =
  Effect.suspend(() => {
    const driver = serviceDriver()
    return Effect.zipRight(driver.probe, driver.status).pipe(
      Effect.map((service) => ({ service })),
      Effect.catchAll((e) => Effect.succeed({ noManager: e.message })),
      // A status line is not worth waiting for: a hung user bus must not hold up `status`.
      Effect.timeoutTo({
        duration: "3 seconds",
        onTimeout: () => ({ noManager: `${driver.manager} did not answer within 3 s` }),
        onSuccess: (summary) => summary
      }),
      Effect.provide(ProcessRunner.layer)
    )
  })

/** What to do where no service manager answers: the same command in the foreground, kept past logout. */
const foreground = (args: ReadonlyArray<string> = []) => {
  const run = ["openclaw", "gateway", "run", ...args].join(" ")
  return [
    "Run the Gateway in the foreground instead, in a way that survives the session:",
    `  tmux new -d -s openclaw '${run}'      (attach with \`tmux attach -t openclaw\`)`,
    `  nohup ${run} >>"$HOME/openclaw-gateway.log" 2>&1 &`,
    `or plainly \`${run}\` in a terminal you keep open.`,
    "(On WSL, systemd can be turned on: [boot] systemd=true in /etc/wsl.conf, then `wsl --shutdown`.)"
  ].join("\n")
}

/** Expected failures: one message naming what to do, never a stack trace. */
const failWith = (e: ServiceError) =>
  e._tag === "NoServiceManager" ? fail(EXIT_UNAVAILABLE, `${e.message}\n${foreground()}`) : fail(1, e.message)

const secretFlag = (name: string) =>
  Options.text(name).pipe(Options.withDescription("Refused: the secret belongs in the config file"), Options.optional)

const installOptions = {
  port: portFlag("port").pipe(
    Options.withDescription("Port for the service's Gateway (else gateway.port)"),
    Options.optional
  ),
  bind: Options.choice("bind", BindModes).pipe(
    Options.withDescription("Where it listens (else gateway.bind)"),
    Options.optional
  ),
  force: Options.boolean("force").pipe(Options.withDescription("Replace a unit that differs from this one")),
  token: secretFlag("token"),
  password: secretFlag("password")
}

const linger = (user: string) =>
  Effect.gen(function* () {
    const on = yield* Effect.orElseSucceed(lingerEnabled(user), () => false)
    if (on) return `Linger:  on for ${user} (the Gateway keeps running after you log out)`
    const enabled = yield* Effect.either(enableLinger(user))
    if (enabled._tag === "Right")
      return `Linger:  enabled for ${user} (\`loginctl enable-linger ${user}\`): the Gateway keeps running after you log out`
    return [
      `Linger:  OFF. \`loginctl enable-linger ${user}\` was refused: ${enabled.left.detail || enabled.left.message}`,
      "  Without linger, systemd stops your user services when your last session ends: the Gateway stops at SSH logout.",
      `  Run this once (as root): sudo loginctl enable-linger ${user}`
    ].join("\n")
  })

const install = Command.make("install", installOptions, (flags) =>
  Effect.gen(function* () {
    for (const [name, value] of [
      ["token", flags.token],
      ["password", flags.password]
    ] as const)
      if (Option.isSome(value))
        return yield* fail(
          2,
          `install does not take --${name}: a unit file is readable by every process of yours and shown by \`systemctl cat\`. Put the secret in the config file (gateway.auth.${name} in ${resolvePaths(process.env).configPath}, mode 0600), or run \`openclaw gateway ${name} rotate\`; the service reads it from there.`
        )
    const args = [
      ...Option.match(flags.port, { onNone: () => [], onSome: (p) => ["--port", String(p)] }),
      ...Option.match(flags.bind, { onNone: () => [], onSome: (b) => ["--bind", b] })
    ]
    const spec = serviceSpec(args)
    const driver = serviceDriver()
    if (driver.manager === "systemd" && systemdRefusesProgram(spec.node))
      return yield* fail(
        1,
        `systemd refuses a program path with quotes or backslashes, and node is at ${spec.node}: install node under a plainer path (or link it there) and run install with that node`
      )
    // npx runs from a cache that npm cleans: a unit pointing there breaks some day for no visible reason.
    if (spec.entry.includes(`${path.sep}_npx${path.sep}`))
      return yield* fail(
        1,
        `openclaw runs from npx's cache (${spec.entry}), which npm may delete: install it for good (npm install -g openclaw) and run \`openclaw gateway install\` from there`
      )
    const content = driver.render(spec)
    const probed = yield* Effect.either(driver.probe)
    if (probed._tag === "Left")
      return yield* fail(
        EXIT_UNAVAILABLE,
        [
          `Cannot install the Gateway as a service: ${probed.left.message}.`,
          `This is the unit it would have written to ${driver.path}:`,
          "",
          content,
          foreground(args)
        ].join("\n")
      )
    // The service sees no shell variables: its config must load with only the ones the unit sets.
    const serviceEnv = { HOME: process.env.HOME, ...spec.environment }
    const settings = yield* GatewayConfig.load({
      env: serviceEnv,
      flags: {
        ...Option.match(flags.port, { onNone: () => ({}), onSome: (port) => ({ port }) }),
        ...Option.match(flags.bind, { onNone: () => ({}), onSome: (bind) => ({ bind }) })
      },
      createIfMissing: true
    }).pipe(
      Effect.catchTag("ConfigError", (e) =>
        fail(
          e.exitCode,
          `The service's Gateway would not start: ${e.message}\n(the service does not see your shell's variables such as OPENCLAW_GATEWAY_TOKEN: put the setting in the config file)`
        )
      )
    )
    // A Gateway started by hand on the same port: the service would fail to listen until it stops.
    const before = yield* Effect.either(driver.status)
    const servicePid = before._tag === "Right" ? before.right.pid : undefined
    const byHand = readRuntimeRecord(settings.stateDir)
    const outcome = yield* installUnit(driver, content, flags.force)
    yield* Console.log(
      outcome === "unchanged"
        ? `Already installed: ${driver.path} is unchanged, nothing to do.`
        : `${outcome === "created" ? "Installed" : "Replaced"} ${driver.path}`
    )
    if (byHand !== undefined && byHand.port === settings.port && byHand.pid !== servicePid)
      yield* Console.log(
        [
          `Note:    a Gateway you started by hand (PID ${byHand.pid}) holds port ${byHand.port}, so the service cannot listen there.`,
          `  Stop that one (Ctrl-C in its terminal, or \`kill ${byHand.pid}\`), then \`openclaw gateway restart\`.`
        ].join("\n")
      )
    yield* Console.log(`Runs:    ${[spec.node, spec.entry, ...spec.args].join(" ")}`)
    const status = yield* driver.status
    yield* Console.log(`Service: ${describeStatus(status)}`)
    if (driver.manager === "systemd") yield* Console.log(yield* linger(os.userInfo().username))
    yield* Console.log("Logs:    openclaw gateway logs [--follow]; remove with `openclaw gateway uninstall`")
  }).pipe(
    Effect.catchAll((e) => (e instanceof ExitWith ? Effect.fail(e) : failWith(e))),
    Effect.provide(ProcessRunner.layer)
  )
).pipe(Command.withDescription("Install the Gateway as a user service (systemd, launchd) and start it"))

/** A command acting on an installed service, then printing its status. */
const act = (name: string, description: string, pick: (d: ServiceDriver) => ServiceDriver["start"], done: string) =>
  Command.make(name, {}, () =>
    Effect.gen(function* () {
      const driver = serviceDriver()
      yield* driver.probe
      yield* requireInstalled(driver)
      yield* pick(driver)
      yield* Console.log(`${done}. Service: ${describeStatus(yield* driver.status)}`)
    }).pipe(Effect.catchAll(failWith), Effect.provide(ProcessRunner.layer))
  ).pipe(Command.withDescription(description))

const uninstall = Command.make("uninstall", {}, () =>
  Effect.gen(function* () {
    const driver = serviceDriver()
    yield* driver.probe
    const removed = yield* Effect.either(uninstallUnit(driver))
    if (removed._tag === "Left" && removed.left._tag === "NotInstalled")
      return yield* Console.log(`Nothing to remove: ${driver.path} does not exist.`)
    if (removed._tag === "Left") return yield* removed.left
    yield* Console.log(`Stopped, disabled and removed ${driver.path}; no other unit was touched.`)
  }).pipe(Effect.catchAll(failWith), Effect.provide(ProcessRunner.layer))
).pipe(Command.withDescription("Stop the Gateway service and remove the unit `install` wrote (only that one)"))

const logs = Command.make(
  "logs",
  {
    follow: Options.boolean("follow").pipe(Options.withAlias("f"), Options.withDescription("Keep printing new lines"))
  },
  (flags) =>
    Effect.gen(function* () {
      const driver = serviceDriver()
      if (driver.manager === "systemd") yield* driver.probe
      // writeText: a log line quotes clients; it reaches the terminal sanitised.
      yield* driver.logs(flags.follow, writeText)
    }).pipe(Effect.catchAll(failWith), Effect.provide(ProcessRunner.layer))
).pipe(Command.withDescription("Show the Gateway service's log (journalctl for systemd, the log file for launchd)"))

export const serviceCommands = [
  install,
  uninstall,
  act("start", "Start the installed Gateway service", (d) => d.start, "Started"),
  act("stop", "Stop the Gateway service (until `gateway start` or the next login)", (d) => d.stop, "Stopped"),
  act("restart", "Restart the Gateway service", (d) => d.restart, "Restarted"),
  logs
] as const

/** One line for `gateway status`. */
export const serviceLine = (summary: { readonly service?: ServiceStatus; readonly noManager?: string }) =>
  summary.service ? forTerminal(describeStatus(summary.service)) : undefined
