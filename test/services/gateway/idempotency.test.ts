/** Idempotency keys run the first call on the caller's own fiber: its logger, and its interruption. */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, HashMap, List, Logger } from "effect"
import { IdempotencyCache } from "../../../src/services/gateway/idempotency.js"

describe("IdempotencyCache", () => {
  it.effect("the first call logs through the caller's logger, with the caller's annotations", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const logger = Logger.make(({ message, annotations }) => {
        lines.push(`${String(List.toArray(message as never))} ${HashMap.get(annotations, "request")._tag}`)
      })
      const cache = new IdempotencyCache()
      const { first } = yield* cache
        .once("send", "k", Effect.logInfo("sending").pipe(Effect.as("ok")))
        .pipe(Effect.annotateLogs("request", "r1"), Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      expect(first).toBe(true)
      expect(lines).toEqual(["sending Some"])
    })
  )

  it.effect(
    "a repeat in flight waits for the first; interrupting the first interrupts its work and forgets the key",
    () =>
      Effect.gen(function* () {
        const cache = new IdempotencyCache()
        const started = yield* Deferred.make<void>()
        let interrupted = false
        const slow = Deferred.succeed(started, undefined).pipe(
          Effect.zipRight(Effect.never),
          Effect.onInterrupt(() => Effect.sync(() => void (interrupted = true)))
        )
        const first = yield* Effect.fork(cache.once("send", "k", slow))
        yield* Deferred.await(started)
        const repeat = yield* Effect.fork(cache.once("send", "k", Effect.succeed("second work")))
        yield* Effect.yieldNow()
        yield* Fiber.interrupt(first)
        expect(interrupted).toBe(true)
        // The repeat waited on the first, so it ends as the first did (interrupted), not by doing the work.
        const repeated = yield* Fiber.await(repeat)
        expect(repeated._tag).toBe("Failure")
        // Forgotten: a retry does the work.
        expect(yield* cache.once("send", "k", Effect.succeed("retried"))).toEqual({ value: "retried", first: true })
        expect(yield* cache.once("send", "k", Effect.succeed("again"))).toEqual({ value: "retried", first: false })
      })
  )
})
