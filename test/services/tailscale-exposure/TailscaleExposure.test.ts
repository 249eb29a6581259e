/**
 * TailscaleExposure over the real TailscaleCli and scripted `tailscale` processes: a Gateway
 * that starts while Tailscale is logged out serves on loopback, and re-claims its route exactly
 * when the shared backoff says, on TestClock.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Context, Effect, Layer, Redacted, TestClock } from "effect"
import { gatewayServices } from "../../../src/layers/index.js"
import { GatewayConfig, testSettings } from "../../../src/services/config/GatewayConfig.js"
import { FIX, TailscaleCli } from "../../../src/services/tailscale/TailscaleCli.js"
import { type ExposureStatus, TailscaleExposure } from "../../../src/services/tailscale-exposure/TailscaleExposure.js"
import { exits, mockProcesses } from "../../support/harness.js"

const HOST = "gw.tail1234.ts.net"

/** A tailnet node that is logged out until `login()`; Serve keeps one route table. */
const tailnet = () => {
  let loggedIn = false
  let web: Record<string, { Handlers: Record<string, { Proxy: string }> }> = {}
  const calls: Array<string> = []
  const layer = TailscaleCli.layerProcesses({ binary: "tailscale", env: {} }).pipe(
    Layer.provide(
      mockProcesses((argv) => {
        const args = argv.slice(1).join(" ")
        calls.push(args)
        if (args === "status --json")
          return exits({
            stdout: JSON.stringify({
              BackendState: loggedIn ? "Running" : "NeedsLogin",
              Self: { DNSName: `${HOST}.`, TailscaleIPs: ["100.101.102.103"] },
              CertDomains: [HOST]
            })
          })
        if (args === "serve status --json") return exits({ stdout: JSON.stringify({ Web: web }) })
        const on = /^serve --bg --yes --https=443 (\S+)$/.exec(args)
        if (on !== null) {
          web = { [`${HOST}:443`]: { Handlers: { "/": { Proxy: on[1]! } } } }
          return exits()
        }
        if (args === "serve --https=443 off --yes") {
          web = {}
          return exits()
        }
        return undefined
      })
    )
  )
  return { layer, calls, login: () => (loggedIn = true) }
}

const settings = () => {
  const base = testSettings()
  return {
    ...base,
    stateDir: fs.mkdtempSync(path.join(os.tmpdir(), "oc-tsexp-")),
    auth: { ...base.auth, token: Redacted.make("test-token") },
    tailscale: { mode: "serve" as const, resetOnExit: true }
  }
}

/** Lets the supervisor fiber run until `done` holds for the status (it only waits on the Clock). */
const until = (exposure: TailscaleExposure["Type"], done: (s: ExposureStatus) => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1_000; i++) {
      const status = yield* exposure.status
      if (done(status)) return status
      yield* Effect.yieldNow()
    }
    return yield* exposure.status
  })

describe("TailscaleExposure re-claim (TestClock, scripted tailscale)", () => {
  it.scoped("logged out at start: loopback with the fix; re-claimed exactly at the announced retry time", () =>
    Effect.gen(function* () {
      const net = tailnet()
      // Built in the test's scope, so the Gateway and its supervisor live until the test ends.
      const services = yield* Layer.build(
        gatewayServices(Layer.succeed(GatewayConfig, settings()), { tailscale: net.layer })
      )
      const exposure = Context.get(services, TailscaleExposure)
      // The background retry has failed too and scheduled the next attempt.
      const failed = yield* until(exposure, (s) => (s.retryAt ?? 0) > 0)
      expect(failed).toMatchObject({ state: "failed", reason: FIX.loggedOut })
      const retryAt = failed.retryAt!
      expect(retryAt).toBeGreaterThanOrEqual(4_000)
      expect(retryAt).toBeLessThanOrEqual(6_000)
      net.login()
      yield* TestClock.adjust(retryAt - 1 - (yield* Clock.currentTimeMillis))
      expect((yield* until(exposure, (s) => s.state === "active")).state).toBe("failed")
      yield* TestClock.adjust(1)
      expect(yield* until(exposure, (s) => s.state === "active")).toMatchObject({
        state: "active",
        url: `https://${HOST}/`
      })
      expect(net.calls.filter((c) => c.startsWith("serve --bg"))).toHaveLength(1)
    })
  )
})
