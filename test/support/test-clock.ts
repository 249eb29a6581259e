/** Driving TestClock for code that mixes Clock sleeps with real I/O (sockets, probes). */
import { Chunk, Effect, Fiber, Option, TestClock } from "effect"

/**
 * Runs `effect` to its end: while a sleep is pending, TestClock moves to the earliest one (exactly,
 * never past it); while none is, real I/O is given time. So a scripted process that should not end
 * on its own waits on a Deferred or a Promise, not on the Clock.
 */
export const onTestClock = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(effect)
    while (true) {
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) return yield* done.value
      const pending = yield* TestClock.sleeps()
      if (Chunk.isEmpty(pending)) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 1)))
      else yield* TestClock.setTime(Math.min(...pending))
    }
  })
