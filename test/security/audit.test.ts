import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { auditConfig } from "../../src/services/security/audit.js"
import { cliEnv, runCli, startGateway, tempStateDir } from "../support/cli.js"

// A strong secret: a repeated character would itself be a weak-secret finding.
const LONG = "8c1f0e7a9b3d5c2e4f6a8b0c1d3e5f7a"
const loaded = (gateway: Record<string, any>) => ({
  configPath: "/s/openclaw.json",
  stateDir: "/s",
  exists: true,
  file: { gateway }
})
const secure = () => 0o600
const ids = (
  gateway: Record<string, any>,
  env: Record<string, string> = {},
  modes = secure as (p: string) => number | undefined
) => auditConfig(loaded(gateway), env, {}, modes).findings.map((f) => `${f.severity}:${f.id}`)

describe("security audit findings", () => {
  it("a default local setup is clean", () => {
    expect(ids({ auth: { token: LONG } })).toEqual([])
  })

  it.each([
    ["non-loopback bind without auth", { bind: "lan", auth: { mode: "none" } }, "critical:bind-without-auth"],
    ["non-loopback bind with an empty token", { bind: "lan", auth: { token: "" } }, "critical:bind-without-auth"],
    ["auth none on loopback", { auth: { mode: "none" } }, "warn:auth-none"],
    [
      "funnel without password",
      { auth: { token: LONG }, tailscale: { mode: "funnel" } },
      "critical:funnel-without-password"
    ],
    [
      "serve with a non-loopback bind",
      { bind: "lan", auth: { token: LONG }, tailscale: { mode: "serve" } },
      "critical:exposure-with-non-loopback-bind"
    ],
    ["serve with no auth", { auth: { mode: "none" }, tailscale: { mode: "serve" } }, "critical:exposure-without-auth"],
    [
      "a short token on a LAN bind",
      { bind: "lan", auth: { token: "short-token" }, tls: { enabled: true } },
      "critical:short-token"
    ],
    ["a short token on loopback", { auth: { token: "short-token" } }, "warn:short-token"],
    [
      "allowTailscale with a LAN bind",
      { bind: "lan", auth: { token: LONG, allowTailscale: true }, tls: { enabled: true } },
      "warn:tailscale-identity-with-non-loopback-bind"
    ],
    ["TLS off on a LAN bind", { bind: "lan", auth: { token: LONG } }, "warn:plaintext-non-loopback"],
    [
      "remote.url ws:// to a public host",
      { auth: { token: LONG }, remote: { url: "ws://203.0.113.9:18789" } },
      "warn:remote-plaintext-public"
    ]
  ])("%s", (_name, gateway, expected) => {
    expect(ids(gateway)).toContain(expected)
  })

  it("allowTailscale: the finding says what the Gateway really does with each bind", () => {
    // Tailnet bind: identity comes from `tailscale whois` of the real TCP peer, which no header can forge.
    expect(ids({ bind: "tailnet", auth: { token: LONG, allowTailscale: true } })).toEqual([])
    // LAN/custom bind: identity is only honoured from a proxy on this host, so LAN clients still need the token.
    const lan = auditConfig(
      loaded({
        bind: "custom",
        customBindHost: "10.0.0.5",
        auth: { token: LONG, allowTailscale: true },
        tls: { enabled: true }
      }),
      {},
      {},
      secure
    )
    const finding = lan.findings.find((f) => f.id === "tailscale-identity-with-non-loopback-bind")!
    expect(finding.severity).toBe("warn")
    expect(finding.message).not.toContain("only trustworthy through")
    expect(finding.message).toContain("clients on the network still need the token")
    expect(finding.fix).toContain('gateway.bind "tailnet"')
  })

  it("a short password: critical on any reachable bind or exposure (start-up refuses it), nothing on loopback", () => {
    expect(ids({ auth: { mode: "password", password: "hunter2" }, tailscale: { mode: "funnel" } })).toContain(
      "critical:short-password"
    )
    expect(ids({ bind: "lan", auth: { mode: "password", password: "hunter2" }, tls: { enabled: true } })).toContain(
      "critical:short-password"
    )
    expect(ids({ auth: { mode: "password", password: "hunter2" } })).toEqual([])
    expect(
      ids({ auth: { mode: "password", password: "correct horse battery staple" }, tailscale: { mode: "funnel" } })
    ).toEqual([])
    const r = auditConfig(
      loaded({ auth: { mode: "password", password: "hunter2" }, tailscale: { mode: "funnel" } }),
      {},
      {},
      secure
    )
    expect(JSON.stringify(r)).not.toContain("hunter2")
  })

  it("an agent API key sent over plain http to a non-private host", () => {
    const withAgent = (baseUrl: string, apiKeyEnv?: string) =>
      auditConfig(
        {
          ...loaded({ auth: { token: LONG } }),
          file: {
            gateway: { auth: { token: LONG } },
            agent: { provider: { kind: "openai", baseUrl, model: "m", apiKeyEnv } }
          }
        },
        {},
        {},
        secure
      ).findings.map((f) => `${f.severity}:${f.id}`)
    expect(withAgent("http://api.example.com/v1", "OPENAI_API_KEY")).toEqual(["warn:agent-key-plaintext"])
    expect(withAgent("https://api.example.com/v1", "OPENAI_API_KEY")).toEqual([])
    expect(withAgent("http://127.0.0.1:11434/v1", "OPENAI_API_KEY")).toEqual([])
    expect(withAgent("http://api.example.com/v1")).toEqual([])
  })

  it("config and state files readable by others", () => {
    const modes = (p: string) => (p.endsWith(".json") ? 0o644 : 0o755)
    expect(ids({ auth: { token: LONG } }, {}, modes)).toEqual([
      "critical:config-permissions",
      "warn:state-dir-permissions"
    ])
  })

  it("reads the environment and flags too, not just the file", () => {
    expect(ids({ bind: "lan" }, { OPENCLAW_GATEWAY_TOKEN: LONG })).not.toContain("critical:bind-without-auth")
    const r = auditConfig(loaded({ auth: { token: LONG } }), {}, { bind: "lan", auth: "none" }, secure)
    expect(r.summary.critical).toBeGreaterThan(0)
  })

  it("never prints a secret", () => {
    const r = auditConfig(loaded({ bind: "lan", auth: { token: "tiny-secret" } }), {}, {}, secure)
    expect(JSON.stringify(r)).not.toContain("tiny-secret")
  })
})

