/**
 * Embeds the Gateway in an Effect program: its services come from `gatewayServices` over a config
 * object shaped like openclaw.json (port 0: any free port), with Tailscale swapped for a mock layer.
 * The config is all it uses: no OPENCLAW_* variable, and state only under the stateDir given.
 * The scope's end shuts the Gateway down cleanly.
 */
import { Console, Effect } from "effect"
import { GatewayConfig, gatewayServices, TailscaleExposure } from "openclaw-gateway-effect"
import { describeGateway } from "./app.js"

const token = "embedding-example-token"

const services = gatewayServices(
  GatewayConfig.layerConfig(
    { gateway: { port: 0, auth: { mode: "token", token } } },
    { stateDir: "/tmp/openclaw-embedding-example" }
  ),
  { exposure: TailscaleExposure.layerTest({ mode: "serve", state: "active", url: "https://gateway.example.ts.net/" }) }
)

Effect.runPromise(
  describeGateway(token).pipe(Effect.flatMap(Console.log), Effect.scoped, Effect.provide(services))
).catch((e) => {
  console.error(`embedding example failed: ${e}`)
  process.exitCode = 1
})
