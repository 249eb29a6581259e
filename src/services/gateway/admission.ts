/**
 * One accepted socket on its way to a WebSocket (or serving plain HTTP), with the deadlines of
 * security.md section 8: TCP accept to first byte, TLS handshake and HTTP request head (from
 * accept), and on a keep-alive socket the next request head after a response. The connect frame's
 * deadline is the handshake timeout that Connection keeps once the upgrade is done.
 *
 * The Gateway's http.Server never listens (sockets come from Binder), so Node's own
 * headersTimeout/requestTimeout never run: these timers are what cut a silent or trickling socket.
 */
import type * as net from "node:net"
import { SPENT } from "./pending.js"

/** A socket that has sent nothing at all by then is cut. */
export const FIRST_BYTE_MS = 5_000

const TIMEOUT_BODY =
  "request timeout: the request head must arrive within the handshake timeout (gateway.handshakeTimeoutMs)\n"
const REQUEST_TIMEOUT =
  "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n" +
  `Content-Length: ${Buffer.byteLength(TIMEOUT_BODY)}\r\n\r\n${TIMEOUT_BODY}`

/** How long a cut socket may take to read its 408 before it is destroyed. */
const LINGER_MS = 1_000

export class AcceptedSocket {
  /** The socket HTTP runs on: `raw`, or the TLSSocket around it. */
  socket: net.Socket
  /** HTTP can be spoken on `socket` (plain, or TLS once its handshake is done): a timeout answers 408. */
  speaksHttp: boolean
  /** Once upgraded, its WebSocket (the Gateway sets it): when its handshake last moved on (upgrade, connect frame), or SPENT once it is over unadmitted. */
  upgraded: { handshakeProgress(): number } | undefined
  /** When it last moved a step on (accepted, first bytes, TLS done, request head), for the pre-auth pool. */
  private progressAt = Date.now()
  /** The stage that timed out, for the log (undefined while none has). */
  expired: "first byte" | "request head" | undefined
  private headTimer: NodeJS.Timeout | undefined
  private firstByteTimer: NodeJS.Timeout | undefined
  /** bytesRead when the last response was done: unchanged at expiry means an idle keep-alive. */
  private idleFrom = -1

  constructor(
    readonly raw: net.Socket,
    readonly address: string,
    private readonly headMs: number,
    tls: boolean,
    private readonly onExpired: (socket: AcceptedSocket) => void
  ) {
    this.socket = raw
    this.speaksHttp = !tls
    this.firstByteTimer = setTimeout(
      () => {
        this.firstByteTimer = undefined
        if (raw.bytesRead === 0) this.expire("first byte")
      },
      Math.min(FIRST_BYTE_MS, headMs)
    )
    this.armHead()
  }

  /**
   * For the pre-auth pool (pending.ts): when it last moved on. A refused connect, a timed-out
   * handshake (still in the pool, so never admitted) or a cut request is SPENT and goes first.
   */
  lastProgress(): number {
    if (this.expired !== undefined) return SPENT
    const handshake = this.upgraded?.handshakeProgress()
    return handshake === undefined
      ? this.progressAt
      : handshake === SPENT
        ? SPENT
        : Math.max(handshake, this.progressAt)
  }

  /** A step on: first bytes, TLS handshake done, a request head. */
  progressed(): void {
    this.progressAt = Date.now()
  }

  /** TLS wraps `raw`: HTTP runs on `socket` once its handshake is done. */
  tlsWrapped(socket: net.Socket): void {
    this.socket = socket
    socket.once("secure", () => {
      this.speaksHttp = true
      this.progressed()
    })
  }

  /** A request head arrived (plain HTTP): no deadline while it is answered. */
  requestStarted(): void {
    this.progressed()
    this.clearTimers()
  }

  /** Its response is done: the next request head (keep-alive) must arrive in time too. */
  requestDone(): void {
    if (this.upgraded !== undefined || this.socket.destroyed) return
    this.idleFrom = this.raw.bytesRead
    this.armHead()
  }

  /** An upgrade request's head arrived: Connection's handshake timeout takes over. */
  upgradeStarted(): void {
    this.progressed()
    this.clearTimers()
  }

  destroy(): void {
    this.clearTimers()
    this.socket.destroy()
    if (this.socket !== this.raw) this.raw.destroy()
  }

  private armHead(): void {
    clearTimeout(this.headTimer)
    this.headTimer = setTimeout(() => {
      this.headTimer = undefined
      this.expire("request head")
    }, this.headMs)
  }

  /** Its socket closed (the acceptor's one close listener calls this). */
  clearTimers(): void {
    clearTimeout(this.headTimer)
    clearTimeout(this.firstByteTimer)
    this.headTimer = this.firstByteTimer = undefined
  }

  private expire(stage: "first byte" | "request head"): void {
    this.clearTimers()
    this.expired = stage
    this.onExpired(this)
    const idle = this.idleFrom === this.raw.bytesRead
    if (stage === "request head" && !idle && this.speaksHttp && this.socket.writable) {
      // A trickling request: tell it why, then make sure it goes even if it never reads.
      this.socket.end(REQUEST_TIMEOUT)
      setTimeout(() => this.destroy(), LINGER_MS).unref()
    } else this.destroy()
  }
}
