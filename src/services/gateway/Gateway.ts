/**
 * Gateway: the HTTP + WebSocket server on one port. It owns the connections, the method
 * registry and the tick; listeners come from Binder. Release order (reverse of acquisition):
 * the `shutdown` event, every socket closed with 1012, then the listeners closed. Features plug
 * in through the References of hooks.ts (pairing admission, audit entries, tailnet names), never
 * imported, and use what api.ts offers: methods, broadcast, connection events as Streams of plain data.
 */
import { Context, Effect, FiberSet, Layer, Option, Queue, Runtime, type Scope, Stream } from "effect"
import type { WebSocket } from "ws"
import { Connection, type ConnectionHost, type PeerInfo } from "./connection.js"
import { coreMethods } from "./methods.js"
import { makeAcceptor } from "./accept.js"
import type { AcceptedSocket } from "./admission.js"
import { makeFront } from "./front.js"
import { makeReadiness } from "./readiness.js"
import { pendingLimitsFor } from "./pending.js"
import { fromServeProxy, ServePeer } from "./serve-peer.js"
import { openFileLimit } from "../../platform/open-files.js"
import { makeHello } from "./hello.js"
import { DeviceAdmission, GatewayAudit, HostDiscovery } from "./hooks.js"
import { type ConnectionEvent, type ConnectionInfo, connectionInfoOf, type NodeEvent } from "./clients.js"
import { closeAll } from "./shutdown.js"
import { statusOf } from "./status.js"
import { raiseFrameLimit, watchFrameLimit } from "./frame-limit.js"
import { Presence, PRESENCE_MAX } from "./presence.js"
import { quoted } from "../../protocol/client-text.js"
import type { PresenceEntry } from "../../protocol/methods.js"
import { loadServerTls, type ServerTls } from "./tls.js"
import { compileMethod, type GroupHandlers, implementGroup, MethodAlreadyRegistered, type MethodDef } from "./rpc.js"
import type { AnyMethodGroup } from "../../protocol/contract.js"
import { tracesCalls } from "./rpc-span.js"
import { eventFrame } from "../../protocol/frames.js"
import { Auth } from "../auth/Auth.js"
import { Binder, type Listeners } from "../binder/Binder.js"
import { GatewayConfig, type GatewaySettings } from "../config/GatewayConfig.js"
import { stateDirOnDisk } from "../../config/settings.js"

export type { PresenceEntry }
export { PRESENCE_MAX }

export interface GatewayService {
  readonly settings: GatewaySettings
  readonly listeners: Listeners
  /** ws://host:port (wss:// with TLS) that a local client should use. */
  readonly url: string
  /** With gateway.tls.enabled: the certificate's SHA-256 fingerprint, file and origin. */
  readonly tls: Omit<ServerTls, "context"> | undefined
  readonly startedAt: number
  readonly presence: () => ReadonlyArray<PresenceEntry>
  /** Sends an event to every authenticated client (serialised once), or to those `only` selects. */
  readonly broadcast: (event: string, payload?: unknown, only?: (client: ConnectionInfo) => boolean) => void
  /** Authenticated connections, in the order they joined. */
  readonly connections: () => ReadonlyArray<ConnectionInfo>
  /**
   * Subscribes now to every authenticated connection joining and leaving: the Stream yields each
   * event from the subscription on, for as long as the caller's scope lives (it buffers what the
   * caller has not taken yet: consume it, e.g. with Effect.forkScoped(Stream.runForEach(...))).
   */
  readonly connectionEvents: Effect.Effect<Stream.Stream<ConnectionEvent>, never, Scope.Scope>
  /** connectionEvents of node hosts (role node, with their device id). */
  readonly nodeEvents: Effect.Effect<Stream.Stream<NodeEvent>, never, Scope.Scope>
  /** Sends an event to one authenticated connection; false when it is not connected (any more). */
  readonly sendToConnection: (connId: string, event: string, payload?: unknown) => boolean
  /**
   * Closes an authenticated connection with `code` and `reason`; with `cut`, its socket is cut at
   * once (a peer that stopped answering pings will not answer a close frame either).
   */
  readonly closeConnection: (connId: string, code: number, reason: string, options?: { readonly cut?: boolean }) => void
  /** Pings a connection: true when its pong comes back, false when it is not connected or closes first. */
  readonly ping: (connId: string) => Effect.Effect<boolean>
  /** Adds a method for as long as the caller's scope lives; a name already registered fails (no silent replace). */
  readonly registerMethod: (name: string, def: MethodDef) => Effect.Effect<void, MethodAlreadyRegistered, Scope.Scope>
  /**
   * Adds a contract group's methods, one handler per method (rpc.ts implementGroup), for as long as
   * the caller's scope lives; a name already registered fails and registers none of the group.
   */
  readonly registerGroup: <G extends AnyMethodGroup>(
    group: G,
    handlers: NoInfer<GroupHandlers<G>>
  ) => Effect.Effect<void, MethodAlreadyRegistered, Scope.Scope>
  /** Adds a section to the `status` answer for as long as the caller's scope lives. */
  readonly addStatusSection: (name: string, get: () => unknown) => Effect.Effect<void, never, Scope.Scope>
  readonly status: () => Record<string, unknown>
}

