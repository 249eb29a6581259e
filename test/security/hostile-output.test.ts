/**
 * Output nobody can forge: every command's human output (and --json) with a hostile Gateway that
 * puts escape sequences, C1 and bidi controls, CR and fake lines in every string it sends, run in a
 * pseudo-terminal (script(1)) and with stdout and stderr piped apart. None of ESC, C1, bidi or CR
 * may reach the terminal raw, and no string the Gateway chose may start a line of a listing.
 * Also `openclaw audit` with a forged Tailscale login and X-Forwarded-For, and the node host's log
 * with a hostile pairing request id.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BIN, cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { RawClient } from "../support/gateway.js"
import { type HostileGateway, type HostileMode, RAW_CONTROL, startHostileGateway } from "../support/hostile-gateway.js"

const TOKEN = "hostile-output-token-0123456789abcdef"

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** Runs the CLI in a pseudo-terminal; the output as the terminal received it (the tty's CRLF undone once). */
const inPty = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, timeoutMs = 20_000) =>
  new Promise<string>((resolve) => {
    const command = [BIN, ...args].map(shellQuote).join(" ")
    execFile("script", ["-qec", command, "/dev/null"], { env, timeout: timeoutMs }, (_error, stdout) =>
      resolve(stdout.replace(/\r\n/g, "\n"))
    )
  })

/** Why `text` is unsafe: the first raw control with its position, or a line the Gateway started. */
const rawControl = (text: string): string | undefined => {
  const m = RAW_CONTROL.exec(text)
  return m === null
    ? undefined
    : `raw U+${m[0].charCodeAt(0).toString(16).padStart(4, "0")} at ${m.index}: ${JSON.stringify(text.slice(Math.max(0, m.index - 40), m.index + 20))}`
}
const forgedLine = (text: string) => text.split("\n").find((l) => l.startsWith("FAKE LINE"))

