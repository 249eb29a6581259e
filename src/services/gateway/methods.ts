/** The Gateway's own methods: health, status, system-presence. */
import type { GatewayService } from "./Gateway.js"
import { healthPayload } from "./health.js"
import type { MethodDef } from "./rpc.js"

export const coreMethods = (gateway: GatewayService): Record<string, MethodDef> => ({
  health: { requires: "operator.read", sync: () => healthPayload(gateway.startedAt, Date.now()) },
  status: { requires: "operator.read", sync: () => gateway.status() },
  "system-presence": { requires: "operator.read", sync: () => gateway.presence() }
})
