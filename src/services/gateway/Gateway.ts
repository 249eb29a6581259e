/**
 * Gateway: the HTTP + WebSocket server on one port. It owns the connections, the method
 * registry and the tick; listeners come from Binder. Release order (reverse of acquisition):
 * the `shutdown` event, every socket closed with 1012, then the listeners closed. Features plug
 * in through the Tags of hooks.ts (pairing admission, audit entries, tailnet names), never imported.
 */
import { Context, Effect, FiberSet, Layer, Option, Runtime, type Scope } from "effect"
import type { WebSocket } from "ws"
import { Connection, type ConnectionHost, type PeerInfo } from "./connection.js"
import { coreMethods } from "./methods.js"
import { makeAcceptor } from "./accept.js"
import type { AcceptedSocket } from "./admission.js"
import { makeFront } from "./front.js"
import { makeReadiness } from "./readiness.js"
import { pendingLimitsFor } from "./pending.js"
import { fromServeProxy, linuxServePeer, ServePeer } from "./serve-peer.js"
import { openFileLimit } from "../../platform/open-files.js"
import { makeHello } from "./hello.js"
import { DeviceAdmission, GatewayAudit, HostDiscovery, withoutPairing } from "./hooks.js"
import { closeAll } from "./shutdown.js"
import { statusOf } from "./status.js"
import { raiseFrameLimit, watchFrameLimit } from "./frame-limit.js"
import { Presence, PRESENCE_MAX } from "./presence.js"
import { quoted } from "../../protocol/client-text.js"
import type { PresenceEntry } from "../../protocol/methods.js"
import { loadServerTls, type ServerTls } from "./tls.js"
import { compileMethod, type MethodDef } from "./rpc.js"
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
  readonly broadcast: (event: string, payload?: unknown, only?: (conn: Connection) => boolean) => void
  /** Authenticated connections, in the order they joined. */
  readonly connections: () => ReadonlyArray<Connection>
  /** Hears every authenticated connection join and leave, for as long as the caller's scope lives. */
  readonly onConnection: (listener: ConnectionListener) => Effect.Effect<void, never, Scope.Scope>
  /** Adds a method for as long as the caller's scope lives. */
  readonly registerMethod: (name: string, def: MethodDef) => Effect.Effect<void, never, Scope.Scope>
  /** Adds a section to the `status` answer for as long as the caller's scope lives. */
  readonly addStatusSection: (name: string, get: () => unknown) => Effect.Effect<void, never, Scope.Scope>
  readonly status: () => Record<string, unknown>
}

export interface ConnectionListener {
  readonly ready?: (conn: Connection) => void
  readonly closed?: (conn: Connection) => void
}

