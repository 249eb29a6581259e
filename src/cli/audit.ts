/**
 * `openclaw audit [--follow] [--since DURATION] [--json]`: reads the Gateway's audit log
 * (<state dir>/logs/audit.jsonl and its rotated predecessors) on this machine; no Gateway needed.
 */
import * as fs from "node:fs"
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { resolvePaths } from "../config/load.js"
import { type AuditEntry, auditFile, parseAuditText, readAuditFiles } from "../services/audit-log/AuditLog.js"
import { jsonForTerminal } from "../protocol/client-text.js"
import { fail } from "./exit.js"
import { jsonLine, writeText } from "./output.js"

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** "90s", "10m", "2h", "7d" (or an ISO date) -> the earliest timestamp to show. */
export const parseSince = (text: string, now = Date.now()): number | undefined => {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(text.trim())
  if (m !== null) return now - Number(m[1]) * UNITS[m[2]!]!
  const t = Date.parse(text)
  return Number.isFinite(t) ? t : undefined
}

/** A string shown quoted (JSON, with C1 and bidi escaped too): one line, visible, no fake `key=value`. */
const q = (s: string | undefined) => (s === undefined ? undefined : jsonForTerminal(s))
/** Addresses, codes, ids and logins as they normally look stay bare; anything else is quoted like a name. */
const bare = (s: string | undefined) => (s === undefined || /^[\w.:@/[\]%+,-]+$/.test(s) ? s : q(s))

/**
 * One line per entry: time, event, then what is known. Every string in the file may have come from
 * a client (a header, a hello, a name): each is bare only when it holds nothing but the characters
 * of an address, id or code, and otherwise quoted.
 */
export const formatEntry = (e: AuditEntry): string => {
  const parts = [new Date(e.ts).toISOString(), bare(e.event)!.padEnd(14)]
  const add = (label: string, v: string | number | undefined) => v !== undefined && parts.push(`${label}=${v}`)
  add("from", bare(e.address))
  add("forwarded", bare(e.forwardedFor))
  add("client", q(e.clientId))
  add("mode", bare(e.clientMode))
  add("role", bare(e.role))
  add("auth", bare(e.authMethod))
  add("code", bare(e.code))
  add("tailscale", bare(e.tailscaleLogin))
  add("device", bare(e.deviceId?.slice(0, 12)))
  add("name", q(e.displayName))
  add("request", bare(e.requestId?.slice(0, 8)))
  add("what", bare(e.what))
  add("closed", e.closed)
  add("by", q(e.by))
  add(e.event.startsWith("exposure") ? "exposure" : "authMode", bare(e.mode))
  add("url", bare(e.url))
  add("reason", q(e.reason))
  add("lockedOutS", e.lockedOutMs === undefined ? undefined : Math.round(e.lockedOutMs / 1000))
  add("pid", e.pid)
  return parts.join("  ")
}

const follow = Options.boolean("follow").pipe(
  Options.withAlias("f"),
  Options.withDescription("Keep printing new entries as they are written (Ctrl-C stops)")
)
const since = Options.text("since").pipe(
  Options.withDescription("Only entries newer than this: 30s, 10m, 2h, 7d, or a date"),
  Options.optional
)
const json = Options.boolean("json").pipe(Options.withDescription("One JSON object per line, as stored"))

export const auditCommand = Command.make("audit", { follow, since, json }, (flags) =>
  Effect.gen(function* () {
    const file = auditFile(resolvePaths(process.env).stateDir)
    const sinceText = Option.getOrUndefined(flags.since)
    const from = sinceText === undefined ? undefined : parseSince(sinceText)
    if (sinceText !== undefined && from === undefined)
      return yield* fail(
        2,
        `--since ${JSON.stringify(sinceText)}: expected a duration like 30s, 10m, 2h, 7d, or a date`
      )
    const print = (entries: ReadonlyArray<AuditEntry>) => {
      const shown = from === undefined ? entries : entries.filter((e) => e.ts >= from)
      if (shown.length > 0) writeText(shown.map((e) => (flags.json ? jsonLine(e) : formatEntry(e))).join("\n") + "\n")
    }
    const exists = fs.existsSync(file)
    if (!exists && !flags.follow) {
      return yield* Console.error(
        `No audit log yet at ${file}: the Gateway writes it once it has run (\`openclaw gateway run\`).`
      )
    }
    print(readAuditFiles(file))
    if (!flags.follow) return
    // Follow: read what was appended since; start over when the file was rotated (new inode or shorter).
    let position = exists ? fs.statSync(file).size : 0
    let inode = exists ? fs.statSync(file).ino : 0
    let partial = ""
    yield* Effect.async<never>(() => {
      const timer = setInterval(() => {
        let st: fs.Stats
        try {
          st = fs.statSync(file)
        } catch {
          return
        }
        if (st.ino !== inode || st.size < position) {
          inode = st.ino
          position = 0
          partial = ""
        }
        if (st.size === position) return
        const fd = fs.openSync(file, "r")
        try {
          const buf = Buffer.alloc(st.size - position)
          fs.readSync(fd, buf, 0, buf.length, position)
          position = st.size
          const text = partial + buf.toString("utf8")
          const cut = text.lastIndexOf("\n")
          partial = text.slice(cut + 1)
          print(parseAuditText(text.slice(0, cut + 1)))
        } finally {
          fs.closeSync(fd)
        }
      }, 250)
      return Effect.sync(() => clearInterval(timer))
    })
  })
).pipe(Command.withDescription("The audit log: sign-ins, failures, pairing, revocations"))
