/**
 * Whether a request's forwarded headers (X-Forwarded-*, Tailscale-User-*) may be believed: only
 * when they come from Tailscale Serve on this host. Serve is tailscaled itself, so on Linux the
 * loopback peer's socket must belong to root or to tailscaled's user (its row in /proc/net/tcp);
 * any other local process that sends such headers is keyed on its socket address and gets no
 * header identity. Without /proc (macOS) every loopback peer counts, as before (README, Security).
 * Only looked up when a request carries forwarded headers.
 */
import type * as net from "node:net"
import { Context } from "effect"
import { type Endpoint, pidsNamed, tcpPeerOwner, uidOf } from "../../platform/processes.js"
import { isLoopbackAddress } from "../../platform/http-peer.js"

export interface ServePeerCheck {
  /** The uid owning the other end of a local connection; "unknown" where it cannot be told (no /proc). */
  readonly ownerOf: (peer: Endpoint, own: Endpoint) => Promise<number | "unknown" | undefined>
  /** Whether a socket owned by `uid` may be Tailscale Serve. */
  readonly trustedUid: (uid: number) => boolean
}

/** How long the answer to "which user runs tailscaled" is kept (it takes a walk over /proc). */
const TAILSCALED_USER_MS = 30_000

let tailscaledUsers: { readonly at: number; readonly uids: ReadonlySet<number> } | undefined

/** root, or a user a tailscaled process runs as. */
export const isServeUid = (uid: number): boolean => {
  if (uid === 0) return true
  const now = Date.now()
  if (tailscaledUsers === undefined || now - tailscaledUsers.at > TAILSCALED_USER_MS) {
    const uids = pidsNamed("tailscaled").flatMap((pid) => uidOf(pid) ?? [])
    tailscaledUsers = { at: now, uids: new Set(uids) }
  }
  return tailscaledUsers.uids.has(uid)
}

export const linuxServePeer: ServePeerCheck = { ownerOf: tcpPeerOwner, trustedUid: isServeUid }

/** The check the Gateway makes: linuxServePeer by default; a test replaces it (a peer owned by someone else). */
export class ServePeer extends Context.Reference<ServePeer>()("openclaw/ServePeer", {
  defaultValue: (): ServePeerCheck => linuxServePeer
}) {}

/** The peer of `socket` may be Tailscale Serve: loopback, and owned by a trusted user where that can be told. */
export const fromServeProxy = async (check: ServePeerCheck, socket: net.Socket): Promise<boolean> => {
  if (!isLoopbackAddress(socket.remoteAddress)) return false
  const owner = await check.ownerOf(
    { address: socket.remoteAddress!, port: socket.remotePort! },
    { address: socket.localAddress!, port: socket.localPort! }
  )
  if (owner === "unknown") return true
  return owner !== undefined && check.trustedUid(owner)
}
