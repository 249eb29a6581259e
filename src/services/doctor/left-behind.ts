/**
 * What a Gateway that is gone left behind on this machine: its runtime record (a dead PID) and its
 * Tailscale route (the exposure record, and whether `tailscale serve status` still shows the
 * route). Read before the network steps, so after a `kill -9` or a crash doctor says what happened
 * instead of only "nothing listens there".
 */
import * as path from "node:path"
import { Effect, Either } from "effect"
import { isProcessAlive, readRuntimeRecordFile, runtimeRecordPath } from "../../config/runtime-record.js"
import type { TailscaleCliService } from "../tailscale/TailscaleCli.js"
import {
  type ExposureRecord,
  normaliseTarget,
  readRecord,
  RECORD_FILE
} from "../tailscale-exposure/TailscaleExposure.js"
import { tcpConnect } from "./probe.js"
import { failed, passed, skipped, type Outcome } from "./steps.js"

/** "10:02" today, "2026-12-06 10:02" another day (local time, as the user's clock shows it). */
export const startedLabel = (iso: string, now = new Date()): string => {
  const at = new Date(iso)
  if (Number.isNaN(at.getTime())) return "at an unknown time"
  const pad = (n: number) => String(n).padStart(2, "0")
  const hm = `${pad(at.getHours())}:${pad(at.getMinutes())}`
  return at.toDateString() === now.toDateString()
    ? hm
    : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${hm}`
}

const routeLabel = (r: ExposureRecord) => `https:${r.httpsPort} -> ${r.target.replace(/^https?(\+insecure)?:\/\//, "")}`

/** Whether the recorded route is still in `tailscale serve status` (undefined: tailscale could not say). */
const routeStillThere = (tailscale: TailscaleCliService, r: ExposureRecord) =>
  Effect.map(Effect.either(tailscale.serveStatus), (st) =>
    Either.isLeft(st)
      ? undefined
      : st.right.routes.some(
          (x) =>
            x.httpsPort === r.httpsPort && x.path === "/" && normaliseTarget(x.target) === normaliseTarget(r.target)
        )
  )

/** The orphaned route's sentence and its fix, when the exposure record's Gateway is gone. */
const orphanedRoute = (tailscale: TailscaleCliService, stateDir: string) =>
  Effect.gen(function* () {
    const r = readRecord(path.join(stateDir, RECORD_FILE))
    if (r === undefined || isProcessAlive(r.pid)) return undefined
    const still = yield* routeStillThere(tailscale, r)
    if (still === false) return undefined
    const kind = r.mode === "funnel" ? "Funnel" : "Serve"
    const off = `tailscale ${r.mode} --https=${r.httpsPort} off`
    return {
      detail: `the Tailscale ${kind} route ${routeLabel(r)} ${still ? "still points at it" : "may still point at it (tailscale could not be asked)"}`,
      fix: `\`${off}\`, or start the Gateway (it cleans up its own route at start)`
    }
  })

export const checkLeftBehind = (
  stateDir: string,
  tailscale: () => TailscaleCliService,
  timeoutMs: number
): Effect.Effect<Outcome> =>
  Effect.gen(function* () {
    if (!path.isAbsolute(stateDir)) return skipped(`no state directory (${stateDir})`)
    const file = runtimeRecordPath(stateDir)
    const read = readRuntimeRecordFile(file)
    if (read !== undefined && Either.isLeft(read))
      return passed(`the runtime record ${file} ${read.left}: ignored (the next Gateway start replaces it)`)
    const record = read === undefined ? undefined : read.right
    if (record !== undefined && isProcessAlive(record.pid))
      return passed(`the Gateway (PID ${record.pid}, started ${startedLabel(record.startedAt)}) is running`)
    const route = yield* orphanedRoute(tailscale(), stateDir)
    if (record === undefined) {
      if (route === undefined) return skipped("no Gateway of this state dir is running (no runtime record)")
      return failed(`a Gateway of this state dir is gone; ${route.detail}`, route.fix)
    }
    const gone = `the Gateway (PID ${record.pid}, started ${startedLabel(record.startedAt)}) is gone; its record ${file} is stale`
    // Another process may have the port now (a Gateway of another state dir): then the walk goes on to it.
    const listening = yield* Effect.promise(() => tcpConnect("127.0.0.1", record.port, Math.min(timeoutMs, 2_000)))
    if (listening.ok && route === undefined)
      return passed(`${gone}; something else listens on its port ${record.port} now`)
    return failed(
      route === undefined ? gone : `${gone}; ${route.detail}`,
      route === undefined ? "start the Gateway (`openclaw gateway run`); it replaces the record" : route.fix
    )
  })
