/** The Gateway's own methods: health, status, system-presence (contract: protocol/contracts/core.ts). */
import { CoreGroup, type PresenceEntry, type StatusResult } from "../../protocol/contracts/core.js"
import { healthPayload } from "./health.js"
import { implementGroup, type MethodDef } from "./rpc.js"

/** What the core methods read of the Gateway (a narrow view, so this module does not import Gateway.ts). */
export interface CoreMethodsSource {
  readonly startedAt: number
  readonly status: () => Record<string, unknown>
  readonly presence: () => ReadonlyArray<PresenceEntry>
}

export const coreMethods = (gateway: CoreMethodsSource): Record<string, MethodDef> =>
  implementGroup(CoreGroup, {
    health: { sync: () => healthPayload(gateway.startedAt, Date.now()) },
    // status.ts builds the core fields StatusResult names, plus the features' sections.
    status: { sync: () => gateway.status() as StatusResult },
    "system-presence": { sync: () => gateway.presence() }
  })
