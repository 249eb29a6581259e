/** The Gateway's own methods: health, status, system-presence. */
import { healthPayload } from "./health.js"
import type { MethodDef } from "./rpc.js"

/** What the core methods read of the Gateway (a narrow view, so this module does not import Gateway.ts). */
export interface CoreMethodsSource {
  readonly startedAt: number
  readonly status: () => unknown
  readonly presence: () => unknown
}

export const coreMethods = (gateway: CoreMethodsSource): Record<string, MethodDef> => ({
  health: { requires: "operator.read", sync: () => healthPayload(gateway.startedAt, Date.now()) },
  status: { requires: "operator.read", sync: () => gateway.status() },
  "system-presence": { requires: "operator.read", sync: () => gateway.presence() }
})
