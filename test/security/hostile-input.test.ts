/**
 * Hostile input never stops the Gateway (shared/security.md section 8, issue 11): each frame
 * below ended `openclaw gateway run` before. They run against the real process, so a crash shows
 * as its exit; after each, a fresh client must still be served.
 */
import { Effect, Exit, Layer } from "effect"
import { gatewayServices } from "../../src/layers/index.js"
import { AgentRuntime, echoProvider, type Provider } from "../../src/services/agent/AgentRuntime.js"
import { GatewayConfig } from "../../src/services/config/GatewayConfig.js"
import { TailscaleExposure } from "../../src/services/tailscale-exposure/TailscaleExposure.js"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { IdempotencyCache } from "../../src/services/gateway/idempotency.js"
import { RpcError } from "../../src/services/gateway/rpc.js"
import {
  authenticated,
  connectParams,
  RawClient,
  registerScoped,
  settingsWith,
  withGateway
} from "../support/gateway.js"
import { newIdentity, nodeConnect, serveInvokes } from "../support/node.js"
import { type LiveGateway, nestedJson, sendRaw, startLiveGateway } from "../support/live-gateway.js"

const req = (id: string, method: string, paramsJson: string) =>
  `{"type":"req","id":${JSON.stringify(id)},"method":${JSON.stringify(method)},"params":${paramsJson}}`

