/**
 * One WebSocket client of the Gateway: the handshake (challenge, connect, hello-ok), then RPC.
 * Every failure closes only this socket, with the close code of shared/protocol.md.
 */
import { randomUUID } from "node:crypto"
import { Cause, Effect, Exit } from "effect"
import type WebSocket from "ws"
import {
  CloseCode,
  type ClientInfo,
  type ConnectParams,
  ErrorCode,
  type ErrorShape,
  errorResponse,
  eventFrame,
  Limits,
  okResponse,
  decodeClientRequest,
  type Role
} from "../../protocol/frames.js"
import type { AuthGrant, AuthRequest, AuthService } from "../auth/Auth.js"
import type { VerifiedDevice } from "../auth/device-auth.js"
import { type Admission, admit, type Admitted, checkConnect, NONE } from "./handshake.js"
import type { ProxyHeaders } from "../../platform/http-peer.js"
import { type CallerInfo, type MethodContext, type MethodDef, RpcError } from "./rpc.js"
import { withRpcSpan } from "./rpc-span.js"
import { unknownMethodError } from "./unsupported-methods.js"
import { type ConnectRefusal, type RefusedConnect, refusalOf } from "./refusal.js"
import { grantedScopes, hasScope } from "./scopes.js"
import { SPENT } from "./pending.js"
import { quoted } from "../../protocol/client-text.js"

// Their home used to be here; features still import them from connection.ts.
export { type ConnectRefusal, connectRefusal, type RefusedConnect } from "./refusal.js"

/** How long a socket the Gateway closes may take to answer the close frame before it is cut. */
export const CLOSE_GRACE_MS = 1_000

/** Shared by every send, rather than a fresh options object per frame. */
const TEXT_FRAME = { binary: false } as const

/** The answer to a request past Limits.maxRequestsInFlight: the connection stays open. */
const TOO_MANY_IN_FLIGHT: ErrorShape = {
  code: ErrorCode.unavailable,
  message: `too many requests in flight on this connection (at most ${Limits.maxRequestsInFlight}): wait for answers before sending more`,
  retryable: true,
  details: { code: "TOO_MANY_REQUESTS_IN_FLIGHT", limit: Limits.maxRequestsInFlight }
}

/** Device checks a connect makes once its credential is known (handshake.ts; a feature provides them: gateway/hooks.ts). */
export type ConnectionAdmission = Admission<Connection>

export interface ConnectionHost extends ConnectionAdmission {
  readonly auth: AuthService
  /**
   * Runs an Effect (an admission check, a method's handler) in a fiber the Gateway owns, so that
   * its shutdown interrupts it, and calls `onExit` with how it ended.
   */
  readonly run: <A, E>(effect: Effect.Effect<A, E>, onExit: (exit: Exit.Exit<A, E>) => void) => void
  /** An app installed a Tracer: every call gets a span (rpc-span.ts). Without one, no span is made. */
  readonly traced: boolean
  readonly handshakeTimeoutMs: number
  readonly method: (name: string) => MethodDef | undefined
  /** The whole `res` frame for connect request `id`, with the hello-ok payload, as JSON bytes. */
  readonly helloFrame: (conn: Connection, id: string) => Buffer
  /** The socket has taken (or dropped) a frame from helloFrame: its memory may be reused. */
  readonly helloSent: (frame: Buffer) => void
  readonly onReady: (conn: Connection) => void
  readonly onClose: (conn: Connection) => void
  /** The socket itself has closed (after the close handshake, or cut). */
  readonly onSocketClosed: (conn: Connection) => void
  readonly log: (message: string) => void
  /** A connect was refused (wrong credential, rate limited, device or pairing problem): for the log, never with a credential. */
  readonly onRefused: (conn: Connection, refused: RefusedConnect) => void
}

