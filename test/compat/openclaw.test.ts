/**
 * Wire compatibility with OpenClaw's own npm package (2026.9.x, Node 24, installed into .compat/
 * by scripts/install-compat.sh): its CLI against our Gateway, and our CLI against its Gateway.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { compatInstalled, NODE24, OPENCLAW } from "../support/compat.js"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"

const installed = compatInstalled

const TOKEN = "compat-token-5f1d2c3b4a"

/** OpenClaw's CLI, with a private HOME so it never touches the developer's own config. */
const openclaw = (args: ReadonlyArray<string>) => {
  const home = tempStateDir()
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      NODE24,
      [OPENCLAW, ...args],
      {
        env: {
          PATH: `${path.dirname(NODE24)}:${process.env.PATH}`,
          HOME: home,
          OPENCLAW_STATE_DIR: path.join(home, ".openclaw"),
          NO_COLOR: "1"
        },
        timeout: 60_000
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr })
    )
  })
}

const httpStatus = (port: number, p: string) =>
  new Promise<number>((resolve) => {
    http
      .get({ host: "127.0.0.1", port, path: p, timeout: 2_000 }, (res) => (res.resume(), resolve(res.statusCode ?? 0)))
      .on("error", () => resolve(0))
  })

/** JSON printed by a CLI, tolerating log lines before it. */
const jsonOf = (stdout: string) => JSON.parse(stdout.slice(stdout.indexOf("{")))

describe.skipIf(!installed)("OpenClaw 2026.9.x compatibility", () => {
  let ours: GatewayProcess
  let theirs: ChildProcess
  let theirPort: number
  let theirLog = ""

  beforeAll(async () => {
    const stateDir = tempStateDir()
    fs.writeFileSync(
      path.join(stateDir, "openclaw.json"),
      JSON.stringify({ gateway: { port: await freePort(), auth: { token: TOKEN } } })
    )
    ours = await startGateway([], cliEnv(stateDir))

    // A real OpenClaw gateway, offline: no channels, providers, cron or update checks.
    theirPort = await freePort()
    const home = tempStateDir()
    theirs = spawn(
      NODE24,
      [
        OPENCLAW,
        "gateway",
        "run",
        "--port",
        String(theirPort),
        "--bind",
        "loopback",
        "--auth",
        "token",
        "--token",
        TOKEN,
        "--allow-unconfigured"
      ],
      {
        env: {
          PATH: `${path.dirname(NODE24)}:${process.env.PATH}`,
          HOME: home,
          OPENCLAW_STATE_DIR: path.join(home, ".openclaw"),
          OPENCLAW_SKIP_CHANNELS: "1",
          OPENCLAW_SKIP_PROVIDERS: "1",
          OPENCLAW_SKIP_CRON: "1",
          OPENCLAW_SKIP_GMAIL_WATCHER: "1",
          OPENCLAW_SKIP_CANVAS_HOST: "1",
          OPENCLAW_SKIP_BROWSER_CONTROL_SERVER: "1",
          OPENCLAW_SKIP_STARTUP_MODEL_PREWARM: "1",
          OPENCLAW_NO_AUTO_UPDATE: "1",
          OPENCLAW_DISABLE_BONJOUR: "1",
          OPENCLAW_OFFLINE: "1",
          NO_COLOR: "1"
        },
        stdio: ["ignore", "pipe", "pipe"]
      }
    )
    theirs.stdout!.on("data", (d) => (theirLog += d))
    theirs.stderr!.on("data", (d) => (theirLog += d))
    const deadline = Date.now() + 90_000
    while ((await httpStatus(theirPort, "/readyz")) !== 200) {
      if (theirs.exitCode !== null || Date.now() > deadline)
        throw new Error(`OpenClaw gateway did not become ready:\n${theirLog.slice(-3000)}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }, 120_000)

  afterAll(async () => {
    await ours?.stop()
    if (theirs && theirs.exitCode === null) {
      const exited = new Promise((r) => theirs.once("exit", r))
      theirs.kill("SIGTERM")
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
      if (theirs.exitCode === null) theirs.kill("SIGKILL")
    }
  }, 30_000)

  describe("OpenClaw's CLI against our Gateway", () => {
    /** `openclaw <args> --url <our Gateway> --token <token> <rest>`, run by OpenClaw's CLI. */
    const atOurs = (args: ReadonlyArray<string>, rest: ReadonlyArray<string> = [], token = TOKEN) =>
      openclaw([...args, "--url", `ws://127.0.0.1:${ours.port}`, "--token", token, ...rest])

    it("gateway call health --json", async () => {
      const r = await atOurs(["gateway", "call", "health"], ["--json"])
      expect(r.code, r.stderr).toBe(0)
      expect(jsonOf(r.stdout)).toMatchObject({ ok: true })
    }, 60_000)

    it("gateway call status --json", async () => {
      const r = await atOurs(["gateway", "call", "status"], ["--json"])
      expect(r.code, r.stderr).toBe(0)
      expect(jsonOf(r.stdout)).toMatchObject({ protocol: 4, bind: { port: ours.port } })
    }, 60_000)

    it("gateway health", async () => {
      const r = await atOurs(["gateway", "health"])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/OK/)
    }, 60_000)

    it("gateway call agent --expect-final waits for the second response and prints the final reply", async () => {
      const params = JSON.stringify({ message: "hi from openclaw", idempotencyKey: "compat-k1" })
      const r = await atOurs(["gateway", "call", "agent"], ["--params", params, "--expect-final", "--json"])
      expect(r.code, r.stderr).toBe(0)
      expect(jsonOf(r.stdout)).toMatchObject({
        status: "ok",
        result: { text: "Echo: hi from openclaw", payloads: [{ text: "Echo: hi from openclaw" }] }
      })
    }, 60_000)

    it("a wrong token is refused with an unauthorized error", async () => {
      const r = await atOurs(["gateway", "call", "health"], ["--json"], "wrong")
      expect(r.code).not.toBe(0)
      expect(r.stdout + r.stderr).toMatch(/unauthorized|token mismatch/i)
    }, 60_000)
  })

  describe("our CLI against OpenClaw's Gateway", () => {
    const env = () => cliEnv(tempStateDir())

    it("gateway call health --url --token --json", async () => {
      const r = await runCli(
        ["gateway", "call", "health", "--url", `ws://127.0.0.1:${theirPort}`, "--token", TOKEN, "--json"],
        env()
      )
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: true })
    }, 30_000)

    it("gateway health and status", async () => {
      const h = await runCli(["gateway", "health", "--url", `ws://127.0.0.1:${theirPort}`, "--token", TOKEN], env())
      expect(h.code, h.stderr).toBe(0)
      expect(h.stdout).toMatch(/^Gateway Health\nOK \(\d+ms\)/)
      const s = await runCli(["status", "--url", `ws://127.0.0.1:${theirPort}`, "--token", TOKEN], env())
      expect(s.code, s.stderr).toBe(0)
      expect(s.stdout).toMatch(/Version:\s+2026\.9\.\d+ \(protocol 4\)/)
      expect(s.stdout).toMatch(/Auth:\s+token/)
    }, 30_000)

    it("a wrong token gets the unauthorized message and exit 1", async () => {
      const r = await runCli(
        ["gateway", "call", "health", "--url", `ws://127.0.0.1:${theirPort}`, "--token", "wrong"],
        env()
      )
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/unauthorized/)
    }, 30_000)
  })
})
