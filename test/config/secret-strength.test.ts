/** Secrets strong enough for the exposure: refused at start-up (exit 78) once other machines can reach the Gateway. */
import { randomBytes } from "node:crypto"
import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { isObviousSecret, secretWeakness } from "../../src/config/secret-strength.js"
import { resolveServerSettings } from "../../src/config/settings.js"
import { decodeConfigFile } from "../../src/config/schema.js"
import { auditConfig } from "../../src/services/security/audit.js"
import { autoFallbackRefusal } from "../../src/services/binder/Binder.js"
import { testSettings } from "../../src/services/config/GatewayConfig.js"

const loaded = (gateway: Record<string, unknown>) => {
  const decoded = decodeConfigFile({ gateway })
  if (!decoded.ok) throw new Error("bad test config")
  return { configPath: "/x/openclaw.json", stateDir: "/x", exists: true, file: (decoded as any).config }
}

const refusal = (
  gateway: Record<string, unknown>,
  flags: Record<string, unknown> = {},
  env: Record<string, string> = {}
): string => {
  try {
    resolveServerSettings(loaded(gateway), env, flags)
  } catch (e) {
    expect((e as any)._tag).toBe("ConfigError")
    expect((e as any).exitCode).toBe(78)
    return (e as Error).message
  }
  throw new Error("expected a ConfigError")
}

const STRONG_TOKEN = randomBytes(24).toString("hex")
const STRONG_PASSWORD = "correct horse battery staple"

