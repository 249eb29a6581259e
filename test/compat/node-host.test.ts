/**
 * OpenClaw's own node host (2026.9.x, from .compat/) against our Gateway: its signed connect is
 * verified, it waits for pairing without pausing, and after `openclaw nodes approve` (ours) it
 * connects and answers node.invoke and browser.request.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { compatInstalled, NODE24, OPENCLAW } from "../support/compat.js"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"

const installed = compatInstalled

const TOKEN = "compat-node-token-0123456789"

describe.skipIf(!installed)("OpenClaw's node host against our Gateway", () => {
  let gw: GatewayProcess
  let env: NodeJS.ProcessEnv
  let theirs: ChildProcess
  let log = ""

  const waitFor = async (what: () => Promise<boolean>, timeoutMs: number, label: string) => {
    const deadline = Date.now() + timeoutMs
    while (!(await what())) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${label}; OpenClaw node host output:\n${log.slice(-3000)}`)
      await new Promise((r) => setTimeout(r, 500))
    }
  }

  beforeAll(async () => {
    const stateDir = tempStateDir()
    const port = await freePort()
    fs.writeFileSync(
      path.join(stateDir, "openclaw.json"),
      JSON.stringify({ gateway: { port, auth: { token: TOKEN } } })
    )
    env = cliEnv(stateDir)
    gw = await startGateway([], env)
    const home = tempStateDir()
    theirs = spawn(
      NODE24,
      [OPENCLAW, "node", "run", "--host", "127.0.0.1", "--port", String(port), "--display-name", "their-node"],
      {
        env: {
          PATH: `${path.dirname(NODE24)}:${process.env.PATH}`,
          HOME: home,
          OPENCLAW_STATE_DIR: path.join(home, ".openclaw"),
          OPENCLAW_GATEWAY_TOKEN: TOKEN,
          OPENCLAW_NO_AUTO_UPDATE: "1",
          OPENCLAW_DISABLE_BONJOUR: "1",
          OPENCLAW_OFFLINE: "1",
          NO_COLOR: "1"
        },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true
      }
    )
    theirs.stdout!.on("data", (d) => (log += d))
    theirs.stderr!.on("data", (d) => (log += d))
  }, 30_000)

  afterAll(async () => {
    try {
      process.kill(-theirs.pid!, "SIGKILL")
    } catch {
      // Already gone.
    }
    await gw?.stop()
  })

  it("pairs through our CLI, then answers node.invoke and browser.request", async () => {
    let requestId: string | undefined
    await waitFor(
      async () => {
        const r = await runCli(["nodes", "pending", "--json"], env)
        requestId = JSON.parse(r.stdout).pending[0]?.requestId
        return requestId !== undefined
      },
      90_000,
      "a pairing request from OpenClaw's node host"
    )
    expect(log).toContain("pairing required")
    expect(log).not.toContain("reconnect paused")
    expect((await runCli(["nodes", "approve", requestId!], env)).code).toBe(0)
    await waitFor(
      async () =>
        JSON.parse((await runCli(["nodes", "list", "--json"], env)).stdout).nodes.some(
          (n: any) => n.connected && n.displayName === "their-node"
        ),
      60_000,
      "OpenClaw's node host to connect after approval"
    )
    const which = await runCli(
      [
        "gateway",
        "call",
        "node.invoke",
        "--params",
        JSON.stringify({
          nodeId: "their-node",
          command: "system.which",
          params: { bins: ["sh"] },
          idempotencyKey: "compat-1"
        })
      ],
      env,
      40_000
    )
    expect(which.code).toBe(0)
    expect(JSON.parse(which.stdout).payload.bins.sh).toMatch(/\/sh$/)
    const status = await runCli(["browser", "status", "--json"], env, 40_000)
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toHaveProperty("running")
  }, 200_000)
})
