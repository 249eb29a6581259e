/**
 * Low-level probes for the doctor's path steps: one TCP connect, one TLS handshake, one raw
 * GET /healthz, and a WebSocket whose frames are queued so each step can read the next one.
 * Every probe has a deadline and never throws: it resolves with what it saw.
 */
import * as net from "node:net"
import * as tls from "node:tls"
import WebSocket from "ws"
import { Limits, parseFrame, type Frame } from "../../protocol/frames.js"

export type TcpResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly why: "refused" | "timeout" | "unreachable" | "other"; readonly code: string }

export const tcpConnect = (host: string, port: number, timeoutMs: number): Promise<TcpResult> =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port })
    const done = (r: TcpResult) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(r)
    }
    const timer = setTimeout(() => done({ ok: false, why: "timeout", code: "ETIMEDOUT" }), timeoutMs)
    socket.once("connect", () => done({ ok: true }))
    socket.once("error", (e: NodeJS.ErrnoException) => {
      const code = e.code ?? "ERROR"
      done({
        ok: false,
        why:
          code === "ECONNREFUSED"
            ? "refused"
            : code === "ETIMEDOUT"
              ? "timeout"
              : ["EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "EADDRNOTAVAIL"].includes(code)
                ? "unreachable"
                : "other",
        code
      })
    })
  })

export type TlsResult =
  | {
      readonly ok: true
      readonly fingerprint: string
      readonly authorized: boolean
      readonly authError?: string
      readonly protocol: string
    }
  | { readonly ok: false; readonly plaintextPeer: boolean; readonly message: string }

const CERT_ERRORS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "a self-signed certificate",
  SELF_SIGNED_CERT_IN_CHAIN: "signed by a CA this machine does not trust",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "signed by a CA this machine does not trust",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "signed by a CA this machine does not trust",
  CERT_HAS_EXPIRED: "expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "issued for another host name"
}

/** A TLS handshake that accepts any certificate and reports its SHA-256 and whether CAs trust it; nothing else is sent. */
export const tlsHandshake = (
  address: string,
  servername: string | undefined,
  port: number,
  timeoutMs: number
): Promise<TlsResult> =>
  new Promise((resolve) => {
    const socket = tls.connect({
      host: address,
      port,
      rejectUnauthorized: false,
      minVersion: "TLSv1.2",
      ...(servername === undefined ? {} : { servername })
    })
    const done = (r: TlsResult) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(r)
    }
    const timer = setTimeout(
      () => done({ ok: false, plaintextPeer: false, message: `no TLS handshake within ${timeoutMs} ms` }),
      timeoutMs
    )
    socket.once("secureConnect", () => {
      const cert = socket.getPeerCertificate()
      // Chain trust says nothing about the name: check it as a default client would.
      const nameError =
        socket.authorized && servername !== undefined ? tls.checkServerIdentity(servername, cert) : undefined
      const code =
        (nameError as NodeJS.ErrnoException | undefined)?.code ??
        (socket.authorizationError === null || socket.authorizationError === undefined
          ? undefined
          : String(socket.authorizationError))
      done({
        ok: true,
        fingerprint: cert?.fingerprint256 ?? "",
        authorized: socket.authorized && nameError === undefined,
        ...(code === undefined
          ? {}
          : { authError: `${code}${CERT_ERRORS[code] === undefined ? "" : `: ${CERT_ERRORS[code]}`}` }),
        protocol: socket.getProtocol() ?? "TLS"
      })
    })
    socket.once("error", (e: NodeJS.ErrnoException) => {
      // A plaintext server answers the ClientHello with HTTP ("wrong version number") or closes.
      const plaintextPeer =
        /wrong version number|packet length too long|http request|unknown protocol/i.test(e.message) ||
        e.code === "ECONNRESET"
      done({ ok: false, plaintextPeer, message: e.code ?? e.message })
    })
  })

export type GetResult =
  | {
      readonly kind: "http"
      readonly status: number
      readonly headers: Readonly<Record<string, string>>
      readonly body: string
    }
  | { readonly kind: "tls" }
  | { readonly kind: "other"; readonly banner: string }
  | { readonly kind: "closed" }
  | { readonly kind: "timeout" }
  | { readonly kind: "error"; readonly message: string }

/** The body of a chunked response (as much as arrived). */
const dechunk = (raw: string): string => {
  let out = ""
  let rest = raw
  for (;;) {
    const eol = rest.indexOf("\r\n")
    const size = eol < 0 ? NaN : parseInt(rest.slice(0, eol), 16)
    if (!(size > 0)) return out
    out += rest.slice(eol + 2, eol + 2 + size)
    rest = rest.slice(eol + 2 + size + 2)
  }
}

const printable = (b: Buffer) =>
  JSON.stringify(
    b
      .subarray(0, 40)
      .toString("latin1")
      .replace(/[^\x20-\x7e]/g, ".")
  )

