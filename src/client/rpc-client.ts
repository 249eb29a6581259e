/**
 * A small Promise-based protocol v4 client over `ws`: waits for the challenge, sends connect,
 * then correlates responses by id. GatewayClient wraps it in Effect; benches use it directly.
 */
import { randomUUID } from "node:crypto"
import * as net from "node:net"
import WebSocket from "ws"
import {
  type ClientInfo,
  type ConnectParams,
  type EventFrame,
  type HelloOk,
  Limits,
  OperatorScopes,
  parseFrame,
  PROTOCOL_VERSION,
  type Role,
  TLS_REQUIRED_HEADER,
  TLS_REQUIRED_VALUE
} from "../protocol/frames.js"
import { VERSION } from "../version.js"
import { ClientFailure, type ClientFailureKind } from "./failure.js"
import { checkListenerBeforeSecret, currentUid } from "./listener-owner.js"
import { pinnedTlsConnect } from "./tls-pin.js"

export { ClientFailure, type ClientFailureKind }

export interface RpcClientOptions {
  readonly url: string
  readonly token?: string
  readonly password?: string
  readonly client?: Partial<ClientInfo>
  readonly role?: Role
  readonly scopes?: ReadonlyArray<string>
  /** Connect + handshake budget. */
  readonly timeoutMs?: number
  readonly onEvent?: (event: EventFrame) => void
  /** Called once when an established connection closes (not for failed connects). */
  readonly onClose?: (code: number, reason: string) => void
  /** Node hosts: what they offer (connect params caps / commands). */
  readonly caps?: ReadonlyArray<string>
  readonly commands?: ReadonlyArray<string>
  /** A device token a Gateway issued earlier (auth.deviceToken). */
  readonly deviceToken?: string
  /** Signs the connect request with a device identity, given the challenge nonce. */
  readonly device?: (nonce: string, params: ConnectParams) => NonNullable<ConnectParams["device"]>
  /**
   * Pin (uppercase colon-hex SHA-256) for a wss:// URL: replaces CA trust, and is checked on the
   * TLS socket before the upgrade request is written (see tls-pin.ts).
   */
  readonly tlsFingerprint?: string
  /** Extra ws options (TLS agent, createConnection). */
  readonly wsOptions?: WebSocket.ClientOptions
  /**
   * The PID of the local Gateway the runtime record names: a root-owned listener on a loopback
   * port is trusted with the secret only when it is that process (see listener-owner.ts).
   */
  readonly recordedGatewayPid?: number
  /** Trust a root-owned loopback listener with the secret (an explicit --url and credential). */
  readonly trustRootListener?: boolean
}

export interface RequestOptions {
  readonly expectFinal?: boolean
  /** The whole call, accepted answer to final one. */
  readonly timeoutMs?: number
  /**
   * Silence: the call fails when no frame at all (event, answer, tick) has arrived for this long,
   * so a Gateway that stops talking is noticed long before `timeoutMs`.
   */
  readonly idleTimeoutMs?: number
  /** The failure for each timeout, when the caller can name the flag that sets it. */
  readonly timeoutFailure?: (which: "total" | "idle", ms: number) => ClientFailure
  readonly onAccepted?: (payload: unknown) => void
}

interface Pending {
  resolve: (payload: unknown) => void
  reject: (err: ClientFailure) => void
  expectFinal: boolean
  onAccepted: ((payload: unknown) => void) | undefined
  timer: NodeJS.Timeout | undefined
  /** Re-armed by every frame received. */
  idle: NodeJS.Timeout | undefined
}

const describeSocketError = (err: NodeJS.ErrnoException): string => {
  switch (err.code) {
    case "ECONNREFUSED":
      return "connection refused: nothing is listening there"
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found"
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable"
    case "ECONNRESET":
      return "connection reset by the server"
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
      return `the server's TLS certificate is not signed by a trusted CA (${err.code}); for a Gateway's self-signed certificate, pin it with gateway.remote.tlsFingerprint or --tls-fingerprint`
    case "ERR_TLS_CERT_ALTNAME_INVALID":
    case "CERT_HAS_EXPIRED":
      return `the server's TLS certificate was rejected: ${err.message}`
    default:
      if (err.code?.startsWith("HPE_")) return `not an OpenClaw Gateway: ${nonHttpAnswer(err)}`
      return err.message
  }
}

