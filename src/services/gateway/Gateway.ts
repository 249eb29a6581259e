/**
 * Gateway: the HTTP + WebSocket server on one port. It owns the connections, the method
 * registry and the tick; listeners come from Binder. Release order (reverse of acquisition):
 * the `shutdown` event, every socket closed with 1012, then the listeners closed.
 */
import * as http from "node:http"
import * as path from "node:path"
import type * as net from "node:net"
import * as tls from "node:tls"
import { Context, Effect, Layer, Option, Runtime, type Scope } from "effect"
import { type WebSocket, WebSocketServer } from "ws"
import { Connection, type ConnectionHost, connectRefusal, hasScope, type PeerInfo } from "./connection.js"
import type { VerifiedDevice } from "../auth/device-auth.js"
import { findUiDir, loadUiAssets, serveControlUi, type UiAsset } from "./control-ui.js"
import { checkOrigin, isLocalRequest, normaliseAddress, proxyHeaders, rejectUpgrade, sendJson } from "./http.js"
import { coreMethods, healthPayload } from "./methods.js"
import { AcceptedSocket } from "./admission.js"
import { raiseFrameLimit, watchFrameLimit } from "./frame-limit.js"
import { hostRefusal, OwnHosts } from "./own-hosts.js"
import { PendingPool } from "./pending.js"
import { Presence, PRESENCE_MAX } from "./presence.js"
import { quoted } from "../../protocol/client-text.js"
import type { PresenceEntry } from "../../protocol/methods.js"
import { loadServerTls, plaintextOnTlsPortResponse, type ServerTls } from "./tls.js"
import type { MethodDef } from "./rpc.js"
import { readIdentityPublicKey } from "../node-host/identity.js"
import { CloseCode, ErrorCode, eventFrame, Limits, PROTOCOL_VERSION } from "../../protocol/frames.js"
import { VERSION } from "../../version.js"
import { connectionFields } from "../audit-log/fields.js"
import { AuditLog, makeMemoryAudit } from "../audit-log/AuditLog.js"
import { Auth } from "../auth/Auth.js"
import { Binder, type Listeners } from "../binder/Binder.js"
import { GatewayConfig, type GatewaySettings } from "../config/GatewayConfig.js"
import { type DeviceInfo, isEmptySurface, type PairedDevice, Pairing, pairingFor, type PendingRequest, surfaceBeyond } from "../pairing/Pairing.js"
import { TailscaleCli } from "../tailscale/TailscaleCli.js"

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
  caps: r.caps ?? [],
  commands: r.commands ?? [],
  // A paired node asking for more: only this part is new (the rest is approved already).
  ...(r.upgrade === undefined ? {} : { isRepair: true, upgrade: r.upgrade }),
  requestedAt: r.requestedAt,
  expiresAt: r.expiresAt
})

/** Operators who may answer pairing requests. */
export const canPair = (c: Connection) => c.role === "operator" && hasScope(c.scopes, "operator.pairing")

