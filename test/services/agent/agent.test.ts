/**
 * The agent runtime and its methods on an in-process Gateway: the two-phase `agent` protocol,
 * streamed chat/agent events, idempotency keys, scopes, agent.wait, chat.abort, sessions on disk
 * (restart, torn last line) and the OpenAI-compatible provider against a local fake SSE server.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { parseConfigText } from "../../../src/config/load.js"
import { resolveAgentSettings } from "../../../src/config/settings.js"
import { readTranscript } from "../../../src/services/sessions/Sessions.js"
import { splitIntoChunks } from "../../../src/services/agent/AgentRuntime.js"
import { freePort } from "../../support/cli.js"
import { authenticated, type RawClient, withGateway } from "../../support/gateway.js"

const WRITE = { scopes: ["operator.read", "operator.write"] }

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "oc-agent-"))

/** Sends a request and waits for the n-th response with that id (two-phase methods answer twice). */
const nthResponse = (c: RawClient, id: string, n: number, timeoutMs = 10_000) =>
  c.waitFor(() => c.frames.filter((f) => f.type === "res" && f.id === id)[n - 1], timeoutMs)

const chatEvents = (c: RawClient, runId: string) =>
  c.frames.filter((f) => f.type === "event" && f.event === "chat" && f.payload.runId === runId)

