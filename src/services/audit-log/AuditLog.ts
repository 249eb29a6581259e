/**
 * AuditLog: who signed in, who failed, who paired, who was cut off. One JSON object per line in
 * <stateDir>/logs/audit.jsonl (0600, directory 0700), each line written with a single write() on
 * an O_APPEND descriptor: a crash can tear at most the last line, which readers skip. The file is
 * rotated by size (audit.jsonl -> audit.1.jsonl -> ... -> audit.<keep>.jsonl, the oldest dropped).
 *
 * Entries carry addresses, client ids, roles, auth methods and codes: never a secret, never a chat.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Clock, Context, Effect, Either, Layer, Runtime, Schema } from "effect"
import { decodeStateText } from "../../platform/state-json.js"
import { GatewayConfig } from "../config/GatewayConfig.js"

export const AUDIT_EVENTS = [
  "gateway.start",
  "gateway.stop",
  "auth.ok",
  "auth.fail",
  "auth.lockout",
  "pair.requested",
  "pair.approved",
  "pair.rejected",
  "device.revoked",
  "device.removed",
  "token.rotated",
  // A one-time Control UI sign-in code was minted (`openclaw dashboard`): who asked, never the code.
  "signin.code",
  "exposure.on",
  "exposure.off"
] as const
export type AuditEvent = (typeof AUDIT_EVENTS)[number]

/** What an entry may say. Strings from clients are cut short; JSON quoting keeps one entry one line. */
export interface AuditFields {
  readonly address?: string
  readonly forwardedFor?: string
  readonly clientId?: string
  readonly clientMode?: string
  readonly role?: string
  readonly authMethod?: string
  readonly code?: string
  readonly tailscaleLogin?: string
  readonly deviceId?: string
  readonly displayName?: string
  readonly requestId?: string
  readonly what?: string
  readonly lockedOutMs?: number
  readonly closed?: number
  readonly by?: string
  readonly mode?: string
  readonly url?: string
  readonly reason?: string
  readonly pid?: number
}

export interface AuditEntry extends AuditFields {
  readonly ts: number
  /** One of AUDIT_EVENTS, or on reading an event a newer version wrote (kept: readers print it). */
  readonly event: AuditEvent | (string & {})
}

/** A line of audit.jsonl: `ts` and `event`, and the fields this version knows (others are ignored). */
export const AuditEntryJson = Schema.Struct({
  ts: Schema.Number,
  event: Schema.String,
  address: Schema.optional(Schema.String),
  forwardedFor: Schema.optional(Schema.String),
  clientId: Schema.optional(Schema.String),
  clientMode: Schema.optional(Schema.String),
  role: Schema.optional(Schema.String),
  authMethod: Schema.optional(Schema.String),
  code: Schema.optional(Schema.String),
  tailscaleLogin: Schema.optional(Schema.String),
  deviceId: Schema.optional(Schema.String),
  displayName: Schema.optional(Schema.String),
  requestId: Schema.optional(Schema.String),
  what: Schema.optional(Schema.String),
  lockedOutMs: Schema.optional(Schema.Number),
  closed: Schema.optional(Schema.Number),
  by: Schema.optional(Schema.String),
  mode: Schema.optional(Schema.String),
  url: Schema.optional(Schema.String),
  reason: Schema.optional(Schema.String),
  pid: Schema.optional(Schema.Number)
})

export interface AuditService {
  /** Where entries go ("memory" in tests and embeddings without a state dir). */
  readonly file: string
  readonly record: (event: AuditEvent, fields?: AuditFields) => void
  /** The newest entries (oldest first), at most `limit`, optionally only those at or after `since`. */
  readonly tail: (options?: { readonly limit?: number; readonly since?: number }) => ReadonlyArray<AuditEntry>
  /** Hears each entry as it is recorded (the Activity screen's live feed). */
  readonly subscribe: (listener: (entry: AuditEntry) => void) => () => void
}

export const DEFAULT_AUDIT_MAX_BYTES = 5 * 1024 * 1024
export const DEFAULT_AUDIT_KEEP = 3
const MAX_FIELD = 200

export const auditFile = (stateDir: string) => path.join(stateDir, "logs", "audit.jsonl")
export const rotatedFile = (file: string, n: number) => file.replace(/\.jsonl$/, `.${n}.jsonl`)

