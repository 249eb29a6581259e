/** The Pairing service on its own: expiry on the (test) clock, the file store, and the audit of node settings. */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { auditConfig } from "../../src/security/audit.js"
import { fileStore, makePairing, MAX_PENDING_REQUESTS, memoryStore, PAIRING_REQUEST_TTL_MS } from "../../src/services/Pairing.js"

const device = (n: number) => ({ deviceId: `d${n}`, publicKey: `k${n}`, role: "node", clientId: "node-host", displayName: `node ${n}` })

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

describe("security audit of node settings", () => {
  const loaded = (gateway: Record<string, any>) => ({ configPath: "/s/openclaw.json", stateDir: "/s", exists: true, file: { gateway } })
  const ids = (gateway: Record<string, any>) => auditConfig(loaded(gateway), {}, {}, () => 0o600).findings.map((f) => `${f.severity}:${f.id}`)
  // A strong secret: a repeated character would itself be a weak-secret finding.
  const LONG = "8c1f0e7a9b3d5c2e4f6a8b0c1d3e5f7a"
  it("flags gateway.nodes.browser.allowFunnel, critical when Funnel is on", () => {
    expect(ids({ auth: { token: LONG } })).toEqual([])
    expect(ids({ auth: { token: LONG }, nodes: { browser: { allowFunnel: true } } })).toEqual(["warn:browser-allow-funnel"])
    expect(ids({ auth: { mode: "password", password: LONG }, tailscale: { mode: "funnel" }, nodes: { browser: { allowFunnel: true } } })).toContain("critical:browser-allow-funnel")
  })
})
