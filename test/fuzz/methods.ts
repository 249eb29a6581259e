/**
 * The protocol fuzzer's table of methods: for each method the Gateway registers, params a correct
 * client would send. The fuzzer sends them as they are and mutated (keys dropped, values replaced
 * by hostile JSON, deep nesting, odd keys), and every method also gets arbitrary JSON as params.
 *
 * A new method needs a row here: the fuzzer fails, naming it, when hello-ok lists a method this
 * table does not have. Placeholders ("$nodeId", "$runId", "$requestId", "$invokeId") are replaced
 * by live values (the fuzz node's id, runs and pairing requests seen so far) when a frame is sent.
 */
import fc from "fast-check"
import { hostileJson, hostileString } from "./arbitraries.js"

export interface MethodFuzz {
  /** Params a correct client would send. */
  readonly valid: fc.Arbitrary<Record<string, unknown>>
  /** Its answer may legitimately take longer than the fuzzer waits (it is then not required). */
  readonly slow?: boolean
  /** Called by node hosts (the fuzzer calls it as the node, and as an operator to be refused). */
  readonly role?: "node"
}

const sessionKey = fc.oneof({ weight: 3, arbitrary: fc.constantFrom("main", "fuzz", "work/1") }, hostileString)
const message = fc.oneof({ weight: 3, arbitrary: fc.lorem({ maxCount: 5 }) }, hostileString)
const key = fc.uuid()
const timeoutMs = fc.integer({ min: 1, max: 1500 })
const nodeRef = fc.oneof({ weight: 3, arbitrary: fc.constant("$nodeId") }, hostileString)
const requestId = fc.oneof({ weight: 2, arbitrary: fc.constant("$requestId") }, hostileString)
const none = fc.constant({})
/** Removing the fuzz node's pairing is a legitimate call too, but rarely: it costs a reconnect. */
const rareOwnNode = fc.oneof({ weight: 9, arbitrary: hostileString }, { weight: 1, arbitrary: fc.constant("$nodeId") })

const pairing = {
  list: { valid: none },
  approve: { valid: fc.record({ requestId }) },
  reject: { valid: fc.record({ requestId }) },
  remove: { valid: fc.record({ nodeId: rareOwnNode }) }
} satisfies Record<string, MethodFuzz>

