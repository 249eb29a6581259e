/**
 * What features see of the Gateway's connections: plain data, never the Connection with its socket.
 * A ConnectionInfo is taken once, when a client's connect has been accepted; the core hands it to
 * event subscribers, broadcast filters and `connections()`.
 */
import type { ClientInfo, Role } from "../../protocol/frames.js"
import type { AuthGrant } from "../auth/Auth.js"
import type { VerifiedDevice } from "../auth/device-auth.js"
import type { Connection, PeerInfo } from "./connection.js"

/** An authenticated client, as it was when its connect was accepted. */
export interface ConnectionInfo {
  readonly connId: string
  readonly role: Role
  readonly scopes: ReadonlyArray<string>
  readonly client: ClientInfo
  /** How it signed in: token, password, tailscale, device-token, sign-in-code, none... */
  readonly authMethod: string
  /** The device that signed its connect (every node; browsers that have a device key). */
  readonly device?: VerifiedDevice
  /** A whois-confirmed Tailscale login (a Tailscale sign-in). */
  readonly tailscaleLogin?: string
  /** What a node declared it offers (its pairing decides what is routed). */
  readonly caps: ReadonlyArray<string>
  readonly commands: ReadonlyArray<string>
  readonly remoteAddress: string
  /** X-Forwarded-For as Tailscale Serve sent it. */
  readonly forwardedFor?: string
  /** It came in through Tailscale Funnel (the public internet). */
  readonly viaFunnel: boolean
  readonly connectedAt: number
}

/** A client joined (its connect was accepted) or left. */
export interface ConnectionEvent {
  readonly _tag: "Joined" | "Left"
  readonly connection: ConnectionInfo
}

/** A node host joined or left: a ConnectionEvent of role node, with its device id. */
export interface NodeEvent {
  readonly _tag: "Joined" | "Left"
  readonly nodeId: string
  readonly connection: ConnectionInfo
}

/** A connection while its connect is decided (hooks.ts): who it says it is and where it came from, read-only. */
export interface ConnectingClient {
  readonly connId: string
  readonly client: ClientInfo | undefined
  readonly role: Role
  readonly caps: ReadonlyArray<string>
  readonly commands: ReadonlyArray<string>
  readonly peer: PeerInfo
  readonly device: VerifiedDevice | undefined
  readonly identity: AuthGrant["identity"]
}

/** The snapshot of a connection whose connect was just accepted. */
export const connectionInfoOf = (conn: Connection): ConnectionInfo => ({
  connId: conn.connId,
  role: conn.role,
  scopes: conn.scopes,
  client: conn.client!,
  authMethod: conn.authMethod,
  ...(conn.device === undefined ? {} : { device: conn.device }),
  ...(conn.identity?.login === undefined ? {} : { tailscaleLogin: conn.identity.login }),
  caps: conn.caps,
  commands: conn.commands,
  remoteAddress: conn.peer.remoteAddress,
  ...(conn.peer.proxy?.forwardedFor === undefined ? {} : { forwardedFor: conn.peer.proxy.forwardedFor }),
  viaFunnel: conn.peer.proxy?.funnel === true,
  connectedAt: Date.now()
})
