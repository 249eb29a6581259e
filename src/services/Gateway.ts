/**
 * Gateway: the HTTP + WebSocket server on one port. It owns the connections, the method
 * registry and the tick; listeners come from Binder. Release order (reverse of acquisition):
 * the `shutdown` event, every socket closed with 1012, then the listeners closed.
 */
import * as http from "node:http"
import * as path from "node:path"
import type * as net from "node:net"
import * as tls from "node:tls"
import { Context, Effect, Layer, Runtime, type Scope } from "effect"
import { type WebSocket, WebSocketServer } from "ws"
import { Connection, type ConnectionHost, connectRefusal, hasScope, type PeerInfo, quoted } from "../gateway/connection.js"
import { findUiDir, loadUiAssets, serveControlUi, type UiAsset } from "../gateway/control-ui.js"
import { checkOrigin, isLocalRequest, normaliseAddress, proxyHeaders, rejectUpgrade, sendJson } from "../gateway/http.js"
import { coreMethods, healthPayload } from "../gateway/methods.js"
import { PendingSockets } from "../gateway/pending.js"
import { loadServerTls, plaintextOnTlsPortResponse, type ServerTls } from "../gateway/tls.js"
import type { MethodDef } from "../gateway/rpc.js"
import { readIdentityPublicKey } from "../node/identity.js"
import { CloseCode, ErrorCode, eventFrame, Limits, PROTOCOL_VERSION } from "../protocol/frames.js"
import { VERSION } from "../version.js"
import { Auth } from "./Auth.js"
import { Binder, type Listeners } from "./Binder.js"
import { GatewayConfig, type GatewaySettings } from "./GatewayConfig.js"
import { Pairing, pairingFor, type PendingRequest } from "./Pairing.js"

export interface PresenceEntry {
  readonly connId: string
  readonly client: { readonly id: string; readonly version: string; readonly platform: string; readonly mode: string; readonly displayName?: string }
  readonly role: string
  readonly scopes: ReadonlyArray<string>
  readonly host: string
  readonly since: number
  /** How the client authenticated, and for Tailscale identity who it is. */
  readonly authMethod?: string
  readonly user?: { readonly login: string; readonly name?: string }
}

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
  // Nodes and pairing (services/Nodes.ts, services/Pairing.ts).
  "node.invoke.request",
  "node.pair.requested",
  "node.pair.resolved",
  "device.pair.requested",
  "device.pair.resolved"
] as const

/** What operators see of a pending pairing request (node.pair.list, node.pair.requested). */
export const pendingView = (r: PendingRequest) => ({
  requestId: r.requestId,
  nodeId: r.deviceId,
  deviceId: r.deviceId,
  ...(r.displayName === undefined ? {} : { displayName: r.displayName }),
  ...(r.platform === undefined ? {} : { platform: r.platform }),
  ...(r.remoteAddress === undefined ? {} : { remoteAddress: r.remoteAddress }),
  role: r.role,
  clientId: r.clientId,
  requestedAt: r.requestedAt,
  expiresAt: r.expiresAt
})

/** Operators who may answer pairing requests. */
export const canPair = (c: Connection) => c.role === "operator" && hasScope(c.scopes, "operator.pairing")

const PRESENCE_COALESCE_MS = 250

/** At most this many entries in presence lists (snapshot, events, system-presence), newest kept. */
export const PRESENCE_MAX = 200

/** How long shutdown waits for clients to acknowledge the close before cutting them off. */
const CLOSE_GRACE_MS = 750

const formatHost = (host: string) => (host.includes(":") ? `[${host}]` : host)

