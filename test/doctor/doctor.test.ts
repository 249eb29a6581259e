/**
 * `openclaw doctor` end to end: the real CLI against real Gateways and real look-alikes. Each
 * broken link is induced for real, and each test asserts that exactly that step is the first to
 * fail, with its fix. The secrets in play must never appear in the output.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { RawClient, connectParams } from "../support/gateway.js"

const TOKEN = "doctor-token-0123456789abcdef-SECRET"
const PASSWORD = "doctor-password-0123456789-SECRET"

interface Step {
  id: string
  ok: boolean | null
  ms: number
  detail: string
  fix?: string
}
interface Report {
  ok: boolean
  target: Record<string, unknown>
  steps: Array<Step>
}

const doctor = async (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, secrets: ReadonlyArray<string> = []) => {
  const json = await runCli(["doctor", "--json", ...args], env, 30_000)
  const text = await runCli(["doctor", ...args], env, 30_000)
  for (const secret of [...secrets, TOKEN, PASSWORD]) {
    expect(json.stdout + json.stderr + text.stdout + text.stderr).not.toContain(secret)
  }
  const report = JSON.parse(json.stdout) as Report
  expect(json.code).toBe(report.ok ? 0 : 1)
  expect(text.code).toBe(json.code)
  return { report, text: text.stdout, code: json.code }
}

/** The first failing step, after checking that every step before it passed or did not apply and all after it were skipped. */
const firstFailure = (report: Report): Step => {
  const i = report.steps.findIndex((s) => s.ok === false)
  expect(i, JSON.stringify(report.steps, null, 1)).toBeGreaterThanOrEqual(0)
  for (const s of report.steps.slice(i + 1)) expect(s.ok).toBeNull()
  return report.steps[i]!
}

const ids = (report: Report) => report.steps.map((s) => s.id)

const PATH_STEPS = [
  "config",
  "target",
  "ssh",
  "gateway",
  "dns",
  "tcp",
  "tls",
  "http",
  "upgrade",
  "challenge",
  "auth",
  "scopes",
  "rpc"
]

const withConfig = (gateway: Record<string, unknown>, extra: Record<string, string> = {}) => {
  const dir = tempStateDir()
  fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway }), { mode: 0o600 })
  return { dir, env: cliEnv(dir, extra) }
}

const listen = (server: net.Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port))
  )

