/**
 * Method params are decoded with each method's Schema before its handler runs: a property test
 * that, for every method with params, a field given a value of the wrong type is answered
 * INVALID_REQUEST naming that field (never quoting the value), and the connection stays usable.
 * Runs with the fuzzer (FUZZ_RUNS sets its run count; 300 by default).
 */
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { authenticated, gatewayLayer, type RawClient } from "../support/gateway.js"
import { ALL_OPERATOR_SCOPES } from "../support/harness.js"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { Gateway } from "../../src/services/gateway/Gateway.js"

/** Params each method accepts (every field valid), so the one broken field is the only problem. */
const VALID: Record<string, Record<string, unknown>> = {
  agent: { message: "hi", sessionKey: "main", idempotencyKey: "k" },
  "chat.send": { message: "hi", sessionKey: "main", idempotencyKey: "k" },
  send: { to: "main", message: "hi", idempotencyKey: "k" },
  "agent.wait": { runId: "r", timeoutMs: 10 },
  "chat.history": { sessionKey: "main", limit: 5 },
  "chat.abort": { sessionKey: "main", runId: "r" },
  "chat.startup": { sessionKey: "main", limit: 5 },
  "sessions.describe": { key: "main" },
  "sessions.messages.subscribe": { key: "main" },
  "sessions.messages.unsubscribe": { key: "main" },
  "node.describe": { nodeId: "n" },
  "node.invoke": { nodeId: "n", command: "echo", idempotencyKey: "k", timeoutMs: 100 },
  "node.pair.approve": { requestId: "r" },
  "node.pair.reject": { requestId: "r" },
  "device.pair.approve": { requestId: "r" },
  "device.pair.reject": { requestId: "r" },
  "node.pair.remove": { nodeId: "n", deviceId: "n" },
  "node.remove": { nodeId: "n", deviceId: "n" },
  "device.token.revoke": { deviceId: "d", nodeId: "d" },
  "device.pair.remove": { deviceId: "d", nodeId: "d" },
  "device.rename": { deviceId: "d", nodeId: "d", displayName: "laptop" },
  "audit.tail": { limit: 5, since: 0 },
  "browser.request": { method: "GET", path: "/x", timeoutMs: 100 },
  "agent.identity.get": { agentId: "main" },
  "logs.tail": { cursor: 0, limit: 5, maxBytes: 100 },
  "chat.metadata": { agentId: "main", sessionKey: "main" },
  "models.list": { agentId: "main", sessionKey: "main", view: "all", refresh: false },
  "models.authStatus": { refresh: false, agentId: "main" },
  "sessions.branches.list": { sessionKey: "main", agentId: "main" },
  "sessions.companion.state": { sessionKey: "main", agentId: "main" },
  "sessions.observer.visibility": { visible: true },
  "update.status": { refreshCheckout: false }
}
/** Methods with no typed field: no params, any object, or (node.invoke.result) a node's answer read field by field. */
const NO_TYPED_FIELDS = new Set([
  "health",
  "status",
  "system-presence",
  "node.list",
  "node.pair.list",
  "device.pair.list",
  "agents.list",
  "question.list",
  "config.get",
  "system.info",
  "doctor",
  "auth.signInCode.create",
  "node.event",
  "node.invoke.result",
  "sessions.list",
  "sessions.subscribe",
  "sessions.unsubscribe",
  // Empty reads of OpenClaw features this Gateway lacks: any object.
  "cron.list",
  "cron.status",
  "tasks.list",
  "progressCard.get",
  "exec.approval.list",
  "plugin.approval.list",
  "openclaw.approval.list",
  "talk.catalog"
])

const MARK = "SECRET-VALUE"
/** A JSON value of another type than `valid`, holding a marker string the error must not quote. */
const wrongFor = (valid: unknown): fc.Arbitrary<unknown> => {
  const others: Array<fc.Arbitrary<unknown>> = [
    fc.constant(null),
    fc.array(fc.constant(MARK), { maxLength: 3 }),
    fc.record({ [MARK]: fc.constant(MARK) })
  ]
  if (typeof valid !== "string") others.push(fc.string().map((s) => `${MARK}${s}`))
  if (typeof valid !== "number")
    others.push(fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })))
  if (typeof valid !== "boolean") others.push(fc.boolean())
  return fc.oneof(...others)
}

const broken = fc.constantFrom(...Object.keys(VALID)).chain((method) =>
  fc.constantFrom(...Object.keys(VALID[method]!)).chain((field) =>
    fc.record({
      method: fc.constant(method),
      field: fc.constant(field),
      value: wrongFor(VALID[method]![field])
    })
  )
)

describe("method params are decoded by each method's Schema", () => {
  const scope = Effect.runSync(Scope.make())
  let client: RawClient
  let methods: Array<string>

  beforeAll(async () => {
    const context = await Effect.runPromise(Layer.buildWithScope(gatewayLayer(), scope))
    const gateway = Context.get(context as Context.Context<Gateway>, Gateway)
    client = await authenticated(gateway.url, { scopes: ALL_OPERATOR_SCOPES })
    methods = client.frames.find((f) => f.id === "c1").payload.features.methods
  })
  afterAll(async () => {
    client?.ws.close()
    await Effect.runPromise(Scope.close(scope, Exit.void))
  })

  it("every registered method is in this test's tables", () => {
    const missing = methods.filter((m) => VALID[m] === undefined && !NO_TYPED_FIELDS.has(m))
    expect(missing, `add these methods to test/fuzz/params.test.ts: ${missing.join(", ")}`).toEqual([])
  })

  it("a valid call gets past its params (no INVALID_PARAMS)", async () => {
    for (const [method, params] of Object.entries(VALID)) {
      if (method === "agent.wait" || method === "agent") continue // these wait on a run
      const res = await client.request(method, params)
      expect(res.error?.details?.code, `${method}: ${JSON.stringify(res.error)}`).not.toBe("INVALID_PARAMS")
    }
  })

  it("a wrong-typed field is INVALID_REQUEST naming the field, never quoting the value; the connection goes on", async () => {
    await fc.assert(
      fc.asyncProperty(broken, async ({ method, field, value }) => {
        const res = await client.request(method, { ...VALID[method], [field]: value })
        expect(res.ok, `${method} with params.${field} = ${JSON.stringify(value)}`).toBe(false)
        expect(res.error.code).toBe("INVALID_REQUEST")
        expect(res.error.details.field).toBe(field)
        expect(res.error.message).toContain(`params.${field}`)
        expect(res.error.message.startsWith(method)).toBe(true)
        expect(res.error.message).not.toContain(MARK)
        expect((await client.request("health")).ok).toBe(true)
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 300) }
    )
    // Every method was there all along: nothing closed the socket.
    expect(client.closed).toBeUndefined()
  })
})
