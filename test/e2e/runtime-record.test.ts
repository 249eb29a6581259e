/**
 * The local CLI finds the Gateway it started: `gateway run --port N` writes a runtime record in the
 * state dir, and plain `openclaw status`, `health`, `nodes approve` and `dashboard` use it, with no
 * port in the config or the environment. Through the real CLI.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { type NodeHostProcess, startNodeHost } from "../support/node-host.js"

const TOKEN = "runtime-record-token-0123456789abcdef"
const RECORD = "gateway-runtime.json"

/** A state dir whose config has the token but no port, as after a first run. */
const stateWithToken = () => {
  const dir = tempStateDir()
  fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway: { auth: { token: TOKEN } } }), {
    mode: 0o600
  })
  return dir
}

describe("gateway run --port N, then plain local commands", () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  let gw: GatewayProcess
  let port: number
  let node: NodeHostProcess | undefined

  beforeAll(async () => {
    dir = stateWithToken()
    env = cliEnv(dir)
    port = await freePort()
    gw = await startGateway(["--port", String(port)], env)
  }, 30_000)
  afterAll(async () => {
    await node?.stop()
    await gw?.stop()
  })

  it("writes a 0600 record with PID, port, bind, URLs and start time, and no secret", () => {
    const file = path.join(dir, RECORD)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    const text = fs.readFileSync(file, "utf8")
    expect(JSON.parse(text)).toMatchObject({
      pid: gw.child.pid,
      port,
      bind: "loopback",
      url: `ws://127.0.0.1:${port}`,
      controlUiUrl: `http://127.0.0.1:${port}/`,
      healthUrl: `http://127.0.0.1:${port}/healthz`,
      authMode: "token",
      configPath: path.join(dir, "openclaw.json")
    })
    expect(Date.now() - Date.parse(JSON.parse(text).startedAt)).toBeLessThan(60_000)
    expect(text).not.toContain(TOKEN)
  })

  it("status shows the running Gateway as the source; health and gateway call reach it", async () => {
    const status = await runCli(["status"], env)
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toContain(
      `Target:     ws://127.0.0.1:${port} (running Gateway, PID ${gw.child.pid}, port ${port})`
    )
    const json = JSON.parse((await runCli(["status", "--json"], env)).stdout)
    expect(json).toMatchObject({ reachable: true, source: `running Gateway, PID ${gw.child.pid}, port ${port}` })
    expect((await runCli(["health"], env)).code).toBe(0)
    expect((await runCli(["gateway", "call", "health"], env)).code).toBe(0)
  }, 30_000)

  it("an explicit port elsewhere wins over the record (--port, OPENCLAW_GATEWAY_PORT), and the hint names --port", async () => {
    const other = await freePort()
    const flag = await runCli(["health", "--port", String(other)], env)
    expect(flag.code).toBe(1)
    expect(flag.stderr).toContain(`Gateway target: ws://127.0.0.1:${other}`)
    expect(flag.stderr).toContain("Source: local (--port)")
    expect(flag.stderr).toContain("pass --port N")
    const fromEnv = await runCli(["health"], { ...env, OPENCLAW_GATEWAY_PORT: String(other) })
    expect(fromEnv.stderr).toContain("Source: local (OPENCLAW_GATEWAY_PORT)")
    const same = await runCli(["health", "--port", String(port)], env)
    expect(same.code).toBe(0)
  }, 30_000)

  it("the node host's advice works: `nodes approve` by name or unique prefix, on the remembered port", async () => {
    node = startNodeHost(
      ["--url", `ws://127.0.0.1:${port}`, "--token", TOKEN, "--display-name", "rr-laptop"],
      cliEnv(tempStateDir())
    )
    const [, requestId] = await node.waitFor(/waiting for approval: requestId ([0-9a-f-]{36})/)
    const pending = await runCli(["nodes", "pending"], env)
    expect(pending.stdout).toContain(requestId)
    const approved = await runCli(["nodes", "approve", requestId!.slice(0, 8)], env)
    expect(approved.code, approved.stderr).toBe(0)
    expect(approved.stdout).toContain("Approved node rr-laptop")
    await node.waitFor(/connected to ws:\/\/127\.0\.0\.1:\d+ as node [0-9a-f]{12} \(rr-laptop\)/)
  }, 60_000)

  it("dashboard prints a one-time sign-in link of the running Gateway (never the token); --no-open never starts a browser", async () => {
    const bin = path.join(dir, "bin")
    const opened = path.join(dir, "opened.txt")
    fs.mkdirSync(bin, { recursive: true })
    fs.writeFileSync(path.join(bin, "xdg-open"), `#!/bin/sh\nprintf '%s\\n' "$@" >> ${JSON.stringify(opened)}\n`, {
      mode: 0o755
    })
    const withOpener = { ...env, PATH: `${bin}${path.delimiter}${env.PATH}`, DISPLAY: ":99" }
    const link = new RegExp(`Control UI: http://127\\.0\\.0\\.1:${port}/#code=[A-Za-z0-9_-]{32}\n`)

    const printOnly = await runCli(["dashboard", "--no-open"], withOpener)
    expect(printOnly.code, printOnly.stderr).toBe(0)
    expect(printOnly.stdout).toMatch(link)
    expect(printOnly.stdout).not.toContain(TOKEN)
    expect(printOnly.stdout).toContain(`running Gateway, PID ${gw.child.pid}, port ${port}`)
    expect(fs.existsSync(opened)).toBe(false)

    const open = await runCli(["dashboard"], withOpener)
    expect(open.code, open.stderr).toBe(0)
    expect(open.stdout).toContain("Opened in your browser")
    const deadline = Date.now() + 5_000
    // Until the fake opener has written its whole line (the file exists a moment before that).
    while (!(fs.existsSync(opened) && fs.readFileSync(opened, "utf8").endsWith("\n")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50))
    // The opener's whole argv: the code link, and no token (argv is readable by every local user).
    const argv = fs.readFileSync(opened, "utf8")
    expect(`Control UI: ${argv}`).toMatch(link)
    expect(open.stdout).toContain(`Control UI: ${argv}`)
    expect(argv).not.toContain(TOKEN)

    // No opener (or no graphical session): the link is printed and the user is told.
    const none = await runCli(["dashboard"], { ...env, DISPLAY: "" })
    expect(none.code).toBe(0)
    expect(none.stdout).toMatch(link)
    expect(none.stdout).toContain("No browser to open here")

    const json = JSON.parse((await runCli(["dashboard", "--json"], withOpener)).stdout)
    expect(json).toMatchObject({
      controlUiUrl: `http://127.0.0.1:${port}/`,
      signIn: "code",
      pid: gw.child.pid,
      running: true
    })
    expect(`Control UI: ${json.url}\n`).toMatch(link)
  }, 30_000)

  it("the record is removed when the Gateway stops", async () => {
    const { code } = await gw.stop("SIGTERM")
    expect(code).toBe(0)
    expect(fs.existsSync(path.join(dir, RECORD))).toBe(false)
    const status = await runCli(["status"], env)
    expect(status.code).toBe(1)
    expect(status.stderr).toContain("Source: local (default port)")
  }, 30_000)
})

