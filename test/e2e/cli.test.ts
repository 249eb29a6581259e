import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { authenticated, RawClient } from "../support/gateway.js"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"

describe("first run and the local CLI", () => {
  let stateDir: string
  let gw: GatewayProcess
  let env: NodeJS.ProcessEnv
  let token: string

  beforeAll(async () => {
    stateDir = path.join(tempStateDir(), "state")
    const port = await freePort()
    env = cliEnv(stateDir, { OPENCLAW_GATEWAY_PORT: String(port) })
    gw = await startGateway([], env)
    token = JSON.parse(fs.readFileSync(path.join(stateDir, "openclaw.json"), "utf8")).gateway.auth.token
  })
  afterAll(async () => {
    await gw?.stop()
  })

  it("creates a 0700 state dir and a 0600 config with a random token, says where, and never prints the token", () => {
    expect(fs.statSync(stateDir).mode & 0o777).toBe(0o700)
    expect(fs.statSync(path.join(stateDir, "openclaw.json")).mode & 0o777).toBe(0o600)
    expect(token).toMatch(/^[0-9a-f]{64}$/)
    expect(gw.output()).toContain(`Created ${path.join(stateDir, "openclaw.json")}`)
    expect(gw.output()).toMatch(
      new RegExp(`^listening on ws://127\\.0\\.0\\.1:${gw.port} \\(PID ${gw.child.pid}\\)$`, "m")
    )
    expect(gw.output()).not.toContain(token)
  })

  it("openclaw health / gateway health", async () => {
    for (const args of [["health"], ["gateway", "health"]]) {
      const r = await runCli(args, env)
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^Gateway Health\nOK \(\d+ms\)\n$/)
    }
    const json = await runCli(["health", "--json"], env)
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true })
  })

  it("openclaw status shows target, source, reachability, auth, bind and exposure", async () => {
    const r = await runCli(["status"], env)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`ws://127.0.0.1:${gw.port} (local (OPENCLAW_GATEWAY_PORT))`)
    expect(r.stdout).toMatch(/Reachable:\s+yes \(\d+ms\)/)
    expect(r.stdout).toMatch(/Auth:\s+token \(from gateway\.auth\.token\)/)
    expect(r.stdout).toMatch(/Bind:\s+loopback on 127\.0\.0\.1/)
    expect(r.stdout).toMatch(/Exposure:\s+none/)
    expect(r.stdout).not.toContain(token)
    const deep = await runCli(["gateway", "status", "--deep", "--json"], env)
    const parsed = JSON.parse(deep.stdout)
    expect(parsed).toMatchObject({
      reachable: true,
      source: "local (OPENCLAW_GATEWAY_PORT)",
      status: { bind: { mode: "loopback" } },
      health: { ok: true }
    })
    expect(parsed.presence.some((p: any) => p.client.id === "cli")).toBe(true)
  })

  it("gateway call <method> prints JSON; an unknown method fails with exit 1", async () => {
    const r = await runCli(["gateway", "call", "status", "--json"], env)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).bind.port).toBe(gw.port)
    const bad = await runCli(["gateway", "call", "nope"], env)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain("unknown method: nope")
    const params = await runCli(["gateway", "call", "health", "--params", "{oops"], env)
    expect(params.code).toBe(2)
    expect(params.stderr).toContain("--params is not valid JSON")
  })

  it("--url needs explicit credentials, and works with them", async () => {
    const url = `ws://127.0.0.1:${gw.port}`
    const without = await runCli(["gateway", "call", "health", "--url", url], env)
    expect(without.code).toBe(78)
    expect(without.stderr).toContain("gateway url override requires explicit credentials")
    const withToken = await runCli(["gateway", "call", "health", "--url", url, "--token", token, "--json"], env)
    expect(withToken.code).toBe(0)
  })

  it("a wrong token: the message names the setting, target, source and config; exit 1; no secret printed", async () => {
    const r = await runCli(["health", "--token", "wrong-token"], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("unauthorized: gateway token mismatch")
    expect(r.stderr).toContain(`Gateway target: ws://127.0.0.1:${gw.port}`)
    expect(r.stderr).toContain("Source: local (OPENCLAW_GATEWAY_PORT)")
    expect(r.stderr).toContain(`Config: ${path.join(stateDir, "openclaw.json")}`)
    expect(r.stderr + r.stdout).not.toContain(token)
    expect(r.stderr).not.toContain("wrong-token")
  })

  it("a second Gateway on the same port fails with a message naming the port", async () => {
    const r = await runCli(["gateway", "run", "--port", String(gw.port)], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`port ${gw.port} is already in use`)
    expect(r.stderr).not.toMatch(/at .*\.cjs:\d+/)
  })
})

