/**
 * Who can get in: the paired devices (node hosts and browsers alike) with when and where each was
 * last seen, revoking and removing them (their live connections are closed at once), renaming,
 * and the audit log's tail. Registers device.pair.list / device.pair.remove / device.token.revoke /
 * device.rename / audit.tail, and writes pairing changes and device activity to the audit log.
 */
import { Context, Effect, Layer, Stream } from "effect"
import { CloseCode, ErrorCode } from "../../protocol/frames.js"
import { type DeviceRefParams, DeviceGroup } from "../../protocol/contracts/devices.js"
import { AuditLog, type AuditEntry, type AuditEvent } from "../audit-log/AuditLog.js"
import { type ConnectionInfo, Gateway, hasScope, type MethodContext, RpcError } from "../gateway/api.js"
import { canPair, pendingView } from "./admission.js"
import { pairDecisions } from "./decisions.js"
import { Pairing, type PairedDevice, type PairingError, type PairingEvent } from "./Pairing.js"

const invalid = (code: string, message: string) =>
  new RpcError({ shape: { code: ErrorCode.invalidRequest, message, details: { code } } })
const fromPairing = (e: PairingError) =>
  e.code === "UNKNOWN_DEVICE"
    ? invalid("UNKNOWN_DEVICE", e.message)
    : RpcError.unavailable(e.message, { code: "PAIRING_STORE_FAILED" })

/** The shortest device id prefix taken (a shorter one never picks a device). */
const MIN_DEVICE_PREFIX = 4
const MAX_TAIL = 1_000

/** One paired device as `devices list --json` and the Devices screen show it. */
export interface DeviceView {
  readonly deviceId: string
  readonly nodeId?: string
  readonly displayName?: string
  readonly role: string
  readonly clientId: string
  readonly platform?: string
  readonly pairedAt: number
  readonly lastSeenAt?: number
  readonly lastAddress?: string
  readonly connected: boolean
  /** How it signs in now: its device token, or nothing (revoked: it must pair or sign in again). */
  readonly signsInWith: "device-token" | "shared-secret" | "revoked"
  readonly revoked: boolean
  readonly revokedAt?: number
  readonly tokenIssuedAt?: number
}

const PAIRING_AUDIT: Record<PairingEvent["type"], AuditEvent> = {
  requested: "pair.requested",
  approved: "pair.approved",
  rejected: "pair.rejected",
  revoked: "device.revoked",
  removed: "device.removed"
}

type DeviceRef = typeof DeviceRefParams.Type