export const GATEWAY_EVENTS = [
  "connect.challenge",
  "tick",
  "shutdown",
  "presence",
  "health",
  "agent",
  "chat",
  // To sessions.subscribe callers (services/sessions/methods.ts).
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
  // Features plug in through hooks.ts; an embedder's own composition may leave them out.
  const admissionHook = yield* Effect.serviceOption(DeviceAdmission)
  const auditHook = yield* Effect.serviceOption(GatewayAudit)
  const audit = auditHook._tag === "Some" ? auditHook.value : undefined
  const hostDiscovery = yield* Effect.serviceOption(HostDiscovery)
  const servePeer = Option.getOrElse(yield* Effect.serviceOption(ServePeer), () => linuxServePeer)
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
  const connectionSocket = new WeakMap<Connection, AcceptedSocket>()
  let seq = 0
  let stopping = false
  const isStopping = () => stopping

  const log = (message: string) => Runtime.runSync(runtime)(Effect.logWarning(message))
  const logInfo = (message: string) => Runtime.runSync(runtime)(Effect.logInfo(message))
  const debug = (message: string) => {
    if (settings.verbose) Runtime.runSync(runtime)(Effect.logInfo(message))
  }

  const broadcastFrame = (frameFor: (seq: number) => string | Buffer, only?: (conn: Connection) => boolean) => {
    if (ready.size === 0) return
    const text = frameFor(++seq)
    const frame = typeof text === "string" ? Buffer.from(text) : text
    for (const c of ready) if (only === undefined || only(c)) c.sendText(frame)
  }
  const broadcast = (event: string, payload?: unknown, only?: (conn: Connection) => boolean) =>
    broadcastFrame((n) => eventFrame(event, payload, n), only)
  const presence = new Presence(ready, (frameFor) => broadcastFrame(frameFor))
  const connectionListeners = new Set<ConnectionListener>()

  // hello-ok's features list changes only when a method is registered or removed.
  let features: string | undefined
  const featuresJson = () => (features ??= JSON.stringify({ methods: [...methods.keys()], events: GATEWAY_EVENTS }))
  const { helloFrame, helloSent } = makeHello(settings, startedAt, presence, featuresJson, () => seq)
  const admission =
    admissionHook._tag === "Some" ? admissionHook.value.forGateway({ broadcast, logInfo }) : withoutPairing

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
    discover: hostDiscovery._tag === "Some" ? hostDiscovery.value.discover : undefined,
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
      if (acc !== undefined) acceptor.pending.release(acc)
      if (!raiseFrameLimit(conn.ws) && !frameLimitWarned) {
        frameLimitWarned = true
        log(
          "this version of the ws package keeps its frame limit elsewhere: authenticated clients stay limited to 64 KiB frames (see src/services/gateway/frame-limit.ts)"
        )
      }
      debug(
        `client connected: ${quoted(conn.client!.id)} (${conn.client!.mode}, ${conn.role}) from ${conn.peer.remoteAddress}`
      )
      audit?.signedIn(conn)
      for (const l of connectionListeners) l.ready?.(conn)
      presence.joined(conn)
    },
    onClose: (conn) => {
      ready.delete(conn)
      for (const l of connectionListeners) l.closed?.(conn)
      debug(`client disconnected: ${quoted(conn.client!.id)} from ${conn.peer.remoteAddress}`)
      presence.left(stopping)
    },
    onSocketClosed: (conn) => void connections.delete(conn),
    log,
    onRefused: (conn, r) => {
      // Client-chosen strings are quoted (JSON), so they cannot forge log lines.
      const who = `${JSON.stringify(r.clientId.slice(0, 64))} (${JSON.stringify(r.clientMode.slice(0, 32))}, ${r.role})`
      debug(`refused connect from ${conn.peer.remoteAddress}: ${who}: ${r.code}`)
      audit?.refused(conn, r)
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
    acc.handshakeProgress = () => conn.handshakeProgress()
    connectionSocket.set(conn, acc)
  }

  const listeners = yield* binder.bind(settings.port, acceptor.accept)
  front.bound(listeners.addresses.map((a) => a.host))

  audit?.started({ address: listeners.addresses.map((a) => a.host).join(","), mode: settings.auth.mode })
  const tick = setInterval(() => broadcast("tick", { ts: Date.now() }), settings.tickIntervalMs)
  tick.unref()

  // Runs before Binder's finalizers (added earlier), so clients hear "shutdown" before listeners close.
  yield* Effect.addFinalizer(() => {
    stopping = true
    audit?.stopped()
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

  const service: GatewayService = {
    settings,
    listeners,
    url,
    tls: tlsInfo,
    startedAt,
    presence: () => presence.entries(),
    broadcast,
    connections: () => [...ready],
    onConnection: (listener) =>
      Effect.acquireRelease(
        Effect.sync(() => void connectionListeners.add(listener)),
        () => Effect.sync(() => void connectionListeners.delete(listener))
      ),
    registerMethod: (name, def) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          methods.set(name, compileMethod(name, def))
          features = undefined
        }),
        () =>
          Effect.sync(() => {
            methods.delete(name)
            features = undefined
          })
      ),
    addStatusSection: (name, get) =>
      Effect.acquireRelease(
        Effect.sync(() => void statusSections.set(name, get)),
        () => Effect.sync(() => void statusSections.delete(name))
      ),
    status
  }
  for (const [name, def] of Object.entries(coreMethods(service))) methods.set(name, def)
  return service
})

export class Gateway extends Context.Tag("openclaw/Gateway")<Gateway, GatewayService>() {
  /** Needs GatewayConfig, Auth and Binder; uses the hooks.ts features when provided (gatewayServices does). */
  static layer = Layer.scoped(Gateway, make)
}
