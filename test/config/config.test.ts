import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Either, Redacted } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { createDefaultConfig, loadConfig, parseConfigText, resolvePaths } from "../../src/config/load.js"
import { decodeConfigFile } from "../../src/config/schema.js"
import { resolveServerSettings } from "../../src/config/settings.js"
import { GatewayConfig } from "../../src/services/config/GatewayConfig.js"

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-config-"))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

const loaded = (gateway: Record<string, unknown> = {}) => ({
  configPath: path.join(dir, "openclaw.json"),
  stateDir: dir,
  exists: true,
  file: decodeConfigFile({ gateway }).ok ? (decodeConfigFile({ gateway }) as any).config : {}
})

const configError = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    expect((e as any)._tag).toBe("ConfigError")
    expect((e as any).exitCode).toBe(78)
    return (e as Error).message
  }
  throw new Error("expected a ConfigError")
}

describe("config file paths", () => {
  it("OPENCLAW_CONFIG_PATH, else OPENCLAW_STATE_DIR/openclaw.json, else ~/.openclaw/openclaw.json", () => {
    expect(resolvePaths({ HOME: "/h", OPENCLAW_CONFIG_PATH: "/x/c.json", OPENCLAW_STATE_DIR: "/s" }).configPath).toBe(
      "/x/c.json"
    )
    expect(resolvePaths({ HOME: "/h", OPENCLAW_STATE_DIR: "/s" })).toEqual({
      configPath: "/s/openclaw.json",
      stateDir: "/s"
    })
    expect(resolvePaths({ HOME: "/h" })).toEqual({ configPath: "/h/.openclaw/openclaw.json", stateDir: "/h/.openclaw" })
  })
})

describe("decoding", () => {
  it("names the key path and the allowed values for a wrong enum", () => {
    const msg = configError(() => parseConfigText(`{gateway: {bind: "0.0.0.0"}}`, "f.json", {}))
    expect(msg).toContain(`gateway.bind: expected one of loopback|lan|tailnet|custom|auto, got "0.0.0.0"`)
  })

  it("names unknown keys and wrong types, all at once", () => {
    const msg = configError(() =>
      parseConfigText(`{gateway: {prot: 1, port: "80", auth: {mode: "token", tokn: "x"}}}`, "f.json", {})
    )
    expect(msg).toContain("gateway.prot: unknown key")
    expect(msg).toContain("gateway.auth.tokn: unknown key")
    expect(msg).toContain(`gateway.port: expected an integer port between 0 and 65535 (0: any free port), got "80"`)
  })

  it("a JSON5 syntax error names file, line and column", () => {
    const msg = configError(() => parseConfigText(`{\n  gateway: {\n    port: 18789,,\n  }\n}`, "/etc/oc.json", {}))
    expect(msg).toMatch(/^\/etc\/oc\.json:3:17: invalid JSON5 \(line 3, column 17\)/)
  })

  it("accepts JSON5 (comments, trailing commas, unquoted keys)", () => {
    const cfg = parseConfigText(`// mine\n{gateway: {port: 18800, bind: 'lan', auth: {token: "t",},},}`, "f", {})
    expect(cfg.gateway).toEqual({ port: 18800, bind: "lan", auth: { token: "t" } })
  })

  it("substitutes ${VAR} in strings, keeps $${VAR} literal, and names the key of a missing variable", () => {
    const cfg = parseConfigText(`{gateway: {auth: {token: "\${MY_TOKEN}"}, remote: {url: "ws://h:1/$\${X}"}}}`, "f", {
      MY_TOKEN: "abc"
    })
    expect(cfg.gateway?.auth?.token).toBe("abc")
    expect(cfg.gateway?.remote?.url).toBe("ws://h:1/${X}")
    const msg = configError(() => parseConfigText(`{gateway: {auth: {token: "\${NOPE}"}}}`, "f", {}))
    expect(msg).toContain("gateway.auth.token: environment variable NOPE is not set")
  })

  it("a file that fails to parse is never rewritten", async () => {
    const file = path.join(dir, "openclaw.json")
    const text = `{gateway: {bind: "everywhere"}}`
    fs.writeFileSync(file, text)
    const result = await Effect.runPromise(
      Effect.either(GatewayConfig.load({ env: { OPENCLAW_STATE_DIR: dir }, createIfMissing: true }))
    )
    expect(Either.isLeft(result)).toBe(true)
    expect(fs.readFileSync(file, "utf8")).toBe(text)
  })
})

describe("first run", () => {
  it("creates the state dir 0700 and a 0600 config with mode local and a 256-bit random token", async () => {
    const stateDir = path.join(dir, "state")
    const cfg = await Effect.runPromise(createDefaultConfig(resolvePaths({ OPENCLAW_STATE_DIR: stateDir })))
    expect(fs.statSync(stateDir).mode & 0o777).toBe(0o700)
    const file = path.join(stateDir, "openclaw.json")
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    const written = JSON.parse(fs.readFileSync(file, "utf8"))
    expect(written.gateway.mode).toBe("local")
    expect(written.gateway.auth.token).toMatch(/^[0-9a-f]{64}$/)
    expect(cfg.file.gateway?.auth?.token).toBe(written.gateway.auth.token)
    const again = await Effect.runPromise(
      createDefaultConfig(resolvePaths({ OPENCLAW_STATE_DIR: path.join(dir, "other") }))
    )
    expect(again.file.gateway?.auth?.token).not.toBe(written.gateway.auth.token)
  })

  it("never overwrites an existing file", async () => {
    const file = path.join(dir, "openclaw.json")
    fs.writeFileSync(file, "{}")
    const result = await Effect.runPromise(
      Effect.either(createDefaultConfig(resolvePaths({ OPENCLAW_STATE_DIR: dir })))
    )
    expect(Either.isLeft(result)).toBe(true)
    expect(fs.readFileSync(file, "utf8")).toBe("{}")
  })

  it("loadConfig reports a missing file as not existing (defaults apply)", async () => {
    const cfg = await Effect.runPromise(loadConfig({ OPENCLAW_STATE_DIR: path.join(dir, "none") }))
    expect(cfg.exists).toBe(false)
  })
})

