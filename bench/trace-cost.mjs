// `node bench/trace-cost.mjs` (after `npm run build`): what a span per RPC call costs. Sequential
// `health` calls through the test harness's TestClient (client and Gateway in this one process),
// against a Gateway without a Tracer of the app's (no span is made) and one with a Tracer in its
// layer (every call runs in a fiber inside an `openclaw.rpc health` span); best of 3 alternating.
import { Effect, Layer, Tracer } from "effect"
import { GatewayTest, TestClient } from "../dist/testing.mjs"

const N = 3000

const callsPerSecond = (layer) =>
  Effect.gen(function* () {
    const client = yield* TestClient
    for (let i = 0; i < 300; i++) yield* client.request("health") // warm-up
    const t = performance.now()
    for (let i = 0; i < N; i++) yield* client.request("health")
    return N / ((performance.now() - t) / 1000)
  }).pipe(Effect.provide(layer), Effect.scoped, Effect.runPromise)

const native = Effect.runSync(Effect.tracer)
let spans = 0
const counting = Tracer.make({
  span: (...args) => {
    spans++
    return native.span(...args)
  },
  context: native.context
})
const traced = GatewayTest.pipe(Layer.provide(Layer.setTracer(counting)))

const best = { untraced: 0, traced: 0 }
for (let round = 0; round < 3; round++) {
  best.untraced = Math.max(best.untraced, await callsPerSecond(GatewayTest))
  best.traced = Math.max(best.traced, await callsPerSecond(traced))
}
console.log(
  `health calls/s without a Tracer: ${Math.round(best.untraced)}, with one: ${Math.round(best.traced)} (ratio ${(best.traced / best.untraced).toFixed(2)}; ${spans} spans made)`
)
process.exit(0)
