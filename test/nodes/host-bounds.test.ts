/**
 * A Gateway cannot pile up work on a node host: past MAX_INVOKES_IN_FLIGHT browser calls at once,
 * the rest are answered "busy" at once, and a malformed invoke is ignored (the host keeps going).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Fiber } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import type { BrowserController } from "../../src/services/node-host/browser.js"
import { MAX_INVOKES_IN_FLIGHT, runNodeHost } from "../../src/services/node-host/host.js"
import { loadOrCreateIdentity } from "../../src/services/node-host/identity.js"
import { send, startScriptedGateway, type ScriptedGateway } from "../support/scripted-gateway.js"

describe("node host bounds", () => {
  let gw: ScriptedGateway | undefined
  const cleanups: Array<() => void> = []
  afterEach(async () => {
    for (const c of cleanups.splice(0)) c()
    await gw?.close()
  })

  it("20 invokes at once: 8 run, 12 are answered busy at once; a null payload is ignored", async () => {
    const results: Array<any> = []
    gw = await startScriptedGateway((ws, req) => {
      if (req.method === "node.invoke.result") {
        results.push(req.params)
        send(ws, { type: "res", id: req.id, ok: true, payload: { ok: true } })
      }
    })
    let started = 0
    // A browser whose calls never finish (a page that never loads).
    const browser = {
      handle: () => {
        started++
        return new Promise(() => {})
      },
      close: async () => {}
    } as unknown as BrowserController
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-bounds-"))
    const lines: Array<string> = []
    const running = Effect.runFork(
      runNodeHost({
        url: gw.url,
        token: "t",
        stateDir,
        identity: loadOrCreateIdentity(stateDir),
        displayName: "bounded",
        browser,
        log: (l) => lines.push(l)
      })
    )
    cleanups.push(() => void Effect.runFork(Fiber.interrupt(running)))
    const deadline = Date.now() + 10_000
    while (!lines.some((l) => l.startsWith("connected")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20))
    expect(lines.some((l) => l.startsWith("connected"))).toBe(true)
    expect(gw.sockets.length).toBe(1)
    const socket = gw.sockets[0]!
    send(socket, { type: "event", event: "node.invoke.request", payload: null })
    for (let i = 0; i < 20; i++)
      send(socket, {
        type: "event",
        event: "node.invoke.request",
        payload: { id: `inv-${i}`, nodeId: "n", command: "browser.proxy", paramsJSON: "{}" }
      })
    while (results.length < 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(started).toBe(MAX_INVOKES_IN_FLIGHT)
    expect(results).toHaveLength(20 - MAX_INVOKES_IN_FLIGHT)
    expect(results[0]).toMatchObject({ ok: false, error: { code: "UNAVAILABLE" } })
    expect(results[0].error.message).toContain("the node host is busy")
    expect(lines.filter((l) => l.startsWith("connection to the Gateway lost"))).toEqual([])
  })
})
