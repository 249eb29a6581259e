import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, TestClock } from "effect"
import { reconnectPolicy } from "../../src/platform/reconnect.js"

type Failure = { readonly fatal: boolean; readonly n: number }

/** Runs `attempt` under the policy with TestClock, recording the delays the policy chose. */
const delaysOf = (failures: ReadonlyArray<{ fatal?: boolean; upFor?: number }>) =>
  Effect.gen(function* () {
    const delays: Array<number> = []
    let n = 0
    const attempt = Effect.gen(function* () {
      const f = failures[n]
      n++
      if (f === undefined) return "up for good"
      if (f.upFor !== undefined) yield* Effect.sleep(f.upFor)
      return yield* Effect.fail<Failure>({ fatal: f.fatal ?? false, n })
    })
    const policy = reconnectPolicy<Failure>({
      initial: "1 second",
      max: "30 seconds",
      stableAfter: "60 seconds",
      retryable: (e) => !e.fatal,
      onRetry: (_e, delay) => Effect.sync(() => delays.push(Duration.toMillis(delay)))
    })
    const fiber = yield* Effect.fork(Effect.either(Effect.retry(attempt, policy)))
    for (let i = 0; i < 40; i++) yield* TestClock.adjust("10 seconds")
    return { result: yield* Fiber.join(fiber), delays, attempts: n }
  })

describe("reconnectPolicy", () => {
  it.effect("backs off exponentially with jitter up to the cap", () =>
    Effect.gen(function* () {
      const { result, delays } = yield* delaysOf(Array.from({ length: 8 }, () => ({})))
      expect(result._tag).toBe("Right")
      expect(delays).toHaveLength(8)
      const nominal = [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
      delays.forEach((d, i) => {
        expect(d).toBeGreaterThanOrEqual(Math.min(nominal[i]! * 0.8, 30000))
        expect(d).toBeLessThanOrEqual(Math.min(nominal[i]! * 1.2, 30000))
      })
    })
  )

  it.effect("starts over after the link stayed up for the stable period", () =>
    Effect.gen(function* () {
      const { delays } = yield* delaysOf([{}, {}, {}, { upFor: 120_000 }, {}])
      expect(delays[2]).toBeGreaterThanOrEqual(3200)
      // the fourth failure came 120 s after the third: back to the initial delay
      expect(delays[3]).toBeLessThanOrEqual(1200)
    })
  )

  it.effect("stops at once on a failure retrying cannot fix", () =>
    Effect.gen(function* () {
      const { result, attempts, delays } = yield* delaysOf([{}, { fatal: true }, {}])
      expect(result).toMatchObject({ _tag: "Left", left: { fatal: true, n: 2 } })
      expect(attempts).toBe(2)
      expect(delays).toHaveLength(1)
    })
  )
})