export const GATEWAY_EVENTS = [
  "connect.challenge",
  "tick",
  "shutdown",
  "presence",
  "health",
  "agent",
  "chat",
  // To sessions.subscribe callers (services/agent/session-methods.ts).
  "sessions.changed",
  // Nodes and pairing (services/nodes, services/pairing).
  "node.invoke.request",
  "node.pair.requested",
  "node.pair.resolved",
  "device.pair.requested",
  "device.pair.resolved",
  // The audit log's live feed, for operator.admin (services/pairing/devices-methods.ts).
  "audit"
] as const

const formatHost = (host: string) => (host.includes(":") ? `[${host}]` : host)

export const make = Effect.gen(function* () {
  const settings = yield* GatewayConfig
  const auth = yield* Auth
  const binder = yield* Binder
  // Features plug in through hooks.ts; an embedder's own composition may leave them to their defaults.
  const admissionHook = yield* DeviceAdmission
  const audit = yield* GatewayAudit
  const hostDiscovery = yield* HostDiscovery
  const servePeer = yield* ServePeer
  const runtime = yield* Effect.runtime<never>()
  // Connection handlers (admission checks, method handlers) run here: stopping interrupts them.
  const handlers = yield* FiberSet.make<unknown, unknown>()
  const runHandler = yield* FiberSet.runtime(handlers)<never>()
  const traced = tracesCalls(yield* Effect.tracer)
  // Before anything listens: a certificate problem stops the start, naming the setting.
  const serverTls = settings.tls.enabled ? yield* loadServerTls(settings) : undefined
  const startedAt = Date.now()
  const methods = new Map<string, MethodDef>()
  const statusSections = new Map<string, () => unknown>()
  const connections = new Set<Connection>()
  const ready = new Set<Connection>()
  /** What features see of each ready connection, and the connection by its id. */
  const infoOf = new Map<Connection, ConnectionInfo>()
  const byConnId = new Map<string, Connection>()
  const eventQueues = new Set<Queue.Queue<ConnectionEvent>>()
  const publish = (event: ConnectionEvent) => {
    for (const q of eventQueues) q.unsafeOffer(event)
  }
  const connectionSocket = new WeakMap<Connection, AcceptedSocket>()
  let seq = 0
  let stopping = false
  const isStopping = () => stopping

  const log = (message: string) => Runtime.runSync(runtime)(Effect.logWarning(message))
  const logInfo = (message: string) => Runtime.runSync(runtime)(Effect.logInfo(message))
  const debug = (message: string) => {
    if (settings.verbose) Runtime.runSync(runtime)(Effect.logInfo(message))
  }

  const broadcastFrame = (frameFor: (seq: number) => string | Buffer, only?: (client: ConnectionInfo) => boolean) => {
    if (ready.size === 0) return
    const text = frameFor(++seq)
    const frame = typeof text === "string" ? Buffer.from(text) : text
    if (only === undefined) for (const c of ready) c.sendText(frame)
    else for (const [c, info] of infoOf) if (only(info)) c.sendText(frame)
  }
  const broadcast = (event: string, payload?: unknown, only?: (client: ConnectionInfo) => boolean) =>
    broadcastFrame((n) => eventFrame(event, payload, n), only)
  const presence = new Presence(ready, (frameFor) => broadcastFrame(frameFor))

  // hello-ok's features list changes only when a method is registered or removed.
  let features: string | undefined
  const featuresJson = () => (features ??= JSON.stringify({ methods: [...methods.keys()], events: GATEWAY_EVENTS }))
  const { helloFrame, helloSent } = makeHello(settings, startedAt, presence, featuresJson, () => seq)
  const admission = admissionHook.forGateway({ broadcast, logInfo })

  const readiness = makeReadiness({
    stateDir: stateDirOnDisk(settings),
    stopping: isStopping,
    sections: statusSections
  })
  const front = makeFront({
    settings,
    readiness,
    acceptedBy: (socket) => acceptor.acceptedBy.get(socket),
    startConnection: (ws, peer, acc) => startConnection(ws, peer, acc),
    fromServe: (socket) => fromServeProxy(servePeer, socket),
    stopping: isStopping,
    discover: hostDiscovery.discover,
    log,
    debug
  })
  // Read once at start: the pre-auth pool keeps to half of this process's descriptors.
  const fdLimit = openFileLimit()
  const pendingLimits = pendingLimitsFor(fdLimit)
  debug(
    `open-file limit ${fdLimit ?? "unknown (assuming 256)"}: at most ${pendingLimits.hardTotal} unauthenticated connections at once`
  )
  const acceptor = makeAcceptor({
    handshakeTimeoutMs: settings.handshakeTimeoutMs,
    pendingLimits,
    serverTls,
    httpServer: front.httpServer,
    stopping: isStopping,
    log,
    debug
  })
  let frameLimitWarned = false

  const host: ConnectionHost = {
    auth,
    run: (effect, onExit) => runHandler(effect).addObserver(onExit),
    traced,
    handshakeTimeoutMs: settings.handshakeTimeoutMs,
    method: (name) => methods.get(name),
    helloFrame,
    helloSent,
    onReady: (conn) => {
      ready.add(conn)
      const acc = connectionSocket.get(conn)
      if (acc !== undefined) {
        connectionSocket.delete(conn)
        acceptor.signedIn(acc)
      }
      if (!raiseFrameLimit(conn.ws) && !frameLimitWarned) {
        frameLimitWarned = true
        log(
          "this version of the ws package keeps its frame limit elsewhere: authenticated clients stay limited to 64 KiB frames (see src/services/gateway/frame-limit.ts)"
        )
      }
      debug(
        `client connected: ${quoted(conn.client!.id)} (${conn.client!.mode}, ${conn.role}) from ${conn.peer.remoteAddress}`
      )
      const info = connectionInfoOf(conn)
      infoOf.set(conn, info)
      byConnId.set(conn.connId, conn)
      audit.signedIn(info)
      publish({ _tag: "Joined", connection: info })
      presence.joined(conn)
    },
    onClose: (conn) => {
      ready.delete(conn)
      const info = infoOf.get(conn)
      infoOf.delete(conn)
      byConnId.delete(conn.connId)
      if (info !== undefined) publish({ _tag: "Left", connection: info })
      debug(`client disconnected: ${quoted(conn.client!.id)} from ${conn.peer.remoteAddress}`)
      presence.left(stopping)
    },
    onSocketClosed: (conn) => void connections.delete(conn),
    log,
    onRefused: (conn, r) => {
      // Client-chosen strings are quoted (JSON), so they cannot forge log lines.
      const who = `${JSON.stringify(r.clientId.slice(0, 64))} (${JSON.stringify(r.clientMode.slice(0, 32))}, ${r.role})`
      debug(`refused connect from ${conn.peer.remoteAddress}: ${who}: ${r.code}`)
      audit.refused(conn, r)
      if (r.lockedOutMs !== undefined) {
        log(
          `auth: ${conn.peer.remoteAddress} locked out for ${Math.ceil(r.lockedOutMs / 1000)} s after ${settings.auth.rateLimit.maxAttempts} failed attempts (last: ${r.code})`
        )
      }
    },
    checkDeviceToken: admission.checkDeviceToken,
    ...(admission.admitOperatorDevice === undefined ? {} : { admitOperatorDevice: admission.admitOperatorDevice }),
    admitNode: admission.admitNode
  }

  // Defined outside the upgrade handler: a closure created there would keep the upgrade request
  // (headers and all) alive through its scope for as long as the connection lives.
  const startConnection = (ws: WebSocket, peer: PeerInfo, acc: AcceptedSocket | undefined) => {
    const conn = new Connection(ws, peer, host)
    connections.add(conn)
    watchFrameLimit(ws, () => conn.state === "ready", acc?.socket)
    if (acc === undefined) return
    acc.upgraded = conn
    connectionSocket.set(conn, acc)
  }

  const listeners = yield* binder.bind(settings.port, acceptor.accept)
  front.bound(listeners.addresses.map((a) => a.host))

  audit.started({ address: listeners.addresses.map((a) => a.host).join(","), mode: settings.auth.mode })
  const tick = setInterval(() => broadcast("tick", { ts: Date.now() }), settings.tickIntervalMs)
  tick.unref()

  // Runs before Binder's finalizers (added earlier), so clients hear "shutdown" before listeners close.
  yield* Effect.addFinalizer(() => {
    stopping = true
    audit.stopped()
    clearInterval(tick)
    presence.stop()
    acceptor.pending.close()
    broadcast("shutdown", { reason: "gateway stopping" })
    // In-flight calls are interrupted (their callers hear "gateway is shutting down") before sockets close.
    return Effect.zipRight(
      FiberSet.clear(handlers),
      closeAll(connections, () => {
        for (const a of acceptor.accepted) a.destroy()
        front.wss.close()
      })
    )
  })

  const url = `${settings.tls.enabled ? "wss" : "ws"}://${formatHost(listeners.primaryHost === "0.0.0.0" || listeners.primaryHost === "::" ? "127.0.0.1" : listeners.primaryHost)}:${listeners.port}`
  /** What status and embedders see of the certificate (not its secure context). */
  const tlsInfo =
    serverTls === undefined
      ? undefined
      : { fingerprint: serverTls.fingerprint, certPath: serverTls.certPath, source: serverTls.source }
  const status = statusOf({
    settings,
    listeners,
    url,
    tls: tlsInfo,
    startedAt,
    ready,
    sections: statusSections,
    readiness
  })

  const connectionEvents = Effect.map(
    Effect.acquireRelease(
      Effect.tap(Queue.unbounded<ConnectionEvent>(), (q) => Effect.sync(() => void eventQueues.add(q))),
      (q) =>
        Effect.zipRight(
          Effect.sync(() => void eventQueues.delete(q)),
          Queue.shutdown(q)
        )
    ),
    (q) => Stream.fromQueue(q)
  )

  /** Registers every def, or none when one of the names is taken; removed again when the caller's scope ends. */
  const registerAll = (defs: Record<string, MethodDef>) =>
    Effect.acquireRelease(
      Effect.suspend(() => {
        const taken = Object.keys(defs).find((name) => methods.has(name))
        if (taken !== undefined) return Effect.fail(new MethodAlreadyRegistered({ method: taken }))
        for (const [name, def] of Object.entries(defs)) methods.set(name, compileMethod(name, def))
        features = undefined
        return Effect.void
      }),
      () =>
        Effect.sync(() => {
          for (const name of Object.keys(defs)) methods.delete(name)
          features = undefined
        })
    )

  const service: GatewayService = {
    settings,
    listeners,
    url,
    tls: tlsInfo,
    startedAt,
    presence: () => presence.entries(),
    broadcast,
    connections: () => [...infoOf.values()],
    connectionEvents,
    nodeEvents: Effect.map(connectionEvents, Stream.filterMap(nodeEventOf)),
    sendToConnection: (connId, event, payload) => {
      const conn = byConnId.get(connId)
      if (conn === undefined) return false
      conn.sendText(eventFrame(event, payload))
      return true
    },
    closeConnection: (connId, code, reason, options) => {
      const conn = byConnId.get(connId)
      if (conn === undefined) return
      conn.close(code, reason)
      if (options?.cut === true) conn.ws.terminate()
    },
    ping: (connId) => pingConnection(byConnId.get(connId)),
    registerMethod: (name, def) => registerAll({ [name]: def }),
    registerGroup: (group, handlers) => registerAll(implementGroup(group, handlers)),
    addStatusSection: (name, get) =>
      Effect.acquireRelease(
        Effect.sync(() => void statusSections.set(name, get)),
        () => Effect.sync(() => void statusSections.delete(name))
      ),
    status
  }
  for (const [name, def] of Object.entries(coreMethods(service))) methods.set(name, compileMethod(name, def))
  return service
})

