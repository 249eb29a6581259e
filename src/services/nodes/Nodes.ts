/**
 * Nodes: the registry of connected node hosts, node.invoke (request/result correlation, timeouts,
 * idempotency keys, failing at once when a node drops), the operator's pairing methods, and
 * browser.request routed to a browser-capable node (gateway.nodes.browser).
 */
import { randomUUID } from "node:crypto"
import { Context, Effect, Exit, Layer } from "effect"
import { type Connection, hasScope } from "../gateway/connection.js"
import { browserAnswer } from "./browser-files.js"
import { shortened } from "../../protocol/client-text.js"
import { IdempotencyCache } from "../gateway/idempotency.js"
import { type MethodDef, RpcError } from "../gateway/rpc.js"
import { CloseCode, ErrorCode, eventFrame, isRecord } from "../../protocol/frames.js"
import { decodeJson, MAX_JSON_DEPTH } from "../../protocol/json-guard.js"
import { canPair, Gateway, pendingView } from "../gateway/Gateway.js"
import { GatewayConfig } from "../config/GatewayConfig.js"
import { Pairing, type PairedDevice, type PairingError, surfaceBeyond } from "../pairing/Pairing.js"

export const DEFAULT_INVOKE_TIMEOUT_MS = 30_000
export const MAX_INVOKE_TIMEOUT_MS = 10 * 60_000
export const BROWSER_COMMAND = "browser.proxy"
/** While a node runs a call, it is pinged this often, and dropped after this many unanswered pings in a row. */
export const BUSY_PING_MS = 2_000
export const BUSY_PINGS_MISSED = 3

export interface NodeView {
  readonly nodeId: string
  readonly displayName?: string
  readonly platform?: string
  readonly version?: string
  /** What the connected node declared and an operator approved: only these commands are routed. */
  readonly caps: ReadonlyArray<string>
  readonly commands: ReadonlyArray<string>
  /** Declared but not (yet) approved: a pending request asks for them (`openclaw nodes pending`). */
  readonly pendingCaps?: ReadonlyArray<string>
  readonly pendingCommands?: ReadonlyArray<string>
  readonly connected: boolean
  readonly paired: boolean
  readonly connectedAt?: number
  readonly pairedAt?: number
  readonly remoteAddress?: string
}

export interface NodesService {
  readonly list: Effect.Effect<ReadonlyArray<NodeView>>
  /** Runs a command a connected node declared; fails with UNAVAILABLE (details.code NOT_CONNECTED, TIMEOUT, NODE_DISCONNECTED). */
  readonly invoke: (nodeId: string, command: string, params?: unknown, timeoutMs?: number) => Effect.Effect<unknown, RpcError>
}

interface PendingInvoke {
  readonly nodeId: string
  readonly connId: string
  readonly command: string
  readonly done: (exit: Exit.Exit<unknown, RpcError>) => void
}

const unavailable = (code: string, message: string, extra: Record<string, unknown> = {}) =>
  new RpcError({ shape: { code: ErrorCode.unavailable, message, retryable: true, details: { code, ...extra } } })
const invalid = (code: string, message: string, extra: Record<string, unknown> = {}) =>
  new RpcError({ shape: { code: ErrorCode.invalidRequest, message, details: { code, ...extra } } })
const forbidden = (code: string, message: string) => new RpcError({ shape: { code: ErrorCode.forbidden, message, details: { code } } })

const isNode = (d: PairedDevice) => d.role === "node"

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
export const isAdminOnlyNodeCommand = (command: string) => ADMIN_ONLY_NODE_COMMANDS.has(command) || command.startsWith("browser.")

const need = (params: unknown, key: string, method: string) =>
  Effect.suspend(() => {
    const v = str(params, key)
    return v === undefined ? Effect.fail(invalid("INVALID_PARAMS", `${method} needs params.${key} (a non-empty string)`)) : Effect.succeed(v)
  })

