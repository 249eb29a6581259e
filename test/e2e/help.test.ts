/**
 * The CLI's help and usage errors through the real binary: every help page short and narrow, one
 * line per flag, no library filler, colour only on a terminal, no hanging wizard, unknown
 * subcommands answered with their group's commands, and every bad flag value a one-line exit 2.
 */
import { execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, cliEnv, freePort, runCli, tempStateDir } from "../support/cli.js"

const env = () => cliEnv(tempStateDir())
const ANSI = /\x1b\[/

/** Every command path, found by following the "Commands:" sections of the help itself. */
const allPaths = async (): Promise<Array<Array<string>>> => {
  const found: Array<Array<string>> = []
  const visit = async (p: Array<string>) => {
    found.push(p)
    const r = await runCli([...p, "--help"], env())
    const section = r.stdout.split("\nCommands:\n")[1]
    if (section === undefined) return
    for (const line of section.split("\n\n")[0]!.split("\n")) await visit([...p, line.trim().split(/\s+/)[0]!])
  }
  await visit([])
  return found
}

/** Runs the CLI under a pseudo-terminal (util-linux `script`), as a user at a terminal would. */
const inTerminal = (args: string, extra: Record<string, string>) =>
  new Promise<string>((resolve) => {
    execFile(
      "script",
      ["-qec", `${BIN} ${args}`, "/dev/null"],
      { env: { ...env(), TERM: "xterm-256color", ...extra }, timeout: 15_000 },
      (_e, stdout) => resolve(stdout)
    )
  })

describe("help", () => {
  it("every page: at most 80 lines and 100 columns, usage starting with openclaw, one line per flag, no filler, no ANSI when piped", async () => {
    const paths = await allPaths()
    expect(paths.length).toBeGreaterThan(25)
    for (const p of paths) {
      const name = ["openclaw", ...p].join(" ")
      const r = await runCli([...p, "--help"], env())
      expect(r.code, name).toBe(0)
      const lines = r.stdout.trimEnd().split("\n")
      expect(lines.length, name).toBeLessThanOrEqual(80)
      for (const line of lines) expect(line.length, `${name}: ${line}`).toBeLessThanOrEqual(100)
      expect(r.stdout, name).not.toMatch(ANSI)
      expect(r.stdout, name).toMatch(new RegExp(`^Usage: ${name.replace(/ /g, " ")}( |$)`, "m"))
      expect(r.stdout, name).not.toMatch(/A true or false value|This setting is optional|One of the following|--wizard/)
      // One line per flag: after "Options", every line is a flag with its description.
      const options = r.stdout
        .split(/\nOptions[^\n]*:\n/)[1]!
        .split("\n\n")[0]!
        .trimEnd()
        .split("\n")
      for (const line of options) expect(line, name).toMatch(/^  --?\w[^ ]*(, --[\w-]+)?( <[\w-]+>)?\s+\S/)
    }
  }, 120_000)

  it("the top level lists commands, not every gateway run flag; gateway lists its commands and its run flags once", async () => {
    const top = await runCli(["--help"], env())
    expect(top.stdout).toMatch(/^  gateway\s+Run the Gateway/m)
    expect(top.stdout).toMatch(/^  dashboard\s+/m)
    expect(top.stdout).not.toContain("--tailscale")
    const gateway = await runCli(["gateway", "--help"], env())
    expect(gateway.stdout.match(/--tailscale /g)).toHaveLength(1)
    expect(gateway.stdout).toMatch(/^  tunnel\s+/m)
    const version = await runCli(["--version"], env())
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/)
    const bare = await runCli([], env())
    expect(bare.code).toBe(0)
    expect(bare.stdout).toBe(top.stdout)
  }, 30_000)

  it("colour only on a terminal without NO_COLOR and with a TERM other than dumb", async () => {
    expect(await inTerminal("health --help", {})).toMatch(ANSI)
    expect(await inTerminal("health --help", { NO_COLOR: "1" })).not.toMatch(ANSI)
    expect(await inTerminal("health --help", { TERM: "dumb" })).not.toMatch(ANSI)
  }, 30_000)

  it("--wizard answers at once (exit 2) instead of waiting for input", async () => {
    const child = spawn(BIN, ["gateway", "--wizard"], { env: env(), stdio: ["pipe", "pipe", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (d) => (stderr += d))
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL")
        resolve(-1)
      }, 10_000)
      child.on("exit", (c) => {
        clearTimeout(timer)
        resolve(c)
      })
    })
    expect(code).toBe(2)
    expect(stderr).toContain("--wizard is not supported")
  }, 20_000)

  it("a flag's value that looks like -h is a value, not a request for help", async () => {
    const r = await runCli(["gateway", "agent", "--message", "-h", "--port", String(await freePort())], env())
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("Gateway agent failed: connection refused")
  }, 20_000)

  it("an unknown subcommand: exit 2 with that group's commands", async () => {
    const r = await runCli(["gateway", "frobnicate"], env())
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('openclaw gateway: unknown command "frobnicate"')
    expect(r.stderr).toMatch(/^  tunnel\s+/m)
    expect(r.stderr).not.toMatch(/^  dashboard\s+/m)
    const nodes = await runCli(["nodes", "aprove", "abc"], env())
    expect(nodes.code).toBe(2)
    expect(nodes.stderr).toMatch(/^  approve\s+/m)
    const top = await runCli(["frobnicate"], env())
    expect(top.code).toBe(2)
    expect(top.stderr).toMatch(/^  gateway\s+/m)
  }, 30_000)

  it("`openclaw gateway --port N` still runs the Gateway, as OpenClaw's CLI does", async () => {
    const stateDir = tempStateDir()
    const port = await freePort()
    const child = spawn(BIN, ["gateway", "--port", String(port)], {
      env: cliEnv(stateDir),
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(out)), 15_000)
        child.stdout.on(
          "data",
          () => out.includes(`listening on ws://127.0.0.1:${port}`) && (clearTimeout(timer), resolve())
        )
      })
    } finally {
      child.kill("SIGTERM")
    }
    expect(fs.existsSync(path.join(stateDir, "openclaw.json"))).toBe(true)
  }, 30_000)
})

