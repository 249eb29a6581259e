/**
 * The methods and shapes OpenClaw's own clients need (src/services/sessions/methods.ts,
 * services/compat, services/gateway/unsupported-methods.ts), in-process.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { LogBuffer, makeLogBuffer } from "../../src/services/compat/LogBuffer.js"
import { authenticated, withGateway } from "../support/gateway.js"

const WRITE = { scopes: ["operator.read", "operator.write"] }
const ADMIN = { scopes: ["operator.admin"] }

describe("OpenClaw client methods", () => {
  it("hello-ok advertises the new methods; OpenClaw-only methods answer 'not supported', others stay unknown", () =>
    withGateway({}, async (gw) => {
      const c = await authenticated(gw.url, WRITE)
      const hello = c.frames.find((f) => f.type === "res" && f.id === "c1")
      const methods: Array<string> = hello.payload.features.methods
      for (const m of [
        "sessions.subscribe",
        "sessions.unsubscribe",
        "sessions.describe",
        "chat.startup",
        "agents.list",
        "config.get",
        "logs.tail",
        "system.info"
      ]) {
        expect(methods).toContain(m)
      }
      expect(methods).not.toContain("cron.list")
      expect(hello.payload.features.events).toContain("sessions.changed")
      const cron = await c.request("cron.list", {})
      expect(cron.error).toMatchObject({
        code: "INVALID_REQUEST",
        details: { code: "METHOD_NOT_SUPPORTED", method: "cron.list" }
      })
      expect(cron.error.message).toMatch(/^cron\.list is not supported by this Gateway/)
      expect((await c.request("skills.library.list", {})).error.details.code).toBe("METHOD_NOT_SUPPORTED")
      expect((await c.request("no.such.method", {})).error).toEqual({
        code: "INVALID_REQUEST",
        message: "unknown method: no.such.method"
      })
      // The connection is still usable after all that.
      expect((await c.request("health")).ok).toBe(true)
    }))

  it("chat.send's run id is the idempotencyKey; agent:main:<key> and <key> are one session; subscribers hear sessions.changed", () =>
    withGateway({}, async (gw) => {
      const sub = await authenticated(gw.url, WRITE)
      const other = await authenticated(gw.url, WRITE)
      expect((await sub.request("sessions.subscribe", {})).payload).toEqual({ subscribed: true })
      const sent = await sub.request("chat.send", {
        sessionKey: "agent:main:main",
        message: "hi",
        idempotencyKey: "ui-run-1"
      })
      expect(sent.payload).toMatchObject({ runId: "ui-run-1", sessionKey: "main" })
      const final = await sub.waitFor(() => sub.frames.find((f) => f.event === "chat" && f.payload.state === "final"))
      expect(final.payload).toMatchObject({
        runId: "ui-run-1",
        message: { content: [{ type: "text", text: "Echo: hi" }] }
      })
      const changed = await sub.waitFor(() => {
        const phases = sub.frames.filter((f) => f.event === "sessions.changed").map((f) => f.payload.phase)
        return phases.includes("end") ? phases : undefined
      })
      expect(changed).toEqual(["start", "end"])
      expect(sub.frames.find((f) => f.event === "sessions.changed").payload).toMatchObject({
        sessionKey: "main",
        agentId: "main",
        runId: "ui-run-1"
      })
      expect(other.frames.some((f) => f.event === "sessions.changed")).toBe(false)
      expect((await sub.request("sessions.unsubscribe", {})).payload).toEqual({ subscribed: false })

      const history = await other.request("chat.history", { sessionKey: "main" })
      expect(history.payload.messages.map((m: any) => m.text)).toEqual(["hi", "Echo: hi"])
      const startup = await other.request("chat.startup", {
        sessionKey: "agent:main:main",
        limit: 80,
        maxBytes: 262144
      })
      expect(startup.payload).toMatchObject({
        sessionKey: "agent:main:main",
        sessionId: "main",
        defaults: { modelProvider: "echo", modelSelectionTarget: "session" },
        sessionInfo: { key: "main", agentId: "main" }
      })
      expect(startup.payload.messages.map((m: any) => m.text)).toEqual(["hi", "Echo: hi"])
      const list = await other.request("sessions.list", { includeGlobal: true, limit: 200 })
      expect(list.payload).toMatchObject({
        count: 1,
        defaults: { modelProvider: "echo", thinkingDefault: "off" },
        sessions: [{ key: "main", messageCount: 2, agentId: "main" }]
      })
      expect((await other.request("sessions.describe", { key: "agent:main:main" })).payload.session).toMatchObject({
        key: "main",
        messageCount: 2
      })
      expect((await other.request("sessions.describe", { key: "nobody" })).payload).toEqual({ session: null })
      expect((await other.request("sessions.describe", {})).error.code).toBe("INVALID_REQUEST")
    }))

  it("agents.list, system.info and status in OpenClaw's shape (with ours kept)", () =>
    withGateway({}, async (gw) => {
      const c = await authenticated(gw.url, WRITE)
      expect((await c.request("agents.list", {})).payload).toMatchObject({
        defaultId: "main",
        agents: [{ id: "main", model: { primary: "echo/echo" } }]
      })
      expect((await c.request("system.info", {})).payload).toMatchObject({
        platform: process.platform,
        pid: process.pid,
        port: gw.listeners.port
      })
      const status = (await c.request("status")).payload
      expect(status).toMatchObject({
        ok: true,
        protocol: 4,
        bind: { port: gw.listeners.port },
        runtimeVersion: expect.any(String)
      })
      expect(status.sessions.byAgent).toEqual([expect.objectContaining({ agentId: "main", count: 0 })])
    }))

  it("config.get answers the config file with every secret redacted", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-cfg-"))
    const configPath = path.join(dir, "openclaw.json")
    const secrets = ["tok-SECRET-1111111111", "pw-SECRET-2222222222", "key-SECRET-3333333333"]
    fs.writeFileSync(
      configPath,
      JSON.stringify({
        gateway: {
          port: 1,
          auth: { token: secrets[0], password: secrets[1] },
          remote: { url: "ws://x", token: secrets[0] }
        },
        agent: { provider: { apiKey: secrets[2], apiKeyEnv: "OPENAI_KEY" } }
      })
    )
    await withGateway({ configPath }, async (gw) => {
      const c = await authenticated(gw.url, { scopes: ["operator.read"] })
      const r = await c.request("config.get", {})
      expect(r.payload).toMatchObject({
        path: configPath,
        exists: true,
        valid: true,
        parsed: {
          gateway: { port: 1, auth: { token: "__OPENCLAW_REDACTED__" } },
          agent: { provider: { apiKeyEnv: "__OPENCLAW_REDACTED__" } }
        }
      })
      const text = JSON.stringify(r)
      for (const s of secrets) expect(text).not.toContain(s)
    })
  })

  it("logs.tail reads the Gateway's own lines (operator.read, as OpenClaw) and pages by cursor", () =>
    withGateway({}, async (gw) => {
      const c = await authenticated(gw.url, ADMIN)
      const first = (await c.request("logs.tail", { limit: 50 })).payload
      expect(first.lines.length).toBeGreaterThan(0)
      expect(JSON.parse(first.lines.at(-1)!)).toMatchObject({
        message: expect.stringContaining("operator connected"),
        _meta: { logLevelName: "INFO" }
      })
      const reader = await authenticated(gw.url, {
        scopes: ["operator.read"],
        client: { id: "reader-42", version: "1", platform: "linux", mode: "cli" }
      })
      const next = (await reader.request("logs.tail", { cursor: first.cursor })).payload
      expect(next.lines.map((l: string) => JSON.parse(l).message)).toEqual([expect.stringContaining('"reader-42"')])
      expect(next.cursor).toBeGreaterThan(first.cursor)
      expect((await reader.request("logs.tail", { cursor: -1 })).error.code).toBe("INVALID_REQUEST")
    }))
})

describe("LogBuffer", () => {
  it("hears Effect logs of layers built above it", async () => {
    const above = Layer.effectDiscard(Effect.logWarning("from a service above"))
    const lines = await Effect.runPromise(
      Effect.map(LogBuffer, (b) => b.tail({}).lines).pipe(
        Effect.provide(above.pipe(Layer.provideMerge(LogBuffer.layer)))
      )
    )
    expect(lines).toEqual([expect.objectContaining({ level: "WARN", message: "from a service above" })])
  })

  it("is bounded by lines and bytes, and a stale cursor starts over", () => {
    const b = makeLogBuffer(3, 1_000)
    for (let i = 1; i <= 5; i++) b.append("INFO", `line ${i}`)
    expect(b.tail({}).lines.map((l) => l.message)).toEqual(["line 3", "line 4", "line 5"])
    expect(b.tail({ cursor: 4 }).lines.map((l) => l.message)).toEqual(["line 5"])
    expect(b.tail({ cursor: 1 })).toMatchObject({ reset: true })
    expect(b.tail({ limit: 1 })).toMatchObject({ truncated: true, cursor: 5 })
    b.append("INFO", "x".repeat(900))
    b.append("INFO", "y".repeat(900))
    expect(b.tail({}).lines.map((l) => l.message[0])).toEqual(["y"])
  })
})
