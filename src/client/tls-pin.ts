/**
 * Certificate pinning for wss://. With a pin, CA trust is replaced by the pin: the TLS connection
 * is opened and its certificate compared BEFORE the WebSocket (and so the HTTP upgrade request,
 * its headers and the token) gets the socket. A mismatch destroys the socket having sent nothing
 * but the TLS handshake. (shared/tailscale.md: checkServerIdentity with rejectUnauthorized:false
 * pins nothing, so it is not used.)
 */
import * as tls from "node:tls"
import { ConfigError } from "../config/load.js"
import { ClientFailure } from "./failure.js"

const COLON_HEX = /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/i
const PLAIN_HEX = /^[0-9a-f]{64}$/i

/**
 * Accepts `AB:CD:...` (as openssl and `gateway status` print it), plain hex, and either with a
 * `sha256:` prefix, in any case; returns uppercase colon hex. Anything else is a ConfigError naming `from`.
 */
export const parseFingerprint = (raw: string, from: string): string => {
  const value = raw.trim().replace(/^sha256:/i, "")
  if (PLAIN_HEX.test(value)) return value.toUpperCase().match(/../g)!.join(":")
  if (COLON_HEX.test(value)) return value.toUpperCase()
  throw new ConfigError({
    message: `${from}: expected a SHA-256 certificate fingerprint (64 hex digits, optionally colon-separated, optionally prefixed "sha256:"), got ${JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw)}; \`openclaw gateway status\` on the Gateway host shows it`
  })
}

/**
 * Opens a TLS connection to host:port and resolves with it only when the peer certificate's
 * SHA-256 equals `expected` (uppercase colon hex). Fails with ClientFailure kind "tls" (final: no retry).
 */
export const pinnedTlsConnect = (
  host: string,
  port: number,
  expected: string,
  timeoutMs: number
): Promise<tls.TLSSocket> =>
  new Promise((resolve, reject) => {
    const socket = tls.connect({
      host,
      port,
      // The pin replaces CA and name checks; nothing is written before the comparison below.
      rejectUnauthorized: false,
      minVersion: "TLSv1.2",
      ...(host.length > 0 && !/^[\d.]+$|:/.test(host) ? { servername: host } : {})
    })
    const timer = setTimeout(
      () => fail(new ClientFailure("timeout", `no TLS handshake with ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs
    )
    const fail = (failure: ClientFailure) => {
      clearTimeout(timer)
      socket.destroy()
      reject(failure)
    }
    socket.once("error", (err: NodeJS.ErrnoException) => {
      const tlsLevel =
        err.code?.startsWith("ERR_SSL") || /wrong version number|packet length too long/i.test(err.message)
      fail(
        new ClientFailure(
          tlsLevel ? "tls" : "unreachable",
          tlsLevel
            ? `TLS handshake with ${host}:${port} failed (${err.code ?? err.message}): is the Gateway there serving wss:// (gateway.tls.enabled)?`
            : err.code === "ECONNREFUSED"
              ? "connection refused: nothing is listening there"
              : err.message,
          err.code
        )
      )
    })
    socket.once("secureConnect", () => {
      const presented = socket.getPeerCertificate()?.fingerprint256
      if (presented !== expected) {
        return fail(
          new ClientFailure(
            "tls",
            `TLS certificate mismatch for ${host}:${port}: expected sha256 ${expected}, the server presented ${presented ?? "no certificate"}; nothing was sent`,
            "ERR_TLS_PIN"
          )
        )
      }
      clearTimeout(timer)
      socket.removeAllListeners("error")
      resolve(socket)
    })
  })
