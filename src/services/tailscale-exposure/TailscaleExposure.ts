/**
 * TailscaleExposure: publishes the Gateway's loopback port through Tailscale Serve or Funnel as a
 * scoped resource (shared/security.md section 6).
 *
 * Acquire: read the current serve config; a route on our HTTPS port that points elsewhere is a
 * conflict (start-up stops, nothing is overwritten); a route that already points here is adopted;
 * otherwise the route is recorded in the state directory and then enabled, and `serve status` is
 * read back to confirm it. A record left by a killed Gateway is cleaned up first.
 * While running: a failed start (no tailscale, logged out, daemon down ...) leaves the Gateway on
 * loopback with one warning and retries with backoff; a route that disappears is re-claimed.
 * Release with resetOnExit: exactly our route is turned off (never `serve reset`) and the record
 * cleared; without it the route stays, as documented.
 */
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Clock, Context, Data, Duration, Effect, Layer, Option } from "effect"
import type { TailscaleMode } from "../../config/schema.js"
import { readPrivateText, writePrivateJson } from "../../platform/private-file.js"
import { reconnectPolicy } from "../../platform/reconnect.js"
import { AuditLog } from "../audit-log/AuditLog.js"
import { Gateway } from "../gateway/api.js"
import { GatewayConfig } from "../config/GatewayConfig.js"
import { stateDirOnDisk, TAILSCALE_TUNING } from "../../config/settings.js"
import {
  type ExposureMode,
  FIX,
  type ServeRoute,
  type ServeState,
  TailscaleCli,
  type TailscaleCliService,
  TailscaleError
} from "../tailscale/TailscaleCli.js"

export interface ExposureStatus {
  readonly mode: TailscaleMode
  /** "starting" only while the first attempt runs at start-up. */
  readonly state: "off" | "starting" | "active" | "failed"
  /** Control UI: https://<magicdns><basePath>/ */
  readonly url?: string
  /** WebSocket: wss://<magicdns> */
  readonly wsUrl?: string
  readonly reason?: string
  /** The route, e.g. "https:443 -> http://127.0.0.1:18789". */
  readonly route?: string
  readonly resetOnExit?: boolean
  /** When failed: the next attempt, in ms since the epoch. */
  readonly retryAt?: number
}

export interface TailscaleExposureService {
  readonly status: Effect.Effect<ExposureStatus>
}

/** A foreign route holds our HTTPS port: start-up stops (exit 78) and nothing is overwritten. */
export class ExposureConflict extends Data.TaggedError("ExposureConflict")<{ readonly message: string }> {
  readonly exitCode = 78
}

export const HTTPS_PORT = 443
export const RECORD_FILE = "tailscale-exposure.json"

/** What this Gateway exposed, written before the route is enabled. */
export interface ExposureRecord {
  readonly mode: ExposureMode
  readonly host: string
  readonly httpsPort: number
  readonly target: string
  readonly pid: number
  /** Random per Gateway process: PIDs repeat (a container's Gateway is often PID 1 every time). */
  readonly instance: string
  readonly at: string
}

