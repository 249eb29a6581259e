/**
 * Tailscale identity auth (shared/security.md section 3), end to end: the real Gateway process in
 * serve mode, the fake `tailscale` answering whois, and a small reverse proxy in front that acts
 * as Tailscale Serve (strips client-sent identity headers, adds Tailscale-User-* and X-Forwarded-*).
 */
import * as fs from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { resolveServerSettings } from "../../src/config/settings.js"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { RawClient } from "../support/gateway.js"
import { fakeTailscale, HOST } from "../support/tailscale.js"

const TOKEN = "identity-e2e-token-0123456789"
// Serve and Funnel need a password of at least 16 characters (config/secret-strength.ts).
const PASSWORD = "correct horse battery staple"
const ALICE_IP = "100.64.0.7"
const TAGGED_IP = "100.64.0.9"

/** What Serve would add for the (simulated) tailnet client of one connection. */
interface ServeView {
  readonly ip: string
  readonly login?: string
  readonly name?: string
  readonly funnel?: boolean
  /** Forwarded headers a broken proxy leaves out. */
  readonly omit?: ReadonlyArray<string>
}

const STRIPPED = [
  "tailscale-user-login",
  "tailscale-user-name",
  "tailscale-user-profile-pic",
  "tailscale-funnel-request",
  "tailscale-headers-info"
]

/** Acts as Tailscale Serve for WebSocket upgrades; the test says who the client is in X-Test-Serve-View. */
const startServeProxy = (gatewayPort: number) =>
  new Promise<{ port: number; close: () => void }>((resolve) => {
    const sockets = new Set<net.Socket>()
    const server = http.createServer((_req, res) => res.writeHead(501).end())
    server.on("upgrade", (req, socket, head) => {
      const view = JSON.parse(String(req.headers["x-test-serve-view"] ?? "{}")) as ServeView
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) {
        if (k === "x-test-serve-view" || STRIPPED.includes(k) || v === undefined) continue
        headers[k] = Array.isArray(v) ? v.join(", ") : v
      }
      headers.host = HOST
      headers["x-forwarded-host"] = HOST
      headers["x-forwarded-proto"] = "https"
      headers["x-forwarded-for"] = view.ip
      if (view.funnel) headers["tailscale-funnel-request"] = "?1"
      else if (view.login !== undefined) {
        headers["tailscale-user-login"] = view.login
        headers["tailscale-user-name"] = view.name ?? view.login
      }
      for (const h of view.omit ?? []) delete headers[h]
      const upstream = net.connect({ host: "127.0.0.1", port: gatewayPort }, () => {
        upstream.write(
          `GET ${req.url} HTTP/1.1\r\n${Object.entries(headers)
            .map(([k, v]) => `${k}: ${v}`)
            .join("\r\n")}\r\n\r\n`
        )
        upstream.write(head)
        socket.pipe(upstream).pipe(socket)
      })
      for (const s of [upstream, socket as net.Socket]) {
        sockets.add(s)
        s.on("error", () => upstream.destroy())
        s.on("close", () => (upstream.destroy(), socket.destroy(), sockets.delete(s)))
      }
    })
    server.listen({ host: "127.0.0.1", port: 0 }, () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () => {
          for (const s of sockets) s.destroy()
          server.close()
        }
      })
    )
  })

