import * as http from "node:http"
import { describe, expect, it } from "vitest"
import { Effect } from "effect"
import { PRESENCE_MAX } from "../../src/services/gateway/Gateway.js"
import { authenticated, RawClient, registerScoped, withGateway } from "../support/gateway.js"

const httpGet = (url: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = ""
        res.on("data", (d) => (body += d))
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }))
      })
      .on("error", reject)
  })

describe("methods", () => {
  it("health, status and system-presence answer", () =>
    withGateway({}, async (gw) => {
      const c = await authenticated(gw.url)
      const health = await c.request("health")
      expect(health.ok).toBe(true)
      expect(health.payload).toMatchObject({ ok: true })
      expect(typeof health.payload.ts).toBe("number")
      expect(typeof health.payload.durationMs).toBe("number")

      const status = (await c.request("status")).payload
      expect(status).toMatchObject({
        version: expect.any(String),
        protocol: 4,
        bind: { mode: "loopback", port: gw.listeners.port },
        auth: { mode: "token", secretSet: true },
        clients: 1,
        nodes: 0
      })
      expect(JSON.stringify(status)).not.toContain("test-token")
      expect(status.exposure).toEqual({ mode: "off", state: "off" })

      const presence = (await c.request("system-presence")).payload
      expect(presence).toHaveLength(1)
      expect(presence[0]).toMatchObject({ client: { id: "test", mode: "test" }, role: "operator", host: "127.0.0.1" })
      c.ws.close()
    }))

  it("unknown method: INVALID_REQUEST, and the connection stays open", () =>
    withGateway({}, async (gw) => {
      const c = await authenticated(gw.url)
      const res = await c.request("no.such.method")
      expect(res.error).toMatchObject({ code: "INVALID_REQUEST", message: "unknown method: no.such.method" })
      expect((await c.request("health")).ok).toBe(true)
      c.ws.close()
    }))

  it("a method without its scope: FORBIDDEN missing scope", () =>
    withGateway({}, async (gw) => {
      const scope = registerScoped(gw, "test.write", {
        requires: "operator.write",
        handler: () => Effect.succeed({ wrote: true })
      })
      const c = await authenticated(gw.url, { scopes: ["operator.read"] })
      const res = await c.request("test.write")
      expect(res.error).toEqual({
        code: "FORBIDDEN",
        message: "missing scope: operator.write",
        details: { code: "MISSING_SCOPE" }
      })
      const w = await authenticated(gw.url, { scopes: ["operator.write"] })
      expect((await w.request("test.write")).payload).toEqual({ wrote: true })
      c.ws.close()
      w.ws.close()
      await scope.close()
    }))

  it("malformed JSON, wrong shapes and binary frames close only the offending socket", () =>
    withGateway({}, async (gw) => {
      const bystander = await authenticated(gw.url)
      for (const bad of ["{not json", JSON.stringify([1, 2]), JSON.stringify({ type: "req", method: "health" })]) {
        const c = await authenticated(gw.url)
        c.send(bad)
        expect((await c.waitClosed()).code).toBe(1008)
      }
      const bin = await authenticated(gw.url)
      bin.ws.send(Buffer.from([1, 2, 3]), { binary: true })
      expect((await bin.waitClosed()).code).toBe(1003)
      expect((await bystander.request("health")).ok).toBe(true)
      bystander.ws.close()
    }))

  it("sends tick events at the tick interval", () =>
    withGateway({ tickIntervalMs: 100 }, async (gw) => {
      const c = await authenticated(gw.url)
      const tick = await c.event("tick")
      expect(typeof tick.payload.ts).toBe("number")
      expect(typeof tick.seq).toBe("number")
      c.ws.close()
    }))

  it("broadcasts presence when clients come and go", () =>
    withGateway({}, async (gw) => {
      const watcher = await authenticated(gw.url)
      const other = await authenticated(gw.url, {
        client: { id: "other", version: "1", platform: "linux", mode: "cli" }
      })
      await watcher.waitFor(() => watcher.frames.find((f) => f.event === "presence" && f.payload.presence.length === 2))
      other.ws.close()
      await watcher.waitFor(() => watcher.frames.findLast((f) => f.event === "presence")?.payload.presence.length === 1)
      watcher.ws.close()
    }))

  it(
    `presence lists at most ${PRESENCE_MAX} clients, the newest, in hello-ok, events and system-presence`,
    () =>
      withGateway({}, async (gw) => {
        const first = await authenticated(gw.url, {
          client: { id: "first", version: "1", platform: "linux", mode: "test" }
        })
        const crowd: Array<RawClient> = []
        for (let i = 0; i < PRESENCE_MAX + 4; i += 34) {
          crowd.push(...(await Promise.all(Array.from({ length: 34 }, () => authenticated(gw.url)))))
        }
        const last = await RawClient.open(gw.url)
        await last.event("connect.challenge")
        const hello = (await last.connect({ client: { id: "last", version: "1", platform: "linux", mode: "test" } }))
          .payload
        const listed = hello.snapshot.presence.map((p: any) => p.client.id)
        // The joining client is appended to the capped list for its own hello-ok.
        expect(listed).toHaveLength(PRESENCE_MAX + 1)
        expect(listed.at(-1)).toBe("last")
        expect(listed).not.toContain("first")
        await first.waitFor(() =>
          first.frames
            .findLast((f) => f.event === "presence")
            ?.payload.presence.some((p: any) => p.client.id === "last")
        )
        expect(first.frames.findLast((f) => f.event === "presence").payload.presence).toHaveLength(PRESENCE_MAX)
        const presence = (await first.request("system-presence")).payload
        expect(presence).toHaveLength(PRESENCE_MAX)
        expect(presence.at(-1).client.id).toBe("last")
        expect((await first.request("status")).payload.clients).toBe(crowd.length + 2)
        for (const c of [first, last, ...crowd]) c.ws.close()
      }),
    60_000
  ) // 200+ handshakes: slow when CI runs it beside the fuzzer; speed is the bench's job
})

