/** Regression tests for rules of shared/security.md not covered elsewhere. */
import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { normaliseAddress, isLoopbackAddress } from "../../src/platform/http-peer.js"
import { authenticated, RawClient, TOKEN, withGateway } from "../support/gateway.js"

describe("loopback is not an identity (section 1)", () => {
  it("a loopback client without credentials is refused", () =>
    withGateway({}, async (gw) => {
      const c = await RawClient.open(gw.url)
      expect((await c.connect({ auth: undefined })).error.details.code).toBe("AUTH_TOKEN_MISSING")
    }))

  it("forwarded loopback requests get no local exemption from lock-out", () =>
    withGateway(
      {
        auth: {
          mode: "token",
          token: Redacted.make(TOKEN),
          password: undefined,
          allowTailscale: false,
          secretSource: "test",
          rateLimit: { maxAttempts: 2, windowMs: 60_000, lockoutMs: 60_000 }
        }
      },
      async (gw) => {
        const codes: Array<string> = []
        for (let i = 0; i < 3; i++) {
          const c = await RawClient.open(gw.url, { headers: { "X-Forwarded-For": "198.51.100.7" } })
          codes.push((await c.connect({ auth: { token: "guess" } })).error.details.code)
        }
        expect(codes).toEqual(["AUTH_TOKEN_MISMATCH", "AUTH_TOKEN_MISMATCH", "AUTH_RATE_LIMITED"])
      }
    ))

  it("addresses are normalised before they are judged or counted", () => {
    expect(normaliseAddress("::ffff:1.2.3.4")).toBe("1.2.3.4")
    expect(normaliseAddress("::FFFF:127.0.0.1")).toBe("127.0.0.1")
    expect(isLoopbackAddress("::ffff:127.0.0.1")).toBe(true)
    expect(isLoopbackAddress("::1")).toBe(true)
    expect(isLoopbackAddress("10.0.0.1")).toBe(false)
  })
})

describe("identity headers are not credentials (section 3)", () => {
  it("forged Tailscale-User-Login headers do not authenticate", () =>
    withGateway({}, async (gw) => {
      const c = await RawClient.open(gw.url, {
        headers: {
          "Tailscale-User-Login": "alice@example.com",
          "Tailscale-User-Name": "Alice",
          "X-Forwarded-For": "100.64.0.7",
          "X-Forwarded-Proto": "https",
          "X-Forwarded-Host": "gw.tail1234.ts.net"
        }
      })
      expect((await c.connect({ auth: undefined })).error.details.code).toBe("AUTH_TOKEN_MISSING")
    }))
})

describe("no credentials in query strings (section 4)", () => {
  it("?token= in the URL is ignored", () =>
    withGateway({}, async (gw) => {
      const c = await RawClient.open(`${gw.url}/?token=${TOKEN}&password=${TOKEN}`)
      expect((await c.connect({ auth: undefined })).error.details.code).toBe("AUTH_TOKEN_MISSING")
    }))
})

describe("resource limits (section 8)", () => {
  it(
    "a frame over 25 MiB after auth closes 1009, and only that socket",
    () =>
      withGateway({}, async (gw) => {
        const bystander = await authenticated(gw.url)
        const big = await authenticated(gw.url)
        big.send(
          JSON.stringify({ type: "req", id: "x", method: "health", params: { pad: "x".repeat(26 * 1024 * 1024) } })
        )
        expect((await big.waitClosed(10_000)).code).toBe(1009)
        expect((await bystander.request("health")).ok).toBe(true)
        bystander.ws.close()
      }),
    30_000
  )
})