describe("Tailscale identity through Serve", () => {
  let gw: GatewayProcess
  let proxy: { port: number; close: () => void }
  let fake: ReturnType<typeof fakeTailscale>
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    const dir = tempStateDir()
    const port = await freePort()
    fs.writeFileSync(
      path.join(dir, "openclaw.json"),
      JSON.stringify({ gateway: { port, auth: { token: TOKEN }, tailscale: { mode: "serve", resetOnExit: true } } })
    )
    fake = fakeTailscale(dir, {
      whois: { [ALICE_IP]: { login: "alice@example.com", name: "Alice" }, [TAGGED_IP]: { tags: ["tag:server"] } }
    })
    env = cliEnv(dir, fake.env)
    gw = await startGateway([], env)
    proxy = await startServeProxy(gw.port)
  })
  afterAll(async () => {
    proxy?.close()
    await gw?.stop()
  })

  const whoisCalls = (ip: string) => fake.calls().filter((c) => c === `whois --json ${ip}`).length

  const viaServe = async (
    view: ServeView,
    params: Record<string, unknown> = {},
    extraHeaders: Record<string, string> = {}
  ) => {
    const c = await RawClient.open(`ws://127.0.0.1:${proxy.port}`, {
      headers: { "X-Test-Serve-View": JSON.stringify(view), ...extraHeaders }
    })
    await c.event("connect.challenge")
    return { client: c, res: await c.connect({ auth: undefined, ...params }) }
  }

  it("the defaults: serve with token auth turns allowTailscale on", async () => {
    const r = await runCli(["gateway", "status", "--json"], env)
    expect(JSON.parse(r.stdout).status.auth.allowTailscale).toBe(true)
  })

  it("whois confirms the login (case-insensitively): connected as tailscale, without a token; presence and status show the login", async () => {
    const { client, res } = await viaServe(
      { ip: ALICE_IP, login: "Alice@Example.COM", name: "=?utf-8?q?Alic=C3=A9?=" },
      { scopes: ["operator.read"] }
    )
    expect(res.ok).toBe(true)
    expect(res.payload.auth).toMatchObject({ method: "tailscale", role: "operator", scopes: ["operator.read"] })
    const presence = await client.request("system-presence")
    expect(
      presence.payload.some((p: any) => p.user?.login === "alice@example.com" && p.authMethod === "tailscale")
    ).toBe(true)
    const status = await client.request("status")
    expect(status.payload.tailscaleUsers).toEqual(["alice@example.com"])
    const human = await runCli(["gateway", "status", "--deep"], env)
    expect(human.stdout).toContain("signed in via Tailscale: alice@example.com")
    expect(human.stdout).toMatch(/from 127\.0\.0\.1 as alice@example\.com \(tailscale\)/)
    // A second connection within 60 s uses the cached whois answer.
    const again = await viaServe({ ip: ALICE_IP, login: "alice@example.com" })
    expect(again.res.ok).toBe(true)
    expect(whoisCalls(ALICE_IP)).toBe(1)
    client.ws.close()
    again.client.ws.close()
  })

  it("a browser (Control UI) through Serve: its https origin passes and identity connects it", async () => {
    const { client, res } = await viaServe(
      { ip: ALICE_IP, login: "alice@example.com" },
      { client: { id: "control-ui", version: "1", platform: "web", mode: "ui" } },
      { Origin: `https://${HOST}` }
    )
    expect(res.payload?.auth?.method).toBe("tailscale")
    client.ws.close()
  })

  it("login header that whois does not confirm: AUTH_TAILSCALE_IDENTITY_MISMATCH", async () => {
    const { client, res } = await viaServe({ ip: ALICE_IP, login: "mallory@example.com" })
    expect(res.ok).toBe(false)
    expect(res.error.details.code).toBe("AUTH_TAILSCALE_IDENTITY_MISMATCH")
    expect(res.error.message).toMatch(/^unauthorized: /)
    expect((await client.waitClosed()).code).toBe(1008)
  })

  it("whois fails (peer not found): AUTH_TAILSCALE_WHOIS_FAILED, and the failure is cached for a few seconds", async () => {
    const first = await viaServe({ ip: "100.64.0.99", login: "alice@example.com" })
    expect(first.res.error.details.code).toBe("AUTH_TAILSCALE_WHOIS_FAILED")
    const second = await viaServe({ ip: "100.64.0.99", login: "alice@example.com" })
    expect(second.res.error.details.code).toBe("AUTH_TAILSCALE_WHOIS_FAILED")
    expect(whoisCalls("100.64.0.99")).toBe(1)
  })

  it("a forwarded header missing (not what Serve sends): AUTH_TAILSCALE_PROXY_MISSING, whois not asked", async () => {
    for (const omit of ["x-forwarded-host", "x-forwarded-proto", "x-forwarded-for"]) {
      const { res } = await viaServe({ ip: "100.64.0.50", login: "alice@example.com", omit: [omit] })
      expect(res.error.details.code, omit).toBe("AUTH_TAILSCALE_PROXY_MISSING")
    }
    expect(whoisCalls("100.64.0.50")).toBe(0)
  })

  it("a Funnel request never carries identity: AUTH_TAILSCALE_IDENTITY_MISSING", async () => {
    const { res } = await viaServe({ ip: ALICE_IP, funnel: true })
    expect(res.error.details.code).toBe("AUTH_TAILSCALE_IDENTITY_MISSING")
    expect(res.error.message).toContain("Funnel requests never carry an identity")
  })

  it("a client-sent Funnel header with a forged login (Serve would strip the login): still refused", async () => {
    const c = await RawClient.open(`ws://127.0.0.1:${gw.port}`, {
      headers: {
        "Tailscale-Funnel-Request": "?1",
        "Tailscale-User-Login": "alice@example.com",
        "X-Forwarded-For": ALICE_IP,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": HOST
      }
    })
    await c.event("connect.challenge")
    expect((await c.connect({ auth: undefined })).error.details.code).toBe("AUTH_TAILSCALE_IDENTITY_MISSING")
  })

  it("a tagged device through Serve gets no identity: AUTH_TAILSCALE_IDENTITY_MISSING", async () => {
    const { res } = await viaServe({ ip: TAGGED_IP })
    expect(res.error.details.code).toBe("AUTH_TAILSCALE_IDENTITY_MISSING")
  })

  it("identity headers sent straight to the Gateway, not through Serve: AUTH_TAILSCALE_PROXY_MISSING", async () => {
    const c = await RawClient.open(`ws://127.0.0.1:${gw.port}`, {
      headers: { "Tailscale-User-Login": "alice@example.com", "Tailscale-User-Name": "Alice" }
    })
    await c.event("connect.challenge")
    expect((await c.connect({ auth: undefined })).error.details.code).toBe("AUTH_TAILSCALE_PROXY_MISSING")
  })

  it("a node never authenticates by identity: it is told it needs the token", async () => {
    const { res } = await viaServe(
      { ip: ALICE_IP, login: "alice@example.com" },
      { role: "node", scopes: [], client: { id: "node-host", version: "1", platform: "linux", mode: "node" } }
    )
    expect(res.error.details.code).toBe("AUTH_TOKEN_MISSING")
    expect(res.error.message).toContain("operators only, never a node")
  })

  it("a token offered through Serve is checked as before: right token -> token; wrong token -> mismatch (identity is no fallback)", async () => {
    const ok = await viaServe({ ip: ALICE_IP, login: "alice@example.com" }, { auth: { token: TOKEN } })
    expect(ok.res.payload.auth.method).toBe("token")
    ok.client.ws.close()
    const bad = await viaServe(
      { ip: ALICE_IP, login: "alice@example.com" },
      { auth: { token: "wrong-token-000000000000" } }
    )
    expect(bad.res.error.details.code).toBe("AUTH_TOKEN_MISMATCH")
  })

  it("the local CLI with its token still works", async () => {
    expect((await runCli(["health"], env)).code).toBe(0)
  })
})

