import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { authenticated, connectParams, RawClient, TOKEN, withGateway } from "../support/gateway.js"

describe("handshake", () => {
  it("sends connect.challenge at once, then hello-ok with features, snapshot, auth and policy", () =>
    withGateway({}, async (gw) => {
      const c = await RawClient.open(gw.url)
      const challenge = await c.event("connect.challenge")
      expect(challenge.payload.nonce).toMatch(/^[0-9a-f-]{36}$/)
      expect(typeof challenge.payload.ts).toBe("number")
      const res = await c.connect()
      expect(res.ok).toBe(true)
      const hello = res.payload
      expect(hello.type).toBe("hello-ok")
      expect(hello.protocol).toBe(4)
      expect(hello.server.connId).toMatch(/^[0-9a-f-]{36}$/)
      expect(hello.features.methods).toEqual(expect.arrayContaining(["health", "status", "system-presence"]))
      expect(hello.features.events).toEqual(expect.arrayContaining(["tick", "shutdown", "presence"]))
      expect(hello.snapshot.authMode).toBe("token")
      expect(hello.snapshot.presence.map((p: any) => p.connId)).toContain(hello.server.connId)
      expect(hello.auth).toEqual({ method: "token", role: "operator", scopes: ["operator.read"] })
      expect(hello.policy).toEqual({ maxPayload: 26214400, maxBufferedBytes: 52428800, tickIntervalMs: 30000 })
      c.ws.close()
    }))

  it("accepts the shared secret in auth.password too, and ignores unknown connect params", () =>
    withGateway({}, async (gw) => {
      const c = await RawClient.open(gw.url)
      const res = await c.connect({
        auth: { password: TOKEN },
        locale: "en",
        userAgent: "x",
        permissions: {},
        caps: ["a"]
      })
      expect(res.ok).toBe(true)
      expect(res.payload.auth.method).toBe("token")
      c.ws.close()
    }))

  it("gives operators the scopes they ask for, never more, and operator.read when they ask none", () =>
    withGateway({}, async (gw) => {
      const a = await authenticated(gw.url, { scopes: ["operator.write", "operator.bogus"] })
      expect(a.frames.find((f) => f.type === "res").payload.auth.scopes).toEqual(["operator.write"])
      const b = await authenticated(gw.url, { scopes: [] })
      expect(b.frames.find((f) => f.type === "res").payload.auth.scopes).toEqual(["operator.read"])
      a.ws.close()
      b.ws.close()
    }))

  it.each([
    ["no credentials", { auth: undefined }, "AUTH_TOKEN_MISSING", /^unauthorized: gateway token missing/],
    [
      "a wrong token",
      { auth: { token: "nope" } },
      "AUTH_TOKEN_MISMATCH",
      /^unauthorized: gateway token mismatch \(set gateway\.remote\.token to match gateway\.auth\.token\)/
    ]
  ])("rejects %s with details.code and closes 1008", (_name, params, code, message) =>
    withGateway({}, async (gw) => {
      const c = await RawClient.open(gw.url)
      const res = await c.connect(params)
      expect(res.ok).toBe(false)
      expect(res.error.details.code).toBe(code)
      expect(res.error.message).toMatch(message)
      expect(res.error.message).not.toContain(TOKEN)
      expect((await c.waitClosed()).code).toBe(1008)
    })
  )

  it("password mode: reports PASSWORD codes", () =>
    withGateway(
      {
        auth: {
          mode: "password",
          token: undefined,
          password: Redacted.make("pw-secret-value"),
          allowTailscale: false,
          rateLimit: { maxAttempts: 10, windowMs: 60000, lockoutMs: 300000 },
          secretSource: "test"
        }
      },
      async (gw) => {
        const missing = await RawClient.open(gw.url)
        expect((await missing.connect({ auth: {} })).error.details.code).toBe("AUTH_PASSWORD_MISSING")
        const wrong = await RawClient.open(gw.url)
        expect((await wrong.connect({ auth: { password: "x" } })).error.details.code).toBe("AUTH_PASSWORD_MISMATCH")
        const ok = await RawClient.open(gw.url)
        const res = await ok.connect({ auth: { password: "pw-secret-value" } })
        expect(res.payload.auth.method).toBe("password")
        ok.ws.close()
      }
    ))

  it("protocol mismatch: error with PROTOCOL_MISMATCH and close 1002; protocol 3 only for probes and nodes", () =>
    withGateway({}, async (gw) => {
      const c = await RawClient.open(gw.url)
      const res = await c.connect({ minProtocol: 5, maxProtocol: 6 })
      expect(res.error.code).toBe("INVALID_REQUEST")
      expect(res.error.message).toMatch(/^protocol mismatch/)
      expect(res.error.details).toEqual({ code: "PROTOCOL_MISMATCH", expectedProtocol: 4 })
      expect((await c.waitClosed()).code).toBe(1002)

      const old = await RawClient.open(gw.url)
      expect((await old.connect({ minProtocol: 3, maxProtocol: 3 })).ok).toBe(false)
      expect((await old.waitClosed()).code).toBe(1002)

      const probe = await RawClient.open(gw.url)
      const p = await probe.connect({
        minProtocol: 3,
        maxProtocol: 3,
        client: { id: "probe", version: "1", platform: "linux", mode: "probe" }
      })
      expect(p.ok).toBe(true)
      probe.ws.close()
    }))

  it("invalid role: error and close 1008", () =>
    withGateway({}, async (gw) => {
      const c = await RawClient.open(gw.url)
      const res = await c.connect({ role: "admin" })
      expect(res.error.message).toBe("invalid role")
      expect((await c.waitClosed()).code).toBe(1008)
    }))

  it("first request must be connect", () =>
    withGateway({}, async (gw) => {
      const c = await RawClient.open(gw.url)
      c.send({ type: "req", id: "x", method: "health" })
      const res = await c.response("x")
      expect(res.error).toMatchObject({
        code: "INVALID_REQUEST",
        message: "invalid handshake: first request must be connect"
      })
      expect((await c.waitClosed()).code).toBe(1008)
    }))

  it("invalid connect params name the problem", () =>
    withGateway({}, async (gw) => {
      const c = await RawClient.open(gw.url)
      const res = await c.connect({ client: { id: "x", version: "1", platform: "linux", mode: "spaceship" } })
      expect(res.error.code).toBe("INVALID_REQUEST")
      expect(res.error.message).toMatch(/^invalid connect params: client\.mode/)
      expect((await c.waitClosed()).code).toBe(1008)
    }))

  it("a pre-auth frame over 64 KiB closes 1009 'preauth payload too large'", () =>
    withGateway({}, async (gw) => {
      const c = await RawClient.open(gw.url)
      await c.event("connect.challenge")
      c.send({ type: "req", id: "big", method: "connect", params: { ...connectParams(), pad: "x".repeat(70 * 1024) } })
      expect(await c.waitClosed()).toEqual({ code: 1009, reason: "preauth payload too large" })
    }))

  it("the same frame size is fine after auth", () =>
    withGateway({}, async (gw) => {
      const c = await authenticated(gw.url)
      const res = await c.request("health", { pad: "x".repeat(70 * 1024) })
      expect(res.ok).toBe(true)
      c.ws.close()
    }))

  it("closes 1008 when no connect arrives within the handshake timeout", () =>
    withGateway({ handshakeTimeoutMs: 200 }, async (gw) => {
      const c = await RawClient.open(gw.url)
      const started = Date.now()
      expect(await c.waitClosed()).toEqual({ code: 1008, reason: "handshake timeout" })
      expect(Date.now() - started).toBeGreaterThanOrEqual(150)
    }))
})
