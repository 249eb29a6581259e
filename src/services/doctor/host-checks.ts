/**
 * Checks that only make sense on the Gateway's own machine: its process and port, its state
 * directory, its Tailscale exposure and the security audit. Used by `openclaw doctor` for a local
 * target and by the Gateway's `doctor` method (the Control UI's Diagnose button).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { isAlive, portHolders } from "../../platform/processes.js"
import type { AuditReport } from "../security/audit.js"
import { FIX, type TailscaleCliService, type TailscaleError } from "../tailscale/TailscaleCli.js"
import { failed, type Outcome, passed, skipped } from "./steps.js"

// ---------------------------------------------------------------- process

/** A record the running Gateway leaves in the state dir (PID, port), when the build writes one. */
export interface RuntimeRecord {
  readonly pid: number
  readonly port: number
  readonly file: string
}

/** The Gateway's PID (as it reports it) is alive, holds its port, and agrees with the runtime record. */
export const checkProcess = (pid: number, port: number, record?: RuntimeRecord): Outcome => {
  if (record !== undefined && (record.pid !== pid || record.port !== port)) {
    return failed(
      `the runtime record ${record.file} names PID ${record.pid} on port ${record.port}, but the Gateway answering is PID ${pid} on port ${port}`,
      isAlive(record.pid)
        ? `two Gateways share the state dir: stop the one you do not want (kill ${record.pid} or ${pid}), or give each its own OPENCLAW_STATE_DIR`
        : `the record is stale (PID ${record.pid} is gone): restart the Gateway with \`openclaw gateway run\` so it rewrites it`
    )
  }
  if (!isAlive(pid)) {
    return failed(
      `the Gateway reports PID ${pid}, which is not running on this machine`,
      "the Gateway on this port runs elsewhere (a container, or another host through a tunnel): run `openclaw doctor` there for its process, state dir and exposure"
    )
  }
  const holders = portHolders(port, pid)
  const recorded = record === undefined ? "" : ` (matches ${record.file})`
  if (holders === undefined || holders.length === 0) {
    return passed(`PID ${pid} is alive${recorded}; which process holds port ${port} cannot be seen here`)
  }
  if (!holders.includes(pid)) {
    return failed(
      `port ${port} is held by PID ${holders.join(", ")}, not by the Gateway (PID ${pid})`,
      `something else owns the port: stop PID ${holders.join(", ")}, or move the Gateway with gateway.port`
    )
  }
  return passed(`PID ${pid} is alive and listens on port ${port}${recorded}`)
}

// ---------------------------------------------------------------- state dir

const MAX_FILES = 2_000

/** The state dir is ours and 0700; no file in it is open to other users; nothing in it is a symlink. */
export const checkStateDir = (stateDir: string): Outcome => {
  if (!path.isAbsolute(stateDir)) return skipped(`no state directory (${stateDir})`)
  let st: fs.Stats
  try {
    st = fs.lstatSync(stateDir)
  } catch {
    return failed(
      `${stateDir} does not exist`,
      "start the Gateway once with `openclaw gateway run` (it creates it), or set OPENCLAW_STATE_DIR to where it lives"
    )
  }
  if (!st.isDirectory())
    return failed(
      `${stateDir} is not a directory${st.isSymbolicLink() ? " (a symlink)" : ""}`,
      `point OPENCLAW_STATE_DIR at a real directory of your own (mode 0700)`
    )
  const uid = process.getuid?.()
  if (uid !== undefined && st.uid !== uid)
    return failed(
      `${stateDir} belongs to uid ${st.uid}, not to this user (uid ${uid})`,
      `run the Gateway as its owner, or \`chown -R $USER ${stateDir}\``
    )
  if ((st.mode & 0o077) !== 0)
    return failed(`${stateDir} is open to other users (mode ${(st.mode & 0o777).toString(8)})`, `chmod 700 ${stateDir}`)
  const open: Array<string> = []
  const links: Array<string> = []
  let count = 0
  const walk = (dir: string, depth: number) => {
    let entries: Array<fs.Dirent>
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      if (++count > MAX_FILES) return
      const p = path.join(dir, e.name)
      if (e.isSymbolicLink()) links.push(p)
      else if (e.isDirectory()) {
        if (depth < 4) walk(p, depth + 1)
      } else if (e.isFile()) {
        try {
          if ((fs.lstatSync(p).mode & 0o077) !== 0) open.push(p)
        } catch {
          // removed meanwhile
        }
      }
    }
  }
  walk(stateDir, 0)
  if (open.length > 0) {
    const shown = open.slice(0, 3)
    return failed(
      `${open.length} file(s) in ${stateDir} are open to other users: ${shown.join(", ")}${open.length > shown.length ? ", ..." : ""}`,
      `chmod 600 ${shown.join(" ")}${open.length > shown.length ? " ..." : ""} (the Gateway writes its own files 0600)`
    )
  }
  if (links.length > 0) {
    return failed(
      `${stateDir} holds symlinks (${links.slice(0, 3).join(", ")}); the Gateway never follows them`,
      `replace them with the real files, or remove them`
    )
  }
  return passed(`${stateDir} is yours, mode 700, no file open to others`)
}

