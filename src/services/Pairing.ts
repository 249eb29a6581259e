/**
 * Pairing: which node devices may connect. An unknown device gets a pending request (kept for
 * 5 minutes); an operator with operator.pairing approves or rejects it; approval makes the device
 * paired (it survives restarts) and lets it receive a device token; removal revokes both.
 *
 * The store is a boundary: a JSON file pair in <stateDir>/devices/ (0600 files, 0700 directory)
 * for the live Gateway, memory for tests. Device tokens are kept only as SHA-256 digests.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Clock, Context, Data, Effect, Layer } from "effect"
import { writePrivateJson } from "../platform/private-file.js"
import { GatewayConfig } from "./GatewayConfig.js"

export const PAIRING_REQUEST_TTL_MS = 5 * 60_000
/** Open requests at most; anyone holding the shared secret can ask, so the list is bounded. */
export const MAX_PENDING_REQUESTS = 64

export interface DeviceInfo {
  readonly deviceId: string
  readonly publicKey: string
  readonly role: string
  readonly clientId: string
  readonly displayName?: string
  readonly platform?: string
  readonly remoteAddress?: string
}

export interface PendingRequest extends DeviceInfo {
  readonly requestId: string
  readonly requestedAt: number
  readonly expiresAt: number
}

export interface PairedDevice extends DeviceInfo {
  readonly pairedAt: number
  /** hex SHA-256 of the current device token, if one was issued. */
  readonly tokenDigest?: string
  readonly tokenIssuedAt?: number
  /** When it last connected or left, and from where (devices list). */
  readonly lastSeenAt?: number
  readonly lastAddress?: string
  /** Set by revoke: its token is gone and it must pair again (a node) or sign in again (a browser). */
  readonly revokedAt?: number
}

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

export interface PairingState {
  readonly pending: Record<string, PendingRequest>
  readonly paired: Record<string, PairedDevice>
}

/** Where pairing state lives. */
export interface PairingStore {
  readonly load: () => PairingState
  readonly save: (state: PairingState) => void
  readonly describe: string
}

export class PairingError extends Data.TaggedError("PairingError")<{
  readonly code: "APPROVAL_NOT_FOUND" | "UNKNOWN_DEVICE" | "STORE_FAILED" | "TOO_MANY_PENDING"
  readonly message: string
}> {}