// A Gateway process per test, so each case shows its own failure on code without the fix.
describe("hostile input against `openclaw gateway run`", { timeout: 60_000 }, () => {
  let gw: LiveGateway
  beforeEach(async () => {
    gw = await startLiveGateway(["--verbose"])
  }, 30_000)
  afterEach(async () => {
    await gw?.stop()
  })

  it("an unauthenticated 8 KiB connect frame of nested arrays closes that socket; the Gateway goes on", async () => {
    const c = await RawClient.open(gw.url)
    await c.event("connect.challenge")
    const frame = `{"type":"req","id":"c1","method":"connect","params":{"minProtocol":4,"maxProtocol":4,"client":${nestedJson(4000)}}}`
    expect(frame.length).toBeLessThan(64 * 1024)
    sendRaw(c, frame)
    const closed = await c.waitClosed()
    expect(closed.code).toBe(1008)
    expect(closed.reason).toMatch(/nested deeper than 128 levels/)
    await gw.expectServing()
  })

  it("connect errors name the field and the kind of value, never the value itself", async () => {
    const c = await RawClient.open(gw.url)
    await c.event("connect.challenge")
    sendRaw(
      c,
      `{"type":"req","id":"c1","method":"connect","params":{"minProtocol":4,"maxProtocol":4,"client":${nestedJson(100, '"secret-looking-leaf"')}}}`
    )
    const res = await c.response("c1")
    expect(res.error).toMatchObject({
      code: "INVALID_REQUEST",
      message: "invalid connect params: client: expected an object, got an array"
    })
    expect((await c.waitClosed()).code).toBe(1008)
    await gw.expectServing()
  })

  it("an unauthenticated connect whose error would quote a long non-ASCII value closes that socket; the Gateway goes on", async () => {
    // The close reason was the error message cut to 120 characters: 360 bytes here, and ws
    // throws on a reason over 123 bytes (found by the fuzzer).
    const c = await RawClient.open(gw.url)
    await c.event("connect.challenge")
    const res = await c.connect(
      connectParams({ client: { id: "x", version: "1", platform: "linux", mode: "会".repeat(60) } })
    )
    const closed = await c.waitClosed()
    await gw.expectServing()
    expect(closed.code).toBe(1008)
    expect(res.error.message).toBe(
      "invalid connect params: client.mode: expected one of webchat, cli, ui, backend, node, probe, test, got a string"
    )
  })

  it("a lone UTF-16 surrogate in send's session key is INVALID_REQUEST naming params.to; the socket stays usable", async () => {
    const op = await gw.operator()
    sendRaw(op, req("s1", "send", `{"to":"main\\ud800","message":"hi","idempotencyKey":"lone-1"}`))
    const res = await op.response("s1")
    expect(res.ok).toBe(false)
    expect(res.error.code).toBe("INVALID_REQUEST")
    expect(res.error.message).toMatch(/^invalid request: params\.to contains an unpaired UTF-16 surrogate/)
    expect((await op.request("health")).ok).toBe(true)
    op.ws.close()
    await gw.expectServing()
  })

  it("a lone surrogate in chat.send's sessionKey (and a lone low surrogate) is INVALID_REQUEST naming params.sessionKey", async () => {
    const op = await gw.operator()
    sendRaw(op, req("cs1", "chat.send", `{"sessionKey":"\\udc00x","message":"hi","idempotencyKey":"lone-2"}`))
    const res = await op.response("cs1")
    expect(res.error).toMatchObject({ code: "INVALID_REQUEST" })
    expect(res.error.message).toMatch(/params\.sessionKey contains an unpaired UTF-16 surrogate/)
    // A surrogate pair written as escapes is valid text.
    sendRaw(op, req("cs2", "send", `{"to":"pair-\\ud83d\\ude00","message":"hi","idempotencyKey":"pair-1"}`))
    expect((await op.response("cs2")).ok).toBe(true)
    op.ws.close()
    await gw.expectServing()
  })

  it("deeply nested node.invoke params close that operator's socket; the node and others go on", async () => {
    const node = await gw.node(["echo"])
    serveInvokes(node)
    const op = await gw.operator()
    sendRaw(
      op,
      req(
        "i1",
        "node.invoke",
        `{"nodeId":${JSON.stringify(gw.nodeIdentity.deviceId)},"command":"echo","idempotencyKey":"deep-1","params":${nestedJson(100_000)}}`
      )
    )
    const closed = await op.waitClosed()
    expect(closed.code).toBe(1008)
    await gw.expectServing()
    // Nesting within the limit still goes through, there and back.
    const op2 = await gw.operator()
    const res = await op2.request("node.invoke", {
      nodeId: gw.nodeIdentity.deviceId,
      command: "echo",
      idempotencyKey: "deep-2",
      params: JSON.parse(nestedJson(100))
    })
    expect(res.ok).toBe(true)
    expect(JSON.stringify(res.payload.payload.params)).toBe(nestedJson(100))
    op2.ws.close()
    node.ws.close()
  })

  it("a node answering an invoke with a deeply nested payload (or payloadJSON) fails that invoke, not the Gateway", async () => {
    const node = await gw.node(["deep", "deepjson"])
    node.ws.on("message", (d) => {
      const f = JSON.parse(d.toString())
      if (f.type !== "event" || f.event !== "node.invoke.request") return
      const { id, nodeId, command } = f.payload
      const deep = nestedJson(50_000)
      sendRaw(
        node,
        command === "deep"
          ? req(`r-${id}`, "node.invoke.result", `{"id":"${id}","nodeId":"${nodeId}","ok":true,"payload":${deep}}`)
          : req(
              `r-${id}`,
              "node.invoke.result",
              `{"id":"${id}","nodeId":"${nodeId}","ok":true,"payloadJSON":${JSON.stringify(deep)}}`
            )
      )
    })
    const op = await gw.operator()
    const viaJson = await op.request("node.invoke", {
      nodeId: gw.nodeIdentity.deviceId,
      command: "deepjson",
      idempotencyKey: "answer-1",
      timeoutMs: 10_000
    })
    expect(viaJson.error).toMatchObject({ code: "UNAVAILABLE", details: { code: "NODE_INVALID_ANSWER" } })
    expect(viaJson.error.message).toMatch(/nested deeper than/)
    const nodeHeard = await node.waitFor(() =>
      node.frames.find((f) => f.type === "res" && String(f.id).startsWith("r-") && f.ok === false)
    )
    expect(nodeHeard.error.message).toMatch(/^node\.invoke\.result: payloadJSON: JSON nested deeper than/)
    // A frame nested too deep closes the node's socket; its call fails at once.
    const direct = await op.request("node.invoke", {
      nodeId: gw.nodeIdentity.deviceId,
      command: "deep",
      idempotencyKey: "answer-2",
      timeoutMs: 10_000
    })
    expect(direct.error).toMatchObject({ code: "UNAVAILABLE", details: { code: "NODE_DISCONNECTED" } })
    expect((await node.waitClosed()).code).toBe(1008)
    op.ws.close()
    await gw.expectServing()
  })

  it("a node's error answer with an empty or odd code gives the operator a well-formed error", async () => {
    const node = await gw.node(["fail"])
    const codes = ["", "not a code\n", "INVALID_REQUEST"]
    node.ws.on("message", (d) => {
      const f = JSON.parse(d.toString())
      if (f.type !== "event" || f.event !== "node.invoke.request") return
      const code = codes[Number(JSON.parse(f.payload.paramsJSON).i)]
      node.send({
        type: "req",
        id: `r-${f.payload.id}`,
        method: "node.invoke.result",
        params: { id: f.payload.id, nodeId: f.payload.nodeId, ok: false, error: { code, message: "node says no" } }
      })
    })
    const op = await gw.operator()
    const answers = []
    for (let i = 0; i < codes.length; i++) {
      answers.push(
        (
          await op.request("node.invoke", {
            nodeId: gw.nodeIdentity.deviceId,
            command: "fail",
            idempotencyKey: `code-${i}`,
            params: { i }
          })
        ).error
      )
    }
    expect(answers.map((e) => e.code)).toEqual(["UNAVAILABLE", "UNAVAILABLE", "INVALID_REQUEST"])
    expect(answers.every((e) => e.message === "node says no" && e.details.code === "NODE_ERROR")).toBe(true)
    op.ws.close()
    node.ws.close()
  })

  it("a `__proto__` key is INVALID_REQUEST naming it", async () => {
    const op = await gw.operator()
    sendRaw(
      op,
      req("p1", "browser.request", `{"method":"POST","path":"/x","body":{"a":{"__proto__":{"polluted":true}}}}`)
    )
    const res = await op.response("p1")
    expect(res.error).toMatchObject({
      code: "INVALID_REQUEST",
      message: 'invalid request: params.body.a.__proto__ is not allowed (the key "__proto__")'
    })
    op.ws.close()
  })

  it("a session key of 200 non-ASCII characters is stored (its file name is shortened, not refused)", async () => {
    const op = await gw.operator()
    const key = "会".repeat(200)
    const sent = await op.request("send", { to: key, message: "long key", idempotencyKey: "long-key-1" })
    expect(sent.ok, JSON.stringify(sent.error)).toBe(true)
    const history = await op.request("chat.history", { sessionKey: key })
    expect(history.payload.messages.map((m: { text: string }) => m.text)).toEqual(["long key"])
    op.ws.close()
  })

  it("client ids and node display names are quoted in log lines: one event, one line", async () => {
    const forged = "evil\n[gateway] warning: forged line"
    const c = await RawClient.open(gw.url)
    await c.event("connect.challenge")
    expect(
      (await c.connect(connectParams({ client: { id: forged, version: "1", platform: "linux", mode: "cli" } }))).ok
    ).toBe(true)
    c.ws.close()
    // A node that is not this machine's own: its pairing request is logged with its display name.
    const stranger = await nodeConnect(gw.url, newIdentity(), { displayName: `laptop\n[gateway] warning: forged name` })
    expect(stranger.res.error.details.code).toBe("PAIRING_REQUIRED")
    const deadline = Date.now() + 10_000
    while (
      !/pairing requested by node/.test(gw.process.output()) ||
      !/client connected: "evil/.test(gw.process.output())
    ) {
      if (Date.now() > deadline) throw new Error(`no log lines:\n${gw.process.output()}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    const out = gw.process.output()
    expect(out).toContain(`client connected: ${JSON.stringify(forged)}`)
    expect(out).toContain(`pairing requested by node "laptop\\n[gateway] warning: forged name"`)
    expect(out.split("\n").filter((l) => l.startsWith("[gateway] warning: forged"))).toEqual([])
  })

  it("close reasons stay within 123 bytes when the problem quotes a long non-ASCII key", async () => {
    const c = await RawClient.open(gw.url)
    await c.event("connect.challenge")
    sendRaw(c, req("k1", "connect", `{"${"鍵".repeat(60)}":"\\ud800"}`))
    const res = await c.response("k1")
    expect(res.error.message).toMatch(/^invalid request: params\["鍵+"\] contains an unpaired UTF-16 surrogate/)
    const closed = await c.waitClosed()
    expect(closed.code).toBe(1008)
    expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123)
    await gw.expectServing()
  })
})

describe("in-process guards", () => {
  it("error messages quote a client's long string cut short, not whole", () =>
    withGateway({}, async (gw) => {
      const c = await authenticated(gw.url, { scopes: ["operator.admin"] })
      const unknown = await c.request("m".repeat(100_000))
      expect(unknown.error.message).toBe(`unknown method: ${"m".repeat(100)}...`)
      const node = await c.request("node.invoke", { nodeId: "n".repeat(100_000), command: "echo", idempotencyKey: "k" })
      expect(node.error.details.code).toBe("UNKNOWN_NODE")
      expect(node.error.message.length).toBeLessThan(400)
      c.ws.close()
    }))

  it("an answer that cannot be serialised is an internal-error answer for that request; the socket goes on", () =>
    withGateway({}, async (gw) => {
      const big = registerScoped(gw, "test.bigint", {
        requires: "operator.read",
        handler: () => Effect.succeed({ n: 10n })
      })
      const c = await authenticated(gw.url)
      const res = await c.request("test.bigint")
      expect(res.error).toMatchObject({ code: "UNAVAILABLE", message: "internal error in test.bigint" })
      expect((await c.request("health")).ok).toBe(true)
      c.ws.close()
      await big.close()
    }))

  it("an agent run that throws outside the provider's stream ends as an error answer, not an unhandled rejection", async () => {
    const unhandled: Array<unknown> = []
    const onUnhandled = (e: unknown) => void unhandled.push(e)
    process.on("unhandledRejection", onUnhandled)
    let broken = false
    const base = echoProvider(1)
    // An embedder's provider whose `kind` throws once the Gateway runs: read outside the stream's try.
    const provider: Provider = {
      label: "broken",
      stream: base.stream,
      get kind(): string {
        if (broken) throw new TypeError("broken provider")
        return "broken"
      }
    }
    try {
      await withGateway(
        {},
        async (gw) => {
          broken = true
          const c = await authenticated(gw.url, { scopes: ["operator.write"] })
          c.send({ type: "req", id: "a1", method: "agent", params: { message: "hi", idempotencyKey: "broken-1" } })
          const final = await c.waitFor(() => c.frames.filter((f) => f.type === "res" && f.id === "a1")[1])
          expect(final.payload).toMatchObject({ status: "error", error: "internal error in the agent run" })
          c.ws.close()
        },
        (o) =>
          gatewayServices(Layer.succeed(GatewayConfig, settingsWith(o)), {
            agent: AgentRuntime.layerWith(provider),
            exposure: TailscaleExposure.layerTest()
          })
      )
      expect(unhandled).toEqual([])
    } finally {
      process.off("unhandledRejection", onUnhandled)
    }
  })

  it("a defect in the first call is that call's failure and its repeats', never an unhandled rejection; a retry runs again", async () => {
    const unhandled: Array<unknown> = []
    const onUnhandled = (e: unknown) => void unhandled.push(e)
    process.on("unhandledRejection", onUnhandled)
    try {
      const cache = new IdempotencyCache()
      let runs = 0
      const work = Effect.suspend(() => {
        runs++
        return runs === 1 ? Effect.die(new URIError("URI malformed")) : Effect.succeed("done")
      }) as Effect.Effect<string, RpcError>
      const first = await Effect.runPromiseExit(cache.once("send", "k", work))
      expect(Exit.isFailure(first) && Exit.causeOption(first)._tag === "Some").toBe(true)
      await new Promise((r) => setTimeout(r, 50))
      expect(unhandled).toEqual([])
      const retry = await Effect.runPromise(cache.once("send", "k", work))
      expect(retry).toEqual({ value: "done", first: true })
      expect(runs).toBe(2)
    } finally {
      process.off("unhandledRejection", onUnhandled)
    }
  })
})
