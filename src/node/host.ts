/**
 * The node host (`openclaw node run`): keeps one node connection to a Gateway alive, signs each
 * connect with the device identity, waits for pairing approval, answers node.invoke.request
 * events, and reconnects with backoff (1 s doubling to 30 s) when the link drops.
 */
import * as os from "node:os"
import { ClientFailure, RpcClient, type RpcClientOptions } from "../client/rpc-client.js"
import type { ConnectParams, EventFrame } from "../protocol/frames.js"
import { deviceAuthPayload, signatureToken } from "../protocol/device.js"
import { VERSION } from "../version.js"
import { type BrowserController, BrowserError, proxyEnvelope } from "./browser.js"
import { type DeviceIdentity, loadDeviceToken, signPayload, storeDeviceToken } from "./identity.js"
import { abortableSleep as sleep } from "../platform/sleep.js"

export const NODE_CLIENT_ID = "node-host"

export interface NodeHostOptions {
  readonly url: string
  readonly token?: string
  readonly password?: string
  /** Pin for a wss:// URL (checked before anything is sent; a mismatch stops the host). */
  readonly tlsFingerprint?: string
  readonly stateDir: string
  readonly identity: DeviceIdentity
  readonly displayName: string
  readonly browser?: BrowserController
  readonly log: (line: string) => void
  readonly wsOptions?: RpcClientOptions["wsOptions"]
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number }
  /** How often to retry while waiting for pairing approval. */
  readonly pairingRetryMs?: number
  /**
   * Opens the way to the Gateway for one connection attempt (gateway.remote.transport "ssh": an
   * SSH tunnel). The host dials the link's URL instead of `url` (which still names the Gateway in
   * messages and keys the device token), closes the link when the connection ends, and reopens it
   * on the next attempt. Throws NodeHostFatal for failures retrying cannot fix, NodeLinkError else.
   */
  readonly openLink?: (signal: AbortSignal) => Promise<NodeLink>
}

/** One opened way to the Gateway (an SSH tunnel's local end). */
export interface NodeLink {
  readonly url: string
  /** For messages: "through the SSH tunnel to user@host (ssh pid 123)". */
  readonly via: string
  /** Resolves with a one-line reason when the link goes down by itself. */
  readonly down: Promise<string>
  readonly close: () => Promise<void>
}

/** A link that could not be opened this time (retried with backoff). */
export class NodeLinkError extends Error {}

/** A failure retrying cannot fix: the host stops with this message. */
export class NodeHostFatal extends Error {}

interface InvokeRequest {
  readonly id: string
  readonly nodeId: string
  readonly command: string
  readonly paramsJSON?: string | null
  readonly timeoutMs?: number
}


