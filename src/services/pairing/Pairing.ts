/**
 * Pairing: which node devices may connect. An unknown device gets a pending request (kept for
 * 5 minutes); an operator with operator.pairing approves or rejects it; approval makes the device
 * paired (it survives restarts) and lets it receive a device token; removal revokes both.
 *
 * The store is a boundary (store.ts): a JSON file pair in <stateDir>/devices/ for the live
 * Gateway, memory for tests. Device tokens are kept only as SHA-256 digests.
 *
 * Pairing approves a node together with the commands and capabilities it declared (its surface);
 * a paired node that later declares more gets a pending request for the difference (`upgrade`).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto"
import * as path from "node:path"
import { Clock, Context, Data, Effect, Layer } from "effect"
import { GatewayConfig } from "../config/GatewayConfig.js"
import { hasScope } from "../gateway/api.js"
import {
  type DeviceInfo,
  fileStore,
  memoryStore,
  type PairedDevice,
  type PairingStore,
  type PendingRequest,
  type Surface
} from "./store.js"

export const PAIRING_REQUEST_TTL_MS = 5 * 60_000
/** Open requests at most; anyone holding the shared secret can ask, so the list is bounded. */
export const MAX_PENDING_REQUESTS = 64

export type { DeviceInfo, PairedDevice, PairingState, PairingStore, PendingRequest, Surface } from "./store.js"

/** What changed in the store, for listeners (the audit log). */
export interface PairingEvent {
  readonly type: "requested" | "approved" | "rejected" | "revoked" | "removed"
  readonly deviceId: string
  readonly role: string
  readonly clientId: string
  readonly displayName?: string
  readonly remoteAddress?: string
  readonly requestId?: string
}

export class PairingError extends Data.TaggedError("PairingError")<{
  readonly code: "APPROVAL_NOT_FOUND" | "UNKNOWN_DEVICE" | "STORE_FAILED" | "TOO_MANY_PENDING" | "WRONG_ROLE"
  readonly message: string
}> {}

/**
 * A device token checked against the device it was issued to and the role it was issued for:
 * valid (with an operator's scope ceiling: what was granted when it was minted), or not, with a
 * `problem` to tell the client when the token itself matched but may not sign in this way.
 */
export type TokenCheck =
  { readonly ok: true; readonly scopes: ReadonlyArray<string> } | { readonly ok: false; readonly problem?: string }

/** "a node", "an operator". */
const aRole = (role: string) => `${/^[aeiou]/.test(role) ? "an" : "a"} ${role}`

/** The sentence that tells a device with an unusable pairing what to do. */
const pairAgain = (role: string) =>
  role === "node"
    ? "pair it again: start `openclaw node run` with the Gateway's token and approve it (`openclaw nodes pending`)"
    : "sign in once with the Gateway's token (or password) to pair it again"

