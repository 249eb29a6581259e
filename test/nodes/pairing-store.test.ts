/** The Pairing service on its own: expiry on the (test) clock, the file store, and the audit of node settings. */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { auditConfig } from "../../src/services/security/audit.js"
import { makePairing, MAX_PENDING_REQUESTS, PAIRING_REQUEST_TTL_MS } from "../../src/services/pairing/Pairing.js"
import { fileStore, memoryStore } from "../../src/services/pairing/store.js"

const device = (n: number) => ({
  deviceId: `d${n}`,
  publicKey: `k${n}`,
  role: "node",
  clientId: "node-host",
  displayName: `node ${n}`
})

describe("Pairing", () => {
  it.effect("a pending request expires after 5 minutes; approving it then is APPROVAL_NOT_FOUND", () =>
    Effect.gen(function* () {
      const pairing = makePairing(memoryStore())
      const { request } = yield* pairing.request(device(1))
      expect(request.expiresAt - request.requestedAt).toBe(PAIRING_REQUEST_TTL_MS)
      yield* TestClock.adjust(PAIRING_REQUEST_TTL_MS - 1)
      expect((yield* pairing.list).pending).toHaveLength(1)
      yield* TestClock.adjust(1)
      expect((yield* pairing.list).pending).toHaveLength(0)
      const error = yield* Effect.flip(pairing.approve(request.requestId))
      expect(error.code).toBe("APPROVAL_NOT_FOUND")
      // The device may ask again and gets a new request.
      const again = yield* pairing.request(device(1))
      expect(again.created).toBe(true)
      expect(again.request.requestId).not.toBe(request.requestId)
    })
  )

  it.effect("open requests are bounded; a known device still gets its own request back", () =>
    Effect.gen(function* () {
      const pairing = makePairing(memoryStore())
      for (let i = 0; i < MAX_PENDING_REQUESTS; i++) yield* pairing.request(device(100 + i))
      const error = yield* Effect.flip(pairing.request(device(1)))
      expect(error.code).toBe("TOO_MANY_PENDING")
      expect((yield* pairing.request(device(100))).created).toBe(false)
    })
  )

  it.effect("the file store keeps paired devices and token digests across instances, with 0600 files", () =>
    Effect.gen(function* () {
      const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "oc-pair-")), "devices")
      const first = makePairing(fileStore(dir))
      const { request } = yield* first.request(device(2))
      yield* first.approve(request.requestId)
      const token = yield* first.issueToken("d2")
      const second = makePairing(fileStore(dir))
      expect(yield* second.paired("d2", "k2")).toMatchObject({ deviceId: "d2", displayName: "node 2" })
      expect(yield* second.paired("d2", "another-key")).toBeUndefined()
      expect(yield* second.checkToken("d2", token)).toBe(true)
      expect(yield* second.checkToken("d2", `${token}x`)).toBe(false)
      for (const f of ["paired.json", "pending.json"]) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600)
      expect(fs.readFileSync(path.join(dir, "paired.json"), "utf8")).not.toContain(token)
      yield* second.remove("d2")
      expect(yield* makePairing(fileStore(dir)).checkToken("d2", token)).toBe(false)
    })
  )
})

describe("Pairing store keys and files", () => {
  const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "oc-pair-")), "devices")

  it.effect("request ids such as __proto__ and constructor are plain strings: not found, nothing written", () =>
    Effect.gen(function* () {
      const dir = tmp()
      const pairing = makePairing(fileStore(dir))
      yield* pairing.request(device(1))
      for (const id of ["__proto__", "constructor", "toString", "valueOf"]) {
        expect((yield* Effect.flip(pairing.approve(id))).code).toBe("APPROVAL_NOT_FOUND")
        expect((yield* Effect.flip(pairing.reject(id))).code).toBe("APPROVAL_NOT_FOUND")
        expect((yield* Effect.flip(pairing.remove(id))).code).toBe("UNKNOWN_DEVICE")
        expect(yield* pairing.paired(id, "k")).toBeUndefined()
        expect(yield* pairing.checkToken(id, "t")).toBe(false)
      }
      const { paired, pending } = yield* pairing.list
      expect(paired).toEqual([])
      expect(pending.map((r) => r.deviceId)).toEqual(["d1"])
      expect(
        fs.existsSync(path.join(dir, "paired.json")) ? fs.readFileSync(path.join(dir, "paired.json"), "utf8") : ""
      ).not.toContain("undefined")
    })
  )

  it.effect(
    "a store file is decoded entry by entry: a __proto__ key, malformed entries and old entries without a surface",
    () =>
      Effect.gen(function* () {
        const dir = tmp()
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
        const old = { deviceId: "d9", publicKey: "k9", role: "node", clientId: "node-host", pairedAt: 1 }
        // Written by hand: JSON.parse makes "__proto__" an own key; it must not become a prototype or an entry.
        // "undefined": {pairedAt} is what approving request "__proto__" used to leave behind.
        fs.writeFileSync(
          path.join(dir, "paired.json"),
          `{"__proto__": {"deviceId": 5}, "constructor": "x", "undefined": {"pairedAt": 1}, "zz": ${JSON.stringify(old)}}`,
          { mode: 0o600 }
        )
        fs.writeFileSync(path.join(dir, "pending.json"), `{"__proto__": {"polluted": true}}`, { mode: 0o600 })
        const pairing = makePairing(fileStore(dir))
        expect(({} as any).polluted).toBeUndefined()
        const { paired, pending } = yield* pairing.list
        expect(pending).toEqual([])
        // Keyed by its own deviceId; written before surfaces were recorded, it approves nothing.
        expect(paired).toEqual([expect.objectContaining({ deviceId: "d9", commands: [], caps: [] })])
        const { request } = yield* pairing.request({ ...device(9), commands: ["browser.proxy"] })
        expect(request.upgrade).toEqual({ commands: ["browser.proxy"], caps: [] })
      })
  )

  it("a symlink planted at a store file is refused, not followed", () => {
    const dir = tmp()
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    const elsewhere = path.join(path.dirname(dir), "elsewhere.json")
    fs.writeFileSync(
      elsewhere,
      JSON.stringify({ d1: { deviceId: "d1", publicKey: "k1", role: "node", clientId: "c", pairedAt: 1 } })
    )
    fs.symlinkSync(elsewhere, path.join(dir, "paired.json"))
    expect(() => makePairing(fileStore(dir))).toThrow(/paired\.json: refusing .*it is a symbolic link/)
  })
})

describe("security audit of node settings", () => {
  const loaded = (gateway: Record<string, any>) => ({
    configPath: "/s/openclaw.json",
    stateDir: "/s",
    exists: true,
    file: { gateway }
  })
  const ids = (gateway: Record<string, any>) =>
    auditConfig(loaded(gateway), {}, {}, () => 0o600).findings.map((f) => `${f.severity}:${f.id}`)
  // A strong secret: a repeated character would itself be a weak-secret finding.
  const LONG = "8c1f0e7a9b3d5c2e4f6a8b0c1d3e5f7a"
  it("flags gateway.nodes.browser.allowFunnel, critical when Funnel is on", () => {
    expect(ids({ auth: { token: LONG } })).toEqual([])
    expect(ids({ auth: { token: LONG }, nodes: { browser: { allowFunnel: true } } })).toEqual([
      "warn:browser-allow-funnel"
    ])
    expect(
      ids({
        auth: { mode: "password", password: LONG },
        tailscale: { mode: "funnel" },
        nodes: { browser: { allowFunnel: true } }
      })
    ).toContain("critical:browser-allow-funnel")
  })
})