describe("agent: two-phase protocol and streaming (echo provider)", () => {
  it("answers accepted, streams deltas as agent and chat events, then a final response with the same id", () =>
    withGateway({}, async (gw) => {
      const c = await authenticated(gw.url, WRITE)
      c.send({
        type: "req",
        id: "a1",
        method: "agent",
        params: { message: "one two three four five six", idempotencyKey: "k-a1" }
      })
      const first = await nthResponse(c, "a1", 1)
      expect(first).toMatchObject({ ok: true, payload: { status: "accepted" } })
      const runId = first.payload.runId as string
      const second = await nthResponse(c, "a1", 2)
      expect(second).toMatchObject({
        ok: true,
        payload: {
          status: "ok",
          runId,
          result: { text: "Echo: one two three four five six", sessionKey: "main", provider: "echo" }
        }
      })
      const firstIndex = c.frames.indexOf(first)
      const chats = chatEvents(c, runId)
      const deltas = chats.filter((f) => f.payload.state === "delta")
      expect(deltas.length).toBeGreaterThanOrEqual(2)
      // Every event comes after "accepted"; the final event before the final response.
      expect(Math.min(...chats.map((f) => c.frames.indexOf(f)))).toBeGreaterThan(firstIndex)
      const finalEvent = chats.find((f) => f.payload.state === "final")
      expect(finalEvent.payload).toMatchObject({
        runId,
        sessionKey: "main",
        message: { role: "assistant", text: "Echo: one two three four five six" }
      })
      expect(c.frames.indexOf(finalEvent)).toBeLessThan(c.frames.indexOf(second))
      // Deltas carry the piece and the text so far.
      expect(deltas.map((d) => d.payload.delta).join("")).toBe("Echo: one two three four five six")
      expect(deltas[deltas.length - 1].payload.deltaText).toBe("Echo: one two three four five six")
      const agentEvents = c.frames.filter((f) => f.type === "event" && f.event === "agent" && f.payload.runId === runId)
      expect(agentEvents.map((e) => e.payload.stream)).toContain("assistant")
      expect(agentEvents[0].payload.data.phase).toBe("start")
      expect(agentEvents[agentEvents.length - 1].payload.data.phase).toBe("end")
      c.ws.close()
    }))

  it("lists agent and chat in hello-ok, and the methods in features.methods", () =>
    withGateway({}, async (gw) => {
      const c = await authenticated(gw.url)
      const hello = c.frames.find((f) => f.type === "res" && f.ok)!.payload
      expect(hello.features.events).toEqual(expect.arrayContaining(["agent", "chat"]))
      expect(hello.features.methods).toEqual(
        expect.arrayContaining([
          "agent",
          "agent.wait",
          "chat.send",
          "chat.history",
          "chat.abort",
          "sessions.list",
          "send"
        ])
      )
      c.ws.close()
    }))

  it("idempotency: a repeated key returns the first result and acts once (agent, chat.send, send)", () =>
    withGateway({}, async (gw) => {
      const c = await authenticated(gw.url, WRITE)
      c.send({ type: "req", id: "a", method: "agent", params: { message: "once", idempotencyKey: "same" } })
      const firstFinal = await nthResponse(c, "a", 2)
      c.send({ type: "req", id: "b", method: "agent", params: { message: "twice?", idempotencyKey: "same" } })
      const repeatAccepted = await nthResponse(c, "b", 1)
      const repeatFinal = await nthResponse(c, "b", 2)
      expect(repeatAccepted.payload).toMatchObject({ status: "accepted", runId: firstFinal.payload.runId })
      expect(repeatFinal.payload).toEqual(firstFinal.payload)
      // Two identical chat.send calls at once: one run.
      const [s1, s2] = await Promise.all([
        c.request("chat.send", { sessionKey: "idem", message: "hi", idempotencyKey: "cs-1" }),
        c.request("chat.send", { sessionKey: "idem", message: "hi", idempotencyKey: "cs-1" })
      ])
      expect(s1.payload.runId).toBe(s2.payload.runId)
      await c.request("agent.wait", { runId: s1.payload.runId })
      const sent1 = await c.request("send", { to: "idem", message: "note", idempotencyKey: "s-1" })
      const sent2 = await c.request("send", { to: "idem", message: "note", idempotencyKey: "s-1" })
      expect(sent1.payload.messageId).toBe(sent2.payload.messageId)
      await c.request("agent.wait", { runId: s1.payload.runId })
      const main = await c.request("chat.history", { sessionKey: "main" })
      expect(main.payload.messages.filter((m: any) => m.role === "user").map((m: any) => m.text)).toEqual(["once"])
      const idem = await c.request("chat.history", { sessionKey: "idem" })
      expect(idem.payload.messages.map((m: any) => `${m.role}:${m.text}`)).toEqual([
        "user:hi",
        "assistant:Echo: hi",
        "user:note"
      ])
      // A different key acts again.
      const other = await c.request("send", { to: "idem", message: "note", idempotencyKey: "s-2" })
      expect(other.payload.messageId).not.toBe(sent1.payload.messageId)
      c.ws.close()
    }))

  it("requires idempotencyKey, operator.write for send/agent/chat.send, operator.read for history", () =>
    withGateway({}, async (gw) => {
      const w = await authenticated(gw.url, WRITE)
      for (const method of ["agent", "chat.send", "send"]) {
        const r = await w.request(method, { message: "x", to: "main" })
        expect(r.ok, method).toBe(false)
        expect(r.error).toMatchObject({ code: "INVALID_REQUEST", details: { code: "IDEMPOTENCY_KEY_REQUIRED" } })
        expect(r.error.message).toContain(`${method} needs params.idempotencyKey`)
      }
      expect((await w.request("agent", { idempotencyKey: "k" })).error.message).toContain("agent needs params.message")
      const r = await authenticated(gw.url, { scopes: ["operator.read"] })
      for (const method of ["agent", "chat.send", "send", "chat.abort"]) {
        const res = await r.request(method, { message: "x", to: "main", idempotencyKey: `r-${method}` })
        expect(res.error).toMatchObject({ code: "FORBIDDEN", message: "missing scope: operator.write" })
      }
      expect((await r.request("chat.history", {})).ok).toBe(true)
      expect((await r.request("sessions.list", {})).ok).toBe(true)
      w.ws.close()
      r.ws.close()
    }))

  it("send delivers into a session without running the agent and broadcasts a chat event", () =>
    withGateway({}, async (gw) => {
      const c = await authenticated(gw.url, WRITE)
      const watcher = await authenticated(gw.url)
      const res = await c.request("send", { to: "inbox", message: "from a script", idempotencyKey: "send-1" })
      expect(res.payload).toMatchObject({ sessionKey: "inbox" })
      const ev = await watcher.waitFor(() =>
        watcher.frames.find((f) => f.event === "chat" && f.payload.sessionKey === "inbox")
      )
      expect(ev.payload).toMatchObject({
        state: "final",
        source: "send",
        message: { role: "user", text: "from a script", id: res.payload.messageId }
      })
      await new Promise((r) => setTimeout(r, 300))
      expect(c.frames.some((f) => f.event === "agent")).toBe(false)
      const list = await c.request("sessions.list")
      expect(list.payload.sessions.find((s: any) => s.key === "inbox")).toMatchObject({
        messageCount: 1,
        hasActiveRun: false
      })
      c.ws.close()
      watcher.ws.close()
    }))

  it("agent.wait returns the result of a chat.send run; unknown runs are an error", () =>
    withGateway({}, async (gw) => {
      const c = await authenticated(gw.url, WRITE)
      const sent = await c.request("chat.send", { sessionKey: "w", message: "wait for me", idempotencyKey: "w-1" })
      expect(sent.payload).toMatchObject({ status: "started", sessionKey: "w" })
      const waited = await c.request("agent.wait", { runId: sent.payload.runId, timeoutMs: 10_000 })
      expect(waited.payload).toMatchObject({
        status: "ok",
        runId: sent.payload.runId,
        result: { text: "Echo: wait for me" }
      })
      const unknown = await c.request("agent.wait", { runId: "nope" })
      expect(unknown.error).toMatchObject({ code: "INVALID_REQUEST", details: { code: "RUN_NOT_FOUND" } })
      c.ws.close()
    }))
})

