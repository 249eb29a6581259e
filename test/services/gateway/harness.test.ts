/** The Gateway core through the test harness (test/support/harness.ts): layers, not hand-built servers. */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import * as fs from "node:fs"
import type { ServeState } from "../../../src/services/tailscale/TailscaleCli.js"
import { AgentRuntime, Gateway, TailscaleExposure } from "../../../src/index.js"
import { GatewayTest, GatewayTestWith, mockProvider, mockTailscale, TestClient } from "../../support/harness.js"

it.layer(GatewayTest)("Gateway core (harness)", (it) => {
  it.effect("the connected TestClient gets typed answers", () =>
    Effect.gen(function* () {
      const client = yield* TestClient
      const health = yield* client.request("health")
      expect(health.ok).toBe(true)
      const status = yield* client.request("status")
      expect(status.protocol).toBe(4)
      const presence = yield* client.request("system-presence")
      expect(presence.map((p) => p.client.id)).toContain("test-client")
    })
  )

  it.effect("a method registered in a scope answers until that scope closes", () =>
    Effect.gen(function* () {
      const gateway = yield* Gateway
      const client = yield* TestClient
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* gateway.registerMethod("test.echo", { requires: "operator.read", sync: (params) => params })
          expect(yield* client.request("test.echo", { a: 1 })).toEqual({ a: 1 })
        })
      )
      const gone = yield* Effect.flip(client.request("test.echo", {}))
      expect(gone.message).toContain("unknown method: test.echo")
    })
  )

  it.effect("a status section is part of `status` for as long as its scope lives", () =>
    Effect.gen(function* () {
      const gateway = yield* Gateway
      const client = yield* TestClient
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* gateway.addStatusSection("feature", () => ({ on: true }))
          expect((yield* client.request("status")).feature).toEqual({ on: true })
        })
      )
      expect((yield* client.request("status")).feature).toBeUndefined()
    })
  )
})

describe("boundary mocks", () => {
  it.effect("a mocked Tailscale call the test did not provide dies, naming the call", () =>
    Effect.gen(function* () {
      // The real exposure logic (serve mode) over a Tailscale mock that provides nothing.
      const exposure = TailscaleExposure.layer.pipe(
        Layer.provideMerge(
          GatewayTestWith({
            settings: { tailscale: { mode: "serve", resetOnExit: true } },
            tailscale: mockTailscale({})
          })
        )
      )
      const exit = yield* Effect.exit(Effect.scoped(Layer.build(exposure)))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit))
        expect(Cause.pretty(exit.cause)).toContain(
          "TailscaleCli.status was called, but the test's mock does not provide it"
        )
    })
  )

  it.scoped(
    "the real Tailscale exposure over a scripted Tailscale: Serve on at start, exactly that route off at release",
    () =>
      Effect.gen(function* () {
        const calls: Array<string> = []
        let routes: Array<{ target: string }> = []
        const tailscale = mockTailscale({
          status: Effect.succeed({
            backendState: "Running",
            dnsName: "gw.example.ts.net",
            tailscaleIps: ["100.64.0.1"],
            certDomains: ["gw.example.ts.net"],
            funnelAllowed: false
          }),
          serveStatus: Effect.sync((): ServeState => ({
            routes: routes.map((r) => ({
              host: "gw.example.ts.net",
              httpsPort: 443,
              path: "/",
              target: r.target,
              funnel: false
            })),
            tcpForwards: []
          })),
          enable: (mode, port, target) =>
            Effect.sync(() => {
              calls.push(`${mode} on :${port} -> ${target}`)
              routes = [{ target }]
            }),
          disable: (mode, port) =>
            Effect.sync(() => {
              calls.push(`${mode} off :${port}`)
              routes = []
            })
        })
        const settings = {
          tailscale: { mode: "serve" as const, resetOnExit: true },
          stateDir: fs.mkdtempSync("/tmp/oc-harness-")
        }
        const exposure = yield* Effect.scoped(
          Effect.gen(function* () {
            const gateway = yield* Gateway
            const status = yield* (yield* TailscaleExposure).status
            expect(calls).toEqual([`serve on :443 -> http://127.0.0.1:${gateway.listeners.port}`])
            return status
          }).pipe(
            Effect.provide(TailscaleExposure.layer.pipe(Layer.provideMerge(GatewayTestWith({ settings, tailscale }))))
          )
        )
        expect(exposure).toMatchObject({ state: "active", url: "https://gw.example.ts.net/" })
        expect(calls.at(-1)).toBe("serve off :443")
      })
  )

  it.effect("the agent runs on a mock model provider", () =>
    Effect.gen(function* () {
      const client = yield* TestClient
      const final = (yield* client.request(
        "agent",
        { message: "hi", sessionKey: "main", idempotencyKey: "k1" },
        { expectFinal: true }
      )) as { result: { text: string } }
      expect(final.result.text).toBe("hello there")
    }).pipe(Effect.provide(GatewayTestWith({ agent: AgentRuntime.layerWith(mockProvider(["hello", " there"])) })))
  )
})
