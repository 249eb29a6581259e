/** `openclaw doctor`: walk the path to the Gateway step by step and say exactly what to fix. */
import { Command } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { readRuntimeRecord, runtimeRecordPath } from "../config/runtime-record.js"
import { pathSteps } from "../services/doctor/path.js"
import type { TargetSummary } from "../services/doctor/path-context.js"
import { formatStep, runSteps, type StepResult } from "../services/doctor/steps.js"
import { SshTunnel } from "../services/ssh/SshTunnel.js"
import { make as makeTailscaleCli, timeoutFromEnv } from "../services/tailscale/TailscaleCli.js"
import { clientOptions } from "./client.js"
import { fail } from "./exit.js"
import { printJson } from "./output.js"
import { forTerminal } from "../protocol/client-text.js"

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
    // On a terminal (or a pipe) each step's line appears as it finishes; the header waits for the
    // target step, which names where the walk goes.
    const width = Math.max(...steps.map((s) => s.id.length))
    let headed = false
    const header = () =>
      Effect.suspend(() => {
        if (headed) return Effect.void
        headed = true
        const where =
          summary.url === undefined
            ? ""
            : ` ${summary.url}${summary.sshTarget === undefined ? "" : ` on ${summary.sshTarget} (SSH)`}${summary.source === undefined ? "" : ` (${summary.source})`}`
        return Console.log(`openclaw doctor:${where}`)
      })
    const pending: Array<StepResult> = []
    const onResult = (r: StepResult) =>
      flags.json
        ? Effect.void
        : Effect.gen(function* () {
            pending.push(r)
            if (summary.url === undefined && r.id !== "target" && r.ok !== false) return
            yield* header()
            for (const p of pending.splice(0)) yield* Console.log(formatStep(p, width))
          })
    const report = yield* Effect.scoped(runSteps(steps, { onResult, totalMs: flags.timeout })).pipe(
      Effect.provide(SshTunnel.layer)
    )
    if (flags.json) {
      yield* printJson({ ok: report.ok, target: summary, steps: report.steps })
    } else {
      yield* header()
      for (const p of pending.splice(0)) yield* Console.log(formatStep(p, width))
      const failedStep = report.steps.find((s) => s.ok === false)
      yield* Console.log(
        failedStep === undefined
          ? summary.readiness?.status === "degraded"
            ? `All checks passed, but the Gateway is degraded: ${forTerminal(summary.readiness.reasons.join("; "))}`
            : "All checks passed."
          : `Stopped at ${failedStep.id}: fix it and run openclaw doctor again.`
      )
    }
    if (!report.ok) return yield* fail(1, "")
  })
).pipe(Command.withDescription("Check each link from here to the Gateway, in order, and say what to fix"))