export interface PeerInfo {
  readonly remoteAddress: string
  /** Loopback peer and no proxy headers: see isLocalRequest. */
  readonly isLocal: boolean
  /** The upgrade carried an Origin header: a web page, which never gets the local exemption. */
  readonly fromBrowser: boolean
  /** Serve's headers on the upgrade request, for Tailscale identity auth. */
  readonly proxy?: ProxyHeaders
}

/** Which Connection a WebSocket belongs to, for the listeners every connection shares. */
const connectionOf = new WeakMap<WebSocket, Connection>()

export class Connection {
  readonly connId = randomUUID()
  /** The challenge's nonce, which a node's device signature covers. */
  readonly nonce = randomUUID()
  readonly since = Date.now()
  state: "handshake" | "ready" | "closed" = "handshake"
  client: ClientInfo | undefined
  role: Role = "operator"
  scopes: ReadonlyArray<string> = NONE
  authMethod = "none"
  /** Who a Tailscale-authenticated operator is (whois-confirmed login). */
  identity: AuthGrant["identity"]
  caller: CallerInfo | undefined
  caps: ReadonlyArray<string> = NONE
  commands: ReadonlyArray<string> = NONE
  /** The verified device identity (nodes). */
  device: VerifiedDevice | undefined
  /** A device token issued by this handshake, sent once in hello-ok.auth.deviceToken. */
  issuedDeviceToken: string | undefined
  /** When its connect frame arrived (admission may still be deciding it). */
  private connectReceivedAt: number | undefined
  /** Requests started and not answered yet (methods with an Effect handler; sync ones answer at once). */
  private inFlight = 0
  /** Its socket is corked until the current tick ends (batchWrites). */
  corked = false
  /** Dropped once the handshake is over, so an idle client does not keep a spent timer. */
  private handshakeTimer: NodeJS.Timeout | undefined

  constructor(
    readonly ws: WebSocket,
    readonly peer: PeerInfo,
    private readonly host: ConnectionHost
  ) {
    // Shared listeners, not three closures per connection: an idle client keeps them as long as it stays.
    connectionOf.set(ws, this)
    ws.on("message", Connection.onWsMessage)
    ws.on("close", Connection.onWsClose)
    ws.on("error", Connection.onWsError)
    this.handshakeTimer = setTimeout(() => this.close(CloseCode.policy, "handshake timeout"), host.handshakeTimeoutMs)
    this.handshakeTimer.unref()
    this.sendText(eventFrame("connect.challenge", { nonce: this.nonce, ts: Date.now() }))
  }

  // Every callback that touches client data is guarded: see `guarded`.
  private static onWsMessage(this: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    const conn = connectionOf.get(this)!
    try {
      conn.onMessage(data as Buffer, isBinary)
    } catch (e) {
      conn.unexpected("message", undefined, e)
    }
  }

  private static onWsClose(this: WebSocket): void {
    const conn = connectionOf.get(this)!
    conn.guarded("close", undefined, () => conn.onClosed())
    conn.guarded("close", undefined, () => conn.host.onSocketClosed(conn))
  }

  /** ws closes on a frame it cannot parse and waits for the client's close frame: not for long. */
  private static onWsError(this: WebSocket): void {
    const conn = connectionOf.get(this)!
    conn.guarded("close", undefined, () => {
      conn.onClosed()
      conn.cutAfterGrace()
    })
  }

  /** For the pre-auth pool: when the handshake last moved on (upgrade, connect frame), or SPENT once closed (refused or timed out). */
  handshakeProgress(): number {
    return this.state === "closed" ? SPENT : (this.connectReceivedAt ?? this.since)
  }

  /** Sends a prepared frame; a client that stops reading is dropped rather than buffered forever. */
  sendText(text: string | Buffer, done?: () => void): void {
    if (this.state === "closed" || this.ws.readyState !== 1) return done?.()
    if (this.ws.bufferedAmount > Limits.maxBufferedBytes) {
      this.close(CloseCode.policy, "slow consumer")
      return done?.()
    }
    this.ws.send(text, TEXT_FRAME, done)
  }

