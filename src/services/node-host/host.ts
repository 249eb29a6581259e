/**
 * The node host (`openclaw node run`): keeps one node connection to a Gateway alive, signs each
 * connect with the device identity, waits for pairing approval, answers node.invoke.request
 * events, and reconnects with the shared reconnect policy (1 s doubling to 30 s) when the link
 * drops. It is an Effect that runs until interrupted (or fails with NodeHostFatal); each attempt's
 * link, connection and silence watchdog live in that attempt's Scope, and time goes through Clock.
 */
import * as os from "node:os"
import { Data, Duration, Effect, Option, Schedule, type Scope } from "effect"
import { ClientFailure, type RpcClientOptions } from "../../client/rpc-client.js"
import type { ConnectParams, EventFrame } from "../../protocol/frames.js"
import { deviceAuthPayload, signatureToken } from "../../protocol/device.js"
import { reconnectPolicy } from "../../platform/reconnect.js"
import { VERSION } from "../../version.js"
import type { BrowserController } from "./browser.js"
import { type NodeConnection, type NodeConnector, rpcConnector } from "./connection.js"
import { type DeviceIdentity, loadDeviceToken, signPayload, storeDeviceToken } from "./identity.js"
import { handleInvoke, type InvokeRequest } from "./invoke.js"

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
  /** Reconnect backoff; a connection that stayed up `stableMs` starts it over. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number; readonly stableMs?: number }
  /** How often to retry while waiting for pairing approval. */
  readonly pairingRetryMs?: number
  /**
   * Opens the way to the Gateway for one connection attempt (gateway.remote.transport "ssh": an
   * SSH tunnel), closed when the attempt's scope closes. The host dials the link's URL instead of
   * `url` (which still names the Gateway in messages and keys the device token). Fails with
   * NodeHostFatal for failures retrying cannot fix, NodeLinkError else.
   */
  readonly openLink?: Effect.Effect<NodeLink, NodeLinkError | NodeHostFatal, Scope.Scope>
  /** A root-owned listener on a loopback URL gets the secret (an explicit --url: a container's published port). */
  readonly trustRootListener?: boolean
  /** The connection boundary (default: RpcClient over ws). */
  readonly connect?: NodeConnector
}

/** One opened way to the Gateway (an SSH tunnel's local end). */
export interface NodeLink {
  readonly url: string
  /** For messages: "through the SSH tunnel to user@host (ssh pid 123)". */
  readonly via: string
  /** Completes with a one-line reason when the link goes down by itself. */
  readonly down: Effect.Effect<string>
}

/** A link that could not be opened this time (retried with backoff). */
export class NodeLinkError extends Data.TaggedError("NodeLinkError")<{ readonly message: string }> {}

/** A failure retrying cannot fix: the host stops with this message. */
export class NodeHostFatal extends Data.TaggedError("NodeHostFatal")<{ readonly message: string }> {}

/** Why one attempt ended: the reconnect policy logs `<message>; <next> in N s`, waits, tries again. */
class NodeDown extends Data.TaggedError("NodeDown")<{
  readonly message: string
  readonly next: "reconnecting" | "retrying"
}> {}

/** Two tick intervals of silence mean a dead link (a laptop that slept, a dropped tunnel). */
const watchdog = (connection: NodeConnection) =>
  Effect.gen(function* () {
    const silenceMs = 2 * (connection.hello.policy?.tickIntervalMs ?? 30_000)
    const clock = yield* Effect.clock
    let lastHeard = clock.unsafeCurrentTimeMillis()
    connection.onFrame(() => (lastHeard = clock.unsafeCurrentTimeMillis()))
    const check = Effect.sync(() => {
      if (clock.unsafeCurrentTimeMillis() - lastHeard > silenceMs) connection.terminate()
    })
    yield* Effect.forkScoped(Effect.repeat(check, Schedule.spaced(Duration.millis(Math.min(5_000, silenceMs / 4)))))
  })

/** Browser calls run at once on this machine; more are answered busy. */
export const MAX_INVOKES_IN_FLIGHT = 8

const refuseBusy = (connection: NodeConnection, req: InvokeRequest) =>
  connection
    .request(
      "node.invoke.result",
      {
        id: req?.id,
        nodeId: req?.nodeId,
        ok: false,
        error: {
          code: "UNAVAILABLE",
          message: `the node host is busy: ${MAX_INVOKES_IN_FLIGHT} browser calls are running; retry when one has finished`
        }
      },
      { timeoutMs: 30_000 }
    )
    .catch(() => {})