export interface PairingService {
  readonly store: string
  /** A pending request for this device: the existing one if still open, else a new one. */
  readonly request: (device: DeviceInfo) => Effect.Effect<{ readonly request: PendingRequest; readonly created: boolean }, PairingError>
  readonly paired: (deviceId: string, publicKey: string) => Effect.Effect<PairedDevice | undefined>
  /** Marks a device paired without a request (local auto-approval). */
  readonly pairDirectly: (device: DeviceInfo) => Effect.Effect<PairedDevice, PairingError>
  readonly approve: (requestId: string) => Effect.Effect<{ readonly request: PendingRequest; readonly device: PairedDevice }, PairingError>
  readonly reject: (requestId: string) => Effect.Effect<PendingRequest, PairingError>
  /**
   * The request an operator rejected for this device within the last 5 minutes, handed out once:
   * the device's next connect is told so (and stops asking); the one after that may ask anew.
   */
  readonly takeRejection: (deviceId: string) => Effect.Effect<string | undefined>
  readonly remove: (deviceId: string) => Effect.Effect<PairedDevice, PairingError>
  readonly list: Effect.Effect<{ readonly pending: ReadonlyArray<PendingRequest>; readonly paired: ReadonlyArray<PairedDevice> }>
  /** A fresh device token for a paired device (the previous one stops working). */
  readonly issueToken: (deviceId: string) => Effect.Effect<string, PairingError>
  readonly checkToken: (deviceId: string, token: string) => Effect.Effect<boolean>
  /** Drops the device's token and marks it revoked; it stays listed until removed. */
  readonly revoke: (deviceId: string) => Effect.Effect<PairedDevice, PairingError>
  readonly rename: (deviceId: string, displayName: string) => Effect.Effect<PairedDevice, PairingError>
  /** Notes when and from where a paired device was last seen. */
  readonly touch: (deviceId: string, address: string | undefined) => Effect.Effect<void>
  /** Hears requests, approvals, rejections, revocations and removals. */
  readonly subscribe: (listener: (event: PairingEvent) => void) => () => void
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest("hex")

const emptyState = (): PairingState => ({ pending: {}, paired: {} })

export const memoryStore = (initial: PairingState = emptyState()): PairingStore => {
  let state = structuredClone(initial)
  return { load: () => structuredClone(state), save: (s) => void (state = structuredClone(s)), describe: "memory" }
}

/** <dir>/pending.json and <dir>/paired.json, written atomically with mode 0600. */
export const fileStore = (dir: string): PairingStore => {
  const files = { pending: path.join(dir, "pending.json"), paired: path.join(dir, "paired.json") }
  const read = (file: string): Record<string, any> => {
    try {
      const value = JSON.parse(fs.readFileSync(file, "utf8"))
      return typeof value === "object" && value !== null && !Array.isArray(value) ? value : {}
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return {}
      throw new Error(`cannot read ${file}: ${(e as Error).message} (fix or delete the file)`)
    }
  }
  return {
    load: () => ({ pending: read(files.pending), paired: read(files.paired) }),
    save: (s) => {
      writePrivateJson(files.pending, s.pending)
      writePrivateJson(files.paired, s.paired)
    },
    describe: dir
  }
}

export const makePairing = (store: PairingStore): PairingService => {
  let state: { pending: Record<string, PendingRequest>; paired: Record<string, PairedDevice> } = store.load()
  const persist = Effect.try({
    try: () => store.save(state),
    catch: (e) => new PairingError({ code: "STORE_FAILED", message: `cannot save pairing state in ${store.describe}: ${String(e)}` })
  })
  const prune = (now: number) => {
    let changed = false
    for (const [id, r] of Object.entries(state.pending)) {
      if (r.expiresAt <= now) {
        delete state.pending[id]
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
      message: `no pending pairing request ${requestId} (it may have expired after 5 minutes, or been answered already); list open ones with \`openclaw nodes pending\``
    })
  const info = (d: DeviceInfo): DeviceInfo => ({
    deviceId: d.deviceId,
    publicKey: d.publicKey,
    role: d.role,
    clientId: d.clientId,
    ...(d.displayName === undefined ? {} : { displayName: d.displayName }),
    ...(d.platform === undefined ? {} : { platform: d.platform }),
    ...(d.remoteAddress === undefined ? {} : { remoteAddress: d.remoteAddress })
  })

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
    new PairingError({ code: "UNKNOWN_DEVICE", message: `no paired device ${deviceId}; list them with \`openclaw devices list\`` })

  return {
    store: store.describe,
    request: (device) =>
      Effect.gen(function* () {
        const t = yield* now
        const open = Object.values(state.pending).find((r) => r.deviceId === device.deviceId)
        if (open !== undefined) {
          const updated: PendingRequest = { ...open, ...info(device) }
          state.pending[open.requestId] = updated
          return { request: updated, created: false }
        }
        if (Object.keys(state.pending).length >= MAX_PENDING_REQUESTS) {
          return yield* new PairingError({
            code: "TOO_MANY_PENDING",
            message: `${MAX_PENDING_REQUESTS} pairing requests are already waiting; reject the ones you do not know (\`openclaw nodes pending\`), or wait 5 minutes for them to expire`
          })
        }
        const request: PendingRequest = { ...info(device), requestId: randomUUID(), requestedAt: t, expiresAt: t + PAIRING_REQUEST_TTL_MS }
        state.pending[request.requestId] = request
        yield* persist
        emit("requested", request, request.requestId)
        return { request, created: true }
      }),
    paired: (deviceId, publicKey) => Effect.sync(() => {
      const d = state.paired[deviceId]
      return d !== undefined && d.publicKey === publicKey && d.revokedAt === undefined ? d : undefined
    }),
    pairDirectly: (device) =>
      Effect.gen(function* () {
        const t = yield* now
        // A device signing in again keeps the name an operator gave it.
        const before = state.paired[device.deviceId]
        const paired: PairedDevice = {
          ...info(device),
          ...(before?.displayName === undefined ? {} : { displayName: before.displayName }),
          pairedAt: before !== undefined && before.revokedAt === undefined ? before.pairedAt : t
        }
        state.paired[device.deviceId] = paired
        yield* persist
        if (before === undefined || before.revokedAt !== undefined) emit("approved", paired)
        return paired
      }),
    approve: (requestId) =>
      Effect.gen(function* () {
        const t = yield* now
        const request = state.pending[requestId]
        if (request === undefined) return yield* notFound(requestId)
        delete state.pending[requestId]
        const { requestId: _r, requestedAt: _a, expiresAt: _e, ...device } = request
        const paired: PairedDevice = { ...device, pairedAt: t }
        state.paired[request.deviceId] = paired
        yield* persist
        emit("approved", request, requestId)
        return { request, device: paired }
      }),
    reject: (requestId) =>
      Effect.gen(function* () {
        const t = yield* now
        const request = state.pending[requestId]
        if (request === undefined) return yield* notFound(requestId)
        delete state.pending[requestId]
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
        const device = state.paired[deviceId]
        if (device === undefined) {
          return yield* new PairingError({ code: "UNKNOWN_DEVICE", message: `no paired node ${deviceId}; list them with \`openclaw nodes list\`` })
        }
        delete state.paired[deviceId]
        yield* persist
        emit("removed", device)
        return device
      }),
    list: Effect.map(now, () => ({
      pending: Object.values(state.pending).sort((a, b) => a.requestedAt - b.requestedAt),
      paired: Object.values(state.paired).sort((a, b) => a.pairedAt - b.pairedAt)
    })),
    issueToken: (deviceId) =>
      Effect.gen(function* () {
        const t = yield* Clock.currentTimeMillis
        const device = state.paired[deviceId]
        if (device === undefined) return yield* new PairingError({ code: "UNKNOWN_DEVICE", message: `device ${deviceId} is not paired` })
        const token = randomBytes(32).toString("base64url")
        state.paired[deviceId] = { ...device, tokenDigest: digest(token), tokenIssuedAt: t }
        yield* persist
        return token
      }),
    checkToken: (deviceId, token) =>
      Effect.sync(() => {
        const expected = state.paired[deviceId]?.tokenDigest
        // Compare digests in constant time; an unknown device still costs one comparison.
        const a = Buffer.from(expected ?? digest(`absent:${deviceId}`), "hex")
        const b = Buffer.from(digest(token), "hex")
        return timingSafeEqual(a, b) && expected !== undefined
      }),
    revoke: (deviceId) =>
      Effect.gen(function* () {
        const t = yield* Clock.currentTimeMillis
        const device = state.paired[deviceId]
        if (device === undefined) return yield* unknownDevice(deviceId)
        const { tokenDigest: _d, tokenIssuedAt: _i, ...rest } = device
        const revoked: PairedDevice = { ...rest, revokedAt: t }
        state.paired[deviceId] = revoked
        yield* persist
        emit("revoked", revoked)
        return revoked
      }),
    rename: (deviceId, displayName) =>
      Effect.gen(function* () {
        const device = state.paired[deviceId]
        if (device === undefined) return yield* unknownDevice(deviceId)
        const renamed: PairedDevice = { ...device, displayName }
        state.paired[deviceId] = renamed
        yield* persist
        return renamed
      }),
    touch: (deviceId, address) =>
      Effect.gen(function* () {
        const device = state.paired[deviceId]
        if (device === undefined) return
        const t = yield* Clock.currentTimeMillis
        state.paired[deviceId] = { ...device, lastSeenAt: t, ...(address === undefined ? {} : { lastAddress: address }) }
        yield* Effect.ignore(persist)
      }),
    subscribe: (listener) => {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    }
  }
}

/** File store under <stateDir>/devices when the state dir is a real path; memory otherwise. */
export const pairingFor = (settings: GatewayConfig["Type"]): Effect.Effect<PairingService, PairingError> =>
  path.isAbsolute(settings.stateDir)
    ? Effect.try({
        try: () => makePairing(fileStore(path.join(settings.stateDir, "devices"))),
        catch: (e) => new PairingError({ code: "STORE_FAILED", message: (e as Error).message })
      })
    : Effect.sync(() => makePairing(memoryStore()))

export class Pairing extends Context.Tag("openclaw/Pairing")<Pairing, PairingService>() {
  static layer = Layer.effect(Pairing, Effect.flatMap(GatewayConfig, pairingFor))

  static layerTest = (store: PairingStore = memoryStore()) => Layer.sync(Pairing, () => makePairing(store))
}