describe("sessions on disk", () => {
  it("keeps every message across a restart, and skips a torn last line with a warning", async () => {
    const stateDir = tempDir()
    await withGateway({ stateDir }, async (gw) => {
      const c = await authenticated(gw.url, WRITE)
      c.send({
        type: "req",
        id: "p",
        method: "agent",
        params: { sessionKey: "keep", message: "remember this", idempotencyKey: "p1" }
      })
      await nthResponse(c, "p", 2)
      await c.request("send", { to: "keep", message: "and this", idempotencyKey: "p2" })
      c.ws.close()
    })
    const file = path.join(stateDir, "sessions", "keep.jsonl")
    expect(fs.readFileSync(file, "utf8").trim().split("\n")).toHaveLength(3)
    // A write cut short by a crash.
    fs.appendFileSync(file, '{"id":"x","sessionKey":"keep","role":"assis')
    const loaded = readTranscript(file)
    expect(loaded.messages.map((m) => m.text)).toEqual(["remember this", "Echo: remember this", "and this"])
    expect(loaded.warnings).toEqual([expect.stringContaining("skipped a torn last line")])
    await withGateway({ stateDir }, async (gw) => {
      const c = await authenticated(gw.url, WRITE)
      const history = await c.request("chat.history", { sessionKey: "keep" })
      expect(history.payload.messages.map((m: any) => m.text)).toEqual([
        "remember this",
        "Echo: remember this",
        "and this"
      ])
      // The next append starts on a fresh line, so the file stays readable.
      await c.request("send", { to: "keep", message: "after the crash", idempotencyKey: "p3" })
      c.ws.close()
    })
    const after = readTranscript(file)
    expect(after.messages.map((m) => m.text)).toEqual([
      "remember this",
      "Echo: remember this",
      "and this",
      "after the crash"
    ])
    expect(after.warnings).toEqual([expect.stringContaining("skipped line 4")])
  })

  it("session keys with slashes or dots stay inside the sessions directory", async () => {
    const stateDir = tempDir()
    await withGateway({ stateDir }, async (gw) => {
      const c = await authenticated(gw.url, WRITE)
      await c.request("send", { to: "../../escape", message: "x", idempotencyKey: "e1" })
      await c.request("send", { to: "agent:ops:telegram/123", message: "y", idempotencyKey: "e2" })
      c.ws.close()
    })
    const files = fs.readdirSync(path.join(stateDir, "sessions")).sort()
    expect(files).toEqual(["%2E%2E%2F%2E%2E%2Fescape.jsonl", "agent%3Aops%3Atelegram%2F123.jsonl"])
    // Nothing escaped: besides the sessions, the state dir holds only the Gateway's audit log.
    expect(fs.readdirSync(stateDir).sort()).toEqual(["logs", "sessions"])
    expect(fs.readdirSync(path.join(stateDir, "logs"))).toEqual(["audit.jsonl"])
  })
})

