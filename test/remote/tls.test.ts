/**
 * wss:// with a pinned certificate, end to end with the real CLI: the Gateway's auto-generated
 * certificate, the local CLI's automatic pin, remote pins in every accepted format, and a wrong
 * pin against a TLS server with another certificate that must receive zero bytes of application data.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import * as path from "node:path"
import * as tls from "node:tls"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { impostor, opensslFingerprint, selfSignedCertificate } from "../support/tls.js"

const TOKEN = "tls-token-0123456789abcdef"

const laptop = (gateway: Record<string, unknown>) => {
  const dir = tempStateDir()
  fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway }))
  return cliEnv(dir)
}

describe("wss:// and certificate pinning", { timeout: 60_000 }, () => {
  let stateDir: string
  let env: NodeJS.ProcessEnv
  let gw: GatewayProcess
  let fp: string

  beforeAll(async () => {
    stateDir = tempStateDir()
    fs.writeFileSync(
      path.join(stateDir, "openclaw.json"),
      JSON.stringify({ gateway: { port: await freePort(), auth: { token: TOKEN }, tls: { enabled: true } } })
    )
    env = cliEnv(stateDir)
    gw = await startGateway([], env)
    fp = opensslFingerprint(path.join(stateDir, "gateway/tls/gateway-cert.pem"))
  })
  afterAll(async () => {
    await gw?.stop()
  })

  it("generates a self-signed certificate (key 0600 in a 0700 dir) and prints its SHA-256 fingerprint at start and in status", async () => {
    expect(fp).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    expect(fs.statSync(path.join(stateDir, "gateway/tls")).mode & 0o777).toBe(0o700)
    expect(fs.statSync(path.join(stateDir, "gateway/tls/gateway-key.pem")).mode & 0o777).toBe(0o600)
    expect(gw.output()).toMatch(new RegExp(`^listening on wss://127\\.0\\.0\\.1:${gw.port} `, "m"))
    expect(gw.output()).toContain(`TLS:        TLS 1.3, certificate sha256 ${fp}`)
    expect(gw.output()).toContain(`Control UI: https://127.0.0.1:${gw.port}/`)
    // The local CLI pins its own Gateway's certificate without being told.
    const status = await runCli(["gateway", "status"], env)
    expect(status.code).toBe(0)
    expect(status.stdout).toContain(`TLS:        on (certificate sha256 ${fp}, auto-generated)`)
    expect(status.stdout).toMatch(/TLS pin:\s+sha256 .* \(local certificate .*gateway-cert\.pem\)/)
    const json = JSON.parse((await runCli(["gateway", "status", "--json"], env)).stdout)
    expect(json.status.tls).toMatchObject({ enabled: true, fingerprint: fp })
    expect((await runCli(["health"], env)).code).toBe(0)
  })

  it("serves TLS 1.3 only, and https on the same port", async () => {
    const old = await new Promise<string>((resolve) => {
      const s = tls.connect({ host: "127.0.0.1", port: gw.port, maxVersion: "TLSv1.2", rejectUnauthorized: false })
      s.once("secureConnect", () => resolve("connected"))
      s.once("error", (e) => resolve(e.message))
    })
    expect(old).not.toBe("connected")
    const probe = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: "127.0.0.1", port: gw.port, rejectUnauthorized: false }, () => {
        s.write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
      })
      let body = ""
      s.on("data", (d) => (body += d))
      s.on("end", () => resolve(body))
      s.on("error", reject)
    })
    expect(probe).toMatch(/^HTTP\/1\.1 200/)
  })

  it("a remote CLI with the pin in any accepted format reaches the Gateway over wss://", async () => {
    const plain = fp.replace(/:/g, "")
    for (const pin of [
      fp,
      plain.toLowerCase(),
      `SHA256:${plain.slice(0, 20).toLowerCase()}${plain.slice(20)}`,
      `sha256:${fp.toLowerCase()}`
    ]) {
      const remote = laptop({
        mode: "remote",
        remote: { url: `wss://127.0.0.1:${gw.port}`, token: TOKEN, tlsFingerprint: pin }
      })
      const r = await runCli(["health"], remote)
      expect(r.stderr, pin).toBe("")
      expect(r.code, pin).toBe(0)
    }
    const flag = await runCli(
      ["health", "--url", `wss://127.0.0.1:${gw.port}`, "--token", TOKEN, "--tls-fingerprint", plain],
      env
    )
    expect(flag.code).toBe(0)
  })

  it("without a pin, the self-signed certificate is not trusted", async () => {
    const r = await runCli(["health", "--url", `wss://127.0.0.1:${gw.port}`, "--token", TOKEN], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("not signed by a trusted CA")
  })

  it("plaintext ws:// or http:// to the TLS port is told to use wss:// / https://, not 'connection reset'", async () => {
    const r = await runCli(["health", "--url", `ws://127.0.0.1:${gw.port}`, "--token", TOKEN], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      "Gateway health check failed: this Gateway only speaks TLS: connect with wss://, not plaintext ws://"
    )
    expect(r.stderr).toContain("gateway.remote.tlsFingerprint or --tls-fingerprint")
    expect(r.stderr).not.toContain("connection reset")
    expect(r.stderr).not.toContain(TOKEN)
    // A browser or curl on http:// gets a readable answer instead of a dropped connection.
    const plain = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port: gw.port, path: "/" }, (res) => {
          let body = ""
          res.on("data", (d) => (body += d))
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
        })
        .on("error", reject)
    })
    expect(plain.status).toBe(400)
    expect(plain.body).toContain(`https://127.0.0.1:${gw.port}/`)
    // The Gateway still serves TLS clients afterwards.
    expect((await runCli(["health"], env)).code).toBe(0)
  })

  it("garbage pins are config errors (exit 78) naming the key or flag", async () => {
    for (const pin of [
      "nope",
      "sha1:" + "ab".repeat(20),
      "AB:CD",
      fp.slice(0, -3),
      `${fp}:00`,
      "sha256:" + "zz".repeat(32)
    ]) {
      const r = await runCli(
        ["health"],
        laptop({ mode: "remote", remote: { url: `wss://127.0.0.1:${gw.port}`, token: TOKEN, tlsFingerprint: pin } })
      )
      expect(r.code, pin).toBe(78)
      expect(r.stderr, pin).toContain("gateway.remote.tlsFingerprint: expected a SHA-256 certificate fingerprint")
    }
    const flag = await runCli(
      ["health", "--url", `wss://127.0.0.1:${gw.port}`, "--token", TOKEN, "--tls-fingerprint", "12:34"],
      env
    )
    expect(flag.code).toBe(78)
    expect(flag.stderr).toContain("--tls-fingerprint: expected a SHA-256")
  })

  it("a pin with a ws:// URL is refused", async () => {
    const r = await runCli(
      ["health"],
      laptop({ mode: "remote", remote: { url: `ws://127.0.0.1:${gw.port}`, token: TOKEN, tlsFingerprint: fp } })
    )
    expect(r.code).toBe(78)
    expect(r.stderr).toContain("gateway.remote.tlsFingerprint pins a TLS certificate, but the target ws://127.0.0.1")
    const flag = await runCli(
      ["health", "--url", `ws://127.0.0.1:${gw.port}`, "--token", TOKEN, "--tls-fingerprint", fp],
      env
    )
    expect(flag.code).toBe(78)
  })

  it("a server with another certificate is refused with both fingerprints and receives zero bytes of application data", async () => {
    const evil = await impostor()
    try {
      const remote = laptop({
        mode: "remote",
        remote: { url: `wss://127.0.0.1:${evil.port}`, token: TOKEN, tlsFingerprint: fp }
      })
      const r = await runCli(["health"], remote)
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`expected sha256 ${fp}, the server presented ${evil.fingerprint}; nothing was sent`)
      expect(r.stderr).toContain(
        "Hint: nothing was sent. If the Gateway's certificate was replaced on purpose, set gateway.remote.tlsFingerprint"
      )
      await new Promise((res) => setTimeout(res, 200))
      // It was reached (the client saw its certificate, above) and got nothing but the TLS handshake.
      expect(evil.counts.connections).toBe(1)
      expect(evil.counts.bytes).toBe(0)
      // Control: with that server's own fingerprint the client does send (the upgrade request), so the counter works.
      const trusting = await runCli(
        [
          "health",
          "--url",
          `wss://127.0.0.1:${evil.port}`,
          "--token",
          TOKEN,
          "--tls-fingerprint",
          evil.fingerprint,
          "--timeout",
          "1500"
        ],
        env
      )
      expect(trusting.code).toBe(1)
      expect(evil.counts.bytes).toBeGreaterThan(0)
    } finally {
      await evil.close()
    }
  })

  it("the auto-generated certificate is reused across restarts (same fingerprint)", async () => {
    await gw.stop()
    gw = await startGateway([], env)
    expect(gw.output()).toContain(`TLS:        TLS 1.3, certificate sha256 ${fp}`)
    expect(gw.output()).toContain("(auto-generated, reused:")
    expect(opensslFingerprint(path.join(stateDir, "gateway/tls/gateway-cert.pem"))).toBe(fp)
    expect((await runCli(["health"], env)).code).toBe(0)
  })

  it("a regenerated certificate: the laptop with the old pin refuses, showing both fingerprints; the local CLI follows", async () => {
    const remote = laptop({
      mode: "remote",
      remote: { url: `wss://127.0.0.1:${gw.port}`, token: TOKEN, tlsFingerprint: fp }
    })
    await gw.stop()
    fs.rmSync(path.join(stateDir, "gateway/tls"), { recursive: true })
    gw = await startGateway([], env)
    const fresh = opensslFingerprint(path.join(stateDir, "gateway/tls/gateway-cert.pem"))
    expect(fresh).not.toBe(fp)
    expect(gw.output()).toContain(`certificate sha256 ${fresh}`)
    const r = await runCli(["health"], remote)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`expected sha256 ${fp}, the server presented ${fresh}; nothing was sent`)
    expect((await runCli(["health"], env)).code).toBe(0)
    fp = fresh
  })

  it("the user's own certificate: certPath and keyPath together, or a config error", async () => {
    const dir = selfSignedCertificate("own")
    const own = laptop({
      port: await freePort(),
      auth: { token: TOKEN },
      tls: { enabled: true, certPath: path.join(dir, "c.pem"), keyPath: path.join(dir, "k.pem") }
    })
    const g = await startGateway([], own)
    try {
      expect(g.output()).toContain(`certificate sha256 ${opensslFingerprint(path.join(dir, "c.pem"))}`)
      expect(g.output()).toContain("(gateway.tls.certPath:")
      expect((await runCli(["health"], own)).code).toBe(0)
      expect(fs.existsSync(path.join(own.OPENCLAW_STATE_DIR!, "gateway/tls"))).toBe(false)
    } finally {
      await g.stop()
    }
    const half = laptop({
      port: await freePort(),
      auth: { token: TOKEN },
      tls: { enabled: true, certPath: path.join(dir, "c.pem") }
    })
    const r = await runCli(["gateway", "run"], half)
    expect(r.code).toBe(78)
    expect(r.stderr).toContain("gateway.tls.certPath and gateway.tls.keyPath go together")
    // A configured file that is not there: a configuration error (78) naming the key, with no stack trace.
    const missing = laptop({
      port: await freePort(),
      auth: { token: TOKEN },
      tls: { enabled: true, certPath: path.join(dir, "nope.pem"), keyPath: path.join(dir, "k.pem") }
    })
    const m = await runCli(["gateway", "run"], missing)
    expect(m.code).toBe(78)
    expect(m.stderr).toContain(
      `Cannot start the Gateway: cannot read gateway.tls.certPath ${path.join(dir, "nope.pem")}: no such file`
    )
    expect(m.stderr).not.toMatch(/\n\s+at /)
  })
})