export const METHODS: Record<string, MethodFuzz> = {
  health: { valid: fc.record({ probe: fc.boolean() }, { requiredKeys: [] }) },
  status: { valid: none },
  "system-presence": { valid: none },
  agent: {
    valid: fc.record({ message, sessionKey, idempotencyKey: key }, { requiredKeys: ["message", "idempotencyKey"] })
  },
  "agent.wait": {
    valid: fc.record({
      runId: fc.oneof(fc.constant("$runId"), hostileString),
      timeoutMs: fc.integer({ min: 0, max: 500 })
    }),
    slow: true
  },
  "chat.send": { valid: fc.record({ sessionKey, message, idempotencyKey: key }) },
  "chat.history": { valid: fc.record({ sessionKey, limit: fc.integer({ min: 0, max: 1000 }) }, { requiredKeys: [] }) },
  "chat.abort": { valid: fc.record({ sessionKey, runId: fc.constant("$runId") }, { requiredKeys: [] }) },
  "sessions.list": { valid: none },
  send: { valid: fc.record({ to: sessionKey, message, idempotencyKey: key }) },
  "node.list": { valid: none },
  "node.describe": { valid: fc.record({ nodeId: nodeRef }) },
  "node.invoke": {
    valid: fc.record(
      {
        nodeId: nodeRef,
        command: fc.constantFrom("echo", "browser.proxy", "undeclared"),
        params: hostileJson,
        idempotencyKey: key,
        timeoutMs
      },
      { requiredKeys: ["nodeId", "command", "idempotencyKey", "timeoutMs"] }
    )
  },
  "node.invoke.result": {
    role: "node",
    valid: fc.record(
      {
        id: fc.constant("$invokeId"),
        nodeId: fc.constant("$nodeId"),
        ok: fc.boolean(),
        payload: hostileJson,
        error: fc.record({ code: hostileString, message: hostileString })
      },
      { requiredKeys: ["id", "ok"] }
    )
  },
  "node.event": {
    role: "node",
    valid: fc.record(
      { event: hostileString, payload: hostileJson, payloadJSON: hostileString },
      { requiredKeys: ["event"] }
    )
  },
  "node.pair.list": pairing.list,
  "node.pair.approve": pairing.approve,
  "node.pair.reject": pairing.reject,
  "node.pair.remove": pairing.remove,
  "node.remove": pairing.remove,
  "device.pair.list": pairing.list,
  "device.pair.approve": pairing.approve,
  "device.pair.reject": pairing.reject,
  "device.pair.remove": pairing.remove,
  // Devices (i15): revoking the fuzz node would need a new approval, so only hostile ids are revoked.
  "device.token.revoke": { valid: fc.record({ deviceId: hostileString }) },
  "device.rename": {
    valid: fc.record({
      deviceId: nodeRef,
      displayName: fc.oneof({ weight: 3, arbitrary: fc.constantFrom("laptop", "pi") }, hostileString)
    })
  },
  "audit.tail": {
    valid: fc.record({ limit: fc.integer({ min: 0, max: 500 }), since: fc.integer({ min: 0 }) }, { requiredKeys: [] })
  },
  doctor: { valid: none },
  // One-time sign-in codes (i19/i22): takes no params; hostile ones are ignored.
  "auth.signInCode.create": { valid: none },
  // OpenClaw's clients (i16)
  "sessions.subscribe": { valid: none },
  "sessions.unsubscribe": { valid: none },
  "sessions.messages.subscribe": { valid: fc.record({ key: sessionKey }) },
  "sessions.messages.unsubscribe": { valid: fc.record({ key: sessionKey }) },
  "sessions.describe": { valid: fc.record({ key: sessionKey }) },
  "chat.startup": {
    valid: fc.record(
      { sessionKey, limit: fc.integer({ min: 0, max: 1000 }), maxBytes: fc.integer({ min: 0, max: 1 << 20 }) },
      { requiredKeys: [] }
    )
  },
  "agents.list": { valid: none },
  "agent.identity.get": {
    valid: fc.record({ agentId: fc.oneof(fc.constant("main"), hostileString) }, { requiredKeys: [] })
  },
  "config.get": { valid: none },
  "logs.tail": {
    valid: fc.record(
      { cursor: fc.nat(), limit: fc.nat({ max: 5000 }), maxBytes: fc.nat({ max: 1 << 20 }) },
      { requiredKeys: [] }
    )
  },
  "system.info": { valid: none },
  "question.list": { valid: none },
  // OpenClaw's Control UI reads (i23): features we have, and empty reads of features we lack
  "chat.metadata": {
    valid: fc.record({ agentId: fc.constant("main"), sessionKey, authProfileId: hostileString }, { requiredKeys: [] })
  },
  "models.list": {
    valid: fc.record(
      {
        agentId: fc.constant("main"),
        sessionKey,
        view: fc.constantFrom("default", "configured", "all"),
        refresh: fc.boolean()
      },
      { requiredKeys: [] }
    )
  },
  "models.authStatus": { valid: fc.record({ refresh: fc.boolean(), agentId: hostileString }, { requiredKeys: [] }) },
  "sessions.branches.list": {
    valid: fc.record({ sessionKey, agentId: fc.constant("main") }, { requiredKeys: ["sessionKey"] })
  },
  "sessions.companion.state": {
    valid: fc.record({ sessionKey, agentId: fc.constant("main") }, { requiredKeys: ["sessionKey"] })
  },
  "sessions.observer.visibility": { valid: fc.record({ visible: fc.boolean() }) },
  "update.status": { valid: fc.record({ refreshCheckout: fc.boolean() }, { requiredKeys: [] }) },
  "cron.list": {
    valid: fc.record({ includeDisabled: fc.boolean(), limit: fc.nat(500), query: message }, { requiredKeys: [] })
  },
  "cron.status": { valid: none },
  "tasks.list": { valid: fc.record({ sessionKey, limit: fc.nat(500) }, { requiredKeys: [] }) },
  "progressCard.get": { valid: fc.record({ sessionKey }) },
  "exec.approval.list": { valid: none },
  "plugin.approval.list": { valid: none },
  "openclaw.approval.list": { valid: none },
  "talk.catalog": { valid: none },
  "browser.request": {
    valid: fc.record(
      {
        method: fc.constantFrom("GET", "POST", "DELETE"),
        path: fc.constantFrom("/", "/tabs", "/snapshot", "/navigate"),
        query: hostileJson,
        body: hostileJson,
        timeoutMs
      },
      { requiredKeys: ["method", "path", "timeoutMs"] }
    )
  }
}
