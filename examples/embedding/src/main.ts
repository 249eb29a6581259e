/**
 * Embeds the Gateway in an Effect program: its services come from `gatewayServices` over a config
 * object shaped like openclaw.json (port 0: any free port), with Tailscale swapped for a mock layer.
 * The typed client then calls `health`, and the scope's end shuts the Gateway down cleanly.
 */
import { Effect } from "effect"
import { Gateway, GatewayClient, GatewayConfig, gatewayServices, TailscaleExposure } from "openclaw-gateway-effect"

const token = "embedding-example-token"

const program = Effect.gen(function* () {
  const gateway = yield* Gateway
  const conn = yield* GatewayClient.connect({ url: gateway.url, token, scopes: ["operator.read"] })
  // `health` is typed: result is HealthResult, not unknown.
  const health = yield* conn.request("health")
  const status = yield* conn.request("status")
  console.log(
    `Gateway ${health.version} at ${gateway.url}: ok=${health.ok}, protocol ${status.protocol}, exposure ${JSON.stringify(status.exposure)}`
  )
})

const services = gatewayServices(
  // flags win over the file, as on the command line; port 0 takes any free port.
  GatewayConfig.layerConfig(
    { gateway: { auth: { mode: "token", token } } },
    { flags: { port: 0 }, stateDir: "/tmp/openclaw-embedding-example" }
  ),
  { exposure: TailscaleExposure.layerTest({ mode: "serve", state: "active", url: "https://gateway.example.ts.net/" }) }
)

Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(services))).catch((e) => {
  console.error(`embedding example failed: ${e}`)
  process.exitCode = 1
})
