/**
 * A hostile Gateway: a WebSocket server on 127.0.0.1:0 that speaks enough of protocol v4
 * (connect.challenge, hello-ok, an answer to each method the CLI calls) to put terminal escape
 * sequences, C1 and bidi controls and line breaks in every string a client shows.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { WebSocketServer, type WebSocket } from "ws"

/**
 * Everything a terminal must never receive raw: CSI (cursor up, erase line, clear screen), OSC 52
 * (write the clipboard), OSC 0 (window title), OSC 8 (a disguised link), C1 CSI, a bidi override,
 * CR and a newline that starts a fake line.
 */
export const HOSTILE =
  "kiosk\u001b[1A\u001b[2K\u001b]52;c;ZXZpbA==\u0007\u001b]0;title\u0007\u001b]8;;https://evil/\u0007x\u009b2J\u202egpj.exe\r\nFAKE LINE\u001b[2J"

/** Close reasons are at most 123 bytes. */
export const HOSTILE_SHORT = "bye\u001b[2J\u009b2J\u202e\r\nFAKE LINE"

/** The sequences a model streams, one delta each, and one ESC split from its sequence across two deltas. */
export const HOSTILE_DELTAS = [
  "Hello\n",
  "\u001b]52;c;ZXZpbA==\u0007",
  "\u001b[2J",
  "\u001b]0;title\u0007",
  "\u001b]8;;https://evil/\u0007link\u001b]8;;\u0007",
  "\u009b2J",
  "\u202egpj.exe",
  "\u001b",
  "[2K\r",
  "\nbye\n"
]

/** What raw in a terminal's output would drive it: ESC and other C0 (but \n and \t), C1, bidi and other format controls. */
export const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff]/

const h = HOSTILE

const node = {
  nodeId: `${h}-node`,
  displayName: h,
  platform: h,
  version: h,
  caps: [h],
  commands: [h, "browser.proxy"],
  pendingCaps: [h],
  pendingCommands: [h],
  connected: true,
  paired: true,
  connectedAt: Date.now(),
  pairedAt: Date.now(),
  remoteAddress: h
}

const pendingNode = {
  requestId: h,
  nodeId: h,
  displayName: h,
  platform: h,
  remoteAddress: h,
  caps: [h],
  commands: [h],
  upgrade: { caps: [h], commands: ["browser.proxy"] },
  requestedAt: Date.now(),
  expiresAt: Date.now() + 60_000
}

const browserAnswer = (path: string): unknown => {
  switch (path) {
    case "/":
      return { running: true, version: h, executablePath: h, headless: true, tabs: h, activeTab: h }
    case "/tabs":
      return { tabs: [{ tabId: h, title: h, url: h, active: true }] }
    case "/snapshot":
      return { title: h, url: h, text: `${h}\n${h}`, accessibility: h }
    default:
      return { tab: { tabId: h, title: h, url: h } }
  }
}

/** The answer to each method the CLI calls, every string hostile. */
const answers: Record<string, (params: any) => unknown> = {
  health: () => ({ ok: true, note: h }),
  status: () => ({
    version: h,
    protocol: 4,
    uptimeMs: 1000,
    bind: { mode: h, effectiveMode: h, addresses: [h], port: 1 },
    auth: { mode: h, secretSource: h, allowTailscale: true },
    tls: { enabled: true, fingerprint: h, source: h },
    exposure: { mode: "serve", state: h, url: h, wsUrl: h, route: h, reason: h },
    tailscaleUsers: [h],
    clients: 1,
    nodes: 1,
    agent: { provider: h, label: h }
  }),
  "system-presence": () => [
    { client: { id: h, mode: h, version: h }, role: h, host: h, since: Date.now(), user: { login: h } }
  ],
  "node.list": () => ({ nodes: [node] }),
  "node.describe": () => node,
  "node.pair.list": () => ({ pending: [pendingNode] }),
  "device.pair.list": () => ({
    pending: [
      {
        requestId: h,
        deviceId: h,
        displayName: h,
        platform: h,
        remoteAddress: h,
        role: h,
        requestedAt: Date.now(),
        expiresAt: Date.now() + 60_000
      }
    ],
    paired: [
      {
        deviceId: h,
        displayName: h,
        role: h,
        clientId: h,
        platform: h,
        pairedAt: Date.now(),
        lastSeenAt: Date.now(),
        lastAddress: h,
        connected: false,
        signsInWith: h,
        revoked: false
      }
    ]
  }),
  "browser.request": (params: { path?: string }) => browserAnswer(params?.path ?? "/")
}

