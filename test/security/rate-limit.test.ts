import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { askerKey, AuthRateLimiter, localDelayCapMs } from "../../src/services/auth/rate-limit.js"
import { authenticated, RawClient, settingsWith, TOKEN, withGateway } from "../support/gateway.js"

const limits = { maxAttempts: 10, windowMs: 60_000, lockoutMs: 300_000 }

describe("AuthRateLimiter", () => {
  it("locks a remote address out after maxAttempts failures in the window, with retryAfterMs", () => {
    const l = new AuthRateLimiter(limits)
    for (let i = 0; i < 10; i++) {
      expect(l.check("203.0.113.5", false, 1000 + i)).toEqual({ kind: "allow", delayMs: 0 })
      l.recordFailure("203.0.113.5", false, 1000 + i)
    }
    expect(l.check("203.0.113.5", false, 2000)).toEqual({ kind: "locked", retryAfterMs: 300_000 + 1009 - 2000 })
    expect(l.check("203.0.113.6", false, 2000).kind).toBe("allow")
    expect(l.check("203.0.113.5", false, 1009 + 300_000).kind).toBe("allow")
  })

  it("recordFailure says true exactly once per lock-out (the Gateway's one warning), never for a local peer", () => {
    const l = new AuthRateLimiter(limits)
    const started = Array.from({ length: 12 }, (_, i) => l.recordFailure("203.0.113.7", false, 1000 + i))
    expect(started).toEqual([...Array(9).fill(false), true, false, false])
    // After the lock-out ran out, the next full round starts a new one.
    const again = Array.from({ length: 10 }, (_, i) => l.recordFailure("203.0.113.7", false, 400_000 + i))
    expect(again.filter(Boolean)).toHaveLength(1)
    expect(Array.from({ length: 20 }, (_, i) => l.recordFailure("127.0.0.1", true, i)).some(Boolean)).toBe(false)
  })

  it("forgets failures outside the window, and a success resets the count", () => {
    const l = new AuthRateLimiter(limits)
    for (let i = 0; i < 9; i++) l.recordFailure("a", false, i)
    l.recordFailure("a", false, 70_000) // the first nine are outside the window by now
    expect(l.check("a", false, 70_001).kind).toBe("allow")
    for (let i = 0; i < 9; i++) l.recordFailure("b", false, i)
    l.recordSuccess("b")
    l.recordFailure("b", false, 10)
    expect(l.check("b", false, 11)).toEqual({ kind: "allow", delayMs: 0 })
  })

  it("a local peer is never locked out, but waits longer and longer past the limit", () => {
    const l = new AuthRateLimiter(limits)
    const delays: Array<number> = []
    for (let i = 0; i < 14; i++) {
      const v = l.check("127.0.0.1", true, i)
      expect(v.kind).toBe("allow")
      delays.push(v.kind === "allow" ? v.delayMs : -1)
      l.recordFailure("127.0.0.1", true, i)
    }
    expect(delays.slice(0, 10)).toEqual(Array(10).fill(0))
    expect(delays.slice(10)).toEqual([250, 500, 1000, 2000])
  })
})

