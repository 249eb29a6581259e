/**
 * Embeds the Gateway in an Effect program: its services come from `gatewayServices` over a config
 * object shaped like openclaw.json (port 0: any free port), with Tailscale swapped for a mock layer.
 * The config is all it uses: no OPENCLAW_* variable, and state only under the stateDir given.
 * The scope's end shuts the Gateway down cleanly.
 */
import { Console, Effect, Layer } from "effect"
import { GatewayConfig, gatewayServices, TailscaleExposure } from "openclaw-gateway-effect"
import { addNote, describeGateway } from "./app.js"
import { NotesMethods } from "./notes.js"

const token = "embedding-example-token"

const gatewayLayer = gatewayServices(
  GatewayConfig.layerConfig(
    { gateway: { port: 0, auth: { mode: "token", token } } },
    { stateDir: "/tmp/openclaw-embedding-example" }
  ),
  { exposure: TailscaleExposure.layerTest({ mode: "serve", state: "active", url: "https://gateway.example.ts.net/" }) }
)
// The app's own methods run on the same Gateway.
const services = NotesMethods.pipe(Layer.provideMerge(gatewayLayer))

Effect.runPromise(
  Effect.gen(function* () {
    yield* Console.log(yield* describeGateway(token))
    yield* Console.log(yield* addNote(token, "embedded"))
  }).pipe(Effect.scoped, Effect.provide(services))
).catch((e) => {
  console.error(`embedding example failed: ${e}`)
  process.exitCode = 1
})
