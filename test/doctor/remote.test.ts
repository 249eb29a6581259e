/**
 * `openclaw doctor` over wss:// (a TLS Gateway with its self-signed certificate) and through the
 * managed SSH tunnel (the real sshd of the tunnel tests): healthy paths pass every step; a wrong
 * pin, no pin, ws:// to the TLS port, an unknown host key and a refused login each stop exactly
 * at their step with their fix.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { type Sshd, sshdUnavailable, startSshd } from "../support/sshd.js"
import { impostor } from "../support/tls.js"

const TOKEN = "doctor-remote-token-0123456789-SECRET"

interface Step {
  id: string
  ok: boolean | null
  detail: string
  fix?: string
}

const laptop = (gateway: Record<string, unknown> = {}) => {
  const dir = tempStateDir()
  fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway }), { mode: 0o600 })
  return cliEnv(dir)
}

const doctor = async (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv) => {
  const r = await runCli(["doctor", "--json", ...args], env, 30_000)
  expect(r.stdout + r.stderr).not.toContain(TOKEN)
  const report = JSON.parse(r.stdout) as { ok: boolean; target: Record<string, unknown>; steps: Array<Step> }
  expect(r.code).toBe(report.ok ? 0 : 1)
  return report
}

const firstFailure = (steps: Array<Step>): Step => {
  const i = steps.findIndex((s) => s.ok === false)
  expect(i, JSON.stringify(steps, null, 1)).toBeGreaterThanOrEqual(0)
  for (const s of steps.slice(i + 1)) expect(s.ok).toBeNull()
  return steps[i]!
}

const byId = (steps: Array<Step>, id: string) => steps.find((s) => s.id === id)!

describe("openclaw doctor over wss://", { timeout: 90_000 }, () => {
  let gw: GatewayProcess
  let fp: string
  const env = laptop()

  beforeAll(async () => {
    const dir = tempStateDir()
    fs.writeFileSync(
      path.join(dir, "openclaw.json"),
      JSON.stringify({ gateway: { port: await freePort(), auth: { token: TOKEN }, tls: { enabled: true } } })
    )
    gw = await startGateway([], cliEnv(dir))
    fp = execFileSync(
      "openssl",
      ["x509", "-in", path.join(dir, "gateway/tls/gateway-cert.pem"), "-noout", "-fingerprint", "-sha256"],
      { encoding: "utf8" }
    )
      .trim()
      .split("=")[1]!
  })
  afterAll(async () => {
    await gw?.stop()
  })

  it("with the right pin every path step passes (remote target: the host checks are left to the Gateway's machine)", async () => {
    const report = await doctor(["--url", `wss://127.0.0.1:${gw.port}`, "--token", TOKEN, "--tls-fingerprint", fp], env)
    expect(report.ok).toBe(true)
    for (const id of ["config", "target", "dns", "tcp", "tls", "http", "upgrade", "challenge", "auth", "scopes", "rpc"])
      expect(byId(report.steps, id).ok, id).toBe(true)
    for (const id of ["ssh", "process", "state", "exposure", "audit"]) expect(byId(report.steps, id).ok, id).toBeNull()
    expect(byId(report.steps, "tls").detail).toBe(
      `TLSv1.3, certificate sha256 ${fp} matches the pin (--tls-fingerprint)`
    )
    expect(report.target).toMatchObject({ tlsPin: fp, pinSource: "--tls-fingerprint", local: false })
  })

  it("tls: a wrong pin shows both fingerprints and stops before anything is sent", async () => {
    const wrong = "AB".repeat(32)
    const report = await doctor(
      ["--url", `wss://127.0.0.1:${gw.port}`, "--token", TOKEN, "--tls-fingerprint", wrong],
      env
    )
    const f = firstFailure(report.steps)
    expect(f.id).toBe("tls")
    expect(f.detail).toBe(
      `certificate mismatch: expected sha256 ${wrong.match(/../g)!.join(":")} (--tls-fingerprint), the server presented ${fp}; nothing but the TLS handshake was sent`
    )
    expect(f.fix).toContain(
      "pass --tls-fingerprint with the fingerprint `openclaw gateway status` shows on the Gateway host; otherwise something is intercepting the connection"
    )
  })

  it("tls: a server with another certificate receives no application byte when the pin does not match", async () => {
    const evil = await impostor()
    try {
      const report = await doctor(
        ["--url", `wss://127.0.0.1:${evil.port}`, "--token", TOKEN, "--tls-fingerprint", fp],
        env
      )
      expect(firstFailure(report.steps).id).toBe("tls")
      await new Promise((r) => setTimeout(r, 200))
      expect(evil.counts.bytes).toBe(0)
    } finally {
      await evil.close()
    }
  })

  it("tls: no pin and a self-signed certificate: not trusted, with the pin to set", async () => {
    const report = await doctor(["--url", `wss://127.0.0.1:${gw.port}`, "--token", TOKEN], env)
    const f = firstFailure(report.steps)
    expect(f.id).toBe("tls")
    expect(f.detail).toMatch(
      new RegExp(
        `^the certificate \\(sha256 ${fp}\\) is not trusted by this machine's CAs \\(DEPTH_ZERO_SELF_SIGNED_CERT: a self-signed certificate\\)$`,
        "i"
      )
    )
    expect(f.fix).toContain("set gateway.remote.tlsFingerprint (or pass --tls-fingerprint)")
  })

  it("tls: ws:// to the TLS port is recognised", async () => {
    const report = await doctor(["--url", `ws://127.0.0.1:${gw.port}`, "--token", TOKEN], env)
    const f = firstFailure(report.steps)
    expect(f.id).toBe("tls")
    expect(f.detail).toBe(
      `127.0.0.1:${gw.port} speaks only TLS, but the target is plaintext ws:// (the Gateway has gateway.tls.enabled)`
    )
    expect(f.fix).toContain("use a wss:// URL")
  })

  it("tls: wss:// to a plaintext port is recognised", async () => {
    const plainDir = tempStateDir()
    fs.writeFileSync(
      path.join(plainDir, "openclaw.json"),
      JSON.stringify({ gateway: { port: await freePort(), auth: { token: TOKEN } } })
    )
    const plain = await startGateway([], cliEnv(plainDir))
    try {
      const report = await doctor(
        ["--url", `wss://127.0.0.1:${plain.port}`, "--token", TOKEN, "--tls-fingerprint", fp],
        env
      )
      const f = firstFailure(report.steps)
      expect(f.id).toBe("tls")
      expect(f.detail).toMatch(/does not speak TLS \(.*\): it is a plaintext port$/)
      expect(f.fix).toContain("use ws://")
    } finally {
      await plain.stop()
    }
  })
})

describe.skipIf(sshdUnavailable() !== undefined)(
  "openclaw doctor through the SSH transport",
  { timeout: 90_000 },
  () => {
    let sshd: Sshd
    let gw: GatewayProcess
    let good: Record<string, unknown>
    const through = (remote: Record<string, unknown>) =>
      laptop({ mode: "remote", remote: { transport: "ssh", token: TOKEN, ...remote } })

    beforeAll(async () => {
      sshd = await startSshd()
      const dir = tempStateDir()
      fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway: { auth: { token: TOKEN } } }))
      gw = await startGateway(["--port", String(await freePort())], cliEnv(dir))
      good = {
        sshTarget: sshd.sshTarget,
        sshIdentity: sshd.identity,
        sshKnownHostsFile: sshd.knownHostsFile,
        remotePort: gw.port
      }
    })
    afterAll(async () => {
      await gw?.stop()
      await sshd?.stop()
    })

    it("a healthy tunnel passes every step, and the ssh step says what it checked", async () => {
      const report = await doctor([], through(good))
      expect(report.ok).toBe(true)
      const ssh = byId(report.steps, "ssh")
      expect(ssh.ok).toBe(true)
      expect(ssh.detail).toMatch(
        new RegExp(
          `^${sshd.sshTarget}: host key known and matching, login accepted, forward 127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${gw.port} open \\(ssh pid \\d+\\)$`
        )
      )
      expect(byId(report.steps, "rpc").ok).toBe(true)
      expect(report.target).toMatchObject({
        transport: "ssh",
        sshTarget: sshd.sshTarget,
        credential: "token (from gateway.remote.token)"
      })
    })

    it("ssh: an unknown host key", async () => {
      const empty = path.join(tempStateDir(), "known_hosts")
      fs.writeFileSync(empty, "")
      const report = await doctor([], through({ ...good, sshKnownHostsFile: empty }))
      const f = firstFailure(report.steps)
      expect(f.id).toBe("ssh")
      expect(f.detail).toBe(`the host key of ${sshd.sshTarget} is not known`)
      expect(f.fix).toContain('gateway.remote.sshHostKeyPolicy is "strict": connect once with `ssh')
    })

    it("ssh: a changed host key", async () => {
      const report = await doctor([], through({ ...good, sshKnownHostsFile: sshd.wrongKnownHostsFile() }))
      const f = firstFailure(report.steps)
      expect(f.id).toBe("ssh")
      expect(f.detail).toBe(`the host key of ${sshd.sshTarget} does not match known_hosts`)
      expect(f.fix).toContain("someone may be intercepting the connection")
    })

    it("ssh: a refused login", async () => {
      const report = await doctor([], through({ ...good, sshIdentity: sshd.strangerIdentity() }))
      const f = firstFailure(report.steps)
      expect(f.id).toBe("ssh")
      expect(f.detail).toBe(`${sshd.sshTarget} refused the SSH login`)
      expect(f.fix).toContain("check gateway.remote.sshIdentity")
    })

    it("http: the tunnel is up but no Gateway answers at remotePort", async () => {
      const report = await doctor([], through({ ...good, remotePort: await freePort() }))
      const f = firstFailure(report.steps)
      expect(f.id).toBe("http")
      expect(f.fix).toContain("the tunnel is up, but nothing answers on 127.0.0.1:")
    })
  }
)
