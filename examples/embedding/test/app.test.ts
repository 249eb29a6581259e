/** The app's code against the harness the library ships: a Gateway on port 0, state in memory. */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { TailscaleCli } from "openclaw-gateway-effect"
import { fakeTailscale, GatewayTestWith, TEST_TOKEN, TestClient } from "openclaw-gateway-effect/testing"
import { describeGateway } from "../src/app.js"

describe("the embedding app", () => {
  it.layer(GatewayTestWith({ exposure: { mode: "serve", state: "active", url: "https://gw.example.ts.net/" } }))(
    "over GatewayTest",
    (it) => {
      it.effect("describes the Gateway it runs in", () =>
        Effect.gen(function* () {
          const line = yield* describeGateway(TEST_TOKEN)
          expect(line).toMatch(/^Gateway .* ok=true, protocol 4, exposure .*"state":"active"/)
        })
      )

      it.effect("and the harness's own client is connected", () =>
        Effect.gen(function* () {
          const client = yield* TestClient
          expect((yield* client.request("health")).ok).toBe(true)
        })
      )
    }
  )

  it.effect("fakeTailscale remembers the routes it was asked for", () =>
    Effect.gen(function* () {
      const cli = yield* TailscaleCli
      yield* cli.enable("serve", 443, "http://127.0.0.1:8080")
      expect((yield* cli.serveStatus).routes).toMatchObject([{ httpsPort: 443, target: "http://127.0.0.1:8080" }])
    }).pipe(Effect.provide(fakeTailscale()))
  )
})