describe("askerKey: who is asking", () => {
  const serve = (forwardedFor: string, fromServe = true) => ({
    login: undefined,
    name: undefined,
    funnel: false,
    forwardedFor,
    forwardedProto: "https",
    forwardedHost: "gw.tail1234.ts.net",
    fromServe
  })

  it("the forwarded client address behind the trusted proxy; the socket address otherwise; all of loopback as one", () => {
    expect(askerKey({ remoteAddress: "127.0.0.1", local: false, proxy: serve("100.64.0.9, 10.0.0.1") }, true)).toBe(
      "via proxy 100.64.0.9"
    )
    expect(askerKey({ remoteAddress: "127.0.0.1", local: false, proxy: serve("::ffff:100.64.0.9") }, true)).toBe(
      "via proxy 100.64.0.9"
    )
    // Not trusted (no Serve in front), or not from this host: the headers name nobody.
    expect(askerKey({ remoteAddress: "127.0.0.1", local: false, proxy: serve("100.64.0.9") }, false)).toBe("loopback")
    expect(askerKey({ remoteAddress: "203.0.113.4", local: false, proxy: serve("100.64.0.9", false) }, true)).toBe(
      "203.0.113.4"
    )
    expect(askerKey({ remoteAddress: "127.0.0.2", local: false }, true)).toBe("loopback")
    expect(askerKey({ remoteAddress: "::1", local: false }, true)).toBe("loopback")
    // The owner's own programs are a client of their own, apart from pages and proxies on loopback.
    expect(askerKey({ remoteAddress: "127.0.0.5", local: true }, true)).toBe("local")
  })

  it("the local delay is capped at half the handshake timeout", () => {
    expect(localDelayCapMs(10_000)).toBe(5_000)
    const l = new AuthRateLimiter(limits, localDelayCapMs(3_000))
    for (let i = 0; i < 30; i++) l.recordFailure("local", true, i)
    expect(l.check("local", true, 31)).toEqual({ kind: "allow", delayMs: 1_500 })
  })
})

describe("rate limiting in the Gateway", () => {
  it("a browser page on loopback gets no exemption: locked out by attempt 11 with AUTH_RATE_LIMITED; others still get in", () =>
    withGateway({}, async (gw) => {
      const origin = gw.url.replace("ws://", "http://")
      const codes: Array<string> = []
      for (let i = 0; i < 11; i++) {
        const c = await RawClient.open(gw.url, { origin })
        const res = await c.connect({ auth: { token: `guess-${i}` } })
        codes.push(res.error.details.code)
        if (i === 10) {
          expect(res.error.retryAfterMs).toBeGreaterThan(290_000)
          expect(res.error.message).toMatch(/^unauthorized: too many failed attempts/)
        }
      }
      expect(codes).toEqual([...Array(10).fill("AUTH_TOKEN_MISMATCH"), "AUTH_RATE_LIMITED"])
      // Even the right token is refused from the locked-out page...
      const right = await RawClient.open(gw.url, { origin })
      expect((await right.connect()).error.details.code).toBe("AUTH_RATE_LIMITED")
      // ...the CLI on the same machine is still served (loopback without Origin is slowed, not locked).
      const cli = await authenticated(gw.url)
      cli.ws.close()
    }))

  it("local CLI guesses past the limit are delayed, not locked out, and success resets", () =>
    withGateway(
      { auth: { ...settingsWith().auth, rateLimit: { maxAttempts: 2, windowMs: 60_000, lockoutMs: 300_000 } } },
      async (gw) => {
        for (let i = 0; i < 2; i++)
          expect((await (await RawClient.open(gw.url)).connect({ auth: { token: "x" } })).error.details.code).toBe(
            "AUTH_TOKEN_MISMATCH"
          )
        const started = Date.now()
        const slowed = await (await RawClient.open(gw.url)).connect({ auth: { token: "x" } })
        expect(slowed.error.details.code).toBe("AUTH_TOKEN_MISMATCH")
        expect(Date.now() - started).toBeGreaterThanOrEqual(240)
        const ok = await authenticated(gw.url)
        ok.ws.close()
        const fresh = Date.now()
        await (await RawClient.open(gw.url)).connect({ auth: { token: "x" } })
        expect(Date.now() - fresh).toBeLessThan(200)
      }
    ))

  it("a missing token is not counted as a guess", () =>
    withGateway(
      {
        auth: {
          ...settingsWith().auth,
          token: Redacted.make(TOKEN),
          rateLimit: { maxAttempts: 1, windowMs: 60_000, lockoutMs: 300_000 }
        }
      },
      async (gw) => {
        const origin = gw.url.replace("ws://", "http://")
        for (let i = 0; i < 3; i++)
          expect((await (await RawClient.open(gw.url, { origin })).connect({ auth: {} })).error.details.code).toBe(
            "AUTH_TOKEN_MISSING"
          )
      }
    ))
})