export const runNodeHost = (opts: NodeHostOptions): Effect.Effect<never, NodeHostFatal> => {
  const { identity, log } = opts
  let inFlight = 0
  const connect = opts.connect ?? rpcConnector
  const commands = opts.browser === undefined ? [] : ["browser.proxy"]
  const caps = opts.browser === undefined ? [] : ["browser"]
  let lastRequestId: string | undefined
  let everConnected = false

  const sign = (nonce: string, params: ConnectParams) => {
    // Wall time on purpose: the Gateway checks it against its own clock.
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
    return {
      id: identity.deviceId,
      publicKey: identity.publicKey,
      signature: signPayload(identity, payload),
      signedAt,
      nonce
    }
  }

  /**
   * A refused connect: pairing waits, a forgotten device token and a rate limit with a given wait
   * are retried here ("again"), outside the backoff; the rest ends the attempt.
   */
  const refused = (
    e: ClientFailure,
    deviceToken: string | undefined,
    via: string
  ): Effect.Effect<"again", NodeDown | NodeHostFatal> =>
    Effect.gen(function* () {
      if (e.kind === "pairing") {
        const details = e.error?.details as { requestId?: string; code?: string } | undefined
        const requestId = details?.requestId
        if (details?.code === "PAIRING_REJECTED") {
          return yield* new NodeHostFatal({
            message: `an operator rejected this node's pairing request on the Gateway at ${opts.url}; if that was a mistake, start \`openclaw node run\` again to ask anew, and have the operator approve the new request (\`openclaw nodes pending\`)`
          })
        }
        if (requestId !== lastRequestId) {
          log(`waiting for approval: requestId ${requestId} (on the Gateway host: openclaw nodes approve ${requestId})`)
          lastRequestId = requestId
        }
        yield* Effect.sleep(Duration.millis(opts.pairingRetryMs ?? 3_000))
        return "again" as const
      }
      if (e.code === "AUTH_DEVICE_TOKEN_MISMATCH" || (e.kind === "auth" && deviceToken !== undefined)) {
        // The Gateway no longer knows this device token (removed or re-paired): forget it.
        storeDeviceToken(opts.stateDir, opts.url, identity.deviceId, undefined)
        if (opts.token === undefined && opts.password === undefined) {
          return yield* new NodeHostFatal({ message: `${e.message}; pass --token or --password to pair again` })
        }
        log("the Gateway rejected the stored device token; connecting with the shared secret to pair again")
        return "again" as const
      }
      if (e.code === "AUTH_RATE_LIMITED") {
        const wait = e.error?.retryAfterMs
        // Without the Gateway's wait, the backoff decides.
        if (wait === undefined) return yield* new NodeDown({ message: e.message, next: "retrying" })
        log(`${e.message}; retrying in ${Math.ceil(wait / 1000)} s`)
        yield* Effect.sleep(Duration.millis(wait))
        return "again" as const
      }
      if (
        e.kind === "auth" ||
        e.kind === "tls" ||
        e.code?.startsWith("DEVICE_AUTH_") ||
        e.code === "PROTOCOL_MISMATCH"
      ) {
        return yield* new NodeHostFatal({ message: e.message })
      }
      return yield* new NodeDown({
        message: `cannot reach the Gateway at ${opts.url}${via}: ${e.message}`,
        next: "retrying"
      })
    })

  /** One connection attempt, from opening the link to the connection's end (or a refused connect). */
  const attempt: Effect.Effect<"again", NodeDown | NodeHostFatal, Scope.Scope> = Effect.gen(function* () {
    const deviceToken = loadDeviceToken(opts.stateDir, opts.url, identity.deviceId)
    if (deviceToken === undefined && opts.token === undefined && opts.password === undefined) {
      return yield* new NodeHostFatal({
        message:
          "no credential for this Gateway: pass --token or --password (after pairing, the device token the Gateway issues is used instead)"
      })
    }
    const link =
      opts.openLink === undefined
        ? undefined
        : yield* Effect.catchTag(
            opts.openLink,
            "NodeLinkError",
            (e) =>
              new NodeDown({ message: `cannot open the SSH tunnel to the Gateway: ${e.message}`, next: "retrying" })
          )
    const via = link ? ` ${link.via}` : ""
    let current: NodeConnection | undefined
    const connected = yield* Effect.either(
      connect({
        url: link?.url ?? opts.url,
        ...(opts.token === undefined ? {} : { token: opts.token }),
        ...(opts.password === undefined ? {} : { password: opts.password }),
        ...(deviceToken === undefined ? {} : { deviceToken }),
        ...(opts.tlsFingerprint === undefined ? {} : { tlsFingerprint: opts.tlsFingerprint }),
        ...(opts.trustRootListener === true ? { trustRootListener: true } : {}),
        role: "node",
        scopes: [],
        caps,
        commands,
        client: {
          id: NODE_CLIENT_ID,
          version: VERSION,
          platform: process.platform,
          mode: "node",
          displayName: opts.displayName,
          deviceFamily: os.type()
        },
        device: sign,
        timeoutMs: 10_000,
        onEvent: (frame: EventFrame) => {
          if (frame.event !== "node.invoke.request" || current === undefined) return
          const req = frame.payload as InvokeRequest
          if (typeof req !== "object" || req === null) return
          // A Gateway cannot pile up browser work on this machine: past the bound, calls are refused at once.
          if (inFlight >= MAX_INVOKES_IN_FLIGHT) return void refuseBusy(current, req)
          inFlight++
          void handleInvoke(opts, current, req)
            .catch(() => {})
            .finally(() => inFlight--)
        },
        ...(opts.wsOptions === undefined ? {} : { wsOptions: opts.wsOptions })
      })
    )
    if (connected._tag === "Left") return yield* refused(connected.left, deviceToken, via)
    const connection = (current = connected.right)
    let linkDown: string | undefined
    if (link !== undefined) {
      // ssh exited (killed, network gone): the WebSocket through it is dead, do not wait for the watchdog.
      yield* Effect.forkScoped(
        Effect.flatMap(link.down, (why) =>
          Effect.sync(() => {
            linkDown = why
            connection.terminate()
          })
        )
      )
    }
    if (connection.hello.auth.deviceToken !== undefined)
      storeDeviceToken(opts.stateDir, opts.url, identity.deviceId, connection.hello.auth.deviceToken)
    log(
      `${everConnected ? "reconnected" : "connected"} to ${opts.url}${via} as node ${identity.deviceId.slice(0, 12)} (${opts.displayName}); offering ${commands.join(", ") || "no commands (no browser found)"}`
    )
    everConnected = true
    lastRequestId = undefined
    yield* watchdog(connection)
    const { code, reason } = yield* connection.closed
    if (link !== undefined && linkDown === undefined) {
      // The socket often closes a moment before ssh's exit is reported: give the reason a moment to arrive.
      linkDown = Option.getOrUndefined(yield* Effect.option(Effect.timeout(link.down, Duration.millis(500))))
    }
    if (reason.startsWith("replaced by a newer connection")) {
      return yield* new NodeHostFatal({
        message:
          "another node host with the same identity connected to this Gateway and replaced this one; run one node host per state directory (OPENCLAW_STATE_DIR)"
      })
    }
    if (reason.startsWith("node removed"))
      log("an operator removed this node on the Gateway; asking to be paired again")
    return yield* new NodeDown({
      message: `connection to the Gateway lost (${linkDown !== undefined ? `SSH tunnel down: ${linkDown}` : `${code}${reason ? `: ${reason}` : ""}`})`,
      next: "reconnecting"
    })
  })

  const policy = reconnectPolicy<NodeDown | NodeHostFatal>({
    initial: Duration.millis(opts.backoff?.initialMs ?? 1_000),
    max: Duration.millis(opts.backoff?.maxMs ?? 30_000),
    stableAfter: Duration.millis(opts.backoff?.stableMs ?? 30_000),
    retryable: (e) => e._tag === "NodeDown",
    onRetry: (e, delay) =>
      e._tag === "NodeDown"
        ? Effect.sync(() => log(`${e.message}; ${e.next} in ${Math.round(Duration.toMillis(delay) / 1000)} s`))
        : Effect.void
  })
  // Each attempt gets its own scope: its link and connection are closed before the wait.
  return Effect.forever(Effect.scoped(attempt)).pipe(
    Effect.retry(policy),
    // The policy retries every NodeDown: only NodeHostFatal gets here.
    Effect.catchTag("NodeDown", (e) => Effect.die(e))
  )
}
