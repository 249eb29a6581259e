/** Writing a new shared secret into a hand-written config (comments kept) or a secret file (atomic, 0600). */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import JSON5 from "json5"
import { describe, expect, it } from "vitest"
import { writeSecret, writeSecretFile } from "../../src/config/edit-secret.js"

const NEW = "f".repeat(64)

const withFile = (text: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-edit-secret-"))
  const file = path.join(dir, "openclaw.json")
  fs.writeFileSync(file, text, { mode: 0o644 })
  return { dir, file }
}

describe("writeSecret", () => {
  it.each([
    ["gateway without auth", `// mine\n{\n  gateway: {\n    port: 1234, // port\n  },\n}\n`],
    ["auth on one line", `// mine\n{\n  gateway: { auth: { mode: "token" } }, // auth\n}\n`],
    ["no gateway", `{\n  // nothing yet\n  agent: { provider: { kind: "echo" } },\n}\n`],
    ["empty objects", `{ "gateway": { "auth": {} } } // x`],
    ["a key named gateway inside an array and a quoted key", `{ a: [{ gateway: { auth: {} } }], 'g\\'x': {}, }`]
  ])("a config without a token (%s): the key is added, comments and the rest stay", (_, text) => {
    const { file } = withFile(text)
    const before = JSON5.parse(text)
    const result = writeSecret(file, "token", NEW)
    const after = fs.readFileSync(file, "utf8")
    expect(result).toEqual({ inPlace: true, replaced: false })
    for (const comment of text.match(/\/\/[^\n]*/g) ?? []) expect(after).toContain(comment)
    const expected = { ...before, gateway: { ...before.gateway, auth: { ...before.gateway?.auth, token: NEW } } }
    expect(JSON5.parse(after)).toEqual(expected)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
  })

  it("an old token is replaced where it stands and reported as replaced", () => {
    const { file } = withFile(`{\n  gateway: { auth: { token: "old-one" } }, // keep\n}\n`)
    expect(writeSecret(file, "token", NEW)).toEqual({ inPlace: true, replaced: true })
    expect(fs.readFileSync(file, "utf8")).toBe(`{\n  gateway: { auth: { token: "${NEW}" } }, // keep\n}\n`)
  })

  it("an edit that would not read back as intended (duplicate keys) falls back to a rewrite, and says so", () => {
    const { file } = withFile(`{ gateway: { auth: { token: "" } }, gateway: { port: 1 } }`)
    expect(writeSecret(file, "token", NEW).inPlace).toBe(false)
    expect(JSON5.parse(fs.readFileSync(file, "utf8")).gateway.auth.token).toBe(NEW)
  })
})

describe("writeSecretFile", () => {
  it("replaces the file atomically with the secret and a newline, mode 0600, leaving no temporary file", () => {
    const { dir } = withFile("{}")
    const file = path.join(dir, "gateway.token")
    fs.writeFileSync(file, "old\n", { mode: 0o644 })
    writeSecretFile(file, NEW)
    expect(fs.readFileSync(file, "utf8")).toBe(`${NEW}\n`)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(fs.readdirSync(dir).sort()).toEqual(["gateway.token", "openclaw.json"])
  })

  it("refuses a symbolic link (its target would keep the old secret)", () => {
    const { dir } = withFile("{}")
    fs.writeFileSync(path.join(dir, "real"), "old\n")
    fs.symlinkSync(path.join(dir, "real"), path.join(dir, "gateway.token"))
    expect(() => writeSecretFile(path.join(dir, "gateway.token"), NEW)).toThrow(/symbolic link/)
    expect(fs.readFileSync(path.join(dir, "real"), "utf8")).toBe("old\n")
  })
})
