/**
 * The RPC methods of node hosts: node.list/describe/invoke (idempotency keys), the node's
 * node.invoke.result and node.event, the operator's pairing methods (node.pair.*, device.pair.*),
 * and browser.request routed to a browser-capable node (gateway.nodes.browser).
 */
import { Effect, Exit, Layer } from "effect"
import { Gateway, hasScope, IdempotencyCache, type MethodHandler, RpcError } from "../gateway/api.js"
import { pendingView } from "../pairing/admission.js"
import { pairDecisions } from "../pairing/decisions.js"
import { ErrorCode, isRecord } from "../../protocol/frames.js"
import { decodeJson, MAX_JSON_DEPTH } from "../../protocol/json-guard.js"
import { NodeGroup } from "../../protocol/contracts/nodes.js"
import { GatewayConfig } from "../config/GatewayConfig.js"
import { Pairing, type PairingError } from "../pairing/Pairing.js"
import { browserAnswer } from "./browser-files.js"
import { BROWSER_COMMAND, forbidden, invalid, isNode, NodeLinks, Nodes, unavailable } from "./Nodes.js"

const fromPairing = (e: PairingError) =>
  e.code === "APPROVAL_NOT_FOUND"
    ? new RpcError({ shape: { code: ErrorCode.approvalNotFound, message: e.message, details: { code: e.code } } })
    : e.code === "UNKNOWN_DEVICE"
      ? invalid("UNKNOWN_NODE", e.message)
      : unavailable("PAIRING_STORE_FAILED", e.message)

const str = (params: unknown, key: string): string | undefined => {
  const v = isRecord(params) ? params[key] : undefined
  return typeof v === "string" && v.length > 0 ? v : undefined
}
/** Node commands that need operator.admin through node.invoke (OpenClaw's list, plus our browser.*). */
const ADMIN_ONLY_NODE_COMMANDS = new Set(["browser.proxy", "browser.proxy.upload.v1", "fs.listDir", "terminal.upload"])
export const isAdminOnlyNodeCommand = (command: string) =>
  ADMIN_ONLY_NODE_COMMANDS.has(command) || command.startsWith("browser.")

type Handler<K extends keyof typeof NodeGroup.methods> = MethodHandler<(typeof NodeGroup.methods)[K]>

