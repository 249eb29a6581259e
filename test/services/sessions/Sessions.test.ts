/**
 * Session transcripts read back with Schema (a bad line named by field and skipped, fields of a
 * newer version ignored, a torn last line), and messages stamped by the Effect Clock.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, TestClock } from "effect"
import { GatewayConfig } from "../../../src/services/config/GatewayConfig.js"
import { readTranscript, Sessions } from "../../../src/services/sessions/Sessions.js"

const stateDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "oc-sessions-"))
const message = (n: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id: `m${n}`, sessionKey: "s", role: "user", text: `text ${n}`, ts: n, source: "chat", ...extra })

describe("session transcripts", () => {
  it("a wrong-typed field is named and its line skipped; fields of a newer version are ignored; a torn tail skipped", () => {
    const dir = stateDir()
    const file = path.join(dir, "s.jsonl")
    fs.writeFileSync(
      file,
      [
        message(1),
        message(2, { role: "system", ts: "now" }),
        message(3, { reactions: ["+1"], model: { name: "x" } }),
        message(4).slice(0, 30)
      ].join("\n")
    )
    const loaded = readTranscript(file)
    expect(loaded.messages).toEqual(
      [JSON.parse(message(1)), JSON.parse(message(3))].map(({ reactions: _r, model: _m, ...m }) => m)
    )
    expect(loaded.warnings).toEqual([
      `${file}: skipped line 2, which is not a session message (role: expected "user" or "assistant"; ts: expected number); the other lines are kept (remove that line while the Gateway is stopped to silence this)`,
      `${file}: skipped a torn last line (30 bytes, a write that was cut short); the 2 message(s) before it are kept`
    ])
    expect(loaded.needsNewline).toBe(true)
  })

  it.effect("the Gateway's Sessions logs what it skipped, starts, and stamps new messages by the Clock", () =>
    Effect.gen(function* () {
      const dir = stateDir()
      fs.mkdirSync(path.join(dir, "sessions"))
      fs.writeFileSync(path.join(dir, "sessions", "s.jsonl"), `${message(1)}\n{"id": 5}\n`)
      const logs: Array<string> = []
      const logger = Logger.make(({ message: m }) => logs.push(String(Array.isArray(m) ? m.join(" ") : m)))
      yield* TestClock.adjust(42_000)
      const sessions = yield* Effect.provide(
        Sessions,
        Sessions.layer.pipe(
          Layer.provide(GatewayConfig.layerTest({ stateDir: dir })),
          Layer.provide(Logger.replace(Logger.defaultLogger, logger))
        )
      )
      expect(logs).toEqual([
        expect.stringContaining(
          "skipped line 2, which is not a session message (id: expected string; sessionKey: is missing"
        )
      ])
      const appended = yield* sessions.append({ sessionKey: "s", role: "user", text: "later", source: "send" })
      expect(appended.ts).toBe(42_000)
      expect(sessions.history("s").map((m) => m.ts)).toEqual([1, 42_000])
    })
  )
})
