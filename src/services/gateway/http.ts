/**
 * Plain HTTP on the Gateway port: probes, the Control UI, and the gate that every WebSocket
 * upgrade passes (Origin check) before the upgrade completes.
 */
import type * as http from "node:http"
import { isLocalRequest, isLoopbackAddress } from "../../platform/http-peer.js"

const isLoopbackHostname = (hostname: string): boolean => {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase()
  return h === "localhost" || h.endsWith(".localhost") || isLoopbackAddress(h)
}

const normaliseOrigin = (origin: string): string | undefined => {
  try {
    const u = new URL(origin)
    return `${u.protocol}//${u.host}`.toLowerCase()
  } catch {
    return undefined
  }
}

/**
 * The browser-upgrade gate of shared/protocol.md: no Origin (not a browser) passes; otherwise the
 * origin must be allow-listed, or be the Gateway's own origin; own loopback origins only for local clients.
 */
export const checkOrigin = (
  req: http.IncomingMessage,
  allowedOrigins: ReadonlyArray<string>,
  secure: boolean
): { readonly ok: true } | { readonly ok: false; readonly reason: string } => {
  const raw = req.headers.origin
  if (raw === undefined) return { ok: true }
  const origin = normaliseOrigin(raw)
  if (origin === undefined || raw === "null")
    return { ok: false, reason: `origin ${JSON.stringify(raw)} is not allowed` }
  if (allowedOrigins.some((a) => normaliseOrigin(a) === origin)) return { ok: true }
  const host = req.headers.host
  const own = host === undefined ? undefined : `${secure ? "https" : "http"}://${host}`.toLowerCase()
  const forwardedOwn =
    typeof req.headers["x-forwarded-host"] === "string" && req.headers["x-forwarded-proto"] === "https"
      ? `https://${req.headers["x-forwarded-host"]}`.toLowerCase()
      : undefined
  if (origin === own || origin === forwardedOwn) {
    const hostname = new URL(origin).hostname
    if (!isLoopbackHostname(hostname) || isLocalRequest(req)) return { ok: true }
    return { ok: false, reason: `origin ${origin} is a loopback origin but the client is not local` }
  }
  return {
    ok: false,
    reason: `origin ${origin} is not allowed (add it to gateway.controlUi.allowedOrigins to allow it)`
  }
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "Cache-Control": "no-store"
}

export const sendJson = (
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {}
) => {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    ...headers
  })
  res.end(text)
}

/** Answers an upgrade that is refused before it completes. */
export const rejectUpgrade = (socket: import("node:stream").Duplex, status: number, message: string) => {
  const body = JSON.stringify({ ok: false, error: message })
  socket.end(
    `HTTP/1.1 ${status} ${status === 403 ? "Forbidden" : "Service Unavailable"}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  )
}
