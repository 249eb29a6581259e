/**
 * Every socket the listeners accept, until it is an HTTP request or a WebSocket: deadlines
 * (admission.ts), the pool of unauthenticated sockets (pending.ts), and with TLS the sniff that
 * answers a plaintext client and wraps the rest in a TLSSocket.
 */
import type * as http from "node:http"
import type * as net from "node:net"
import * as tls from "node:tls"
import { AcceptedSocket } from "./admission.js"
import { normaliseAddress } from "../../platform/http-peer.js"
import { type PendingLimits, PendingPool } from "./pending.js"
import { plaintextOnTlsPortResponse, type ServerTls } from "./tls.js"

export interface AcceptOptions {
  readonly handshakeTimeoutMs: number
  /** The pool's caps, from the open-file limit (pending.ts pendingLimitsFor). */
  readonly pendingLimits: PendingLimits
  readonly serverTls: ServerTls | undefined
  readonly httpServer: http.Server
  readonly stopping: () => boolean
  readonly log: (message: string) => void
  readonly debug: (message: string) => void
}

export const makeAcceptor = ({
  handshakeTimeoutMs,
  pendingLimits,
  serverTls,
  httpServer,
  stopping,
  log,
  debug
}: AcceptOptions) => {
  /** Every accepted socket until it closes; `acceptedBy` finds one from its (TLS) socket. */
  const accepted = new Set<AcceptedSocket>()
  const acceptedBy = new WeakMap<net.Socket, AcceptedSocket>()
  let evictedSince = 0
  /** Unauthenticated sockets: a full pool evicts a spent one, else the one longest without progress (pending.ts). */
  const pending = new PendingPool<AcceptedSocket>(
    (a) => a.lastProgress(),
    (a) => {
      a.destroy()
      // One line per burst, not one per evicted socket.
      if (evictedSince++ === 0) {
        log(
          `too many unauthenticated connections (from ${a.address} or in total): closing the oldest idle ones so that clients that sign in promptly still get in`
        )
        setTimeout(() => (evictedSince = 0), 10_000).unref()
      }
    },
    pendingLimits
  )

  /** With TLS the same port speaks https/wss: each accepted socket is wrapped in a server-side TLSSocket (TLS 1.3 only). */
  const secure = (raw: net.Socket, acc: AcceptedSocket): net.Socket => {
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: serverTls!.context, requestCert: false })
    acc.tlsWrapped(socket)
    acceptedBy.set(socket, acc)
    socket.on("error", (err) => {
      debug(`TLS connection from ${acc.address} failed: ${err.message}`)
      socket.destroy()
    })
    return socket
  }

  // One function each for every socket, not a closure (or a `once` wrapper) per socket: an idle
  // client keeps its socket's listeners for as long as it stays.
  const expired = (a: AcceptedSocket) =>
    debug(`closed a connection from ${a.address}: no ${a.expired} within the handshake timeout`)
  function closed(this: net.Socket) {
    const acc = acceptedBy.get(this)
    if (acc === undefined) return
    acc.clearTimers()
    accepted.delete(acc)
    pending.release(acc)
  }
  function failed(this: net.Socket) {
    this.destroy()
  }

  const accept = (raw: net.Socket) => {
    if (stopping()) return raw.destroy()
    const address = normaliseAddress(raw.remoteAddress)
    // Deadlines from accept: first byte, TLS handshake, request head (admission.ts).
    const acc = new AcceptedSocket(raw, address, handshakeTimeoutMs, serverTls !== undefined, expired)
    accepted.add(acc)
    acceptedBy.set(raw, acc)
    raw.on("close", closed)
    pending.admit(acc, address)
    raw.on("error", failed)
    // Nothing more is spent on a socket until it sends something: a flood of silent sockets costs
    // a socket and two timers each, and the HTTP parser is attached with the first bytes.
    if (serverTls === undefined) {
      return void raw.once("data", (chunk: Buffer) => {
        acc.progressed()
        raw.pause()
        httpServer.emit("connection", raw)
        // The server reads the socket itself from now on; this first chunk is handed over as its first data.
        raw.emit("data", chunk)
        raw.resume()
      })
    }
    // TLS: look at the first bytes. A plaintext http:// or ws:// client gets an HTTP answer that
    // says to use TLS, not a reset; a TLS handshake goes on (the bytes are put back for TLSSocket).
    raw.once("data", (chunk: Buffer) => {
      acc.progressed()
      const refusal = plaintextOnTlsPortResponse(chunk)
      if (refusal !== undefined) {
        // The head deadline stays: it cuts a client that never closes its end.
        debug(`plaintext connection from ${address} to the TLS port: answered "use https:// or wss://"`)
        raw.resume()
        return void raw.end(refusal)
      }
      raw.pause()
      raw.unshift(chunk)
      httpServer.emit("connection", secure(raw, acc))
    })
  }

  /**
   * Its connection signed in: it leaves the pool and this bookkeeping (the connection closes it
   * from now on), so an idle client keeps nothing of it.
   */
  const signedIn = (acc: AcceptedSocket) => {
    pending.release(acc)
    accepted.delete(acc)
    acceptedBy.delete(acc.raw)
    acceptedBy.delete(acc.socket)
  }

  return { accept, accepted, acceptedBy, pending, signedIn }
}
