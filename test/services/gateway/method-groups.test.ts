/**
 * Method contract groups (src/protocol/contract.ts) on both sides: a group a layer implements answers
 * with its params decoded; a name registered twice fails the layer; the handlers and the client are
 * typed by the same declaration (the `@ts-expect-error` lines are checked by the tests' typecheck).
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Schema } from "effect"
import {
  defineMethod,
  Gateway,
  GatewayClient,
  implementGroup,
  Method,
  MethodAlreadyRegistered,
  MethodGroup,
  RpcError
} from "../../../src/index.js"
import type { ParamsOf, ResultOf } from "../../../src/protocol/methods.js"
import { BuiltinGroup } from "../../../src/protocol/contracts/index.js"
import { GatewayTest, testClientFor, TestClient } from "../../support/harness.js"

/** An embedder's own group: one method with a params Schema (a default, a transform), one without. */
const Greeting = MethodGroup.make({
  "greeting.say": Method.make({
    requires: "operator.write",
    params: Schema.Struct({
      name: Schema.NonEmptyTrimmedString,
      times: Schema.optionalWith(Schema.NumberFromString, { exact: true, default: () => 1 })
    }),
    result: Schema.Struct({ text: Schema.String, times: Schema.Number })
  }),
  "greeting.count": Method.make({ requires: "operator.read", result: Schema.Number })
})

const GreetingMethods = Layer.scopedDiscard(
  Effect.gen(function* () {
    const gateway = yield* Gateway
    let said = 0
    yield* gateway.registerGroup(Greeting, {
      "greeting.say": ({ name, times }) =>
        Effect.sync(() => {
          said++
          return { text: Array.from({ length: times }, () => `hello ${name}`).join(", "), times }
        }),
      "greeting.count": { sync: () => said }
    })
  })
)

it.layer(GreetingMethods.pipe(Layer.provideMerge(GatewayTest)))("a custom method group", (it) => {
  it.effect("answers typed, with its params decoded by its Schema", () =>
    Effect.gen(function* () {
      const client = yield* testClientFor(Greeting)
      // times arrives as the Schema's encoded side (a string) and reaches the handler as a number.
      const said = yield* client.request("greeting.say", { name: "Ada", times: "2" })
      expect(said).toEqual({ text: "hello Ada, hello Ada", times: 2 })
      expect(yield* client.request("greeting.say", { name: "Bob" })).toEqual({ text: "hello Bob", times: 1 })
      const count: number = yield* client.request("greeting.count")
      expect(count).toBe(2)
    })
  )

  it.effect("a request whose params do not decode is INVALID_REQUEST naming the field; the handler never runs", () =>
    Effect.gen(function* () {
      const conn = yield* TestClient
      const before = yield* GatewayClient.typed(Greeting, conn).request("greeting.count")
      const e = yield* Effect.flip(conn.request("greeting.say", { name: 42 }))
      expect(e.serverCode).toBe("INVALID_REQUEST")
      expect(e.message).toContain("greeting.say: params.name")
      expect(yield* GatewayClient.typed(Greeting, conn).request("greeting.count")).toBe(before)
    })
  )

  it.effect("its scope is the contract's: a caller without it is refused", () =>
    Effect.gen(function* () {
      const gateway = yield* Gateway
      const reader = yield* GatewayClient.connect({
        url: gateway.url,
        token: "test-token",
        scopes: ["operator.read"],
        client: { id: "reader", mode: "test" }
      })
      const e = yield* Effect.flip(GatewayClient.typed(Greeting, reader).request("greeting.say", { name: "x" }))
      expect(e.message).toContain("operator.write")
    }).pipe(Effect.scoped)
  )
})

const failureOf = <E>(exit: Exit.Exit<unknown, E>) =>
  Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : expect.fail("the layer was built")