describe("openclaw doctor", { timeout: 120_000 }, () => {
  let gw: GatewayProcess
  let port: number
  let local: ReturnType<typeof withConfig>

  beforeAll(async () => {
    local = withConfig({ port: await freePort(), auth: { mode: "token", token: TOKEN } })
    gw = await startGateway([], local.env)
    port = gw.port
  })
  afterAll(async () => {
    await gw?.stop()
  })

  it("a healthy local Gateway passes every step, the Gateway-host checks included, and the table says so", async () => {
    const { report, text, code } = await doctor([], local.env)
    expect(code).toBe(0)
    expect(report.ok).toBe(true)
    expect(ids(report)).toEqual([...PATH_STEPS, "process", "state", "exposure", "audit"])
    for (const s of report.steps) expect(s.ok, `${s.id}: ${s.detail}`).toBe(["ssh", "tls"].includes(s.id) ? null : true)
    expect(report.target).toMatchObject({
      url: `ws://127.0.0.1:${port}`,
      transport: "direct",
      credential: "token (from gateway.auth.token)",
      local: true
    })
    expect(report.steps.find((s) => s.id === "process")!.detail).toContain(`PID ${gw.child.pid}`)
    expect(report.steps.find((s) => s.id === "process")!.detail).toContain(`listens on port ${port}`)
    expect(report.steps.find((s) => s.id === "process")!.detail).toContain(
      `matches ${path.join(local.dir, "gateway-runtime.json")}`
    )
    expect(report.steps.find((s) => s.id === "rpc")!.detail).toMatch(/^health ok, round trip \d+ ms/)
    expect(text).toContain("All checks passed.")
    expect(text.split("\n").filter((l) => /^\s+ok\s/.test(l))).toHaveLength(15)
  })

  it("finds a Gateway started with --port through its runtime record, as every client command does", async () => {
    const p = await freePort()
    const remembered = withConfig({ auth: { mode: "token", token: TOKEN } })
    const g = await startGateway(["--port", String(p)], remembered.env)
    try {
      const { report, code } = await doctor([], remembered.env)
      expect(code).toBe(0)
      expect(report.target).toMatchObject({ url: `ws://127.0.0.1:${p}` })
      expect(String(report.target.source)).toContain(`running Gateway, PID ${g.child.pid}, port ${p}`)
      expect(report.steps.find((s) => s.id === "process")!.detail).toContain("matches")
    } finally {
      await g.stop()
    }
  })

  it("tcp: a closed port is refused, told apart from a timeout, with the setting to check", async () => {
    const closed = await freePort()
    const { report, text } = await doctor(["--url", `ws://127.0.0.1:${closed}`, "--token", TOKEN], local.env)
    const f = firstFailure(report)
    expect(f.id).toBe("tcp")
    expect(f.detail).toContain("refused the connection (ECONNREFUSED)")
    expect(f.fix).toContain("the host and port in --url")
    expect(text).toMatch(/FAIL tcp .*refused/)
    expect(text).toMatch(/fix: +start the Gateway there/)
  })

  it("dns: a name that does not resolve", async () => {
    const { report } = await doctor(["--url", "wss://no-such-gateway.invalid:18789", "--token", TOKEN], local.env)
    const f = firstFailure(report)
    expect(f.id).toBe("dns")
    expect(f.detail).toBe("no-such-gateway.invalid does not resolve (ENOTFOUND)")
    expect(f.fix).toContain("check the host name in --url")
  })

  it("target: plaintext ws:// to a public address is refused as the client would", async () => {
    const { report } = await doctor(["--url", "ws://203.0.113.7:18789", "--token", TOKEN], local.env)
    const f = firstFailure(report)
    expect(f.id).toBe("target")
    expect(f.fix).toContain("uses plaintext ws:// to a non-loopback address")
  })

  it("http: a plain web server on the port is named as such", async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(404, { "Content-Type": "text/html", Server: "nginx/1.24.0" })
      res.end("<h1>Not Found</h1>")
    })
    const p = await listen(server)
    try {
      const { report } = await doctor(["--url", `ws://127.0.0.1:${p}`, "--token", TOKEN], local.env)
      const f = firstFailure(report)
      expect(f.id).toBe("http")
      expect(f.detail).toBe('GET /healthz answered HTTP 404 (text/html) from "nginx/1.24.0": not an OpenClaw Gateway')
      expect(f.fix).toContain(`something other than an OpenClaw Gateway listens on 127.0.0.1:${p}`)
    } finally {
      server.close()
    }
  })

  it("upgrade: an HTTP server that answers /healthz like a Gateway but refuses the WebSocket", async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" })
      res.end('{"ok":true,"status":"live"}')
    })
    server.on("upgrade", (_req, socket) => {
      const body = JSON.stringify({ ok: false, error: 'host "gw.example" is not one of this Gateway\'s names' })
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`
      )
    })
    const p = await listen(server)
    try {
      const { report } = await doctor(["--url", `ws://127.0.0.1:${p}`, "--token", TOKEN], local.env)
      const f = firstFailure(report)
      expect(f.id).toBe("upgrade")
      expect(f.detail).toBe(
        'the upgrade was refused with HTTP 403: host "gw.example" is not one of this Gateway\'s names'
      )
      expect(f.fix).toContain("connect with a name the Gateway knows as its own")
    } finally {
      server.close()
    }
  })

  it("challenge: a WebSocket server that is not a protocol v4 Gateway", async () => {
    const { WebSocketServer } = await import("ws")
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" })
      res.end('{"ok":true,"status":"live"}')
    })
    const wss = new WebSocketServer({ server })
    wss.on("connection", (ws) => ws.send(JSON.stringify({ hello: "world" })))
    const p = await listen(server)
    try {
      const { report } = await doctor(
        ["--url", `ws://127.0.0.1:${p}`, "--token", TOKEN, "--timeout", "3000"],
        local.env
      )
      const f = firstFailure(report)
      expect(f.id).toBe("challenge")
      expect(f.detail).toBe("the first frame was not protocol JSON, not connect.challenge")
      expect(f.fix).toContain("protocol v4")
    } finally {
      wss.close()
      server.close()
    }
  })

  it("auth: a wrong token names where it came from and the setting to change, never the value", async () => {
    const remote = withConfig({
      mode: "remote",
      remote: { url: `ws://127.0.0.1:${port}`, token: "wrong-remote-token-SECRET" }
    })
    const { report } = await doctor([], remote.env, ["wrong-remote-token-SECRET"])
    const f = firstFailure(report)
    expect(f.id).toBe("auth")
    expect(f.detail).toBe(
      "token mismatch: sent token (from gateway.remote.token), the Gateway has another (AUTH_TOKEN_MISMATCH)"
    )
    expect(f.fix).toContain("set gateway.remote.token to the server's gateway.auth.token (or pass --token)")
    expect(report.target).toMatchObject({
      source: "gateway.remote.url",
      credential: "token (from gateway.remote.token)",
      local: false
    })
  })

  it("auth: no credential at all is 'missing', not 'mismatch'", async () => {
    const remote = withConfig({ mode: "remote", remote: { url: `ws://127.0.0.1:${port}` } })
    const { report } = await doctor([], remote.env)
    const f = firstFailure(report)
    expect(f.id).toBe("auth")
    expect(f.detail).toContain("token missing: the Gateway wants its token and got none (AUTH_TOKEN_MISSING)")
    expect(f.fix).toContain("set gateway.remote.token to the server's gateway.auth.token")
  })

  it("auth: a wrong password against a password Gateway", async () => {
    const pw = withConfig({ port: await freePort(), auth: { mode: "password", password: PASSWORD } })
    const g = await startGateway([], pw.env)
    try {
      const { report } = await doctor(
        ["--url", `ws://127.0.0.1:${g.port}`, "--password", "not-the-password-SECRET"],
        local.env,
        ["not-the-password-SECRET"]
      )
      const f = firstFailure(report)
      expect(f.id).toBe("auth")
      expect(f.detail).toBe(
        "password mismatch: sent password (from --password), the Gateway has another (AUTH_PASSWORD_MISMATCH)"
      )
      expect(f.fix).toContain("set gateway.remote.password to the server's gateway.auth.password (or pass --password)")
    } finally {
      await g.stop()
    }
  })

  it("auth: a client locked out by the rate limiter is told to wait, even with the right token", async () => {
    // Behind a same-host proxy (as Tailscale Serve forwards) clients are not local, so wrong
    // secrets lock the address out rather than slow it down.
    const limited = withConfig({
      port: await freePort(),
      auth: { mode: "token", token: TOKEN, rateLimit: { maxAttempts: 2, windowMs: 60_000, lockoutMs: 120_000 } }
    })
    const g = await startGateway([], limited.env)
    const proxy = net.createServer((client) => {
      const upstream = net.connect({ host: "127.0.0.1", port: g.port })
      client.once("data", (first: Buffer) => {
        const text = first.toString("latin1")
        const eol = text.indexOf("\r\n")
        upstream.write(Buffer.from(`${text.slice(0, eol)}\r\nX-Forwarded-For: 100.64.0.9${text.slice(eol)}`, "latin1"))
        client.pipe(upstream).pipe(client)
      })
      client.on("error", () => upstream.destroy())
      upstream.on("error", () => client.destroy())
    })
    const p = await listen(proxy)
    try {
      for (let i = 0; i < 2; i++) {
        const c = await RawClient.open(`ws://127.0.0.1:${p}`)
        await c.event("connect.challenge")
        const res = await c.connect(connectParams({ auth: { token: "guess" } }))
        expect(res.error.details.code).toBe("AUTH_TOKEN_MISMATCH")
        c.ws.close()
      }
      const { report } = await doctor(["--url", `ws://127.0.0.1:${p}`, "--token", TOKEN], local.env)
      const f = firstFailure(report)
      expect(f.id).toBe("auth")
      expect(f.detail).toMatch(
        /^rate-limited: too many wrong attempts from this address; the Gateway refuses every try for 1[12]\d s \(AUTH_RATE_LIMITED\)$/
      )
      expect(f.fix).toMatch(/^wait for 1[12]\d s, then retry with the right credential/)
    } finally {
      proxy.close()
      await g.stop()
    }
  })

  it("--json prints the report on stdout even when the config does not parse (config step)", async () => {
    const dir = tempStateDir()
    fs.writeFileSync(path.join(dir, "openclaw.json"), "{ gateway: { port: 'x' ")
    const { report } = await doctor([], cliEnv(dir))
    const f = firstFailure(report)
    expect(f.id).toBe("config")
    expect(f.detail).toContain("invalid JSON5")
    expect(report.steps).toHaveLength(17)
  })

  it("state: a state dir open to other users fails with the chmod to run", async () => {
    fs.chmodSync(local.dir, 0o755)
    try {
      const { report } = await doctor([], local.env)
      const f = firstFailure(report)
      expect(f.id).toBe("state")
      expect(f.fix).toBe(`chmod 700 ${local.dir}`)
    } finally {
      fs.chmodSync(local.dir, 0o700)
    }
  })

  it("audit: a critical finding stops the walk with its fix", async () => {
    // A config file other users can read, holding the token (kept outside the state dir, whose own
    // check comes first): critical config-permissions. A weak secret on a LAN bind no longer starts.
    const configDir = tempStateDir()
    const configPath = path.join(configDir, "openclaw.json")
    fs.writeFileSync(
      configPath,
      JSON.stringify({ gateway: { port: await freePort(), auth: { mode: "token", token: TOKEN } } })
    )
    fs.chmodSync(configPath, 0o644)
    const env = cliEnv(tempStateDir(), { OPENCLAW_CONFIG_PATH: configPath })
    const g = await startGateway([], env)
    try {
      const { report } = await doctor([], env, [TOKEN])
      const f = firstFailure(report)
      expect(f.id).toBe("audit")
      expect(f.detail).toMatch(/^1 critical: .*openclaw\.json is readable by every user/)
      expect(f.fix).toContain(`chmod 600 ${configPath}`)
    } finally {
      await g.stop()
    }
  })
})
