/**
 * Nodes: the registry of connected node hosts and invoke (request/result correlation, timeouts,
 * failing at once when a node drops). Its RPC methods (node.*, the operator's pairing methods,
 * browser.request) are registered by methods.ts through NodeLinks.
 */
import { randomUUID } from "node:crypto"
import { Context, Effect, Exit, FiberSet, Layer, Stream } from "effect"
import { type ConnectionInfo, Gateway, type NodeEvent, RpcError } from "../gateway/api.js"
import { shortened } from "../../protocol/client-text.js"
import { CloseCode, ErrorCode } from "../../protocol/frames.js"
import { GatewayConfig } from "../config/GatewayConfig.js"
import { Pairing, type PairedDevice, surfaceBeyond } from "../pairing/Pairing.js"

export const DEFAULT_INVOKE_TIMEOUT_MS = 30_000
export { MAX_INVOKE_TIMEOUT_MS } from "../../protocol/params.js"
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
  readonly invoke: (
    nodeId: string,
    command: string,
    params?: unknown,
    timeoutMs?: number
  ) => Effect.Effect<unknown, RpcError>
}

/** The live links behind Nodes, for its RPC methods (methods.ts); not part of the public service. */
export interface NodeLinksService {
  /** A node by id, unique id prefix (8+ characters) or display name. */
  readonly resolveNode: (ref: string) => Effect.Effect<NodeView, RpcError>
  /** "name (id prefix)" for messages. */
  readonly nameOf: (nodeId: string) => string
  readonly isConnected: (nodeId: string) => boolean
  /** Closes the node's live link, if any (its pending invokes fail at once). */
  readonly disconnect: (nodeId: string, reason: string) => void
  /** Takes the pending invoke `id` if the connection `connId` owns it (a node answers only its own calls). */
  readonly takePending: (id: string, connId: string) => PendingInvoke | undefined
}

export interface PendingInvoke {
  readonly nodeId: string
  readonly connId: string
  readonly command: string
  readonly done: (exit: Exit.Exit<unknown, RpcError>) => void
}

export const unavailable = (code: string, message: string, extra: Record<string, unknown> = {}) =>
  new RpcError({ shape: { code: ErrorCode.unavailable, message, retryable: true, details: { code, ...extra } } })
export const invalid = (code: string, message: string, extra: Record<string, unknown> = {}) =>
  new RpcError({ shape: { code: ErrorCode.invalidRequest, message, details: { code, ...extra } } })
export const forbidden = (code: string, message: string) =>
  new RpcError({ shape: { code: ErrorCode.forbidden, message, details: { code } } })

export const isNode = (d: PairedDevice) => d.role === "node"

