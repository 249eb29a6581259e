/** The params decoder (src/services/gateway/params.ts) over the params schemas of src/protocol/contracts. */
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { paramsDecoder } from "../../../src/services/gateway/params.js"
import { AgentParams, ChatHistoryParams, SendParams } from "../../../src/protocol/contracts/agent.js"
import { BrowserRequestParams, NodeInvokeParams } from "../../../src/protocol/contracts/nodes.js"
import type { ParamsOf } from "../../../src/protocol/methods.js"

const errorOf = <A, I>(method: string, schema: Schema.Schema<A, I, never>, params: unknown) => {
  const r = paramsDecoder(method, schema)(params)
  if (Either.isRight(r)) throw new Error(`${method} decoded ${JSON.stringify(params)}`)
  return r.left
}

describe("method params", () => {
  it("a wrong type names the method, the field and what was expected, not the value", () => {
    expect(errorOf("chat.send", AgentParams, { message: "hi", sessionKey: 42, idempotencyKey: "k" })).toEqual({
      code: "INVALID_REQUEST",
      message: 'chat.send: params.sessionKey must be a session key such as "main", got a number',
      details: { code: "INVALID_PARAMS", field: "sessionKey" }
    })
    const e = errorOf("browser.request", BrowserRequestParams, { method: "PATCH-secret", path: "/x" })
    expect(e.message).toBe("browser.request: params.method must be one of GET, POST, DELETE, got a string")
    expect(errorOf("chat.history", ChatHistoryParams, { limit: "10" }).message).toBe(
      "chat.history: params.limit must be a non-negative integer, got a string"
    )
  })

  it("a missing field says what it needs; a refinement says what is wrong", () => {
    expect(errorOf("agent", AgentParams, { idempotencyKey: "k" }).message).toBe(
      "agent needs params.message (a non-empty string)"
    )
    expect(errorOf("agent", AgentParams, { message: "x".repeat(200_001), idempotencyKey: "k" }).message).toBe(
      "agent: params.message is longer than 200000 characters"
    )
    expect(errorOf("send", SendParams, { to: "a\u0001", message: "hi", idempotencyKey: "k" }).message).toBe(
      "send: params.to contains control characters"
    )
    expect(errorOf("chat.history", ChatHistoryParams, { limit: 1.5 }).message).toBe(
      "chat.history: params.limit must be a non-negative integer"
    )
  })

  it("idempotencyKey problems keep their own message and code", () => {
    for (const key of [undefined, "", " ", 7, "k".repeat(201)]) {
      const e = errorOf("send", SendParams, {
        to: "main",
        message: "hi",
        ...(key === undefined ? {} : { idempotencyKey: key })
      })
      expect(e.details).toEqual({ code: "IDEMPOTENCY_KEY_REQUIRED", field: "idempotencyKey" })
      expect(e.message).toMatch(/^send needs params\.idempotencyKey: a unique string/)
    }
  })

  it("params that are not an object are refused; missing or null params are {}; extra fields are ignored", () => {
    expect(errorOf("chat.history", ChatHistoryParams, [1]).message).toBe(
      "chat.history: params must be an object, got an array"
    )
    const decode = paramsDecoder("chat.history", ChatHistoryParams)
    expect(decode(undefined)).toEqual(Either.right({ sessionKey: "main", limit: 200 }))
    expect(decode(null)).toEqual(Either.right({ sessionKey: "main", limit: 200 }))
    expect(decode({ limit: 5000, locale: "en" })).toEqual(Either.right({ sessionKey: "main", limit: 1000 }))
  })

  it("node.invoke: params passes through as it came; timeoutMs is cut to the maximum", () => {
    const decoded = paramsDecoder(
      "node.invoke",
      NodeInvokeParams
    )({
      nodeId: "n",
      command: "echo",
      params: { a: [1] },
      idempotencyKey: "k",
      timeoutMs: 1e12
    })
    expect(decoded).toEqual(
      Either.right({ nodeId: "n", command: "echo", params: { a: [1] }, idempotencyKey: "k", timeoutMs: 600_000 })
    )
  })
})

describe("typed requests take their params from the same schemas", () => {
  it("ParamsOf is what the server accepts (checked by the typecheck of the tests)", () => {
    const send: ParamsOf<"chat.send"> = { message: "hi", idempotencyKey: "k" }
    // @ts-expect-error: sessionKey is a string on the wire
    const wrong: ParamsOf<"chat.send"> = { message: "hi", idempotencyKey: "k", sessionKey: 1 }
    const invoke: ParamsOf<"node.invoke"> = { nodeId: "n", command: "echo", idempotencyKey: "k", params: [1] }
    expect(Either.isRight(paramsDecoder("chat.send", AgentParams)(send))).toBe(true)
    expect(Either.isLeft(paramsDecoder("chat.send", AgentParams)(wrong))).toBe(true)
    expect(Either.isRight(paramsDecoder("node.invoke", NodeInvokeParams)(invoke))).toBe(true)
  })
})