export class Gateway extends Context.Tag("openclaw/Gateway")<Gateway, GatewayService>() {
  /** Needs GatewayConfig, Auth and Binder; the hooks.ts References keep their defaults unless provided (gatewayServices does). */
  static layer = Layer.scoped(Gateway, make)
}

const nodeEventOf = (e: ConnectionEvent) =>
  e.connection.role === "node" && e.connection.device !== undefined
    ? Option.some<NodeEvent>({ _tag: e._tag, nodeId: e.connection.device.deviceId, connection: e.connection })
    : Option.none()

/** A WebSocket ping: true once its pong comes back, false when the socket is not open or closes first. */
const pingConnection = (conn: Connection | undefined): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    if (conn === undefined || conn.ws.readyState !== conn.ws.OPEN) return resume(Effect.succeed(false))
    const ws = conn.ws
    const settle = (answered: boolean) => () => {
      stop()
      resume(Effect.succeed(answered))
    }
    const onPong = settle(true)
    const onClose = settle(false)
    const stop = () => {
      ws.off("pong", onPong)
      ws.off("close", onClose)
    }
    ws.on("pong", onPong)
    ws.on("close", onClose)
    try {
      ws.ping()
    } catch {
      // Closing already.
      return onClose()
    }
    return Effect.sync(stop)
  })
