/**
 * The methods and shapes OpenClaw's own clients need (src/services/agent/session-methods.ts,
 * services/compat, services/gateway/unsupported-methods.ts), in-process.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Layer, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { LogBuffer, makeLogBuffer } from "../../src/services/compat/LogBuffer.js"
import { authenticated, withGateway } from "../support/gateway.js"
import { OPENCLAW_COMPAT_VERSION, VERSION } from "../../src/version.js"

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
      expect(methods).not.toContain("cron.add")
      expect(hello.payload.features.events).toContain("sessions.changed")
      const cron = await c.request("cron.add", {})
      expect(cron.error).toMatchObject({
        code: "INVALID_REQUEST",
        details: { code: "METHOD_NOT_SUPPORTED", method: "cron.add" }
      })
      expect(cron.error.message).toMatch(/^cron\.add is not supported by this Gateway/)
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
        version: VERSION,
        runtimeVersion: OPENCLAW_COMPAT_VERSION,
        implementation: { name: "openclaw-gateway-effect", version: VERSION, openclawCompatibility: "2026.9.6" }
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

describe("what OpenClaw's Control UI reads for chat, models, sessions and updates", () => {
  it("hello-ok's server.version is the OpenClaw release whose protocol this Gateway implements", () =>
    withGateway({}, async (gw) => {
      const c = await authenticated(gw.url, WRITE)
      const hello = c.frames.find((f) => f.type === "res" && f.id === "c1")
      // OpenClaw's CLI warns when this is not its own version; no buildId (their UI would ask to reload).
      expect(hello.payload.server).toEqual({ version: "2026.9.6", connId: expect.any(String) })
      expect((await c.request("health")).payload.version).toBe(VERSION)
    }))

  it("chat.metadata, models, sessions' branches/companion/observer and update.status in OpenClaw's shapes", () =>
    withGateway({}, async (gw) => {
      const c = await authenticated(gw.url, WRITE)
      const echo = {
        id: "echo",
        name: "echo (built-in offline test provider)",
        provider: "echo",
        available: true,
        manualSelectionAllowed: true,
        input: ["text"]
      }
      expect((await c.request("chat.metadata", { agentId: "main" })).payload).toEqual({
        commands: [],
        models: [echo],
        swarmEnabled: false,
        runtimeSelectionLocked: true
      })
      expect((await c.request("chat.metadata", { sessionKey: "agent:main:main" })).payload.models).toEqual([echo])
      expect((await c.request("models.list", { view: "configured", agentId: "main" })).payload).toEqual({
        models: [echo]
      })
      // echo needs no credential: nothing to report.
      expect((await c.request("models.authStatus", {})).payload).toEqual({ ts: expect.any(Number), providers: [] })
      for (const sessionKey of ["agent:main:main", "no-such-session"]) {
        expect((await c.request("sessions.branches.list", { sessionKey })).payload).toEqual({ branches: [] })
        expect((await c.request("sessions.companion.state", { sessionKey, agentId: "main" })).payload).toEqual({
          exchanges: []
        })
      }
      expect((await c.request("sessions.branches.list", {})).error.code).toBe("INVALID_REQUEST")
      expect((await c.request("sessions.observer.visibility", { visible: true })).payload).toEqual({ ok: true })
      expect((await c.request("sessions.observer.visibility", { visible: "yes" })).error.details.field).toBe("visible")
      expect((await c.request("update.status", {})).payload).toMatchObject({
        sentinel: null,
        updateAvailable: null,
        schedule: { channel: "stable", autoEnabled: false, install: { kind: "package" } },
        source: { package: "openclaw-gateway-effect", version: VERSION, registry: "npm" }
      })
      // Other methods of those families are still not supported.
      for (const m of ["sessions.branches.switch", "models.authSetApiKey", "update.run", "sessions.companion.ask"])
        expect((await c.request(m, {})).error.details.code, m).toBe("METHOD_NOT_SUPPORTED")
    }))

  it("an openai provider is the agent's model, with echo beside it, and its key's presence as auth status", async () => {
    const provider = {
      kind: "openai" as const,
      baseUrl: "http://127.0.0.1:9/v1",
      model: "gpt-test",
      apiKeyEnv: "OC_TEST_KEY_23"
    }
    const models = async (gw: { url: string }) => {
      const c = await authenticated(gw.url, WRITE)
      const list = (await c.request("models.list", {})).payload.models
      const auth = (await c.request("models.authStatus", {})).payload.providers
      c.ws.close()
      return { list, auth }
    }
    // The key as settings carry it: resolved from the environment the caller passed (the CLI's), never read here.
    const without = await withGateway({ agent: { provider } }, models)
    expect(without.list).toEqual([
      expect.objectContaining({
        id: "gpt-test",
        provider: "openai",
        available: false,
        unavailableReason: "missing-auth"
      }),
      expect.objectContaining({ id: "echo", manualSelectionAllowed: false })
    ])
    expect(without.auth).toEqual([
      expect.objectContaining({
        provider: "openai",
        status: "missing",
        profiles: [expect.objectContaining({ profileId: "env:OC_TEST_KEY_23" })]
      })
    ])
    const withKey = await withGateway(
      { agent: { provider: { ...provider, apiKey: Redacted.make("sk-SECRET-VALUE-23") } } },
      models
    )
    expect(withKey.list[0]).toMatchObject({ id: "gpt-test", available: true })
    expect(withKey.auth[0]).toMatchObject({ status: "static" })
    expect(JSON.stringify(withKey)).not.toContain("SECRET-VALUE")
  })

  it("reads of OpenClaw features this Gateway lacks answer empty, as OpenClaw's UI reads 'none'", () =>
    withGateway({}, async (gw) => {
      const c = await authenticated(gw.url, WRITE)
      expect(
        (await c.request("cron.list", { includeDisabled: true, limit: 200, sortBy: "name" })).payload
      ).toMatchObject({
        jobs: [],
        total: 0,
        hasMore: false
      })
      expect((await c.request("cron.status", {})).payload).toEqual({ enabled: false, jobs: 0, nextWakeAtMs: null })
      expect((await c.request("tasks.list", { sessionKey: "agent:main:main", status: ["queued"] })).payload).toEqual({
        tasks: []
      })
      expect((await c.request("progressCard.get", { sessionKey: "agent:main:main" })).payload).toEqual({ card: null })
      for (const m of ["exec.approval.list", "plugin.approval.list", "openclaw.approval.list"])
        expect((await c.request(m, {})).payload, m).toEqual([])
      expect((await c.request("talk.catalog", {})).payload).toMatchObject({
        realtime: { ready: false, providers: [] },
        transcription: { ready: false }
      })
    }))
})
