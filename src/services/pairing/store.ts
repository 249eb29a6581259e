/**
 * Where pairing state lives (a boundary): a JSON file pair in <stateDir>/devices/ (0600 files,
 * 0700 directory) for the live Gateway, memory for tests. Entries read from a file are decoded
 * one by one with Schema; a malformed one is dropped and reported, never trusted.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Either, Schema } from "effect"
import { readPrivateText, UnsafeStateFile, writePrivateJson } from "../../platform/private-file.js"
import { decodeEntries, parseStateText } from "../../platform/state-json.js"

export interface DeviceInfo {
  readonly deviceId: string
  readonly publicKey: string
  /**
   * "node" or "operator": what its device token signs in as, and nothing else. Empty: an older
   * version's entry whose role cannot be told (it must pair again; see inferredRole).
   */
  readonly role: string
  readonly clientId: string
  readonly displayName?: string
  readonly platform?: string
  readonly remoteAddress?: string
  /** What the node declared when it asked: approving the request approves these. */
  readonly caps?: ReadonlyArray<string>
  readonly commands?: ReadonlyArray<string>
  /**
   * An operator device's scopes: what it was granted when its device token was minted (or what a
   * request asks for); its device token never signs in with more. Absent on an operator entry
   * written by an older version: that token is refused until the device signs in again.
   */
  readonly scopes?: ReadonlyArray<string>
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

const Strings = Schema.Array(Schema.String)

/** The fields every stored entry has; others (a newer version's) are ignored. */
const deviceFields = {
  deviceId: Schema.String,
  publicKey: Schema.String,
  role: Schema.String,
  clientId: Schema.String,
  displayName: Schema.optional(Schema.String),
  platform: Schema.optional(Schema.String),
  remoteAddress: Schema.optional(Schema.String),
  caps: Schema.optional(Strings),
  commands: Schema.optional(Strings),
  scopes: Schema.optional(Strings)
}

/** An entry of pending.json. */
export const PendingRequestJson = Schema.Struct({
  ...deviceFields,
  requestId: Schema.String,
  requestedAt: Schema.Number,
  expiresAt: Schema.Number,
  upgrade: Schema.optional(
    Schema.Struct({
      caps: Schema.optionalWith(Strings, { default: () => [] }),
      commands: Schema.optionalWith(Strings, { default: () => [] })
    })
  )
}).annotations({ identifier: "a pending request (an object)" })

/** An entry of paired.json. */
export const PairedDeviceJson = Schema.Struct({
  ...deviceFields,
  // Older versions may not have written it: inferredRole tells it from the client id, if it can.
  role: Schema.optional(Schema.String),
  // An entry written before surfaces were recorded approves nothing: the node asks for it again.
  caps: Schema.optionalWith(Strings, { default: () => [] }),
  commands: Schema.optionalWith(Strings, { default: () => [] }),
  pairedAt: Schema.Number,
  tokenDigest: Schema.optional(Schema.String),
  tokenIssuedAt: Schema.optional(Schema.Number),
  lastSeenAt: Schema.optional(Schema.Number),
  lastAddress: Schema.optional(Schema.String),
  revokedAt: Schema.optional(Schema.Number)
}).annotations({ identifier: "a paired device (an object)" })

/** Client ids whose role is certain: OpenClaw's node host and its Control UI (browsers sign in as operators). */
const ROLE_OF_CLIENT: ReadonlyMap<string, string> = new Map([
  ["node-host", "node"],
  ["openclaw-control-ui", "operator"]
])

/** The role an entry was paired for; for one written without it, the role its client id implies, else "" (re-pair). */
export const inferredRole = (entry: { readonly role?: string | undefined; readonly clientId: string }): string =>
  entry.role ?? ROLE_OF_CLIENT.get(entry.clientId) ?? ""

const withRoles = (entries: Map<string, typeof PairedDeviceJson.Type>): Map<string, PairedDevice> =>
  new Map([...entries].map(([id, d]) => [id, { ...d, role: inferredRole(d) }]))