describe("openai-compatible provider against a local fake SSE server", () => {
  let server: http.Server
  let baseUrl: string
  const requests: Array<{ headers: http.IncomingHttpHeaders; body: any; url: string }> = []
  /** How the fake answers: "ok" streams three chunks slowly; "401" refuses. */
  let behaviour: "ok" | "401" | "slow" = "ok"

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let raw = ""
      req.on("data", (d) => (raw += d))
      req.on("end", async () => {
        requests.push({ headers: req.headers, body: JSON.parse(raw), url: req.url ?? "" })
        if (behaviour === "401") {
          res.writeHead(401, { "content-type": "application/json" })
          return res.end(JSON.stringify({ error: { message: "Incorrect API key provided: sk-test-secret-value" } }))
        }
        res.writeHead(200, { "content-type": "text/event-stream" })
        const pieces =
          behaviour === "slow" ? ["slow ", "reply ", "that ", "never ", "ends ", "soon"] : ["Hello", ", ", "world"]
        for (const p of pieces) {
          if (res.destroyed) return
          res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: p } }] })}\n\n`)
          await new Promise((r) => setTimeout(r, behaviour === "slow" ? 400 : 30))
        }
        res.end("data: [DONE]\n\n")
      })
    })
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
    baseUrl = `http://127.0.0.1:${(server.address() as any).port}/v1`
    process.env.OC_TEST_OPENAI_KEY = "sk-test-secret-value"
  })
  afterAll(() => {
    server.close()
    delete process.env.OC_TEST_OPENAI_KEY
  })

  // As the CLI resolves them: apiKeyEnv looked up in the environment it passes (process.env).
  const openai = (apiKeyEnv = "OC_TEST_OPENAI_KEY") => ({
    agent: resolveAgentSettings(
      { agent: { provider: { kind: "openai", baseUrl, model: "test-model", apiKeyEnv } } },
      "/x/openclaw.json",
      process.env
    )
  })

  it("streams the model's SSE reply; sends the model, history and the key from the environment only", () =>
    withGateway(openai(), async (gw) => {
      behaviour = "ok"
      const c = await authenticated(gw.url, WRITE)
      c.send({ type: "req", id: "o1", method: "agent", params: { message: "hi model", idempotencyKey: "o1" } })
      const final = await nthResponse(c, "o1", 2)
      expect(final.payload).toMatchObject({ status: "ok", result: { text: "Hello, world", provider: "openai" } })
      const runId = final.payload.runId
      expect(
        chatEvents(c, runId)
          .filter((f) => f.payload.state === "delta")
          .map((f) => f.payload.delta)
      ).toEqual(["Hello", ", ", "world"])
      c.send({ type: "req", id: "o2", method: "agent", params: { message: "again", idempotencyKey: "o2" } })
      await nthResponse(c, "o2", 2)
      const last = requests[requests.length - 1]!
      expect(last.url).toBe("/v1/chat/completions")
      expect(last.headers.authorization).toBe("Bearer sk-test-secret-value")
      expect(last.body).toMatchObject({ model: "test-model", stream: true })
      expect(last.body.messages).toEqual([
        { role: "user", content: "hi model" },
        { role: "assistant", content: "Hello, world" },
        { role: "user", content: "again" }
      ])
      const status = await c.request("status")
      expect(status.payload.agent).toMatchObject({ provider: "openai", model: "test-model" })
      expect(JSON.stringify(status.payload)).not.toContain("sk-test-secret-value")
      c.ws.close()
    }))

  it("a refused key fails the run with the provider's message and a hint, the key redacted", () =>
    withGateway(openai(), async (gw) => {
      behaviour = "401"
      const c = await authenticated(gw.url, WRITE)
      c.send({ type: "req", id: "e1", method: "agent", params: { message: "hi", idempotencyKey: "e1" } })
      const final = await nthResponse(c, "e1", 2)
      expect(final.payload.status).toBe("error")
      expect(final.payload.error).toContain("HTTP 401")
      expect(final.payload.error).toContain("check the API key in OC_TEST_OPENAI_KEY")
      expect(final.payload.error).not.toContain("sk-test-secret-value")
      const errorEvent = chatEvents(c, final.payload.runId).find((f) => f.payload.state === "error")
      expect(errorEvent.payload.errorMessage).toBe(final.payload.error)
      c.ws.close()
    }))

  it("a missing key variable is named in the error; an unreachable server says to check baseUrl", async () => {
    await withGateway(openai("OC_TEST_UNSET_KEY"), async (gw) => {
      const c = await authenticated(gw.url, WRITE)
      c.send({ type: "req", id: "m1", method: "agent", params: { message: "hi", idempotencyKey: "m1" } })
      const final = await nthResponse(c, "m1", 2)
      expect(final.payload.error).toContain(
        "agent.provider.apiKeyEnv names OC_TEST_UNSET_KEY, but that environment variable is not set"
      )
      c.ws.close()
    })
    const closed = await freePort()
    await withGateway(
      {
        agent: {
          provider: { kind: "openai", baseUrl: `http://127.0.0.1:${closed}/v1`, model: "m", apiKeyEnv: undefined }
        }
      },
      async (gw) => {
        const c = await authenticated(gw.url, WRITE)
        c.send({ type: "req", id: "u1", method: "agent", params: { message: "hi", idempotencyKey: "u1" } })
        const final = await nthResponse(c, "u1", 2)
        expect(final.payload.error).toContain(
          `cannot reach the agent provider at http://127.0.0.1:${closed}/v1/chat/completions: ECONNREFUSED (check agent.provider.baseUrl`
        )
        c.ws.close()
      }
    )
  })

  it("chat.abort stops a streaming run; the partial reply is kept, marked aborted", () =>
    withGateway(openai(), async (gw) => {
      behaviour = "slow"
      const c = await authenticated(gw.url, WRITE)
      const sent = await c.request("chat.send", { sessionKey: "ab", message: "go on", idempotencyKey: "ab1" })
      const runId = sent.payload.runId
      await c.waitFor(() => chatEvents(c, runId).find((f) => f.payload.state === "delta"))
      const listed = await c.request("sessions.list")
      expect(listed.payload.sessions.find((s: any) => s.key === "ab")).toMatchObject({
        hasActiveRun: true,
        activeRunIds: [runId]
      })
      const aborted = await c.request("chat.abort", { sessionKey: "ab" })
      expect(aborted.payload).toEqual({ ok: true, aborted: true, runIds: [runId] })
      const waited = await c.request("agent.wait", { runId })
      expect(waited.payload).toMatchObject({ status: "error", summary: "aborted", result: { aborted: true } })
      expect(waited.payload.result.text.startsWith("slow ")).toBe(true)
      expect(chatEvents(c, runId).some((f) => f.payload.state === "aborted")).toBe(true)
      const history = await c.request("chat.history", { sessionKey: "ab" })
      expect(history.payload.messages[1]).toMatchObject({ role: "assistant", aborted: true })
      expect((await c.request("chat.abort", { sessionKey: "ab" })).payload.aborted).toBe(false)
      c.ws.close()
    }))
})

