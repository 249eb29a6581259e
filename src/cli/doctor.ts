/** `openclaw doctor`: walk the path to the Gateway step by step and say exactly what to fix. */
import { Command } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { readRuntimeRecord, runtimeRecordPath } from "../config/runtime-record.js"
import { pathSteps } from "../services/doctor/path.js"
import type { TargetSummary } from "../services/doctor/path-context.js"
import { formatSteps, runSteps } from "../services/doctor/steps.js"
import { SshTunnel } from "../services/ssh/SshTunnel.js"
import { make as makeTailscaleCli, timeoutFromEnv } from "../services/tailscale/TailscaleCli.js"
import { clientOptions } from "./client.js"
import { fail } from "./exit.js"
import { printJson } from "./output.js"

export const doctorCommand = Command.make("doctor", clientOptions, (flags) =>
  Effect.gen(function* () {
    const summary: TargetSummary = {}
    const steps = pathSteps(
      {
        env: process.env,
        flags: {
          url: Option.getOrUndefined(flags.url),
          port: Option.getOrUndefined(flags.port),
          token: Option.getOrUndefined(flags.token),
          password: Option.getOrUndefined(flags.password),
          tlsFingerprint: Option.getOrUndefined(flags.tlsFingerprint)
        },
        timeoutMs: flags.timeout,
        tailscale: () => makeTailscaleCli({ env: process.env, timeoutMs: timeoutFromEnv(process.env) }),
        // The running Gateway's record, dead PID or not: the process check names a stale one.
        runtimeRecord: (stateDir) => {
          const record = readRuntimeRecord(stateDir, () => true)
          return record === undefined
            ? undefined
            : { pid: record.pid, port: record.port, file: runtimeRecordPath(stateDir) }
        }
      },
      summary
    )
    const report = yield* Effect.scoped(runSteps(steps)).pipe(Effect.provide(SshTunnel.layer))
    if (flags.json) {
      yield* printJson({ ok: report.ok, target: summary, steps: report.steps })
    } else {
      const where =
        summary.url === undefined
          ? ""
          : ` ${summary.url}${summary.sshTarget === undefined ? "" : ` on ${summary.sshTarget} (SSH)`}${summary.source === undefined ? "" : ` (${summary.source})`}`
      const failedStep = report.steps.find((s) => s.ok === false)
      yield* Console.log(
        [
          `openclaw doctor:${where}`,
          formatSteps(report.steps),
          failedStep === undefined
            ? "All checks passed."
            : `Stopped at ${failedStep.id}: fix it and run openclaw doctor again.`
        ].join("\n")
      )
    }
    if (!report.ok) return yield* fail(1, "")
  })
).pipe(Command.withDescription("Check each link from here to the Gateway, in order, and say what to fix"))
