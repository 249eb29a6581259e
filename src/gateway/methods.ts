/** The Gateway's own methods: health, status, system-presence. */
import { Effect } from "effect"
import { VERSION } from "../version.js"
import type { GatewayService } from "../services/Gateway.js"
import type { MethodDef } from "./rpc.js"

export const healthPayload = (startedAt: number, now: number, durationMs = 0) => ({
  ok: true,
  ts: now,
  durationMs,
  version: VERSION,
  uptimeMs: now - startedAt
})

export const coreMethods = (gateway: GatewayService): Record<string, MethodDef> => ({
  health: {
    requires: "operator.read",
    handler: () =>
      Effect.sync(() => {
        const now = Date.now()
        return healthPayload(gateway.startedAt, now)
      })
  },
  status: { requires: "operator.read", handler: () => Effect.sync(() => gateway.status()) },
  "system-presence": { requires: "operator.read", handler: () => Effect.sync(() => gateway.presence()) }
})