/** The fields with client-chosen strings cut short (a copy only when one is too long). */
const bounded = (fields: AuditFields): AuditFields => {
  for (const k in fields) {
    const v = (fields as Record<string, unknown>)[k]
    if (typeof v !== "string" || v.length <= MAX_FIELD) continue
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(fields))
      out[key] = typeof value === "string" && value.length > MAX_FIELD ? `${value.slice(0, MAX_FIELD)}…` : value
    return out as AuditFields
  }
  return fields
}

/** Undefined fields vanish in JSON.stringify; listeners get the same entry the line holds. */
const entryOf = (event: AuditEvent, fields: AuditFields, ts: number): AuditEntry => ({ ts, event, ...bounded(fields) })

/** The entry's line, serialised once: the hot path of every sign-in. */
const lineOf = (event: AuditEvent, fields: AuditFields, ts: number): string => {
  const body = JSON.stringify(bounded(fields))
  return `{"ts":${ts},"event":"${event}"${body.length > 2 ? `,${body.slice(1)}` : "}"}\n`
}

/**
 * Parses JSONL text. A line that does not decode (a torn last line after a crash, a hand edit) is
 * skipped and, when `skipped` is given, described there ("line 3: ts: expected number").
 */
export const parseAuditText = (text: string, skipped?: Array<string>): Array<AuditEntry> => {
  const out: Array<AuditEntry> = []
  const lines = text.split("\n")
  lines.forEach((line, i) => {
    if (line.length === 0) return
    const entry = decodeStateText(AuditEntryJson, line)
    if (Either.isRight(entry)) out.push(entry.right)
    else skipped?.push(`line ${i + 1}: ${entry.left}`)
  })
  return out
}

/**
 * Reads the current file and its rotated predecessors, oldest first. Lines that do not decode are
 * skipped; `skipped` (when given) hears each as "<file> line N: what is wrong".
 */
export const readAuditFiles = (file: string, keep = DEFAULT_AUDIT_KEEP, skipped?: Array<string>): Array<AuditEntry> => {
  const out: Array<AuditEntry> = []
  for (let n = keep; n >= 0; n--) {
    const f = n === 0 ? file : rotatedFile(file, n)
    let text: string
    try {
      text = fs.readFileSync(f, "utf8")
    } catch {
      continue
    }
    const bad: Array<string> = []
    out.push(...parseAuditText(text, skipped === undefined ? undefined : bad))
    for (const b of bad) skipped?.push(`${f} ${b}`)
  }
  return out
}

/**
 * The newest `limit` entries at or after `since`, oldest first, decoding from the end of the
 * newest file backwards: a tail of a full log (4 files of 5 MB) decodes only what it returns.
 */
export const tailAuditFiles = (
  file: string,
  keep: number,
  { limit = 200, since }: { readonly limit?: number; readonly since?: number }
): Array<AuditEntry> => {
  const newestFirst: Array<AuditEntry> = []
  const want = Math.max(0, limit)
  for (let n = 0; n <= keep && newestFirst.length < want; n++) {
    let text: string
    try {
      text = fs.readFileSync(n === 0 ? file : rotatedFile(file, n), "utf8")
    } catch {
      continue
    }
    const lines = text.split("\n")
    for (let i = lines.length - 1; i >= 0 && newestFirst.length < want; i--) {
      if (lines[i]!.length === 0) continue
      const entry = decodeStateText(AuditEntryJson, lines[i]!)
      if (Either.isRight(entry) && (since === undefined || entry.right.ts >= since)) newestFirst.push(entry.right)
    }
  }
  return newestFirst.reverse()
}

const openAppend = (file: string): number => {
  // O_NOFOLLOW: a symlink planted at the log's path is refused, never followed.
  const fd = fs.openSync(
    file,
    fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW,
    0o600
  )
  fs.fchmodSync(fd, 0o600)
  return fd
}

export interface FileAuditOptions {
  readonly maxBytes?: number
  readonly keep?: number
  readonly onError?: (message: string) => void
  /** Entries' timestamps (the layer passes its Clock: `record` runs outside any fiber, on every sign-in). */
  readonly clock?: Clock.Clock
}

