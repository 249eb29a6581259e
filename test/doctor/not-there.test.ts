/**
 * Doctor, health and status for a Gateway that is not there, through the real CLI: a Gateway
 * killed with SIGKILL (its record and its Tailscale route left behind), an SSH server, a silent
 * port and a plain web server on the Gateway's port.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { BIN, cliEnv, freePort, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { fakeTailscale } from "../support/tailscale.js"

const TOKEN = "not-there-token-0123456789abcdef"
const closers: Array<() => void> = []
afterEach(() => {
  for (const close of closers.splice(0)) close()
})

/** A server on 127.0.0.1:0; `onConnection` plays what answers. */
const listen = async (server: net.Server): Promise<number> => {
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve))
  closers.push(() => server.close())
  return (server.address() as net.AddressInfo).port
}

/** Sends an OpenSSH banner and then waits for the client's identification, as sshd does. */
const sshBannerServer = () =>
  listen(
    net.createServer((c) => {
      c.on("error", () => {})
      c.write("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
      closers.push(() => c.destroy())
    })
  )

/** Accepts and never says anything. */
const silentServer = () =>
  listen(
    net.createServer((c) => {
      c.on("error", () => {})
      closers.push(() => c.destroy())
    })
  )

const localConfig = (port: number) => {
  const dir = tempStateDir()
  fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway: { port, auth: { token: TOKEN } } }))
  return { dir, env: cliEnv(dir) }
}

describe("doctor: a Gateway that is gone", () => {
  it("after kill -9 names the dead PID and the Tailscale route still pointing at it", async () => {
    const dir = tempStateDir()
    const fake = fakeTailscale(dir)
    const env = cliEnv(dir, { ...fake.env, OPENCLAW_TAILSCALE_TIMEOUT_MS: "8000" })
    fs.writeFileSync(
      path.join(dir, "openclaw.json"),
      JSON.stringify({
        gateway: { port: await freePort(), auth: { token: TOKEN }, tailscale: { mode: "serve", resetOnExit: true } }
      })
    )
    const gw = await startGateway([], env)
    const pid = gw.child.pid!
    expect(fake.route443()).toBe(`http://127.0.0.1:${gw.port}`)
    await gw.stop("SIGKILL")

    const r = await runCli(["doctor", "--timeout", "5000"], env)
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(new RegExp(`FAIL gateway .*the Gateway \\(PID ${pid}, started \\d\\d:\\d\\d\\) is gone`))
    expect(r.stdout).toContain(`the Tailscale Serve route https:443 -> 127.0.0.1:${gw.port} still points at it`)
    expect(r.stdout).toContain("`tailscale serve --https=443 off`, or start the Gateway")
    expect(r.stdout).toContain("Stopped at gateway")
    // Doctor only looks: the route is still there.
    expect(fake.route443()).toBe(`http://127.0.0.1:${gw.port}`)
  })
})

describe("doctor: what answers on the Gateway's port is named, within --timeout", () => {
  it("an SSH server: says SSH, well within its --timeout", async () => {
    const { env } = localConfig(await sshBannerServer())
    const r = await runCli(["doctor", "--timeout", "3000"], env)
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/FAIL http .*SSH-2\.0-OpenSSH_9\.2p1.*\(an SSH server\)/)
    expect(r.ms).toBeLessThan(3000 + 2500)
  })

  it("an SSH server behind a wss:// URL: the tls step names it by its banner", async () => {
    const port = await sshBannerServer()
    const r = await runCli(
      [
        "doctor",
        "--url",
        `wss://127.0.0.1:${port}`,
        "--token",
        TOKEN,
        "--tls-fingerprint",
        "AB".repeat(32),
        "--timeout",
        "3000"
      ],
      cliEnv(tempStateDir())
    )
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/FAIL tls .*does not speak TLS: it sent "SSH-2\.0-OpenSSH_9\.2p1.*\(an SSH server\)/)
  })

  it("a silent port: the whole run ends by its --timeout, each line printed as its step ends, with real times", async () => {
    const { env } = localConfig(await silentServer())
    const started = Date.now()
    const child = spawn(BIN, ["doctor", "--timeout", "3000"], { env, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let tcpLineAt: number | undefined
    child.stdout.on("data", (d) => {
      out += d
      if (tcpLineAt === undefined && /ok\s+tcp /.test(out)) tcpLineAt = Date.now()
    })
    await new Promise((resolve) => child.once("exit", resolve))
    const total = Date.now() - started
    // Before: two full timeouts (the TLS sniff, then the http step), and nothing shown until the end.
    expect(total).toBeLessThan(3000 + 1800)
    expect(tcpLineAt, out).toBeDefined()
    expect(Date.now() - tcpLineAt!).toBeGreaterThan(1500)
    const times = [...out.matchAll(/^\s+(?:ok|FAIL)\s+\S+\s+(\d+)ms/gm)].map((m) => Number(m[1]))
    expect(times.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3000 + 100)
    expect(out).toMatch(/FAIL http/)
  })
})

describe("health and status: not an OpenClaw Gateway", () => {
  it("a plain web server is named as such, not blamed on the Gateway", async () => {
    const port = await listen(
      http.createServer((_req, res) => {
        res.setHeader("Server", "nginx/1.22.1")
        res.setHeader("Content-Type", "text/html")
        res.end("<h1>Welcome to nginx!</h1>")
      })
    )
    const { env } = localConfig(port)
    for (const command of ["health", "status"]) {
      const r = await runCli([command, "--timeout", "3000"], env)
      expect(r.code, command).not.toBe(0)
      expect(r.stderr, command).toContain(
        'not an OpenClaw Gateway: an HTTP server answered the WebSocket upgrade with HTTP 200 (text/html) from "nginx/1.22.1"'
      )
      expect(r.stderr, command).not.toContain("the Gateway refused")
      expect(r.stderr, command).not.toContain("start the Gateway")
    }
  })

  it("an SSH server is named by its banner", async () => {
    const { env } = localConfig(await sshBannerServer())
    const r = await runCli(["health", "--timeout", "3000"], env)
    expect(r.stderr).toContain(
      'not an OpenClaw Gateway: an SSH server (banner "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3")'
    )
    expect(r.stderr).not.toContain("start the Gateway")
  })
})

describe("dashboard --json", () => {
  it("prints JSON on every failure: a broken config, a Gateway behind an SSH tunnel", async () => {
    const broken = tempStateDir()
    fs.writeFileSync(path.join(broken, "openclaw.json"), "{ gateway: ")
    const ssh = tempStateDir()
    fs.writeFileSync(
      path.join(ssh, "openclaw.json"),
      JSON.stringify({
        gateway: { mode: "remote", remote: { transport: "ssh", sshTarget: "me@gateway-host", token: TOKEN } }
      })
    )
    for (const [dir, kind] of [
      [broken, "config"],
      [ssh, "ssh-tunnel"]
    ] as const) {
      const r = await runCli(["dashboard", "--json"], cliEnv(dir))
      expect(r.code, r.stderr).not.toBe(0)
      expect(JSON.parse(r.stdout), r.stdout).toMatchObject({ ok: false, error: { kind } })
    }
  })
})
