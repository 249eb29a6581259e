/**
 * The node host's identity files read back with Schema: device.json that cannot be used stops
 * `node run` with the file, the field and what to do; device-auth.json that cannot be read is
 * moved aside and reported (the node pairs again); fields of a newer version are ignored.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { loadDeviceToken, loadOrCreateIdentity, storeDeviceToken } from "../../../src/services/node-host/identity.js"
import { readIdentityPublicKey } from "../../../src/platform/identity-file.js"

const stateDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "oc-identity-"))
const identityFile = (dir: string) => path.join(dir, "identity", "device.json")
const tokensFile = (dir: string) => path.join(dir, "identity", "device-auth.json")
const edit = (file: string, change: (v: any) => unknown) =>
  fs.writeFileSync(file, JSON.stringify(change(JSON.parse(fs.readFileSync(file, "utf8")))))

describe("device.json", () => {
  it("fields a newer version wrote are ignored; the same identity loads", () => {
    const dir = stateDir()
    const first = loadOrCreateIdentity(dir)
    edit(identityFile(dir), (v) => ({ ...v, version: 2, hardwareBacked: { slot: 1 } }))
    expect(loadOrCreateIdentity(dir).deviceId).toBe(first.deviceId)
    expect(readIdentityPublicKey(dir)).toBe(first.publicKey)
  })

  it("a wrong-typed privateKeyPem is named, with what to do; the key is never echoed", () => {
    const dir = stateDir()
    loadOrCreateIdentity(dir)
    edit(identityFile(dir), (v) => ({ ...v, privateKeyPem: ["not", "a", "string"] }))
    expect(() => loadOrCreateIdentity(dir)).toThrow(
      `${identityFile(dir)} is not an identity (privateKeyPem: expected string); move it away to create a new identity (the node must then be paired again)`
    )
    // The Gateway reads only the public key, which is still there.
    expect(readIdentityPublicKey(dir)).toBe(JSON.parse(fs.readFileSync(identityFile(dir), "utf8")).publicKey as string)
  })

  it("a truncated file says so without quoting it", () => {
    const dir = stateDir()
    loadOrCreateIdentity(dir)
    const text = fs.readFileSync(identityFile(dir), "utf8")
    fs.writeFileSync(identityFile(dir), text.slice(0, text.indexOf("PRIVATE KEY") + 20))
    let message = ""
    try {
      loadOrCreateIdentity(dir)
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toBe(
      `${identityFile(dir)} is not valid JSON: it ends mid-value (cut short by a crash or a full disk?); move it away to create a new identity (the node must then be paired again)`
    )
    expect(message).not.toContain("PRIVATE KEY")
    expect(readIdentityPublicKey(dir)).toBeUndefined()
  })
})

describe("device-auth.json", () => {
  it("a wrong-typed entry is named and dropped, the file moved aside once and the rest kept; newer fields are ignored", () => {
    const dir = stateDir()
    storeDeviceToken(dir, "wss://a.example", "d1", "token-a", () => {})
    storeDeviceToken(dir, "wss://b.example", "d1", "token-b", () => {})
    edit(tokensFile(dir), (v) => ({
      ...v,
      format: "future",
      tokens: {
        ...v.tokens,
        "wss://b.example": { ...v.tokens["wss://b.example"], deviceId: 7 },
        "wss://c": { ...v.tokens["wss://a.example"], scope: ["x"] }
      }
    }))
    const reports: Array<string> = []
    expect(loadDeviceToken(dir, "wss://a.example", "d1", (w) => reports.push(w))).toBe("token-a")
    expect(loadDeviceToken(dir, "wss://c", "d1", (w) => reports.push(w))).toBe("token-a")
    expect(loadDeviceToken(dir, "wss://b.example", "d1", (w) => reports.push(w))).toBeUndefined()
    expect(reports).toHaveLength(1)
    expect(reports[0]).toContain(
      `${tokensFile(dir)} has device tokens this version cannot read (entry "wss://b.example": deviceId: expected string); moved it to ${tokensFile(dir)}.bad-`
    )
    expect(reports[0]).toContain("pass --token or --password to pair those Gateways again")
    expect(reports[0]).not.toContain("token-b")
    expect(Object.keys(JSON.parse(fs.readFileSync(tokensFile(dir), "utf8")).tokens)).toEqual([
      "wss://a.example",
      "wss://c"
    ])
  })

  it("a truncated file is moved aside and reported; the node pairs again and a new token is stored", () => {
    const dir = stateDir()
    storeDeviceToken(dir, "wss://a.example", "d1", "token-a", () => {})
    fs.writeFileSync(tokensFile(dir), fs.readFileSync(tokensFile(dir), "utf8").slice(0, 40))
    const reports: Array<string> = []
    expect(loadDeviceToken(dir, "wss://a.example", "d1", (w) => reports.push(w))).toBeUndefined()
    expect(reports).toEqual([
      expect.stringMatching(/device-auth\.json is not valid JSON: it ends mid-value .*moved it to/)
    ])
    storeDeviceToken(dir, "wss://a.example", "d1", "token-new", (w) => reports.push(w))
    expect(reports).toHaveLength(1)
    expect(loadDeviceToken(dir, "wss://a.example", "d1")).toBe("token-new")
  })
})
