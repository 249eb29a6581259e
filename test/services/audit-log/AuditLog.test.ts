/** The audit log's file: 0600 appends, rotation at its size limit, torn lines, symlinks, lines decoded with Schema, the Clock. */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import {
  AuditLog,
  makeFileAudit,
  parseAuditText,
  readAuditFiles,
  rotatedFile
} from "../../../src/services/audit-log/AuditLog.js"

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "oc-audit-"))
const lines = (file: string) => fs.readFileSync(file, "utf8").split("\n").filter(Boolean)

describe("AuditLog file", () => {
  it("rotates at the size limit, keeps `keep` older files (0600), and reads them back oldest first", () => {
    const dir = tmp()
    const file = path.join(dir, "logs", "audit.jsonl")
    const audit = makeFileAudit(file, { maxBytes: 1_000, keep: 2 })
    for (let i = 0; i < 60; i++)
      audit.record("auth.fail", { address: "10.0.0.1", clientId: `client-${i}`, code: "AUTH_TOKEN_MISMATCH" })
    audit.close()
    expect(fs.statSync(path.join(dir, "logs")).mode & 0o777).toBe(0o700)
    for (const f of [file, rotatedFile(file, 1), rotatedFile(file, 2)]) {
      expect(fs.statSync(f).size).toBeLessThanOrEqual(1_000)
      expect(fs.statSync(f).mode & 0o777).toBe(0o600)
    }
    expect(fs.existsSync(rotatedFile(file, 3))).toBe(false)
    const all = readAuditFiles(file, 2)
    // Only the newest entries survive, in order, none repeated or torn by rotation.
    const ids = all.map((e) => Number(e.clientId!.slice(7)))
    expect(ids.at(-1)).toBe(59)
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.length).toBeGreaterThan(10)
    expect(ids.length).toBeLessThan(60)
    expect(audit.tail({ limit: 3 }).map((e) => e.clientId)).toEqual(["client-57", "client-58", "client-59"])
  })

  it("a torn last line (a process killed mid-write) is skipped on reading, and the next entry starts on a fresh line", () => {
    const dir = tmp()
    const file = path.join(dir, "audit.jsonl")
    const a = makeFileAudit(file)
    a.record("gateway.start", { pid: 1 })
    a.record("auth.ok", { address: "127.0.0.1", clientId: "cli" })
    a.close()
    fs.appendFileSync(file, '{"ts":1795000000000,"event":"auth.fa')
    expect(parseAuditText(fs.readFileSync(file, "utf8")).map((e) => e.event)).toEqual(["gateway.start", "auth.ok"])
    const b = makeFileAudit(file)
    b.record("gateway.start", { pid: 2 })
    b.close()
    expect(lines(file)).toHaveLength(4)
    expect(readAuditFiles(file).map((e) => e.event)).toEqual(["gateway.start", "auth.ok", "gateway.start"])
  })

  it("refuses a symlink planted at the log's path instead of writing through it", () => {
    const dir = tmp()
    const target = path.join(dir, "elsewhere")
    fs.writeFileSync(target, "")
    const file = path.join(dir, "audit.jsonl")
    fs.symlinkSync(target, file)
    expect(() => makeFileAudit(file)).toThrow(/ELOOP/)
    expect(fs.readFileSync(target, "utf8")).toBe("")
  })

  it("client strings stay one line and are cut short; a write failure never throws", () => {
    const dir = tmp()
    const file = path.join(dir, "audit.jsonl")
    const errors: Array<string> = []
    const a = makeFileAudit(file, { onError: (m) => errors.push(m) })
    a.record("auth.fail", { clientId: 'evil\n{"event":"auth.ok"}' + "x".repeat(500) })
    expect(lines(file)).toHaveLength(1)
    expect(readAuditFiles(file)[0]!.clientId!.length).toBeLessThanOrEqual(201)
    a.close()
    // The descriptor is gone: recording reports once and carries on.
    expect(() => a.record("auth.ok", {})).not.toThrow()
    expect(() => a.record("auth.ok", {})).not.toThrow()
    expect(errors).toHaveLength(1)
  })
})

describe("AuditLog lines decoded with Schema", () => {
  it("a wrong-typed field is named and its line skipped; fields of a newer version are ignored; a torn line skipped", () => {
    const text = [
      JSON.stringify({ ts: 1, event: "auth.ok", clientId: "cli" }),
      JSON.stringify({ ts: "yesterday", event: "auth.fail", lockedOutMs: "long" }),
      JSON.stringify({ ts: 3, event: "auth.fail", clientId: "x", severity: { level: 9 }, event2: [] }),
      JSON.stringify({ ts: 4, event: "future.event", address: "10.0.0.1" }),
      '{"ts":5,"event":"auth.o'
    ].join("\n")
    const skipped: Array<string> = []
    const entries = parseAuditText(text, skipped)
    expect(entries).toEqual([
      { ts: 1, event: "auth.ok", clientId: "cli" },
      { ts: 3, event: "auth.fail", clientId: "x" },
      { ts: 4, event: "future.event", address: "10.0.0.1" }
    ])
    expect(skipped).toEqual([
      "line 2: ts: expected number; lockedOutMs: expected number",
      "line 5: is not valid JSON: it ends mid-value (cut short by a crash or a full disk?)"
    ])
  })

  it("a tail decodes from the newest entry backwards, across rotated files, honouring since and limit", () => {
    const dir = tmp()
    const file = path.join(dir, "audit.jsonl")
    fs.writeFileSync(rotatedFile(file, 1), [1, 2, 3].map((ts) => JSON.stringify({ ts, event: "auth.ok" })).join("\n"))
    fs.writeFileSync(file, `${[4, 5].map((ts) => JSON.stringify({ ts, event: "auth.ok" })).join("\n")}\n{"ts":"bad"}\n`)
    const audit = makeFileAudit(file, { keep: 1 })
    expect(audit.tail({ limit: 3 }).map((e) => e.ts)).toEqual([3, 4, 5])
    expect(audit.tail({ limit: 10, since: 2 }).map((e) => e.ts)).toEqual([2, 3, 4, 5])
    expect(readAuditFiles(file, 1).map((e) => e.ts)).toEqual([1, 2, 3, 4, 5])
    audit.close()
  })

  it.effect("entries are stamped by the Effect Clock", () =>
    Effect.gen(function* () {
      yield* TestClock.adjust(1_234)
      const audit = yield* AuditLog
      audit.record("gateway.start", { pid: 1 })
      yield* TestClock.adjust(1)
      audit.record("gateway.stop", { pid: 1 })
      expect(audit.tail().map((e) => e.ts)).toEqual([1_234, 1_235])
    }).pipe(Effect.provide(AuditLog.layerTest()))
  )
})
