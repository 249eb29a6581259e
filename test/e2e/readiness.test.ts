/**
 * Readiness through the real CLI: /readyz says ready, or degraded and why (an exposure still
 * retrying, a state dir that cannot be written); `gateway status --json` and doctor carry it.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { eventually, fakeTailscale } from "../support/tailscale.js"

const TOKEN = "readiness-token-0123456789abcdef"
const running: Array<GatewayProcess> = []
afterEach(async () => {
  for (const gw of running.splice(0)) await gw.stop("SIGKILL")
})

const readyz = async (port: number) => {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`)
  return { code: res.status, body: (await res.json()) as { status: string; reasons: Array<string> } }
}

describe("readiness", () => {
  it("degraded while Tailscale Serve retries (in /readyz, gateway status --json and doctor), ready once it is active", async () => {
    const dir = tempStateDir()
    const port = await freePort()
    fs.writeFileSync(
      path.join(dir, "openclaw.json"),
      JSON.stringify({ gateway: { port, auth: { token: TOKEN }, tailscale: { mode: "serve", resetOnExit: true } } })
    )
    const fake = fakeTailscale(dir, { fail: "daemon-down" })
    const env = cliEnv(dir, { ...fake.env, OPENCLAW_TAILSCALE_TIMEOUT_MS: "8000", OPENCLAW_TAILSCALE_RETRY_MS: "500" })
    const gw = await startGateway([], env)
    running.push(gw)

    const degraded = await readyz(port)
    expect(degraded.code).toBe(200)
    expect(degraded.body.status).toBe("degraded")
    expect(degraded.body.reasons.join("\n")).toMatch(/Tailscale serve is not active \(retrying.*tailscaled/)
    // Liveness is unchanged: the process answers.
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toEqual({ ok: true, status: "live" })

    const st = await runCli(["gateway", "status", "--json"], env)
    expect(st.code, st.stderr).toBe(0)
    expect(JSON.parse(st.stdout).status.readiness).toMatchObject({ status: "degraded" })
    const human = await runCli(["status"], env)
    expect(human.stdout).toMatch(/Readiness:\s+degraded: Tailscale serve is not active/)

    const doctor = await runCli(["doctor", "--json"], env)
    const report = JSON.parse(doctor.stdout)
    expect(report.target.readiness.status).toBe("degraded")
    expect(report.steps.find((s: { id: string }) => s.id === "http").detail).toContain("GET /readyz: degraded")

    fake.update((s) => (s.fail = null))
    await eventually(async () => (await readyz(port)).body.status === "ready", 15_000, "ready")
  })

  it("degraded when the state dir cannot be written", async () => {
    const dir = tempStateDir()
    const state = path.join(dir, "state")
    fs.mkdirSync(state, { mode: 0o700 })
    const port = await freePort()
    fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway: { port, auth: { token: TOKEN } } }))
    const gw = await startGateway([], cliEnv(state, { OPENCLAW_CONFIG_PATH: path.join(dir, "openclaw.json") }))
    running.push(gw)
    expect((await readyz(port)).body).toEqual({ ok: true, status: "ready", reasons: [] })
    // Gone from under it (as root, permissions would not stop the write): nothing can be saved now.
    fs.rmSync(state, { recursive: true, force: true })
    await eventually(async () => (await readyz(port)).body.status === "degraded", 10_000, "degraded")
    expect((await readyz(port)).body.reasons[0]).toContain(`the state dir ${state} cannot be written (ENOENT)`)
  })
})
