/** How the Gateway's clients are let go when it stops: a 1012 close, a short grace, then cut. */
import { Effect } from "effect"
import { CloseCode } from "../../protocol/frames.js"
import type { Connection } from "./connection.js"

/** How long shutdown waits for clients to acknowledge the close before cutting them off. */
const CLOSE_GRACE_MS = 750

/** Closes every connection with 1012, waits for them (at most the grace), then calls `finish`. */
export const closeAll = (connections: ReadonlySet<Connection>, finish: () => void) =>
  Effect.async<void>((resume) => {
    for (const c of connections) c.close(CloseCode.serviceRestart, "service restart")
    const deadline = Date.now() + CLOSE_GRACE_MS
    const done = () => {
      for (const c of connections) c.ws.terminate()
      finish()
      resume(Effect.void)
    }
    const poll = () => (connections.size === 0 || Date.now() >= deadline ? done() : setTimeout(poll, 10))
    poll()
  })
