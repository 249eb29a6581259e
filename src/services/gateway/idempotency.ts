/**
 * Idempotency keys for side-effecting methods (shared/protocol.md): a repeat of the same method
 * with the same key within the window gets the first call's result instead of acting twice.
 * The first call runs on the caller's own fiber (its logger, clock, tracer and interruption) and
 * leaves its Exit in a Deferred at once, so a repeat that arrives while the first is still in
 * flight waits for it; a first call that fails, dies or is interrupted is forgotten, so a retry can
 * succeed. A defect in the first call (a bug, or input nothing checked) is an error answer for it
 * and for the repeats that waited, never an unhandled rejection.
 */
import { Clock, Deferred, Effect, Exit, FiberId } from "effect"
import type { RpcError } from "./rpc.js"

export const IDEMPOTENCY_WINDOW_MS = 5 * 60_000

export class IdempotencyCache {
  private readonly entries = new Map<
    string,
    { readonly at: number; readonly done: Deferred.Deferred<unknown, RpcError> }
  >()

  constructor(
    private readonly windowMs = IDEMPOTENCY_WINDOW_MS,
    private readonly maxEntries = 10_000
  ) {}

  /**
   * Runs `effect` once per (method, key) within the window. `first` tells the caller whether this
   * call did the work (true) or got a remembered result (false).
   */
  once<A>(
    method: string,
    key: string,
    effect: Effect.Effect<A, RpcError>
  ): Effect.Effect<{ readonly value: A; readonly first: boolean }, RpcError> {
    return Effect.flatMap(
      Clock.currentTimeMillis,
      (now): Effect.Effect<{ readonly value: A; readonly first: boolean }, RpcError> => {
        this.prune(now)
        const id = `${method}\u0000${key}`
        const hit = this.entries.get(id)
        if (hit !== undefined)
          return Effect.map(Deferred.await(hit.done), (value) => ({ value: value as A, first: false }))
        const done = Deferred.unsafeMake<unknown, RpcError>(FiberId.none)
        this.entries.set(id, { at: now, done })
        return effect.pipe(
          Effect.onExit((exit) =>
            Effect.suspend(() => {
              if (Exit.isFailure(exit) && this.entries.get(id)?.done === done) this.entries.delete(id)
              return Deferred.done(done, exit)
            })
          ),
          Effect.map((value) => ({ value, first: true }))
        )
      }
    )
  }
  private prune(now: number): void {
    for (const [id, entry] of this.entries) {
      if (now - entry.at < this.windowMs && this.entries.size <= this.maxEntries) break
      this.entries.delete(id)
    }
  }
}
