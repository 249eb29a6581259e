/** The Gateway's own methods: health, status, system-presence. */
import { VERSION } from "../../version.js"
import type { MethodDef } from "./rpc.js"

/** What the core methods read of the Gateway. */
export interface CoreMethodsSource {
  readonly startedAt: number
  readonly status: () => unknown
  readonly presence: () => unknown
}

export const healthPayload = (startedAt: number, now: number, durationMs = 0) => ({
  ok: true,
  ts: now,
  durationMs,
  version: VERSION,
  uptimeMs: now - startedAt
})

export const coreMethods = (gateway: CoreMethodsSource): Record<string, MethodDef> => ({
  health: { requires: "operator.read", sync: () => healthPayload(gateway.startedAt, Date.now()) },
  status: { requires: "operator.read", sync: () => gateway.status() },
  "system-presence": { requires: "operator.read", sync: () => gateway.presence() }
})
