/** The `health` answer (also in hello-ok's snapshot). */
import { VERSION } from "../../version.js"

export const healthPayload = (startedAt: number, now: number, durationMs = 0) => ({
  ok: true as const,
  ts: now,
  durationMs,
  version: VERSION,
  uptimeMs: now - startedAt
})