/** What a server that does not speak HTTP sent instead (Node's parser keeps the bytes it choked on). */
const nonHttpAnswer = (err: NodeJS.ErrnoException & { rawPacket?: unknown }): string => {
  const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket : undefined
  if (raw === undefined || raw.length === 0) return "the server on this port does not speak HTTP"
  const head = raw.subarray(0, 40).toString("latin1")
  if (head.startsWith("SSH-")) return `an SSH server (banner ${JSON.stringify(head.split(/\r?\n/)[0])})`
  if (raw[0] === 0x15 || raw[0] === 0x16) return "a TLS server (use wss://)"
  return `a server that does not speak HTTP (it sent ${JSON.stringify(head.replace(/[^\x20-\x7e]/g, "."))})`
}

const isTlsError = (err: NodeJS.ErrnoException) =>
  err.code !== undefined && (/CERT|SIGNED|ERR_TLS|ERR_SSL/.test(err.code) || err.code === "EPROTO")

/**
 * What answers `host:port` without TLS (used only after a failed TLS handshake): an SSH server's
 * banner comes unasked; otherwise a plain HTTP request tells a plaintext Gateway.
 */
const plainAnswer = (
  host: string,
  port: number,
  timeoutMs: number
): Promise<{ readonly kind: "http" } | { readonly kind: "ssh"; readonly banner: string } | undefined> =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port })
    let asked: NodeJS.Timeout | undefined
    const done = (answer: Awaited<ReturnType<typeof plainAnswer>>) => {
      clearTimeout(timer)
      clearTimeout(asked)
      socket.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => done(undefined), timeoutMs)
    socket.once("connect", () => {
      // A server that speaks first (SSH) has done so within this; then we ask.
      asked = setTimeout(
        () =>
          socket.write(
            `HEAD /healthz HTTP/1.1\r\nHost: ${host.includes(":") ? `[${host}]` : host}:${port}\r\nConnection: close\r\n\r\n`
          ),
        250
      )
    })
    socket.once("data", (chunk: Buffer) => {
      const head = chunk.subarray(0, 80).toString("latin1")
      if (head.startsWith("SSH-")) return done({ kind: "ssh", banner: head.split(/\r?\n/)[0]! })
      done(head.startsWith("HTTP/1.") ? { kind: "http" } : undefined)
    })
    socket.once("error", () => done(undefined))
    socket.once("close", () => done(undefined))
  })

/** What an HTTP server that is not a Gateway answered an upgrade with: status, content type, Server header. */
const httpAnswer = (res: { statusCode?: number; headers: Record<string, string | Array<string> | undefined> }) => {
  const one = (h: string | Array<string> | undefined) => (Array.isArray(h) ? h[0] : h)
  const type = one(res.headers["content-type"])?.split(";")[0]
  const server = one(res.headers.server)
  return `an HTTP server answered the WebSocket upgrade with HTTP ${res.statusCode ?? "?"}${type === undefined ? "" : ` (${type})`}${server === undefined ? "" : ` from ${JSON.stringify(server.slice(0, 60))}`}`
}

export class RpcClient {
  private readonly pending = new Map<string, Pending>()
  private closed = false
  private closeReason: ClientFailure | undefined

  private constructor(
    readonly ws: WebSocket,
    readonly hello: HelloOk
  ) {}

  static async connect(options: RpcClientOptions): Promise<RpcClient> {
    try {
      return await RpcClient.connectOnce(options)
    } catch (e) {
      // A TLS hello sent to a plaintext Gateway is reset or garbled: say so, if plain HTTP answers there.
      if (
        !(e instanceof ClientFailure) ||
        !options.url.startsWith("wss:") ||
        !/^(ECONNRESET|EPROTO|ERR_SSL)/.test(e.code ?? "")
      )
        throw e
      const url = new URL(options.url)
      const host = url.hostname.replace(/^\[|\]$/g, "")
      const port = Number(url.port || 443)
      const answer = await plainAnswer(host, port, Math.min(options.timeoutMs ?? 10_000, 3_000))
      if (answer?.kind === "ssh")
        throw new ClientFailure(
          "tls",
          `${host}:${port} is an SSH server (banner ${JSON.stringify(answer.banner)}), not the Gateway`,
          "ERR_SSH_SERVER"
        )
      if (answer === undefined) throw e
      throw new ClientFailure(
        "tls",
        `${host}:${port} answers without TLS: that Gateway serves plaintext ws://, not wss://`,
        "ERR_TLS_PLAINTEXT_SERVER"
      )
    }
  }