describe("flag values", () => {
  it.each([
    [
      ["gateway", "run", "--port", "70000"],
      '--port: expected a port between 1 and 65535 (or 0 for any free port), got "70000"'
    ],
    [["gateway", "--port", "-1"], '--port: expected a port between 1 and 65535 (or 0 for any free port), got "-1"'],
    [
      ["gateway", "run", "--port", "80x"],
      '--port: expected a port between 1 and 65535 (or 0 for any free port), got "80x"'
    ],
    [["health", "--timeout", "-5"], '--timeout: expected a timeout in milliseconds between 1 and 86400000, got "-5"'],
    [["status", "--timeout", "0"], "--timeout: expected a timeout in milliseconds between 1 and 86400000"],
    [["health", "--port", "0"], '--port: expected a port between 1 and 65535, got "0"'],
    [["browser", "status", "--timeout", "1.5"], "--timeout: expected a timeout in milliseconds"],
    [["node", "run", "--host", "127.0.0.1", "--port", "65536"], "--port: expected a port between 1 and 65535"],
    [["gateway", "tunnel", "--local-port", "99999"], "--local-port: expected a port between 1 and 65535"],
    [["gateway", "run", "--bind", "wan"], "Expected one of the following cases: loopback, lan, tailnet, custom, auto"]
  ])("%j: exit 2, one line, no stack trace", async (args, message) => {
    const r = await runCli(args, env())
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(message)
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1)
    expect(r.stderr).not.toMatch(/RangeError|ERR_|\n\s+at /)
    expect(r.stdout).toBe("")
  })
})
