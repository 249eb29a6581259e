// Baseline for the RPC benchmark: a bare `ws` server that speaks just enough protocol v4
// (challenge, connect -> hello-ok, health, and `send` broadcast as a chat event to every client)
// with no auth, schema, scopes or dispatch.
import { randomUUID } from "node:crypto"
import { WebSocketServer } from "ws"

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false })
wss.on("listening", () => console.log(`listening on ws://127.0.0.1:${wss.address().port}`))
wss.on("connection", (ws) => {
  ws.send(
    JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: randomUUID(), ts: Date.now() } })
  )
  ws.on("message", (data) => {
    const req = JSON.parse(data.toString())
    if (req.method === "send") {
      const event = JSON.stringify({
        type: "event",
        event: "chat",
        payload: { sessionKey: req.params.to, state: "final", message: req.params.message }
      })
      for (const client of wss.clients) client.send(event)
    }
    const payload =
      req.method === "connect"
        ? {
            type: "hello-ok",
            protocol: 4,
            server: { version: "bare", connId: randomUUID() },
            features: { methods: ["health"], events: [] },
            snapshot: {},
            auth: { method: "token", role: "operator", scopes: ["operator.read"] },
            policy: {}
          }
        : { ok: true, ts: Date.now(), durationMs: 0 }
    ws.send(JSON.stringify({ type: "res", id: req.id, ok: true, payload }))
  })
})