describe("openclaw security audit", () => {
  it("exit 0 when clean, 1 with a critical finding; --json", async () => {
    const stateDir = tempStateDir()
    fs.chmodSync(stateDir, 0o700)
    const file = path.join(stateDir, "openclaw.json")
    fs.writeFileSync(file, JSON.stringify({ gateway: { auth: { token: LONG } } }), { mode: 0o600 })
    const clean = await runCli(["security", "audit"], cliEnv(stateDir))
    expect(clean.code).toBe(0)
    expect(clean.stdout).toContain("No problems found.")
    const bad = await runCli(["security", "audit", "--bind", "lan", "--auth", "none", "--json"], cliEnv(stateDir))
    expect(bad.code).toBe(1)
    expect(JSON.parse(bad.stdout).findings.map((f: any) => f.id)).toContain("bind-without-auth")
  })

  it("status --deep includes the audit summary", async () => {
    const stateDir = tempStateDir()
    fs.chmodSync(stateDir, 0o700)
    fs.writeFileSync(
      path.join(stateDir, "openclaw.json"),
      JSON.stringify({ gateway: { auth: { token: "short-token-12" } } }),
      { mode: 0o600 }
    )
    const gw = await startGateway(["--port", "0"], cliEnv(stateDir))
    try {
      const r = await runCli(["status", "--deep"], cliEnv(stateDir, { OPENCLAW_GATEWAY_PORT: String(gw.port) }))
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/Audit:\s+0 critical, 1 warning\(s\) \(details: openclaw security audit\)/)
    } finally {
      await gw.stop()
    }
  })

  it("auth none on loopback starts, with a warning on every start", async () => {
    const stateDir = tempStateDir()
    fs.writeFileSync(path.join(stateDir, "openclaw.json"), JSON.stringify({ gateway: { auth: { mode: "none" } } }))
    for (let i = 0; i < 2; i++) {
      const gw = await startGateway(["--port", "0"], cliEnv(stateDir))
      await new Promise((r) => setTimeout(r, 100))
      expect(gw.output()).toContain('warning: gateway.auth.mode is "none"')
      await gw.stop()
    }
  })
})