export const make = Effect.gen(function* () {
  const settings = yield* GatewayConfig
  const auth = yield* Auth
  // Embedders that compose Gateway.layer themselves without Pairing get the default store.
  const pairing = yield* Effect.flatMap(Effect.serviceOption(Pairing), (o) =>
    o._tag === "Some" ? Effect.succeed(o.value) : Effect.orDie(pairingFor(settings))
  )
  const binder = yield* Binder
  const runtime = yield* Effect.runtime<never>()
  // Before anything listens: a certificate problem stops the start, naming the setting.
  const serverTls = settings.tls.enabled ? yield* loadServerTls(settings) : undefined
  const startedAt = Date.now()
  const methods = new Map<string, MethodDef>()
  const statusSections = new Map<string, () => unknown>()
  const connections = new Set<Connection>()
  const ready = new Set<Connection>()
  const sockets = new Set<net.Socket>()
  const pending = new PendingSockets()
  /** Sockets still counted as unauthenticated, with the address they were counted under. */
  const pendingAddress = new WeakMap<net.Socket, string>()
  const leavePending = (socket: net.Socket) => {
    const address = pendingAddress.get(socket)
    if (address === undefined) return
    pendingAddress.delete(socket)
    pending.release(address)
  }
  const connectionSocket = new WeakMap<Connection, net.Socket>()
  let droppedSince = 0
  let seq = 0
  let stopping = false

  const log = (message: string) => Runtime.runSync(runtime)(Effect.logWarning(message))
  const logInfo = (message: string) => Runtime.runSync(runtime)(Effect.logInfo(message))
  const debug = (message: string) => {
    if (settings.verbose) Runtime.runSync(runtime)(Effect.logInfo(message))
  }

  const presenceEntry = (c: Connection): PresenceEntry => ({
    connId: c.connId,
    client: {
      id: c.client!.id,
      version: c.client!.version,
      platform: c.client!.platform,
      mode: c.client!.mode,
      ...(c.client!.displayName === undefined ? {} : { displayName: c.client!.displayName })
    },
    role: c.role,
    scopes: c.scopes,
    host: c.peer.remoteAddress,
    since: c.since,
    authMethod: c.authMethod,
    ...(c.identity === undefined ? {} : { user: c.identity })
  })
  /** The newest PRESENCE_MAX connections (OpenClaw bounds presence the same way). */
  const listed = (): Array<Connection> => {
    // Skips the older ones while iterating, rather than copying all of `ready` on every connect.
    const skip = ready.size - PRESENCE_MAX
    const out: Array<Connection> = []
    let i = 0
    for (const c of ready) if (i++ >= skip) out.push(c)
    return out
  }
  const presence = (): Array<PresenceEntry> => listed().map(presenceEntry)

  // Every hello-ok carries the presence list, so each connect costs O(list). Each listed entry is
  // serialised once (kept as a string per connection, not a Buffer: small Buffers are slices of
  // shared 8 KiB pool slabs, and one live slice keeps its whole slab), and a frame that carries the
  // list is written straight into one Buffer: a connect then costs one copy outside the JS heap
  // instead of a list of fresh objects and strings, whose garbage grew the heap with 1000 connected.
  const entryJson = new WeakMap<Connection, string>()
  const entryJsonOf = (c: Connection) => {
    let json = entryJson.get(c)
    if (json === undefined) entryJson.set(c, (json = JSON.stringify(presenceEntry(c))))
    return json
  }
  /** The listed connections, until presence changes; only their entries stay cached. */
  let presenceList: Array<Connection> | undefined
  /**
   * `head` + the presence list's items joined by commas + `tail`, as one Buffer. `joining`: a
   * connection about to be admitted, appended so that its own hello-ok lists it.
   */
  const presenceFrame = (head: string, tail: string, joining?: Connection, alloc: (length: number) => Buffer = Buffer.allocUnsafe): Buffer => {
    const items = (presenceList ??= listed()).map(entryJsonOf)
    const own = joining === undefined ? undefined : entryJsonOf(joining)
    const count = items.length + (own === undefined ? 0 : 1)
    let length = Buffer.byteLength(head) + Buffer.byteLength(tail) + Math.max(0, count - 1) + (own === undefined ? 0 : Buffer.byteLength(own))
    for (const item of items) length += Buffer.byteLength(item)
    const frame = alloc(length)
    let at = frame.write(head)
    for (let i = 0; i < count; i++) {
      if (i > 0) frame[at++] = 0x2c // ","
      at += frame.write(i < items.length ? items[i]! : own!, at)
    }
    frame.write(tail, at)
    return frame
  }

  // A hello-ok is large (up to PRESENCE_MAX entries) and one is sent per connect: its memory is
  // reused once the socket has taken the frame, instead of being allocated afresh each time (that
  // churn alone left the process several MiB larger after a crowd of clients connected).
  const spareHello: Array<ArrayBuffer> = []
  const helloMemory = (length: number): Buffer => {
    let memory = spareHello.pop()
    if (memory === undefined || memory.byteLength < length) memory = new ArrayBuffer(Math.max(length, 64 * 1024))
    return Buffer.from(memory, 0, length)
  }

  const broadcastFrame = (frameFor: (seq: number) => string | Buffer, only?: (conn: Connection) => boolean) => {
    if (ready.size === 0) return
    const text = frameFor(++seq)
    const frame = typeof text === "string" ? Buffer.from(text) : text
    for (const c of ready) if (only === undefined || only(c)) c.sendText(frame)
  }
  const broadcast = (event: string, payload?: unknown, only?: (conn: Connection) => boolean) =>
    broadcastFrame((n) => eventFrame(event, payload, n), only)
  const connectionListeners = new Set<ConnectionListener>()

  /** Pairs a node at once only when it is this machine's own node host (see NodesSettings). */
  const isOwnLocalNode = (conn: Connection, publicKey: string) =>
    settings.nodes.pairing.autoApproveLocal &&
    conn.peer.isLocal &&
    !conn.peer.fromBrowser &&
    path.isAbsolute(settings.stateDir) &&
    readIdentityPublicKey(settings.stateDir) === publicKey

  // Presence changes are coalesced: a burst of N connects costs a few broadcasts, not N
  // broadcasts of an N-entry list to N clients.
  let presenceTimer: NodeJS.Timeout | undefined
  const announcePresence = () => {
    presenceTimer ??= setTimeout(() => {
      presenceTimer = undefined
      broadcastFrame((n) => presenceFrame(`{"type":"event","event":"presence","seq":${n},"payload":{"presence":[`, "]}}"))
    }, PRESENCE_COALESCE_MS)
  }

  // hello-ok's features list changes only when a method is registered or removed.
  let features: string | undefined
  const featuresJson = () => (features ??= JSON.stringify({ methods: [...methods.keys()], events: GATEWAY_EVENTS }))
  const policyJson = JSON.stringify({ maxPayload: Limits.maxPayload, maxBufferedBytes: Limits.maxBufferedBytes, tickIntervalMs: settings.tickIntervalMs })

  const basePath = settings.controlUi.basePath
  const uiAssets = settings.controlUi.enabled ? loadUiAssets(findUiDir()) : new Map<string, UiAsset>()
  if (settings.controlUi.enabled && uiAssets.size === 0) log("the Control UI's files (dist/ui) were not found; run `npm run build` to build them")
  const handleHttp = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0]!
    if (path === "/health" || path === "/healthz" || path === "/readyz") {
      return sendJson(res, 200, { ok: true, status: "live" })
    }
    if (settings.controlUi.enabled && serveControlUi(req, res, path, basePath, uiAssets)) return
    sendJson(res, 404, { ok: false, error: "not found" }, { "X-Content-Type-Options": "nosniff" })
  }
  // Idle sockets that never finish a request are cut after the handshake timeout.
  const httpServer = http.createServer(
    { keepAliveTimeout: 5_000, headersTimeout: settings.handshakeTimeoutMs, requestTimeout: Math.max(30_000, settings.handshakeTimeoutMs + 1_000), connectionsCheckingInterval: 1_000 },
    handleHttp
  )
  httpServer.on("clientError", (_err, socket) => socket.destroy())

  const wss = new WebSocketServer({ noServer: true, maxPayload: Limits.maxPayload, perMessageDeflate: false, clientTracking: false })

  const host: ConnectionHost = {
    auth,
    runtime,
    handshakeTimeoutMs: settings.handshakeTimeoutMs,
    method: (name) => methods.get(name),
    // One frame written around the cached presence list (see presenceFrame): the JSON of
    // okResponse(id, { type: "hello-ok", protocol, server, features, auth, policy, snapshot }).
    helloFrame: (conn, id) => {
      const now = Date.now()
      const auth = {
        method: conn.authMethod,
        role: conn.role,
        scopes: conn.scopes,
        ...(conn.issuedDeviceToken === undefined ? {} : { deviceToken: conn.issuedDeviceToken })
      }
      const head =
        `{"type":"res","id":${JSON.stringify(id)},"ok":true,"payload":{"type":"hello-ok","protocol":${PROTOCOL_VERSION},` +
        `"server":${JSON.stringify({ version: VERSION, connId: conn.connId })},"features":${featuresJson()},` +
        `"auth":${JSON.stringify(auth)},"policy":${policyJson},"snapshot":{"presence":[`
      const snapshot = {
        health: healthPayload(startedAt, now),
        stateVersion: { presence: seq, health: seq },
        uptimeMs: now - startedAt,
        authMode: settings.auth.mode
      }
      return presenceFrame(head, `],${JSON.stringify(snapshot).slice(1)}}}`, conn, helloMemory)
    },
    helloSent: (frame) => {
      if (spareHello.length < 8) spareHello.push(frame.buffer as ArrayBuffer)
    },
    onReady: (conn) => {
      ready.add(conn)
      // The newest joins the end of the list (a Set iterates in insertion order), the oldest
      // listed one may drop off: kept up to date here instead of rebuilt on every connect.
      if (presenceList !== undefined) {
        presenceList.push(conn)
        if (presenceList.length > PRESENCE_MAX) entryJson.delete(presenceList.shift()!)
      }
      const socket = connectionSocket.get(conn)
      if (socket !== undefined) leavePending(socket)
      debug(`client connected: ${quoted(conn.client!.id)} (${conn.client!.mode}, ${conn.role}) from ${conn.peer.remoteAddress}`)
      for (const l of connectionListeners) l.ready?.(conn)
      announcePresence()
    },
    onClose: (conn) => {
      ready.delete(conn)
      presenceList = undefined
      for (const l of connectionListeners) l.closed?.(conn)
      debug(`client disconnected: ${quoted(conn.client!.id)} from ${conn.peer.remoteAddress}`)
      if (!stopping) announcePresence()
    },
    onSocketClosed: (conn) => void connections.delete(conn),
    log,
    onRefused: (conn, r) => {
      // Client-chosen strings are quoted (JSON), so they cannot forge log lines.
      const who = `${JSON.stringify(r.clientId.slice(0, 64))} (${JSON.stringify(r.clientMode.slice(0, 32))}, ${r.role})`
      debug(`refused connect from ${conn.peer.remoteAddress}: ${who}: ${r.code}`)
      if (r.lockedOutMs !== undefined) {
        log(`auth: ${conn.peer.remoteAddress} locked out for ${Math.ceil(r.lockedOutMs / 1000)} s after ${settings.auth.rateLimit.maxAttempts} failed attempts (last: ${r.code})`)
      }
    },
    checkDeviceToken: pairing.checkToken,
    admitNode: (conn, device, authMethod) =>
      Effect.gen(function* () {
        const info = {
          deviceId: device.deviceId,
          publicKey: device.publicKey,
          role: "node",
          clientId: conn.client!.id,
          platform: conn.client!.platform,
          remoteAddress: conn.peer.remoteAddress,
          ...(conn.client!.displayName === undefined ? {} : { displayName: conn.client!.displayName })
        }
        let paired = yield* pairing.paired(device.deviceId, device.publicKey)
        if (paired === undefined && isOwnLocalNode(conn, device.publicKey)) {
          paired = yield* pairing.pairDirectly(info).pipe(Effect.orElseSucceed(() => undefined))
          if (paired !== undefined) logInfo(`paired this machine's own node host ${device.deviceId.slice(0, 12)} automatically (gateway.nodes.pairing.autoApproveLocal)`)
        }
        if (paired === undefined) {
          const rejectedRequest = yield* pairing.takeRejection(device.deviceId)
          if (rejectedRequest !== undefined) {
            return yield* Effect.fail(
              connectRefusal({
                code: ErrorCode.notPaired,
                message: "pairing rejected by an operator",
                // Told once, so the node stops asking; starting it again opens a new request.
                details: {
                  code: "PAIRING_REJECTED",
                  requestId: rejectedRequest,
                  reason: "rejected",
                  deviceId: device.deviceId,
                  requestedRole: "node",
                  remediationHint: "An operator rejected this device's pairing request; if that was a mistake, start `openclaw node run` again to ask anew",
                  pauseReconnect: true,
                  retryable: false
                }
              })
            )
          }
          const outcome = yield* pairing.request(info).pipe(
            Effect.mapError((e) => connectRefusal({ code: ErrorCode.unavailable, message: e.message, retryable: true }))
          )
          const view = pendingView(outcome.request)
          if (outcome.created) {
            logInfo(`pairing requested by node ${view.displayName === undefined ? view.nodeId.slice(0, 12) : quoted(view.displayName)} from ${view.remoteAddress}: approve with \`openclaw nodes approve ${view.requestId}\``)
            broadcast("node.pair.requested", view, canPair)
            broadcast("device.pair.requested", view, canPair)
          }
          return yield* Effect.fail(
            connectRefusal({
              code: ErrorCode.notPaired,
              message: "pairing required",
              // reason / recommendedNextStep / pauseReconnect: OpenClaw's own node hosts read these
              // and keep retrying (rather than pausing) while the request waits for an operator.
              details: {
                code: "PAIRING_REQUIRED",
                requestId: view.requestId,
                reason: "not-paired",
                deviceId: device.deviceId,
                requestedRole: "node",
                expiresAt: view.expiresAt,
                remediationHint: `Approve this device on the Gateway host: openclaw nodes approve ${view.requestId}`,
                recommendedNextStep: "wait_then_retry",
                pauseReconnect: false,
                retryable: true
              }
            })
          )
        }
        if (authMethod === "device-token") return {}
        const deviceToken = yield* pairing.issueToken(device.deviceId).pipe(Effect.orElseSucceed(() => undefined))
        return deviceToken === undefined ? {} : { deviceToken }
      })
  }

  // Defined outside the upgrade handler: a closure created there would keep the upgrade request
  // (headers and all) alive through its scope for as long as the connection lives.
  const startConnection = (ws: WebSocket, peer: PeerInfo, socket: net.Socket) => {
    const conn = new Connection(ws, peer, host)
    connections.add(conn)
    connectionSocket.set(conn, socket)
  }

  httpServer.on("upgrade", (req, socket, head) => {
    if (stopping) return rejectUpgrade(socket, 503, "gateway is shutting down")
    const origin = checkOrigin(req, settings.controlUi.allowedOrigins, settings.tls.enabled)
    if (!origin.ok) {
      debug(`refused browser upgrade from ${req.socket.remoteAddress}: ${origin.reason}`)
      return rejectUpgrade(socket, 403, origin.reason)
    }
    const proxy = proxyHeaders(req)
    const peer: PeerInfo = {
      remoteAddress: normaliseAddress(req.socket.remoteAddress),
      isLocal: isLocalRequest(req),
      fromBrowser: req.headers.origin !== undefined,
      ...(proxy === undefined ? {} : { proxy })
    }
    wss.handleUpgrade(req, socket, head, (ws) => startConnection(ws, peer, req.socket as net.Socket))
  })

  /**
   * With TLS the same port speaks https/wss: each accepted socket is wrapped in a server-side
   * TLSSocket (TLS 1.3 only) that must finish its handshake within the handshake timeout.
   */
  const secure = (raw: net.Socket, timer: NodeJS.Timeout): net.Socket => {
    if (serverTls === undefined) return raw
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: serverTls.context, requestCert: false })
    socket.once("secure", () => clearTimeout(timer))
    socket.once("close", () => clearTimeout(timer))
    socket.on("error", (err) => {
      debug(`TLS connection from ${normaliseAddress(raw.remoteAddress)} failed: ${err.message}`)
      socket.destroy()
    })
    return socket
  }

  const listeners = yield* binder.bind(settings.port, (raw) => {
    if (stopping) return raw.destroy()
    const address = normaliseAddress(raw.remoteAddress)
    if (!pending.admit(address)) {
      raw.destroy()
      // One line per burst, not one per dropped socket.
      if (droppedSince++ === 0) {
        log(`too many unauthenticated connections (from ${address} or in total); dropping new ones until some authenticate or close`)
        setTimeout(() => (droppedSince = 0), 10_000).unref()
      }
      return
    }
    const accept = (timer?: NodeJS.Timeout) => {
      const socket = timer === undefined ? raw : secure(raw, timer)
      pendingAddress.delete(raw)
      pendingAddress.set(socket, address)
      sockets.add(socket)
      socket.on("close", () => {
        sockets.delete(socket)
        leavePending(socket)
      })
      httpServer.emit("connection", socket)
    }
    if (serverTls === undefined) return accept()
    // TLS: look at the first bytes. A plaintext http:// or ws:// client gets an HTTP answer that
    // says to use TLS, not a reset; a TLS handshake goes on (the bytes are put back for TLSSocket).
    const timer = setTimeout(() => raw.destroy(), settings.handshakeTimeoutMs)
    sockets.add(raw)
    pendingAddress.set(raw, address)
    raw.once("close", () => {
      clearTimeout(timer)
      sockets.delete(raw)
      leavePending(raw)
    })
    raw.on("error", () => raw.destroy())
    raw.once("data", (chunk: Buffer) => {
      const refusal = plaintextOnTlsPortResponse(chunk)
      if (refusal !== undefined) {
        // The handshake timer stays: it cuts a client that never closes its end.
        debug(`plaintext connection from ${address} to the TLS port: answered "use https:// or wss://"`)
        raw.resume()
        return void raw.end(refusal)
      }
      raw.pause()
      raw.unshift(chunk)
      accept(timer)
    })
  })

  const tick = setInterval(() => broadcast("tick", { ts: Date.now() }), settings.tickIntervalMs)
  tick.unref()

  // Runs before Binder's finalizers (added earlier), so clients hear "shutdown" before listeners close.
  yield* Effect.addFinalizer(() =>
    Effect.async<void>((resume) => {
      stopping = true
      clearInterval(tick)
      clearTimeout(presenceTimer)
      broadcast("shutdown", { reason: "gateway stopping" })
      for (const c of connections) c.close(CloseCode.serviceRestart, "service restart")
      const deadline = Date.now() + CLOSE_GRACE_MS
      const finish = () => {
        for (const c of connections) c.ws.terminate()
        for (const s of sockets) s.destroy()
        wss.close()
        resume(Effect.void)
      }
      const poll = () => (connections.size === 0 || Date.now() >= deadline ? finish() : setTimeout(poll, 10))
      poll()
    })
  )

  const url = `${settings.tls.enabled ? "wss" : "ws"}://${formatHost(listeners.primaryHost === "0.0.0.0" || listeners.primaryHost === "::" ? "127.0.0.1" : listeners.primaryHost)}:${listeners.port}`

  /** What status and embedders see of the certificate (not its secure context). */
  const tlsInfo = serverTls === undefined ? undefined : { fingerprint: serverTls.fingerprint, certPath: serverTls.certPath, source: serverTls.source }

  const status = (): Record<string, unknown> => ({
    ok: true,
    version: VERSION,
    protocol: PROTOCOL_VERSION,
    pid: process.pid,
    startedAt,
    uptimeMs: Date.now() - startedAt,
    url,
    bind: { mode: settings.bind, effectiveMode: listeners.effectiveMode, addresses: listeners.addresses.map((a) => a.host), port: listeners.port },
    auth: { mode: settings.auth.mode, secretSet: settings.auth.mode !== "none", secretSource: settings.auth.secretSource, allowTailscale: settings.auth.allowTailscale },
    tls: tlsInfo === undefined ? { enabled: false } : { enabled: true, ...tlsInfo },
    controlUi: { enabled: settings.controlUi.enabled, basePath: settings.controlUi.basePath || "/" },
    clients: [...ready].filter((c) => c.role === "operator").length,
    nodes: [...ready].filter((c) => c.role === "node").length,
    tailscaleUsers: [...new Set([...ready].flatMap((c) => (c.identity === undefined ? [] : [c.identity.login])))],
    ...Object.fromEntries([...statusSections].map(([name, get]) => [name, get()]))
  })

  const service: GatewayService = {
    settings,
    listeners,
    url,
    tls: tlsInfo,
    startedAt,
    presence,
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
          methods.set(name, def)
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
  /** Needs GatewayConfig, Auth and Binder; uses Pairing when provided (else the default store). */
  static layer = Layer.scoped(Gateway, make)
}