describe("a stale record", () => {
  it("whose process is gone is ignored (a Gateway killed with SIGKILL)", async () => {
    const dir = stateWithToken()
    const port = await freePort()
    const gw = await startGateway(["--port", String(port)], cliEnv(dir))
    await gw.stop("SIGKILL")
    expect(fs.existsSync(path.join(dir, RECORD))).toBe(true)
    const r = await runCli(["health"], cliEnv(dir))
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("Source: local (default port)")
    // A record written by hand with the PID of a process that has exited is ignored too.
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid
    fs.writeFileSync(
      path.join(dir, RECORD),
      JSON.stringify({ pid: dead, port, url: `ws://127.0.0.1:${port}`, configPath: path.join(dir, "openclaw.json") })
    )
    expect((await runCli(["health"], cliEnv(dir))).stderr).toContain("Source: local (default port)")
  }, 30_000)

  it("a second Gateway that fails to start (port in use) leaves the first one's record alone", async () => {
    const dir = stateWithToken()
    const port = await freePort()
    const gw = await startGateway(["--port", String(port)], cliEnv(dir))
    try {
      const second = await runCli(["gateway", "run", "--port", String(port)], cliEnv(dir))
      expect(second.code).toBe(1)
      expect(JSON.parse(fs.readFileSync(path.join(dir, RECORD), "utf8")).pid).toBe(gw.child.pid)
      expect((await runCli(["health"], cliEnv(dir))).code).toBe(0)
    } finally {
      await gw.stop()
    }
  }, 30_000)
})
