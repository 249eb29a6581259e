/** The Pairing service on its own: expiry on the (test) clock, the file store, and the audit of node settings. */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { auditConfig } from "../../src/services/security/audit.js"
import { makePairing, MAX_PENDING_REQUESTS, PAIRING_REQUEST_TTL_MS } from "../../src/services/pairing/Pairing.js"
import { fileStore, memoryStore } from "../../src/services/pairing/store.js"

/** The approving operator's scopes. */
const ADMIN = ["operator.admin"]

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
      const error = yield* Effect.flip(pairing.approve(request.requestId, ADMIN))
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
      yield* first.approve(request.requestId, ADMIN)
      const token = yield* first.issueToken("d2")
      const second = makePairing(fileStore(dir))
      expect(yield* second.paired("d2", "k2")).toMatchObject({ deviceId: "d2", displayName: "node 2" })
      expect(yield* second.paired("d2", "another-key")).toBeUndefined()
      expect((yield* second.checkToken("d2", token, "node")).ok).toBe(true)
      expect((yield* second.checkToken("d2", `${token}x`, "node")).ok).toBe(false)
      for (const f of ["paired.json", "pending.json"]) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600)
      expect(fs.readFileSync(path.join(dir, "paired.json"), "utf8")).not.toContain(token)
      yield* second.remove("d2")
      expect((yield* makePairing(fileStore(dir)).checkToken("d2", token, "node")).ok).toBe(false)
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
        expect((yield* Effect.flip(pairing.approve(id, ADMIN))).code).toBe("APPROVAL_NOT_FOUND")
        expect((yield* Effect.flip(pairing.reject(id))).code).toBe("APPROVAL_NOT_FOUND")
        expect((yield* Effect.flip(pairing.remove(id))).code).toBe("UNKNOWN_DEVICE")
        expect(yield* pairing.paired(id, "k")).toBeUndefined()
        expect((yield* pairing.checkToken(id, "t", "node")).ok).toBe(false)
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

describe("device tokens bound to their role and scopes", () => {
  it.effect("a node's token signs in only as a node; an operator's only as an operator, within its scopes", () =>
    Effect.gen(function* () {
      const pairing = makePairing(memoryStore())
      const { request } = yield* pairing.request(device(1))
      yield* pairing.approve(request.requestId, ADMIN)
      const nodeToken = yield* pairing.issueToken("d1")
      expect(yield* pairing.checkToken("d1", nodeToken, "node")).toEqual({ ok: true, scopes: [] })
      const asOperator = yield* pairing.checkToken("d1", nodeToken, "operator")
      expect(asOperator.ok).toBe(false)
      expect(!asOperator.ok && asOperator.problem).toContain("issued to a node")

      yield* pairing.pairDirectly({ ...device(2), role: "operator", scopes: ["operator.read"] })
      const opToken = yield* pairing.issueToken("d2")
      expect(yield* pairing.checkToken("d2", opToken, "operator")).toEqual({ ok: true, scopes: ["operator.read"] })
      expect((yield* pairing.checkToken("d2", opToken, "node")).ok).toBe(false)
      // A wrong token says nothing about roles.
      expect(yield* pairing.checkToken("d1", opToken, "operator")).toEqual({ ok: false })
    })
  )

  it.effect("a node's pairing never turns into an operator's, and an approval grants no scope its approver lacks", () =>
    Effect.gen(function* () {
      const pairing = makePairing(memoryStore())
      yield* pairing.pairDirectly(device(1))
      const error = yield* Effect.flip(
        pairing.pairDirectly({ ...device(1), role: "operator", scopes: ["operator.admin"] })
      )
      expect(error.code).toBe("WRONG_ROLE")
      expect((yield* pairing.paired("d1", "k1"))?.role).toBe("node")

      const asked = { ...device(3), role: "operator", scopes: ["operator.read", "operator.admin", "operator.pairing"] }
      const { request } = yield* pairing.request(asked)
      const { device: approved } = yield* pairing.approve(request.requestId, ["operator.pairing", "operator.write"])
      expect(approved.scopes).toEqual(["operator.read", "operator.pairing"])
    })
  )

  it.effect(
    "entries written without a role take the one their client id implies; others, and operators without scopes, must pair again",
    () =>
      Effect.gen(function* () {
        const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "oc-pair-")), "devices")
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
        const first = makePairing(fileStore(dir))
        for (const [n, clientId] of [
          [1, "node-host"],
          [2, "openclaw-control-ui"],
          [3, "some-client"]
        ] as const)
          yield* first.pairDirectly({
            ...device(n),
            clientId,
            role: clientId === "openclaw-control-ui" ? "operator" : "node"
          })
        const tokens = [yield* first.issueToken("d1"), yield* first.issueToken("d2"), yield* first.issueToken("d3")]
        // As an older version wrote them: no role, no scopes.
        const file = path.join(dir, "paired.json")
        const old = JSON.parse(fs.readFileSync(file, "utf8"))
        for (const entry of Object.values(old) as Array<Record<string, unknown>>) delete entry.role
        fs.writeFileSync(file, JSON.stringify(old), { mode: 0o600 })

        const second = makePairing(fileStore(dir))
        expect((yield* second.checkToken("d1", tokens[0]!, "node")).ok).toBe(true)
        expect((yield* second.checkToken("d1", tokens[0]!, "operator")).ok).toBe(false)
        const operator = yield* second.checkToken("d2", tokens[1]!, "operator")
        expect(!operator.ok && operator.problem).toMatch(
          /did not record its scopes; sign in once with the Gateway's token/
        )
        const unknown = yield* second.checkToken("d3", tokens[2]!, "node")
        expect(!unknown.ok && unknown.problem).toMatch(/did not record its role; pair it again/)
      })
  )
})