export interface PairingService {
  readonly store: string
  /**
   * A pending request for this device: the existing one if still open, else a new one. For a
   * device paired with this key it asks for the surface beyond the approved one (`upgrade`).
   */
  readonly request: (
    device: DeviceInfo
  ) => Effect.Effect<{ readonly request: PendingRequest; readonly created: boolean }, PairingError>
  readonly paired: (deviceId: string, publicKey: string) => Effect.Effect<PairedDevice | undefined>
  /** Marks a device paired with the surface it declares, without a request (local auto-approval). */
  readonly pairDirectly: (device: DeviceInfo) => Effect.Effect<PairedDevice, PairingError>
  /**
   * Pairs the device, or for an upgrade request adds its surface to the approved one (token kept).
   * Scopes the request asks for are kept only as far as `approver` (the approving operator's) holds them.
   */
  readonly approve: (
    requestId: string,
    approver: ReadonlyArray<string>
  ) => Effect.Effect<{ readonly request: PendingRequest; readonly device: PairedDevice }, PairingError>
  readonly reject: (requestId: string) => Effect.Effect<PendingRequest, PairingError>
  /**
   * The request an operator rejected for this device within the last 5 minutes, handed out once:
   * the device's next connect is told so (and stops asking); the one after that may ask anew.
   */
  readonly takeRejection: (deviceId: string) => Effect.Effect<string | undefined>
  readonly remove: (deviceId: string) => Effect.Effect<PairedDevice, PairingError>
  readonly list: Effect.Effect<{
    readonly pending: ReadonlyArray<PendingRequest>
    readonly paired: ReadonlyArray<PairedDevice>
  }>
  /** A fresh device token for a paired device (the previous one stops working). */
  readonly issueToken: (deviceId: string) => Effect.Effect<string, PairingError>
  /** The device's token, valid only for the role it was issued for (see TokenCheck). */
  readonly checkToken: (deviceId: string, token: string, role: string) => Effect.Effect<TokenCheck>
  /** Drops the device's token and marks it revoked; it stays listed until removed. */
  readonly revoke: (deviceId: string) => Effect.Effect<PairedDevice, PairingError>
  readonly rename: (deviceId: string, displayName: string) => Effect.Effect<PairedDevice, PairingError>
  /** Notes when and from where a paired device was last seen. */
  readonly touch: (deviceId: string, address: string | undefined) => Effect.Effect<void>
  /** Hears requests, approvals, rejections, revocations and removals. */
  readonly subscribe: (listener: (event: PairingEvent) => void) => () => void
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest("hex")

/** What `declared` has beyond `approved` (empty lists: nothing new). */
export const surfaceBeyond = (approved: Surface, declared: Partial<Surface>): Surface => ({
  caps: [...new Set(declared.caps ?? [])].filter((c) => !approved.caps.includes(c)),
  commands: [...new Set(declared.commands ?? [])].filter((c) => !approved.commands.includes(c))
})
export const isEmptySurface = (s: Surface) => s.caps.length === 0 && s.commands.length === 0
const union = (a: ReadonlyArray<string>, b: ReadonlyArray<string> | undefined) => [...new Set([...a, ...(b ?? [])])]

export const makePairing = (store: PairingStore): PairingService => {
  const state = store.load()
  const { pending, paired } = state
  const persist = Effect.try({
    try: () => store.save(state),
    catch: (e) =>
      new PairingError({
        code: "STORE_FAILED",
        message: `cannot save pairing state in ${store.describe}: ${String(e)}`
      })
  })
  const prune = (now: number) => {
    let changed = false
    for (const [id, r] of pending) {
      if (r.expiresAt <= now) {
        pending.delete(id)
        changed = true
      }
    }
    return changed
  }
  // Rejections are remembered in memory only: after a restart a rejected device simply asks again.
  const rejected = new Map<string, { readonly requestId: string; readonly until: number }>()
  const now = Effect.tap(Clock.currentTimeMillis, (t) => (prune(t) ? persist.pipe(Effect.ignore) : Effect.void))
  const notFound = (requestId: string) =>
    new PairingError({
      code: "APPROVAL_NOT_FOUND",
      message: `no pending pairing request ${requestId.slice(0, 80)} (it may have expired after 5 minutes, or been answered already); list open ones with \`openclaw nodes pending\``
    })
  const info = (d: DeviceInfo): DeviceInfo => ({
    deviceId: d.deviceId,
    publicKey: d.publicKey,
    role: d.role,
    clientId: d.clientId,
    ...(d.displayName === undefined ? {} : { displayName: d.displayName }),
    ...(d.platform === undefined ? {} : { platform: d.platform }),
    ...(d.remoteAddress === undefined ? {} : { remoteAddress: d.remoteAddress }),
    caps: [...new Set(d.caps ?? [])],
    commands: [...new Set(d.commands ?? [])],
    ...(d.scopes === undefined ? {} : { scopes: [...new Set(d.scopes)] })
  })
  /** The live pairing of this device and key (a revoked one must pair again). */
  const pairedFor = (d: { readonly deviceId: string; readonly publicKey: string }) => {
    const p = paired.get(d.deviceId)
    return p !== undefined && p.publicKey === d.publicKey && p.revokedAt === undefined ? p : undefined
  }
  const withUpgrade = (r: Omit<PendingRequest, "upgrade">): PendingRequest => {
    const p = pairedFor(r)
    return p === undefined ? r : { ...r, upgrade: surfaceBeyond(p, r) }
  }

  const listeners = new Set<(event: PairingEvent) => void>()
  const emit = (type: PairingEvent["type"], d: DeviceInfo, requestId?: string) => {
    const event: PairingEvent = {
      type,
      deviceId: d.deviceId,
      role: d.role,
      clientId: d.clientId,
      ...(d.displayName === undefined ? {} : { displayName: d.displayName }),
      ...(d.remoteAddress === undefined ? {} : { remoteAddress: d.remoteAddress }),
      ...(requestId === undefined ? {} : { requestId })
    }
    for (const l of listeners) l(event)
  }
  const unknownDevice = (deviceId: string) =>
    new PairingError({
      code: "UNKNOWN_DEVICE",
      message: `no paired device ${deviceId}; list them with \`openclaw devices list\``
    })

  return {
    store: store.describe,
    request: (device) =>
      Effect.gen(function* () {
        const t = yield* now
        const open = [...pending.values()].find((r) => r.deviceId === device.deviceId)
        if (open !== undefined) {
          const { upgrade: _u, ...rest } = open
          const updated = withUpgrade({ ...rest, ...info(device) })
          pending.set(open.requestId, updated)
          return { request: updated, created: false }
        }
        if (pending.size >= MAX_PENDING_REQUESTS) {
          return yield* new PairingError({
            code: "TOO_MANY_PENDING",
            message: `${MAX_PENDING_REQUESTS} pairing requests are already waiting; reject the ones you do not know (\`openclaw nodes pending\`), or wait 5 minutes for them to expire`
          })
        }
        const request = withUpgrade({
          ...info(device),
          requestId: randomUUID(),
          requestedAt: t,
          expiresAt: t + PAIRING_REQUEST_TTL_MS
        })
        pending.set(request.requestId, request)
        yield* persist
        emit("requested", request, request.requestId)
        return { request, created: true }
      }),
    paired: (deviceId, publicKey) => Effect.sync(() => pairedFor({ deviceId, publicKey })),
    pairDirectly: (device) =>
      Effect.gen(function* () {
        const t = yield* now
        const d = info(device)
        const before = pairedFor(d)
        // One pairing, one role: a node's pairing never becomes an operator's (nor the reverse).
        if (before !== undefined && before.role !== d.role) {
          return yield* new PairingError({
            code: "WRONG_ROLE",
            message: `device ${d.deviceId.slice(0, 12)} is paired as ${before.role === "" ? "an unknown role" : aRole(before.role)}, not as ${aRole(d.role)}`
          })
        }
        // A device signing in again keeps its pairing date and the name an operator gave it, and adds what it declares.
        const entry: PairedDevice =
          before === undefined
            ? { ...d, caps: d.caps ?? [], commands: d.commands ?? [], pairedAt: t }
            : {
                ...before,
                ...d,
                ...(before.displayName === undefined ? {} : { displayName: before.displayName }),
                caps: union(before.caps, d.caps),
                commands: union(before.commands, d.commands)
              }
        paired.set(device.deviceId, entry)
        yield* persist
        if (before === undefined) emit("approved", entry)
        return entry
      }),
    approve: (requestId, approver) =>
      Effect.gen(function* () {
        const t = yield* now
        const request = pending.get(requestId)
        if (request === undefined) return yield* notFound(requestId)
        pending.delete(requestId)
        const { requestId: _r, requestedAt: _a, expiresAt: _e, upgrade: _u, ...asked } = request
        // An approval grants no scope its approver lacks.
        const device: DeviceInfo =
          asked.scopes === undefined ? asked : { ...asked, scopes: asked.scopes.filter((s) => hasScope(approver, s)) }
        const before = pairedFor(request)
        // An upgrade keeps the pairing (and its device token) and adds what the node declared.
        const entry: PairedDevice =
          before === undefined
            ? { ...device, caps: device.caps ?? [], commands: device.commands ?? [], pairedAt: t }
            : { ...before, caps: union(before.caps, device.caps), commands: union(before.commands, device.commands) }
        paired.set(request.deviceId, entry)
        yield* persist
        emit("approved", request, requestId)
        return { request, device: entry }
      }),
    reject: (requestId) =>
      Effect.gen(function* () {
        const t = yield* now
        const request = pending.get(requestId)
        if (request === undefined) return yield* notFound(requestId)
        pending.delete(requestId)
        yield* persist
        emit("rejected", request, requestId)
        for (const [id, r] of rejected) if (r.until <= t) rejected.delete(id)
        rejected.set(request.deviceId, { requestId, until: t + PAIRING_REQUEST_TTL_MS })
        return request
      }),
    takeRejection: (deviceId) =>
      Effect.map(Clock.currentTimeMillis, (t) => {
        const r = rejected.get(deviceId)
        rejected.delete(deviceId)
        return r !== undefined && r.until > t ? r.requestId : undefined
      }),
    remove: (deviceId) =>
      Effect.gen(function* () {
        const device = paired.get(deviceId)
        if (device === undefined) {
          return yield* new PairingError({
            code: "UNKNOWN_DEVICE",
            message: `no paired node ${deviceId.slice(0, 80)}; list them with \`openclaw nodes list\``
          })
        }
        paired.delete(deviceId)
        yield* persist
        emit("removed", device)
        return device
      }),
    list: Effect.map(now, () => ({
      pending: [...pending.values()].sort((a, b) => a.requestedAt - b.requestedAt),
      paired: [...paired.values()].sort((a, b) => a.pairedAt - b.pairedAt)
    })),
    issueToken: (deviceId) =>
      Effect.gen(function* () {
        const t = yield* Clock.currentTimeMillis
        const device = paired.get(deviceId)
        if (device === undefined)
          return yield* new PairingError({
            code: "UNKNOWN_DEVICE",
            message: `device ${deviceId.slice(0, 80)} is not paired`
          })
        const token = randomBytes(32).toString("base64url")
        paired.set(deviceId, { ...device, tokenDigest: digest(token), tokenIssuedAt: t })
        yield* persist
        return token
      }),
    checkToken: (deviceId, token, role) =>
      Effect.sync((): TokenCheck => {
        const device = paired.get(deviceId)
        const expected = device?.tokenDigest
        // Compare digests in constant time; an unknown device still costs one comparison.
        const a = Buffer.from(expected ?? digest(`absent:${deviceId}`), "hex")
        const b = Buffer.from(digest(token), "hex")
        if (!(timingSafeEqual(a, b) && expected !== undefined && device !== undefined)) return { ok: false }
        const who = `device ${deviceId.slice(0, 12)}`
        if (device.role !== "node" && device.role !== "operator")
          return {
            ok: false,
            problem: `${who} was paired by an older version that did not record its role; ${pairAgain(role)}`
          }
        if (device.role !== role)
          return {
            ok: false,
            problem: `${who}'s device token was issued to ${aRole(device.role)} and signs in only as one, not as ${aRole(role)}`
          }
        if (role === "node") return { ok: true, scopes: [] }
        if (device.scopes === undefined)
          return {
            ok: false,
            problem: `${who} was paired by an older version that did not record its scopes; ${pairAgain(role)}`
          }
        return { ok: true, scopes: device.scopes }
      }),
    revoke: (deviceId) =>
      Effect.gen(function* () {
        const t = yield* Clock.currentTimeMillis
        const device = paired.get(deviceId)
        if (device === undefined) return yield* unknownDevice(deviceId)
        const { tokenDigest: _d, tokenIssuedAt: _i, ...rest } = device
        const revoked: PairedDevice = { ...rest, revokedAt: t }
        paired.set(deviceId, revoked)
        yield* persist
        emit("revoked", revoked)
        return revoked
      }),
    rename: (deviceId, displayName) =>
      Effect.gen(function* () {
        const device = paired.get(deviceId)
        if (device === undefined) return yield* unknownDevice(deviceId)
        const renamed: PairedDevice = { ...device, displayName }
        paired.set(deviceId, renamed)
        yield* persist
        return renamed
      }),
    touch: (deviceId, address) =>
      Effect.gen(function* () {
        const t = yield* Clock.currentTimeMillis
        // Read after the last yield: a rename or revoke in between must not be overwritten.
        const device = paired.get(deviceId)
        if (device === undefined) return
        paired.set(deviceId, { ...device, lastSeenAt: t, ...(address === undefined ? {} : { lastAddress: address }) })
        yield* Effect.ignore(persist)
      }),
    subscribe: (listener) => {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    }
  }
}

/**
 * File store under <stateDir>/devices when the state dir is a real path; memory otherwise. What
 * was wrong with its files is logged as warnings (a file that cannot be decoded never stops the
 * Gateway; a symlink planted there does: it is refused).
 */
export const pairingFor = (settings: GatewayConfig["Type"]): Effect.Effect<PairingService, PairingError> =>
  path.isAbsolute(settings.stateDir)
    ? Effect.gen(function* () {
        const clock = yield* Effect.clock
        const warnings: Array<string> = []
        const pairing = yield* Effect.try({
          try: () =>
            makePairing(
              fileStore(path.join(settings.stateDir, "devices"), {
                report: (w) => warnings.push(w),
                now: () => clock.unsafeCurrentTimeMillis()
              })
            ),
          catch: (e) => new PairingError({ code: "STORE_FAILED", message: (e as Error).message })
        })
        yield* Effect.forEach(warnings, (w) => Effect.logWarning(w), { discard: true })
        return pairing
      })
    : Effect.sync(() => makePairing(memoryStore()))

export class Pairing extends Context.Tag("openclaw/Pairing")<Pairing, PairingService>() {
  static layer = Layer.effect(Pairing, Effect.flatMap(GatewayConfig, pairingFor))

  static layerTest = (store: PairingStore = memoryStore()) => Layer.sync(Pairing, () => makePairing(store))
}