export const make = Effect.gen(function* () {
  const gateway = yield* Gateway
  const pairing = yield* Pairing
  const audit = yield* AuditLog

  /** Revocations record who did it and how many connections were cut (the store's own event lacks both). */
  let revoking: { by: string; closed: number } | undefined
  const unsubscribe = pairing.subscribe((e) => {
    audit.record(PAIRING_AUDIT[e.type], {
      deviceId: e.deviceId,
      role: e.role,
      clientId: e.clientId,
      ...(e.displayName === undefined ? {} : { displayName: e.displayName }),
      ...(e.remoteAddress === undefined ? {} : { address: e.remoteAddress }),
      ...(e.requestId === undefined ? {} : { requestId: e.requestId }),
      ...(revoking === undefined ? {} : revoking)
    })
  })
  yield* Effect.addFinalizer(() => Effect.sync(unsubscribe))

  // Admins watching the Activity screen get each entry as it is written.
  // Counted, so that with no admin connected an entry costs no frame (a crowd of sign-ins stays cheap).
  const isAdmin = (c: ConnectionInfo) => c.role === "operator" && hasScope(c.scopes, "operator.admin")
  let admins = 0
  const unsubscribeFeed = audit.subscribe((entry) => {
    if (admins > 0) gateway.broadcast("audit", entry, isAdmin)
  })
  yield* Effect.addFinalizer(() => Effect.sync(unsubscribeFeed))

  const seen = (client: ConnectionInfo) =>
    client.device === undefined ? Effect.void : pairing.touch(client.device.deviceId, client.remoteAddress)
  const events = yield* gateway.connectionEvents
  yield* Effect.forkScoped(
    Stream.runForEach(events, ({ _tag, connection }) => {
      if (isAdmin(connection)) admins += _tag === "Joined" ? 1 : -1
      return seen(connection)
    })
  )

  const liveOf = (deviceId: string) => gateway.connections().filter((c) => c.device?.deviceId === deviceId)

  const view = (d: PairedDevice): DeviceView => {
    const connected = liveOf(d.deviceId).length > 0
    return {
      deviceId: d.deviceId,
      ...(d.role === "node" ? { nodeId: d.deviceId } : {}),
      ...(d.displayName === undefined ? {} : { displayName: d.displayName }),
      role: d.role,
      clientId: d.clientId,
      ...(d.platform === undefined ? {} : { platform: d.platform }),
      pairedAt: d.pairedAt,
      ...(connected ? { lastSeenAt: Date.now() } : d.lastSeenAt === undefined ? {} : { lastSeenAt: d.lastSeenAt }),
      ...((d.lastAddress ?? d.remoteAddress) ? { lastAddress: (d.lastAddress ?? d.remoteAddress)! } : {}),
      connected,
      signsInWith:
        d.revokedAt !== undefined ? "revoked" : d.tokenDigest !== undefined ? "device-token" : "shared-secret",
      revoked: d.revokedAt !== undefined,
      ...(d.revokedAt === undefined ? {} : { revokedAt: d.revokedAt }),
      ...(d.tokenIssuedAt === undefined ? {} : { tokenIssuedAt: d.tokenIssuedAt })
    }
  }

  const list = Effect.map(pairing.list, ({ pending, paired }) => ({
    pending: pending.map(pendingView),
    paired: paired.map(view)
  }))

  /** A paired device by id, unique id prefix (4+ characters) or display name (any case). */
  const resolve = (params: DeviceRef, method: string) =>
    Effect.gen(function* () {
      const ref = params.deviceId ?? params.nodeId
      if (ref === undefined)
        return yield* invalid(
          "INVALID_PARAMS",
          `${method} needs params.deviceId (an id, a unique id prefix, or a display name)`
        )
      const { paired } = yield* pairing.list
      const exact = paired.find((d) => d.deviceId === ref)
      if (exact !== undefined) return exact
      const lower = ref.toLowerCase()
      const matches = paired.filter(
        (d) =>
          (lower.trim() !== "" && d.displayName?.toLowerCase() === lower) ||
          (ref.length >= MIN_DEVICE_PREFIX && d.deviceId.startsWith(lower))
      )
      if (matches.length === 1) return matches[0]!
      if (matches.length > 1) {
        return yield* invalid(
          "AMBIGUOUS_DEVICE",
          `${ref} matches ${matches.length} devices (${matches.map((d) => `${d.displayName ?? "?"} ${d.deviceId.slice(0, 12)}`).join(", ")}); use more of the device id`
        )
      }
      return yield* invalid(
        "UNKNOWN_DEVICE",
        ref.length < MIN_DEVICE_PREFIX
          ? `no paired device is named ${JSON.stringify(ref)}, and an id prefix needs at least ${MIN_DEVICE_PREFIX} characters; \`openclaw devices list\` shows the paired devices and their ids`
          : `no paired device ${ref}; \`openclaw devices list\` shows the paired devices and their ids`
      )
    })

  /** Closes the device's live connections; the caller's own one after its answer has gone out. */
  const cutOff = (deviceId: string, callerConnId: string, reason: string): number => {
    const live = liveOf(deviceId)
    for (const c of live) {
      if (c.connId === callerConnId)
        setTimeout(() => gateway.closeConnection(c.connId, CloseCode.policy, reason), 50).unref()
      else gateway.closeConnection(c.connId, CloseCode.policy, reason)
    }
    return live.length
  }

  const byOf = (caller: { readonly clientId: string; readonly connId: string }) =>
    `${caller.clientId} (${caller.connId.slice(0, 8)})`

  /** Revoke or remove: the store change (its audit entry names the caller and the connections cut), then the cut. */
  const cut = (
    params: DeviceRef,
    ctx: MethodContext,
    method: string,
    change: (d: PairedDevice) => Effect.Effect<PairedDevice, PairingError>,
    reason: (d: PairedDevice) => string
  ) =>
    Effect.gen(function* () {
      const target = yield* resolve(params, method)
      const closed = liveOf(target.deviceId).length
      revoking = { by: byOf(ctx.caller), closed }
      const device = yield* Effect.ensuring(
        Effect.mapError(change(target), fromPairing),
        Effect.sync(() => (revoking = undefined))
      )
      cutOff(target.deviceId, ctx.caller.connId, reason(target))
      return { device, closed }
    })

  const { approve, reject } = pairDecisions(gateway, pairing)
  yield* gateway.registerGroup(DeviceGroup, {
    "device.pair.list": () => list,
    "device.pair.approve": approve,
    "device.pair.reject": reject,
    "device.token.revoke": (params, ctx) =>
      Effect.map(
        cut(
          params,
          ctx,
          "device.token.revoke",
          (d) => pairing.revoke(d.deviceId),
          () => "device revoked"
        ),
        ({ device, closed }) => ({
          deviceId: device.deviceId,
          role: device.role,
          revoked: true,
          revokedAt: device.revokedAt,
          closed
        })
      ),
    "device.pair.remove": (params, ctx) =>
      Effect.map(
        cut(
          params,
          ctx,
          "device.pair.remove",
          (d) => pairing.remove(d.deviceId),
          (d) => (d.role === "node" ? "node removed: pairing revoked" : "device removed")
        ),
        ({ device, closed }) => {
          gateway.broadcast(
            "device.pair.resolved",
            { deviceId: device.deviceId, decision: "removed", ts: Date.now() },
            canPair
          )
          return {
            deviceId: device.deviceId,
            ...(device.role === "node" ? { nodeId: device.deviceId } : {}),
            removed: true,
            closed
          }
        }
      ),
    "device.rename": (params) =>
      Effect.gen(function* () {
        const device = yield* resolve(params, "device.rename")
        const renamed = yield* Effect.mapError(pairing.rename(device.deviceId, params.displayName.trim()), fromPairing)
        return view(renamed)
      }),
    "audit.tail": (params) =>
      Effect.sync(() => {
        const limit = Math.max(1, Math.min(MAX_TAIL, Math.floor(params.limit)))
        const since = params.since
        const entries: ReadonlyArray<AuditEntry> = audit.tail({ limit, ...(since === undefined ? {} : { since }) })
        return { file: audit.file, entries }
      })
  })
  return { list }
})

export class DeviceAccess extends Context.Tag("openclaw/DeviceAccess")<
  DeviceAccess,
  { readonly list: Effect.Effect<{ pending: ReadonlyArray<unknown>; paired: ReadonlyArray<DeviceView> }> }
>() {
  /** Needs Gateway, Pairing and AuditLog. */
  static layer = Layer.scoped(DeviceAccess, make)
}
