/**
 * Who gets the secret: before a client sends a token or password to a loopback port, it checks
 * that every socket listening there belongs to this user (or to root, for the Gateway our runtime
 * record names). Any local user may listen on a free port, so with no Gateway running another
 * user's program on gateway.port would otherwise receive the token. Owners come from
 * /proc/net/tcp{,6} (Linux); where they cannot be read the check proves nothing and the client
 * connects as before.
 */
import * as net from "node:net"
import { listenerOnPort, listenerUids, portHolders, userNameOf } from "../platform/processes.js"
import { ClientFailure } from "./failure.js"

/** 127.0.0.0/8, ::1, ::ffff:127.x and localhost: a port any local user can take. */
export const isLoopbackHost = (hostname: string): boolean => {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase()
  if (h === "localhost" || h.endsWith(".localhost")) return true
  const v4 = h.startsWith("::ffff:") ? h.slice(7) : h
  if (net.isIPv4(v4)) return v4.startsWith("127.")
  return h === "::1" || h === "0:0:0:0:0:0:0:1"
}

export interface ListenerCheck {
  /** This process's uid (undefined where there are no uids: Windows). */
  readonly uid: number | undefined
  /** The PID of the Gateway our runtime record names on this port, if any. */
  readonly recordedPid?: number
  /**
   * Root's listeners are trusted (an explicit --url with its credential: a container's published
   * port is held by root's docker-proxy). Root can read this user's config file anyway.
   */
  readonly trustRoot?: boolean
  /** Owners of the listening sockets (default: /proc/net/tcp{,6}); undefined when unknown. */
  readonly owners?: (port: number) => ReadonlyArray<number> | undefined
  /** Whether `pid` holds a socket listening on `port` (default: its /proc fds). */
  readonly holds?: (port: number, pid: number) => boolean
  /** For the message: who listens (PID and program), and a uid's user name. */
  readonly describe?: (
    port: number
  ) => { readonly pid?: number; readonly name?: string; readonly uid?: number } | undefined
  readonly userName?: (uid: number) => string | undefined
}

const defaultHolds = (port: number, pid: number) => portHolders(port, pid)?.includes(pid) === true

/**
 * Why the listener on `url`'s loopback port must not get a secret, or undefined when it may (ours,
 * a recorded root Gateway, nobody listening, not loopback, or nothing can be told).
 */
export const foreignListener = (url: string, check: ListenerCheck): string | undefined => {
  const parsed = new URL(url)
  if (!isLoopbackHost(parsed.hostname) || check.uid === undefined) return undefined
  const port = Number(parsed.port || (parsed.protocol === "wss:" ? 443 : 80))
  // Nobody listening (the connect is refused), or no owner known (no /proc): nothing to prove.
  const foreign = ((check.owners ?? listenerUids)(port) ?? []).filter((uid) => uid !== check.uid)
  if (foreign.length === 0) return undefined
  // A Gateway started by root (sudo) whose record this CLI read: root's socket, the recorded process.
  if (
    foreign.every((uid) => uid === 0) &&
    (check.trustRoot === true ||
      (check.recordedPid !== undefined && (check.holds ?? defaultHolds)(port, check.recordedPid)))
  )
    return undefined
  const uid = foreign[0]!
  const name = (check.userName ?? userNameOf)(uid)
  const holder = (check.describe ?? listenerOnPort)(port)
  const process =
    holder?.pid !== undefined && holder.uid === uid
      ? `, PID ${holder.pid}${holder.name === undefined ? "" : ` (${holder.name})`}`
      : ""
  return `port ${port} on this machine is held by another user's process (${name === undefined ? "" : `user ${name}, `}uid ${uid}${process}), not by a Gateway of yours, so the credential was not sent: stop that process (or ask its owner to), or run your Gateway on another port (gateway.port, or --port with \`openclaw gateway run\` and with this command)${uid === 0 ? `; if it is your Gateway in a container (root's docker-proxy holds published ports), pass --url ws://127.0.0.1:${port} with --token or --password` : ""}`
}

/** Throws the refusal as a ClientFailure ("unreachable", code LISTENER_NOT_OURS). */
export const checkListenerBeforeSecret = (url: string, check: ListenerCheck): void => {
  const why = foreignListener(url, check)
  if (why !== undefined) throw new ClientFailure("unreachable", why, "LISTENER_NOT_OURS")
}

export const currentUid = (): number | undefined =>
  typeof process.getuid === "function" ? process.getuid() : undefined