// ---------------------------------------------------------------- exposure

export interface ExposureInput {
  readonly mode: "off" | "serve" | "funnel"
  /** The Gateway's port, and whether it serves TLS itself (Serve then proxies https+insecure). */
  readonly port: number
  readonly tls: boolean
  /** The Gateway's own word on its exposure (status.exposure.reason), used as the fix when no route exists. */
  readonly reason?: string
}

const normalise = (t: string) =>
  t
    .trim()
    .replace(/\/+$/, "")
    .replace(/^(https?(?:\+insecure)?:\/\/)localhost(?=[:/]|$)/i, "$1127.0.0.1")
    .toLowerCase()

const tailscaleFailed = (what: string, e: TailscaleError): Outcome => failed(`${what}: ${e.kind}`, e.message)

/** The route present on :443 and pointing at this port, HTTPS certificates on, Funnel allowed and on when mode is funnel. */
export const checkExposure = (cli: TailscaleCliService, input: ExposureInput): Effect.Effect<Outcome> =>
  Effect.gen(function* () {
    if (input.mode === "off") return passed('no Tailscale Serve or Funnel (gateway.tailscale.mode "off")')
    const st = yield* cli.status
    if (st.backendState === "NeedsLogin" || st.backendState === "NeedsMachineAuth")
      return failed(`Tailscale is logged out (BackendState ${st.backendState})`, FIX.loggedOut)
    if (st.backendState !== "Running")
      return failed(`Tailscale is not running (BackendState ${st.backendState})`, FIX.daemonDown)
    if (st.certDomains.length === 0) return failed("HTTPS certificates are not enabled for this tailnet", FIX.https)
    if (input.mode === "funnel" && !st.funnelAllowed)
      return failed('the tailnet policy does not give this node the "funnel" attribute', FIX.funnel)
    const serve = yield* cli.serveStatus
    const target = `${input.tls ? "https+insecure" : "http"}://127.0.0.1:${input.port}`
    const on443 = serve.routes.filter((r) => r.httpsPort === 443)
    const own = on443.find((r) => r.path === "/" && normalise(r.target) === normalise(target))
    const enable = `tailscale ${input.mode} --bg --yes --https=443 ${target}`
    if (own === undefined) {
      const others = on443.map((r) => `${r.path} -> ${r.target}`).join(", ")
      return others.length > 0
        ? failed(
            `https:443 on ${st.dnsName} routes to ${others}, not to this Gateway (${target})`,
            `free the port (\`tailscale serve --https=443 off\`) if that route is stale, then restart the Gateway; or set gateway.tailscale.mode "off"`
          )
        : failed(
            `no Tailscale ${input.mode} route to this Gateway (${target})`,
            input.reason ?? `restart the Gateway (it makes the route itself), or run \`${enable}\``
          )
    }
    if (input.mode === "funnel" && !own.funnel)
      return failed(
        `the route https://${own.host}/ -> ${own.target} is not public (Funnel is off for it)`,
        `restart the Gateway, or run \`${enable}\``
      )
    return passed(
      `${input.mode} https://${own.host}/ -> ${own.target}; HTTPS certificates on${input.mode === "funnel" ? "; Funnel allowed and on" : ""}`
    )
  }).pipe(Effect.catchTag("TailscaleError", (e) => Effect.succeed(tailscaleFailed("tailscale", e))))

// ---------------------------------------------------------------- audit

export const checkAudit = (report: AuditReport): Outcome => {
  const critical = report.findings.filter((f) => f.severity === "critical")
  const warnings = report.findings.filter((f) => f.severity === "warn")
  const warned =
    warnings.length === 0
      ? "no warnings"
      : `${warnings.length} warning(s): ${warnings.map((f) => f.id).join(", ")} (openclaw security audit)`
  if (critical.length > 0) {
    return failed(
      `${critical.length} critical: ${critical[0]!.message}${critical.length > 1 ? ` (and ${critical.length - 1} more)` : ""}; ${warned}`,
      `${critical[0]!.fix} (all findings: openclaw security audit)`
    )
  }
  return passed(`no critical findings, ${warned}`)
}