/** "18789", "localhost:18789", "http://localhost:18789/" all mean http://127.0.0.1:18789. */
export const normaliseTarget = (t: string): string => {
  let s = t.trim().replace(/\/+$/, "")
  if (/^\d+$/.test(s)) s = `127.0.0.1:${s}`
  if (!/^[a-z+]+:\/\//i.test(s)) s = `http://${s}`
  return s.replace(/^(https?:\/\/)localhost(?=[:/]|$)/i, "$1127.0.0.1").toLowerCase()
}

const sameTarget = (a: string, b: string) => normaliseTarget(a) === normaliseTarget(b)

/** Everything on `httpsPort`, on any host name of this node. */
const routesOn = (serve: ServeState, httpsPort: number) => ({
  web: serve.routes.filter((r) => r.httpsPort === httpsPort),
  tcp: serve.tcpForwards.filter((f) => f.port === httpsPort)
})

/** Our route: exactly one "/" handler on the port, proxying to `target`. */
const findOwn = (serve: ServeState, httpsPort: number, target: string): ServeRoute | undefined => {
  const { web, tcp } = routesOn(serve, httpsPort)
  return tcp.length === 0 && web.length === 1 && web[0]!.path === "/" && sameTarget(web[0]!.target, target)
    ? web[0]
    : undefined
}

const describeRoute = (r: ServeRoute) =>
  `https://${r.host}${r.httpsPort === 443 ? "" : `:${r.httpsPort}`}${r.path} -> ${r.target}${r.funnel ? " (funnel)" : ""}`

export const readRecord = (file: string): ExposureRecord | undefined => {
  try {
    const r = JSON.parse(readPrivateText(file) ?? "null") as ExposureRecord
    return typeof r.target === "string" &&
      typeof r.httpsPort === "number" &&
      (r.mode === "serve" || r.mode === "funnel")
      ? r
      : undefined
  } catch {
    return undefined
  }
}

/** Without a state dir (file undefined) there is no record: a later run has nothing to clean up after this one. */
const writeRecord = (file: string | undefined, record: ExposureRecord) =>
  Effect.sync(() => file !== undefined && writePrivateJson(file, record))

const clearRecord = (file: string | undefined) =>
  Effect.sync(() => file !== undefined && fs.rmSync(file, { force: true }))

interface Claimed {
  readonly host: string
  readonly adopted: boolean
}

export const make = Effect.gen(function* () {
  const settings = yield* GatewayConfig
  const gateway = yield* Gateway
  const mode = settings.tailscale.mode
  if (mode === "off") {
    const off: ExposureStatus = { mode: "off", state: "off" }
    yield* gateway.addStatusSection("exposure", () => off)
    return { status: Effect.succeed(off) } satisfies TailscaleExposureService
  }
  const cli: TailscaleCliService = yield* TailscaleCli
  const resetOnExit = settings.tailscale.resetOnExit
  // A Gateway that serves TLS itself has a self-signed certificate: Serve's https+insecure target.
  const target = `${settings.tls.enabled ? "https+insecure" : "http"}://127.0.0.1:${gateway.listeners.port}`
  const instance = randomUUID()
  const stateDir = stateDirOnDisk(settings)
  const recordFile = stateDir === undefined ? undefined : path.join(stateDir, RECORD_FILE)
  const route = `https:${HTTPS_PORT} -> ${target}`
  const retryBaseMs = settings.tailscale.retryMs ?? TAILSCALE_TUNING.retryMs
  const retryMaxMs = settings.tailscale.retryMaxMs ?? TAILSCALE_TUNING.retryMaxMs
  const checkMs = settings.tailscale.checkMs ?? TAILSCALE_TUNING.checkMs

  const audit = Option.getOrUndefined(yield* Effect.serviceOption(AuditLog))
  const exposed = (on: boolean, reason: string) =>
    audit?.record(on ? "exposure.on" : "exposure.off", {
      mode,
      reason,
      ...(on && current.url !== undefined ? { url: current.url } : {})
    })

  let current: ExposureStatus = { mode, state: "starting", route, resetOnExit }
  /** Whether a route of ours may exist now (what release must undo). */
  let holding = false
  yield* gateway.addStatusSection("exposure", () => current)

  const active = (host: string): ExposureStatus => ({
    mode,
    state: "active",
    url: `https://${host}${settings.controlUi.basePath}/`,
    wsUrl: `wss://${host}`,
    route,
    resetOnExit
  })

  /** A record from an earlier run: its route is ours; remove it when resetOnExit or when it no longer points here. */
  const cleanStale = (serve: ServeState) =>
    Effect.gen(function* () {
      const record = recordFile === undefined ? undefined : readRecord(recordFile)
      if (record === undefined || record.instance === instance) return serve
      const stale = findOwn(serve, record.httpsPort, record.target)
      if (stale !== undefined && (resetOnExit || !sameTarget(record.target, target))) {
        yield* Effect.logInfo(
          `removing the Tailscale ${record.mode} route left by an earlier run (PID ${record.pid}): ${describeRoute(stale)}`
        )
        yield* cli.disable(record.mode, record.httpsPort)
        serve = yield* cli.serveStatus
      }
      yield* clearRecord(recordFile)
      return serve
    })

  const claim: Effect.Effect<Claimed, TailscaleError | ExposureConflict> = Effect.gen(function* () {
    const st = yield* cli.status
    if (st.backendState === "NeedsLogin" || st.backendState === "NeedsMachineAuth") {
      return yield* new TailscaleError({
        kind: "logged-out",
        message:
          st.backendState === "NeedsMachineAuth"
            ? "this machine waits for approval in the Tailscale admin console (BackendState NeedsMachineAuth)"
            : FIX.loggedOut
      })
    }
    if (st.backendState !== "Running" || st.dnsName === "") {
      return yield* new TailscaleError({
        kind: "daemon-down",
        message: `Tailscale is not running (BackendState ${st.backendState}): run \`tailscale up\``
      })
    }
    if (st.certDomains.length === 0) {
      return yield* new TailscaleError({
        kind: "https-disabled",
        message: FIX.https
      })
    }
    if (mode === "funnel" && !st.funnelAllowed) {
      return yield* new TailscaleError({
        kind: "funnel-not-allowed",
        message: FIX.funnel
      })
    }
    const serve = yield* cleanStale(yield* cli.serveStatus)
    const { web, tcp } = routesOn(serve, HTTPS_PORT)
    const own = findOwn(serve, HTTPS_PORT, target)
    if (own === undefined && (web.length > 0 || tcp.length > 0)) {
      const holders = [...web.map(describeRoute), ...tcp.map((t) => `tcp :${t.port} -> ${t.target}`)].join("; ")
      const off = web.some((r) => r.funnel) ? "tailscale funnel --https=443 off" : "tailscale serve --https=443 off"
      return yield* new ExposureConflict({
        message: `Tailscale HTTPS port ${HTTPS_PORT} is already in use by another route (${holders}), not this Gateway (${target}); nothing was changed. Free it with \`${off}\` if it is no longer needed (see \`tailscale serve status\`), or set gateway.tailscale.mode to "off" and reach this Gateway another way`
      })
    }
    const record: ExposureRecord = {
      mode,
      host: st.dnsName,
      httpsPort: HTTPS_PORT,
      target,
      pid: process.pid,
      instance,
      at: new Date(yield* Clock.currentTimeMillis).toISOString()
    }
    // Set before the record and the route exist, so a stop in between still looks for them.
    holding = true
    yield* writeRecord(recordFile, record)
    if (own !== undefined && own.funnel === (mode === "funnel")) {
      return { host: st.dnsName, adopted: true }
    }
    // Uninterruptible (each call is bounded by gateway.tailscale.timeoutMs): killing the CLI mid-call
    // could let tailscaled apply the route after the release looked for it.
    yield* Effect.uninterruptible(cli.enable(mode, HTTPS_PORT, target))
    const confirmed = findOwn(yield* cli.serveStatus, HTTPS_PORT, target)
    if (confirmed === undefined || confirmed.funnel !== (mode === "funnel")) {
      return yield* new TailscaleError({
        kind: "not-confirmed",
        message: `\`tailscale ${mode}\` reported success but the route is not in \`tailscale serve status\`: ${mode === "funnel" ? "Funnel" : "Serve"} may need to be enabled for the tailnet by an admin (run \`tailscale ${mode} --bg ${gateway.listeners.port}\` by hand to see the link)`
      })
    }
    return { host: st.dnsName, adopted: false }
  })

  const fail = (reason: string, retryInMs: number) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      current = { mode, state: "failed", reason, route, resetOnExit, retryAt: now + retryInMs }
    })

  // The release is registered before anything is created (and before the supervisor is forked, so
  // the supervisor stops first): a stop at any instant of start-up, even between `serve --bg`
  // returning and its confirmation, withdraws exactly what `holding` says may exist.
  const release = Effect.gen(function* () {
    if (!resetOnExit) {
      if (holding)
        yield* Effect.logInfo(`Tailscale ${mode} route left in place (gateway.tailscale.resetOnExit is off): ${route}`)
      return
    }
    // Nothing of ours was exposed; a record left by an earlier run stays for the next start to clean.
    if (!holding) return
    const result = yield* Effect.either(
      Effect.gen(function* () {
        const serve = yield* cli.serveStatus
        if (findOwn(serve, HTTPS_PORT, target) !== undefined) yield* cli.disable(mode, HTTPS_PORT)
      })
    )
    if (result._tag === "Right") {
      yield* clearRecord(recordFile)
      exposed(false, "gateway stopped")
      yield* Effect.logInfo(`Tailscale ${mode} route removed: ${route}`)
    } else {
      yield* Effect.logWarning(
        `could not remove the Tailscale ${mode} route ${route}: ${result.left.message}; ${recordFile === undefined ? `remove it with \`tailscale ${mode} --https=${HTTPS_PORT} off\` (no state dir keeps a record for the next start)` : `the next start removes it (record: ${recordFile})`}`
      )
    }
  })
  yield* Effect.acquireRelease(Effect.void, () => release)

  // First attempt, in the foreground: a conflict stops start-up; anything else degrades to loopback.
  const first = yield* Effect.either(claim)
  let lastWarning: string | undefined
  if (first._tag === "Right") {
    current = active(first.right.host)
    exposed(true, first.right.adopted ? "adopted at start" : "start")
    if (first.right.adopted) yield* Effect.logInfo(`Tailscale ${mode}: adopted the existing route ${route}`)
  } else if (first.left._tag === "ExposureConflict") {
    return yield* first.left
  } else {
    lastWarning = first.left.message
    yield* fail(first.left.message, 0)
    yield* Effect.logWarning(
      `Tailscale ${mode} is not available, so the Gateway serves on loopback only for now (retrying in the background): ${first.left.message}`
    )
  }

  // Claims the route again until it is ours, backing off with the shared reconnect policy; each
  // failure shows in status (with when the next try is), and each distinct reason is logged once.
  const reclaim = Effect.retry(
    claim,
    reconnectPolicy<TailscaleError | ExposureConflict>({
      initial: Duration.millis(retryBaseMs),
      max: Duration.millis(retryMaxMs),
      stableAfter: Duration.millis(retryMaxMs),
      onRetry: (e, delay) =>
        Effect.gen(function* () {
          yield* fail(e.message, Duration.toMillis(delay))
          if (e.message === lastWarning) return
          lastWarning = e.message
          yield* Effect.logWarning(`Tailscale ${mode} still not available (retrying with backoff): ${e.message}`)
        })
    })
  ).pipe(Effect.orDie)

  // Checks an active route every checkMs; returns why it is gone.
  const watch = Effect.gen(function* () {
    while (true) {
      yield* Effect.sleep(Duration.millis(checkMs))
      const check = yield* Effect.either(cli.serveStatus)
      if (check._tag === "Right" && findOwn(check.right, HTTPS_PORT, target) !== undefined) continue
      return check._tag === "Left"
        ? check.left.message
        : "the route disappeared from `tailscale serve status` (tailscaled restarted or someone removed it)"
    }
  })

  const supervise: Effect.Effect<never> = Effect.gen(function* () {
    while (true) {
      if (current.state === "active") {
        const why = yield* watch
        lastWarning = why
        yield* fail(why, 0)
        exposed(false, "route lost")
        yield* Effect.logWarning(`Tailscale ${mode} route ${route} lost: ${why}; re-claiming`)
      }
      current = active((yield* reclaim).host)
      exposed(true, "claimed")
      lastWarning = undefined
      yield* Effect.logInfo(`Tailscale ${mode} active: ${current.url} (WebSocket ${current.wsUrl})`)
    }
  })
  yield* Effect.forkScoped(supervise)

  return { status: Effect.sync(() => current) } satisfies TailscaleExposureService
})

export class TailscaleExposure extends Context.Tag("openclaw/TailscaleExposure")<
  TailscaleExposure,
  TailscaleExposureService
>() {
  /** Needs GatewayConfig, Gateway and TailscaleCli. Fails with ExposureConflict (exit 78). */
  static layer = Layer.scoped(TailscaleExposure, make)

  /**
   * A fixed status, for tests and for embedders that expose the Gateway by other means; it
   * shows in `status` like the real one. `onRelease` observes when the scope closes.
   */
  static layerTest = (status: ExposureStatus = { mode: "off", state: "off" }, onRelease: () => void = () => {}) =>
    Layer.scoped(
      TailscaleExposure,
      Effect.gen(function* () {
        const gateway = yield* Gateway
        yield* Effect.addFinalizer(() => Effect.sync(onRelease))
        yield* gateway.addStatusSection("exposure", () => status)
        return { status: Effect.succeed(status) }
      })
    )
}
