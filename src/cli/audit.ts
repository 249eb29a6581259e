/**
 * `openclaw audit [--follow] [--since DURATION] [--json]`: reads the Gateway's audit log
 * (<state dir>/logs/audit.jsonl and its rotated predecessors) on this machine; no Gateway needed.
 */
import * as fs from "node:fs"
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { resolvePaths } from "../config/load.js"
import { type AuditEntry, auditFile, parseAuditText, readAuditFiles } from "../services/audit-log/AuditLog.js"
import { fail } from "./exit.js"

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** "90s", "10m", "2h", "7d" (or an ISO date) -> the earliest timestamp to show. */
export const parseSince = (text: string, now = Date.now()): number | undefined => {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(text.trim())
  if (m !== null) return now - Number(m[1]) * UNITS[m[2]!]!
  const t = Date.parse(text)
  return Number.isFinite(t) ? t : undefined
}

const q = (s: string | undefined) => (s === undefined ? undefined : JSON.stringify(s))

/** One line per entry: time, event, then what is known, client strings quoted. */
export const formatEntry = (e: AuditEntry): string => {
  const parts = [new Date(e.ts).toISOString(), e.event.padEnd(14)]
  const add = (label: string, v: string | number | undefined) => v !== undefined && parts.push(`${label}=${v}`)
  add("from", e.address)
  add("forwarded", e.forwardedFor)
  add("client", q(e.clientId))
  add("mode", e.clientMode)
  add("role", e.role)
  add("auth", e.authMethod)
  add("code", e.code)
  add("tailscale", e.tailscaleLogin)
  add("device", e.deviceId?.slice(0, 12))
  add("name", q(e.displayName))
  add("request", e.requestId?.slice(0, 8))
  add("what", e.what)
  add("closed", e.closed)
  add("by", q(e.by))
  add(e.event.startsWith("exposure") ? "exposure" : "authMode", e.mode)
  add("url", e.url)
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
      if (shown.length > 0)
        process.stdout.write(shown.map((e) => (flags.json ? JSON.stringify(e) : formatEntry(e))).join("\n") + "\n")
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
