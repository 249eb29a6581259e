/** What the audit log says about a connection: where it came from, who it claims to be, how it signed in. */
import type { AuditFields } from "./AuditLog.js"
import type { ConnectingClient, ConnectionInfo } from "../gateway/api.js"

/** A client whose connect was accepted. */
export const connectionFields = (client: ConnectionInfo): AuditFields => ({
  address: client.remoteAddress,
  ...(client.forwardedFor === undefined ? {} : { forwardedFor: client.forwardedFor }),
  clientId: client.client.id,
  clientMode: client.client.mode,
  role: client.role,
  ...(client.device === undefined ? {} : { deviceId: client.device.deviceId }),
  // Only a login `tailscale whois` confirmed (a Tailscale sign-in): a Tailscale-User-Login header is
  // whatever the client sent, and naming it would attribute a token sign-in or a failure to that user.
  ...(client.tailscaleLogin === undefined ? {} : { tailscaleLogin: client.tailscaleLogin })
})

/** A connect that was refused: who it said it was (clientId, clientMode, role as it asked). */
export const connectingFields = (
  conn: ConnectingClient,
  clientId: string,
  clientMode: string,
  role: string
): AuditFields => ({
  address: conn.peer.remoteAddress,
  ...(conn.peer.proxy?.forwardedFor === undefined ? {} : { forwardedFor: conn.peer.proxy.forwardedFor }),
  clientId,
  clientMode,
  role,
  ...(conn.device === undefined ? {} : { deviceId: conn.device.deviceId }),
  ...(conn.identity?.login === undefined ? {} : { tailscaleLogin: conn.identity.login })
})