  private static async connectOnce(options: RpcClientOptions): Promise<RpcClient> {
    // A secret for a loopback port goes only to a listener of this user's (or our recorded Gateway).
    if (options.token !== undefined || options.password !== undefined || options.deviceToken !== undefined) {
      checkListenerBeforeSecret(options.url, {
        uid: currentUid(),
        ...(options.recordedGatewayPid === undefined ? {} : { recordedPid: options.recordedGatewayPid }),
        ...(options.trustRootListener === true ? { trustRoot: true } : {})
      })
    }
    if (options.tlsFingerprint === undefined) return RpcClient.open(options)
    const url = new URL(options.url)
    if (url.protocol !== "wss:")
      throw new ClientFailure("tls", `a TLS fingerprint pin needs a wss:// URL, got ${options.url}`)
    const socket = await pinnedTlsConnect(
      url.hostname.replace(/^\[|\]$/g, ""),
      Number(url.port || 443),
      options.tlsFingerprint,
      options.timeoutMs ?? 10_000
    )
    return RpcClient.open({ ...options, wsOptions: { ...options.wsOptions, createConnection: () => socket } })
  }

  private static open(options: RpcClientOptions): Promise<RpcClient> {
    const timeoutMs = options.timeoutMs ?? 10_000
    return new Promise<RpcClient>((resolve, reject) => {
      let settled = false
      const ws = new WebSocket(options.url, {
        perMessageDeflate: false,
        maxPayload: Limits.maxPayload,
        handshakeTimeout: timeoutMs,
        ...options.wsOptions
      })
      const timer = setTimeout(
        () => finish(new ClientFailure("timeout", `no answer from the Gateway within ${timeoutMs} ms`)),
        timeoutMs
      )
      const finish = (result: ClientFailure | RpcClient) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (result instanceof ClientFailure) {
          ws.removeAllListeners("message")
          ws.on("error", () => {})
          ws.terminate()
          reject(result)
        } else resolve(result)
      }
      const connectId = randomUUID()
      let challenged = false
      ws.on("error", (err: NodeJS.ErrnoException) =>
        finish(
          err.code?.startsWith("HPE_") === true
            ? new ClientFailure("protocol", describeSocketError(err), "NOT_A_GATEWAY")
            : new ClientFailure(isTlsError(err) ? "tls" : "unreachable", describeSocketError(err), err.code)
        )
      )
      ws.on("unexpected-response", (_req, res) => {
        if (res.headers[TLS_REQUIRED_HEADER] === TLS_REQUIRED_VALUE) {
          return finish(
            new ClientFailure(
              "tls",
              "this Gateway only speaks TLS: connect with wss://, not plaintext ws://",
              "ERR_TLS_REQUIRED"
            )
          )
        }
        // A Gateway refuses an upgrade only with 403 (Host, Origin), 408 or 503 (busy, stopping);
        // any other answer is some other web server on the port, and is named as such.
        const status = res.statusCode ?? 0
        if (![403, 408, 503].includes(status))
          return finish(new ClientFailure("protocol", `not an OpenClaw Gateway: ${httpAnswer(res)}`, "NOT_A_GATEWAY"))
        finish(
          new ClientFailure(
            status === 403 ? "auth" : "protocol",
            `the Gateway refused the WebSocket upgrade (HTTP ${status})`
          )
        )
      })
      ws.on("close", (code, reason) => {
        finish(
          new ClientFailure(
            "closed",
            `the Gateway closed the connection (${code}${reason.length > 0 ? `: ${reason.toString()}` : ""})`
          )
        )
      })
      ws.on("message", (data) => {
        const frame = parseFrame(data.toString())
        if (frame === undefined)
          return finish(new ClientFailure("protocol", "the server sent a frame that is not protocol v4 JSON"))
        if (frame.type === "event" && frame.event === "connect.challenge") {
          // One connect per connection: a server repeating the challenge gets no more copies of the secret.
          if (challenged) return
          challenged = true
          const auth = {
            ...(options.token !== undefined ? { token: options.token } : {}),
            ...(options.password !== undefined ? { password: options.password } : {}),
            ...(options.deviceToken !== undefined ? { deviceToken: options.deviceToken } : {})
          }
          const params: ConnectParams = {
            minProtocol: PROTOCOL_VERSION,
            maxProtocol: PROTOCOL_VERSION,
            client: {
              id: "cli",
              version: VERSION,
              platform: process.platform,
              mode: "cli",
              ...options.client
            },
            role: options.role ?? "operator",
            scopes: options.scopes ?? [...OperatorScopes],
            caps: options.caps ?? [],
            ...(options.commands === undefined ? {} : { commands: options.commands }),
            ...(Object.keys(auth).length > 0 ? { auth } : {})
          }
          const nonce = (frame.payload as { nonce?: unknown } | undefined)?.nonce
          const signed =
            options.device === undefined
              ? params
              : { ...params, device: options.device(typeof nonce === "string" ? nonce : "", params) }
          ws.send(JSON.stringify({ type: "req", id: connectId, method: "connect", params: signed }))
          return
        }
        if (frame.type === "res" && frame.id === connectId) {
          if (!frame.ok) {
            const error = frame.error ?? { code: "UNAVAILABLE", message: "connect failed" }
            const code = (error.details as { code?: string } | undefined)?.code
            const kind: ClientFailureKind = error.message.startsWith("unauthorized")
              ? "auth"
              : error.code === "NOT_PAIRED"
                ? "pairing"
                : "protocol"
            return finish(new ClientFailure(kind, error.message, code, error))
          }
          const client = new RpcClient(ws, frame.payload as HelloOk)
          ws.removeAllListeners("message")
          ws.removeAllListeners("close")
          ws.on("message", (d) => client.onMessage(d.toString(), options.onEvent))
          ws.on("close", (c, r) => {
            client.onClose(c, r.toString())
            options.onClose?.(c, r.toString())
          })
          return finish(client)
        }
      })
    })
  }

  private onMessage(text: string, onEvent: RpcClientOptions["onEvent"]): void {
    for (const p of this.pending.values()) p.idle?.refresh()
    const frame = parseFrame(text)
    if (frame === undefined) return
    if (frame.type === "event") {
      try {
        return onEvent?.(frame)
      } catch (e) {
        // A handler that gives up on what the server sent (too much, say) ends the connection
        // with its reason, instead of an exception escaping from the socket's event loop.
        return this.abandon(
          e instanceof ClientFailure
            ? e
            : new ClientFailure("protocol", `handling the Gateway's ${frame.event} event failed: ${String(e)}`)
        )
      }
    }
    if (frame.type !== "res") return
    const p = this.pending.get(frame.id)
    if (p === undefined) return
    if (frame.ok) {
      // Two-phase methods answer "accepted" first and the final result later with the same id.
      if (p.expectFinal && (frame.payload as { status?: string } | undefined)?.status === "accepted")
        return p.onAccepted?.(frame.payload)
      this.settle(frame.id)
      p.resolve(frame.payload)
    } else {
      this.settle(frame.id)
      const error = frame.error ?? { code: "UNAVAILABLE", message: "request failed" }
      p.reject(
        new ClientFailure(
          "protocol",
          `${error.code}: ${error.message}`,
          (error.details as { code?: string } | undefined)?.code,
          error
        )
      )
    }
  }

  private onClose(code: number, reason: string): void {
    // Abandoned by us: the calls already failed with the reason why.
    if (this.closed) return
    this.closed = true
    this.closeReason = new ClientFailure(
      "closed",
      `the Gateway closed the connection (${code}${reason ? `: ${reason}` : ""})`
    )
    for (const [id, p] of this.pending) {
      this.settle(id)
      p.reject(this.closeReason)
    }
  }

  private settle(id: string): void {
    const p = this.pending.get(id)
    if (p?.timer !== undefined) clearTimeout(p.timer)
    if (p?.idle !== undefined) clearTimeout(p.idle)
    this.pending.delete(id)
  }

  /** Fails every call in flight with `failure` and drops the connection (no close handshake). */
  abandon(failure: ClientFailure): void {
    if (this.closed) return
    this.closed = true
    this.closeReason = failure
    for (const [id, p] of this.pending) {
      this.settle(id)
      p.reject(failure)
    }
    this.ws.terminate()
  }

  /** `expectFinal`: a two-phase method's "accepted" answer goes to `onAccepted`, and the promise waits for the final one. */
  request(method: string, params?: unknown, opts: RequestOptions = {}): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closeReason)
    const id = randomUUID()
    return new Promise((resolve, reject) => {
      const expire = (which: "total" | "idle", ms: number) => () => {
        this.settle(id)
        reject(
          opts.timeoutFailure?.(which, ms) ??
            new ClientFailure(
              "timeout",
              which === "total"
                ? `no answer to ${method} within ${ms} ms`
                : `the Gateway sent nothing for ${ms} ms while ${method} was running`
            )
        )
      }
      const timer =
        opts.timeoutMs === undefined ? undefined : setTimeout(expire("total", opts.timeoutMs), opts.timeoutMs)
      const idleMs = opts.idleTimeoutMs
      const idle = idleMs === undefined ? undefined : setTimeout(expire("idle", idleMs), idleMs)
      this.pending.set(id, {
        resolve,
        reject,
        expectFinal: opts.expectFinal ?? false,
        onAccepted: opts.onAccepted,
        timer,
        idle
      })
      this.ws.send(
        JSON.stringify(params === undefined ? { type: "req", id, method } : { type: "req", id, method, params })
      )
    })
  }

  /** Closes the socket and waits (briefly) for the close handshake. */
  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ws.terminate()
        resolve()
      }, 500)
      this.ws.once("close", () => {
        clearTimeout(timer)
        resolve()
      })
      this.ws.close(1000, "done")
    })
  }
}