describe("registering a name twice", () => {
  it.effect(
    "a built-in's name fails the layer with MethodAlreadyRegistered naming it, registering none of the group",
    () =>
      Effect.gen(function* () {
        const Clash = MethodGroup.make({
          "clash.fresh": Method.make({ requires: "operator.read", result: Schema.String }),
          health: Method.make({ requires: "operator.read", result: Schema.String })
        })
        const layer = Layer.scopedDiscard(
          Effect.flatMap(Gateway, (gateway) =>
            gateway.registerGroup(Clash, { "clash.fresh": { sync: () => "fresh" }, health: { sync: () => "mine" } })
          )
        )
        const exit = yield* Effect.exit(Layer.build(layer))
        const failure = failureOf(exit)
        expect(failure._tag).toBe("Some")
        const error = (failure as { value: MethodAlreadyRegistered }).value
        expect(error).toBeInstanceOf(MethodAlreadyRegistered)
        expect(error.method).toBe("health")
        expect(error.message).toContain("method health is already registered")
        // The built-in still answers, and the group's other name was not left behind.
        const client = yield* TestClient
        expect((yield* client.request("health")).ok).toBe(true)
        expect((yield* Effect.flip(client.request("clash.fresh"))).message).toContain("unknown method: clash.fresh")
      }).pipe(Effect.scoped, Effect.provide(GatewayTest))
  )

  it.effect("another group's name fails too (registerMethod as well)", () =>
    Effect.gen(function* () {
      const gateway = yield* Gateway
      const exit = yield* Effect.exit(
        gateway.registerMethod("greeting.count", { requires: "operator.read", sync: () => 0 })
      )
      expect(failureOf(exit)).toMatchObject({ value: { method: "greeting.count" } })
      const client = yield* testClientFor(Greeting)
      expect(typeof (yield* client.request("greeting.count"))).toBe("number")
    }).pipe(Effect.scoped, Effect.provide(GreetingMethods.pipe(Layer.provideMerge(GatewayTest))))
  )

  it.effect("one method of a contract alone: defineMethod(contract, handler) and registerMethod", () =>
    Effect.gen(function* () {
      const Single = MethodGroup.make({
        "single.double": Method.make({
          requires: "operator.read",
          params: Schema.Struct({ n: Schema.NumberFromString }),
          result: Schema.Number
        })
      })
      const contract = Single.methods["single.double"]
      // @ts-expect-error: n is decoded to a number, the answer is a number
      defineMethod(contract, ({ n }) => Effect.succeed(n.length))
      const gateway = yield* Gateway
      yield* gateway.registerMethod(
        "single.double",
        defineMethod(contract, ({ n }) => Effect.succeed(n * 2))
      )
      const client = yield* testClientFor(Single)
      expect(yield* client.request("single.double", { n: "21" })).toBe(42)
    }).pipe(Effect.scoped, Effect.provide(GatewayTest))
  )

  it("two groups declaring one name cannot be merged", () => {
    expect(() => MethodGroup.merge(Greeting, Greeting)).toThrow("method greeting.say is declared by two method groups")
  })
})

describe("handlers and clients are typed by the contract (checked by the typecheck of the tests)", () => {
  it("a wrong result, wrong params, a missing or an extra name do not type-check", () => {
    implementGroup(Greeting, {
      // @ts-expect-error: the result's text must be a string
      "greeting.say": ({ name }) => Effect.succeed({ text: name.length, times: 1 }),
      "greeting.count": { sync: () => 0 }
    })
    implementGroup(Greeting, {
      // @ts-expect-error: times is decoded to a number, not a string
      "greeting.say": (params: { name: string; times: string }) => Effect.succeed({ text: params.name, times: 1 }),
      "greeting.count": { sync: () => 0 }
    })
    implementGroup(Greeting, {
      "greeting.say": () => Effect.fail(RpcError.invalidRequest("no")),
      // @ts-expect-error: a sync handler answers the result's type
      "greeting.count": { sync: () => "zero" }
    })
    const onlySay = { "greeting.say": () => Effect.fail(RpcError.invalidRequest("no")) }
    // @ts-expect-error: greeting.count has no handler
    expect(() => implementGroup(Greeting, onlySay)).toThrow("no handler for greeting.count")
    implementGroup(Greeting, {
      "greeting.say": () => Effect.fail(RpcError.invalidRequest("no")),
      "greeting.count": { sync: () => 0 },
      // @ts-expect-error: not a method of the group
      "greeting.other": { sync: () => 0 }
    })
  })

  it("the client's params and results come from the same groups", () => {
    const call = (conn: GatewayClient.GatewayConnection) => {
      const greeting = GatewayClient.typed(Greeting, conn)
      // @ts-expect-error: name is required
      void greeting.request("greeting.say", {})
      // @ts-expect-error: times goes on the wire as a string (NumberFromString)
      void greeting.request("greeting.say", { name: "x", times: 2 })
      // @ts-expect-error: not a method of the group
      void greeting.request("greeting.other")
      const text: Effect.Effect<string, unknown> = Effect.map(
        greeting.request("greeting.say", { name: "x" }),
        (r) => r.text
      )
      return text
    }
    expect(typeof call).toBe("function")
    const abort: ParamsOf<"chat.abort"> = { sessionKey: "main" }
    // @ts-expect-error: chat.abort's result says whether it aborted, as a boolean
    const wrong: ResultOf<"chat.abort"> = { ok: true, aborted: "yes", runIds: [] }
    const presence: ResultOf<"system-presence"> = []
    expect([abort, wrong, presence]).toHaveLength(3)
  })
})

// Result Schemas are not run by the server (they type both sides): the real answers must match them.
it.layer(GatewayTest)("the built-in result Schemas", (it) => {
  it.effect("describe what the methods really answer", () =>
    Effect.gen(function* () {
      const client = yield* TestClient
      const calls: ReadonlyArray<readonly [keyof typeof BuiltinGroup.methods, unknown]> = [
        ["health", undefined],
        ["status", undefined],
        ["system-presence", undefined],
        ["chat.history", {}],
        ["chat.abort", {}],
        ["sessions.unsubscribe", {}],
        ["sessions.messages.subscribe", { key: "main" }],
        ["auth.signInCode.create", undefined]
      ]
      for (const [method, params] of calls) {
        const answer = yield* client.request(method, params as never)
        const result = BuiltinGroup.methods[method].result as Schema.Schema<unknown>
        const decoded = Schema.decodeUnknownEither(result)(answer, {
          onExcessProperty: "error"
        })
        expect(decoded._tag, `${method}: ${JSON.stringify(answer)}`).toBe("Right")
      }
    })
  )
})