export const make = Effect.gen(function* () {
  const gateway = yield* Gateway
  const pairing = yield* Pairing
  const settings = yield* GatewayConfig
  const connected = new Map<string, { readonly conn: ConnectionInfo; readonly connectedAt: number }>()
  const pending = new Map<string, PendingInvoke>()
  /** Nodes whose last round's ping is unanswered (see the rounds below). */
  const unanswered = new Set<string>()
  // Pings run as fibers of this layer's scope: interrupted when it closes.
  const runFiber = yield* FiberSet.makeRuntime<never>()
  const dropUnanswering = (connId: string) =>
    gateway.closeConnection(connId, CloseCode.policy, "node did not answer ping", { cut: true })

  const nameOf = (nodeId: string) => {
    const c = connected.get(nodeId)?.conn.client.displayName
    return c === undefined ? nodeId.slice(0, 12) : `${c} (${nodeId.slice(0, 12)})`
  }

  const joined = (nodeId: string, conn: ConnectionInfo) => {
    const previous = connected.get(nodeId)
    connected.set(nodeId, { conn, connectedAt: conn.connectedAt })
    // The newer link wins (a laptop back from sleep); the old one's invokes fail at once.
    if (previous !== undefined && previous.conn.connId !== conn.connId)
      gateway.closeConnection(previous.conn.connId, CloseCode.policy, "replaced by a newer connection of this node")
  }
  const left = (nodeId: string, conn: ConnectionInfo) => {
    if (connected.get(nodeId)?.conn.connId === conn.connId) connected.delete(nodeId)
    unanswered.delete(conn.connId)
    for (const [id, p] of pending) {
      if (p.connId !== conn.connId) continue
      pending.delete(id)
      p.done(
        Exit.fail(
          unavailable(
            "NODE_DISCONNECTED",
            `node ${conn.client.displayName ?? nodeId.slice(0, 12)} disconnected while running ${p.command}; nothing was returned (retry when it reconnects)`,
            { nodeId }
          )
        )
      )
    }
  }
  const nodeEvents = yield* gateway.nodeEvents
  yield* Effect.forkScoped(
    Stream.runForEach(nodeEvents, ({ _tag, nodeId, connection }: NodeEvent) =>
      Effect.sync(() => (_tag === "Joined" ? joined(nodeId, connection) : left(nodeId, connection)))
    )
  )

  // A node whose link died silently (a laptop gone to sleep) answers no WebSocket ping: it is
  // dropped at the next round, which fails its pending invokes with NODE_DISCONNECTED rather than
  // leaving callers to their timeout. Rounds run every half tick interval (15 s by default).
  yield* Effect.acquireRelease(
    Effect.sync(() => {
      const timer = setInterval(
        () => {
          for (const { conn } of connected.values()) {
            const connId = conn.connId
            if (unanswered.has(connId)) {
              unanswered.delete(connId)
              dropUnanswering(connId)
              continue
            }
            unanswered.add(connId)
            runFiber(Effect.map(gateway.ping(connId), (answered) => answered && unanswered.delete(connId)))
          }
        },
        Math.max(100, settings.tickIntervalMs / 2)
      )
      timer.unref()
      return timer
    }),
    (timer) => Effect.sync(() => clearInterval(timer))
  )

  // A call in flight should not wait for the next round (up to a tick interval, 30 s by default)
  // to learn that its node went to sleep: while a node has calls pending it is pinged every
  // BUSY_PING_MS and dropped after BUSY_PINGS_MISSED pings in a row go unanswered. Missed pings
  // are counted (not wall time), so a Gateway whose own event loop stalled does not drop anyone.
  const busyProbes = new Map<string, NodeJS.Timeout>()
  const probeWhileBusy = (connId: string) => {
    if (busyProbes.has(connId)) return
    let awaiting = false
    let missed = 0
    const stop = () => {
      clearInterval(busyProbes.get(connId))
      busyProbes.delete(connId)
    }
    busyProbes.set(
      connId,
      setInterval(() => {
        const busy = [...pending.values()].some((p) => p.connId === connId)
        if (!busy) return stop()
        if (awaiting) missed += 1
        if (missed >= BUSY_PINGS_MISSED) {
          stop()
          dropUnanswering(connId)
          return
        }
        awaiting = true
        runFiber(
          Effect.map(gateway.ping(connId), (answered) => {
            if (!answered) return stop()
            awaiting = false
            missed = 0
          })
        )
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
        ...(live === undefined ? {} : { connectedAt: live.connectedAt, remoteAddress: live.conn.remoteAddress }),
        ...(d === undefined ? {} : { pairedAt: d.pairedAt })
      }
    })
  })

  /** A node by id, unique id prefix (8+ characters) or display name. */
  const resolveNode = (ref: string) =>
    Effect.flatMap(views, (all) => {
      const exact = all.find((n) => n.nodeId === ref)
      if (exact !== undefined) return Effect.succeed(exact)
      const matches = all.filter(
        (n) => (ref.trim() !== "" && n.displayName === ref) || (ref.length >= 8 && n.nodeId.startsWith(ref))
      )
      if (matches.length === 1) return Effect.succeed(matches[0]!)
      if (matches.length > 1)
        return Effect.fail(
          invalid(
            "AMBIGUOUS_NODE",
            `${shortened(ref)} matches several nodes (${matches.map((n) => n.nodeId.slice(0, 12)).join(", ")}); use the full node id`
          )
        )
      return Effect.fail(
        invalid(
          "UNKNOWN_NODE",
          `unknown node ${shortened(ref)}: ${ref.length < 8 ? "no node has that name and an id prefix needs at least 8 characters" : "it is not paired"} (list nodes with \`openclaw nodes list\`, pending ones with \`openclaw nodes pending\`)`
        )
      )
    })

  /** The commands an operator approved for the connected node (its pairing's surface). */
  const approvedCommands = (nodeId: string): Effect.Effect<ReadonlyArray<string>> =>
    Effect.suspend(() => {
      const device = connected.get(nodeId)?.conn.device
      return device === undefined
        ? Effect.succeed([])
        : Effect.map(pairing.paired(nodeId, device.publicKey), (d) => d?.commands ?? [])
    })

  const invoke = (
    nodeId: string,
    command: string,
    params?: unknown,
    timeoutMs = DEFAULT_INVOKE_TIMEOUT_MS
  ): Effect.Effect<unknown, RpcError> =>
    Effect.flatMap(approvedCommands(nodeId), (approved) =>
      Effect.async<unknown, RpcError>((resume) => {
        const live = connected.get(nodeId)
        if (live === undefined) {
          resume(
            Effect.fail(
              unavailable(
                "NOT_CONNECTED",
                `node ${nodeId.slice(0, 12)} is not connected (start \`openclaw node run\` on it; \`openclaw nodes list\` shows which nodes are connected)`,
                { nodeId }
              )
            )
          )
          return
        }
        if (!live.conn.commands.includes(command)) {
          resume(
            Effect.fail(
              invalid(
                "COMMAND_NOT_DECLARED",
                `node ${nameOf(nodeId)} does not offer ${command} (it declared: ${live.conn.commands.join(", ") || "nothing"})`,
                { nodeId, command }
              )
            )
          )
          return
        }
        // Declared is not enough: pairing approves a node's commands, and a new one needs a new approval.
        if (!approved.includes(command)) {
          resume(
            Effect.fail(
              forbidden(
                "COMMAND_NOT_APPROVED",
                `node ${nameOf(nodeId)} declares ${command} but it was not approved for it; approve its pending request (\`openclaw nodes pending\`, then \`openclaw nodes approve <requestId>\`)`
              )
            )
          )
          return
        }
        let paramsJSON: string
        try {
          paramsJSON = JSON.stringify(params ?? {})
        } catch (e) {
          resume(
            Effect.fail(
              invalid(
                "INVALID_PARAMS",
                `node.invoke params for ${command} cannot be sent as JSON (${e instanceof Error ? e.name : "error"})`
              )
            )
          )
          return
        }
        const id = randomUUID()
        const timer = setTimeout(() => {
          if (!pending.delete(id)) return
          resume(
            Effect.fail(
              unavailable(
                "TIMEOUT",
                `node ${nameOf(nodeId)} did not answer ${command} within ${timeoutMs} ms (pass a larger timeoutMs, or check the node host's output)`,
                { nodeId }
              )
            )
          )
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
        gateway.sendToConnection(live.conn.connId, "node.invoke.request", {
          id,
          nodeId,
          command,
          paramsJSON,
          timeoutMs
        })
        probeWhileBusy(live.conn.connId)
        return Effect.sync(() => {
          clearTimeout(timer)
          pending.delete(id)
        })
      })
    )

  yield* gateway.addStatusSection("nodeHosts", () => ({ connected: connected.size, pendingInvokes: pending.size }))

  const links: NodeLinksService = {
    resolveNode,
    nameOf,
    isConnected: (nodeId) => connected.has(nodeId),
    disconnect: (nodeId, reason) => {
      const live = connected.get(nodeId)
      if (live !== undefined) gateway.closeConnection(live.conn.connId, CloseCode.policy, reason)
    },
    takePending: (id, connId) => {
      const p = pending.get(id)
      if (p === undefined || p.connId !== connId) return undefined
      pending.delete(id)
      return p
    }
  }
  return { service: { list: views, invoke } satisfies NodesService, links }
})

export class NodeLinks extends Context.Tag("openclaw/NodeLinks")<NodeLinks, NodeLinksService>() {}

export class Nodes extends Context.Tag("openclaw/Nodes")<Nodes, NodesService>() {
  /** Needs Gateway, Pairing and GatewayConfig; also provides NodeLinks, which NodesMethods.layer (methods.ts) needs. */
  static layer = Layer.scopedContext(
    Effect.map(make, ({ links, service }) => Context.make(Nodes, service).pipe(Context.add(NodeLinks, links)))
  )
}