describe("Tailscale identity is off for password mode and Funnel", () => {
  it("serve with password auth: identity headers through Serve are ignored (AUTH_PASSWORD_MISSING)", async () => {
    const dir = tempStateDir()
    const port = await freePort()
    fs.writeFileSync(
      path.join(dir, "openclaw.json"),
      JSON.stringify({
        gateway: {
          port,
          auth: { mode: "password", password: "correct horse battery staple" },
          tailscale: { mode: "serve" }
        }
      })
    )
    const fake = fakeTailscale(dir, { whois: { [ALICE_IP]: { login: "alice@example.com" } } })
    const gw = await startGateway([], cliEnv(dir, fake.env))
    const proxy = await startServeProxy(gw.port)
    try {
      const c = await RawClient.open(`ws://127.0.0.1:${proxy.port}`, {
        headers: { "X-Test-Serve-View": JSON.stringify({ ip: ALICE_IP, login: "alice@example.com" }) }
      })
      await c.event("connect.challenge")
      expect((await c.connect({ auth: undefined })).error.details.code).toBe("AUTH_PASSWORD_MISSING")
      expect(fake.calls().some((x) => x.startsWith("whois"))).toBe(false)
    } finally {
      proxy.close()
      await gw.stop()
    }
  })

  it("allowTailscale defaults: serve+token on; serve+password, funnel and off are off; an explicit setting wins", () => {
    const resolve = (gateway: Record<string, unknown>) =>
      resolveServerSettings(
        { configPath: "/x/openclaw.json", stateDir: "/x", exists: true, file: { gateway } as any },
        {},
        {}
      ).auth.allowTailscale
    expect(resolve({ auth: { token: TOKEN }, tailscale: { mode: "serve" } })).toBe(true)
    expect(resolve({ auth: { mode: "password", password: PASSWORD }, tailscale: { mode: "serve" } })).toBe(false)
    expect(resolve({ auth: { mode: "password", password: PASSWORD }, tailscale: { mode: "funnel" } })).toBe(false)
    expect(resolve({ auth: { token: TOKEN } })).toBe(false)
    expect(resolve({ auth: { token: TOKEN, allowTailscale: false }, tailscale: { mode: "serve" } })).toBe(false)
    expect(
      resolve({ auth: { mode: "password", password: PASSWORD, allowTailscale: true }, tailscale: { mode: "serve" } })
    ).toBe(true)
  })
})