/** Proof the hostile strings were shown (escaped), so the command really went through the hostile path. */
const SHOWN_ESCAPED = /\\e\[|\\x9b|\\u009b|\\u202e/

interface Case {
  readonly mode: HostileMode
  readonly args: ReadonlyArray<string>
  /** Text (a page's, a model's) may hold line breaks of its own. */
  readonly multiLineText?: boolean
}

const commands: ReadonlyArray<Case> = [
  { mode: "answer", args: ["status"] },
  { mode: "answer", args: ["status", "--deep"] },
  { mode: "answer", args: ["gateway", "status"] },
  { mode: "answer", args: ["status", "--json"] },
  { mode: "answer", args: ["health", "--json"] },
  { mode: "answer", args: ["nodes", "list"] },
  { mode: "answer", args: ["nodes", "pending"] },
  { mode: "answer", args: ["nodes", "pending", "--json"] },
  { mode: "answer", args: ["nodes", "describe", "kiosk"] },
  { mode: "answer", args: ["nodes", "approve", "kiosk-request"] },
  { mode: "answer", args: ["devices", "list"] },
  { mode: "answer", args: ["devices", "list", "--json"] },
  { mode: "answer", args: ["browser", "tabs"] },
  { mode: "answer", args: ["browser", "status"] },
  { mode: "answer", args: ["browser", "snapshot"], multiLineText: true },
  { mode: "answer", args: ["browser", "snapshot", "--json"] },
  { mode: "answer", args: ["gateway", "call", "status"] },
  { mode: "answer", args: ["gateway", "call", "no.such.method"] },
  { mode: "answer", args: ["gateway", "call", "no.such.method", "--json"] },
  { mode: "answer", args: ["gateway", "agent", "-m", "hi"], multiLineText: true },
  { mode: "answer", args: ["gateway", "agent", "-m", "hi", "--json"] },
  { mode: "answer", args: ["doctor"] },
  { mode: "refuse", args: ["status"] },
  { mode: "refuse", args: ["health"] },
  { mode: "refuse", args: ["nodes", "list"] },
  { mode: "refuse", args: ["doctor"] },
  { mode: "refuse", args: ["doctor", "--json"] },
  { mode: "close", args: ["health"] },
  { mode: "close", args: ["devices", "list"] }
]
const cases = commands.map((c) => ({ ...c, name: `${c.mode}: openclaw ${c.args.join(" ")}` }))

describe("no Gateway string reaches the terminal raw", { timeout: 240_000 }, () => {
  const gateways = new Map<HostileMode, HostileGateway>()
  let env: NodeJS.ProcessEnv
  beforeAll(async () => {
    for (const mode of ["answer", "refuse", "close"] as const) gateways.set(mode, await startHostileGateway(mode))
    env = cliEnv(tempStateDir())
  })
  afterAll(async () => {
    for (const g of gateways.values()) await g.close()
  })

  const target = (mode: HostileMode) => ["--url", gateways.get(mode)!.url, "--token", TOKEN, "--timeout", "5000"]
  const argsFor = (c: Case) => [...c.args, ...target(c.mode)]

  it.each(cases)("$name (in a pseudo-terminal)", async (c) => {
    const out = await inPty(argsFor(c), env)
    expect(rawControl(out)).toBeUndefined()
    if (!c.multiLineText) expect(forgedLine(out)).toBeUndefined()
    expect(out).toMatch(SHOWN_ESCAPED)
  })

  it.each(cases)("$name (stdout and stderr piped)", async (c) => {
    const r = await runCli(argsFor(c), env)
    expect(rawControl(r.stdout)).toBeUndefined()
    expect(rawControl(r.stderr)).toBeUndefined()
    if (!c.multiLineText) expect(forgedLine(r.stdout + r.stderr)).toBeUndefined()
    expect(r.stdout + r.stderr).toMatch(SHOWN_ESCAPED)
  })

  it("gateway agent: the streamed reply keeps its line breaks, every sequence shown as an escape (also one split across deltas)", async () => {
    const out = await inPty(["gateway", "agent", "-m", "hi", ...target("answer")], env)
    expect(out).toContain("Hello\n")
    expect(out).toContain("\\e]52;c;ZXZpbA==\\x07\\e[2J\\e]0;title\\x07")
    expect(out).toContain("\\x9b2J\\u202egpj.exe\\e[2K\\r\nbye\n")
  })
})

describe("openclaw audit and the node host's log", { timeout: 90_000 }, () => {
  let gw: GatewayProcess | undefined
  afterAll(async () => {
    await gw?.stop("SIGKILL")
  })

  it("audit: a forged Tailscale login and X-Forwarded-For print no fake line and no raw control; a token sign-in is not attributed to a header's login", async () => {
    const dir = tempStateDir()
    const port = await freePort()
    fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway: { port, auth: { token: TOKEN } } }), {
      mode: 0o600
    })
    const env = cliEnv(dir)
    gw = await startGateway([], env)
    const url = `ws://127.0.0.1:${port}`
    // A failed sign-in whose login header decodes to a fake entry and an escape sequence.
    const forged = await RawClient.open(url, {
      headers: {
        "Tailscale-User-Login": "=?utf-8?q?x=0A2099-01-01T00:00:00.000Z__auth.ok_________client=3D=22owner=22=1B[2K?=",
        "X-Forwarded-For": "203.0.113.9\u009b2J"
      }
    })
    await forged.event("connect.challenge")
    expect((await forged.connect({ auth: { token: "wrong-token-0123456789" } })).ok).toBe(false)
    // A token sign-in that merely carries a login header, on a Gateway without Serve.
    const claimed = await RawClient.open(url, {
      headers: { "Tailscale-User-Login": "mallory@example.com", "X-Forwarded-For": "203.0.113.10" }
    })
    await claimed.event("connect.challenge")
    expect((await claimed.connect({ auth: { token: TOKEN } })).ok).toBe(true)
    claimed.ws.close()
    forged.ws.close()
    const auditFile = path.join(dir, "logs", "audit.jsonl")
    await expect
      .poll(() => fs.existsSync(auditFile) && fs.readFileSync(auditFile, "utf8").includes("auth.ok"))
      .toBe(true)

    const human = await inPty(["audit"], env)
    expect(human).toContain("auth.fail")
    expect(rawControl(human)).toBeUndefined()
    expect(human.split("\n").filter((l) => l.startsWith("2099"))).toEqual([])
    expect(human).toContain('forwarded="203.0.113.9\\u009b2J"')
    expect(human).not.toContain("mallory")
    expect(human).not.toContain("tailscale=")

    const json = await inPty(["audit", "--json"], env)
    expect(rawControl(json)).toBeUndefined()
    expect(json).toContain("203.0.113.9\\u009b2J")
    const entries = json
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
    expect(entries.some((e) => e.forwardedFor === "203.0.113.9\u009b2J")).toBe(true)
    expect(entries.filter((e) => e.tailscaleLogin !== undefined)).toEqual([])
  })

  it("node host: a Gateway's hostile pairing request id is logged escaped, on one line", async () => {
    const hostile = await startHostileGateway("pairing")
    try {
      const dir = tempStateDir()
      fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ nodeHost: { browser: { enabled: false } } }), {
        mode: 0o600
      })
      const env = cliEnv(dir)
      const command = ["timeout", "-s", "INT", "6", BIN, "node", "run", "--url", hostile.url, "--token", TOKEN]
      const out = await new Promise<string>((resolve) =>
        execFile(
          "script",
          ["-qec", command.map(shellQuote).join(" "), "/dev/null"],
          { env, timeout: 20_000 },
          (_e, o) => resolve(o.replace(/\r\n/g, "\n"))
        )
      )
      expect(out).toContain("waiting for approval: requestId kiosk\\e[1A\\e[2K")
      expect(rawControl(out)).toBeUndefined()
      expect(forgedLine(out)).toBeUndefined()
    } finally {
      await hostile.close()
    }
  })
})
