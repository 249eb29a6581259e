/**
 * Idempotency keys for side-effecting methods (shared/protocol.md): a repeat of the same method
 * with the same key within the window gets the first call's result instead of acting twice.
 * The first call's promise is stored at once, so a repeat that arrives while the first is still
 * in flight waits for it; a first call that fails is forgotten, so a retry can succeed.
 * The promise holds the call's Exit and never rejects: a defect in the first call (a bug, or
 * input nothing checked) is an error answer for it and its repeats, never an unhandled rejection.
 */
import { Effect, Exit } from "effect"
import { RpcError } from "./rpc.js"

export const IDEMPOTENCY_WINDOW_MS = 5 * 60_000

export class IdempotencyCache {
  private readonly entries = new Map<
    string,
    { readonly at: number; readonly result: Promise<Exit.Exit<unknown, RpcError>> }
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
    return Effect.suspend(() => {
      const now = Date.now()
      this.prune(now)
      const id = `${method}\u0000${key}`
      const hit = this.entries.get(id)
      const first = hit === undefined
      const result = hit?.result ?? Effect.runPromiseExit(effect)
      if (first) {
        this.entries.set(id, { at: now, result })
        void result.then(
          (exit) => Exit.isFailure(exit) && this.entries.get(id)?.result === result && this.entries.delete(id)
        )
      }
      return Effect.flatMap(
        Effect.promise(() => result),
        (exit) => Exit.map(exit, (value) => ({ value: value as A, first }))
      )
    })
  }

  private prune(now: number): void {
    for (const [id, entry] of this.entries) {
      if (now - entry.at < this.windowMs && this.entries.size <= this.maxEntries) break
      this.entries.delete(id)
    }
  }
}
