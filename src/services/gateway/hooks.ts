/**
 * What features plug into the core: services with defaults (Context.Reference), so the core never
 * imports a feature and a Gateway composed without one still runs (no pairing, no audit entries, no
 * tailnet names). src/layers/index.ts provides them (pairing, audit-log, tailscale-exposure).
 */
import { Context, Effect } from "effect"
import { ErrorCode } from "../../protocol/frames.js"
import type { ConnectingClient, ConnectionInfo } from "./clients.js"
import type { Admission } from "./handshake.js"
import { connectRefusal, type RefusedConnect } from "./refusal.js"

/** Device checks a connect makes once its credential is known (handshake.ts). */
export type ConnectionAdmission = Admission<ConnectingClient>

/** What the core lends an admission: events to operators, and the Gateway's info log. */
export interface AdmissionContext {
  readonly broadcast: (event: string, payload?: unknown, only?: (client: ConnectionInfo) => boolean) => void
  readonly logInfo: (message: string) => void
}

/** Without pairing (an embedder's own composition): no device token is valid, and no node joins. */
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

/** Node and operator-device admission (services/pairing/admission.ts); by default, withoutPairing. */
export class DeviceAdmission extends Context.Reference<DeviceAdmission>()("openclaw/DeviceAdmission", {
  defaultValue: (): { readonly forGateway: (gateway: AdmissionContext) => ConnectionAdmission } => ({
    forGateway: () => withoutPairing
  })
}) {}

/** What the core reports as it happens, for the audit log (services/audit-log/gateway-audit.ts). */
export interface GatewayAuditService {
  readonly started: (info: { readonly address: string; readonly mode: string }) => void
  readonly stopped: () => void
  readonly signedIn: (client: ConnectionInfo) => void
  readonly refused: (conn: ConnectingClient, refused: RefusedConnect) => void
}

/** By default nothing is recorded. */
export class GatewayAudit extends Context.Reference<GatewayAudit>()("openclaw/GatewayAudit", {
  defaultValue: (): GatewayAuditService => ({
    started: () => {},
    stopped: () => {},
    signedIn: () => {},
    refused: () => {}
  })
}) {}

/**
 * More names this Gateway answers to than its bind addresses, looked up when a request names an
 * unknown host (the DNS-rebinding guard, own-hosts.ts): the tailnet's
 * (services/tailscale-exposure/host-names.ts). By default, none.
 */
export class HostDiscovery extends Context.Reference<HostDiscovery>()("openclaw/HostDiscovery", {
  defaultValue: (): { readonly discover: (() => Promise<ReadonlyArray<string>>) | undefined } => ({
    discover: undefined
  })
}) {}
