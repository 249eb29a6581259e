/**
 * One WebSocket client of the Gateway: the handshake (challenge, connect, hello-ok), then RPC.
 * Every failure closes only this socket, with the close code of shared/protocol.md.
 */
import { randomUUID } from "node:crypto"
import { Cause, Effect, Exit, Runtime } from "effect"
import type WebSocket from "ws"
import {
  CloseCode,
  type ClientInfo,
  ErrorCode,
  type ErrorShape,
  errorResponse,
  eventFrame,
  Limits,
  LEGACY_PROTOCOL_VERSION,
  okResponse,
  okResponseJson,
  OperatorScopes,
  parseFrame,
  PROTOCOL_VERSION,
  type Role
} from "../protocol/frames.js"
import type { AuthGrant, AuthService } from "../services/Auth.js"
import { decodeConnectParams } from "./connect-params.js"
import { type DeviceVerdict, missingDevice, type VerifiedDevice, verifyDevice } from "./device-auth.js"
import type { ProxyHeaders } from "./http.js"
import { type CallerInfo, type MethodDef, RpcError } from "./rpc.js"

export interface ConnectionHost {
  readonly auth: AuthService
  readonly runtime: Runtime.Runtime<never>
  readonly handshakeTimeoutMs: number
  readonly method: (name: string) => MethodDef | undefined
  /** The hello-ok payload as JSON bytes. */
  readonly hello: (conn: Connection) => Buffer
  readonly onReady: (conn: Connection) => void
  readonly onClose: (conn: Connection) => void
  readonly log: (message: string) => void
  /** Checks a device token against the paired device (undefined: no pairing store). */
  readonly checkDeviceToken: (deviceId: string, token: string) => Effect.Effect<boolean>
  /**
   * Decides whether an authenticated node may join: paired (returns a fresh device token unless
   * it authenticated with one), or refused with NOT_PAIRED and a pending request.
   */
  readonly admitNode: (conn: Connection, device: VerifiedDevice, authMethod: string) => Effect.Effect<{ readonly deviceToken?: string }, ConnectRefusal>
}

/** A refused connect: the error answered, then the socket closed with closeCode. */
export interface ConnectRefusal {
  readonly _tag: "ConnectRefusal"
  readonly shape: ErrorShape
  readonly closeCode: number
}
export const connectRefusal = (shape: ErrorShape, closeCode: number = CloseCode.policy): ConnectRefusal => ({ _tag: "ConnectRefusal", shape, closeCode })

export interface PeerInfo {
  readonly remoteAddress: string
  /** Loopback peer and no proxy headers: see isLocalRequest. */
  readonly isLocal: boolean
  /** The upgrade carried an Origin header: a web page, which never gets the local exemption. */
  readonly fromBrowser: boolean
  /** Serve's headers on the upgrade request, for Tailscale identity auth. */
  readonly proxy?: ProxyHeaders
}

export class Connection {
  readonly connId = randomUUID()
  readonly nonce = randomUUID()
  readonly since = Date.now()
  state: "handshake" | "ready" | "closed" = "handshake"
  client: ClientInfo | undefined
  role: Role = "operator"
  scopes: ReadonlyArray<string> = []
  authMethod = "none"
  /** Who a Tailscale-authenticated operator is (whois-confirmed login). */
  identity: AuthGrant["identity"]
  caller: CallerInfo | undefined
  caps: ReadonlyArray<string> = []
  commands: ReadonlyArray<string> = []
  /** The verified device identity (nodes). */
  device: VerifiedDevice | undefined
  /** A device token issued by this handshake, sent once in hello-ok.auth.deviceToken. */
  issuedDeviceToken: string | undefined
  private readonly handshakeTimer: NodeJS.Timeout

  constructor(
    readonly ws: WebSocket,
    readonly peer: PeerInfo,
    private readonly host: ConnectionHost
  ) {
    ws.on("message", (data, isBinary) => this.onMessage(data as Buffer, isBinary))
    ws.on("close", () => this.onClosed())
    ws.on("error", () => this.onClosed())
    this.handshakeTimer = setTimeout(() => this.close(CloseCode.policy, "handshake timeout"), host.handshakeTimeoutMs)
    this.handshakeTimer.unref()
    this.sendText(eventFrame("connect.challenge", { nonce: this.nonce, ts: Date.now() }))
  }

  /** Sends a prepared frame; a client that stops reading is dropped rather than buffered forever. */
  sendText(text: string | Buffer): void {
    if (this.state === "closed" || this.ws.readyState !== 1) return
    if (this.ws.bufferedAmount > Limits.maxBufferedBytes) {
      this.close(CloseCode.policy, "slow consumer")
      return
    }
    this.ws.send(text, { binary: false })
  }

