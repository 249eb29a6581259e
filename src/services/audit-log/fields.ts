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
  // Only a login `tailscale whois` confirmed (a Tailscale sign-in): a Tailscale-User-Login header is
  // whatever the client sent, and naming it would attribute a token sign-in or a failure to that user.
  ...(conn.identity?.login === undefined ? {} : { tailscaleLogin: conn.identity.login })
})