describe("agent config", () => {
  const resolve = (agent: unknown) =>
    resolveAgentSettings(parseConfigText(JSON.stringify({ agent }), "/x/openclaw.json", {}), "/x/openclaw.json")

  it("defaults to echo; an openai provider needs baseUrl and model, and apiKeyEnv is a variable name", () => {
    expect(resolve(undefined)).toEqual({ provider: { kind: "echo" } })
    expect(resolve({ provider: { kind: "openai", baseUrl: "http://127.0.0.1:11434/v1/", model: "llama3" } })).toEqual({
      provider: { kind: "openai", baseUrl: "http://127.0.0.1:11434/v1", model: "llama3", apiKeyEnv: undefined }
    })
    expect(() => resolve({ provider: { kind: "openai" } })).toThrow(
      /agent\.provider\.baseUrl and agent\.provider\.model are not set in \/x\/openclaw\.json/
    )
    expect(() => resolve({ provider: { kind: "openai", baseUrl: "ftp://x", model: "m" } })).toThrow(
      /agent\.provider\.baseUrl: expected an http\(s\) URL/
    )
    expect(() =>
      resolve({ provider: { kind: "openai", baseUrl: "http://x/v1", model: "m", apiKeyEnv: "sk-abc def" } })
    ).toThrow(/never put the key itself in the config/)
    expect(() => resolve({ provider: { kind: "claude" } })).toThrow(
      /agent\.provider\.kind: expected one of echo\|openai/
    )
    expect(() => resolve({ provider: { kind: "echo", apiKey: "sk-x" } })).toThrow(
      /agent\.provider\.apiKey: unknown key/
    )
  })
})

describe("echo provider", () => {
  it("splits deterministically and keeps every character", () => {
    expect(splitIntoChunks("Echo: a b c d e f g h", 4).join("")).toBe("Echo: a b c d e f g h")
    expect(splitIntoChunks("Echo: a b c d e f g h", 4)).toEqual(splitIntoChunks("Echo: a b c d e f g h", 4))
    expect(splitIntoChunks("Echo: x", 4).length).toBeGreaterThanOrEqual(2)
  })
})
