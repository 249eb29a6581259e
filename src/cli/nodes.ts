/** `openclaw nodes ...`: pairing requests and paired nodes, on the Gateway (operator.pairing). */
import { Args, Command } from "@effect/cli"
import { Console, Effect } from "effect"
import { GatewayClientError } from "../client/GatewayClient.js"
import { forTerminal as t } from "../protocol/client-text.js"
import { clientOptions, withGateway } from "./client.js"
import { printJson } from "./output.js"

const SCOPES = ["operator.read", "operator.pairing"]

interface PendingView {
  requestId: string
  nodeId: string
  displayName?: string
  platform?: string
  remoteAddress?: string
  caps?: Array<string>
  commands?: Array<string>
  /** A paired node asking for more: only this is new. */
  upgrade?: { caps: Array<string>; commands: Array<string> }
  requestedAt: number
  expiresAt: number
}
interface NodeView {
  nodeId: string
  displayName?: string
  platform?: string
  version?: string
  caps: Array<string>
  commands: Array<string>
  pendingCaps?: Array<string>
  pendingCommands?: Array<string>
  connected: boolean
  paired: boolean
  connectedAt?: number
  pairedAt?: number
  remoteAddress?: string
}

const ago = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000))
  return s < 90 ? `${s}s` : s < 5400 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`
}

/** Every string below came from the Gateway or a node: `t` (forTerminal) keeps each on its line, visible. */
const listed = (xs: ReadonlyArray<string> | undefined) =>
  xs === undefined || xs.length === 0 ? "none" : xs.map(t).join(", ")

/** What a request asks for: for a paired node only what is new. */
const asks = (r: PendingView) =>
  r.upgrade === undefined
    ? `commands: ${listed(r.commands)}; caps: ${listed(r.caps)}`
    : `already paired, asks for more: ${[...(r.upgrade.commands.length ? [`commands ${listed(r.upgrade.commands)}`] : []), ...(r.upgrade.caps.length ? [`caps ${listed(r.upgrade.caps)}`] : [])].join("; ")}`

/** Declared but not approved (not routed until an operator approves the pending request). */
const awaiting = (n: NodeView) =>
  n.pendingCommands === undefined && n.pendingCaps === undefined
    ? []
    : [`    awaiting approval (not routed): commands: ${listed(n.pendingCommands)}; caps: ${listed(n.pendingCaps)}`]

const name = (n: { displayName?: string; nodeId: string }) =>
  n.displayName === undefined ? t(n.nodeId.slice(0, 12)) : `${t(n.displayName)} (${t(n.nodeId.slice(0, 12))})`

const call = (
  what: string,
  method: string,
  params: unknown,
  flags: Parameters<typeof withGateway>[0],
  print: (payload: any) => string
) =>
  withGateway(flags, SCOPES, what, (conn) =>
    Effect.flatMap(conn.request(method, params, { timeoutMs: flags.timeout }), (payload) =>
      flags.json ? printJson(payload) : Console.log(print(payload))
    )
  )

const pending = Command.make("pending", clientOptions, (flags) =>
  call("Listing pairing requests failed", "node.pair.list", {}, flags, (p: { pending: Array<PendingView> }) => {
    if (p.pending.length === 0) return "No pending pairing requests."
    const now = Date.now()
    return [
      `${p.pending.length} pending pairing request(s):`,
      ...p.pending.map(
        (r) =>
          `  ${t(r.requestId)}  node ${name(r)}${r.platform ? ` [${t(r.platform)}]` : ""}${r.remoteAddress ? ` from ${t(r.remoteAddress)}` : ""}, asked ${ago(now - r.requestedAt)} ago, expires in ${ago(r.expiresAt - now)}\n      ${asks(r)}`
      ),
      "Approve one with `openclaw nodes approve <requestId>` (or reject it)."
    ].join("\n")
  })
).pipe(Command.withDescription("List nodes waiting for pairing approval (operator.pairing)"))

const requestIdArg = Args.text({ name: "requestId" }).pipe(
  Args.withDescription("Request id from `openclaw nodes pending`, a unique prefix, or the node's name")
)

/** The shortest request or node id prefix taken. */
const MIN_PREFIX = 8

/**
 * A pending request by its id, a unique prefix (of the request or node id, 8+ characters) or the
 * node's display name, as `describe` takes a node. No match: the text goes to the Gateway as given,
 * which says there is no such request.
 */
export const matchPending = (
  pending: ReadonlyArray<PendingView>,
  ref: string
): { requestId: string } | { ambiguous: Array<PendingView> } | { tooShort: true } => {
  if (pending.some((r) => r.requestId === ref)) return { requestId: ref }
  const matches = pending.filter(
    (r) =>
      (ref.trim() !== "" && r.displayName === ref) ||
      (ref.length >= MIN_PREFIX && (r.requestId.startsWith(ref) || r.nodeId.startsWith(ref)))
  )
  if (matches.length > 1) return { ambiguous: matches }
  // An empty or short text must never pick "the only request".
  if (matches.length === 0 && ref.length < MIN_PREFIX) return { tooShort: true }
  return { requestId: matches[0]?.requestId ?? ref }
}

const resolveAndCall = (
  what: string,
  method: string,
  ref: string,
  flags: Parameters<typeof withGateway>[0],
  print: (payload: any) => string
) =>
  withGateway(flags, SCOPES, what, (conn) =>
    Effect.gen(function* () {
      const { pending } = (yield* conn.request("node.pair.list", {}, { timeoutMs: flags.timeout })) as {
        pending: Array<PendingView>
      }
      const match = matchPending(pending, ref)
      if ("tooShort" in match) {
        return yield* new GatewayClientError({
          kind: "protocol",
          code: "APPROVAL_NOT_FOUND",
          message: `${t(JSON.stringify(ref.slice(0, 80)))} is too short: give the whole request id, at least its first ${MIN_PREFIX} characters, or the node's name (\`openclaw nodes pending\` shows them)`
        })
      }
      if ("ambiguous" in match) {
        const which = match.ambiguous.map((r) => `${t(r.requestId.slice(0, 8))} ${name(r)}`).join(", ")
        return yield* new GatewayClientError({
          kind: "protocol",
          code: "AMBIGUOUS_REQUEST",
          message: `${JSON.stringify(ref)} matches ${match.ambiguous.length} pending requests (${which})`
        })
      }
      const payload = yield* conn.request(method, { requestId: match.requestId }, { timeoutMs: flags.timeout })
      yield* flags.json ? printJson(payload) : Console.log(print(payload))
    })
  )
