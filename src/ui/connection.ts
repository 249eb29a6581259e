/**
 * The browser side of protocol v4: one WebSocket to the Gateway, the connect handshake, requests
 * correlated by id (two-phase ones too), events, and reconnection with backoff (1 s doubling to
 * 30 s) after the link is lost. Authentication failures never loop: they stop and report.
 */

export interface HelloOk {
  readonly type: "hello-ok"
  readonly protocol: number
  readonly server: { readonly version: string; readonly connId: string }
  readonly features: { readonly methods: ReadonlyArray<string>; readonly events: ReadonlyArray<string> }
  readonly snapshot: { readonly presence?: ReadonlyArray<unknown>; readonly uptimeMs?: number; readonly authMode?: string }
  readonly auth: { readonly method: string; readonly role: string; readonly scopes: ReadonlyArray<string> }
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
  readonly mode: "ui" | "webchat"
  readonly onState: (state: ConnState) => void
  readonly onEvent: (event: string, payload: any) => void
}

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

  constructor(private readonly options: ConnectionOptions) {}

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
        const { credentials, mode } = this.options
        ws.send(
          JSON.stringify({
            type: "req",
            id: connectId,
            method: "connect",
            params: {
              minProtocol: 4,
              maxProtocol: 4,
              client: { id: "openclaw-control-ui", version: UI_VERSION, platform: navigator.platform || "web", mode, displayName: mode === "webchat" ? "WebChat" : "Control UI" },
              role: "operator",
              scopes: ["operator.read", "operator.write", "operator.pairing"],
              caps: [],
              userAgent: navigator.userAgent,
              locale: navigator.language,
              ...(credentials.kind === "none" || !credentials.secret ? {} : { auth: { [credentials.kind]: credentials.secret } })
            }
          })
        )
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
      for (const [, p] of this.pending) p.reject(new RequestError({ code: "UNAVAILABLE", message: "the connection to the Gateway was lost" }))
      this.pending.clear()
      if (authFailed || this.stopped) return
      const why = connectError !== undefined
        ? `the Gateway refused the connection: ${connectError}`
        : e.code === 1012
          ? "the Gateway is restarting"
          : e.code === 1006
            ? "the Gateway cannot be reached, or refused the WebSocket"
            : `the connection closed (${e.code}${e.reason ? `: ${e.reason}` : ""})`
      this.lost(why)
    }
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
    this.watchdog = window.setInterval(() => {
      if (Date.now() - this.lastFrameAt > 2 * tickIntervalMs) this.ws?.close(4000, "tick timeout")
    }, Math.min(tickIntervalMs, 5_000))
  }
}
