/**
 * The doctor's Gateway-host checks and its `doctor` method: the exposure check against the fake
 * `tailscale` in each of its failure states, the same through the real CLI next to a Gateway that
 * runs Tailscale Serve, the `doctor` RPC (operator.read) on an in-process Gateway, and the scopes
 * step against a grant narrower than an operator needs, and the auth step with a revoked device token.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { Effect, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { checkExposure, checkProcess, type ExposureInput } from "../../src/services/doctor/host-checks.js"
import { pathSteps } from "../../src/services/doctor/path.js"
import type { TargetSummary } from "../../src/services/doctor/path-context.js"
import { signatureToken } from "../../src/protocol/device.js"
import { runSteps } from "../../src/services/doctor/steps.js"
import { DOCTOR_CACHE_MS } from "../../src/services/doctor/methods.js"
import { SshTunnel } from "../../src/services/ssh/SshTunnel.js"
import { FIX, make as makeTailscaleCli } from "../../src/services/tailscale/TailscaleCli.js"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { authenticated, settingsWith, TOKEN, withGateway } from "../support/gateway.js"
import { newIdentity, nodeConnect, signedDevice } from "../support/node.js"
import { type FakeState, fakeTailscale, foreignRoute, HOST } from "../support/tailscale.js"

const PORT = 18789
const ours = (port: number, funnel = false) => ({
  TCP: { "443": { HTTPS: true } },
  Web: { [`${HOST}:443`]: { Handlers: { "/": { Proxy: `http://127.0.0.1:${port}` } } } },
  ...(funnel ? { AllowFunnel: { [`${HOST}:443`]: true } } : {})
})

/** Generous per-call timeout: the fake is a node process, slow to start on a loaded machine. */
const exposure = (state: FakeState, input: Partial<ExposureInput> = {}, timeoutMs = 10_000) => {
  const fake = fakeTailscale(tempStateDir(), state)
  const cli = makeTailscaleCli({ env: { ...process.env, ...fake.env }, timeoutMs })
  return Effect.runPromise(checkExposure(cli, { mode: "serve", port: PORT, tls: false, ...input }))
}

describe("exposure check against the fake tailscale", { timeout: 60_000 }, () => {
  it("passes with our route on :443, HTTPS certificates on (and Funnel on and allowed in funnel mode)", async () => {
    expect(await exposure({ serve: ours(PORT) })).toEqual({
      ok: true,
      detail: `serve https://${HOST}/ -> http://127.0.0.1:${PORT}; HTTPS certificates on`
    })
    expect(await exposure({ serve: ours(PORT, true) }, { mode: "funnel" })).toMatchObject({
      ok: true,
      detail: expect.stringContaining("Funnel allowed and on")
    })
  })

  it("tailscaled not running", async () => {
    expect(await exposure({ fail: "daemon-down", serve: ours(PORT) })).toEqual({
      ok: false,
      detail: "tailscale: daemon-down",
      fix: FIX.daemonDown
    })
  })

  it("logged out", async () => {
    expect(await exposure({ fail: "logged-out", serve: ours(PORT) })).toEqual({
      ok: false,
      detail: "Tailscale is logged out (BackendState NeedsLogin)",
      fix: FIX.loggedOut
    })
  })

  it("HTTPS certificates not enabled for the tailnet", async () => {
    expect(await exposure({ fail: "https-disabled", failOnly: ["status"] })).toEqual({
      ok: false,
      detail: "HTTPS certificates are not enabled for this tailnet",
      fix: FIX.https
    })
  })

  it("Funnel on but the funnel attribute missing", async () => {
    expect(await exposure({ fail: "funnel-not-allowed", serve: ours(PORT, true) }, { mode: "funnel" })).toEqual({
      ok: false,
      detail: 'the tailnet policy does not give this node the "funnel" attribute',
      fix: FIX.funnel
    })
  })

  it("Funnel mode with a route that is not public", async () => {
    const r = await exposure({ serve: ours(PORT) }, { mode: "funnel" })
    expect(r).toMatchObject({
      ok: false,
      detail: `the route https://${HOST}/ -> http://127.0.0.1:${PORT} is not public (Funnel is off for it)`
    })
  })

  it("permission denied: no route, and the Gateway's own reason is the fix", async () => {
    const r = await exposure({ fail: "permission-denied" }, { reason: FIX.permission })
    expect(r).toEqual({
      ok: false,
      detail: `no Tailscale serve route to this Gateway (http://127.0.0.1:${PORT})`,
      fix: FIX.permission
    })
  })

  it("the route points somewhere else", async () => {
    const r = await exposure({ serve: foreignRoute(443, "http://127.0.0.1:3000") })
    expect(r).toMatchObject({
      ok: false,
      detail: `https:443 on ${HOST} routes to / -> http://127.0.0.1:3000, not to this Gateway (http://127.0.0.1:${PORT})`
    })
  })

  it("tailscale hangs: the call is cut at its timeout", async () => {
    const r = await exposure({ fail: "hang" }, {}, 1_500)
    expect(r).toMatchObject({ ok: false, detail: "tailscale: timeout" })
  })
})