  /**
   * Sends the answer to a request. Answers sent in one tick leave in one write: the socket is
   * corked until the tick ends. A pipelined client's requests arrive many to a TCP read, and their
   * answers then cost one system call instead of one each. Events are not held back: a broadcast
   * reaches its first clients while it is still being written to the last.
   */
  answer(text: string): void {
    this.batchWrites()
    this.sendText(text)
  }

  private batchWrites(): void {
    if (this.corked) return
    const socket = socketOf(this.ws)
    if (socket === undefined) return
    this.corked = true
    socket.cork()
    process.nextTick(uncork, this, socket)
  }

  /**
   * Closes with `code`; a client that does not answer the close frame within CLOSE_GRACE_MS is
   * cut then (ws alone would keep its socket, a file descriptor, for 30 s; 1 s is ample to read
   * a close frame, and the error answer before it).
   */
  close(code: number, reason: string): void {
    if (this.state === "closed") return
    this.ws.close(code, closeReason(reason))
    this.onClosed()
    this.cutAfterGrace()
  }

  private cutAfterGrace(): void {
    const cut = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS)
    cut.unref()
    this.ws.once("close", () => clearTimeout(cut))
  }

  /**
   * Runs a callback that handles client data (`what`: the method, or connect/message/close). An unexpected exception (a bug, or input no check
   * foresaw) becomes an error answer to request `id` (and a close while the handshake is not
   * over, or when there is no request to answer), logged once with its stack: never an uncaught
   * exception that would end the process (shared/security.md section 8).
   */
  guarded(what: string, id: string | undefined, f: () => void): void {
    try {
      f()
    } catch (e) {
      this.unexpected(what, id, e)
    }
  }

  private unexpected(what: string, id: string | undefined, e: unknown): void {
    try {
      const client = this.client === undefined ? "" : ` of client ${quoted(this.client.id)}`
      this.host.log(
        `${what} failed unexpectedly on connection ${this.connId}${client}: ${e instanceof Error ? (e.stack ?? e.message) : typeof e}`
      )
      if (id !== undefined)
        this.sendText(errorResponse(id, { code: ErrorCode.unavailable, message: `internal error in ${what}` }))
      if (id === undefined || this.state !== "ready") this.close(1011, "internal error")
    } catch {
      // Answering failed too (the socket is gone): nothing more to do for this client.
      this.ws.terminate()
    }
  }

  private onClosed(): void {
    if (this.state === "closed") return
    clearTimeout(this.handshakeTimer)
    this.handshakeTimer = undefined
    const wasReady = this.state === "ready"
    this.state = "closed"
    if (wasReady) this.host.onClose(this)
  }

  private fail(id: string | undefined, error: ErrorShape, closeCode?: number): void {
    if (id !== undefined) this.answer(errorResponse(id, error))
    if (closeCode !== undefined) this.close(closeCode, error.message)
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.state === "closed") return
    if (isBinary) return this.close(1003, "binary frames are not supported; send JSON text frames")
    if (this.state === "handshake" && data.length > Limits.preAuthMaxPayload) {
      return this.close(CloseCode.tooLarge, "preauth payload too large")
    }
    const decoded = decodeClientRequest(data.toString("utf8"))
    if (!decoded.ok) {
      // A request that only holds an invalid field is answered like a bad param; anything else,
      // or anything before the handshake is over, also closes the socket.
      const answerOnly = decoded.request !== undefined && this.state === "ready"
      const message = `${decoded.request === undefined ? "invalid frame" : "invalid request"}: ${decoded.problem}`
      return this.fail(
        decoded.id,
        { code: ErrorCode.invalidRequest, message },
        answerOnly ? undefined : CloseCode.policy
      )
    }
    const frame = decoded.frame
    if (this.state === "handshake") {
      if (frame.method !== "connect") {
        return this.fail(
          frame.id,
          { code: ErrorCode.invalidRequest, message: "invalid handshake: first request must be connect" },
          CloseCode.policy
        )
      }
      this.connectReceivedAt = Date.now()
      return this.guarded("connect", frame.id, () => this.onConnect(frame.id, frame.params))
    }
    // guarded, written out: this is every call's path, and a closure per call costs.
    try {
      this.dispatch(frame.id, frame.method, frame.params)
    } catch (e) {
      this.unexpected(frame.method, frame.id, e)
    }
  }

  private onConnect(id: string, rawParams: unknown): void {
    const checked = checkConnect(rawParams)
    if (!checked.ok) return this.fail(id, checked.error, checked.closeCode)
    const { params, role } = checked
    const request: AuthRequest = {
      credentials: params.auth,
      clientMode: params.client.mode,
      remoteAddress: this.peer.remoteAddress,
      local: this.peer.isLocal && !this.peer.fromBrowser,
      role,
      ...(this.peer.proxy === undefined ? {} : { proxy: this.peer.proxy })
    }
    // An operator has no device identity to verify: most such connects are decided at once,
    // without starting a fiber (Auth.decideNow makes the same checks as Auth.authenticate).
    const decided = role === "operator" && params.device === undefined ? this.host.auth.decideNow?.(request) : undefined
    if (decided !== undefined) {
      if (Exit.isSuccess(decided)) {
        this.client = params.client
        this.caps = params.caps ?? NONE
        this.commands = params.commands ?? NONE
      }
      return this.onAdmitted(
        id,
        params,
        role,
        Exit.mapBoth(decided, {
          onFailure: refusalOf,
          // No device, so no device token: the scopes asked for (grantedScopes keeps known ones).
          onSuccess: (grant) => ({ grant, issued: {}, scopes: grantedScopes(params.scopes) })
        })
      )
    }
    this.host.run(admit(this.host, this, params, role, request, this.nonce), (exit) =>
      this.guarded("connect", id, () => this.onAdmitted(id, params, role, exit))
    )
  }

  private onAdmitted(id: string, params: ConnectParams, role: Role, exit: Exit.Exit<Admitted, ConnectRefusal>): void {
    if (this.state !== "handshake") return
    if (Exit.isFailure(exit)) {
      const failure = Cause.failureOption(exit.cause)
      if (failure._tag === "Some") {
        const { shape, closeCode, lockedOutMs } = failure.value
        const detail = (shape.details as { code?: unknown } | undefined)?.code
        this.host.onRefused(this, {
          clientId: params.client.id,
          clientMode: params.client.mode,
          role,
          code: typeof detail === "string" ? detail : shape.code,
          ...(lockedOutMs === undefined ? {} : { lockedOutMs })
        })
        return this.fail(id, shape, closeCode)
      }
      this.host.log(`connect check failed unexpectedly: ${Cause.pretty(exit.cause)}`)
      return this.fail(id, { code: ErrorCode.unavailable, message: "auth check failed" }, CloseCode.policy)
    }
    clearTimeout(this.handshakeTimer)
    this.handshakeTimer = undefined
    this.client = params.client
    this.role = role
    this.authMethod = exit.value.grant.method
    this.issuedDeviceToken = exit.value.issued.deviceToken
    this.identity = exit.value.grant.identity
    this.scopes = exit.value.scopes
    this.caller = {
      connId: this.connId,
      role,
      scopes: this.scopes,
      clientId: params.client.id,
      clientMode: params.client.mode,
      ...(this.peer.proxy?.funnel ? { viaFunnel: true } : {})
    }
    this.state = "ready"
    const hello = this.host.helloFrame(this, id)
    this.sendText(hello, () => this.host.helloSent(hello))
    this.issuedDeviceToken = undefined
    this.host.onReady(this)
  }

  private dispatch(id: string, method: string, params: unknown): void {
    const def = this.host.method(method)
    if (def === undefined) {
      return this.fail(id, unknownMethodError(method))
    }
    if (def.requires === "node" ? this.role !== "node" : this.role !== "operator") {
      return this.fail(id, {
        code: ErrorCode.forbidden,
        message:
          def.requires === "node" ? `method ${method} is for nodes only` : `method ${method} needs role operator`,
        details: { code: "ROLE_NOT_ALLOWED" }
      })
    }
    if (def.requires !== "node" && !hasScope(this.scopes, def.requires)) {
      return this.fail(id, {
        code: ErrorCode.forbidden,
        message: `missing scope: ${def.requires}`,
        details: { code: "MISSING_SCOPE" }
      })
    }
    const ctx = new CallContext(this, id)
    if (this.host.traced) return this.traced(id, method, def, params, ctx)
    if ("sync" in def) {
      let payload: unknown
      try {
        payload = def.sync(params, ctx)
      } catch (e) {
        if (e instanceof RpcError) return this.answer(errorResponse(id, e.shape))
        throw e
      }
      // Serialising the answer can throw too (it may hold a node's data): the caller's guard answers.
      return this.answer(okResponse(id, payload))
    }
    this.runHandler(id, method, def.handler(params, ctx))
  }

  /** A call inside its span (an app installed a Tracer): a sync method's function runs as an Effect, still at once. */
  private traced(id: string, method: string, def: MethodDef, params: unknown, ctx: MethodContext): void {
    if ("sync" in def) {
      const sync = def.sync
      const lifted = Effect.suspend(() => {
        try {
          return Effect.succeed(sync(params, ctx))
        } catch (e) {
          return e instanceof RpcError ? Effect.fail(e) : Effect.die(e)
        }
      })
      // Not counted in flight: it ends before run returns (no async step).
      return this.host.run(withRpcSpan(method, def.requires, lifted), (exit) => this.answerExit(id, method, exit))
    }
    this.runHandler(id, method, withRpcSpan(method, def.requires, def.handler(params, ctx)))
  }

  private runHandler(id: string, method: string, handler: Effect.Effect<unknown, RpcError>): void {
    // A pipeline of slow requests waits for its own answers, not everyone's turn (security.md section 8).
    if (this.inFlight >= Limits.maxRequestsInFlight) return this.fail(id, TOO_MANY_IN_FLIGHT)
    this.inFlight++
    this.host.run(handler, (exit) => {
      this.inFlight--
      this.answerExit(id, method, exit)
    })
  }

  /** The answer to request `id` from how its handler ended. */
  private answerExit(id: string, method: string, exit: Exit.Exit<unknown, RpcError>): void {
    this.guarded(method, id, () => {
      if (Exit.isSuccess(exit)) return this.answer(okResponse(id, exit.value))
      const failure = Cause.failureOption(exit.cause)
      if (failure._tag === "Some" && failure.value instanceof RpcError)
        return this.answer(errorResponse(id, failure.value.shape))
      if (Cause.isInterruptedOnly(exit.cause)) {
        return this.answer(
          errorResponse(id, { code: ErrorCode.unavailable, message: "gateway is shutting down", retryable: true })
        )
      }
      this.unexpected(method, id, Cause.squash(exit.cause))
    })
  }
}

/** What a method sees of its call: one small object per call, not a closure and an object. */
class CallContext implements MethodContext {
  readonly caller: CallerInfo
  constructor(
    private readonly conn: Connection,
    readonly requestId: string
  ) {
    this.caller = conn.caller!
  }
  accept(payload: unknown): void {
    this.conn.answer(okResponse(this.requestId, payload))
  }
}

/** The socket under a ws WebSocket (ws keeps it in `_socket`; without one, frames are written one by one). */
const socketOf = (ws: WebSocket): { cork(): void; uncork(): void } | undefined =>
  (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket

const uncork = (conn: Connection, socket: { uncork(): void }): void => {
  conn.corked = false
  socket.uncork()
}

/** A WebSocket close reason is at most 123 bytes of UTF-8 (ws throws on a longer one). */
export const closeReason = (message: string): string => {
  let reason = message.length > 123 ? message.slice(0, 123) : message
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1)
  return reason
}
