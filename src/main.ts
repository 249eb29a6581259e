/**
 * The `openclaw` CLI. Bundled by esbuild into dist/main.cjs so start-up stays fast; only the
 * platform services the CLI framework needs are provided (not the whole NodeContext).
 */
// First, before anything else runs: hide the command line's flags (and secrets) from `ps`.
import "./platform/process-title.js"
import { Command } from "@effect/cli"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Cause, Effect, Exit, Layer } from "effect"
import { doctorCommand } from "./cli/doctor.js"
import { ExitWith } from "./cli/exit.js"
import { gatewayCommand } from "./cli/gateway.js"
import { healthCommand, statusCommand } from "./cli/inspect.js"
import { auditCommand } from "./cli/audit.js"
import { browserCommand } from "./cli/browser.js"
import { devicesCommand } from "./cli/devices.js"
import { nodeCommand } from "./cli/node.js"
import { nodesCommand } from "./cli/nodes.js"
import { securityCommand } from "./cli/security.js"
import { VERSION } from "./version.js"

const root = Command.make("openclaw").pipe(
  Command.withDescription("OpenClaw Gateway: run it, reach it locally or remotely, and inspect it"),
  Command.withSubcommands([
    gatewayCommand,
    healthCommand("health"),
    statusCommand("status"),
    securityCommand,
    nodeCommand,
    nodesCommand,
    devicesCommand,
    browserCommand,
    doctorCommand,
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
  process.stderr.write(`openclaw: unexpected error\n${Cause.pretty(exit.cause)}\n`)
  return 1
}

NodeRuntime.runMain(cli(process.argv).pipe(Effect.provide(platform)), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown: (exit, onExit) => onExit(exitCodeOf(exit))
})
