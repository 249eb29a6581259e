/**
 * The `openclaw` CLI. Bundled by esbuild into dist/main.cjs so start-up stays fast; only the
 * platform services the CLI framework needs are provided (not the whole NodeContext).
 */
// First, before anything else runs: hide the command line's flags (and secrets) from `ps`.
import "./platform/process-title.js"
// Next, before effect loads: its start-up check formats a stack (platform/load-stacks.ts).
import { restoreStacks } from "./platform/load-stacks.js"
import { Command } from "@effect/cli"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Cause, Effect, Exit, Layer } from "effect"
import { dashboardCommand } from "./cli/dashboard.js"
import { doctorCommand } from "./cli/doctor.js"
import { ExitWith } from "./cli/exit.js"
import { gatewayCommand } from "./cli/gateway.js"
import { commandTree, preflight, useColor } from "./cli/help.js"
import { healthCommand, statusCommand } from "./cli/inspect.js"
import { auditCommand } from "./cli/audit.js"
import { browserCommand } from "./cli/browser.js"
import { devicesCommand } from "./cli/devices.js"
import { nodeCommand } from "./cli/node.js"
import { nodesCommand } from "./cli/nodes.js"
import { withTerminalConsole } from "./cli/output.js"
import { forTerminal } from "./protocol/client-text.js"
import { securityCommand } from "./cli/security.js"
import { VERSION } from "./version.js"

restoreStacks()

const root = Command.make("openclaw").pipe(
  Command.withDescription("run the OpenClaw Gateway, reach it locally or remotely, inspect it"),
  Command.withSubcommands([
    gatewayCommand,
    healthCommand("health"),
    statusCommand("status"),
    dashboardCommand,
    doctorCommand,
    securityCommand,
    nodeCommand,
    nodesCommand,
    devicesCommand,
    browserCommand,
    auditCommand
  ])
)

const cli = Command.run(root, { name: "openclaw", version: VERSION })

const platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

const exitCodeOf = (exit: Exit.Exit<unknown, unknown>): number => {
  if (Exit.isSuccess(exit) || Cause.isInterruptedOnly(exit.cause)) return 0
  const failure = Cause.failureOption(exit.cause)
  if (failure._tag === "Some") {
    if (failure.value instanceof ExitWith) return failure.value.code
    // @effect/cli has already printed its usage error.
    if (typeof failure.value === "object" && failure.value !== null && "_tag" in failure.value) return 2
  }
  // A bug, not an input: one line, and the trace only when asked for.
  const squashed = Cause.squash(exit.cause)
  process.stderr.write(
    `openclaw: unexpected error: ${forTerminal(squashed instanceof Error ? squashed.message : String(squashed))}\n`
  )
  if (process.env.OPENCLAW_DEBUG === "1") process.stderr.write(`${Cause.pretty(exit.cause)}\n`)
  else process.stderr.write("(set OPENCLAW_DEBUG=1 for the stack trace)\n")
  return 1
}

/** SIGHUP (the terminal or SSH session closed) stops the command like SIGINT and SIGTERM: scopes close, exit 0. */
const hangup = Effect.async<void>((resume) => {
  const onHup = () => resume(Effect.void)
  process.once("SIGHUP", onHup)
  return Effect.sync(() => process.off("SIGHUP", onHup))
})

// Output to a closed terminal or pipe (after SIGHUP, or `| head`) must not crash the shutdown.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {})

const early = preflight(commandTree(root), process.argv.slice(2), VERSION, useColor(process.stdout, process.env))
if (early !== undefined) {
  if (early.stdout !== undefined) process.stdout.write(early.stdout)
  if (early.stderr !== undefined) process.stderr.write(early.stderr)
  process.exitCode = early.code
} else {
  NodeRuntime.runMain(Effect.raceFirst(withTerminalConsole(cli(process.argv)), hangup).pipe(Effect.provide(platform)), {
    disableErrorReporting: true,
    disablePrettyLogger: true,
    teardown: (exit, onExit) => onExit(exitCodeOf(exit))
  })
}
