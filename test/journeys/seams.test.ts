/**
 * Seams between the features merged from parallel branches (core + bind modes + audit, Tailscale,
 * TLS + SSH, Control UI + agent), walked as a user would with the real CLI against real Gateways.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BIN, cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { type Sshd, sshClientPids, sshdUnavailable, startSshd } from "../support/sshd.js"

const TOKEN = "seams-token-0123456789abcdef0123"

const stateWith = (config: unknown) => {
  const dir = tempStateDir()
  fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify(config), { mode: 0o600 })
  return { dir, env: cliEnv(dir) }
}

describe("a TLS Gateway on a LAN bind (scenario D's server)", { timeout: 60_000 }, () => {
  let gw: GatewayProcess
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    const port = await freePort()
    env = stateWith({
      gateway: { port, bind: "lan", auth: { mode: "token", token: TOKEN }, tls: { enabled: true } }
    }).env
    gw = await startGateway([], env)
  })
  afterAll(async () => {
    await gw?.stop()
  })

  it("gateway status shows TLS with the fingerprint and does not call a LAN-bound Gateway 'loopback only'", async () => {
    const fp = /certificate sha256 ([0-9A-F:]{95})/.exec(gw.output())![1]!
    const r = await runCli(["gateway", "status"], env)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/Bind:\s+lan on 0\.0\.0\.0/)
    expect(r.stdout).toContain(`TLS:        on (certificate sha256 ${fp}`)
    expect(r.stdout).not.toContain("loopback only")
    expect(r.stdout).toMatch(/Exposure:\s+no Tailscale Serve or Funnel/)
    expect(r.stdout + r.stderr).not.toContain(TOKEN)
    // --deep: the audit summary, then the connected clients under their own heading.
    const deep = await runCli(["gateway", "status", "--deep"], env)
    expect(deep.code).toBe(0)
    expect(deep.stdout).toMatch(/Audit:\s+\d+ critical/)
    expect(deep.stdout).toMatch(/Presence:\s+1 connection\(s\)\n\s+- cli \(cli [^)]*, operator\) from 127\.0\.0\.1/)
  })
})

describe.skipIf(sshdUnavailable() !== undefined)(
  "a laptop reaching a TLS Gateway over transport ssh (scenarios B + D)",
  { timeout: 90_000 },
  () => {
    let sshd: Sshd
    let gw: GatewayProcess
    let fp: string
    let remote: Record<string, unknown>
    const laptop = (extra: Record<string, unknown> = {}) =>
      stateWith({ gateway: { mode: "remote", remote: { ...remote, ...extra } } }).env

    beforeAll(async () => {
      sshd = await startSshd()
      const server = stateWith({ gateway: { port: await freePort(), auth: { token: TOKEN }, tls: { enabled: true } } })
      gw = await startGateway([], server.env)
      fp = /certificate sha256 ([0-9A-F:]{95})/.exec(gw.output())![1]!
      remote = {
        transport: "ssh",
        sshTarget: sshd.sshTarget,
        sshIdentity: sshd.identity,
        sshKnownHostsFile: sshd.knownHostsFile,
        remotePort: gw.port,
        token: TOKEN
      }
    })
    afterAll(async () => {
      await gw?.stop()
      await sshd?.stop()
    })

    it("without a pin: health says the Gateway only speaks TLS and names gateway.remote.tlsFingerprint (not 'start the Gateway')", async () => {
      const r = await runCli(["health"], laptop())
      expect(r.code).toBe(1)
      expect(r.stderr).toContain("this Gateway only speaks TLS")
      expect(r.stderr).toContain("set gateway.remote.tlsFingerprint")
      expect(r.stderr).not.toContain("nothing answered")
      expect(r.stderr).not.toContain(TOKEN)
    })

    it("without a pin: gateway tunnel prints https:// and wss:// addresses and says the Gateway answers with TLS", async () => {
      const localPort = await freePort()
      const child = spawn(BIN, ["gateway", "tunnel", "--local-port", String(localPort)], {
        env: laptop(),
        stdio: ["ignore", "pipe", "pipe"]
      })
      let out = ""
      child.stdout!.on("data", (d) => (out += d))
      child.stderr!.on("data", (d) => (out += d))
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
      try {
        const deadline = Date.now() + 30_000
        while (!/Ctrl-C closes the tunnel/.test(out) && Date.now() < deadline && child.exitCode === null)
          await new Promise((r) => setTimeout(r, 50))
        expect(out).toContain(`WebSocket:  wss://127.0.0.1:${localPort}`)
        expect(out).toContain(`Control UI: https://127.0.0.1:${localPort}/`)
        expect(out).toContain("Gateway:    answers with TLS only")
        expect(out).not.toContain("not answering")
      } finally {
        child.kill("SIGTERM")
      }
      expect(await exited).toBe(0)
      expect(await sshClientPids(`-p ${sshd.port}`)).toEqual([])
    })

    it("with the pin: status shows transport, pin and TLS together; agent and send work through the tunnel", async () => {
      const env = laptop({ tlsFingerprint: fp })
      const status = await runCli(["status"], env)
      expect(status.code).toBe(0)
      expect(status.stdout).toContain(
        `Target:     wss://127.0.0.1:${gw.port} on ${sshd.sshTarget} (through an SSH tunnel)`
      )
      expect(status.stdout).toMatch(/Transport:\s+ssh .* tunnel up on 127\.0\.0\.1:\d+/)
      expect(status.stdout).toContain(`TLS pin:    sha256 ${fp} (gateway.remote.tlsFingerprint)`)
      expect(status.stdout).toContain(`TLS:        on (certificate sha256 ${fp}`)
      const agent = await runCli(["gateway", "agent", "--message", "over ssh and tls", "--session", "seams"], env)
      expect(agent.stderr).toBe("")
      expect(agent.code).toBe(0)
      expect(agent.stdout).toContain("Echo: over ssh and tls")
      const send = await runCli(["gateway", "send", "--to", "seams", "--message", "a note"], env)
      expect(send.code).toBe(0)
      expect(send.stdout).toMatch(/^Delivered to session seams \(message [0-9a-f-]+\); the agent was not run\.\n$/)
      const history = JSON.parse(
        (await runCli(["gateway", "call", "chat.history", "--params", JSON.stringify({ sessionKey: "seams" })], env))
          .stdout
      )
      expect(history.messages.map((m: { text: string }) => m.text)).toEqual([
        "over ssh and tls",
        "Echo: over ssh and tls",
        "a note"
      ])
      expect(status.stdout + agent.stdout + send.stdout).not.toContain(TOKEN)
      expect(await sshClientPids(`-p ${sshd.port}`)).toEqual([])
    })
  }
)
