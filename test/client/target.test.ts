import { describe, expect, it } from "vitest"
import { checkPlaintext, isPrivateAddress, resolveTarget } from "../../src/client/target.js"

const loaded = (gateway: Record<string, any> = {}) => ({
  configPath: "/cfg/openclaw.json",
  stateDir: "/cfg",
  exists: true,
  file: { gateway }
})

describe("client target", () => {
  it("local: ws://127.0.0.1:<port>, credentials from env then gateway.auth.token", () => {
    const t = resolveTarget(loaded({ port: 19000, auth: { token: "file" } }), {}, {})
    expect(t).toMatchObject({
      url: "ws://127.0.0.1:19000",
      source: "local (gateway.port)",
      token: "file",
      remote: false
    })
    expect(resolveTarget(loaded({ auth: { token: "file" } }), { OPENCLAW_GATEWAY_TOKEN: "env" }, {}).token).toBe("env")
    expect(
      resolveTarget(loaded({ auth: { token: "file" } }), { OPENCLAW_GATEWAY_TOKEN: "env" }, { token: "flag" }).token
    ).toBe("flag")
    expect(resolveTarget(loaded(), { OPENCLAW_GATEWAY_PORT: "19001" }, {}).url).toBe("ws://127.0.0.1:19001")
  })

  it("--url > OPENCLAW_GATEWAY_URL > gateway.remote.url (remote mode) > local", () => {
    const cfg = loaded({
      mode: "remote",
      remote: { url: "ws://10.0.0.5:18789", token: "remote" },
      auth: { token: "file" }
    })
    expect(resolveTarget(cfg, {}, {})).toMatchObject({
      url: "ws://10.0.0.5:18789",
      source: "gateway.remote.url",
      token: "remote"
    })
    expect(resolveTarget(cfg, { OPENCLAW_GATEWAY_URL: "ws://127.0.0.1:1" }, {})).toMatchObject({
      url: "ws://127.0.0.1:1",
      source: "OPENCLAW_GATEWAY_URL"
    })
    expect(
      resolveTarget(cfg, { OPENCLAW_GATEWAY_URL: "ws://127.0.0.1:1" }, { url: "ws://127.0.0.1:2", token: "x" })
    ).toMatchObject({ url: "ws://127.0.0.1:2", source: "--url", token: "x" })
    expect(resolveTarget(loaded({ remote: { url: "ws://10.0.0.5:1" }, auth: { token: "f" } }), {}, {}).url).toBe(
      "ws://127.0.0.1:18789"
    )
  })

  it("remote credentials: gateway.remote.token, then OPENCLAW_GATEWAY_TOKEN, then gateway.auth.token", () => {
    const base = { mode: "remote", remote: { url: "ws://10.0.0.5:18789" }, auth: { token: "file" } }
    expect(resolveTarget(loaded(base), {}, {}).token).toBe("file")
    expect(resolveTarget(loaded(base), { OPENCLAW_GATEWAY_TOKEN: "env" }, {}).token).toBe("env")
    expect(
      resolveTarget(loaded({ ...base, remote: { ...base.remote, token: "r" } }), { OPENCLAW_GATEWAY_TOKEN: "env" }, {})
        .token
    ).toBe("r")
    expect(resolveTarget(loaded({ ...base, remote: { ...base.remote, password: "p" } }), {}, {}).password).toBe("p")
  })

  it("--url never takes credentials from config or environment", () => {
    expect(() =>
      resolveTarget(loaded({ auth: { token: "file" } }), { OPENCLAW_GATEWAY_TOKEN: "env" }, { url: "ws://127.0.0.1:1" })
    ).toThrow("gateway url override requires explicit credentials")
    const t = resolveTarget(
      loaded({ auth: { token: "file" } }),
      { OPENCLAW_GATEWAY_TOKEN: "env" },
      { url: "ws://127.0.0.1:1", password: "p" }
    )
    expect(t.token).toBeUndefined()
    expect(t.password).toBe("p")
  })

  it("remote mode without gateway.remote.url, and non-ws URLs, are config errors naming the key", () => {
    expect(() => resolveTarget(loaded({ mode: "remote" }), {}, {})).toThrow("gateway.remote.url is not set")
    expect(() => resolveTarget(loaded(), {}, { url: "http://127.0.0.1:1", token: "t" })).toThrow(
      "--url: expected a ws:// or wss:// URL"
    )
  })
})

describe("plaintext guard", () => {
  it("knows private and tailnet ranges", () => {
    for (const a of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "100.64.0.1",
      "100.127.255.1",
      "::1",
      "fd7a:115c:a1e0::1",
      "::ffff:192.168.0.2"
    ])
      expect(isPrivateAddress(a)).toBe(true)
    for (const a of ["8.8.8.8", "100.128.0.1", "172.32.0.1", "2001:db8::1"]) expect(isPrivateAddress(a)).toBe(false)
  })

  it("refuses ws:// to a public address with the tunnel and Tailscale hints; allows wss://, private and tailnet ws://", () => {
    expect(() => checkPlaintext("ws://203.0.113.7:18789")).toThrow(
      /plaintext ws:\/\/ to a non-loopback address.*SSH tunnel.*Tailscale/s
    )
    expect(() => checkPlaintext("wss://203.0.113.7:18789")).not.toThrow()
    for (const ok of [
      "ws://192.168.1.20:18789",
      "ws://localhost:18789",
      "ws://[::1]:18789",
      "ws://gw.tail1234.ts.net:18789",
      "ws://pi.local:18789",
      "ws://100.101.102.103:18789"
    ]) {
      expect(() => checkPlaintext(ok), ok).not.toThrow()
    }
  })

  it("other names need OPENCLAW_ALLOW_INSECURE_PRIVATE_WS=1; public IP addresses are refused even then", () => {
    expect(() => checkPlaintext("ws://gateway.example.com:18789")).toThrow("OPENCLAW_ALLOW_INSECURE_PRIVATE_WS=1")
    expect(() => checkPlaintext("ws://nas.home.lan:18789", { OPENCLAW_ALLOW_INSECURE_PRIVATE_WS: "1" })).not.toThrow()
    expect(() => checkPlaintext("ws://203.0.113.7:18789", { OPENCLAW_ALLOW_INSECURE_PRIVATE_WS: "1" })).toThrow()
  })
})

describe("local target for binds that leave loopback unbound", () => {
  const tailscale = () => ({ tailscale0: [{ address: "100.101.102.103", family: "IPv4", internal: false } as any] })

  it("tailnet: the CLI targets the Tailscale address and says why", () => {
    const t = resolveTarget(loaded({ bind: "tailnet", auth: { token: "t" } }), {}, {}, tailscale)
    expect(t.url).toBe("ws://100.101.102.103:18789")
    expect(t.source).toBe('local (gateway.bind "tailnet", default port)')
    expect(() => resolveTarget(loaded({ bind: "tailnet" }), {}, {}, () => ({}))).toThrow("no Tailscale address")
  })

  it("custom: the CLI targets customBindHost", () => {
    expect(
      resolveTarget(loaded({ bind: "custom", customBindHost: "10.0.0.5", port: 19000 }), {}, {}, () => ({})).url
    ).toBe("ws://10.0.0.5:19000")
    expect(resolveTarget(loaded({ bind: "custom", customBindHost: "fd00::5" }), {}, {}, () => ({})).url).toBe(
      "ws://[fd00::5]:18789"
    )
    expect(resolveTarget(loaded({ bind: "lan" }), {}, {}, () => ({})).url).toBe("ws://127.0.0.1:18789")
  })
})