const timeoutOf = (params: unknown): number | undefined => {
  const v = isRecord(params) ? params.timeoutMs : undefined
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.min(Math.floor(v), MAX_INVOKE_TIMEOUT_MS) : undefined
}

export const make = Effect.gen(function* () {
  const gateway = yield* Gateway
  const pairing = yield* Pairing
  const settings = yield* GatewayConfig
  const connected = new Map<string, { readonly conn: Connection; readonly connectedAt: number }>()
  const pending = new Map<string, PendingInvoke>()
  // Same key within 5 minutes: the first call's answer (a failed call may be retried with its key).
  const idempotency = new IdempotencyCache()

  const nameOf = (nodeId: string) => {
    const c = connected.get(nodeId)?.conn.client?.displayName
    return c === undefined ? nodeId.slice(0, 12) : `${c} (${nodeId.slice(0, 12)})`
  }

  yield* gateway.onConnection({
    ready: (conn) => {
      if (conn.role !== "node" || conn.device === undefined) return
      const nodeId = conn.device.deviceId
      const previous = connected.get(nodeId)
      connected.set(nodeId, { conn, connectedAt: Date.now() })
      // The newer link wins (a laptop back from sleep); the old one's invokes fail at once.
      if (previous !== undefined && previous.conn !== conn) previous.conn.close(CloseCode.policy, "replaced by a newer connection of this node")
    },
    closed: (conn) => {
      if (conn.role !== "node" || conn.device === undefined) return
      const nodeId = conn.device.deviceId
      if (connected.get(nodeId)?.conn === conn) connected.delete(nodeId)
      for (const [id, p] of pending) {
        if (p.connId !== conn.connId) continue
        pending.delete(id)
        p.done(Exit.fail(unavailable("NODE_DISCONNECTED", `node ${conn.client?.displayName ?? nodeId.slice(0, 12)} disconnected while running ${p.command}; nothing was returned (retry when it reconnects)`, { nodeId })))
      }
    }
  })

  // A node whose link died silently (a laptop gone to sleep) answers no WebSocket ping: it is
  // dropped at the next round, which fails its pending invokes with NODE_DISCONNECTED rather than
  // leaving callers to their timeout. Rounds run every half tick interval (15 s by default).
  const unanswered = new WeakSet<Connection>()
  yield* Effect.acquireRelease(
    Effect.sync(() => {
      const timer = setInterval(() => {
        for (const { conn } of connected.values()) {
          if (unanswered.has(conn)) {
            conn.close(CloseCode.policy, "node did not answer ping")
            conn.ws.terminate()
            continue
          }
          unanswered.add(conn)
          conn.ws.once("pong", () => unanswered.delete(conn))
          try {
            conn.ws.ping()
          } catch {
            // Closing already; the close handler cleans up.
          }
        }
      }, Math.max(100, settings.tickIntervalMs / 2))
      timer.unref()
      return timer
    }),
    (timer) => Effect.sync(() => clearInterval(timer))
  )

  // A call in flight should not wait for the next round (up to a tick interval, 30 s by default)
  // to learn that its node went to sleep: while a node has calls pending it is pinged every
  // BUSY_PING_MS and dropped after BUSY_PINGS_MISSED pings in a row go unanswered. Missed pings
  // are counted (not wall time), so a Gateway whose own event loop stalled does not drop anyone.
  const busyProbes = new Map<Connection, NodeJS.Timeout>()
  const probeWhileBusy = (conn: Connection) => {
    if (busyProbes.has(conn)) return
    let awaiting = false
    let missed = 0
    const onPong = () => {
      awaiting = false
      missed = 0
    }
    conn.ws.on("pong", onPong)
    const stop = () => {
      clearInterval(busyProbes.get(conn))
      busyProbes.delete(conn)
      conn.ws.off("pong", onPong)
    }
    busyProbes.set(
      conn,
      setInterval(() => {
        const busy = [...pending.values()].some((p) => p.connId === conn.connId)
        if (!busy || conn.ws.readyState !== conn.ws.OPEN) return stop()
        if (awaiting) missed += 1
        if (missed >= BUSY_PINGS_MISSED) {
          stop()
          conn.close(CloseCode.policy, "node did not answer ping")
          conn.ws.terminate()
          return
        }
        awaiting = true
        try {
          conn.ws.ping()
        } catch {
          // Closing already; the close handler cleans up.
        }
      }, BUSY_PING_MS).unref()
    )
  }
  yield* Effect.addFinalizer(() =>
    Effect.sync(() => {
      for (const timer of busyProbes.values()) clearInterval(timer)
      busyProbes.clear()
    })
  )

  const views = Effect.map(pairing.list, ({ paired }): Array<NodeView> => {
    // Operator devices (browsers) share the store; they are not nodes.
    const byId = new Map<string, PairedDevice>(paired.filter(isNode).map((d) => [d.deviceId, d]))
    const ids = [...new Set([...byId.keys(), ...connected.keys()])]
    return ids.map((nodeId) => {
      const d = byId.get(nodeId)
      const live = connected.get(nodeId)
      const client = live?.conn.client
      const displayName = client?.displayName ?? d?.displayName
      const platform = client?.platform ?? d?.platform
      const declared = { caps: live?.conn.caps ?? [], commands: live?.conn.commands ?? [] }
      const extra = surfaceBeyond(d ?? { caps: [], commands: [] }, declared)
      return {
        nodeId,
        ...(displayName === undefined ? {} : { displayName }),
        ...(platform === undefined ? {} : { platform }),
        ...(client === undefined ? {} : { version: client.version }),
        caps: declared.caps.filter((c) => !extra.caps.includes(c)),
        commands: declared.commands.filter((c) => !extra.commands.includes(c)),
        ...(extra.caps.length === 0 ? {} : { pendingCaps: extra.caps }),
        ...(extra.commands.length === 0 ? {} : { pendingCommands: extra.commands }),
        connected: live !== undefined,
        paired: d !== undefined,
        ...(live === undefined ? {} : { connectedAt: live.connectedAt, remoteAddress: live.conn.peer.remoteAddress }),
        ...(d === undefined ? {} : { pairedAt: d.pairedAt })
      }
    })
  })

  /** A node by id, unique id prefix (8+ characters) or display name. */
  const resolveNode = (ref: string) =>
    Effect.flatMap(views, (all) => {
      const exact = all.find((n) => n.nodeId === ref)
      if (exact !== undefined) return Effect.succeed(exact)
      const matches = all.filter((n) => n.displayName === ref || (ref.length >= 8 && n.nodeId.startsWith(ref)))
      if (matches.length === 1) return Effect.succeed(matches[0]!)
      if (matches.length > 1) return Effect.fail(invalid("AMBIGUOUS_NODE", `${shortened(ref)} matches several nodes (${matches.map((n) => n.nodeId.slice(0, 12)).join(", ")}); use the full node id`))
      return Effect.fail(invalid("UNKNOWN_NODE", `unknown node ${shortened(ref)}: it is not paired (list nodes with \`openclaw nodes list\`, pending ones with \`openclaw nodes pending\`)`))
    })

  /** The commands an operator approved for the connected node (its pairing's surface). */
  const approvedCommands = (nodeId: string): Effect.Effect<ReadonlyArray<string>> =>
    Effect.suspend(() => {
      const device = connected.get(nodeId)?.conn.device
      return device === undefined ? Effect.succeed([]) : Effect.map(pairing.paired(nodeId, device.publicKey), (d) => d?.commands ?? [])
    })

  const invoke = (nodeId: string, command: string, params?: unknown, timeoutMs = DEFAULT_INVOKE_TIMEOUT_MS): Effect.Effect<unknown, RpcError> =>
    Effect.flatMap(approvedCommands(nodeId), (approved) => Effect.async<unknown, RpcError>((resume) => {
      const live = connected.get(nodeId)
      if (live === undefined) {
        resume(Effect.fail(unavailable("NOT_CONNECTED", `node ${nodeId.slice(0, 12)} is not connected (start \`openclaw node run\` on it; \`openclaw nodes list\` shows which nodes are connected)`, { nodeId })))
        return
      }
      if (!live.conn.commands.includes(command)) {
        resume(Effect.fail(invalid("COMMAND_NOT_DECLARED", `node ${nameOf(nodeId)} does not offer ${command} (it declared: ${live.conn.commands.join(", ") || "nothing"})`, { nodeId, command })))
        return
      }
      // Declared is not enough: pairing approves a node's commands, and a new one needs a new approval.
      if (!approved.includes(command)) {
        resume(Effect.fail(forbidden("COMMAND_NOT_APPROVED", `node ${nameOf(nodeId)} declares ${command} but it was not approved for it; approve its pending request (\`openclaw nodes pending\`, then \`openclaw nodes approve <requestId>\`)`)))
        return
      }
      let paramsJSON: string
      try {
        paramsJSON = JSON.stringify(params ?? {})
      } catch (e) {
        resume(Effect.fail(invalid("INVALID_PARAMS", `node.invoke params for ${command} cannot be sent as JSON (${e instanceof Error ? e.name : "error"})`)))
        return
      }
      const id = randomUUID()
      const timer = setTimeout(() => {
        if (!pending.delete(id)) return
        resume(Effect.fail(unavailable("TIMEOUT", `node ${nameOf(nodeId)} did not answer ${command} within ${timeoutMs} ms (pass a larger timeoutMs, or check the node host's output)`, { nodeId })))
      }, timeoutMs)
      pending.set(id, {
        nodeId,
        connId: live.conn.connId,
        command,
        done: (exit) => {
          clearTimeout(timer)
          resume(exit)
        }
      })
      live.conn.sendText(eventFrame("node.invoke.request", { id, nodeId, command, paramsJSON, timeoutMs }))
      probeWhileBusy(live.conn)
      return Effect.sync(() => {
        clearTimeout(timer)
        pending.delete(id)
      })
    }))

  const resolved = (requestId: string, nodeId: string, decision: "approved" | "rejected") => {
    const payload = { requestId, nodeId, deviceId: nodeId, decision, ts: Date.now() }
    gateway.broadcast("node.pair.resolved", payload, canPair)
    gateway.broadcast("device.pair.resolved", payload, canPair)
  }

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
        connected: connected.has(d.deviceId)
      }))
    }
  })

  const approve: MethodDef = {
    requires: "operator.pairing",
    handler: (params) =>
      Effect.gen(function* () {
        const requestId = yield* need(params, "requestId", "approve")
        const { device, request } = yield* Effect.mapError(pairing.approve(requestId), fromPairing)
        resolved(requestId, device.deviceId, "approved")
        return {
          requestId,
          nodeId: device.deviceId,
          deviceId: device.deviceId,
          decision: "approved",
          ...(device.displayName === undefined ? {} : { displayName: device.displayName }),
          pairedAt: device.pairedAt,
          caps: device.caps,
          commands: device.commands,
          ...(request.upgrade === undefined ? {} : { upgrade: request.upgrade })
        }
      })
  }
  const reject: MethodDef = {
    requires: "operator.pairing",
    handler: (params) =>
      Effect.gen(function* () {
        const requestId = yield* need(params, "requestId", "reject")
        const request = yield* Effect.mapError(pairing.reject(requestId), fromPairing)
        resolved(requestId, request.deviceId, "rejected")
        return { requestId, nodeId: request.deviceId, deviceId: request.deviceId, decision: "rejected" }
      })
  }
  const remove: MethodDef = {
    requires: "operator.pairing",
    handler: (params) =>
      Effect.gen(function* () {
        const ref = str(params, "nodeId") ?? str(params, "deviceId")
        if (ref === undefined) return yield* invalid("INVALID_PARAMS", "remove needs params.nodeId")
        const node = yield* resolveNode(ref)
        const device = yield* Effect.mapError(pairing.remove(node.nodeId), fromPairing)
        connected.get(node.nodeId)?.conn.close(CloseCode.policy, "node removed: pairing revoked")
        return { nodeId: device.deviceId, deviceId: device.deviceId, removed: true }
      })
  }
  const list: MethodDef = { requires: "operator.pairing", handler: () => pairList }

  const pickBrowserNode = Effect.gen(function* () {
    const browser = settings.nodes.browser
    if (browser.mode === "off") {
      return yield* forbidden("BROWSER_DISABLED", 'browser control is off on this Gateway (gateway.nodes.browser.mode is "off"); set it to "auto" or "manual" to use a node\'s browser')
    }
    if (browser.mode === "manual") {
      if (browser.node === undefined) {
        return yield* invalid("BROWSER_NODE_UNSET", 'gateway.nodes.browser.mode is "manual" but gateway.nodes.browser.node is not set; set it to a node id or display name (see `openclaw nodes list`)')
      }
      const node = yield* resolveNode(browser.node)
      if (!node.connected) {
        return yield* unavailable("NOT_CONNECTED", `the browser node ${browser.node} (gateway.nodes.browser.node) is paired but not connected; start \`openclaw node run\` on it`, { nodeId: node.nodeId })
      }
      return node.nodeId
    }
    // Only nodes approved for browser.proxy count; one that merely declares it waits for approval.
    const capable = (yield* views).filter((n) => n.connected && n.commands.includes(BROWSER_COMMAND)).map((n) => n.nodeId)
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
    const waiting = open.length > 0 ? `; ${open.length} node(s) wait for approval: \`openclaw nodes pending\`, then \`openclaw nodes approve <requestId>\`` : ""
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

  const methods: Record<string, MethodDef> = {
    "node.list": { requires: "operator.read", handler: () => Effect.map(views, (nodes) => ({ ts: Date.now(), nodes })) },
    "node.describe": {
      requires: "operator.read",
      handler: (params) => Effect.flatMap(need(params, "nodeId", "node.describe"), resolveNode)
    },
    // Commands run on another machine (a browser, or an OpenClaw node's system.run): admin only.
    // operator.write as in OpenClaw; the browser and the commands OpenClaw keeps for admins need operator.admin.
    "node.invoke": {
      requires: "operator.write",
      handler: (params, ctx) =>
        Effect.gen(function* () {
          const ref = yield* need(params, "nodeId", "node.invoke")
          const command = yield* need(params, "command", "node.invoke")
          if (isAdminOnlyNodeCommand(command) && !hasScope(ctx.caller.scopes, "operator.admin")) {
            return yield* Effect.fail(
              new RpcError({ shape: { code: ErrorCode.forbidden, message: "missing scope: operator.admin", details: { code: "MISSING_SCOPE", command } } })
            )
          }
          // The browser reached directly is still browser control: same Funnel gate as browser.request.
          if (command.startsWith("browser.")) yield* funnelGate(ctx.caller)
          const key = yield* need(params, "idempotencyKey", "node.invoke")
          const node = yield* resolveNode(ref)
          const args = isRecord(params) ? params.params : undefined
          // Keys are scoped to the node and command, so one caller's key never answers for another call.
          const { value: payload } = yield* idempotency.once("node.invoke", `${node.nodeId}\u0000${command}\u0000${key}`, invoke(node.nodeId, command, args, timeoutOf(params)))
          return { ok: true, nodeId: node.nodeId, command, payload }
        })
    },
    "node.invoke.result": {
      requires: "node",
      sync: (params, ctx) => {
        const id = str(params, "id")
        const p = id === undefined ? undefined : pending.get(id)
        if (p === undefined || p.connId !== ctx.caller.connId) return { ok: true, ignored: true }
        pending.delete(id!)
        const r = params as { ok?: unknown; payload?: unknown; payloadJSON?: unknown; error?: { code?: unknown; message?: unknown } }
        if (r.ok === true) {
          let payload = r.payload
          if (payload === undefined && typeof r.payloadJSON === "string") {
            // Decoded with the same limits as a frame, less the levels the operator's answer adds around it.
            const decoded = decodeJson(r.payloadJSON, MAX_JSON_DEPTH - 8)
            if (decoded.ok) payload = decoded.value
            else if (decoded.problem === "not valid JSON") payload = r.payloadJSON
            else {
              const problem = `payloadJSON: ${decoded.problem}`
              p.done(Exit.fail(unavailable("NODE_INVALID_ANSWER", `node ${nameOf(p.nodeId)} answered ${p.command} with an invalid payload (${problem})`, { nodeId: p.nodeId, command: p.command })))
              throw invalid("INVALID_PARAMS", `node.invoke.result: ${problem}`)
            }
          }
          p.done(Exit.succeed(payload ?? null))
        } else {
          // The node's code goes out as the operator's error code: only a code-like one (found by the fuzzer: "" made a malformed error).
          const code = typeof r.error?.code === "string" && /^[A-Z][A-Z0-9_.]{0,63}$/.test(r.error.code) ? r.error.code : ErrorCode.unavailable
          const message = typeof r.error?.message === "string" ? r.error.message : `${p.command} failed on the node`
          p.done(Exit.fail(new RpcError({ shape: { code, message, details: { code: "NODE_ERROR", nodeId: p.nodeId, command: p.command } } })))
        }
        return { ok: true }
      }
    },
    "node.event": { requires: "node", sync: () => ({ ok: true }) },
    "node.pair.list": list,
    "node.pair.approve": approve,
    "node.pair.reject": reject,
    "node.pair.remove": remove,
    "node.remove": remove,
    "device.pair.approve": approve,
    "device.pair.reject": reject,
    "browser.request": {
      requires: "operator.admin",
      handler: (params, ctx) =>
        Effect.gen(function* () {
          yield* funnelGate(ctx.caller)
          const method = str(params, "method") ?? "GET"
          if (!["GET", "POST", "DELETE"].includes(method)) return yield* invalid("INVALID_PARAMS", `browser.request method must be GET, POST or DELETE, got ${method}`)
          const path = yield* need(params, "path", "browser.request")
          const nodeId = yield* pickBrowserNode
          const p = params as { query?: unknown; body?: unknown }
          const reply = yield* invoke(nodeId, BROWSER_COMMAND, { method, path, query: p.query, body: p.body }, timeoutOf(params))
          // Node hosts (ours and OpenClaw's) answer browser.proxy with the envelope {result, files?}.
          if (!isRecord(reply) || !("result" in reply)) return reply
          return yield* Effect.try({
            try: () => browserAnswer(reply.result, reply.files, settings.stateDir),
            catch: (e) => (e instanceof RpcError ? e : RpcError.unavailable(`cannot save the node's browser file: ${(e as NodeJS.ErrnoException).code ?? String(e)} (check that ${settings.stateDir} is writable)`))
          })
        })
    }
  }
  for (const [name, def] of Object.entries(methods)) yield* gateway.registerMethod(name, def)
  yield* gateway.addStatusSection("nodeHosts", () => ({ connected: connected.size, pendingInvokes: pending.size }))

  return { list: views, invoke } satisfies NodesService
})

export class Nodes extends Context.Tag("openclaw/Nodes")<Nodes, NodesService>() {
  /** Needs Gateway, Pairing and GatewayConfig. */
  static layer = Layer.scoped(Nodes, make)
}