/** The live log: appends to `file`, rotates past maxBytes, keeps `keep` older files. */
export const makeFileAudit = (
  file: string,
  options: FileAuditOptions = {}
): AuditService & { readonly close: () => void } => {
  const maxBytes = options.maxBytes ?? DEFAULT_AUDIT_MAX_BYTES
  const keep = options.keep ?? DEFAULT_AUDIT_KEEP
  const listeners = new Set<(entry: AuditEntry) => void>()
  const clock = options.clock ?? Clock.make()
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  let fd = openAppend(file)
  let size = fs.fstatSync(fd).size
  // A line torn by a crash: the next entry starts on a fresh line, so only the torn one is lost.
  if (size > 0) {
    const last = Buffer.alloc(1)
    const rfd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
    try {
      fs.readSync(rfd, last, 0, 1, size - 1)
    } finally {
      fs.closeSync(rfd)
    }
    if (last[0] !== 0x0a) size += fs.writeSync(fd, "\n")
  }
  let failed = false

  const rotate = () => {
    fs.closeSync(fd)
    for (let n = keep; n >= 1; n--) {
      const from = n === 1 ? file : rotatedFile(file, n - 1)
      try {
        fs.renameSync(from, rotatedFile(file, n))
      } catch {
        // that generation does not exist yet
      }
    }
    fd = openAppend(file)
    size = 0
  }

  return {
    file,
    record: (event, fields = {}) => {
      const ts = clock.unsafeCurrentTimeMillis()
      const line = lineOf(event, fields, ts)
      try {
        if (size > 0 && size + Buffer.byteLength(line) > maxBytes) rotate()
        // One write per entry: the kernel appends it whole, or a crash tears only this line.
        size += fs.writeSync(fd, line)
        failed = false
      } catch (e) {
        // The log must never stop the Gateway; say so once per run of failures.
        if (!failed)
          options.onError?.(`cannot write the audit log ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
        failed = true
      }
      if (listeners.size > 0) {
        const entry = entryOf(event, fields, ts)
        for (const l of listeners) l(entry)
      }
    },
    tail: (options = {}) => tailAuditFiles(file, keep, options),
    subscribe: (listener) => {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    close: () => {
      try {
        fs.closeSync(fd)
      } catch {
        // already closed
      }
    }
  }
}

/** Entries in memory, bounded: for tests and embeddings without a state directory. */
export const makeMemoryAudit = (
  max = 10_000,
  clock: Clock.Clock = Clock.make()
): AuditService & { readonly entries: Array<AuditEntry> } => {
  const entries: Array<AuditEntry> = []
  const listeners = new Set<(entry: AuditEntry) => void>()
  return {
    file: "memory",
    entries,
    record: (event, fields = {}) => {
      const entry = entryOf(event, fields, clock.unsafeCurrentTimeMillis())
      entries.push(entry)
      if (entries.length > max) entries.shift()
      for (const l of listeners) l(entry)
    },
    tail: ({ limit = 200, since } = {}) =>
      (since === undefined ? entries : entries.filter((e) => e.ts >= since)).slice(-Math.max(0, limit)),
    subscribe: (listener) => {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    }
  }
}

export class AuditLog extends Context.Tag("openclaw/AuditLog")<AuditLog, AuditService>() {
  /**
   * <stateDir>/logs/audit.jsonl for a real state dir, memory otherwise. gateway.audit.maxBytes and
   * keep (OPENCLAW_AUDIT_MAX_BYTES, OPENCLAW_AUDIT_KEEP in the CLI) set the rotation size and the
   * number of older files kept.
   */
  static layer = Layer.scoped(
    AuditLog,
    Effect.gen(function* () {
      const settings = yield* GatewayConfig
      const clock = yield* Effect.clock
      if (!path.isAbsolute(settings.stateDir)) return makeMemoryAudit(undefined, clock)
      const runtime = yield* Effect.runtime<never>()
      const audit = yield* Effect.try(() =>
        makeFileAudit(auditFile(settings.stateDir), {
          maxBytes: settings.audit?.maxBytes ?? DEFAULT_AUDIT_MAX_BYTES,
          keep: settings.audit?.keep ?? DEFAULT_AUDIT_KEEP,
          onError: (message) => Runtime.runSync(runtime)(Effect.logWarning(message)),
          clock
        })
      ).pipe(
        Effect.catchAll((e) =>
          Effect.as(
            Effect.logWarning(
              `the audit log is off: cannot open ${auditFile(settings.stateDir)} (${String((e as Error).message ?? e)}); check the state directory's permissions`
            ),
            makeMemoryAudit(undefined, clock)
          )
        )
      )
      if ("close" in audit) yield* Effect.addFinalizer(() => Effect.sync(() => audit.close()))
      return audit
    })
  )

  /** The given log, or one in memory stamped by the Effect Clock (TestClock in tests). */
  static layerTest = (audit?: AuditService) =>
    audit === undefined
      ? Layer.effect(
          AuditLog,
          Effect.map(Effect.clock, (clock) => makeMemoryAudit(undefined, clock))
        )
      : Layer.succeed(AuditLog, audit)
}
