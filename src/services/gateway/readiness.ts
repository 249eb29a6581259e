/**
 * Readiness: whether this Gateway does everything it was configured to do, or serves with a part
 * missing (degraded), and why. Live (/healthz) only says the process answers; /readyz, `status`
 * (and so `gateway status --json`) and doctor say what is missing: an exposure still retrying, a
 * state directory that cannot be written (pairings, tokens and the audit log cannot be saved).
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"

export interface Readiness {
  readonly status: "ready" | "degraded" | "stopping"
  /** Why it is degraded, one sentence each, naming what to do. */
  readonly reasons: ReadonlyArray<string>
}

/** How long one write probe of the state dir is trusted: /readyz is pre-auth and may be polled hard. */
const PROBE_TTL_MS = 2_000

/** Whether a file can be created in `dir` now (a write, not access(2): root passes access on a read-only mount's files too). */
const writableProbe = (dir: string): string | undefined => {
  const file = path.join(dir, `.readyz-${process.pid}-${randomBytes(4).toString("hex")}`)
  try {
    fs.writeFileSync(file, "", { flag: "wx", mode: 0o600 })
    fs.rmSync(file, { force: true })
    return undefined
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e)
  }
}

interface ExposureLike {
  readonly mode?: string
  readonly state?: string
  readonly reason?: string
}

export const makeReadiness = (options: {
  /** undefined: state in memory only (nothing to write). */
  readonly stateDir: string | undefined
  readonly stopping: () => boolean
  readonly sections: ReadonlyMap<string, () => unknown>
  readonly now?: () => number
}): (() => Readiness) => {
  const now = options.now ?? Date.now
  let probed: { at: number; error: string | undefined } | undefined
  const stateDirError = () => {
    if (options.stateDir === undefined) return undefined
    if (probed === undefined || now() - probed.at > PROBE_TTL_MS)
      probed = { at: now(), error: writableProbe(options.stateDir) }
    return probed.error
  }
  return () => {
    if (options.stopping()) return { status: "stopping", reasons: ["the Gateway is shutting down"] }
    const reasons: Array<string> = []
    const exposure = options.sections.get("exposure")?.() as ExposureLike | undefined
    if (exposure?.state === "failed")
      reasons.push(
        `Tailscale ${exposure.mode ?? "exposure"} is not active (retrying in the background; loopback works): ${exposure.reason ?? "unknown reason"}`
      )
    else if (exposure?.state === "starting") reasons.push(`Tailscale ${exposure.mode ?? "exposure"} is starting`)
    const stateError = stateDirError()
    if (stateError !== undefined)
      reasons.push(
        `the state dir ${options.stateDir} cannot be written (${stateError}): pairings, tokens and the audit log are not saved; fix its owner and permissions (or free the disk), or point OPENCLAW_STATE_DIR at a writable directory and restart`
      )
    return { status: reasons.length === 0 ? "ready" : "degraded", reasons }
  }
}
