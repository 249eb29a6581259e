/**
 * The node host's link handling against a scripted server: a Gateway that goes silent (a laptop
 * waking from sleep behind a dead connection) is given up after two tick intervals and dialled again.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { Effect, Exit, Fiber } from "effect"
import { WebSocketServer } from "ws"
import { runNodeHost } from "../../src/services/node-host/host.js"
import { loadOrCreateIdentity } from "../../src/services/node-host/identity.js"

describe("node host link", () => {
  const cleanups: Array<() => void> = []
  afterEach(() => {
    for (const c of cleanups.splice(0)) c()
  })

  it("a Gateway silent for two tick intervals is dropped and dialled again, with backoff", async () => {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 })
    await new Promise((r) => server.once("listening", r))
    cleanups.push(() => server.close())
    const connects: Array<any> = []
    server.on("connection", (ws) => {
      ws.send(JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: "n-1", ts: Date.now() } }))
      ws.on("message", (d) => {
        const f = JSON.parse(d.toString())
        if (f.method !== "connect") return
        connects.push(f.params)
        // hello-ok with a 200 ms tick, then silence (no ticks, no answers).
        ws.send(
          JSON.stringify({
            type: "res",
            id: f.id,
            ok: true,
            payload: {
              type: "hello-ok",
              protocol: 4,
              server: { version: "x", connId: "c" },
              features: { methods: [], events: [] },
              snapshot: {},
              auth: { method: "token", role: "node", scopes: [] },
              policy: { maxPayload: 1, maxBufferedBytes: 1, tickIntervalMs: 200 }
            }
          })
        )
      })
    })
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-host-"))
    const identity = loadOrCreateIdentity(stateDir)
    expect(fs.statSync(path.join(stateDir, "identity")).mode & 0o777).toBe(0o700)
    expect(fs.statSync(identity.file).mode & 0o777).toBe(0o600)
    expect(loadOrCreateIdentity(stateDir).deviceId).toBe(identity.deviceId)
    const lines: Array<string> = []
    const { port } = server.address() as { port: number }
    const running = Effect.runFork(
      runNodeHost({
        url: `ws://127.0.0.1:${port}`,
        token: "t",
        stateDir,
        identity,
        displayName: "sleepy",
        log: (l) => lines.push(l),
        backoff: { initialMs: 100, maxMs: 400 }
      })
    )
    cleanups.push(() => void Effect.runFork(Fiber.interrupt(running)))
    const deadline = Date.now() + 8_000
    while (connects.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    const exit = await Effect.runPromise(Fiber.interrupt(running))
    expect(Exit.isInterrupted(exit)).toBe(true)
    expect(connects.length).toBeGreaterThanOrEqual(3)
    expect(connects[0]).toMatchObject({
      role: "node",
      client: { id: "node-host", mode: "node", displayName: "sleepy" },
      device: { id: identity.deviceId, nonce: "n-1" }
    })
    expect(lines.filter((l) => l.startsWith("connection to the Gateway lost (1006")).length).toBeGreaterThanOrEqual(2)
    expect(lines.some((l) => l.startsWith("reconnected to"))).toBe(true)
  })
})
