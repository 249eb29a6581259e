/**
 * State files are opened without following symlinks (security.md section 8): a link planted at a
 * session file, a pairing or identity file, or the temporary name a record is written through is
 * refused (or replaced), never followed. Session files through a real `openclaw gateway run`.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { loadOrCreateIdentity, storeDeviceToken } from "../../src/services/node-host/identity.js"
import { readPrivateText, writePrivateJson } from "../../src/platform/private-file.js"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "oc-state-"))
/** A file outside the state dir that an attacker wants the Gateway to write to or read. */
const victim = (dir: string, text = "precious\n") => {
  const file = path.join(dir, "victim.txt")
  fs.writeFileSync(file, text)
  return file
}

describe("private files", () => {
  it("writing a record replaces a link at its name and never writes through a link at its temporary name", () => {
    const dir = tmp()
    const target = victim(dir)
    const file = path.join(dir, "state", "record.json")
    fs.mkdirSync(path.dirname(file))
    fs.symlinkSync(target, `${file}.${process.pid}.tmp`)
    fs.symlinkSync(target, file)
    writePrivateJson(file, { ok: true })
    expect(fs.readFileSync(target, "utf8")).toBe("precious\n")
    expect(fs.lstatSync(file).isFile()).toBe(true)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual({ ok: true })
  })

  it("reading refuses a link and a non-regular file, and says so", () => {
    const dir = tmp()
    const link = path.join(dir, "link.json")
    fs.symlinkSync(victim(dir, "{}"), link)
    expect(() => readPrivateText(link)).toThrow(`refusing ${link}: it is a symbolic link`)
    expect(() => readPrivateText(dir)).toThrow(`refusing ${dir}: it is not a regular file`)
    expect(readPrivateText(path.join(dir, "missing.json"))).toBeUndefined()
  })

  it("a node host's identity behind a link is refused; its device token store is never written through one", () => {
    const dir = tmp()
    const target = victim(dir)
    fs.mkdirSync(path.join(dir, "identity"), { mode: 0o700 })
    fs.symlinkSync(target, path.join(dir, "identity", "device.json"))
    expect(() => loadOrCreateIdentity(dir)).toThrow(/device\.json: it is a symbolic link/)
    fs.symlinkSync(target, path.join(dir, "identity", "device-auth.json"))
    storeDeviceToken(dir, "__proto__", "d1", "t1")
    expect(fs.readFileSync(target, "utf8")).toBe("precious\n")
    expect(JSON.parse(fs.readFileSync(path.join(dir, "identity", "device-auth.json"), "utf8")).tokens).toEqual({
      __proto__: expect.anything()
    })
  })
})

describe("session files through a real Gateway", () => {
  let gw: GatewayProcess | undefined
  afterEach(async () => {
    await gw?.stop()
    gw = undefined
  })

  it("a symlink planted at a session file is refused with a logged error, not followed", async () => {
    const stateDir = tempStateDir()
    const outside = tmp()
    const target = victim(outside)
    const sessions = path.join(stateDir, "sessions")
    fs.mkdirSync(sessions, { recursive: true, mode: 0o700 })
    // One planted before start (read at start-up), one for a session the Gateway will write.
    fs.symlinkSync(target, path.join(sessions, "main.jsonl"))
    const env = {
      ...cliEnv(stateDir),
      OPENCLAW_GATEWAY_TOKEN: "state-files-token-0123456789",
      OPENCLAW_GATEWAY_PORT: String(await freePort())
    }
    gw = await startGateway([], env)
    expect(gw.output()).toMatch(
      /warning: cannot read session file .*main\.jsonl: refusing .*main\.jsonl: it is a symbolic link/
    )

    const sent = await runCli(["gateway", "send", "--to", "main", "--message", "into the link?"], env)
    expect(sent.code).toBe(1)
    expect(sent.stderr).toContain("it is a symbolic link")
    fs.symlinkSync(target, path.join(sessions, "later.jsonl"))
    const later = await runCli(["gateway", "send", "--to", "later", "--message", "and this one?"], env)
    expect(later.code).toBe(1)
    const deadline = Date.now() + 5_000
    // Logged as an error (the connection fibers log with Effect's default format: level=ERROR).
    const logged = (file: string) =>
      new RegExp(`(error: |level=ERROR .*)cannot write session file: refusing .*${file}: it is a symbolic link`)
    while (!logged("later\\.jsonl").test(gw.output()) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50))
    expect(gw.output()).toMatch(logged("main\\.jsonl"))
    expect(gw.output()).toMatch(logged("later\\.jsonl"))
    expect(fs.readFileSync(target, "utf8")).toBe("precious\n")

    // Other sessions are unaffected.
    const ok = await runCli(["gateway", "send", "--to", "fine", "--message", "hello"], env)
    expect(ok.code).toBe(0)
    expect(fs.readFileSync(path.join(sessions, "fine.jsonl"), "utf8")).toContain("hello")
  }, 40_000)
})