/** What the pairing store keeps about a device that signed this connection's connect. */
const deviceInfo = (conn: Connection, device: VerifiedDevice, role: "node" | "operator") => ({
  deviceId: device.deviceId,
  publicKey: device.publicKey,
  role,
  clientId: conn.client!.id,
  platform: conn.client!.platform,
  remoteAddress: conn.peer.remoteAddress,
  ...(conn.client!.displayName === undefined ? {} : { displayName: conn.client!.displayName })
})

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
  // Embedders without an AuditLog get one in memory.
  const audit = Option.getOrElse(yield* Effect.serviceOption(AuditLog), () => makeMemoryAudit(1_000))
  const runtime = yield* Effect.runtime<never>()
  // Before anything listens: a certificate problem stops the start, naming the setting.
  const serverTls = settings.tls.enabled ? yield* loadServerTls(settings) : undefined
  const startedAt = Date.now()
  const methods = new Map<string, MethodDef>()
  const statusSections = new Map<string, () => unknown>()
  const connections = new Set<Connection>()
  const ready = new Set<Connection>()
  /** Every accepted socket until it closes; `acceptedBy` finds one from its (TLS) socket. */
  const accepted = new Set<AcceptedSocket>()
  const acceptedBy = new WeakMap<net.Socket, AcceptedSocket>()
  let evictedSince = 0
  /** Unauthenticated sockets: a full pool evicts the least advanced, oldest one (pending.ts). */
  const pending = new PendingPool<AcceptedSocket>(
    (a) => a.progress(),
    (a) => {
      a.destroy()
      // One line per burst, not one per evicted socket.
      if (evictedSince++ === 0) {
        log(`too many unauthenticated connections (from ${a.address} or in total): closing the oldest idle ones so that clients that sign in promptly still get in`)
        setTimeout(() => (evictedSince = 0), 10_000).unref()
      }
    }
  )
  const connectionSocket = new WeakMap<Connection, AcceptedSocket>()
  let seq = 0
  let stopping = false

  const log = (message: string) => Runtime.runSync(runtime)(Effect.logWarning(message))
  const logInfo = (message: string) => Runtime.runSync(runtime)(Effect.logInfo(message))
  const debug = (message: string) => {
    if (settings.verbose) Runtime.runSync(runtime)(Effect.logInfo(message))
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
  const presence = new Presence(ready, (frameFor) => broadcastFrame(frameFor))
  const connectionListeners = new Set<ConnectionListener>()

  /** Pairs a node at once only when it is this machine's own node host (see NodesSettings). */
  const isOwnLocalNode = (conn: Connection, publicKey: string) =>
    settings.nodes.pairing.autoApproveLocal &&
    conn.peer.isLocal &&
    !conn.peer.fromBrowser &&
    path.isAbsolute(settings.stateDir) &&
    readIdentityPublicKey(settings.stateDir) === publicKey

  // hello-ok's features list changes only when a method is registered or removed.
  let features: string | undefined
  const featuresJson = () => (features ??= JSON.stringify({ methods: [...methods.keys()], events: GATEWAY_EVENTS }))
  const policyJson = JSON.stringify({ maxPayload: Limits.maxPayload, maxBufferedBytes: Limits.maxBufferedBytes, tickIntervalMs: settings.tickIntervalMs })

  const basePath = settings.controlUi.basePath
  const uiAssets = settings.controlUi.enabled ? loadUiAssets(findUiDir()) : new Map<string, UiAsset>()
  if (settings.controlUi.enabled && uiAssets.size === 0) log("the Control UI's files (dist/ui) were not found; run `npm run build` to build them")
  // The DNS-rebinding guard (own-hosts.ts); its bind addresses are known once bound.
  const tailscale = yield* Effect.serviceOption(TailscaleCli)
  const tailscaleInUse = settings.tailscale.mode !== "off" || settings.auth.allowTailscale || settings.bind === "tailnet"
  const discoverTailscaleNames =
    tailscale._tag === "Some" && tailscaleInUse
      ? () =>
          Runtime.runPromise(runtime)(
            tailscale.value.status.pipe(
              Effect.map((st): ReadonlyArray<string> => [st.dnsName, ...st.tailscaleIps].filter((n) => n !== "")),
              Effect.orElseSucceed((): ReadonlyArray<string> => [])
            )
          )
      : undefined
  let ownHosts: OwnHosts | undefined
  /** Calls `then` with whether `host` is one of this Gateway's names: at once, or after asking Tailscale. */
  const checkHost = (host: string | undefined, then: (ok: boolean) => void) => {
    if (ownHosts === undefined || ownHosts.knows(host)) return then(true)
    if (!ownHosts.mayDiscover(host)) return then(false)
    void ownHosts.discoverAndCheck(host).then(then)
  }

  const handleHttp = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const acc = acceptedBy.get(req.socket)
    if (acc !== undefined) {
      acc.requestStarted()
      res.once("close", () => acc.requestDone())
    }
    const path = (req.url ?? "/").split("?")[0]!
    if (path === "/health" || path === "/healthz" || path === "/readyz") {
      return sendJson(res, 200, { ok: true, status: "live" })
    }
    checkHost(req.headers.host, (own) => {
      if (!own) {
        debug(`refused HTTP request from ${normaliseAddress(req.socket.remoteAddress)}: ${hostRefusal(req.headers.host)}`)
        return sendJson(res, 403, { ok: false, error: hostRefusal(req.headers.host) }, { "X-Content-Type-Options": "nosniff" })
      }
      if (settings.controlUi.enabled && serveControlUi(req, res, path, basePath, uiAssets)) return
      sendJson(res, 404, { ok: false, error: "not found" }, { "X-Content-Type-Options": "nosniff" })
    })
  }
  // This server never listens (sockets come from Binder), so its own header and request timeouts
  // never run: AcceptedSocket (admission.ts) keeps the deadlines instead.
  const httpServer = http.createServer({ keepAliveTimeout: 5_000 }, handleHttp)
  httpServer.on("clientError", (_err, socket) => socket.destroy())

  // The pre-auth frame limit, enforced by the parser; authentication raises it (frame-limit.ts).
  const wss = new WebSocketServer({ noServer: true, maxPayload: Limits.preAuthMaxPayload, perMessageDeflate: false, clientTracking: false })
  let frameLimitWarned = false

  /**
   * A paired node that declares commands or capabilities beyond its approval is let in with its
   * approved ones; the rest becomes a pending request for an operator (or is added at once for
   * this machine's own node host). Nodes routes only the approved commands.
   */
  const askForMoreSurface = (conn: Connection, paired: PairedDevice, info: DeviceInfo) =>
    Effect.gen(function* () {
      const extra = surfaceBeyond(paired, info)
      if (isEmptySurface(extra)) return
      if (isOwnLocalNode(conn, info.publicKey)) return yield* Effect.ignore(pairing.pairDirectly(info))
      // Rejected a moment ago: not asked again on this connect (as for a new device).
      if ((yield* pairing.takeRejection(info.deviceId)) !== undefined) return
      const outcome = yield* Effect.option(pairing.request(info))
      if (outcome._tag === "None" || !outcome.value.created) return
      const view = pendingView(outcome.value.request)
      // Client-chosen names: quoted, and a long list cut short (one event, one line).
      const all = [...extra.commands.map((c) => `command ${JSON.stringify(c.slice(0, 64))}`), ...extra.caps.map((c) => `cap ${JSON.stringify(c.slice(0, 64))}`)]
      const what = all.length > 8 ? `${all.slice(0, 8).join(", ")} and ${all.length - 8} more` : all.join(", ")
      logInfo(`paired node ${info.deviceId.slice(0, 12)} now declares ${what} beyond its approval; not routed until approved: \`openclaw nodes approve ${view.requestId}\``)
      broadcast("node.pair.requested", view, canPair)
      broadcast("device.pair.requested", view, canPair)
    })

  const host: ConnectionHost = {
    auth,
    runtime,
    handshakeTimeoutMs: settings.handshakeTimeoutMs,
    method: (name) => methods.get(name),
    // One frame written around the cached presence list (see Presence.frame): the JSON of
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
      return presence.frame(head, `],${JSON.stringify(snapshot).slice(1)}}}`, conn, helloMemory)
    },
    helloSent: (frame) => {
      if (spareHello.length < 8) spareHello.push(frame.buffer as ArrayBuffer)
    },
    onReady: (conn) => {
      ready.add(conn)
      const acc = connectionSocket.get(conn)
      if (acc !== undefined) pending.release(acc)
      if (!raiseFrameLimit(conn.ws) && !frameLimitWarned) {
        frameLimitWarned = true
        log("this version of the ws package keeps its frame limit elsewhere: authenticated clients stay limited to 64 KiB frames (see src/services/gateway/frame-limit.ts)")
      }
      debug(`client connected: ${quoted(conn.client!.id)} (${conn.client!.mode}, ${conn.role}) from ${conn.peer.remoteAddress}`)
      audit.record("auth.ok", { ...connectionFields(conn), authMethod: conn.authMethod })
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
      // Pairing outcomes have their own entries (pair.requested); everything else is a failed sign-in.
      if (r.code !== "PAIRING_REQUIRED" && r.code !== "PAIRING_REJECTED") {
        audit.record("auth.fail", { ...connectionFields(conn, r.clientId, r.clientMode, r.role), code: r.code })
      }
      if (r.lockedOutMs !== undefined) audit.record("auth.lockout", { ...connectionFields(conn, r.clientId, r.clientMode, r.role), code: r.code, lockedOutMs: r.lockedOutMs })
      if (r.lockedOutMs !== undefined) {
        log(`auth: ${conn.peer.remoteAddress} locked out for ${Math.ceil(r.lockedOutMs / 1000)} s after ${settings.auth.rateLimit.maxAttempts} failed attempts (last: ${r.code})`)
      }
    },
    checkDeviceToken: pairing.checkToken,
    admitOperatorDevice: (conn, device, authMethod) =>
      Effect.gen(function* () {
        // Only a shared-secret sign-in turns into a device token; the browser then forgets the secret.
        if (authMethod !== "token" && authMethod !== "password") return {}
        const paired = yield* pairing.pairDirectly(deviceInfo(conn, device, "operator")).pipe(Effect.orElseSucceed(() => undefined))
        if (paired === undefined) return {}
        const deviceToken = yield* pairing.issueToken(device.deviceId).pipe(Effect.orElseSucceed(() => undefined))
        return deviceToken === undefined ? {} : { deviceToken }
      }),
    admitNode: (conn, device, authMethod) =>
      Effect.gen(function* () {
        // Pairing approves the commands and capabilities the node declared (see Pairing).
        const info = { ...deviceInfo(conn, device, "node"), caps: conn.caps, commands: conn.commands }
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
        yield* askForMoreSurface(conn, paired, info)
        if (authMethod === "device-token") return {}
        const deviceToken = yield* pairing.issueToken(device.deviceId).pipe(Effect.orElseSucceed(() => undefined))
        return deviceToken === undefined ? {} : { deviceToken }
      })
  }

  // Defined outside the upgrade handler: a closure created there would keep the upgrade request
  // (headers and all) alive through its scope for as long as the connection lives.
  const startConnection = (ws: WebSocket, peer: PeerInfo, acc: AcceptedSocket | undefined) => {
    const conn = new Connection(ws, peer, host)
    connections.add(conn)
    watchFrameLimit(ws, () => conn.state === "ready", acc?.socket)
    if (acc === undefined) return
    acc.upgraded = true
    connectionSocket.set(conn, acc)
    // After Connection's own listener: from its first frame (the connect) on, it is never evicted.
    ws.once("message", () => void (acc.connectSent = true))
  }

  httpServer.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    acceptedBy.get(socket)?.upgradeStarted()
    if (stopping) return rejectUpgrade(socket, 503, "gateway is shutting down")
    // Only browsers can be made to send an attacker's name (DNS rebinding), and a browser always
    // sends Origin with a WebSocket upgrade; other clients choose their Host freely anyway.
    if (req.headers.origin === undefined) return upgrade(req, socket, head)
    checkHost(req.headers.host, (own) => {
      if (own) return upgrade(req, socket, head)
      debug(`refused browser upgrade from ${normaliseAddress(req.socket.remoteAddress)}: ${hostRefusal(req.headers.host)}`)
      rejectUpgrade(socket, 403, hostRefusal(req.headers.host))
    })
  })

  const upgrade = (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    if (stopping || socket.destroyed) return rejectUpgrade(socket, 503, "gateway is shutting down")
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
    wss.handleUpgrade(req, socket, head, (ws) => startConnection(ws, peer, acceptedBy.get(socket)))
  }

  /** With TLS the same port speaks https/wss: each accepted socket is wrapped in a server-side TLSSocket (TLS 1.3 only). */
  const secure = (raw: net.Socket, acc: AcceptedSocket): net.Socket => {
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: serverTls!.context, requestCert: false })
    acc.tlsWrapped(socket)
    acceptedBy.set(socket, acc)
    socket.on("error", (err) => {
      debug(`TLS connection from ${acc.address} failed: ${err.message}`)
      socket.destroy()
    })
    return socket
  }

  const listeners = yield* binder.bind(settings.port, (raw) => {
    if (stopping) return raw.destroy()
    const address = normaliseAddress(raw.remoteAddress)
    // Deadlines from accept: first byte, TLS handshake, request head (admission.ts).
    const acc = new AcceptedSocket(raw, address, settings.handshakeTimeoutMs, serverTls !== undefined, (a) =>
      debug(`closed a connection from ${a.address}: no ${a.expired} within the handshake timeout`)
    )
    accepted.add(acc)
    acceptedBy.set(raw, acc)
    raw.once("close", () => {
      accepted.delete(acc)
      pending.release(acc)
    })
    pending.admit(acc, address)
    raw.on("error", () => raw.destroy())
    // Nothing more is spent on a socket until it sends something: a flood of silent sockets costs
    // a socket and two timers each, and the HTTP parser is attached with the first bytes.
    if (serverTls === undefined) {
      return void raw.once("data", (chunk: Buffer) => {
        raw.pause()
        httpServer.emit("connection", raw)
        // The server reads the socket itself from now on; this first chunk is handed over as its first data.
        raw.emit("data", chunk)
        raw.resume()
      })
    }
    // TLS: look at the first bytes. A plaintext http:// or ws:// client gets an HTTP answer that
    // says to use TLS, not a reset; a TLS handshake goes on (the bytes are put back for TLSSocket).
    raw.once("data", (chunk: Buffer) => {
      const refusal = plaintextOnTlsPortResponse(chunk)
      if (refusal !== undefined) {
        // The head deadline stays: it cuts a client that never closes its end.
        debug(`plaintext connection from ${address} to the TLS port: answered "use https:// or wss://"`)
        raw.resume()
        return void raw.end(refusal)
      }
      raw.pause()
      raw.unshift(chunk)
      httpServer.emit("connection", secure(raw, acc))
    })
  })
  ownHosts = new OwnHosts({
    bindHosts: listeners.addresses.map((a) => a.host),
    allowedOrigins: settings.controlUi.allowedOrigins,
    ...(discoverTailscaleNames === undefined ? {} : { discover: discoverTailscaleNames })
  })

  audit.record("gateway.start", { pid: process.pid, address: listeners.addresses.map((a) => a.host).join(","), mode: settings.auth.mode })
  const tick = setInterval(() => broadcast("tick", { ts: Date.now() }), settings.tickIntervalMs)
  tick.unref()

  // Runs before Binder's finalizers (added earlier), so clients hear "shutdown" before listeners close.
  yield* Effect.addFinalizer(() =>
    Effect.async<void>((resume) => {
      stopping = true
      audit.record("gateway.stop", { pid: process.pid })
      clearInterval(tick)
      presence.stop()
      pending.close()
      broadcast("shutdown", { reason: "gateway stopping" })
      for (const c of connections) c.close(CloseCode.serviceRestart, "service restart")
      const deadline = Date.now() + CLOSE_GRACE_MS
      const finish = () => {
        for (const c of connections) c.ws.terminate()
        for (const a of accepted) a.destroy()
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