export const make = Effect.gen(function* () {
  const gateway = yield* Gateway
  const pairing = yield* Pairing
  const settings = yield* GatewayConfig
  const nodes = yield* Nodes
  const links = yield* NodeLinks
  const { nameOf, resolveNode } = links
  // Same key within 5 minutes: the first call's answer (a failed call may be retried with its key).
  const idempotency = new IdempotencyCache()

  const { approve, reject } = pairDecisions(gateway, pairing)

  const pairList = Effect.gen(function* () {
    const { pending: open, paired } = yield* pairing.list
    return {
      pending: open.map(pendingView),
      paired: paired.filter(isNode).map((d) => ({
        nodeId: d.deviceId,
        deviceId: d.deviceId,
        ...(d.displayName === undefined ? {} : { displayName: d.displayName }),
        ...(d.platform === undefined ? {} : { platform: d.platform }),
        role: d.role,
        pairedAt: d.pairedAt,
        caps: d.caps,
        commands: d.commands,
        connected: links.isConnected(d.deviceId)
      }))
    }
  })

  const remove: Handler<"node.remove"> = (params) =>
    Effect.gen(function* () {
      const ref = params.nodeId ?? params.deviceId
      if (ref === undefined)
        return yield* invalid("INVALID_PARAMS", "node.remove needs params.nodeId (a non-empty string)")
      const node = yield* resolveNode(ref)
      const device = yield* Effect.mapError(pairing.remove(node.nodeId), fromPairing)
      links.disconnect(node.nodeId, "node removed: pairing revoked")
      return { nodeId: device.deviceId, deviceId: device.deviceId, removed: true }
    })
  const list: Handler<"node.pair.list"> = () => pairList

  const pickBrowserNode = Effect.gen(function* () {
    const browser = settings.nodes.browser
    if (browser.mode === "off") {
      return yield* forbidden(
        "BROWSER_DISABLED",
        'browser control is off on this Gateway (gateway.nodes.browser.mode is "off"); set it to "auto" or "manual" to use a node\'s browser'
      )
    }
    if (browser.mode === "manual") {
      if (browser.node === undefined) {
        return yield* invalid(
          "BROWSER_NODE_UNSET",
          'gateway.nodes.browser.mode is "manual" but gateway.nodes.browser.node is not set; set it to a node id or display name (see `openclaw nodes list`)'
        )
      }
      const node = yield* resolveNode(browser.node)
      if (!node.connected) {
        return yield* unavailable(
          "NOT_CONNECTED",
          `the browser node ${browser.node} (gateway.nodes.browser.node) is paired but not connected; start \`openclaw node run\` on it`,
          { nodeId: node.nodeId }
        )
      }
      return node.nodeId
    }
    // Only nodes approved for browser.proxy count; one that merely declares it waits for approval.
    const capable = (yield* nodes.list)
      .filter((n) => n.connected && n.commands.includes(BROWSER_COMMAND))
      .map((n) => n.nodeId)
    if (capable.length === 1) return capable[0]!
    if (capable.length > 1) {
      const names = capable.map(nameOf)
      return yield* invalid(
        "MULTIPLE_BROWSER_NODES",
        `several browser-capable nodes are connected (${names.join(", ")}); set gateway.nodes.browser.mode "manual" and gateway.nodes.browser.node to one of them`,
        { nodes: capable }
      )
    }
    const { pending: open } = yield* pairing.list
    const waiting =
      open.length > 0
        ? `; ${open.length} node(s) wait for approval: \`openclaw nodes pending\`, then \`openclaw nodes approve <requestId>\``
        : ""
    return yield* unavailable(
      "NO_BROWSER_NODE",
      `no browser-capable node is connected: run \`openclaw node run --url <gateway url> --token <token>\` on the machine with the browser, then approve it${waiting}`
    )
  })

  const funnelGate = (caller: { readonly viaFunnel?: boolean }) =>
    caller.viaFunnel && !settings.nodes.browser.allowFunnel
      ? Effect.fail(
          forbidden(
            "BROWSER_FUNNEL_REFUSED",
            "browser control is refused for connections that come through Tailscale Funnel (the public internet); use Tailscale Serve, an SSH tunnel or the tailnet, or set gateway.nodes.browser.allowFunnel true"
          )
        )
      : Effect.void

  yield* gateway.registerGroup(NodeGroup, {
    "node.list": () => Effect.map(nodes.list, (list) => ({ ts: Date.now(), nodes: list })),
    "node.describe": ({ nodeId }) => resolveNode(nodeId),
    // Commands run on another machine (a browser, or an OpenClaw node's system.run): admin only.
    "node.invoke": ({ nodeId: ref, command, params: args, timeoutMs, idempotencyKey: key }, ctx) =>
      Effect.gen(function* () {
        if (isAdminOnlyNodeCommand(command) && !hasScope(ctx.caller.scopes, "operator.admin")) {
          return yield* Effect.fail(
            new RpcError({
              shape: {
                code: ErrorCode.forbidden,
                message: "missing scope: operator.admin",
                details: { code: "MISSING_SCOPE", command }
              }
            })
          )
        }
        // The browser reached directly is still browser control: same Funnel gate as browser.request.
        if (command.startsWith("browser.")) yield* funnelGate(ctx.caller)
        const node = yield* resolveNode(ref)
        // Keys are scoped to the node and command, so one caller's key never answers for another call.
        const { value: payload } = yield* idempotency.once(
          "node.invoke",
          `${node.nodeId}\u0000${command}\u0000${key}`,
          nodes.invoke(node.nodeId, command, args, timeoutMs)
        )
        return { ok: true, nodeId: node.nodeId, command, payload }
      }),
    // No params Schema (protocol/contracts/nodes.ts): its fields are read one by one.
    "node.invoke.result": {
      sync: (params, ctx) => {
        const id = str(params, "id")
        const p = id === undefined ? undefined : links.takePending(id, ctx.caller.connId)
        if (p === undefined) return { ok: true, ignored: true }
        const r = params as {
          ok?: unknown
          payload?: unknown
          payloadJSON?: unknown
          error?: { code?: unknown; message?: unknown }
        }
        if (r.ok === true) {
          let payload = r.payload
          if (payload === undefined && typeof r.payloadJSON === "string") {
            // Decoded with the same limits as a frame, less the levels the operator's answer adds around it.
            const decoded = decodeJson(r.payloadJSON, MAX_JSON_DEPTH - 8)
            if (decoded.ok) payload = decoded.value
            else if (decoded.problem === "not valid JSON") payload = r.payloadJSON
            else {
              const problem = `payloadJSON: ${decoded.problem}`
              p.done(
                Exit.fail(
                  unavailable(
                    "NODE_INVALID_ANSWER",
                    `node ${nameOf(p.nodeId)} answered ${p.command} with an invalid payload (${problem})`,
                    { nodeId: p.nodeId, command: p.command }
                  )
                )
              )
              throw invalid("INVALID_PARAMS", `node.invoke.result: ${problem}`)
            }
          }
          p.done(Exit.succeed(payload ?? null))
        } else {
          // The node's code goes out as the operator's error code: only a code-like one (found by the fuzzer: "" made a malformed error).
          const code =
            typeof r.error?.code === "string" && /^[A-Z][A-Z0-9_.]{0,63}$/.test(r.error.code)
              ? r.error.code
              : ErrorCode.unavailable
          const message = typeof r.error?.message === "string" ? r.error.message : `${p.command} failed on the node`
          p.done(
            Exit.fail(
              new RpcError({
                shape: { code, message, details: { code: "NODE_ERROR", nodeId: p.nodeId, command: p.command } }
              })
            )
          )
        }
        return { ok: true }
      }
    },
    "node.event": { sync: () => ({ ok: true }) },
    "node.pair.list": list,
    "node.pair.approve": approve,
    "node.pair.reject": reject,
    "node.pair.remove": remove,
    "node.remove": remove,
    "browser.request": ({ method, path, query, body, timeoutMs }, ctx) =>
      Effect.gen(function* () {
        yield* funnelGate(ctx.caller)
        const nodeId = yield* pickBrowserNode
        const reply = yield* nodes.invoke(nodeId, BROWSER_COMMAND, { method, path, query, body }, timeoutMs)
        // Node hosts (ours and OpenClaw's) answer browser.proxy with the envelope {result, files?}.
        if (!isRecord(reply) || !("result" in reply)) return reply
        return yield* Effect.try({
          try: () => browserAnswer(reply.result, reply.files, settings.stateDir),
          catch: (e) =>
            e instanceof RpcError
              ? e
              : RpcError.unavailable(
                  `cannot save the node's browser file: ${(e as NodeJS.ErrnoException).code ?? String(e)} (check that ${settings.stateDir} is writable)`
                )
        })
      })
  })
})

/** Registers the node methods with the Gateway for the life of the layer; needs Nodes and NodeLinks (Nodes.layer). */
export const NodesMethods = { layer: Layer.scopedDiscard(make) }
