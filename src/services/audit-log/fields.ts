/** What the audit log says about a connection: where it came from, who it claims to be, how it signed in. */
import type { AuditFields } from "./AuditLog.js"
import type { Connection } from "../gateway/connection.js"

export const connectionFields = (
  conn: Connection,
  clientId?: string,
  clientMode?: string,
  role?: string
): AuditFields => ({
  address: conn.peer.remoteAddress,
  ...(conn.peer.proxy?.forwardedFor === undefined ? {} : { forwardedFor: conn.peer.proxy.forwardedFor }),
  clientId: clientId ?? conn.client?.id,
  clientMode: clientMode ?? conn.client?.mode,
  role: role ?? conn.role,
  ...(conn.device === undefined ? {} : { deviceId: conn.device.deviceId }),
  ...(conn.identity?.login === undefined
    ? conn.peer.proxy?.login === undefined
      ? {}
      : { tailscaleLogin: conn.peer.proxy.login }
    : { tailscaleLogin: conn.identity.login })
})