describe("process check", () => {
  it("a port held by another process, and a PID that is gone", async () => {
    const server = net.createServer()
    const port = await new Promise<number>((resolve) =>
      server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port))
    )
    const child = spawn("sleep", ["30"], { stdio: "ignore" })
    try {
      expect(checkProcess(process.pid, port)).toEqual({
        ok: true,
        detail: `PID ${process.pid} is alive and listens on port ${port}`
      })
      expect(checkProcess(child.pid!, port)).toMatchObject({
        ok: false,
        detail: `port ${port} is held by PID ${process.pid}, not by the Gateway (PID ${child.pid})`
      })
      expect(checkProcess(process.pid, port, { pid: child.pid!, port, file: "/state/gateway.json" })).toMatchObject({
        ok: false,
        fix: expect.stringContaining("two Gateways share the state dir")
      })
    } finally {
      child.kill()
      await new Promise((r) => child.once("exit", r))
      server.close()
    }
    expect(checkProcess(child.pid!, port)).toMatchObject({
      ok: false,
      detail: `the Gateway reports PID ${child.pid}, which is not running on this machine`
    })
  })
})

describe("openclaw doctor next to a Gateway on Tailscale Serve", { timeout: 60_000 }, () => {
  let gw: GatewayProcess
  let fake: ReturnType<typeof fakeTailscale>
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    const dir = tempStateDir()
    fs.writeFileSync(
      path.join(dir, "openclaw.json"),
      JSON.stringify({ gateway: { port: await freePort(), auth: { token: TOKEN }, tailscale: { mode: "serve" } } }),
      { mode: 0o600 }
    )
    // The fake keeps its state outside the Gateway's state dir (its files there would be flagged).
    fake = fakeTailscale(tempStateDir())
    env = cliEnv(dir, { ...fake.env, OPENCLAW_TAILSCALE_TIMEOUT_MS: "8000" })
    gw = await startGateway([], env)
  })
  afterAll(async () => {
    await gw?.stop()
  })

  const exposureStep = async () => {
    const r = await runCli(["doctor", "--json"], env, 30_000)
    const report = JSON.parse(r.stdout) as {
      ok: boolean
      steps: Array<{ id: string; ok: boolean | null; detail: string; fix?: string }>
    }
    const failedAt = report.steps.find((s) => s.ok === false)
    return { code: r.code, report, failedAt, step: report.steps.find((s) => s.id === "exposure")! }
  }

  it("passes with the route the Gateway made", async () => {
    const { code, step } = await exposureStep()
    expect(step).toMatchObject({
      ok: true,
      detail: `serve https://${HOST}/ -> http://127.0.0.1:${gw.port}; HTTPS certificates on`
    })
    expect(code).toBe(0)
  })

  it("stops at exposure when Tailscale logs out, with the command to run", async () => {
    fake.update((s) => void (s.fail = "logged-out"))
    try {
      const { code, failedAt } = await exposureStep()
      expect(code).toBe(1)
      expect(failedAt).toEqual({
        id: "exposure",
        ok: false,
        ms: expect.any(Number),
        detail: "Tailscale is logged out (BackendState NeedsLogin)",
        fix: FIX.loggedOut
      })
    } finally {
      fake.update((s) => void (s.fail = null))
    }
  })

  it("stops at exposure when the route is gone", async () => {
    const saved = fake.read().serve
    fake.update((s) => void (s.serve = {}))
    try {
      const { failedAt } = await exposureStep()
      expect(failedAt).toMatchObject({
        id: "exposure",
        detail: `no Tailscale serve route to this Gateway (http://127.0.0.1:${gw.port})`
      })
    } finally {
      fake.update((s) => void (s.serve = saved))
    }
  })
})

