/**
 * The browser side of protocol v4: one WebSocket to the Gateway, the connect handshake, requests
 * correlated by id (two-phase ones too), events, and reconnection with backoff (1 s doubling to
 * 30 s) after the link is lost. Authentication failures never loop: they stop and report.
 */

import { type DeviceIdentity, signConnect } from "./device-identity.js"

export interface HelloOk {
  readonly type: "hello-ok"
  readonly protocol: number
  readonly server: { readonly version: string; readonly connId: string }
  readonly features: { readonly methods: ReadonlyArray<string>; readonly events: ReadonlyArray<string> }
  readonly snapshot: {
    readonly presence?: ReadonlyArray<unknown>
    readonly uptimeMs?: number
    readonly authMode?: string
  }
  readonly auth: {
    readonly method: string
    readonly role: string
    readonly scopes: ReadonlyArray<string>
    readonly deviceToken?: string
  }
  readonly policy: { readonly tickIntervalMs: number }
}

export interface Credentials {
  readonly kind: "token" | "password" | "none"
  readonly secret?: string
}

export interface GatewayError {
  readonly code: string
  readonly message: string
  readonly details?: { readonly code?: string }
}

export type ConnState =
  | { readonly kind: "connecting"; readonly attempt: number }
  | { readonly kind: "connected"; readonly hello: HelloOk }
  /** The Gateway refused the credentials (or needs some): no retry until the user acts. */
  | { readonly kind: "auth-failed"; readonly error: GatewayError }
  | { readonly kind: "waiting"; readonly reason: string; readonly retryAt: number; readonly everConnected: boolean }

export class RequestError extends Error {
  constructor(readonly error: GatewayError) {
    super(error.message)
  }
}

declare const __OPENCLAW_VERSION__: string | undefined
export const UI_VERSION = typeof __OPENCLAW_VERSION__ === "string" ? __OPENCLAW_VERSION__ : "dev"

