/**
 * `openclaw gateway agent` against a hostile Gateway: whatever it sends, the CLI's memory stays
 * bounded (it runs here with a 64 MB heap, which each flood below would blow on an unbounded
 * client), its failures are one message without a stack, and a silent Gateway or an endless run
 * ends within --timeout / --run-timeout.
 */
import { spawn } from "node:child_process"
import type { AddressInfo } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { WebSocketServer } from "ws"
import { RpcClient } from "../../src/client/rpc-client.js"
import { BIN, cliEnv, tempStateDir } from "../support/cli.js"
import { flood, type ScriptedGateway, send, startScriptedGateway } from "../support/scripted-gateway.js"

const TOKEN = "bounded-agent-token-5d1e"

interface Run {
  readonly code: number | null
  readonly stdoutBytes: number
  readonly stdoutTail: string
  readonly stderr: string
  readonly ms: number
}

/** The CLI with a small heap; stdout is counted, not kept (a flood may pass through it). */
const agent = (gw: ScriptedGateway, extra: ReadonlyArray<string> = [], timeoutMs = 60_000) =>
  new Promise<Run>((resolve) => {
    const started = Date.now()
    const child = spawn(BIN, ["gateway", "agent", "-m", "hi", "--url", gw.url, "--token", TOKEN, ...extra], {
      env: cliEnv(tempStateDir(), { NODE_OPTIONS: "--max-old-space-size=64" }),
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdoutBytes = 0
    let stdoutTail = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => {
      stdoutBytes += d.length
      stdoutTail = (stdoutTail + d.toString()).slice(-200)
    })
    child.stderr.on("data", (d) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.once("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdoutBytes, stdoutTail, stderr, ms: Date.now() - started })
    })
  })

/** No stack trace, no V8 fatal error: the README's promise for every failure. */
const expectNoStack = (stderr: string) => {
  expect(stderr).not.toMatch(/^\s+at /m)
  expect(stderr).not.toMatch(/RangeError|FATAL ERROR|heap out of memory/)
}

const final = (id: string, text: string) => ({
  type: "res",
  id,
  ok: true,
  payload: { runId: "run-1", status: "ok", result: { text } }
})

describe("gateway agent against a hostile Gateway", { timeout: 90_000 }, () => {
  let gw: ScriptedGateway | undefined
  afterEach(async () => {
    await gw?.close()
    gw = undefined
  })

  it("a flood of chat events before the run is accepted (190 MB) is held in a small bounded queue", async () => {
    const chunk = "x".repeat(64 * 1024)
    let flooded = 0
    gw = await startScriptedGateway((ws, req) => {
      if (req.method !== "agent") return
      void (async () => {
        flooded = await flood(ws, 3_000, (i) => ({
          type: "event",
          event: "chat",
          payload: { runId: `other-${i}`, sessionKey: "main", state: "delta", delta: chunk }
        }))
        send(ws, { type: "res", id: req.id, ok: true, payload: { status: "accepted", runId: "run-1" } })
        send(ws, final(req.id, "The final answer."))
      })()
    })
    const r = await agent(gw)
    expectNoStack(r.stderr)
    expect(flooded).toBe(3_000)
    expect(r.code).toBe(0)
    expect(r.stdoutTail).toBe("The final answer.\n")
  })

  it("an endless reply is printed as it streams, stopped at its cap with one message, and the run is aborted", async () => {
    const chunk = "y".repeat(64 * 1024)
    gw = await startScriptedGateway((ws, req) => {
      if (req.method === "chat.abort") return send(ws, { type: "res", id: req.id, ok: true, payload: { ok: true } })
      if (req.method !== "agent") return
      send(ws, { type: "res", id: req.id, ok: true, payload: { status: "accepted", runId: "run-1" } })
      // Until the client hangs up: far past the 670 MB at which one growing string broke V8.
      void flood(ws, 20_000, () => ({
        type: "event",
        event: "chat",
        payload: { runId: "run-1", sessionKey: "main", state: "delta", delta: chunk }
      }))
    })
    const r = await agent(gw)
    expectNoStack(r.stderr)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("Gateway agent failed: the agent's reply passed 8388608 characters without ending")
    // Printed as it came, up to the cap.
    expect(r.stdoutBytes).toBeGreaterThan(8_000_000)
    expect(r.stdoutBytes).toBeLessThanOrEqual(8_388_608 + 100)
    expect(gw.requests.map((q) => q.method)).toContain("chat.abort")
    expect(gw.requests.find((q) => q.method === "chat.abort")?.params).toMatchObject({ runId: "run-1" })
  })

  it("a Gateway that accepts the run and then falls silent is given up after --timeout, not 10 minutes", async () => {
    gw = await startScriptedGateway(
      (ws, req) => {
        if (req.method === "agent")
          send(ws, { type: "res", id: req.id, ok: true, payload: { status: "accepted", runId: "run-1" } })
      },
      { tickIntervalMs: 1_000 }
    )
    const r = await agent(gw, ["--timeout", "3000"], 30_000)
    expectNoStack(r.stderr)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      "Gateway agent failed: the Gateway sent nothing for 3000 ms during the agent run (--timeout"
    )
    expect(r.stderr).toContain("Hint: the Gateway stopped answering")
    expect(r.ms).toBeLessThan(20_000)
  })

  it("a run that goes on (the Gateway ticking, the model never done) ends at --run-timeout", async () => {
    gw = await startScriptedGateway(
      (ws, req) => {
        if (req.method !== "agent") return
        send(ws, { type: "res", id: req.id, ok: true, payload: { status: "accepted", runId: "run-1" } })
        const tick = setInterval(() => {
          if (ws.readyState !== ws.OPEN) return clearInterval(tick)
          send(ws, { type: "event", event: "tick", payload: { ts: Date.now() } })
        }, 300)
      },
      { tickIntervalMs: 300 }
    )
    const r = await agent(gw, ["--timeout", "2000", "--run-timeout", "4000"], 30_000)
    expectNoStack(r.stderr)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("the agent run did not finish within 4000 ms (--run-timeout)")
    expect(r.ms).toBeGreaterThan(3_500)
    expect(r.ms).toBeLessThan(20_000)
  })

  it("a second accepted answer cannot switch the stream to another run; a null final payload is a failed run", async () => {
    gw = await startScriptedGateway((ws, req) => {
      if (req.method !== "agent") return
      send(ws, { type: "res", id: req.id, ok: true, payload: { status: "accepted", runId: "run-1" } })
      send(ws, { type: "event", event: "chat", payload: { runId: "run-1", state: "delta", delta: "mine " } })
      send(ws, { type: "res", id: req.id, ok: true, payload: { status: "accepted", runId: "run-2" } })
      send(ws, { type: "event", event: "chat", payload: { runId: "run-2", state: "delta", delta: "theirs" } })
      send(ws, { type: "res", id: req.id, ok: true, payload: null })
    })
    const r = await agent(gw)
    expectNoStack(r.stderr)
    expect(r.stdoutTail).toBe("mine \n")
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("The agent run  failed: no reason given")
  })
})

describe("the RPC client's handshake against a hostile Gateway", () => {
  it("a repeated challenge gets no second connect (and no second copy of the token)", async () => {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 })
    await new Promise((r) => server.once("listening", r))
    const connects: Array<string> = []
    server.on("connection", (ws) => {
      for (let i = 0; i < 3; i++)
        send(ws, { type: "event", event: "connect.challenge", payload: { nonce: `n-${i}`, ts: Date.now() } })
      ws.on("message", (d) => connects.push(d.toString()))
    })
    const { port } = server.address() as AddressInfo
    const attempt = RpcClient.connect({ url: `ws://127.0.0.1:${port}`, token: TOKEN, timeoutMs: 1_000 })
    await expect(attempt).rejects.toThrow(/no answer from the Gateway/)
    expect(connects).toHaveLength(1)
    server.close()
  })
})
