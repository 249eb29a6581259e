/**
 * Where pairing state lives (a boundary): a JSON file pair in <stateDir>/devices/ (0600 files,
 * 0700 directory) for the live Gateway, memory for tests. Entries read from a file are checked
 * one by one; a malformed one is dropped, never trusted.
 */
import * as path from "node:path"
import { readPrivateText, writePrivateJson } from "../../platform/private-file.js"

export interface DeviceInfo {
  readonly deviceId: string
  readonly publicKey: string
  readonly role: string
  readonly clientId: string
  readonly displayName?: string
  readonly platform?: string
  readonly remoteAddress?: string
  /** What the node declared when it asked: approving the request approves these. */
  readonly caps?: ReadonlyArray<string>
  readonly commands?: ReadonlyArray<string>
}

/** A node's command surface: the commands it may be routed and the capabilities it may claim. */
export interface Surface {
  readonly caps: ReadonlyArray<string>
  readonly commands: ReadonlyArray<string>
}

export interface PendingRequest extends DeviceInfo {
  readonly requestId: string
  readonly requestedAt: number
  readonly expiresAt: number
  /**
   * Set when the device is already paired and declares more than it was approved for: what is
   * new (the operator approves only that; the node keeps its approved surface meanwhile).
   */
  readonly upgrade?: Surface
}

export interface PairedDevice extends DeviceInfo {
  readonly pairedAt: number
  /** The approved surface: only these are routed to the node (entries from older files: none). */
  readonly caps: ReadonlyArray<string>
  readonly commands: ReadonlyArray<string>
  /** hex SHA-256 of the current device token, if one was issued. */
  readonly tokenDigest?: string
  readonly tokenIssuedAt?: number
  /** When it last connected or left, and from where (devices list). */
  readonly lastSeenAt?: number
  readonly lastAddress?: string
  /** Set by revoke: its token is gone and it must pair again (a node) or sign in again (a browser). */
  readonly revokedAt?: number
}

/** Keyed by request id and device id: Maps, so a key such as `__proto__` is just a string. */
export interface PairingState {
  readonly pending: Map<string, PendingRequest>
  readonly paired: Map<string, PairedDevice>
}

/** Where pairing state lives. */
export interface PairingStore {
  readonly load: () => PairingState
  readonly save: (state: PairingState) => void
  readonly describe: string
}

const emptyState = (): PairingState => ({ pending: new Map(), paired: new Map() })

export const memoryStore = (initial: PairingState = emptyState()): PairingStore => {
  let state = structuredClone(initial)
  return { load: () => structuredClone(state), save: (s) => void (state = structuredClone(s)), describe: "memory" }
}

const isStr = (v: unknown): v is string => typeof v === "string"
const strings = (v: unknown): Array<string> | undefined => (Array.isArray(v) && v.every(isStr) ? [...v] : undefined)

/** The fields of a stored entry this version knows, checked; undefined for anything malformed. */
const decodeDevice = (v: any): DeviceInfo | undefined => {
  if (
    typeof v !== "object" ||
    v === null ||
    !isStr(v.deviceId) ||
    !isStr(v.publicKey) ||
    !isStr(v.role) ||
    !isStr(v.clientId)
  )
    return undefined
  const caps = strings(v.caps)
  const commands = strings(v.commands)
  return {
    deviceId: v.deviceId,
    publicKey: v.publicKey,
    role: v.role,
    clientId: v.clientId,
    ...(isStr(v.displayName) ? { displayName: v.displayName } : {}),
    ...(isStr(v.platform) ? { platform: v.platform } : {}),
    ...(isStr(v.remoteAddress) ? { remoteAddress: v.remoteAddress } : {}),
    ...(caps === undefined ? {} : { caps }),
    ...(commands === undefined ? {} : { commands })
  }
}
export const decodePending = (v: any): PendingRequest | undefined => {
  const d = decodeDevice(v)
  if (d === undefined || !isStr(v.requestId) || typeof v.requestedAt !== "number" || typeof v.expiresAt !== "number")
    return undefined
  const upgrade =
    typeof v.upgrade === "object" && v.upgrade !== null
      ? { caps: strings(v.upgrade.caps) ?? [], commands: strings(v.upgrade.commands) ?? [] }
      : undefined
  return {
    ...d,
    requestId: v.requestId,
    requestedAt: v.requestedAt,
    expiresAt: v.expiresAt,
    ...(upgrade === undefined ? {} : { upgrade })
  }
}
export const decodePaired = (v: any): PairedDevice | undefined => {
  const d = decodeDevice(v)
  if (d === undefined || typeof v.pairedAt !== "number") return undefined
  return {
    ...d,
    // An entry written before surfaces were recorded approves nothing: the node asks for it again.
    caps: d.caps ?? [],
    commands: d.commands ?? [],
    pairedAt: v.pairedAt,
    ...(isStr(v.tokenDigest) ? { tokenDigest: v.tokenDigest } : {}),
    ...(typeof v.tokenIssuedAt === "number" ? { tokenIssuedAt: v.tokenIssuedAt } : {}),
    ...(typeof v.lastSeenAt === "number" ? { lastSeenAt: v.lastSeenAt } : {}),
    ...(isStr(v.lastAddress) ? { lastAddress: v.lastAddress } : {}),
    ...(typeof v.revokedAt === "number" ? { revokedAt: v.revokedAt } : {})
  }
}

/** <dir>/pending.json and <dir>/paired.json, written atomically with mode 0600, read without following symlinks. */
export const fileStore = (dir: string): PairingStore => {
  const files = { pending: path.join(dir, "pending.json"), paired: path.join(dir, "paired.json") }
  const read = <A>(file: string, decode: (v: unknown) => A | undefined, keyOf: (a: A) => string): Map<string, A> => {
    let value: unknown
    try {
      const text = readPrivateText(file)
      if (text === undefined) return new Map()
      value = JSON.parse(text)
    } catch (e) {
      throw new Error(`cannot read ${file}: ${(e as Error).message} (fix or delete the file)`, { cause: e })
    }
    const out = new Map<string, A>()
    if (typeof value !== "object" || value === null || Array.isArray(value)) return out
    // Entries are checked one by one and keyed by their own id, never by whatever key the file used.
    for (const entry of Object.values(value)) {
      const a = decode(entry)
      if (a !== undefined) out.set(keyOf(a), a)
    }
    return out
  }
  return {
    load: () => ({
      pending: read(files.pending, decodePending, (r) => r.requestId),
      paired: read(files.paired, decodePaired, (d) => d.deviceId)
    }),
    save: (s) => {
      writePrivateJson(files.pending, Object.fromEntries(s.pending))
      writePrivateJson(files.paired, Object.fromEntries(s.paired))
    },
    describe: dir
  }
}
