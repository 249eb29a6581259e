/**
 * A scripted Gateway on 127.0.0.1 for client tests: it speaks just enough protocol v4 (challenge,
 * hello-ok) and hands every later request to the test, which decides what a hostile or broken
 * Gateway answers. It records what each connection sent (to check no secret went where it should not).
 */
import type { AddressInfo } from "node:net"
import { type WebSocket, WebSocketServer } from "ws"

export interface ScriptedRequest {
  readonly id: string
  readonly method: string
  readonly params: any
}

export interface ScriptedGateway {
  readonly url: string
  readonly port: number
  /** Every request after connect (connect params are in `connects`). */
  readonly requests: Array<ScriptedRequest>
  readonly connects: Array<any>
  /** The connections, in order. */
  readonly sockets: Array<WebSocket>
  readonly close: () => Promise<void>
}

export const send = (ws: WebSocket, frame: unknown) => ws.send(JSON.stringify(frame))

/** Sends `frames` with backpressure, so a flood does not pile up in this process's memory. */
export const flood = async (ws: WebSocket, count: number, frame: (i: number) => unknown): Promise<number> => {
  let sent = 0
  for (; sent < count && ws.readyState === ws.OPEN; sent++) {
    send(ws, frame(sent))
    while (ws.bufferedAmount > 4 * 1024 * 1024 && ws.readyState === ws.OPEN) await new Promise((r) => setTimeout(r, 2))
  }
  return sent
}

export const startScriptedGateway = async (
  onRequest: (ws: WebSocket, req: ScriptedRequest) => void,
  hello: { tickIntervalMs?: number } = {}
): Promise<ScriptedGateway> => {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 64 * 1024 * 1024 })
  await new Promise((r) => server.once("listening", r))
  const requests: Array<ScriptedRequest> = []
  const connects: Array<any> = []
  const sockets: Array<WebSocket> = []
  server.on("connection", (ws) => {
    sockets.push(ws)
    ws.on("error", () => {})
    send(ws, { type: "event", event: "connect.challenge", payload: { nonce: "n-1", ts: Date.now() } })
    ws.on("message", (d) => {
      const f = JSON.parse(d.toString())
      if (f.method === "connect") {
        connects.push(f.params)
        return send(ws, {
          type: "res",
          id: f.id,
          ok: true,
          payload: {
            type: "hello-ok",
            protocol: 4,
            server: { version: "scripted", connId: "c-1" },
            features: { methods: [], events: [] },
            snapshot: {},
            auth: { method: "token", role: "operator", scopes: f.params.scopes ?? [] },
            policy: {
              maxPayload: 25 * 1024 * 1024,
              maxBufferedBytes: 1,
              tickIntervalMs: hello.tickIntervalMs ?? 30_000
            }
          }
        })
      }
      const req = { id: f.id, method: f.method, params: f.params }
      requests.push(req)
      onRequest(ws, req)
    })
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    requests,
    connects,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.clients) c.terminate()
        server.close(() => resolve())
      })
  }
}
