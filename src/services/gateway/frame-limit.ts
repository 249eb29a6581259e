/**
 * The WebSocket frame limit, enforced by the parser while a frame arrives (security.md section 8):
 * 64 KiB until the connection is authenticated, 25 MiB after. The WebSocketServer is created with
 * the pre-auth limit, so a frame's length header alone decides and nothing oversized is buffered;
 * authentication raises the limit of that one connection.
 *
 * ws (pinned in package.json) keeps the limit per connection in its Receiver's `_maxPayload` and
 * has no public setter; this module is the one place that touches it, and
 * test/security/sockets.test.ts checks both limits on the wire, so an upgrade of ws that moves
 * the field fails there. If the field is missing, the connection keeps the smaller limit.
 */
import type { WebSocket } from "ws"
import { CloseCode, Limits } from "../../protocol/frames.js"

interface ReceiverInternals {
  _maxPayload?: number
  prependListener?: (event: "error", listener: (err: Error & { code?: string }) => void) => unknown
}

const receiverOf = (ws: WebSocket): ReceiverInternals | undefined =>
  (ws as unknown as { _receiver?: ReceiverInternals })._receiver

/** How long a refused client has to read the close frame before its socket is dropped. */
const REFUSED_LINGER_MS = 1_000

/**
 * Names the limit in the close frame ("preauth payload too large", shared/protocol.md); ws would
 * close 1009 without a reason. Then the rest of the oversized frame is not read at all (ws would
 * read and discard it while waiting 30 s for the client's close): `socket` stops reading and is
 * dropped a moment later. Call right after the upgrade.
 */
export const watchFrameLimit = (
  ws: WebSocket,
  authenticated: () => boolean,
  socket?: { pause(): unknown; destroy(): unknown }
): void => {
  const receiver = receiverOf(ws)
  receiver?.prependListener?.("error", (err) => {
    if (err.code !== "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") return
    ws.close(CloseCode.tooLarge, authenticated() ? "payload too large" : "preauth payload too large")
    if (socket === undefined) return
    // After ws's own handler, which resumes the socket on the next tick.
    setImmediate(() => socket.pause())
    setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref()
  })
}

/** After authentication: this connection's frames may be up to Limits.maxPayload. True when raised. */
export const raiseFrameLimit = (ws: WebSocket): boolean => {
  const receiver = receiverOf(ws)
  if (receiver === undefined || typeof receiver._maxPayload !== "number") return false
  receiver._maxPayload = Limits.maxPayload
  return true
}