describe("errors a user meets", () => {
  it("nothing listening: exit 1 with target, source, config and a hint", async () => {
    const stateDir = tempStateDir()
    const port = await freePort()
    const r = await runCli(["health"], cliEnv(stateDir, { OPENCLAW_GATEWAY_PORT: String(port) }))
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("connection refused")
    expect(r.stderr).toContain(`Gateway target: ws://127.0.0.1:${port}`)
    expect(r.stderr).toContain("Hint: start the Gateway with `openclaw gateway run`")
  })

  it("a malformed config: exit 78 with file:line:column, and the file is left as it was", async () => {
    const stateDir = tempStateDir()
    const file = path.join(stateDir, "openclaw.json")
    const text = "{\n  gateway: {\n    port: 18789\n    bind: 'lan'\n  }\n}\n"
    fs.writeFileSync(file, text)
    const r = await runCli(["gateway", "run"], cliEnv(stateDir))
    expect(r.code).toBe(78)
    expect(r.stderr).toContain(`${file}:4:`)
    expect(fs.readFileSync(file, "utf8")).toBe(text)
    const h = await runCli(["health"], cliEnv(stateDir))
    expect(h.code).toBe(78)
  })

  it("a wrong value: exit 78 naming the key path", async () => {
    const stateDir = tempStateDir()
    fs.writeFileSync(path.join(stateDir, "openclaw.json"), `{gateway: {bind: "0.0.0.0", auth: {token: "x"}}}`)
    const r = await runCli(["gateway", "run"], cliEnv(stateDir))
    expect(r.code).toBe(78)
    expect(r.stderr).toContain(`gateway.bind: expected one of loopback|lan|tailnet|custom|auto, got "0.0.0.0"`)
  })

  it("an unsafe combination is refused at start-up with exit 78 and nothing listening", async () => {
    const stateDir = tempStateDir()
    const port = await freePort()
    fs.writeFileSync(
      path.join(stateDir, "openclaw.json"),
      `{gateway: {port: ${port}, tailscale: {mode: "funnel"}, auth: {token: "abc"}}}`
    )
    const r = await runCli(["gateway", "run"], cliEnv(stateDir))
    expect(r.code).toBe(78)
    expect(r.stderr).toContain('needs gateway.auth.mode "password"')
    await expect(RawClient.open(`ws://127.0.0.1:${port}`)).rejects.toThrow()
  })

  it("flags beat environment beat file: --port and --token", async () => {
    const stateDir = tempStateDir()
    const [filePort, envPort, flagPort] = [await freePort(), await freePort(), await freePort()]
    fs.writeFileSync(
      path.join(stateDir, "openclaw.json"),
      `{gateway: {port: ${filePort}, auth: {token: "file-token"}}}`
    )
    const gw = await startGateway(
      ["--port", String(flagPort), "--token", "flag-token"],
      cliEnv(stateDir, { OPENCLAW_GATEWAY_PORT: String(envPort), OPENCLAW_GATEWAY_TOKEN: "env-token" })
    )
    try {
      expect(gw.port).toBe(flagPort)
      expect(gw.output()).toContain("Auth:       token (from --token)")
      const ok = await runCli(
        ["health", "--token", "flag-token"],
        cliEnv(stateDir, { OPENCLAW_GATEWAY_PORT: String(flagPort) })
      )
      expect(ok.code).toBe(0)
      const envOnly = await runCli(
        ["health"],
        cliEnv(stateDir, { OPENCLAW_GATEWAY_PORT: String(flagPort), OPENCLAW_GATEWAY_TOKEN: "env-token" })
      )
      expect(envOnly.code).toBe(1)
    } finally {
      await gw.stop()
    }
  })

  it("--help works on every command", async () => {
    for (const args of [
      ["--help"],
      ["gateway", "--help"],
      ["gateway", "run", "--help"],
      ["gateway", "call", "--help"],
      ["health", "--help"],
      ["status", "--help"]
    ]) {
      const r = await runCli(args, cliEnv(tempStateDir()))
      expect(r.code, args.join(" ")).toBe(0)
      expect(r.stdout).toContain("Usage: openclaw")
    }
  })
})

describe("shutdown", () => {
  it.each(["SIGINT", "SIGTERM"] as const)(
    "%s: shutdown event, sockets closed 1012, exit 0 within 2 s with clients connected",
    async (signal) => {
      const stateDir = tempStateDir()
      const port = await freePort()
      fs.writeFileSync(path.join(stateDir, "openclaw.json"), `{gateway: {port: ${port}, auth: {token: "tok-123456"}}}`)
      const gw = await startGateway([], cliEnv(stateDir))
      const url = `ws://127.0.0.1:${port}`
      const clients = await Promise.all([1, 2, 3].map(() => authenticated(url, { auth: { token: "tok-123456" } })))
      const idle = await RawClient.open(url)
      const { code, ms } = await gw.stop(signal)
      expect(code).toBe(0)
      expect(ms).toBeLessThan(2_000)
      for (const c of clients) {
        expect(c.frames.some((f) => f.type === "event" && f.event === "shutdown")).toBe(true)
        expect((await c.waitClosed()).code).toBe(1012)
      }
      expect((await idle.waitClosed()).code).toBe(1012)
      await expect(RawClient.open(url)).rejects.toThrow()
    }
  )
})
