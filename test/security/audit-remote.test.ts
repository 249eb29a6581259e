import { describe, expect, it } from "vitest"
import { auditConfig } from "../../src/services/security/audit.js"

// A strong secret: a repeated character would itself be a weak-secret finding.
const LONG = "8c1f0e7a9b3d5c2e4f6a8b0c1d3e5f7a"
const loaded = (gateway: Record<string, any>) => ({
  configPath: "/s/openclaw.json",
  stateDir: "/s",
  exists: true,
  file: { gateway }
})
const ids = (gateway: Record<string, any>, modes: (p: string) => number | undefined = () => 0o600) =>
  auditConfig(loaded(gateway), {}, {}, modes).findings.map((f) => `${f.severity}:${f.id}`)

describe("security audit: TLS key and SSH transport", () => {
  it("a TLS key readable by others: critical when world-readable, warn for the group; 0600 is clean", () => {
    const modeFor = (m: number) => (p: string) => (p === "/s/gateway/tls/gateway-key.pem" ? m : 0o600)
    expect(ids({ auth: { token: LONG }, tls: { enabled: true } }, modeFor(0o644))).toEqual([
      "critical:tls-key-permissions"
    ])
    expect(ids({ auth: { token: LONG }, tls: { enabled: true } }, modeFor(0o640))).toEqual(["warn:tls-key-permissions"])
    expect(ids({ auth: { token: LONG }, tls: { enabled: true } }, modeFor(0o600))).toEqual([])
    expect(
      ids({ auth: { token: LONG }, tls: { enabled: true, certPath: "/c.pem", keyPath: "/k.pem" } }, (p) =>
        p === "/k.pem" ? 0o644 : 0o600
      )
    ).toEqual(["critical:tls-key-permissions"])
  })

  it("transport ssh with the openssh host-key policy is a warning; strict is clean", () => {
    const remote = (policy: string) => ({
      auth: { token: LONG },
      mode: "remote",
      remote: { transport: "ssh", sshTarget: "me@h", sshHostKeyPolicy: policy }
    })
    expect(ids(remote("openssh"))).toEqual(["warn:ssh-host-key-policy-openssh"])
    expect(ids(remote("strict"))).toEqual([])
  })
})
