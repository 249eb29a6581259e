/**
 * Auth on the Effect Clock: the rate limiter's window and lock-out run on TestClock, in the
 * synchronous `decideNow` (the Gateway's path for most connects) as in `authenticate`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted, TestClock } from "effect"
import { Auth, type AuthRequest } from "../../../src/services/auth/Auth.js"
import { GatewayConfig, testSettings } from "../../../src/services/config/GatewayConfig.js"

const limits = { maxAttempts: 3, windowMs: 60_000, lockoutMs: 300_000 }
const AuthLive = Auth.layer.pipe(
  Layer.provide(
    GatewayConfig.layerTest({
      auth: { ...testSettings().auth, token: Redacted.make("right-token"), rateLimit: limits }
    })
  )
)
const remote = (token: string): AuthRequest => ({
  credentials: { token },
  clientMode: "cli",
  remoteAddress: "203.0.113.5",
  local: false
})
const codeOf = (exit: Exit.Exit<unknown, { readonly code: string }> | undefined) =>
  exit === undefined ? "undecided" : Exit.isSuccess(exit) ? "ok" : Exit.isFailure(exit) ? failureCode(exit) : "?"
const failureCode = (exit: Exit.Failure<unknown, { readonly code: string }>) =>
  exit.cause._tag === "Fail" ? exit.cause.error.code : exit.cause._tag

describe("Auth rate limit on the Clock", () => {
  it.effect("failures outside the window are forgotten once its duration has passed", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      const decide = (token: string) => codeOf(auth.decideNow!(remote(token)))
      expect([decide("wrong"), decide("wrong")]).toEqual(["AUTH_TOKEN_MISMATCH", "AUTH_TOKEN_MISMATCH"])
      // Just inside the window, a third failure would lock out; once the window has passed it does not.
      yield* TestClock.adjust(limits.windowMs + 1)
      expect([decide("wrong"), decide("wrong")]).toEqual(["AUTH_TOKEN_MISMATCH", "AUTH_TOKEN_MISMATCH"])
      expect(decide("right-token")).toBe("ok")
    }).pipe(Effect.provide(AuthLive))
  )

  it.effect("a lock-out ends exactly after lockoutMs, and says how long is left", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      for (let i = 0; i < limits.maxAttempts; i++) auth.decideNow!(remote("wrong"))
      yield* TestClock.adjust(limits.lockoutMs - 1)
      const locked = yield* Effect.flip(auth.authenticate(remote("right-token")))
      expect(locked).toMatchObject({ code: "AUTH_RATE_LIMITED", retryAfterMs: 1 })
      expect(codeOf(auth.decideNow!(remote("right-token")))).toBe("AUTH_RATE_LIMITED")
      yield* TestClock.adjust(1)
      expect(codeOf(auth.decideNow!(remote("right-token")))).toBe("ok")
    }).pipe(Effect.provide(AuthLive))
  )

  it.effect("a local peer past the limit waits its escalating delay on the Clock, then gets in", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      const local = { ...remote("wrong"), remoteAddress: "127.0.0.1", local: true }
      for (let i = 0; i < limits.maxAttempts; i++) auth.decideNow!(local)
      // Past the limit: no decision at once, the fiber sleeps 250 ms of the Clock.
      expect(auth.decideNow!({ ...local, credentials: { token: "right-token" } })).toBeUndefined()
      const fiber = yield* Effect.fork(auth.authenticate({ ...local, credentials: { token: "right-token" } }))
      yield* TestClock.adjust(249)
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust(1)
      expect(yield* fiber.await).toEqual(Exit.succeed({ method: "token" }))
    }).pipe(Effect.provide(AuthLive))
  )
})