/** GET `path` on a connected socket by hand, so a TLS alert or an SSH banner is recognised as such. */
export const rawGet = (socket: net.Socket, hostHeader: string, path: string, timeoutMs: number): Promise<GetResult> =>
  new Promise((resolve) => {
    let data = Buffer.alloc(0)
    let settled = false
    const done = (r: GetResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(r)
    }
    const judge = (final: boolean) => {
      if (data.length === 0) return final ? done({ kind: "closed" }) : undefined
      // 0x15 alert / 0x16 handshake: a TLS server answering plaintext.
      if (data[0] === 0x15 || data[0] === 0x16) return done({ kind: "tls" })
      if (data.length >= 5 && data.subarray(0, 5).toString("latin1") !== "HTTP/")
        return done({ kind: "other", banner: printable(data) })
      const text = data.toString("utf8")
      const end = text.indexOf("\r\n\r\n")
      if (end < 0) return final ? done({ kind: "other", banner: printable(data) }) : undefined
      const [statusLine, ...headerLines] = text.slice(0, end).split("\r\n")
      const headers: Record<string, string> = {}
      for (const l of headerLines) {
        const i = l.indexOf(":")
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim()
      }
      const raw = text.slice(end + 4)
      const chunked = /chunked/i.test(headers["transfer-encoding"] ?? "")
      const length = Number(headers["content-length"])
      const complete = chunked
        ? /(^|\r\n)0\r\n\r\n$/.test(raw)
        : Number.isFinite(length)
          ? Buffer.byteLength(raw) >= length
          : data.length >= 16_384
      if (!final && !complete) return
      done({
        kind: "http",
        status: Number(statusLine!.split(" ")[1]),
        headers,
        body: (chunked ? dechunk(raw) : raw).slice(0, 2_000)
      })
    }
    const timer = setTimeout(() => (data.length > 0 ? judge(true) : done({ kind: "timeout" })), timeoutMs)
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk])
      judge(false)
    })
    socket.once("end", () => judge(true))
    socket.once("close", () => judge(true))
    socket.once("error", (e: NodeJS.ErrnoException) =>
      data.length > 0 ? judge(true) : done({ kind: "error", message: e.code ?? e.message })
    )
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: openclaw-doctor\r\nAccept: application/json\r\nConnection: close\r\n\r\n`
    )
  })

export type UpgradeResult =
  { readonly ok: true } | { readonly ok: false; readonly status?: number; readonly reason: string }

/** Frames kept unread between the doctor's steps (a Gateway sends a handful). */
const PROBE_QUEUE_MAX = 1024

/** A WebSocket whose frames queue up from the first byte (the challenge arrives at once). */
export class FrameProbe {
  private readonly queue: Array<Frame | "invalid"> = []
  private waiter: (() => void) | undefined
  closed: { code: number; reason: string } | undefined

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      // A server that floods frames nobody asked for is cut off, not buffered.
      if (this.queue.length >= PROBE_QUEUE_MAX) {
        this.closed ??= { code: 1008, reason: `the server sent more than ${PROBE_QUEUE_MAX} frames unasked` }
        ws.terminate()
        return this.wake()
      }
      this.queue.push(parseFrame(data.toString()) ?? "invalid")
      this.wake()
    })
    ws.on("close", (code, reason) => {
      this.closed ??= { code, reason: reason.toString() }
      this.wake()
    })
    ws.on("error", () => {})
  }

  static open(
    url: string,
    timeoutMs: number,
    createConnection?: () => net.Socket
  ): Promise<{ probe: FrameProbe; upgrade: UpgradeResult }> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url, {
        perMessageDeflate: false,
        maxPayload: Limits.maxPayload,
        handshakeTimeout: timeoutMs,
        ...(createConnection === undefined ? {} : { createConnection })
      })
      const probe = new FrameProbe(ws)
      let settled = false
      const done = (upgrade: UpgradeResult) => {
        if (settled) return
        settled = true
        if (!upgrade.ok) ws.terminate()
        resolve({ probe, upgrade })
      }
      ws.once("upgrade", () => done({ ok: true }))
      ws.once("unexpected-response", (_req, res) => {
        let body = ""
        res.on("data", (d: Buffer) => {
          if (body.length < 2_000) body += d.toString()
        })
        const finish = () => {
          let reason = body.trim().slice(0, 300)
          try {
            const j = JSON.parse(body) as { error?: unknown }
            if (typeof j.error === "string") reason = j.error
          } catch {
            // not JSON: keep the text
          }
          done({ ok: false, status: res.statusCode, reason })
        }
        res.once("end", finish)
        res.once("error", finish)
        setTimeout(finish, 1_000).unref()
      })
      ws.once("error", (e: NodeJS.ErrnoException) => done({ ok: false, reason: e.code ?? e.message }))
      ws.once("close", (code) => done({ ok: false, reason: `closed (${code})` }))
    })
  }

  private wake() {
    const w = this.waiter
    this.waiter = undefined
    w?.()
  }

  /** The next frame matching `accept` (others are dropped), "closed", or "timeout". */
  next(
    timeoutMs: number,
    accept: (f: Frame | "invalid") => boolean = () => true
  ): Promise<Frame | "invalid" | "closed" | "timeout"> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined
        resolve("timeout")
      }, timeoutMs)
      const check = () => {
        while (this.queue.length > 0) {
          const f = this.queue.shift()!
          if (accept(f)) {
            clearTimeout(timer)
            return resolve(f)
          }
        }
        if (this.closed !== undefined) {
          clearTimeout(timer)
          return resolve("closed")
        }
        this.waiter = check
      }
      check()
    })
  }

  send(frame: unknown) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame))
  }

  close() {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.close(1000, "done")
    setTimeout(() => this.ws.terminate(), 500).unref()
  }
}
