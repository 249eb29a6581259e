/** The Gateway's own methods: health, status, system-presence. */
import { VERSION } from "../../version.js"
import type { GatewayService } from "./Gateway.js"
import type { MethodDef } from "./rpc.js"

export const healthPayload = (startedAt: number, now: number, durationMs = 0) => ({
  ok: true,
  ts: now,
  durationMs,
  version: VERSION,
  uptimeMs: now - startedAt
})

export const coreMethods = (gateway: GatewayService): Record<string, MethodDef> => ({
  health: { requires: "operator.read", sync: () => healthPayload(gateway.startedAt, Date.now()) },
  status: { requires: "operator.read", sync: () => gateway.status() },
  "system-presence": { requires: "operator.read", sync: () => gateway.presence() }
})