describe("the doctor RPC and the scopes step", { timeout: 30_000 }, () => {
  it("doctor (operator.read) runs the Gateway-side checks: process, state dir, exposure, audit", async () => {
    const stateDir = tempStateDir()
    const configPath = path.join(stateDir, "openclaw.json")
    fs.writeFileSync(configPath, JSON.stringify({ gateway: { auth: { token: TOKEN } } }), { mode: 0o600 })
    await withGateway({ stateDir, configPath }, async (gateway) => {
      const client = await authenticated(gateway.url, { scopes: ["operator.read"] })
      const res = await client.request("doctor")
      expect(res.ok).toBe(true)
      expect(res.payload.ok).toBe(true)
      expect(res.payload.steps.map((s: { id: string }) => s.id)).toEqual(["process", "state", "exposure", "audit"])
      expect(res.payload.steps[0].detail).toBe(
        `PID ${process.pid} is alive and listens on port ${gateway.listeners.port}`
      )
      // A state dir opened up is reported from the Gateway's side too (once the shared run's answer expires).
      fs.chmodSync(stateDir, 0o750)
      await new Promise((r) => setTimeout(r, DOCTOR_CACHE_MS))
      const after = await client.request("doctor")
      expect(after.payload.ok).toBe(false)
      expect(after.payload.steps[1]).toMatchObject({ id: "state", ok: false, fix: `chmod 700 ${stateDir}` })
      expect(after.payload.steps.slice(2).map((s: { ok: unknown }) => s.ok)).toEqual([null, null])
      client.ws.close()
    })
  })

  it("scopes: a read-only grant fails the scopes step, naming what it may and may not do", async () => {
    await withGateway({ auth: { ...settingsWith().auth, token: Redacted.make(TOKEN) } }, async (gateway) => {
      const dir = tempStateDir()
      const summary: TargetSummary = {}
      // Today a shared secret grants exactly the scopes asked for: ask for read only, as
      // OpenClaw's CLI does for a health call.
      const steps = pathSteps(
        {
          env: cliEnv(dir),
          flags: { url: gateway.url, token: TOKEN },
          timeoutMs: 5_000,
          scopes: ["operator.read"],
          tailscale: () => makeTailscaleCli()
        },
        summary
      )
      const report = await Effect.runPromise(Effect.scoped(runSteps(steps)).pipe(Effect.provide(SshTunnel.layer)))
      const i = report.steps.findIndex((s) => s.ok === false)
      expect(report.steps[i]).toMatchObject({
        id: "scopes",
        detail:
          "granted operator.read: may read, not write, admin, pairing (agent and send need write; browser and node.invoke need admin; nodes approve/reject need pairing)"
      })
      expect(report.steps[i]!.fix).toContain(
        "connect with the Gateway's shared token (gateway.remote.token or --token)"
      )
      expect(report.steps.slice(i + 1).every((s) => s.ok === null)).toBe(true)
    })
  })

  it("auth: a revoked device token is told apart from a wrong shared secret", async () => {
    await withGateway({}, async (gateway) => {
      const operator = await authenticated(gateway.url, { scopes: ["operator.pairing", "operator.read"] })
      const id = newIdentity()
      const first = await nodeConnect(gateway.url, id)
      expect(first.res.error.details.code).toBe("PAIRING_REQUIRED")
      expect((await operator.request("node.pair.approve", { requestId: first.res.error.details.requestId })).ok).toBe(
        true
      )
      const paired = await nodeConnect(gateway.url, id)
      const deviceToken = paired.res.payload.auth.deviceToken as string
      expect(deviceToken.length).toBeGreaterThan(20)
      // The operator removes the node: its device token stops working.
      expect((await operator.request("node.pair.remove", { nodeId: id.deviceId })).ok).toBe(true)

      const client = {
        id: "node-host",
        version: "1.0.0",
        platform: "Linux",
        mode: "node" as const,
        displayName: "laptop",
        deviceFamily: "Linux"
      }
      const steps = pathSteps(
        {
          // OPENCLAW_GATEWAY_URL takes credentials from flags and environment only: here none but the device token.
          env: { ...cliEnv(tempStateDir()), OPENCLAW_GATEWAY_URL: gateway.url },
          flags: {},
          timeoutMs: 5_000,
          tailscale: () => makeTailscaleCli(),
          connectAs: {
            role: "node",
            client,
            deviceToken,
            deviceTokenSource: "identity/device-auth.json",
            device: (nonce, params) => {
              const signedAt = Date.now()
              return signedDevice(id, {
                deviceId: id.deviceId,
                clientId: client.id,
                clientMode: client.mode,
                role: "node",
                scopes: [],
                signedAt,
                token: signatureToken(params.auth),
                nonce,
                platform: client.platform,
                deviceFamily: client.deviceFamily
              })
            }
          }
        },
        {}
      )
      const report = await Effect.runPromise(Effect.scoped(runSteps(steps)).pipe(Effect.provide(SshTunnel.layer)))
      const i = report.steps.findIndex((s) => s.ok === false)
      expect(report.steps[i]).toMatchObject({
        id: "auth",
        detail:
          "device token revoked or stale: the Gateway no longer accepts this device's token (AUTH_DEVICE_TOKEN_MISMATCH)"
      })
      expect(report.steps[i]!.fix).toContain(
        "this device was removed or re-paired on the Gateway: connect once with the Gateway's token to pair again"
      )
      expect(JSON.stringify(report)).not.toContain(deviceToken)
      expect(report.steps.find((s) => s.id === "target")!.detail).toContain(
        "device token (from identity/device-auth.json)"
      )
      operator.ws.close()
      paired.client.ws.close()
    })
  })
})
