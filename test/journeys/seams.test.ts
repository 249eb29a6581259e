/**
 * Seams between the features merged from parallel branches (core + bind modes + audit, Tailscale,
 * TLS + SSH, Control UI + agent), walked as a user would with the real CLI against real Gateways.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"

const TOKEN = "seams-token-0123456789abcdef0123"

const stateWith = (config: unknown) => {
  const dir = tempStateDir()
  fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify(config), { mode: 0o600 })
  return { dir, env: cliEnv(dir) }
}

describe("a TLS Gateway on a LAN bind (scenario D's server)", { timeout: 60_000 }, () => {
  let gw: GatewayProcess
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    const port = await freePort()
    env = stateWith({ gateway: { port, bind: "lan", auth: { mode: "token", token: TOKEN }, tls: { enabled: true } } }).env
    gw = await startGateway([], env)
  })
  afterAll(async () => {
    await gw?.stop()
  })

  it("gateway status shows TLS with the fingerprint and does not call a LAN-bound Gateway 'loopback only'", async () => {
    const fp = /certificate sha256 ([0-9A-F:]{95})/.exec(gw.output())![1]!
    const r = await runCli(["gateway", "status"], env)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/Bind:\s+lan on 0\.0\.0\.0/)
    expect(r.stdout).toContain(`TLS:        on (certificate sha256 ${fp}`)
    expect(r.stdout).not.toContain("loopback only")
    expect(r.stdout).toMatch(/Exposure:\s+no Tailscale Serve or Funnel/)
    expect(r.stdout + r.stderr).not.toContain(TOKEN)
  })
})
