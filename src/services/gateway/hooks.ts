/**
 * What features plug into the core: small Tags the Gateway asks for with Effect.serviceOption, so
 * the core never imports a feature. src/layers/index.ts provides them (pairing, audit-log).
 */
import { Context, Effect } from "effect"
import { ErrorCode } from "../../protocol/frames.js"
import type { Connection, ConnectionAdmission } from "./connection.js"
import { connectRefusal, type RefusedConnect } from "./refusal.js"

export type { ConnectionAdmission }

/** What the core lends an admission: events to operators, and the Gateway's info log. */
export interface AdmissionContext {
  readonly broadcast: (event: string, payload?: unknown, only?: (conn: Connection) => boolean) => void
  readonly logInfo: (message: string) => void
}

/** Node and operator-device admission (services/pairing/admission.ts). */
export class DeviceAdmission extends Context.Tag("openclaw/DeviceAdmission")<
  DeviceAdmission,
  { readonly forGateway: (gateway: AdmissionContext) => ConnectionAdmission }
>() {}

/** What the core reports as it happens, for the audit log (services/audit-log/gateway-audit.ts). */
export interface GatewayAuditService {
  readonly started: (info: { readonly address: string; readonly mode: string }) => void
  readonly stopped: () => void
  readonly signedIn: (conn: Connection) => void
  readonly refused: (conn: Connection, refused: RefusedConnect) => void
}
export class GatewayAudit extends Context.Tag("openclaw/GatewayAudit")<GatewayAudit, GatewayAuditService>() {}

/**
 * More names this Gateway answers to than its bind addresses, looked up when a request names an
 * unknown host (the DNS-rebinding guard, own-hosts.ts): the tailnet's (services/tailscale/host-names.ts).
 */
export class HostDiscovery extends Context.Tag("openclaw/HostDiscovery")<
  HostDiscovery,
  { readonly discover: (() => Promise<ReadonlyArray<string>>) | undefined }
>() {}

/** Without DeviceAdmission (an embedder's own composition): no pairing, so no node joins. */
export const withoutPairing: ConnectionAdmission = {
  checkDeviceToken: () => Effect.succeed({ ok: false }),
  admitNode: () =>
    Effect.fail(
      connectRefusal({
        code: ErrorCode.unavailable,
        message:
          "this Gateway has no node pairing: compose it with gatewayServices (or provide DeviceAdmission) to let nodes join",
        retryable: false
      })
    )
}