describe("precedence: flag > environment > file > default", () => {
  it("port", () => {
    expect(resolveServerSettings(loaded({ auth: { token: "file-token" } }), {}, {}).port).toBe(18789)
    expect(resolveServerSettings(loaded({ port: 1001, auth: { token: "t" } }), {}, {}).port).toBe(1001)
    expect(
      resolveServerSettings(loaded({ port: 1001, auth: { token: "t" } }), { OPENCLAW_GATEWAY_PORT: "1002" }, {}).port
    ).toBe(1002)
    expect(
      resolveServerSettings(
        loaded({ port: 1001, auth: { token: "t" } }),
        { OPENCLAW_GATEWAY_PORT: "1002" },
        { port: 1003 }
      ).port
    ).toBe(1003)
    expect(
      configError(() => resolveServerSettings(loaded({ auth: { token: "t" } }), { OPENCLAW_GATEWAY_PORT: "http" }, {}))
    ).toContain("OPENCLAW_GATEWAY_PORT")
  })

  it("token and bind", () => {
    const t = (env: Record<string, string>, flags: Record<string, string>) => {
      const s = resolveServerSettings(loaded({ auth: { token: "file-token" } }), env, flags)
      return [Redacted.value(s.auth.token!), s.auth.secretSource]
    }
    expect(t({}, {})).toEqual(["file-token", "gateway.auth.token"])
    expect(t({ OPENCLAW_GATEWAY_TOKEN: "env-token" }, {})).toEqual(["env-token", "OPENCLAW_GATEWAY_TOKEN"])
    expect(t({ OPENCLAW_GATEWAY_TOKEN: "env-token" }, { token: "flag-token" })).toEqual(["flag-token", "--token"])
    expect(resolveServerSettings(loaded({ auth: { token: "t" } }), {}, {}).bind).toBe("loopback")
    expect(resolveServerSettings(loaded({ bind: "lan", auth: { token: "t" } }), {}, { bind: "loopback" }).bind).toBe(
      "loopback"
    )
  })

  it("password from OPENCLAW_GATEWAY_PASSWORD and --password-file; mode inferred from the secret given", () => {
    const pwFile = path.join(dir, "pw")
    fs.writeFileSync(pwFile, "from-file\n", { mode: 0o600 })
    const s = resolveServerSettings(loaded({}), { OPENCLAW_GATEWAY_PASSWORD: "env-pw" }, {})
    expect(s.auth.mode).toBe("password")
    expect(Redacted.value(s.auth.password!)).toBe("env-pw")
    const f = resolveServerSettings(
      loaded({}),
      { OPENCLAW_GATEWAY_PASSWORD: "env-pw" },
      { auth: "password", passwordFile: pwFile }
    )
    expect(Redacted.value(f.auth.password!)).toBe("from-file")
  })

  it("the secret never shows when settings are printed", () => {
    const s = resolveServerSettings(loaded({ auth: { token: "super-secret-token" } }), {}, {})
    expect(JSON.stringify(s)).not.toContain("super-secret-token")
    expect(String(s.auth.token)).not.toContain("super-secret-token")
  })
})

describe("fail-closed start-up (exit 78, naming the key)", () => {
  it.each([
    ["token mode without a token", {}, {}, "gateway.auth.token"],
    ["a blank token", { auth: { token: "  " } }, {}, "blank"],
    ['the literal "undefined"', { auth: { token: "undefined" } }, {}, "placeholder"],
    ['the literal "null" password', { auth: { mode: "password", password: "null" } }, {}, "placeholder"],
    ["password mode without a password", { auth: { mode: "password" } }, {}, "gateway.auth.password"],
    [
      "auth none on a LAN bind",
      { bind: "lan", auth: { mode: "none" } },
      {},
      `gateway.auth.mode "none" is only allowed with gateway.bind "loopback"`
    ],
    [
      "funnel without password auth",
      { auth: { token: "t" }, tailscale: { mode: "funnel" } },
      {},
      `needs gateway.auth.mode "password"`
    ],
    [
      "serve with auth none",
      { auth: { mode: "none" }, tailscale: { mode: "serve" } },
      {},
      `cannot be used with gateway.tailscale.mode "serve"`
    ],
    [
      "serve with a LAN bind",
      { bind: "lan", auth: { token: "t" }, tailscale: { mode: "serve" } },
      {},
      `needs gateway.bind "loopback"`
    ],
    [
      "custom bind without customBindHost",
      { bind: "custom", auth: { token: "t" } },
      {},
      "gateway.customBindHost must be an IP address"
    ],
    [
      "custom bind with a hostname",
      { bind: "custom", customBindHost: "myhost", auth: { token: "t" } },
      {},
      "gateway.customBindHost must be an IP address"
    ]
  ])("refuses %s", (_name, gateway, env, expected) => {
    expect(configError(() => resolveServerSettings(loaded(gateway), env, {}))).toContain(expected)
  })

  it("the server's token never comes from gateway.remote.token, and the message says so", () => {
    const msg = configError(() => resolveServerSettings(loaded({ remote: { token: "client-side" } }), {}, {}))
    expect(msg).toContain("gateway.remote.token is the CLI's credential")
  })

  it("auth none is accepted on loopback with no exposure", () => {
    expect(resolveServerSettings(loaded({ auth: { mode: "none" } }), {}, {}).auth.mode).toBe("none")
  })
})
