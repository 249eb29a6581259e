/** What an Effect app expects of RPC calls at runtime: a span per call through its Tracer, and handlers the Gateway's shutdown interrupts. */
import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Scope, Tracer } from "effect"
import { Gateway, RpcError } from "../../../src/index.js"
import { tracesCalls } from "../../../src/services/gateway/rpc-span.js"
import { GatewayTest, TestClient } from "../../support/harness.js"

/** Effect's own tracer, wrapped to keep every span it makes. */
const recordingTracer = (spans: Array<Tracer.Span>): Effect.Effect<Tracer.Tracer> =>
  Effect.map(Effect.tracer, (native) =>
    Tracer.make({
      span: (...args) => {
        const span = native.span(...args)
        spans.push(span)
        return span
      },
      context: native.context
    })
  )

const rpcSpans = (spans: ReadonlyArray<Tracer.Span>) =>
  spans
    .filter((s) => s.name.startsWith("openclaw.rpc "))
    .map((s) => ({
      name: s.name,
      method: s.attributes.get("openclaw.rpc.method"),
      scope: s.attributes.get("openclaw.rpc.scope"),
      outcome: s.attributes.get("openclaw.rpc.outcome"),
      ended: s.status._tag === "Ended"
    }))

describe("RPC calls at runtime", () => {
  // Live: test.later sleeps on the real clock.
  it.live("with a Tracer in the Gateway's layer, every call gets a span with its method, scope and outcome", () =>
    Effect.gen(function* () {
      const spans: Array<Tracer.Span> = []
      const tracer = yield* recordingTracer(spans)
      yield* Effect.gen(function* () {
        const gateway = yield* Gateway
        const client = yield* TestClient
        yield* gateway.registerMethod("test.fails", {
          requires: "operator.write",
          handler: () => Effect.fail(RpcError.invalidRequest("no"))
        })
        yield* gateway.registerMethod("test.later", {
          requires: "operator.read",
          handler: () => Effect.as(Effect.sleep("5 millis"), "done")
        })
        expect((yield* client.request("health")).ok).toBe(true)
        expect(yield* client.request("test.later", {})).toBe("done")
        expect((yield* Effect.flip(client.request("test.fails", {}))).message).toBe("INVALID_REQUEST: no")
      }).pipe(Effect.provide(GatewayTest.pipe(Layer.provide(Layer.setTracer(tracer)))), Effect.scoped)
      expect(rpcSpans(spans)).toEqual([
        { name: "openclaw.rpc health", method: "health", scope: "operator.read", outcome: "ok", ended: true },
        { name: "openclaw.rpc test.later", method: "test.later", scope: "operator.read", outcome: "ok", ended: true },
        {
          name: "openclaw.rpc test.fails",
          method: "test.fails",
          scope: "operator.write",
          outcome: "INVALID_REQUEST",
          ended: true
        }
      ])
    })
  )

  it("only a Tracer other than Effect's default makes the Gateway trace calls", () => {
    const native = Effect.runSync(Effect.tracer)
    expect(tracesCalls(native)).toBe(false)
    expect(tracesCalls(Tracer.make({ span: native.span, context: native.context }))).toBe(true)
  })

  it.effect("closing the Gateway's scope interrupts a method's handler that is still running", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const interrupted = yield* Deferred.make<void>()
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(GatewayTest, scope)
      const gateway = Context.get(context, Gateway)
      const client = Context.get(context, TestClient)
      yield* gateway
        .registerMethod("test.slow", {
          requires: "operator.read",
          handler: () =>
            Deferred.succeed(started, undefined).pipe(
              Effect.zipRight(Effect.never),
              Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
            )
        })
        .pipe(Scope.extend(scope))
      const call = yield* Effect.fork(client.request("test.slow", {}))
      yield* Deferred.await(started)
      yield* Scope.close(scope, Exit.void)
      yield* Deferred.await(interrupted).pipe(Effect.timeout("2 seconds"))
      yield* Fiber.interrupt(call)
    })
  )
})
