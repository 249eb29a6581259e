/**
 * The HTTP side of the port: health, the Control UI, and WebSocket upgrades (Host and Origin
 * checks), which become Connections through `startConnection`.
 */
import type { Readiness } from "./readiness.js"
import * as http from "node:http"
import type * as net from "node:net"
import { type WebSocket, WebSocketServer } from "ws"
import { Limits } from "../../protocol/frames.js"
import type { GatewaySettings } from "../config/GatewayConfig.js"
import type { AcceptedSocket } from "./admission.js"
import type { PeerInfo } from "./connection.js"
import { findUiDir, loadUiAssets, serveControlUi, type UiAsset, withAuthKind } from "./control-ui.js"
import { checkOrigin, rejectUpgrade, sendJson } from "./http.js"
import { isLocalRequest, normaliseAddress, proxyHeaders } from "../../platform/http-peer.js"
import { hostRefusal, OwnHosts } from "./own-hosts.js"

export interface FrontOptions {
  readonly settings: GatewaySettings
  /** The accepted socket behind a request's socket (accept.ts). */
  readonly acceptedBy: (socket: net.Socket) => AcceptedSocket | undefined
  readonly startConnection: (ws: WebSocket, peer: PeerInfo, acc: AcceptedSocket | undefined) => void
  /** The peer of this (raw TCP) socket may be Tailscale Serve: its forwarded headers count (serve-peer.ts). */
  readonly fromServe: (socket: net.Socket) => Promise<boolean>
  readonly stopping: () => boolean
  readonly readiness: () => Readiness
  /** More names to look up for an unknown Host (HostDiscovery). */
  readonly discover: (() => Promise<ReadonlyArray<string>>) | undefined
  readonly log: (message: string) => void
  readonly debug: (message: string) => void
}

export const makeFront = ({
  settings,
  acceptedBy,
  startConnection,
  fromServe,
  stopping,
  readiness,
  discover,
  log,
  debug
}: FrontOptions) => {
  const basePath = settings.controlUi.basePath
  const uiAssets = settings.controlUi.enabled
    ? withAuthKind(loadUiAssets(findUiDir()), settings.auth.mode)
    : new Map<string, UiAsset>()
  if (settings.controlUi.enabled && uiAssets.size === 0)
    log("the Control UI's files (dist/ui) were not found; run `npm run build` to build them")
  // The DNS-rebinding guard (own-hosts.ts); its bind addresses are known once bound.
  let ownHosts: OwnHosts | undefined
  /** Calls `then` with whether `host` is one of this Gateway's names: at once, or after asking Tailscale. */
  const checkHost = (host: string | undefined, then: (ok: boolean) => void) => {
    if (ownHosts === undefined || ownHosts.knows(host)) return then(true)
    if (!ownHosts.mayDiscover(host)) return then(false)
    void ownHosts.discoverAndCheck(host).then(then)
  }

  const handleHttp = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const acc = acceptedBy(req.socket)
    if (acc !== undefined) {
      acc.requestStarted()
      res.once("close", () => acc.requestDone())
    }
    const path = (req.url ?? "/").split("?")[0]!
    if (path === "/health" || path === "/healthz") return sendJson(res, 200, { ok: true, status: "live" })
    // Ready or degraded (still serving, with what is missing): 200; stopping: 503.
    if (path === "/readyz") {
      const r = readiness()
      return sendJson(res, r.status === "stopping" ? 503 : 200, { ok: r.status !== "stopping", ...r })
    }
    checkHost(req.headers.host, (own) => {
      if (!own) {
        debug(
          `refused HTTP request from ${normaliseAddress(req.socket.remoteAddress)}: ${hostRefusal(req.headers.host)}`
        )
        return sendJson(
          res,
          403,
          { ok: false, error: hostRefusal(req.headers.host) },
          { "X-Content-Type-Options": "nosniff" }
        )
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
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: Limits.preAuthMaxPayload,
    perMessageDeflate: false,
    clientTracking: false
  })

  httpServer.on("upgrade", (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    acceptedBy(socket)?.upgradeStarted()
    if (stopping()) return rejectUpgrade(socket, 503, "gateway is shutting down")
    // Only browsers can be made to send an attacker's name (DNS rebinding), and a browser always
    // sends Origin with a WebSocket upgrade; other clients choose their Host freely anyway.
    if (req.headers.origin === undefined) return upgrade(req, socket, head)
    checkHost(req.headers.host, (own) => {
      if (own) return upgrade(req, socket, head)
      debug(
        `refused browser upgrade from ${normaliseAddress(req.socket.remoteAddress)}: ${hostRefusal(req.headers.host)}`
      )
      rejectUpgrade(socket, 403, hostRefusal(req.headers.host))
    })
  })

  const upgrade = (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    if (stopping() || socket.destroyed) return rejectUpgrade(socket, 503, "gateway is shutting down")
    const origin = checkOrigin(req, settings.controlUi.allowedOrigins, settings.tls.enabled)
    if (!origin.ok) {
      debug(`refused browser upgrade from ${req.socket.remoteAddress}: ${origin.reason}`)
      return rejectUpgrade(socket, 403, origin.reason)
    }
    const peer: PeerInfo = {
      remoteAddress: normaliseAddress(req.socket.remoteAddress),
      isLocal: isLocalRequest(req),
      fromBrowser: req.headers.origin !== undefined
    }
    const forwarded = proxyHeaders(req, () => false)
    if (forwarded === undefined) return accept(req, socket, head, peer)
    // Whether forwarded headers count is known from a loopback peer's owner, read off the event
    // loop (serve-peer.ts): the TCP socket under TLS, whose ports are what /proc/net/tcp lists.
    void fromServe(acceptedBy(socket)?.raw ?? socket)
      .catch(() => false)
      .then((served) => {
        if (socket.destroyed) return
        if (stopping()) return rejectUpgrade(socket, 503, "gateway is shutting down")
        accept(req, socket, head, { ...peer, proxy: { ...forwarded, fromServe: served } })
      })
  }

  const accept = (req: http.IncomingMessage, socket: net.Socket, head: Buffer, peer: PeerInfo) =>
    wss.handleUpgrade(req, socket, head, (ws) => startConnection(ws, peer, acceptedBy(socket)))

  /** Once bound: the names this Gateway answers to start with its bind addresses. */
  const bound = (bindHosts: ReadonlyArray<string>) => {
    ownHosts = new OwnHosts({
      bindHosts,
      allowedOrigins: settings.controlUi.allowedOrigins,
      ...(discover === undefined ? {} : { discover })
    })
  }

  return { httpServer, wss, bound }
}