export const runNodeHost = async (opts: NodeHostOptions, signal: AbortSignal): Promise<void> => {
  const { identity, log } = opts
  const initial = opts.backoff?.initialMs ?? 1_000
  const max = opts.backoff?.maxMs ?? 30_000
  const commands = opts.browser === undefined ? [] : ["browser.proxy"]
  const caps = opts.browser === undefined ? [] : ["browser"]
  let backoff = initial
  let lastRequestId: string | undefined
  let current: RpcClient | undefined
  let everConnected = false

  const handleInvoke = async (client: RpcClient, req: InvokeRequest) => {
    let reply: { ok: true; payload: unknown } | { ok: false; error: { code: string; message: string } }
    try {
      if (req.command !== "browser.proxy" || opts.browser === undefined) {
        throw new BrowserError("INVALID_REQUEST", `this node does not offer ${req.command}`)
      }
      const params = JSON.parse(req.paramsJSON ?? "{}") as { method?: string; path?: string; query?: Record<string, unknown>; body?: Record<string, unknown> }
      const payload = await opts.browser.handle({ method: params.method ?? "GET", path: params.path ?? "/", query: params.query, body: params.body }, req.timeoutMs ?? 30_000)
      // OpenClaw's browser.proxy envelope ({result, files?}), so an OpenClaw Gateway can use this node too.
      reply = { ok: true, payload: proxyEnvelope(payload) }
    } catch (e) {
      reply = { ok: false, error: e instanceof BrowserError ? { code: e.code, message: e.message } : { code: "UNAVAILABLE", message: String((e as Error)?.message ?? e) } }
    }
    await client.request("node.invoke.result", { id: req.id, nodeId: req.nodeId, ...reply }, { timeoutMs: 30_000 }).catch(() => {
      // The link dropped; the Gateway has already failed this invoke for its caller.
    })
  }

  const sign = (nonce: string, params: ConnectParams) => {
    const signedAt = Date.now()
    const payload = deviceAuthPayload({
      deviceId: identity.deviceId,
      clientId: params.client.id,
      clientMode: params.client.mode,
      role: params.role ?? "node",
      scopes: params.scopes ?? [],
      signedAt,
      token: signatureToken(params.auth),
      nonce,
      platform: params.client.platform,
      deviceFamily: params.client.deviceFamily
    })
    return { id: identity.deviceId, publicKey: identity.publicKey, signature: signPayload(identity, payload), signedAt, nonce }
  }

  signal.addEventListener("abort", () => void current?.close())

  while (!signal.aborted) {
    const deviceToken = loadDeviceToken(opts.stateDir, opts.url, identity.deviceId)
    if (deviceToken === undefined && opts.token === undefined && opts.password === undefined) {
      throw new NodeHostFatal("no credential for this Gateway: pass --token or --password (after pairing, the device token the Gateway issues is used instead)")
    }
    let closed!: Promise<{ code: number; reason: string }>
    let link: NodeLink | undefined
    try {
      try {
        let onClosed!: (c: { code: number; reason: string }) => void
        closed = new Promise((resolve) => (onClosed = resolve))
        link = await opts.openLink?.(signal)
        let linkDown: string | undefined
        const client: RpcClient = await RpcClient.connect({
          url: link?.url ?? opts.url,
          ...(opts.token === undefined ? {} : { token: opts.token }),
          ...(opts.password === undefined ? {} : { password: opts.password }),
          ...(deviceToken === undefined ? {} : { deviceToken }),
          ...(opts.tlsFingerprint === undefined ? {} : { tlsFingerprint: opts.tlsFingerprint }),
          role: "node",
          scopes: [],
          caps,
          commands,
          client: { id: NODE_CLIENT_ID, version: VERSION, platform: process.platform, mode: "node", displayName: opts.displayName, deviceFamily: os.type() },
          device: sign,
          timeoutMs: 10_000,
          onEvent: (frame: EventFrame) => {
            if (frame.event === "node.invoke.request" && current !== undefined) void handleInvoke(current, frame.payload as InvokeRequest)
          },
          onClose: (code, reason) => onClosed({ code, reason }),
          ...(opts.wsOptions === undefined ? {} : { wsOptions: opts.wsOptions })
        })
        current = client
        void link?.down.then((why) => {
          // ssh exited (killed, network gone): the WebSocket through it is dead, do not wait for the watchdog.
          linkDown = why
          client.ws.terminate()
        })
        if (client.hello.auth.deviceToken !== undefined) storeDeviceToken(opts.stateDir, opts.url, identity.deviceId, client.hello.auth.deviceToken)
        log(
          `${everConnected ? "reconnected" : "connected"} to ${opts.url}${link ? ` ${link.via}` : ""} as node ${identity.deviceId.slice(0, 12)} (${opts.displayName}); offering ${commands.join(", ") || "no commands (no browser found)"}`
        )
        everConnected = true
        lastRequestId = undefined
        backoff = initial
        // Two tick intervals of silence mean a dead link (a laptop that slept, a dropped tunnel).
        const silenceMs = 2 * (client.hello.policy?.tickIntervalMs ?? 30_000)
        let lastHeard = Date.now()
        client.ws.on("message", () => (lastHeard = Date.now()))
        const watchdog = setInterval(() => {
          if (Date.now() - lastHeard > silenceMs) client.ws.terminate()
        }, Math.min(5_000, silenceMs / 4))
        const { code, reason } = await closed
        clearInterval(watchdog)
        current = undefined
        if (signal.aborted) break
        // The socket often closes a moment before ssh's exit is reported: give the reason a moment to arrive.
        if (link !== undefined && linkDown === undefined) {
          linkDown = await Promise.race([link.down, new Promise<undefined>((r) => setTimeout(() => r(undefined), 500).unref())])
        }
        if (reason.startsWith("replaced by a newer connection")) {
          throw new NodeHostFatal("another node host with the same identity connected to this Gateway and replaced this one; run one node host per state directory (OPENCLAW_STATE_DIR)")
        }
        if (reason.startsWith("node removed")) log("an operator removed this node on the Gateway; asking to be paired again")
        log(`connection to the Gateway lost (${linkDown !== undefined ? `SSH tunnel down: ${linkDown}` : `${code}${reason ? `: ${reason}` : ""}`}); reconnecting in ${Math.round(backoff / 1000)} s`)
      } catch (e) {
        if (signal.aborted) break
        if (e instanceof NodeLinkError) {
          log(`cannot open the SSH tunnel to the Gateway: ${e.message}; retrying in ${Math.round(backoff / 1000)} s`)
          await sleep(backoff, signal)
          backoff = Math.min(backoff * 2, max)
          continue
        }
        if (!(e instanceof ClientFailure)) throw e
        if (e.kind === "pairing") {
          const details = e.error?.details as { requestId?: string; code?: string } | undefined
          const requestId = details?.requestId
          if (details?.code === "PAIRING_REJECTED") {
            throw new NodeHostFatal(
              `an operator rejected this node's pairing request on the Gateway at ${opts.url}; if that was a mistake, start \`openclaw node run\` again to ask anew, and have the operator approve the new request (\`openclaw nodes pending\`)`
            )
          }
          if (requestId !== lastRequestId) {
            log(`waiting for approval: requestId ${requestId} (on the Gateway host: openclaw nodes approve ${requestId})`)
            lastRequestId = requestId
          }
          await sleep(opts.pairingRetryMs ?? 3_000, signal)
          continue
        }
        if (e.code === "AUTH_DEVICE_TOKEN_MISMATCH" || (e.kind === "auth" && deviceToken !== undefined)) {
          // The Gateway no longer knows this device token (removed or re-paired): forget it.
          storeDeviceToken(opts.stateDir, opts.url, identity.deviceId, undefined)
          if (opts.token === undefined && opts.password === undefined) {
            throw new NodeHostFatal(`${e.message}; pass --token or --password to pair again`)
          }
          log("the Gateway rejected the stored device token; connecting with the shared secret to pair again")
          continue
        }
        if (e.code === "AUTH_RATE_LIMITED") {
          const wait = e.error?.retryAfterMs ?? backoff
          log(`${e.message}; retrying in ${Math.ceil(wait / 1000)} s`)
          await sleep(wait, signal)
          continue
        }
        if (e.kind === "auth") throw new NodeHostFatal(e.message)
        if (e.kind === "tls") throw new NodeHostFatal(e.message)
        if (e.code?.startsWith("DEVICE_AUTH_") || e.code === "PROTOCOL_MISMATCH") throw new NodeHostFatal(e.message)
        log(`cannot reach the Gateway at ${opts.url}${link ? ` ${link.via}` : ""}: ${e.message}; retrying in ${Math.round(backoff / 1000)} s`)
      }
    } finally {
      // One tunnel per connection attempt: closed when the link dropped (or the attempt failed).
      await link?.close()
    }
    await sleep(backoff, signal)
    backoff = Math.min(backoff * 2, max)
  }
  await current?.close()
}
