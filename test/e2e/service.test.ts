/**
 * `openclaw gateway install | start | stop | restart | status | logs | uninstall` from the real CLI
 * against a faithful fake systemd user manager (test/support/fake-systemd on PATH: it keeps its state
 * in a directory, records every call, and really runs the unit's ExecStart), so the Gateway the
 * service runs is the real `gateway run`. The unit is checked with the real `systemd-analyze verify`.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BIN, cliEnv, freePort, runCli, startGateway, tempStateDir } from "../support/cli.js"

const FAKE = path.resolve(__dirname, "../support/fake-systemd")
const TOKEN = "service-test-token-5c1e9a7b3d2f4e60"
const UNIT = "openclaw-gateway.service"

const healthz = async (port: number): Promise<boolean> => {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) })
    return res.ok
  } catch {
    return false
  }
}

/** Polls until /healthz answers `up` (true) or refuses (false); generous, as the machine is loaded. */
const waitHealth = async (port: number, up: boolean, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if ((await healthz(port)) === up) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

const analyzeWorks = spawnSync("systemd-analyze", ["--version"]).status === 0

describe("gateway install as a systemd user service (fake systemctl on PATH)", () => {
  let home: string
  let env: NodeJS.ProcessEnv
  let port: number
  let unitDir: string
  let unitPath: string
  let fakeState: string
  const calls = () =>
    fs
      .readFileSync(path.join(fakeState, "calls.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { prog: string; args: Array<string> })
  const runtime = () =>
    JSON.parse(fs.readFileSync(path.join(fakeState, "units", `${UNIT}.json`), "utf8")) as { MainPID: number }

  beforeAll(async () => {
    home = tempStateDir()
    fakeState = path.join(home, "fake-systemd")
    port = await freePort()
    fs.writeFileSync(path.join(home, "openclaw.json"), JSON.stringify({ gateway: { auth: { token: TOKEN } } }))
    env = cliEnv(home, { PATH: `${FAKE}:${process.env.PATH}`, FAKE_SYSTEMD_STATE: fakeState })
    unitDir = path.join(home, ".config", "systemd", "user")
    unitPath = path.join(unitDir, UNIT)
    // Someone else's unit, which nothing of ours may touch.
    fs.mkdirSync(unitDir, { recursive: true })
    fs.writeFileSync(path.join(unitDir, "other.service"), "[Service]\nExecStart=/bin/true\n")
  })
  afterAll(async () => {
    await runCli(["gateway", "stop"], env)
    fs.rmSync(home, { recursive: true, force: true })
  })

  it("install writes the unit, enables and starts it, and the real Gateway answers /healthz", async () => {
    const r = await runCli(["gateway", "install", "--port", String(port)], env, 30_000)
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`Installed ${unitPath}`)
    expect(r.stdout).toMatch(/Service: systemd openclaw-gateway\.service: active \(running\), enabled, PID \d+/)
    expect(r.stdout).toContain(`Linger:  enabled for ${os.userInfo().username}`)
    expect(await waitHealth(port, true)).toBe(true)

    const unit = fs.readFileSync(unitPath, "utf8")
    // Absolute paths as installed now: a later nvm switch or PATH change cannot break it.
    expect(unit).toContain(
      `ExecStart=${fs.realpathSync(process.execPath)} ${fs.realpathSync(BIN)} gateway run --port ${port}\n`
    )
    expect(unit).toContain(`Environment=OPENCLAW_STATE_DIR=${home}\n`)
    expect(unit).toMatch(/^Restart=on-failure$/m)
    expect(unit).toMatch(/^RestartSec=\d+$/m)
    expect(unit).toMatch(/^StartLimitBurst=\d+$/m)
    expect(unit).toMatch(/^LimitNOFILE=8192$/m)
    expect(unit).not.toContain(TOKEN)
    expect(fs.existsSync(path.join(unitDir, "default.target.wants", UNIT))).toBe(true)
    const verbs = calls().map((c) => `${c.prog} ${c.args.join(" ")}`)
    expect(verbs).toContain("systemctl --user daemon-reload")
    expect(verbs).toContain(`systemctl --user enable --now ${UNIT}`)
    expect(verbs.indexOf("systemctl --user daemon-reload")).toBeLessThan(
      verbs.indexOf(`systemctl --user enable --now ${UNIT}`)
    )
    expect(verbs).toContain(`loginctl enable-linger ${os.userInfo().username}`)
  })

  it.skipIf(!analyzeWorks)("the unit passes the real systemd-analyze verify, with no warning", () => {
    const r = spawnSync("systemd-analyze", ["verify", unitPath], { encoding: "utf8" })
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
  })

  it("gateway status shows the service: manager, unit, active, enabled, PID and since when", async () => {
    const r = await runCli(["gateway", "status"], env)
    expect(r.code).toBe(0)
    const pid = runtime().MainPID
    expect(r.stdout).toMatch(
      new RegExp(
        `Service: +systemd openclaw-gateway\\.service: active \\(running\\), enabled, PID ${pid} since \\w{3} \\d{4}-`
      )
    )
    const json = JSON.parse((await runCli(["gateway", "status", "--json"], env)).stdout) as {
      service: { manager: string; active: string; enabled: boolean; pid: number }
    }
    expect(json.service).toMatchObject({ manager: "systemd", active: "active", enabled: true, pid })
  })

  it("three stop / start / restart cycles: /healthz goes away and answers again each time", async () => {
    for (let cycle = 0; cycle < 3; cycle++) {
      const stop = await runCli(["gateway", "stop"], env, 30_000)
      expect(stop.code).toBe(0)
      expect(stop.stdout).toMatch(/Stopped\. Service: .*inactive/)
      expect(await waitHealth(port, false)).toBe(true)
      const status = await runCli(["gateway", "status"], env)
      expect(status.code).toBe(1)
      expect(status.stderr).toMatch(/Service: +systemd openclaw-gateway\.service: inactive \(dead\), enabled/)

      const start = await runCli(["gateway", "start"], env, 30_000)
      expect(start.code).toBe(0)
      expect(await waitHealth(port, true)).toBe(true)

      const before = runtime().MainPID
      const restart = await runCli(["gateway", "restart"], env, 30_000)
      expect(restart.code).toBe(0)
      expect(await waitHealth(port, true)).toBe(true)
      expect(runtime().MainPID).not.toBe(before)
    }
  }, 240_000)

  it("a Gateway killed with SIGKILL is restarted by Restart=on-failure", async () => {
    const pid = runtime().MainPID
    process.kill(pid, "SIGKILL")
    expect(await waitHealth(port, false)).toBe(true)
    expect(await waitHealth(port, true, 30_000)).toBe(true)
    expect(runtime().MainPID).not.toBe(pid)
    const status = await runCli(["gateway", "status"], env)
    // As with systemd, ExecMain* now describe the new process; NRestarts counts the restart.
    expect(status.stdout).toMatch(/active \(running\), enabled, PID \d+ since .*restarted 1 time\(s\) after a failure/)
  }, 60_000)

  it("gateway logs shows the service's journal", async () => {
    const r = await runCli(["gateway", "logs"], env)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`listening on ws://127.0.0.1:${port}`)
    expect(r.stdout).not.toContain(TOKEN)
  })

  it("gateway logs --follow streams new lines, sanitised, and stops with its journalctl on SIGTERM", async () => {
    const child = spawn(BIN, ["gateway", "logs", "--follow"], { env, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
    const until = async (text: string) => {
      const deadline = Date.now() + 15_000
      while (!out.includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      return out.includes(text)
    }
    expect(await until("listening on")).toBe(true)
    fs.appendFileSync(path.join(fakeState, "logs", `${UNIT}.log`), "a new line \x1b]0;pwned\x07 here\n")
    expect(await until("a new line")).toBe(true)
    expect(out).not.toContain("\x1b]0;")
    expect(out).toContain("here")
    const journalctl = calls()
      .filter((c) => c.prog === "journalctl")
      .pop()
    expect(journalctl?.args).toEqual(["--user", "-u", UNIT, "-n", "200", "--no-pager", "-f"])
    child.kill("SIGTERM")
    expect(await exited).toBe(0)
    // The follower it ran is gone too.
    await new Promise((r) => setTimeout(r, 500))
    expect(
      spawnSync("pgrep", ["-f", `journalctl --user -u ${UNIT}`])
        .stdout.toString()
        .trim()
    ).toBe("")
  }, 40_000)

  it("reinstall with the same flags is idempotent; a changed unit is refused naming the diff; --force replaces it", async () => {
    const before = fs.statSync(unitPath).mtimeMs
    const callsBefore = calls().length
    const same = await runCli(["gateway", "install", "--port", String(port)], env, 30_000)
    expect(same.code).toBe(0)
    expect(same.stdout).toContain("unchanged, nothing to do")
    expect(fs.statSync(unitPath).mtimeMs).toBe(before)
    expect(
      calls()
        .slice(callsBefore)
        .map((c) => c.args[1])
    ).not.toContain("daemon-reload")

    const other = await freePort()
    const changed = await runCli(["gateway", "install", "--port", String(other)], env, 30_000)
    expect(changed.code).toBe(1)
    expect(changed.stderr).toContain(`- ExecStart=`)
    expect(changed.stderr).toContain(`--port ${port}`)
    expect(changed.stderr).toContain(`+ ExecStart=`)
    expect(changed.stderr).toContain("--force")
    expect(fs.readFileSync(unitPath, "utf8")).toContain(`--port ${port}\n`)

    const forced = await runCli(["gateway", "install", "--port", String(other), "--force"], env, 30_000)
    expect(forced.code).toBe(0)
    expect(forced.stdout).toContain(`Replaced ${unitPath}`)
    expect(await waitHealth(other, true)).toBe(true)
    expect(await waitHealth(port, false)).toBe(true)
    port = other
  }, 90_000)

  it("uninstall stops and removes only our unit; other units stay", async () => {
    const r = await runCli(["gateway", "uninstall"], env, 30_000)
    expect(r.code).toBe(0)
    expect(fs.existsSync(unitPath)).toBe(false)
    expect(fs.existsSync(path.join(unitDir, "default.target.wants", UNIT))).toBe(false)
    expect(fs.readFileSync(path.join(unitDir, "other.service"), "utf8")).toBe("[Service]\nExecStart=/bin/true\n")
    expect(await waitHealth(port, false)).toBe(true)
    expect(calls().some((c) => c.args.includes("other.service"))).toBe(false)
    const again = await runCli(["gateway", "uninstall"], env)
    expect(again.code).toBe(0)
    expect(again.stdout).toContain("Nothing to remove")
  })

  it("uninstall refuses a unit of the same name that we did not write", async () => {
    fs.writeFileSync(unitPath, "[Service]\nExecStart=/bin/true\n")
    const r = await runCli(["gateway", "uninstall"], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("was not installed by `openclaw gateway install`")
    expect(fs.existsSync(unitPath)).toBe(true)
    const install = await runCli(["gateway", "install", "--port", String(port)], env)
    expect(install.code).toBe(1)
    expect(install.stderr).toContain("was not installed by `openclaw gateway install`")
    fs.rmSync(unitPath)
  })
})

describe("gateway install where it cannot or must not", () => {
  let home: string
  let env: NodeJS.ProcessEnv
  beforeAll(() => {
    home = tempStateDir()
    env = cliEnv(home, { PATH: `${FAKE}:${process.env.PATH}`, FAKE_SYSTEMD_STATE: path.join(home, "fake") })
  })
  afterAll(async () => {
    await runCli(["gateway", "stop"], env)
    fs.rmSync(home, { recursive: true, force: true })
  })

  it("no user manager (systemctl --user cannot reach its bus): refused with the unit and the foreground alternatives", async () => {
    const r = await runCli(["gateway", "install", "--port", "18123"], { ...env, FAKE_SYSTEMD_NO_BUS: "1" })
    expect(r.code).toBe(69)
    expect(r.stderr).toContain("Failed to connect to bus: No medium found")
    expect(r.stderr).toContain("ExecStart=")
    expect(r.stderr).toContain("[Install]")
    expect(r.stderr).toContain("tmux new -d -s openclaw 'openclaw gateway run --port 18123'")
    expect(r.stderr).toContain("nohup openclaw gateway run --port 18123")
    expect(fs.existsSync(path.join(home, ".config", "systemd", "user", UNIT))).toBe(false)
    const stop = await runCli(["gateway", "stop"], { ...env, FAKE_SYSTEMD_NO_BUS: "1" })
    expect(stop.code).toBe(69)
  })

  it("--token and --password are refused: the secret belongs in the config file", async () => {
    for (const flag of ["--token", "--password"]) {
      const r = await runCli(["gateway", "install", flag, "hunter2-secret-value"], env)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain("config file")
      expect(r.stderr).not.toContain("hunter2")
    }
    expect(fs.existsSync(path.join(home, ".config", "systemd", "user", UNIT))).toBe(false)
  })

  it("a config that needs a shell variable the service will not have is refused before anything is installed", async () => {
    fs.writeFileSync(
      path.join(home, "openclaw.json"),
      JSON.stringify({ gateway: { auth: { token: "${MY_GW_TOKEN}" } } })
    )
    const r = await runCli(["gateway", "install", "--port", "18124"], {
      ...env,
      MY_GW_TOKEN: "from-the-shell-0123456789abcdef"
    })
    expect(r.code).toBe(78)
    expect(r.stderr).toContain("MY_GW_TOKEN")
    expect(r.stderr).toContain("does not see your shell's variables")
    expect(r.stderr).not.toContain("from-the-shell")
    expect(fs.existsSync(path.join(home, ".config", "systemd", "user", UNIT))).toBe(false)
    fs.rmSync(path.join(home, "openclaw.json"))
  })

  it("linger refused: install still works and prints the exact command and why", async () => {
    const port = await freePort()
    const r = await runCli(["gateway", "install", "--port", String(port)], { ...env, FAKE_LOGINCTL_DENY: "1" }, 30_000)
    expect(r.code).toBe(0)
    const user = os.userInfo().username
    expect(r.stdout).toContain(
      `Linger:  OFF. \`loginctl enable-linger ${user}\` was refused: Could not enable linger: Access denied`
    )
    expect(r.stdout).toContain("the Gateway stops at SSH logout")
    expect(r.stdout).toContain(`sudo loginctl enable-linger ${user}`)
    expect(await waitHealth(port, true)).toBe(true)
    execFileSync(BIN, ["gateway", "uninstall"], { env })
    expect(await waitHealth(port, false)).toBe(true)
  }, 60_000)

  it("install while a Gateway started by hand holds the port says so, and how to hand over to the service", async () => {
    const port = await freePort()
    const byHand = await startGateway(["--port", String(port)], env)
    try {
      const r = await runCli(["gateway", "install", "--port", String(port)], env, 30_000)
      expect(r.code).toBe(0)
      expect(r.stdout).toContain(
        `Note:    a Gateway you started by hand (PID ${byHand.child.pid}) holds port ${port}, so the service cannot listen there.`
      )
      expect(r.stdout).toContain(`\`kill ${byHand.child.pid}\`), then \`openclaw gateway restart\``)
      // Once the hand-started one stops, the service's own Gateway takes the port.
      await byHand.stop()
      await runCli(["gateway", "restart"], env, 30_000)
      expect(await waitHealth(port, true)).toBe(true)
      // A reinstall while the service's own Gateway holds the port is not that case.
      const again = await runCli(["gateway", "install", "--port", String(port)], env, 30_000)
      expect(again.stdout).not.toContain("started by hand")
    } finally {
      await byHand.stop()
      execFileSync(BIN, ["gateway", "uninstall"], { env })
    }
  }, 90_000)
})