  close(code: number, reason: string): void {
    if (this.state === "closed") return
    this.ws.close(code, reason)
    this.onClosed()
  }

  private onClosed(): void {
    if (this.state === "closed") return
    clearTimeout(this.handshakeTimer)
    const wasReady = this.state === "ready"
    this.state = "closed"
    if (wasReady) this.host.onClose(this)
  }

  private fail(id: string | undefined, error: ErrorShape, closeCode?: number): void {
    if (id !== undefined) this.sendText(errorResponse(id, error))
    if (closeCode !== undefined) this.close(closeCode, error.message.slice(0, 120))
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.state === "closed") return
    if (isBinary) return this.close(1003, "binary frames are not supported; send JSON text frames")
    if (this.state === "handshake" && data.length > Limits.preAuthMaxPayload) {
      return this.close(CloseCode.tooLarge, "preauth payload too large")
    }
    const frame = parseFrame(data.toString("utf8"))
    if (frame === undefined || frame.type !== "req") {
      const id = frame !== undefined && "id" in frame ? frame.id : undefined
      return this.fail(id, { code: ErrorCode.invalidRequest, message: "invalid frame: expected a JSON request {type:\"req\", id, method, params}" }, CloseCode.policy)
    }
    if (this.state === "handshake") {
      if (frame.method !== "connect") {
        return this.fail(frame.id, { code: ErrorCode.invalidRequest, message: "invalid handshake: first request must be connect" }, CloseCode.policy)
      }
      return this.onConnect(frame.id, frame.params)
    }
    this.dispatch(frame.id, frame.method, frame.params)
  }

  private onConnect(id: string, rawParams: unknown): void {
    const decoded = decodeConnectParams(rawParams)
    if (!decoded.ok) {
      return this.fail(id, { code: ErrorCode.invalidRequest, message: `invalid connect params: ${decoded.problem}` }, CloseCode.policy)
    }
    const params = decoded.params
    const role = params.role ?? "operator"
    if (role !== "operator" && role !== "node") {
      return this.fail(id, { code: ErrorCode.invalidRequest, message: "invalid role" }, CloseCode.policy)
    }
    const speaks = (v: number) => params.minProtocol <= v && v <= params.maxProtocol
    const legacyOk = params.client.mode === "probe" || role === "node"
    if (!speaks(PROTOCOL_VERSION) && !(legacyOk && speaks(LEGACY_PROTOCOL_VERSION))) {
      return this.fail(
        id,
        {
          code: ErrorCode.invalidRequest,
          message: `protocol mismatch: this Gateway speaks protocol ${PROTOCOL_VERSION}, the client offered ${params.minProtocol}-${params.maxProtocol}`,
          details: { code: "PROTOCOL_MISMATCH", expectedProtocol: PROTOCOL_VERSION }
        },
        CloseCode.protocolMismatch
      )
    }
    const host = this.host
    const nonce = this.nonce
    const peer = this.peer
    const conn = this
    const admission = Effect.gen(function* () {
      let device: VerifiedDevice | undefined
      // A signed identity is verified first (its device token is looked up by its id); a node
      // without one hears about its credential first, then that it needs an identity.
      const refuseDevice = (verdict: Extract<DeviceVerdict, { ok: false }>) =>
        Effect.fail(connectRefusal({ code: ErrorCode.invalidRequest, message: verdict.message, details: { code: verdict.code } }))
      if (role === "node" && params.device !== undefined) {
        const verdict = verifyDevice(params, role, nonce, Date.now())
        if (!verdict.ok) return yield* refuseDevice(verdict)
        device = verdict.device
      }
      const offeredDeviceToken = params.auth?.deviceToken
      const deviceToken =
        device !== undefined && offeredDeviceToken !== undefined && offeredDeviceToken.length > 0
          ? (yield* host.checkDeviceToken(device.deviceId, offeredDeviceToken)) ? ("valid" as const) : ("invalid" as const)
          : undefined
      const grant = yield* host.auth
        .authenticate({
          credentials: params.auth,
          clientMode: params.client.mode,
          remoteAddress: peer.remoteAddress,
          local: peer.isLocal && !peer.fromBrowser,
          role,
          ...(peer.proxy === undefined ? {} : { proxy: peer.proxy }),
          ...(deviceToken === undefined ? {} : { deviceToken })
        })
        .pipe(
          Effect.mapError((f) =>
            connectRefusal({
              code: ErrorCode.invalidRequest,
              message: f.message,
              details: { code: f.code },
              ...(f.retryAfterMs === undefined ? {} : { retryable: true, retryAfterMs: f.retryAfterMs })
            })
          )
        )
      if (role === "node" && device === undefined) return yield* refuseDevice(missingDevice)
      conn.client = params.client
      conn.device = device
      conn.caps = params.caps ?? []
      conn.commands = params.commands ?? []
      const issued = device === undefined ? {} : yield* host.admitNode(conn, device, grant.method)
      return { grant, issued }
    })
    Runtime.runCallback(this.host.runtime)(admission, {
      onExit: (exit) => {
        if (this.state !== "handshake") return
        if (Exit.isFailure(exit)) {
          const failure = Cause.failureOption(exit.cause)
          if (failure._tag === "Some") return this.fail(id, failure.value.shape, failure.value.closeCode)
          this.host.log(`connect check failed unexpectedly: ${Cause.pretty(exit.cause)}`)
          return this.fail(id, { code: ErrorCode.unavailable, message: "auth check failed" }, CloseCode.policy)
        }
        clearTimeout(this.handshakeTimer)
        this.client = params.client
        this.role = role
        this.authMethod = exit.value.grant.method
        this.issuedDeviceToken = exit.value.issued.deviceToken
        this.identity = exit.value.grant.identity
        this.scopes = role === "operator" ? grantedScopes(params.scopes) : []
        this.caller = {
          connId: this.connId,
          role,
          scopes: this.scopes,
          clientId: params.client.id,
          clientMode: params.client.mode,
          ...(this.peer.proxy?.funnel ? { viaFunnel: true } : {})
        }
        this.state = "ready"
        this.sendText(okResponseJson(id, this.host.hello(this)))
        this.issuedDeviceToken = undefined
        this.host.onReady(this)
      }
    })
  }

  private dispatch(id: string, method: string, params: unknown): void {
    const def = this.host.method(method)
    if (def === undefined) {
      return this.fail(id, { code: ErrorCode.invalidRequest, message: `unknown method: ${method}` })
    }
    if (def.requires === "node" ? this.role !== "node" : this.role !== "operator") {
      return this.fail(id, {
        code: ErrorCode.forbidden,
        message: def.requires === "node" ? `method ${method} is for nodes only` : `method ${method} needs role operator`,
        details: { code: "ROLE_NOT_ALLOWED" }
      })
    }
    if (def.requires !== "node" && !hasScope(this.scopes, def.requires)) {
      return this.fail(id, { code: ErrorCode.forbidden, message: `missing scope: ${def.requires}`, details: { code: "MISSING_SCOPE" } })
    }
    const ctx = { caller: this.caller!, requestId: id, accept: (payload: unknown) => this.sendText(okResponse(id, payload)) }
    if ("sync" in def) {
      try {
        return this.sendText(okResponse(id, def.sync(params, ctx)))
      } catch (e) {
        if (e instanceof RpcError) return this.sendText(errorResponse(id, e.shape))
        this.host.log(`method ${method} failed: ${String(e)}`)
        return this.sendText(errorResponse(id, { code: ErrorCode.unavailable, message: `internal error in ${method}` }))
      }
    }
    Runtime.runCallback(this.host.runtime)(def.handler(params, ctx), {
      onExit: (exit) => {
        if (Exit.isSuccess(exit)) return this.sendText(okResponse(id, exit.value))
        const failure = Cause.failureOption(exit.cause)
        if (failure._tag === "Some" && failure.value instanceof RpcError) return this.sendText(errorResponse(id, failure.value.shape))
        if (Cause.isInterruptedOnly(exit.cause)) {
          return this.sendText(errorResponse(id, { code: ErrorCode.unavailable, message: "gateway is shutting down", retryable: true }))
        }
        this.host.log(`method ${method} failed: ${Cause.pretty(exit.cause)}`)
        this.sendText(errorResponse(id, { code: ErrorCode.unavailable, message: `internal error in ${method}` }))
      }
    })
  }
}

/** Operator access grants the scopes asked for (known ones only), never more; none asked: read. */
export const grantedScopes = (requested: ReadonlyArray<string> | undefined): ReadonlyArray<string> => {
  const known = (requested ?? []).filter((s) => (OperatorScopes as ReadonlyArray<string>).includes(s))
  return known.length > 0 ? [...new Set(known)] : ["operator.read"]
}

/** admin implies every operator scope; write implies read. */
export const hasScope = (granted: ReadonlyArray<string>, needed: string): boolean =>
  granted.includes(needed) ||
  granted.includes("operator.admin") ||
  (needed === "operator.read" && granted.includes("operator.write"))
