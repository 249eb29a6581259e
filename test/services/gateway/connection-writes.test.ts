/** How a Connection writes to its socket: answers given in one tick leave in one write, events at once. */
import { EventEmitter } from "node:events"
import { describe, expect, it } from "vitest"
import type WebSocket from "ws"
import { Connection, type ConnectionHost } from "../../../src/services/gateway/connection.js"

/** A ws WebSocket that records what is sent and how its socket is corked. */
const fakeSocket = () => {
  const writes: Array<string> = []
  const ws = Object.assign(new EventEmitter(), {
    readyState: 1,
    bufferedAmount: 0,
    send: (text: string | Buffer) => writes.push(`send ${JSON.parse(String(text)).id ?? "event"}`),
    close: () => {},
    terminate: () => {},
    _socket: { cork: () => writes.push("cork"), uncork: () => writes.push("uncork") }
  })
  return { ws: ws as unknown as WebSocket, writes }
}

const host = {
  handshakeTimeoutMs: 10_000,
  traced: false,
  method: (name: string) => (name === "health" ? { requires: "operator.read", sync: () => ({ ok: true }) } : undefined),
  log: () => {}
} as unknown as ConnectionHost

const readyConnection = () => {
  const { ws, writes } = fakeSocket()
  const conn = new Connection(ws, { remoteAddress: "127.0.0.1", isLocal: true, fromBrowser: false }, host)
  conn.state = "ready"
  conn.scopes = ["operator.read"]
  conn.caller = { connId: conn.connId, role: "operator", scopes: conn.scopes, clientId: "test", clientMode: "test" }
  return { ws, writes, conn }
}

const request = (id: string) => Buffer.from(JSON.stringify({ type: "req", id, method: "health" }))
const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve))

describe("Connection writes", () => {
  it("answers to requests handled in one tick are corked together and leave when the tick ends", async () => {
    const { ws, writes, conn } = readyConnection()
    writes.length = 0
    ws.emit("message", request("1"), false)
    ws.emit("message", request("2"), false)
    ws.emit("message", request("3"), false)
    expect(writes).toEqual(["cork", "send 1", "send 2", "send 3"])
    await nextTick()
    expect(writes).toEqual(["cork", "send 1", "send 2", "send 3", "uncork"])
    expect(conn.corked).toBe(false)
    // The next tick's answers are corked anew.
    ws.emit("message", request("4"), false)
    await nextTick()
    expect(writes.slice(5)).toEqual(["cork", "send 4", "uncork"])
  })

  it("events are written at once, never held back until the tick ends", () => {
    const { writes, conn } = readyConnection()
    // The challenge, sent when the connection started.
    expect(writes).toEqual(["send event"])
    conn.sendText(JSON.stringify({ type: "event", event: "tick", payload: {} }))
    expect(writes).toEqual(["send event", "send event"])
  })
})
