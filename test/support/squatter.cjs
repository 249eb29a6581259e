// A port squatter: another local user's program listening on 127.0.0.1:<argv[2]> that plays
// Gateway (GET /healthz, then the WebSocket challenge, then waits for connect) and prints every
// request and frame it receives, one per line. Run as another user (setpriv --reuid=nobody ...);
// CommonJS so it needs no loader.
const http = require("node:http")
// ws from node_modules beside this copy (test/support/other-user.ts readableCopy puts it there).
const { WebSocketServer } = require("ws")

const server = http.createServer((req, res) => {
  process.stdout.write(`http ${req.method} ${req.url} ${JSON.stringify(req.headers)}\n`)
  res.writeHead(200, { "content-type": "application/json" })
  res.end(JSON.stringify({ ok: true, status: "live" }))
})
const wss = new WebSocketServer({ server })
wss.on("connection", (ws, req) => {
  process.stdout.write(`connection ${JSON.stringify(req.headers)}\n`)
  ws.send(JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: "squat", ts: Date.now() } }))
  ws.on("message", (d) => process.stdout.write(`frame ${d.toString()}\n`))
})
server.listen(Number(process.argv[2]), "127.0.0.1", () => process.stdout.write("listening\n"))
