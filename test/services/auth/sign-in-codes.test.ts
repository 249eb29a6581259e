/**
 * One-time sign-in codes in Auth, on the Effect Clock: a code works once, only until it expires,
 * counts as a failed attempt when spent or made up (and a locked-out client cannot spend a good
 * one), and goes with the shared secret when it is rotated. The store keeps digests only, and a
 * bounded number of them.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted, TestClock } from "effect"
import { Auth, type AuthRequest } from "../../../src/services/auth/Auth.js"
import { MAX_SIGN_IN_CODES, SIGN_IN_CODE_TTL_MS, SignInCodes } from "../../../src/services/auth/sign-in-codes.js"
import { GatewayConfig, testSettings } from "../../../src/services/config/GatewayConfig.js"

const limits = { maxAttempts: 3, windowMs: 60_000, lockoutMs: 300_000 }
const AuthLive = Auth.layer.pipe(
  Layer.provide(
    GatewayConfig.layerTest({
      auth: { ...testSettings().auth, token: Redacted.make("right-token"), rateLimit: limits }
    })
  )
)
/** A browser on another machine: it can be locked out. */
const browser = (signInCode: string): AuthRequest => ({
  credentials: { signInCode },
  clientMode: "ui",
  remoteAddress: "203.0.113.7",
  local: false,
  deviceToken: undefined
})
const outcome = (exit: Exit.Exit<{ readonly method: string }, { readonly code: string }> | undefined) =>
  exit === undefined
    ? "undecided"
    : Exit.isSuccess(exit)
      ? exit.value.method
      : exit.cause._tag === "Fail"
        ? exit.cause.error.code
        : exit.cause._tag

describe("sign-in codes in Auth", () => {
  it.effect("a code signs in once, as method sign-in-code; the second use is refused with what to do", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      const { code, expiresAt } = auth.mintSignInCode!()
      expect(code).toMatch(/^[A-Za-z0-9_-]{32}$/)
      expect(expiresAt).toBe(SIGN_IN_CODE_TTL_MS)
      expect(outcome(auth.decideNow!(browser(code)))).toBe("sign-in-code")
      const again = auth.decideNow!(browser(code))
      expect(outcome(again)).toBe("AUTH_SIGN_IN_CODE_INVALID")
      const error = Exit.isFailure(again!) && again.cause._tag === "Fail" ? again.cause.error : undefined
      expect(error?.message).toContain("this sign-in link was already used or expired")
      expect(error?.message).toContain("`openclaw dashboard`")
      expect(error?.message).not.toContain(code)
    }).pipe(Effect.provide(AuthLive))
  )

  it.effect("an expired code is refused (and used up)", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      const early = auth.mintSignInCode!()
      const late = auth.mintSignInCode!()
      yield* TestClock.adjust(SIGN_IN_CODE_TTL_MS - 1)
      expect(outcome(auth.decideNow!(browser(early.code)))).toBe("sign-in-code")
      yield* TestClock.adjust(1)
      expect(outcome(auth.decideNow!(browser(late.code)))).toBe("AUTH_SIGN_IN_CODE_INVALID")
    }).pipe(Effect.provide(AuthLive))
  )

  it.effect("made-up codes count as failed attempts; a locked-out client cannot use up a good code", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      const good = auth.mintSignInCode!()
      for (let i = 0; i < limits.maxAttempts; i++)
        expect(outcome(auth.decideNow!(browser(`guess-${i}`)))).toBe("AUTH_SIGN_IN_CODE_INVALID")
      expect(outcome(auth.decideNow!(browser(good.code)))).toBe("AUTH_RATE_LIMITED")
      // The refused attempt did not spend it: its owner, elsewhere, still signs in with it.
      const owner = { ...browser(good.code), remoteAddress: "198.51.100.9" }
      expect(outcome(auth.decideNow!(owner))).toBe("sign-in-code")
    }).pipe(Effect.provide(AuthLive))
  )

  it.effect("rotating the shared secret voids the codes minted before", () =>
    Effect.gen(function* () {
      const auth = yield* Auth
      const before = auth.mintSignInCode!()
      auth.replaceSecret!("a-new-token")
      expect(outcome(auth.decideNow!(browser(before.code)))).toBe("AUTH_SIGN_IN_CODE_INVALID")
      expect(outcome(auth.decideNow!(browser(auth.mintSignInCode!().code)))).toBe("sign-in-code")
    }).pipe(Effect.provide(AuthLive))
  )
})

describe("the code store", () => {
  it("keeps at most MAX_SIGN_IN_CODES, dropping the oldest; codes are distinct and kept only as digests", () => {
    let now = 0
    const codes = new SignInCodes(() => now)
    const minted = Array.from({ length: MAX_SIGN_IN_CODES + 2 }, () => codes.mint().code)
    expect(new Set(minted).size).toBe(minted.length)
    expect(codes.outstanding).toBe(MAX_SIGN_IN_CODES)
    expect(JSON.stringify([...(codes as unknown as { live: Map<string, number> }).live])).not.toContain(minted[5])
    expect(codes.take(minted[0]!)).toBe(false)
    expect(codes.take(minted[1]!)).toBe(false)
    expect(codes.take(minted[2]!)).toBe(true)
    expect(codes.take(minted[2]!)).toBe(false)
    now = SIGN_IN_CODE_TTL_MS
    expect(codes.take(minted[3]!)).toBe(false)
    expect(codes.outstanding).toBe(0)
  })
})
