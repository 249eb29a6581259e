/** The hello-ok frame that answers a successful connect, built around the cached presence list. */
import { Limits, PROTOCOL_VERSION } from "../../protocol/frames.js"
import { OPENCLAW_COMPAT_VERSION } from "../../version.js"
import type { GatewaySettings } from "../config/GatewayConfig.js"
import type { Connection } from "./connection.js"
import { healthPayload } from "./health.js"
import type { Presence } from "./presence.js"

export const makeHello = (
  settings: GatewaySettings,
  startedAt: number,
  presence: Presence,
  featuresJson: () => string,
  stateVersion: () => number
) => {
  // A hello-ok is large (up to PRESENCE_MAX entries) and one is sent per connect: its memory is
  // reused once the socket has taken the frame, instead of being allocated afresh each time (that
  // churn alone left the process several MiB larger after a crowd of clients connected).
  const spareHello: Array<ArrayBuffer> = []
  const helloMemory = (length: number): Buffer => {
    let memory = spareHello.pop()
    if (memory === undefined || memory.byteLength < length) memory = new ArrayBuffer(Math.max(length, 64 * 1024))
    return Buffer.from(memory, 0, length)
  }
  const policyJson = JSON.stringify({
    maxPayload: Limits.maxPayload,
    maxBufferedBytes: Limits.maxBufferedBytes,
    tickIntervalMs: settings.tickIntervalMs
  })
  // OpenClaw's clients warn when `version` differs from their own: it is the OpenClaw release this
  // Gateway implements (our own version is in `status`). No buildId: their Control UI reads one
  // that is not its own build's as "the server was updated, reload".
  const serverJson = (connId: string) => JSON.stringify({ version: OPENCLAW_COMPAT_VERSION, connId })
  return {
    // One frame written around the cached presence list (see Presence.frame): the JSON of
    // okResponse(id, { type: "hello-ok", protocol, server, features, auth, policy, snapshot }).
    helloFrame: (conn: Connection, id: string) => {
      const now = Date.now()
      const auth = {
        method: conn.authMethod,
        role: conn.role,
        scopes: conn.scopes,
        ...(conn.issuedDeviceToken === undefined ? {} : { deviceToken: conn.issuedDeviceToken })
      }
      const head =
        `{"type":"res","id":${JSON.stringify(id)},"ok":true,"payload":{"type":"hello-ok","protocol":${PROTOCOL_VERSION},` +
        `"server":${serverJson(conn.connId)},"features":${featuresJson()},` +
        `"auth":${JSON.stringify(auth)},"policy":${policyJson},"snapshot":{"presence":[`
      const seq = stateVersion()
      const snapshot = {
        health: healthPayload(startedAt, now),
        stateVersion: { presence: seq, health: seq },
        uptimeMs: now - startedAt,
        authMode: settings.auth.mode
      }
      return presence.frame(head, `],${JSON.stringify(snapshot).slice(1)}}}`, conn, helloMemory)
    },
    helloSent: (frame: Buffer) => {
      if (spareHello.length < 8) spareHello.push(frame.buffer as ArrayBuffer)
    }
  }
}
