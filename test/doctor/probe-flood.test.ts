/** The doctor's frame probe against a Gateway that floods frames nobody asked for: cut off, not buffered. */
import type { AddressInfo } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { WebSocketServer } from "ws"
import { FrameProbe } from "../../src/services/doctor/probe.js"

describe("doctor frame probe", () => {
  let server: WebSocketServer | undefined
  afterEach(() => server?.close())

  it("more than 1024 unread frames close the probe with the reason; the first ones are still there", async () => {
    server = new WebSocketServer({ host: "127.0.0.1", port: 0 })
    await new Promise((r) => server!.once("listening", r))
    server.on("connection", (ws) => {
      ws.on("error", () => {})
      for (let i = 0; i < 5_000 && ws.readyState === ws.OPEN; i++)
        ws.send(JSON.stringify({ type: "event", event: "tick", payload: { i } }))
    })
    const { port } = server.address() as AddressInfo
    const { probe, upgrade } = await FrameProbe.open(`ws://127.0.0.1:${port}`, 5_000)
    expect(upgrade.ok).toBe(true)
    const deadline = Date.now() + 5_000
    while (probe.closed === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    // After the socket's own close event too.
    await new Promise((r) => setTimeout(r, 200))
    expect(probe.closed).toEqual({ code: 1008, reason: "the server sent more than 1024 frames unasked" })
    expect(await probe.next(100)).toMatchObject({ type: "event", event: "tick", payload: { i: 0 } })
    probe.close()
  })
})
