/** The audit log's GatewayAudit: the core's start, stop, sign-ins and refused connects as entries. */
import { Effect, Layer } from "effect"
import { GatewayAudit } from "../gateway/api.js"
import { AuditLog, type AuditService } from "./AuditLog.js"
import { connectingFields, connectionFields } from "./fields.js"

export const gatewayAuditFor = (audit: AuditService): GatewayAudit["Type"] => ({
  started: ({ address, mode }) => audit.record("gateway.start", { pid: process.pid, address, mode }),
  stopped: () => audit.record("gateway.stop", { pid: process.pid }),
  signedIn: (client) => audit.record("auth.ok", { ...connectionFields(client), authMethod: client.authMethod }),
  refused: (conn, r) => {
    // Pairing outcomes have their own entries (pair.requested); everything else is a failed sign-in.
    if (r.code !== "PAIRING_REQUIRED" && r.code !== "PAIRING_REJECTED") {
      audit.record("auth.fail", { ...connectingFields(conn, r.clientId, r.clientMode, r.role), code: r.code })
    }
    if (r.lockedOutMs !== undefined)
      audit.record("auth.lockout", {
        ...connectingFields(conn, r.clientId, r.clientMode, r.role),
        code: r.code,
        lockedOutMs: r.lockedOutMs
      })
  }
})

export const AuditGateway = Layer.effect(GatewayAudit, Effect.map(AuditLog, gatewayAuditFor))
