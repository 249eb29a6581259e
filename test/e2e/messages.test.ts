/** Messages that say what actually happened (issue 13, item 9), through the real CLI. */
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"

const TOKEN = "messages-token-0123456789abcdef01"

describe("client messages against a plaintext token Gateway", () => {
  let gw: GatewayProcess
  let env: NodeJS.ProcessEnv
  let port: number

  beforeAll(async () => {
    const dir = tempStateDir()
    port = await freePort()
    fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway: { port, auth: { token: TOKEN } } }))
    env = cliEnv(dir)
    gw = await startGateway([], env)
  }, 30_000)
  afterAll(async () => {
    await gw?.stop()
  })

  it("--password to a token Gateway says it expects a token, not to set gateway.remote.token", async () => {
    for (const args of [
      ["health", "--password", "some-password-value"],
      ["health", "--url", `ws://127.0.0.1:${port}`, "--password", "some-password-value"]
    ]) {
      const r = await runCli(args, env)
      expect(r.code, args.join(" ")).toBe(1)
      expect(r.stderr).toContain('this Gateway expects a token (gateway.auth.mode "token"), and a password was given')
      expect(r.stderr).toContain("Hint: pass --token with the Gateway's gateway.auth.token instead of --password")
      expect(r.stderr).not.toContain("gateway.remote.token")
      expect(r.stderr).not.toContain("some-password-value")
    }
  }, 30_000)

  it("a wrong token on this machine: no advice about gateway.remote.token", async () => {
    const r = await runCli(["health", "--token", "not-the-token"], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("unauthorized: gateway token mismatch")
    expect(r.stderr).not.toContain("gateway.remote.token")
  })

  it("wss:// to a plaintext Gateway says so (with or without a pin), not 'connection reset' with an SSH hint", async () => {
    const pin = "AB:".repeat(31) + "AB"
    for (const extra of [[], ["--tls-fingerprint", pin]]) {
      const r = await runCli(["health", "--url", `wss://127.0.0.1:${port}`, "--token", TOKEN, ...extra], env)
      expect(r.code, extra.join(" ")).toBe(1)
      expect(r.stderr).toContain(
        `127.0.0.1:${port} answers without TLS: that Gateway serves plaintext ws://, not wss://`
      )
      expect(r.stderr).toContain(`Hint: use a ws:// URL for it (e.g. ws://127.0.0.1:${port})`)
      expect(r.stderr).not.toMatch(/connection reset|ssh -N/)
    }
  }, 30_000)

  it("wss:// to an SSH server's port names it from its banner and says how to reach the Gateway through SSH", async () => {
    // What sshd does: it speaks first, with its banner, and closes on a TLS hello.
    const sshd = net.createServer((socket) => {
      socket.on("error", () => {})
      socket.write("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
      socket.once("data", () => socket.end("Invalid SSH identification string.\r\n"))
    })
    await new Promise<void>((resolve) => sshd.listen(0, "127.0.0.1", resolve))
    const sshPort = (sshd.address() as net.AddressInfo).port
    try {
      const pin = "AB:".repeat(31) + "AB"
      for (const extra of [[], ["--tls-fingerprint", pin]]) {
        const r = await runCli(["health", "--url", `wss://127.0.0.1:${sshPort}`, "--token", TOKEN, ...extra], env)
        expect(r.code, extra.join(" ")).toBe(1)
        expect(r.stderr).toContain(
          `127.0.0.1:${sshPort} is an SSH server (banner "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"), not the Gateway`
        )
        expect(r.stderr).toContain('Hint: reach the Gateway through SSH instead: set gateway.remote.transport "ssh"')
      }
    } finally {
      sshd.close()
    }
  }, 30_000)

  it("health --json prints a JSON error object on failure (and the message on stderr)", async () => {
    const wrong = await runCli(["health", "--json", "--token", "not-the-token"], env)
    expect(wrong.code).toBe(1)
    expect(JSON.parse(wrong.stdout)).toMatchObject({
      ok: false,
      target: `ws://127.0.0.1:${port}`,
      error: { kind: "auth", code: "AUTH_TOKEN_MISMATCH" }
    })
    expect(wrong.stderr).toContain("Gateway health check failed")
    const nobody = await freePort()
    const down = await runCli(["health", "--json", "--port", String(nobody)], env)
    expect(down.code).toBe(1)
    expect(JSON.parse(down.stdout)).toMatchObject({
      ok: false,
      source: "local (--port)",
      error: { kind: "unreachable", code: "ECONNREFUSED" }
    })
  }, 30_000)
})
