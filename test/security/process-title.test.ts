/**
 * Secrets in process lists (security.md section 9): a real `openclaw gateway run --token ...` and
 * `openclaw node run --token ...` replace their title at start, so /proc/PID/cmdline (what `ps`
 * shows every local user) no longer holds the secret. Linux only: there, process.title rewrites
 * the argument area the kernel reads cmdline from. The secret is still visible for the few
 * milliseconds before the CLI's first module runs; this test reads after start-up.
 */
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { processTitle } from "../../src/platform/process-title.js"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { type NodeHostProcess, startNodeHost } from "../support/node-host.js"

const cmdline = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, "latin1")
const ps = (pid: number) => execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" }).trim()

describe("the process title", () => {
  it("keeps the command words and drops every flag and value", () => {
    expect(processTitle(["gateway", "run", "--token", "s3cret"])).toBe("openclaw gateway run")
    expect(processTitle(["--token", "s3cret", "gateway", "run"])).toBe("openclaw")
    expect(processTitle(["browser", "type", "#pw", "hunter2"])).toBe("openclaw browser type")
    expect(processTitle(["health", "--password=s3cret"])).toBe("openclaw health")
  })
})

describe.skipIf(process.platform !== "linux")("secrets given as flags are not in /proc/PID/cmdline", () => {
  let gw: GatewayProcess | undefined
  let node: NodeHostProcess | undefined
  afterEach(async () => {
    await node?.stop()
    await gw?.stop()
    node = gw = undefined
  })

  it("control: without a new title, a child's --token is readable in /proc/PID/cmdline", async () => {
    const child = spawn(
      process.execPath,
      ["-e", "setTimeout(() => {}, 10000)", "--", "--token", "control-secret-0123456789"],
      { stdio: "ignore" }
    )
    try {
      await new Promise((r) => setTimeout(r, 300))
      expect(cmdline(child.pid!)).toContain("control-secret-0123456789")
    } finally {
      child.kill()
    }
  })

  it("gateway run --token: cmdline and ps show `openclaw gateway run`, and the token still works", async () => {
    const secret = `cmdline-secret-${Math.random().toString(36).slice(2)}-0123456789`
    const env = cliEnv(tempStateDir())
    gw = await startGateway(["--port", String(await freePort()), "--token", secret], env)
    const pid = gw.child.pid!
    const line = cmdline(pid)
    expect(line).not.toContain(secret)
    expect(line).not.toContain("--token")
    expect(line.replace(/\0+$/, "")).toBe("openclaw gateway run")
    expect(ps(pid)).toBe("openclaw gateway run")
    const health = await runCli(["health"], {
      ...env,
      OPENCLAW_GATEWAY_URL: `ws://127.0.0.1:${gw.port}`,
      OPENCLAW_GATEWAY_TOKEN: secret
    })
    expect(health.stdout).toContain("OK")
  }, 30_000)

  it("gateway run --token-file: the token comes from the file, and its start-up line says so", async () => {
    const secret = `file-secret-${Math.random().toString(36).slice(2)}-0123456789`
    const dir = tempStateDir()
    const file = path.join(dir, "token.txt")
    fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 })
    const env = cliEnv(dir)
    gw = await startGateway(["--port", String(await freePort()), "--token-file", file], env)
    expect(gw.output()).toContain("Auth:       token (from --token-file)")
    expect(gw.output()).not.toContain(secret)
    const url = `ws://127.0.0.1:${gw.port}`
    expect((await runCli(["health"], { ...env, OPENCLAW_GATEWAY_URL: url, OPENCLAW_GATEWAY_TOKEN: secret })).code).toBe(
      0
    )
    expect(
      (await runCli(["health"], { ...env, OPENCLAW_GATEWAY_URL: url, OPENCLAW_GATEWAY_TOKEN: `${secret}x` })).code
    ).toBe(1)
  }, 30_000)

  it("node run --token: the node host's cmdline shows `openclaw node run` only", async () => {
    const secret = `node-secret-${Math.random().toString(36).slice(2)}-0123456789`
    const port = await freePort()
    gw = await startGateway(["--port", String(port), "--token", secret], cliEnv(tempStateDir()))
    node = startNodeHost(
      ["--url", `ws://127.0.0.1:${port}`, "--token", secret, "--display-name", "title-test"],
      cliEnv(tempStateDir())
    )
    await node.waitFor(/waiting for approval/)
    expect(cmdline(node.child.pid!).replace(/\0+$/, "")).toBe("openclaw node run")
    expect(ps(node.child.pid!)).toBe("openclaw node run")
  }, 40_000)
})