const nodeIdArg = Args.text({ name: "nodeId" }).pipe(
  Args.withDescription("Node id (or a unique prefix of 8+ characters, or its display name)")
)

const approve = Command.make("approve", { ...clientOptions, requestId: requestIdArg }, (flags) =>
  resolveAndCall("Approving the pairing request failed", "node.pair.approve", flags.requestId, flags, (p) =>
    p.upgrade !== undefined
      ? `Approved node ${name(p)} for more: it may now be routed commands: ${listed(p.commands)}; caps: ${listed(p.caps)}.`
      : `Approved node ${name(p)} with commands: ${listed(p.commands)}; caps: ${listed(p.caps)}. It connects on its next retry (a few seconds) and receives a device token.`
  )
).pipe(Command.withDescription("Approve a pending node (operator.pairing)"))

const reject = Command.make("reject", { ...clientOptions, requestId: requestIdArg }, (flags) =>
  resolveAndCall(
    "Rejecting the pairing request failed",
    "node.pair.reject",
    flags.requestId,
    flags,
    (p) =>
      `Rejected pairing request ${t(p.requestId)} (node ${t(p.nodeId.slice(0, 12))}). The node is told on its next retry and stops asking; it can ask again only by restarting \`openclaw node run\`.`
  )
).pipe(Command.withDescription("Reject a pending node (operator.pairing)"))

const list = Command.make("list", clientOptions, (flags) =>
  call("Listing nodes failed", "node.list", {}, flags, (p: { nodes: Array<NodeView> }) => {
    if (p.nodes.length === 0)
      return "No nodes are paired. Start `openclaw node run` on a machine, then approve it (`openclaw nodes pending`)."
    const now = Date.now()
    return p.nodes
      .map((n) =>
        [
          `${t(n.nodeId)}  ${t(n.displayName ?? "")}`.trimEnd(),
          `    ${n.connected ? `connected ${ago(now - (n.connectedAt ?? now))} ago from ${t(n.remoteAddress ?? "?")}` : "not connected"}${n.paired ? "" : " (not paired)"}${n.platform ? `, ${t(n.platform)}` : ""}${n.version ? ` ${t(n.version)}` : ""}`,
          ...(n.connected ? [`    commands: ${listed(n.commands)}; caps: ${listed(n.caps)}`, ...awaiting(n)] : [])
        ].join("\n")
      )
      .join("\n")
  })
).pipe(Command.withDescription("List paired and connected nodes (operator.read)"))

const describe = Command.make("describe", { ...clientOptions, nodeId: nodeIdArg }, (flags) =>
  call("Describing the node failed", "node.describe", { nodeId: flags.nodeId }, flags, (n: NodeView) =>
    [
      `Node ${t(n.nodeId)}`,
      `  Name:      ${n.displayName === undefined ? "(none)" : t(n.displayName)}`,
      `  Paired:    ${n.paired ? `yes, ${n.pairedAt ? new Date(n.pairedAt).toISOString() : ""}` : "no"}`,
      `  Connected: ${n.connected ? `yes, from ${t(n.remoteAddress ?? "?")} since ${new Date(n.connectedAt ?? 0).toISOString()}` : "no"}`,
      `  Platform:  ${t(n.platform ?? "?")}${n.version ? ` (node host ${t(n.version)})` : ""}`,
      `  Commands:  ${listed(n.commands)}`,
      `  Caps:      ${listed(n.caps)}`,
      ...(n.pendingCommands === undefined && n.pendingCaps === undefined
        ? []
        : [
            `  Awaiting:  commands: ${listed(n.pendingCommands)}; caps: ${listed(n.pendingCaps)} (declared, not approved, not routed; \`openclaw nodes pending\`)`
          ])
    ].join("\n")
  )
).pipe(Command.withDescription("Show one node (operator.read)"))

const remove = Command.make("remove", { ...clientOptions, nodeId: nodeIdArg }, (flags) =>
  call(
    "Removing the node failed",
    "node.remove",
    { nodeId: flags.nodeId },
    flags,
    (p) =>
      `Removed node ${t(p.nodeId.slice(0, 12))}: its pairing and device token are revoked; it must be approved again to reconnect.`
  )
).pipe(Command.withDescription("Unpair a node and revoke its device token (operator.pairing)"))

export const nodesCommand = Command.make("nodes").pipe(
  Command.withDescription("Pair and manage node hosts on the Gateway"),
  Command.withSubcommands([pending, approve, reject, list, describe, remove])
)