/** A v4 UUID that also works on plain http:// pages (crypto.randomUUID needs a secure context). */
export const uuid = (): string => {
  const b = crypto.getRandomValues(new Uint8Array(16))
  b[6] = (b[6]! & 0x0f) | 0x40
  b[8] = (b[8]! & 0x3f) | 0x80
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

interface Pending {
  readonly resolve: (payload: any) => void
  readonly reject: (err: Error) => void
  readonly expectFinal: boolean
}

const BACKOFF_START_MS = 1_000
const BACKOFF_MAX_MS = 30_000

export interface ConnectionOptions {
  readonly url: string
  readonly credentials: Credentials
  /** This browser's device identity: connects are signed, and a device token replaces the shared secret. */
  readonly identity?: DeviceIdentity
  /** The device token to sign in with, if this browser has one for this Gateway. */
  readonly deviceToken?: () => string | undefined
  /** The Gateway issued a device token (after a shared-secret sign-in). */
  readonly onDeviceToken?: (token: string) => void
  /**
   * A one-time code from a `#code=` link (`openclaw dashboard`): the first connect offers it, with
   * the signed identity, instead of any other credential; it is never offered twice.
   */
  readonly signInCode?: string
  readonly mode: "ui" | "webchat"
  readonly onState: (state: ConnState) => void
  readonly onEvent: (event: string, payload: any) => void
}

/** The scopes the Control UI asks for (admin: the Activity screen's audit.tail). */
export const UI_SCOPES = ["operator.read", "operator.write", "operator.pairing", "operator.admin"]

export class GatewayConnection {
  private ws: WebSocket | undefined
  private pending = new Map<string, Pending>()
  private attempt = 0
  private everConnected = false
  private retryTimer: number | undefined
  private watchdog: number | undefined
  private lastFrameAt = 0
  private stopped = false
  hello: HelloOk | undefined

  /** Dropped once a device token stands in for it. */
  private credentials: Credentials

  /** Cleared as soon as it is sent: a used code would only be refused. */
  private signInCode: string | undefined

  constructor(private readonly options: ConnectionOptions) {
    this.credentials = options.credentials
    this.signInCode = options.identity === undefined ? undefined : options.signInCode
  }

  start(): void {
    this.stopped = false
    this.open()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.retryTimer)
    clearInterval(this.watchdog)
    this.ws?.close(1000, "closed by the user")
    this.ws = undefined
  }

  /** Skips the remaining backoff wait. */
  retryNow(): void {
    if (this.stopped || this.ws !== undefined) return
    clearTimeout(this.retryTimer)
    this.open()
  }

  get connected(): boolean {
    return this.hello !== undefined && this.ws?.readyState === WebSocket.OPEN
  }

  request<T = any>(method: string, params?: unknown, opts: { expectFinal?: boolean } = {}): Promise<T> {
    const ws = this.ws
    if (ws === undefined || this.hello === undefined || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new RequestError({ code: "UNAVAILABLE", message: "not connected to the Gateway" }))
    }
    const id = uuid()
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, expectFinal: opts.expectFinal ?? false })
      ws.send(JSON.stringify(params === undefined ? { type: "req", id, method } : { type: "req", id, method, params }))
    })
  }

  private open(): void {
    this.attempt += 1
    this.options.onState({ kind: "connecting", attempt: this.attempt })
    let ws: WebSocket
    try {
      ws = new WebSocket(this.options.url)
    } catch (e) {
      return this.lost(`cannot open ${this.options.url}: ${(e as Error).message}`)
    }
    this.ws = ws
    const connectId = uuid()
    let authFailed = false
    let connectError: string | undefined
    ws.onmessage = (m) => {
      this.lastFrameAt = Date.now()
      let frame: any
      try {
        frame = JSON.parse(String(m.data))
      } catch {
        return
      }
      if (frame.type === "event" && frame.event === "connect.challenge") {
        void this.sendConnect(ws, connectId, String(frame.payload?.nonce ?? ""))
        return
      }
      if (frame.type === "res" && frame.id === connectId) {
        if (!frame.ok) {
          const error: GatewayError = frame.error ?? { code: "UNAVAILABLE", message: "connect failed" }
          if (error.message.startsWith("unauthorized") || error.details?.code?.startsWith("AUTH_")) {
            authFailed = true
            this.stopped = true
            this.options.onState({ kind: "auth-failed", error })
          } else connectError = error.message
          return
        }
        this.hello = frame.payload as HelloOk
        if (this.hello.auth.deviceToken !== undefined) {
          this.credentials = { kind: "none" }
          this.options.onDeviceToken?.(this.hello.auth.deviceToken)
        }
        this.attempt = 0
        this.everConnected = true
        this.startWatchdog(this.hello.policy?.tickIntervalMs ?? 30_000)
        this.options.onState({ kind: "connected", hello: this.hello })
        return
      }
      if (frame.type === "res") {
        const p = this.pending.get(frame.id)
        if (p === undefined) return
        if (frame.ok && p.expectFinal && frame.payload?.status === "accepted") return
        this.pending.delete(frame.id)
        if (frame.ok) p.resolve(frame.payload)
        else p.reject(new RequestError(frame.error ?? { code: "UNAVAILABLE", message: "request failed" }))
        return
      }
      if (frame.type === "event") this.options.onEvent(frame.event, frame.payload)
    }
    ws.onclose = (e) => {
      if (this.ws !== ws) return
      this.ws = undefined
      this.hello = undefined
      clearInterval(this.watchdog)
      for (const [, p] of this.pending)
        p.reject(new RequestError({ code: "UNAVAILABLE", message: "the connection to the Gateway was lost" }))
      this.pending.clear()
      if (authFailed || this.stopped) return
      // Cut off on purpose (this device revoked, or the shared secret rotated): signed out, no retry loop.
      if (e.code === 1008 && /^(device (revoked|removed)|gateway (token|password) rotated)/.test(e.reason)) {
        this.stopped = true
        const revoked = e.reason.startsWith("device")
        this.options.onState({
          kind: "auth-failed",
          error: {
            code: "INVALID_REQUEST",
            message: revoked
              ? "unauthorized: this browser's device was revoked on the Gateway"
              : `unauthorized: ${e.reason}`,
            details: { code: revoked ? "AUTH_DEVICE_TOKEN_MISMATCH" : "AUTH_TOKEN_MISMATCH" }
          }
        })
        return
      }
      const why =
        connectError !== undefined
          ? `the Gateway refused the connection: ${connectError}`
          : e.code === 1012
            ? "the Gateway is restarting"
            : e.code === 1006
              ? "the Gateway cannot be reached, or refused the WebSocket"
              : `the connection closed (${e.code}${e.reason ? `: ${e.reason}` : ""})`
      this.lost(why)
    }
  }

  /** The connect request: the device token when this browser has one, else the shared secret; signed when there is an identity. */
  private async sendConnect(ws: WebSocket, id: string, nonce: string): Promise<void> {
    const { identity, mode } = this.options
    const signInCode = this.signInCode
    this.signInCode = undefined
    const deviceToken = identity === undefined || signInCode !== undefined ? undefined : this.options.deviceToken?.()
    const credentials = this.credentials
    const auth: Record<string, string> | undefined =
      signInCode !== undefined
        ? { signInCode }
        : deviceToken !== undefined
          ? { deviceToken }
          : credentials.kind === "none" || !credentials.secret
            ? undefined
            : { [credentials.kind]: credentials.secret }
    const client = {
      id: "openclaw-control-ui",
      version: UI_VERSION,
      platform: navigator.platform || "web",
      mode,
      displayName: mode === "webchat" ? "WebChat" : "Control UI"
    }
    let device: unknown
    if (identity !== undefined) {
      try {
        // The signature covers auth.token, else auth.deviceToken (protocol/device.ts signatureToken);
        // a code is in neither, so it signs none.
        const token = auth?.token !== undefined && auth.token.trim() !== "" ? auth.token : deviceToken
        device = await signConnect(identity, {
          clientId: client.id,
          clientMode: mode,
          role: "operator",
          scopes: UI_SCOPES,
          token,
          nonce,
          platform: client.platform
        })
      } catch {
        device = undefined
      }
    }
    if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) return
    ws.send(
      JSON.stringify({
        type: "req",
        id,
        method: "connect",
        params: {
          minProtocol: 4,
          maxProtocol: 4,
          client,
          role: "operator",
          scopes: UI_SCOPES,
          caps: [],
          userAgent: navigator.userAgent,
          locale: navigator.language,
          ...(auth === undefined ? {} : { auth }),
          ...(device === undefined ? {} : { device })
        }
      })
    )
  }

  private lost(reason: string): void {
    if (this.stopped) return
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** Math.max(0, this.attempt - 1))
    this.options.onState({ kind: "waiting", reason, retryAt: Date.now() + delay, everConnected: this.everConnected })
    this.retryTimer = window.setTimeout(() => this.open(), delay)
  }

  /** Two tick intervals of silence means a dead link: drop it and reconnect. */
  private startWatchdog(tickIntervalMs: number): void {
    clearInterval(this.watchdog)
    this.lastFrameAt = Date.now()
    this.watchdog = window.setInterval(
      () => {
        if (Date.now() - this.lastFrameAt > 2 * tickIntervalMs) this.ws?.close(4000, "tick timeout")
      },
      Math.min(tickIntervalMs, 5_000)
    )
  }
}