export interface FileStoreOptions {
  /** Hears, once per load, what was wrong with a file and what was done about it (the Gateway logs it). */
  readonly report?: (warning: string) => void
  /** Milliseconds since the epoch, for the names of files moved aside (the Gateway passes its Clock). */
  readonly now?: () => number
}

/**
 * <dir>/pending.json and <dir>/paired.json, written atomically with mode 0600, read without
 * following symlinks (a link is refused: load throws). A file that is not JSON (cut short by a
 * crash) is moved aside and its state starts empty; entries that do not decode are dropped, the
 * file as it was is moved aside and the rest written back. Either way `report` says which file,
 * which fields, and what to do; the Gateway starts.
 */
export const fileStore = (dir: string, options: FileStoreOptions = {}): PairingStore => {
  const files = { pending: path.join(dir, "pending.json"), paired: path.join(dir, "paired.json") }
  const report = options.report ?? (() => {})
  const now = options.now ?? Date.now
  /** Renames `file` to a sibling named for now, saying where (or why not: the next save then replaces it). */
  const moveAside = (file: string): { readonly moved: boolean; readonly said: string } => {
    const aside = `${file}.bad-${new Date(now()).toISOString().replace(/[:.]/g, "-")}`
    try {
      fs.renameSync(file, aside)
      return { moved: true, said: `moved it to ${aside}` }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e)
      return { moved: false, said: `could not move it aside (${code}: copy it now, the next change replaces it)` }
    }
  }
  const read = <A>(
    file: string,
    schema: Schema.Schema<A, any>,
    keyOf: (a: A) => string,
    what: string,
    redo: string
  ): Map<string, A> => {
    let text: string | undefined
    try {
      text = readPrivateText(file)
    } catch (e) {
      // A link or a foreign file (UnsafeStateFile says what to do), or no permission: refused, never guessed around.
      const why =
        e instanceof UnsafeStateFile
          ? e.message
          : `${(e as NodeJS.ErrnoException).code ?? String(e)}; check its permissions`
      throw new Error(`cannot read ${file}: ${why}`, { cause: e })
    }
    if (text === undefined) return new Map()
    const parsed = parseStateText(text)
    const decoded = Either.isRight(parsed) ? decodeEntries(schema, parsed.right) : undefined
    if (decoded === undefined) {
      const problem = Either.isLeft(parsed) ? parsed.left : "is not a JSON object of entries"
      report(`${file} ${problem}; ${moveAside(file).said} and started with no ${what}: ${redo}`)
      return new Map()
    }
    // Entries are keyed by their own id, never by whatever key the file used.
    const out = new Map<string, A>()
    for (const [, a] of decoded.entries) out.set(keyOf(a), a)
    if (decoded.problems.length > 0) {
      const aside = moveAside(file)
      // Written back at once, so the next start does not report the same entries again (failing that, the next save does).
      if (aside.moved) {
        try {
          writePrivateJson(file, Object.fromEntries(out))
        } catch {
          // the next save writes it
        }
      }
      report(
        `${file}: ignored ${decoded.problems.length} of its ${what} (${decoded.problems.join("; ")}); ${aside.said} and kept the rest: ${redo}`
      )
    }
    return out
  }
  return {
    load: () => ({
      pending: read(
        files.pending,
        PendingRequestJson,
        (r) => r.requestId,
        "pending requests",
        "those devices ask again when they next connect"
      ),
      paired: withRoles(
        read(
          files.paired,
          PairedDeviceJson,
          (d) => d.deviceId,
          "paired devices",
          "pair those nodes again (`openclaw nodes pending`, then approve), or stop the Gateway, fix the file and move it back"
        )
      )
    }),
    save: (s) => {
      writePrivateJson(files.pending, Object.fromEntries(s.pending))
      writePrivateJson(files.paired, Object.fromEntries(s.paired))
    },
    describe: dir
  }
}
