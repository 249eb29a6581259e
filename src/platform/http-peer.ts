/**
 * Who is on the other end of an HTTP request: its address (loopback or not), and what a proxy
 * (Tailscale Serve) says about it in forwarded headers. Shared by the Gateway's HTTP front and Auth.
 */
import type * as http from "node:http"
import * as net from "node:net"

const PROXY_HEADERS = ["x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "forwarded", "x-real-ip"]

export const normaliseAddress = (address: string | undefined): string => {
  if (address === undefined) return ""
  const lower = address.toLowerCase()
  return lower.startsWith("::ffff:") && net.isIPv4(lower.slice(7)) ? lower.slice(7) : lower
}

export const isLoopbackAddress = (address: string | undefined): boolean => {
  const a = normaliseAddress(address)
  return a === "::1" || (net.isIPv4(a) && a.startsWith("127."))
}

/** True when a request carries anything a proxy adds; such a request is never "local". */
export const hasProxyHeaders = (headers: http.IncomingHttpHeaders): boolean =>
  PROXY_HEADERS.some((h) => headers[h] !== undefined) || Object.keys(headers).some((h) => h.startsWith("tailscale-"))

/** What Tailscale Serve says about a request (shared/tailscale.md); only Auth decides what it is worth. */
export interface ProxyHeaders {
  readonly login: string | undefined
  readonly name: string | undefined
  /** Tailscale-Funnel-Request: a public Funnel request, which never carries identity. */
  readonly funnel: boolean
  readonly forwardedFor: string | undefined
  readonly forwardedProto: string | undefined
  readonly forwardedHost: string | undefined
  /**
   * The socket peer may be Tailscale Serve on this host (serve-peer.ts): loopback, and on Linux
   * owned by root or tailscaled's user. Otherwise these headers key and identify nothing. Asked
   * only when a request carries them (it may read /proc).
   */
  readonly fromServe: boolean
}

const header = (headers: http.IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name]
  const s = Array.isArray(v) ? v[0] : v
  return s === undefined || s.trim() === "" ? undefined : s.trim()
}

/** RFC 2047 Q-encoding, as Serve sends non-ASCII values: =?utf-8?q?J=C3=BCrgen?= */
export const decodeHeaderWord = (value: string): string => {
  const m = value.match(/^=\?utf-8\?q\?(.*)\?=$/i)
  if (m === null) return value
  const bytes: Array<number> = []
  const text = m[1]!.replace(/_/g, " ")
  for (let i = 0; i < text.length; i++) {
    const hex = text[i] === "=" ? text.slice(i + 1, i + 3) : ""
    if (/^[0-9a-f]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16))
      i += 2
    } else bytes.push(...Buffer.from(text[i]!, "utf8"))
  }
  return Buffer.from(bytes).toString("utf8")
}

/**
 * A Tailscale login as Serve sends it: `user@domain` (or `user@github` and the like), at most 256
 * characters, without whitespace, controls, format characters or quotes. Anything else (a decoded
 * =?utf-8?q?...?= word can hold any byte) is not a login and is dropped.
 */
export const looksLikeLogin = (login: string): boolean =>
  login.length <= 256 && /^[^\s\p{C}@"'\\<>]+@[^\s\p{C}@"'\\<>]+$/u.test(login)

/** The login header decoded, or undefined when it does not look like a login. */
const loginOf = (value: string): string | undefined => {
  const login = decodeHeaderWord(value)
  return looksLikeLogin(login) ? login : undefined
}

/** Undefined when the request carries none of these headers (the common, direct case). */
export const proxyHeaders = (
  req: http.IncomingMessage,
  // The Gateway passes serve-peer.ts's check; a loopback peer is all that can be told without it.
  fromServe: () => boolean = () => isLoopbackAddress(req.socket.remoteAddress)
): ProxyHeaders | undefined => {
  const login = header(req.headers, "tailscale-user-login")
  const name = header(req.headers, "tailscale-user-name")
  if (
    login === undefined &&
    name === undefined &&
    ["tailscale-funnel-request", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"].every(
      (h) => header(req.headers, h) === undefined
    )
  ) {
    return undefined
  }
  return {
    login: login === undefined ? undefined : loginOf(login),
    name: name === undefined ? undefined : decodeHeaderWord(name),
    funnel: header(req.headers, "tailscale-funnel-request") !== undefined,
    forwardedFor: header(req.headers, "x-forwarded-for"),
    forwardedProto: header(req.headers, "x-forwarded-proto"),
    forwardedHost: header(req.headers, "x-forwarded-host"),
    fromServe: fromServe()
  }
}

/** Local means: the socket peer is loopback and nothing says it was forwarded. */
export const isLocalRequest = (req: http.IncomingMessage): boolean =>
  isLoopbackAddress(req.socket.remoteAddress) && !hasProxyHeaders(req.headers)