export type HostileMode =
  /** Answers every method (an unknown one with a hostile error). */
  | "answer"
  /** Refuses the connect with a hostile message. */
  | "refuse"
  /** Refuses the connect as NOT_PAIRED with a hostile request id (what a node host sees). */
  | "pairing"
  /** Completes the handshake, then closes with a hostile reason at the first request. */
  | "close"

export interface HostileGateway {
  readonly url: string
  readonly port: number
  readonly close: () => Promise<void>
}

const send = (ws: WebSocket, frame: unknown) => ws.send(JSON.stringify(frame))

const helloOk = {
  type: "hello-ok",
  protocol: 4,
  server: { version: h, connId: h },
  features: { methods: Object.keys(answers), events: ["chat"] },
  snapshot: { uptimeMs: 1000, authMode: h },
  auth: { method: "token", role: "operator", scopes: ["operator.admin"] },
  policy: { maxPayload: 1_000_000, maxBufferedBytes: 1_000_000, tickIntervalMs: 30_000 }
}

const onRequest = (ws: WebSocket, mode: HostileMode, frame: { id: string; method: string; params?: any }) => {
  if (frame.method === "connect") {
    if (mode === "refuse")
      return send(ws, { type: "res", id: frame.id, ok: false, error: { code: "INVALID_REQUEST", message: h } })
    if (mode === "pairing")
      return send(ws, {
        type: "res",
        id: frame.id,
        ok: false,
        error: {
          code: "NOT_PAIRED",
          message: `pairing required: ${h}`,
          details: { code: "PAIRING_REQUIRED", requestId: h }
        }
      })
    return send(ws, { type: "res", id: frame.id, ok: true, payload: helloOk })
  }
  if (mode === "close") return ws.close(4000, HOSTILE_SHORT)
  if (frame.method === "agent") {
    const runId = "run-1"
    send(ws, { type: "res", id: frame.id, ok: true, payload: { status: "accepted", runId } })
    for (const delta of HOSTILE_DELTAS)
      send(ws, { type: "event", event: "chat", payload: { runId, sessionKey: "main", state: "delta", delta } })
    return send(ws, {
      type: "res",
      id: frame.id,
      ok: true,
      payload: { status: "ok", runId, result: { text: HOSTILE_DELTAS.join("") } }
    })
  }
  const answer = answers[frame.method]
  if (answer === undefined)
    return send(ws, {
      type: "res",
      id: frame.id,
      ok: false,
      error: { code: h, message: h, details: { code: h } }
    })
  send(ws, { type: "res", id: frame.id, ok: true, payload: answer(frame.params) })
}

/** Starts the hostile Gateway on 127.0.0.1, any free port. Its HTTP answers (doctor's probes) are hostile too. */
export const startHostileGateway = async (mode: HostileMode): Promise<HostileGateway> => {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" })
    // The probe answers as a Gateway's does (doctor goes on to the WebSocket steps); the rest is hostile.
    res.end(JSON.stringify(req.url === "/healthz" ? { ok: true, status: "live" } : { ok: true, status: h }))
  })
  const wss = new WebSocketServer({ server })
  wss.on("connection", (ws) => {
    send(ws, { type: "event", event: "connect.challenge", payload: { nonce: "n-1", ts: Date.now() } })
    ws.on("message", (data) => {
      let frame: any
      try {
        frame = JSON.parse(data.toString())
      } catch {
        return
      }
      if (frame?.type === "req") onRequest(ws, mode, frame)
    })
    ws.on("error", () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close()
        server.close(() => resolve())
      })
  }
}
