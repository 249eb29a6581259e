/**
 * One clean stop for SIGINT, SIGTERM and SIGHUP (a closed terminal or SSH session): clients get
 * `shutdown`, the Tailscale route is withdrawn, the runtime record goes, exit 0. With the fake
 * `tailscale` first on PATH, as in tailscale.test.ts.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { cliEnv, freePort, startGateway, tempStateDir } from "../support/cli.js"
import { authenticated, RawClient } from "../support/gateway.js"
import { fakeTailscale, HOST } from "../support/tailscale.js"

const PASSWORD = "hangup-password-correct-horse-battery"

const setup = async (gateway: Record<string, unknown>) => {
  const dir = tempStateDir()
  const port = await freePort()
  fs.writeFileSync(
    path.join(dir, "openclaw.json"),
    JSON.stringify({ gateway: { port, auth: { mode: "password", password: PASSWORD }, ...gateway } })
  )
  const fake = fakeTailscale(dir)
  const env = cliEnv(dir, { ...fake.env, OPENCLAW_TAILSCALE_TIMEOUT_MS: "8000" })
  return { dir, port, fake, env }
}

describe("stopping the Gateway", () => {
  it.each(["SIGHUP", "SIGINT", "SIGTERM"] as const)(
    "%s with Serve (resetOnExit): shutdown event, route withdrawn, record removed, exit 0",
    async (signal) => {
      const s = await setup({ tailscale: { mode: "serve", resetOnExit: true } })
      const gw = await startGateway([], s.env)
      try {
        expect(s.fake.route443()).toBe(`http://127.0.0.1:${s.port}`)
        expect(fs.existsSync(path.join(s.dir, "gateway-runtime.json"))).toBe(true)
        const client = await authenticated(`ws://127.0.0.1:${s.port}`, { auth: { password: PASSWORD } })
        const { code } = await gw.stop(signal)
        expect(code).toBe(0)
        expect(client.frames.some((f) => f.type === "event" && f.event === "shutdown")).toBe(true)
        expect((await client.waitClosed()).code).toBe(1012)
        expect(s.fake.route443()).toBeUndefined()
        expect(s.fake.calls()).toContain("serve --https=443 off --yes")
        expect(fs.existsSync(path.join(s.dir, "gateway-runtime.json"))).toBe(false)
        await expect(RawClient.open(`ws://127.0.0.1:${s.port}`)).rejects.toThrow()
      } finally {
        await gw.stop("SIGKILL")
      }
    },
    30_000
  )

  it("Funnel withdraws its public route on exit even when resetOnExit is not set (or set false)", async () => {
    for (const tailscale of [{ mode: "funnel" }, { mode: "funnel", resetOnExit: false }]) {
      const s = await setup({ tailscale })
      const gw = await startGateway([], s.env)
      try {
        expect(gw.output()).toContain("removed on exit")
        expect(s.fake.read().serve.AllowFunnel).toEqual({ [`${HOST}:443`]: true })
        expect((await gw.stop("SIGHUP")).code).toBe(0)
        expect(s.fake.calls()).toContain("funnel --https=443 off --yes")
        expect(s.fake.read().serve).toEqual({})
      } finally {
        await gw.stop("SIGKILL")
      }
    }
  }, 40_000)

  it("Serve without resetOnExit keeps its route (as configured), and SIGHUP still exits 0", async () => {
    const s = await setup({ tailscale: { mode: "serve" } })
    const gw = await startGateway([], s.env)
    try {
      expect(gw.output()).toContain("kept on exit")
      expect((await gw.stop("SIGHUP")).code).toBe(0)
      expect(s.fake.route443()).toBe(`http://127.0.0.1:${s.port}`)
    } finally {
      await gw.stop("SIGKILL")
    }
  }, 30_000)
})
