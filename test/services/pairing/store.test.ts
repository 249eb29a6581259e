/**
 * The pairing store's files decoded with Schema: a wrong-typed field is named and its entry
 * dropped (the rest kept), fields of a newer version are ignored, a truncated file is moved aside
 * and the Gateway's Pairing starts empty, logging what it did. Pending requests expire on the Clock.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, TestClock } from "effect"
import { GatewayConfig } from "../../../src/services/config/GatewayConfig.js"
import { Pairing, PAIRING_REQUEST_TTL_MS } from "../../../src/services/pairing/Pairing.js"
import { fileStore } from "../../../src/services/pairing/store.js"

/** The approving operator's scopes. */
const ADMIN = ["operator.admin"]

const devicesDir = () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-pairstore-"))
  const dir = path.join(stateDir, "devices")
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  return { stateDir, dir }
}
const paired = (n: number, extra: Record<string, unknown> = {}) => ({
  deviceId: `d${n}`,
  publicKey: `k${n}`,
  role: "node",
  clientId: "node-host",
  pairedAt: 1_000 + n,
  caps: [],
  commands: ["system.run"],
  ...extra
})
const write = (file: string, text: string) => fs.writeFileSync(file, text, { mode: 0o600 })
const asideFiles = (dir: string, name: string) => fs.readdirSync(dir).filter((f) => f.startsWith(`${name}.bad-`))

/** Pairing.layer on a real state dir, with what it logged. */
const loadPairing = (stateDir: string) =>
  Effect.gen(function* () {
    const logs: Array<string> = []
    const logger = Logger.make(({ message }) => logs.push(String(Array.isArray(message) ? message.join(" ") : message)))
    const pairing = yield* Effect.provide(
      Pairing,
      Pairing.layer.pipe(
        Layer.provide(GatewayConfig.layerTest({ stateDir })),
        Layer.provide(Logger.replace(Logger.defaultLogger, logger))
      )
    )
    return { pairing, logs }
  })

describe("pairing store files", () => {
  it.effect("a wrong-typed field is named with its entry; that entry is dropped, the others kept", () =>
    Effect.gen(function* () {
      const { stateDir, dir } = devicesDir()
      const file = path.join(dir, "paired.json")
      const original = JSON.stringify({ d1: paired(1), d2: paired(2, { publicKey: 5, commands: "system.run" }) })
      write(file, original)
      const { pairing, logs } = yield* loadPairing(stateDir)
      expect((yield* pairing.list).paired.map((d) => d.deviceId)).toEqual(["d1"])
      expect(logs).toHaveLength(1)
      expect(logs[0]).toContain(file)
      expect(logs[0]).toContain('entry "d2": publicKey: expected string; commands: expected ReadonlyArray<string>')
      expect(logs[0]).toContain("pair those nodes again")
      // The values found are not repeated (a state file may hold keys and digests).
      expect(logs[0]).not.toContain("actual")
      // The file as it was is kept aside (named by the Clock), the rest written back.
      expect(asideFiles(dir, "paired.json")).toEqual(["paired.json.bad-1970-01-01T00-00-00-000Z"])
      expect(fs.readFileSync(path.join(dir, asideFiles(dir, "paired.json")[0]!), "utf8")).toBe(original)
      expect(Object.keys(JSON.parse(fs.readFileSync(file, "utf8")))).toEqual(["d1"])
      expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    })
  )

  it.effect("fields a newer version wrote are ignored, not an error", () =>
    Effect.gen(function* () {
      const { stateDir, dir } = devicesDir()
      write(
        path.join(dir, "paired.json"),
        JSON.stringify({ d1: paired(1, { trustLevel: { future: true }, notes: ["x"] }) })
      )
      write(
        path.join(dir, "pending.json"),
        JSON.stringify({
          r1: {
            ...paired(2),
            requestId: "r1",
            requestedAt: 0,
            expiresAt: PAIRING_REQUEST_TTL_MS,
            upgrade: { caps: ["camera"], reason: "new" },
            priority: 3
          }
        })
      )
      const { pairing, logs } = yield* loadPairing(stateDir)
      expect(logs).toEqual([])
      const { paired: devices, pending } = yield* pairing.list
      expect(devices).toEqual([expect.objectContaining({ deviceId: "d1", commands: ["system.run"] })])
      expect(pending).toEqual([
        expect.objectContaining({ requestId: "r1", upgrade: { caps: ["camera"], commands: [] } })
      ])
      expect(asideFiles(dir, "paired.json")).toEqual([])
    })
  )

  it.effect("a truncated file is moved aside and its state starts empty; the Gateway's Pairing still starts", () =>
    Effect.gen(function* () {
      const { stateDir, dir } = devicesDir()
      const file = path.join(dir, "paired.json")
      const whole = JSON.stringify({ d1: paired(1), d2: paired(2) })
      const torn = whole.slice(0, Math.floor(whole.length / 2))
      write(file, torn)
      const { pairing, logs } = yield* loadPairing(stateDir)
      expect((yield* pairing.list).paired).toEqual([])
      expect(logs).toHaveLength(1)
      expect(logs[0]).toMatch(
        new RegExp(
          `^${file.replace(/[.]/g, "\\.")} is not valid JSON: it ends mid-value .*; moved it to .*paired\\.json\\.bad-`
        )
      )
      expect(logs[0]).toContain("started with no paired devices")
      // The torn text itself is never echoed.
      expect(logs[0]).not.toContain('"publicKey"')
      const [aside] = asideFiles(dir, "paired.json")
      expect(fs.readFileSync(path.join(dir, aside!), "utf8")).toBe(torn)
      expect(fs.existsSync(file)).toBe(false)
      // Pairing works on: the next approval writes a fresh file.
      const { request } = yield* pairing.request({ deviceId: "d3", publicKey: "k3", role: "node", clientId: "c" })
      yield* pairing.approve(request.requestId, ADMIN)
      expect(Object.keys(JSON.parse(fs.readFileSync(file, "utf8")))).toEqual(["d3"])
    })
  )

  it("a file that is JSON but not an object of entries is moved aside too", () => {
    const { dir } = devicesDir()
    write(path.join(dir, "pending.json"), "[1, 2]")
    const reports: Array<string> = []
    const state = fileStore(dir, { report: (w) => reports.push(w), now: () => Date.UTC(2026, 0, 2) }).load()
    expect(state.pending.size).toBe(0)
    expect(reports).toEqual([
      `${path.join(dir, "pending.json")} is not a JSON object of entries; moved it to ${path.join(dir, "pending.json.bad-2026-01-02T00-00-00-000Z")} and started with no pending requests: those devices ask again when they next connect`
    ])
  })

  it.effect("a pending request expires exactly at its TTL on the Clock, also after a reload from the file", () =>
    Effect.gen(function* () {
      const { stateDir } = devicesDir()
      const first = (yield* loadPairing(stateDir)).pairing
      yield* TestClock.adjust(1_000)
      const { request } = yield* first.request({ deviceId: "d1", publicKey: "k1", role: "node", clientId: "c" })
      expect(request.expiresAt).toBe(1_000 + PAIRING_REQUEST_TTL_MS)
      yield* TestClock.adjust(PAIRING_REQUEST_TTL_MS - 1)
      const second = (yield* loadPairing(stateDir)).pairing
      expect((yield* second.list).pending.map((r) => r.requestId)).toEqual([request.requestId])
      yield* TestClock.adjust(1)
      expect((yield* second.list).pending).toEqual([])
      expect((yield* Effect.flip(second.approve(request.requestId, ADMIN))).code).toBe("APPROVAL_NOT_FOUND")
    })
  )
})
