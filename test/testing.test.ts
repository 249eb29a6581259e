/**
 * The shipped harness (`openclaw-gateway-effect/testing`, src/testing.ts): GatewayTest for
 * `it.layer`, and a fake Tailscale that remembers its routes like the real CLI.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Redacted } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import {
  Gateway,
  GatewayConfig,
  gatewayServices,
  TailscaleCli,
  TailscaleError,
  TailscaleExposure
} from "../src/index.js"
import { testSettings } from "../src/services/config/GatewayConfig.js"
import { fakeTailscale, GatewayTest, TestClient } from "../src/testing.js"

it.layer(GatewayTest)("GatewayTest", (it) => {
  it.effect("is a Gateway on a port of its own with a client connected with every operator scope", () =>
    Effect.gen(function* () {
      const gateway = yield* Gateway
      const client = yield* TestClient
      expect(gateway.listeners.port).toBeGreaterThan(0)
      expect((yield* client.request("health")).ok).toBe(true)
      expect(client.hello.auth?.scopes).toEqual(expect.arrayContaining(["operator.admin", "operator.write"]))
    })
  )
})

describe("fakeTailscale (TailscaleCli.layerTest)", () => {
  const exposed = (mode: "serve" | "funnel", tailscale: Layer.Layer<TailscaleCli>) => {
    const base = testSettings()
    const settings = {
      ...base,
      auth:
        mode === "funnel"
          ? { ...base.auth, mode: "password" as const, token: undefined, password: Redacted.make("a-password") }
          : base.auth,
      tailscale: { mode, resetOnExit: false }
    }
    return gatewayServices(Layer.succeed(GatewayConfig, settings), { tailscale })
  }

  it.effect("with only `enable` overridden, the route it reported is in serve status, so the exposure is active", () =>
    Effect.gen(function* () {
      const calls: Array<string> = []
      const result = yield* Effect.scoped(
        Effect.gen(function* () {
          const status = yield* Effect.flatMap(TailscaleExposure, (e) => e.status)
          const serve = yield* Effect.flatMap(TailscaleCli, (cli) => cli.serveStatus)
          const gateway = yield* Gateway
          return { status, serve, port: gateway.listeners.port }
        }).pipe(
          Effect.provide(
            exposed(
              "serve",
              fakeTailscale({ enable: (mode, port) => Effect.sync(() => void calls.push(`${mode} ${port}`)) })
            )
          )
        )
      )
      expect(calls).toEqual(["serve 443"])
      expect(result.status).toMatchObject({ state: "active", url: "https://gw.tail1234.ts.net/" })
      expect(result.serve.routes).toEqual([
        {
          host: "gw.tail1234.ts.net",
          httpsPort: 443,
          path: "/",
          target: `http://127.0.0.1:${result.port}`,
          funnel: false
        }
      ])
    })
  )

  it.effect("remembers a Funnel route as funnel", () =>
    Effect.gen(function* () {
      const serve = yield* Effect.scoped(
        Effect.zipRight(
          Effect.flatMap(TailscaleExposure, (e) => e.status),
          Effect.flatMap(TailscaleCli, (cli) => cli.serveStatus)
        ).pipe(Effect.provide(exposed("funnel", fakeTailscale())))
      )
      expect(serve.routes.map((r) => [r.httpsPort, r.funnel])).toEqual([[443, true]])
    })
  )

  it.effect("disable removes the port's route; a failed enable is not remembered; each build starts empty", () =>
    Effect.gen(function* () {
      let failNext = true
      const layer = fakeTailscale({
        enable: () =>
          failNext
            ? Effect.fail(new TailscaleError({ kind: "failed", message: "once" })).pipe(
                Effect.ensuring(Effect.sync(() => (failNext = false)))
              )
            : Effect.void
      })
      const routes = yield* Effect.gen(function* () {
        const cli = yield* TailscaleCli
        const failed = yield* Effect.either(cli.enable("serve", 443, "http://127.0.0.1:1"))
        expect(Either.isLeft(failed)).toBe(true)
        const afterFailure = (yield* cli.serveStatus).routes.length
        yield* cli.enable("serve", 443, "http://127.0.0.1:1")
        yield* cli.enable("serve", 8443, "http://127.0.0.1:2")
        yield* cli.disable("serve", 443)
        return { afterFailure, left: (yield* cli.serveStatus).routes.map((r) => r.httpsPort) }
      }).pipe(Effect.provide(layer))
      expect(routes).toEqual({ afterFailure: 0, left: [8443] })
      const fresh = yield* Effect.flatMap(TailscaleCli, (cli) => cli.serveStatus).pipe(Effect.provide(layer))
      expect(fresh.routes).toEqual([])
    })
  )
})

describe("the built entries", () => {
  const dist = path.resolve(__dirname, "../dist")
  const importsOf = (file: string) =>
    [...fs.readFileSync(path.join(dist, file), "utf8").matchAll(/\bfrom\s*"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/g)].map(
      (m) => m[1] ?? m[2]
    )

  it("/testing and the library import effect, ws, json5, node: modules and each other's shared chunk: no test runner", () => {
    const entries = ["testing.mjs", "index.mjs", ...fs.readdirSync(dist).filter((f) => /^chunk-.*\.mjs$/.test(f))]
    const imported = new Set(entries.flatMap(importsOf))
    expect(imported.has("effect")).toBe(true)
    for (const specifier of imported) {
      expect(specifier).toMatch(/^(effect(\/.*)?|ws|json5|node:.+|\.\/chunk-[A-Z0-9]+\.mjs)$/)
    }
  })
})