describe("secrets strong enough for the exposure", () => {
  it.each([
    [
      "lan, 3-character token",
      { bind: "lan", auth: { token: "abc" } },
      [
        'the token from gateway.auth.token is 3 characters, too short (at least 24) for gateway.bind "lan"',
        "openssl rand -hex 24"
      ]
    ],
    [
      "tailnet, 23-character token",
      { bind: "tailnet", auth: { token: "x1y2z3w4".repeat(3).slice(0, 23) } },
      ['23 characters, too short (at least 24) for gateway.bind "tailnet"']
    ],
    [
      "custom, short token",
      { bind: "custom", customBindHost: "10.0.0.5", auth: { token: "s3cr3t" } },
      ['gateway.bind "custom" (10.0.0.5)']
    ],
    [
      "serve, short token",
      { auth: { token: "abc" }, tailscale: { mode: "serve" } },
      ['for gateway.tailscale.mode "serve"']
    ],
    [
      "funnel, short password",
      { auth: { mode: "password", password: "abc" }, tailscale: { mode: "funnel" } },
      [
        'the password from gateway.auth.password is 3 characters, too short (at least 16) for gateway.tailscale.mode "funnel" (the public internet)',
        "--password-file"
      ]
    ],
    [
      "lan, 15-character password",
      { bind: "lan", auth: { mode: "password", password: "fifteen-chars-x" } },
      ["15 characters, too short (at least 16)"]
    ],
    [
      "lan, a long well-known token",
      { bind: "lan", auth: { token: "passwordpasswordpassword" } },
      ["well-known, repeated or sequential value"]
    ],
    [
      "lan, a repeated character",
      { bind: "lan", auth: { token: "a".repeat(40) } },
      ["well-known, repeated or sequential value"]
    ],
    [
      "lan, a digit run",
      { bind: "lan", auth: { token: "123456789012345678901234567890" } },
      ["well-known, repeated or sequential value"]
    ],
    [
      "serve, changeme with digits",
      { auth: { mode: "password", password: "ChangeMe-2026-2026!" }, tailscale: { mode: "serve" } },
      ["well-known"]
    ]
  ])("refuses %s (exit 78), never quoting the secret", (_name, gateway, expected) => {
    const message = refusal(gateway)
    for (const e of expected) expect(message).toContain(e)
    const secret =
      (gateway.auth as { token?: string; password?: string }).token ?? (gateway.auth as { password?: string }).password!
    expect(message).not.toContain(secret)
  })

  it("names the source of the secret in force: --token, OPENCLAW_GATEWAY_TOKEN, --password", () => {
    expect(refusal({ bind: "lan", auth: { token: STRONG_TOKEN } }, { token: "abc" })).toContain(
      "the token from --token is 3 characters"
    )
    expect(refusal({ bind: "lan" }, {}, { OPENCLAW_GATEWAY_TOKEN: "abc" })).toContain(
      "the token from OPENCLAW_GATEWAY_TOKEN"
    )
    expect(refusal({}, { tailscale: "funnel", auth: "password", password: "abc" })).toContain(
      "the password from --password"
    )
  })

  it("loopback keeps accepting whatever the user chose; strong secrets start everywhere", () => {
    expect(resolveServerSettings(loaded({ auth: { token: "abc" } }), {}, {}).auth.mode).toBe("token")
    expect(resolveServerSettings(loaded({ auth: { mode: "password", password: "password" } }), {}, {}).auth.mode).toBe(
      "password"
    )
    // "auto" is judged only if it falls back to every interface (Binder).
    expect(resolveServerSettings(loaded({ bind: "auto", auth: { token: "abc" } }), {}, {}).bind).toBe("auto")
    // A custom bind on a loopback address is not reachable from other machines either.
    expect(
      resolveServerSettings(loaded({ bind: "custom", customBindHost: "127.0.0.2", auth: { token: "abc" } }), {}, {})
        .bind
    ).toBe("custom")
    expect(resolveServerSettings(loaded({ bind: "lan", auth: { token: STRONG_TOKEN } }), {}, {}).bind).toBe("lan")
    expect(
      resolveServerSettings(
        loaded({ auth: { mode: "password", password: STRONG_PASSWORD }, tailscale: { mode: "funnel" } }),
        {},
        {}
      ).tailscale.mode
    ).toBe("funnel")
  })

  it('"auto" refuses to fall back to every interface with a weak secret, and only then', () => {
    const base = testSettings()
    const withToken = (bind: "auto" | "loopback", token: string) => ({
      ...base,
      bind,
      auth: { ...base.auth, token: Redacted.make(token), secretSource: "gateway.auth.token" }
    })
    expect(autoFallbackRefusal(withToken("auto", "abc"))).toContain(
      'the token from gateway.auth.token is 3 characters, too short (at least 24) for gateway.bind "auto", which fell back to every interface'
    )
    expect(autoFallbackRefusal(withToken("auto", STRONG_TOKEN))).toBeUndefined()
    expect(autoFallbackRefusal(withToken("loopback", "abc"))).toBeUndefined()
  })

  it("random secrets of the advised length are never called obvious; obvious ones are", () => {
    for (let i = 0; i < 2000; i++) {
      expect(secretWeakness("token", randomBytes(24).toString("hex"))).toBeUndefined()
      expect(secretWeakness("password", randomBytes(18).toString("base64"))).toBeUndefined()
    }
    for (const s of [
      "password",
      "Password123!",
      "changeme",
      "123456",
      "admin",
      "openclaw",
      "openclaw-openclaw-openclaw",
      "qwertyuiop",
      "abcdefghijklmnopqrstuvwxyz",
      "9876543210",
      "zzzzzzzz"
    ]) {
      expect(isObviousSecret(s), s).toBe(true)
    }
    for (const s of ["correct horse battery staple", "tailscale-e2e-token-0123456789", "test-token-0123456789abcdef"])
      expect(isObviousSecret(s), s).toBe(false)
  })

  it("security audit agrees: what start-up refuses is critical", () => {
    const ids = (gateway: Record<string, unknown>) =>
      auditConfig(loaded(gateway), {}, {}, () => undefined).findings.map((f) => `${f.severity}:${f.id}`)
    expect(
      ids({ bind: "lan", auth: { mode: "password", password: "fifteen-chars-x" }, tls: { enabled: true } })
    ).toContain("critical:short-password")
    expect(ids({ bind: "lan", auth: { token: "passwordpasswordpassword" }, tls: { enabled: true } })).toContain(
      "critical:weak-secret"
    )
    expect(ids({ auth: { token: "passwordpasswordpassword" } })).toContain("warn:weak-secret")
    expect(ids({ bind: "lan", auth: { token: STRONG_TOKEN }, tls: { enabled: true } })).toEqual([])
  })
})
