/**
 * The Gateway's `doctor` method (operator.read): the host checks run from the Gateway's side
 * (its process and port, state dir, Tailscale exposure, security audit), as the Control UI's
 * Diagnose button shows them. Same steps and result shape as `openclaw doctor`.
 *
 * Each run scans /proc, reloads the config and runs the security audit, so it is the one costly
 * read-only method: every caller within DOCTOR_CACHE_MS of a run shares it (one at a time, however
 * many ask), and it lets other clients' requests run between its steps.
 */
import * as path from "node:path"
import { Duration, Effect, Layer } from "effect"
import { loadConfig } from "../../config/load.js"
import { auditConfig } from "../security/audit.js"
import { DoctorGroup } from "../../protocol/contracts/doctor.js"
import { Gateway } from "../gateway/api.js"
import { GatewayConfig } from "../config/GatewayConfig.js"
import { TailscaleCli } from "../tailscale/TailscaleCli.js"
import type { ExposureStatus } from "../tailscale-exposure/TailscaleExposure.js"
import { checkAudit, checkExposure, checkProcess, checkStateDir } from "./host-checks.js"
import { failed, runSteps, skipped, type Step } from "./steps.js"

/** How long one doctor run answers every caller (from its start): short, so a fix shows on the next Diagnose. */
export const DOCTOR_CACHE_MS = 2_000

/** Lets the event loop serve sockets (other clients' requests) before going on; a microtask would not. */
const yieldToIo = Effect.async<void>((resume) => {
  const next = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(next))
})

export const make = Effect.gen(function* () {
  const gateway = yield* Gateway
  const settings = yield* GatewayConfig
  const cli = yield* TailscaleCli
  const steps: Array<Step> = [
    { id: "process", run: Effect.sync(() => checkProcess(process.pid, gateway.listeners.port)) },
    { id: "state", run: Effect.sync(() => checkStateDir(settings.stateDir)) },
    {
      id: "exposure",
      run: Effect.suspend(() => {
        const exposure = gateway.status().exposure as ExposureStatus | undefined
        return checkExposure(cli, {
          mode: settings.tailscale.mode,
          port: gateway.listeners.port,
          tls: settings.tls.enabled,
          ...(exposure?.reason === undefined ? {} : { reason: exposure.reason })
        })
      })
    },
    {
      id: "audit",
      run: Effect.gen(function* () {
        if (!path.isAbsolute(settings.configPath)) return skipped(`no config file (${settings.configPath})`)
        // The file this Gateway was started from; the environment is the Gateway's own.
        const loaded = yield* Effect.either(
          loadConfig({
            ...settings.env,
            OPENCLAW_CONFIG_PATH: settings.configPath,
            OPENCLAW_STATE_DIR: settings.stateDir
          })
        )
        if (loaded._tag === "Left")
          return failed(
            `the config file no longer loads: ${loaded.left.message}`,
            "fix the file before the next restart (the running Gateway keeps its settings)"
          )
        return checkAudit(auditConfig(loaded.right, settings.env ?? {}))
      })
    }
  ]
  // Each step synchronous: a turn of the event loop between them.
  const report = yield* Effect.cachedWithTTL(
    runSteps(steps.map((step) => ({ ...step, run: Effect.zipRight(yieldToIo, step.run) }))),
    Duration.millis(DOCTOR_CACHE_MS)
  )
  yield* gateway.registerGroup(DoctorGroup, {
    doctor: () =>
      Effect.map(report, (report) => ({
        ok: report.ok,
        target: { url: gateway.url, pid: process.pid, local: true },
        steps: report.steps
      }))
  })
})

/** Registers `doctor` with the Gateway for the life of the layer. */
export const DoctorMethods = { layer: Layer.scopedDiscard(make) }
