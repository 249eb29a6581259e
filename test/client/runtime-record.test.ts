/**
 * Where the running Gateway's runtime record fits in target resolution, and the record file
 * itself (decoded with Schema: what is wrong is named, newer fields ignored, a bad record unused).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { Either } from "effect"
import { resolveTarget } from "../../src/client/target.js"
import { spawn } from "node:child_process"
import {
  isProcessAlive,
  readRuntimeRecord,
  readRuntimeRecordFile,
  removeRuntimeRecord,
  runtimeRecordPath,
  writeRuntimeRecord
} from "../../src/config/runtime-record.js"
import { tempStateDir } from "../support/cli.js"

const setup = (gateway: Record<string, any> = {}, record: Record<string, any> = {}) => {
  const stateDir = tempStateDir()
  const configPath = path.join(stateDir, "openclaw.json")
  writeRuntimeRecord(stateDir, {
    pid: process.pid,
    port: 41300,
    bind: "loopback",
    addresses: ["127.0.0.1"],
    url: "ws://127.0.0.1:41300",
    healthUrl: "http://127.0.0.1:41300/healthz",
    authMode: "token",
    configPath,
    startedAt: new Date().toISOString(),
    ...record
  })
  return {
    stateDir,
    loaded: { configPath, stateDir, exists: true, file: { gateway: { auth: { token: "file" }, ...gateway } } }
  }
}

describe("the runtime record in target resolution", () => {
  it("beats gateway.port and the default port in local mode, and says so", () => {
    const { loaded } = setup({ port: 19000 })
    expect(resolveTarget(loaded, {}, {})).toMatchObject({
      url: "ws://127.0.0.1:41300",
      source: `running Gateway, PID ${process.pid}, port 41300`,
      token: "file",
      remote: false
    })
  })

  it("loses to an explicit other port (--port, OPENCLAW_GATEWAY_PORT), to --url, to OPENCLAW_GATEWAY_URL and to remote mode", () => {
    const { loaded } = setup()
    expect(resolveTarget(loaded, { OPENCLAW_GATEWAY_PORT: "19001" }, {})).toMatchObject({
      url: "ws://127.0.0.1:19001",
      source: "local (OPENCLAW_GATEWAY_PORT)"
    })
    expect(resolveTarget(loaded, {}, { port: 19002 })).toMatchObject({
      url: "ws://127.0.0.1:19002",
      source: "local (--port)",
      token: "file"
    })
    expect(resolveTarget(loaded, {}, { url: "ws://127.0.0.1:2", token: "x" }).source).toBe("--url")
    expect(resolveTarget(loaded, { OPENCLAW_GATEWAY_URL: "ws://127.0.0.1:3" }, {}).source).toBe("OPENCLAW_GATEWAY_URL")
    const remote = {
      ...loaded,
      file: { gateway: { mode: "remote" as const, remote: { url: "ws://10.0.0.5:18789" }, auth: { token: "f" } } }
    }
    expect(resolveTarget(remote, {}, {}).source).toBe("gateway.remote.url")
    // --port beats a remote config: it names a Gateway on this machine.
    expect(resolveTarget(remote, {}, { port: 41300 })).toMatchObject({
      url: "ws://127.0.0.1:41300",
      source: "local (--port)"
    })
  })

  it("the record's URL carries the host a tailnet bind uses, and its fingerprint pins a TLS Gateway", () => {
    const fp = "AB:".repeat(31) + "AB"
    const { loaded } = setup(
      { bind: "tailnet" },
      { url: "wss://100.101.102.103:41300", tlsFingerprint: fp, tlsCertPath: "/state/gateway/tls/gateway-cert.pem" }
    )
    // No Tailscale interface is needed: the record says where the Gateway listens.
    expect(resolveTarget(loaded, {}, {}, () => ({}))).toMatchObject({
      url: "wss://100.101.102.103:41300",
      tlsFingerprint: fp,
      pinSource: "local certificate /state/gateway/tls/gateway-cert.pem"
    })
  })

  it("is ignored for another config file or a process that is gone", () => {
    const other = setup({}, { configPath: "/elsewhere/openclaw.json" })
    expect(resolveTarget(other.loaded, {}, {}).source).toBe("local (default port)")
    const { stateDir, loaded } = setup()
    expect(readRuntimeRecord(stateDir, () => false)).toBeUndefined()
    fs.writeFileSync(runtimeRecordPath(stateDir), "{not json")
    expect(resolveTarget(loaded, {}, {}).source).toBe("local (default port)")
  })

  it("is 0600, removed only by the process that wrote it, and never read through a symlink", () => {
    const { stateDir } = setup()
    const file = runtimeRecordPath(stateDir)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    removeRuntimeRecord(stateDir, process.pid + 1)
    expect(fs.existsSync(file)).toBe(true)
    const elsewhere = path.join(tempStateDir(), "record.json")
    fs.renameSync(file, elsewhere)
    fs.symlinkSync(elsewhere, file)
    expect(readRuntimeRecord(stateDir)).toBeUndefined()
    fs.rmSync(file)
    fs.renameSync(elsewhere, file)
    removeRuntimeRecord(stateDir)
    expect(fs.existsSync(file)).toBe(false)
  })

  it("a credential flag replaces the configured secret of the other kind", () => {
    const { loaded } = setup()
    expect(resolveTarget(loaded, {}, { password: "p" })).toMatchObject({ token: undefined, password: "p" })
    expect(resolveTarget(loaded, {}, { token: "t" })).toMatchObject({ token: "t", password: undefined })
  })
})

describe("the runtime record file decoded", () => {
  const rewrite = (file: string, change: (r: Record<string, unknown>) => unknown) =>
    fs.writeFileSync(file, JSON.stringify(change(JSON.parse(fs.readFileSync(file, "utf8")))))

  it("fields a newer version wrote are ignored; a missing file is no record", () => {
    const { stateDir } = setup()
    const file = runtimeRecordPath(stateDir)
    const before = readRuntimeRecord(stateDir)
    rewrite(file, (r) => ({ ...r, features: { v5: true }, hostname: "box" }))
    expect(readRuntimeRecord(stateDir)).toEqual(before)
    fs.rmSync(file)
    expect(readRuntimeRecordFile(file)).toBeUndefined()
  })

  it("wrong-typed fields are named, without their values, and the record is not used", () => {
    const { stateDir } = setup()
    const file = runtimeRecordPath(stateDir)
    rewrite(file, ({ addresses: _a, ...r }) => ({ ...r, port: "41300", url: "http://127.0.0.1:41300" }))
    expect(readRuntimeRecordFile(file)).toEqual(
      Either.left(
        "port: expected number; addresses: is missing; url: expected a string matching the pattern ^wss?:\\/\\/"
      )
    )
    expect(readRuntimeRecord(stateDir)).toBeUndefined()
  })

  it("a truncated record says so and is not used", () => {
    const { stateDir } = setup()
    const file = runtimeRecordPath(stateDir)
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").slice(0, 50))
    expect(readRuntimeRecordFile(file)).toEqual(
      Either.left("is not valid JSON: it ends mid-value (cut short by a crash or a full disk?)")
    )
    expect(readRuntimeRecord(stateDir)).toBeUndefined()
  })
})

describe("isProcessAlive", () => {
  it("a killed process not yet reaped (a zombie) is gone; a live one is alive", async () => {
    // After `exec sleep` the background child belongs to a process that never reaps it, as under a container's
    // non-reaping PID 1; killed only once the exec is done, it stays a zombie (the shell itself might reap it).
    const parent = spawn("sh", ["-c", "sleep 30 & echo $!; exec sleep 20"], {
      stdio: ["ignore", "pipe", "ignore"]
    })
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once("data", (d) => resolve(String(d)))))
      const comm = () => fs.readFileSync(`/proc/${parent.pid}/comm`, "utf8").trim()
      for (let i = 0; i < 100 && comm() !== "sleep"; i++) await new Promise((r) => setTimeout(r, 20))
      process.kill(pid, "SIGKILL")
      for (let i = 0; i < 100 && !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8")); i++) {
        await new Promise((r) => setTimeout(r, 20))
      }
      expect(fs.readFileSync(`/proc/${pid}/stat`, "utf8")).toMatch(/\) Z /)
      expect(isProcessAlive(pid)).toBe(false)
      expect(isProcessAlive(parent.pid!)).toBe(true)
    } finally {
      parent.kill("SIGKILL")
    }
  })
})
