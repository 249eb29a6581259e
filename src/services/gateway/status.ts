/** The `status` answer: this Gateway's address, auth, TLS and clients, plus features' sections. */
import { PROTOCOL_VERSION } from "../../protocol/frames.js"
import { VERSION } from "../../version.js"
import type { Listeners } from "../binder/Binder.js"
import type { GatewaySettings } from "../config/GatewayConfig.js"
import type { Connection } from "./connection.js"
import type { Readiness } from "./readiness.js"
import type { ServerTls } from "./tls.js"

export interface StatusSource {
  readonly settings: GatewaySettings
  readonly listeners: Listeners
  readonly url: string
  readonly tls: Omit<ServerTls, "context"> | undefined
  readonly startedAt: number
  /** Authenticated connections. */
  readonly ready: ReadonlySet<Connection>
  readonly sections: ReadonlyMap<string, () => unknown>
  readonly readiness?: () => Readiness
}

export const statusOf =
  ({ settings, listeners, url, tls, startedAt, ready, sections, readiness }: StatusSource) =>
  (): Record<string, unknown> => ({
    ok: true,
    version: VERSION,
    protocol: PROTOCOL_VERSION,
    pid: process.pid,
    startedAt,
    uptimeMs: Date.now() - startedAt,
    url,
    bind: {
      mode: settings.bind,
      effectiveMode: listeners.effectiveMode,
      addresses: listeners.addresses.map((a) => a.host),
      port: listeners.port
    },
    auth: {
      mode: settings.auth.mode,
      secretSet: settings.auth.mode !== "none",
      secretSource: settings.auth.secretSource,
      allowTailscale: settings.auth.allowTailscale
    },
    tls: tls === undefined ? { enabled: false } : { enabled: true, ...tls },
    controlUi: { enabled: settings.controlUi.enabled, basePath: settings.controlUi.basePath || "/" },
    clients: [...ready].filter((c) => c.role === "operator").length,
    nodes: [...ready].filter((c) => c.role === "node").length,
    tailscaleUsers: [...new Set([...ready].flatMap((c) => (c.identity === undefined ? [] : [c.identity.login])))],
    ...Object.fromEntries([...sections].map(([name, get]) => [name, get()])),
    ...(readiness === undefined ? {} : { readiness: readiness() })
  })
