/**
 * The methods of node hosts: node.list/describe/invoke, the node's node.invoke.result and
 * node.event, the operator's node pairing (node.pair.*), and browser.request routed to a
 * browser-capable node. Deciding a pairing request is one contract under two names: node.pair.*
 * here and device.pair.* (devices.ts) approve nodes and operator devices alike.
 */
import { Schema } from "effect"
import { Method, MethodGroup } from "../contract.js"
import { IdempotencyKey, MAX_INVOKE_TIMEOUT_MS, NonEmptyString, TimeoutMs } from "../params.js"

const optional = <A, I>(s: Schema.Schema<A, I, never>) => Schema.optionalWith(s, { exact: true })

export const NodeInvokeParams = Schema.Struct({
  nodeId: NonEmptyString,
  command: NonEmptyString,
  params: optional(Schema.Unknown),
  timeoutMs: optional(TimeoutMs(MAX_INVOKE_TIMEOUT_MS)),
  idempotencyKey: IdempotencyKey
})
export const BrowserRequestParams = Schema.Struct({
  method: Schema.optionalWith(Schema.Literal("GET", "POST", "DELETE"), { exact: true, default: () => "GET" as const }),
  path: NonEmptyString,
  query: optional(Schema.Unknown),
  body: optional(Schema.Unknown),
  timeoutMs: optional(TimeoutMs(MAX_INVOKE_TIMEOUT_MS))
})
export const RequestIdParams = Schema.Struct({ requestId: NonEmptyString })
export const NodeIdParams = Schema.Struct({ nodeId: NonEmptyString })
/** A node by either name (OpenClaw's clients say nodeId, device screens deviceId). */
export const NodeRefParams = Schema.Struct({ nodeId: optional(NonEmptyString), deviceId: optional(NonEmptyString) })

export const NodeInvokeResult = Schema.Struct({
  ok: Schema.Literal(true),
  nodeId: Schema.String,
  command: Schema.String,
  payload: Schema.Unknown
})
const Rejected = Schema.Struct({
  requestId: Schema.String,
  nodeId: Schema.String,
  deviceId: Schema.String,
  decision: Schema.Literal("rejected")
})
const Removed = Schema.Struct({ nodeId: Schema.String, deviceId: Schema.String, removed: Schema.Literal(true) })

const pairing = <P extends Schema.Schema<any, any, never>, R extends Schema.Schema<any, any, never>>(
  params: P,
  result: R
) => Method.make({ requires: "operator.pairing", params, result })

/** Approving or rejecting a pairing request (node.pair.approve/reject, device.pair.approve/reject). */
export const PairApprove = pairing(RequestIdParams, Schema.Unknown)
export const PairReject = pairing(RequestIdParams, Rejected)

export const NodeGroup = MethodGroup.make({
  "node.list": Method.make({ requires: "operator.read", result: Schema.Unknown }),
  "node.describe": Method.make({ requires: "operator.read", params: NodeIdParams, result: Schema.Unknown }),
  // operator.write as in OpenClaw; the browser and the commands OpenClaw keeps for admins need operator.admin.
  "node.invoke": Method.make({ requires: "operator.write", params: NodeInvokeParams, result: NodeInvokeResult }),
  // No params Schema: a node's answer is read field by field, so even a malformed one settles the
  // operator's pending call at once (an error for it) instead of leaving it to time out.
  "node.invoke.result": Method.make({ requires: "node", result: Schema.Unknown }),
  "node.event": Method.make({ requires: "node", result: Schema.Struct({ ok: Schema.Literal(true) }) }),
  "node.pair.list": Method.make({ requires: "operator.pairing", result: Schema.Unknown }),
  "node.pair.approve": PairApprove,
  "node.pair.reject": PairReject,
  "node.pair.remove": pairing(NodeRefParams, Removed),
  "node.remove": pairing(NodeRefParams, Removed),
  "browser.request": Method.make({ requires: "operator.admin", params: BrowserRequestParams, result: Schema.Unknown })
})