describe("HTTP on the same port", () => {
  it("GET /health, /healthz and /readyz answer without auth", () =>
    withGateway({}, async (gw) => {
      const base = gw.url.replace("ws://", "http://")
      for (const path of ["/health", "/healthz"]) {
        const res = await httpGet(base + path)
        expect(res.status).toBe(200)
        expect(JSON.parse(res.body)).toEqual({ ok: true, status: "live" })
      }
      // Readiness: everything configured is up (state in memory: nothing to write).
      const ready = await httpGet(`${base}/readyz`)
      expect(ready.status).toBe(200)
      expect(JSON.parse(ready.body)).toEqual({ ok: true, status: "ready", reasons: [] })
    }))

  it("serves the Control UI page with security headers at basePath", () =>
    withGateway({ controlUi: { enabled: true, basePath: "/ui", allowedOrigins: [] } }, async (gw) => {
      const base = gw.url.replace("ws://", "http://")
      const res = await httpGet(`${base}/ui/`)
      expect(res.status).toBe(200)
      expect(res.headers["referrer-policy"]).toBe("no-referrer")
      expect(res.headers["x-frame-options"]).toBe("DENY")
      expect(res.headers["content-security-policy"]).toContain("frame-ancestors 'none'")
      expect((await httpGet(`${base}/other`)).status).toBe(404)
    }))
})

describe("browser origin gate", () => {
  it("refuses a foreign origin, and another localhost port, before the upgrade", () =>
    withGateway({}, async (gw) => {
      await expect(RawClient.open(gw.url, { origin: "https://evil.example" })).rejects.toThrow("HTTP 403")
      await expect(RawClient.open(gw.url, { origin: "http://127.0.0.1:1" })).rejects.toThrow("HTTP 403")
    }))

  it("accepts the gateway's own origin from a local client, and allow-listed origins", () =>
    withGateway(
      { controlUi: { enabled: true, basePath: "", allowedOrigins: ["https://control.example"] } },
      async (gw) => {
        const own = gw.url.replace("ws://", "http://")
        const a = await RawClient.open(gw.url, { origin: own })
        const b = await RawClient.open(gw.url, { origin: "https://control.example" })
        a.ws.close()
        b.ws.close()
      }
    ))

  it("a loopback own-origin with proxy headers is not local, so it is refused", () =>
    withGateway({}, async (gw) => {
      const own = gw.url.replace("ws://", "http://")
      await expect(
        RawClient.open(gw.url, { origin: own, headers: { "X-Forwarded-For": "203.0.113.9" } })
      ).rejects.toThrow("HTTP 403")
    }))
})
