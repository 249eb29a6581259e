/**
 * One-time sign-in codes through a real `gateway run` and real headless Chromium: `openclaw
 * dashboard` opens a `#code=` link (never the token, also not in the opener's argv), the page
 * signs in with it once, a second use or an expired code is refused with what to do, failed codes
 * count towards the auth rate limit, no Gateway means nothing is opened, and the start-up banner
 * shows a code link on a terminal and only the command elsewhere. Screenshots of the sign-in page
 * go to test-results/sign-in-*.png.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { WebSocketServer } from "ws"
import { authenticated, RawClient } from "../support/gateway.js"
import { BIN, cliEnv, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { chromiumInstalled, launchBrowser, screenshot } from "./browser.js"

const TOKEN = "sign-in-code-token-7c2e9a4b1d6f3e80"

/** A state dir whose config holds TOKEN (plus `gateway`), and a fake xdg-open that records its argv. */
const setUp = (gateway: Record<string, unknown> = {}, extra: Record<string, string> = {}) => {
  const dir = tempStateDir()
  fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway: { auth: { token: TOKEN }, ...gateway } }))
  const bin = path.join(dir, "bin")
  const opened = path.join(dir, "opened.txt")
  fs.mkdirSync(bin)
  fs.writeFileSync(path.join(bin, "xdg-open"), `#!/bin/sh\nprintf '%s\\n' "$@" >> ${JSON.stringify(opened)}\n`, {
    mode: 0o755
  })
  const env = cliEnv(dir, { PATH: `${bin}${path.delimiter}${process.env.PATH}`, DISPLAY: ":99", ...extra })
  return { dir, opened, env }
}

/** Every file under `dir`, read as text (logs, audit, runtime record, pairing state). */
const allText = (dir: string): string =>
  fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    // opened.txt is the fake browser's own record of what it was given.
    .filter((e) => e.isFile() && e.name !== "opened.txt")
    .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), "utf8"))
    .join("\n")

const codeOf = (url: string) => new URL(url).hash.replace(/^#code=/, "")

describe.skipIf(!chromiumInstalled)("one-time sign-in codes", { timeout: 90_000 }, () => {
  let browser: Browser
  let closeBrowser: (() => Promise<void>) | undefined
  const gateways: Array<GatewayProcess> = []

  beforeAll(async () => {
    const launched = await launchBrowser()
    browser = launched.browser
    closeBrowser = launched.close
  }, 60_000)

  afterAll(async () => {
    await closeBrowser?.()
    for (const gw of gateways) await gw.stop()
  })

  const pageAt = async (url: string, width = 1280): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width, height: width > 400 ? 800 : 740 } })
    const page = await context.newPage()
    await page.goto(url)
    return page
  }

  /** The sign-in page fits its width (no sideways scroll) and its form is usable; shot at 1280 and 375 px. */
  const lookAt = async (url: string, ready: string, name: string) => {
    for (const width of [1280, 375]) {
      const page = await pageAt(url, width)
      await page.locator(ready).waitFor({ timeout: 15_000 })
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width)
      const field = await page.locator("#auth-secret").boundingBox()
      expect(field!.width).toBeGreaterThanOrEqual(width > 400 ? 320 : 280)
      await screenshot(page, `sign-in-${name}-${width}`)
      await page.context().close()
    }
  }

  describe("with a running Gateway", () => {
    let gw: GatewayProcess
    let setup: ReturnType<typeof setUp>
    let base: string
    let firstLink: string

    beforeAll(async () => {
      setup = setUp()
      gw = await startGateway(["--port", "0", "--verbose"], setup.env)
      gateways.push(gw)
      base = `http://127.0.0.1:${gw.port}/`
    }, 30_000)

    it("dashboard opens a #code= link: no token in the opener's argv, the output or the link", async () => {
      const r = await runCli(["dashboard"], setup.env)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toContain("Opened in your browser")
      const deadline = Date.now() + 5_000
      // Until the fake opener has written its whole line (the file exists a moment before that).
      while (
        !(fs.existsSync(setup.opened) && fs.readFileSync(setup.opened, "utf8").endsWith("\n")) &&
        Date.now() < deadline
      )
        await new Promise((res) => setTimeout(res, 50))
      const argv = fs.readFileSync(setup.opened, "utf8").trim().split("\n")
      expect(argv).toHaveLength(1)
      expect(argv[0]).toMatch(new RegExp(`^${base.replace(/[./]/g, "\\$&")}#code=[A-Za-z0-9_-]{32}$`))
      expect(argv[0]).not.toContain(TOKEN)
      expect(argv[0]).not.toContain("token")
      expect(r.stdout).toContain(`Control UI: ${argv[0]}`)
      expect(r.stdout + r.stderr).not.toContain(TOKEN)
      firstLink = argv[0]!
    })

    it("--json gives the code link, never the token", async () => {
      const r = await runCli(["dashboard", "--json"], setup.env)
      expect(r.code, r.stderr).toBe(0)
      const json = JSON.parse(r.stdout)
      expect(json).toMatchObject({ controlUiUrl: base, signIn: "code", running: true, pid: gw.child.pid })
      expect(json.url).toMatch(/#code=[A-Za-z0-9_-]{32}$/)
      expect(Date.parse(json.expiresAt) - Date.now()).toBeGreaterThan(60_000)
      expect(r.stdout).not.toContain(TOKEN)
      // Each run mints its own code.
      expect(codeOf(json.url)).not.toBe(codeOf(firstLink))
    })

    it("minting needs operator.admin; a code without a signed browser identity is refused unspent", async () => {
      const url = `ws://127.0.0.1:${gw.port}`
      const reader = await authenticated(url, { auth: { token: TOKEN }, scopes: ["operator.read", "operator.pairing"] })
      const denied = await reader.request("auth.signInCode.create")
      expect(denied.error).toMatchObject({ code: "FORBIDDEN", details: { code: "MISSING_SCOPE" } })
      reader.ws.close()

      const r = await runCli(["dashboard", "--json"], setup.env)
      const link: string = JSON.parse(r.stdout).url
      for (const role of ["operator", "node"]) {
        const c = await RawClient.open(url)
        await c.event("connect.challenge")
        const res = await c.connect({ role, auth: { signInCode: codeOf(link) } })
        expect(res.ok).toBe(false)
        expect(res.error.details.code).toBe("SIGN_IN_CODE_NEEDS_DEVICE")
        expect(JSON.stringify(res.error)).not.toContain(codeOf(link))
        c.ws.close()
      }
      // Not looked at, so not spent: the browser still signs in with it.
      const page = await pageAt(link)
      await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
      await page.context().close()
    })

    it("a code never goes to another Gateway a gatewayUrl link names, even once the user confirms it", async () => {
      const other = new WebSocketServer({ host: "127.0.0.1", port: 0 })
      const received: Array<string> = []
      other.on("connection", (ws) => {
        ws.on("message", (m) => received.push(String(m)))
        ws.send(JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: "n", ts: Date.now() } }))
      })
      await new Promise((r) => other.once("listening", r))
      try {
        const link: string = JSON.parse((await runCli(["dashboard", "--json"], setup.env)).stdout).url
        const otherUrl = `ws://127.0.0.1:${(other.address() as net.AddressInfo).port}`
        const page = await pageAt(`${base}?gatewayUrl=${encodeURIComponent(otherUrl)}#code=${codeOf(link)}`)
        await page.click("#confirm-yes", { timeout: 15_000 })
        const deadline = Date.now() + 10_000
        while (!received.some((m) => m.includes('"connect"')) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 50))
        expect(received.some((m) => m.includes('"connect"'))).toBe(true)
        expect(received.join("\n")).not.toContain(codeOf(link))
        expect(page.url()).not.toContain("code=")
        await page.context().close()
        // Still unspent: it signs in on the Gateway it came from.
        const own = await pageAt(link)
        await own.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
        await own.context().close()
      } finally {
        other.close()
      }
    })

    it("the page signs in with the code once, removes it from the address bar and keeps a device token", async () => {
      const page = await pageAt(firstLink)
      await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
      expect(page.url()).toBe(base)
      const stored = await page.waitForFunction(
        () => localStorage.getItem("openclaw.controlUi.deviceToken"),
        undefined,
        { timeout: 10_000 }
      )
      expect(await stored.jsonValue()).toBeTruthy()
      const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }))
      expect(storage).not.toContain(codeOf(firstLink))
      expect(storage).not.toContain(TOKEN)
      // Signed in as a device of its own: a reload signs in again with the device token.
      await page.reload()
      await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
      // The same link opened again in this browser: spent, but the browser has its own token now.
      const again = await page.context().newPage()
      await again.goto(firstLink)
      await again.locator("#notice", { hasText: "already used or expired" }).waitFor({ timeout: 15_000 })
      await again.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
      await page.context().close()
    })

    it("the second use of the link is refused with what to do; the sign-in page reads well at 1280 and 375 px", async () => {
      const page = await pageAt(firstLink)
      const error = page.locator("#auth-error")
      await error.waitFor({ timeout: 15_000 })
      const text = await error.textContent()
      expect(text).toContain("This sign-in link was already used or expired")
      expect(text).toContain("openclaw dashboard")
      expect(await error.locator("code", { hasText: "openclaw dashboard" }).count()).toBe(1)
      expect(page.url()).toBe(base)
      expect(await page.locator("#conn-pill").textContent()).toBe("not signed in")
      await page.context().close()
      // Each look uses the (spent) link once more: still refused the same way.
      await lookAt(firstLink, "#auth-error", "used-code")
    })

    it("the bare address explains in one sentence where a sign-in link comes from", async () => {
      const page = await pageAt(base)
      const where = page.locator("#auth-where")
      await where.waitFor({ timeout: 15_000 })
      expect(await where.textContent()).toBe(
        "Run openclaw dashboard on the Gateway's machine: it opens a one-time sign-in link. Or paste the Gateway's token below."
      )
      expect(await page.locator("#auth-error").count()).toBe(0)
      await page.context().close()
      await lookAt(base, "#login-form", "bare")
    })

    it("the code never reaches the Gateway's output or any file in its state dir", () => {
      const code = codeOf(firstLink)
      expect(gw.output()).not.toContain(code)
      expect(allText(setup.dir)).not.toContain(code)
      expect(gw.output()).not.toContain(TOKEN)
    })
  })

  it("a used link on a password Gateway says to paste its password, not a token", async () => {
    const setup = setUp({ auth: { mode: "password", password: "correct horse battery staple 42" } })
    const gw = await startGateway(["--port", "0"], setup.env)
    gateways.push(gw)
    const r = await runCli(["dashboard", "--json"], setup.env)
    expect(r.code, r.stderr).toBe(0)
    const { url } = JSON.parse(r.stdout)
    const first = await pageAt(url)
    await first.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
    await first.context().close()
    const again = await pageAt(url)
    await again.locator("#auth-error", { hasText: "already used or expired" }).waitFor({ timeout: 15_000 })
    expect(await again.locator("#auth-error").textContent()).toContain("or paste the Gateway's password below")
    await again.context().close()
  })

  it("an expired code is refused; failed codes count towards the rate limit", async () => {
    const setup = setUp(
      { auth: { token: TOKEN, rateLimit: { maxAttempts: 3 } } },
      { OPENCLAW_SIGN_IN_CODE_TTL_MS: "1000" }
    )
    const gw = await startGateway(["--port", "0", "--verbose"], setup.env)
    gateways.push(gw)
    const base = `http://127.0.0.1:${gw.port}/`
    const r = await runCli(["dashboard", "--json"], setup.env)
    expect(r.code, r.stderr).toBe(0)
    const { url } = JSON.parse(r.stdout)
    // Well past its 1 s life.
    await new Promise((res) => setTimeout(res, 2_000))
    const page = await pageAt(url)
    await page.locator("#auth-error", { hasText: "already used or expired" }).waitFor({ timeout: 15_000 })
    expect(await page.locator("#auth-error").textContent()).toContain("or paste the Gateway's token below")
    await page.context().close()
    // Made-up codes are failed attempts like wrong tokens: the browser's address is locked out.
    let locked = false
    for (let i = 0; i < 6 && !locked; i++) {
      const guess = await pageAt(`${base}#code=${"A".repeat(31)}${i}`)
      const error = guess.locator("#auth-error")
      await error.waitFor({ timeout: 15_000 })
      locked = (await error.textContent())!.includes("too many failed attempts")
      await guess.context().close()
    }
    expect(locked).toBe(true)
    // --verbose logs every refused connect: by its code, never the code offered.
    expect(gw.output()).toContain("AUTH_SIGN_IN_CODE_INVALID")
    expect(gw.output()).not.toContain(codeOf(url))
    expect(gw.output()).not.toContain("A".repeat(31))
  })

  it("dashboard with no Gateway running opens nothing, sends nothing to the port, and says how to start one", async () => {
    // Something else (a squatter) listens on the configured port: it must not even get a connection.
    const squatter = net.createServer()
    let connections = 0
    squatter.on("connection", (s) => (connections++, s.destroy()))
    const port = await new Promise<number>((resolve) =>
      squatter.listen({ host: "127.0.0.1", port: 0 }, () => resolve((squatter.address() as net.AddressInfo).port))
    )
    try {
      const setup = setUp({ port })
      for (const args of [["dashboard"], ["dashboard", "--json"]]) {
        const r = await runCli(args, setup.env)
        expect(r.code).toBe(1)
        expect(r.stderr).toContain("No running Gateway recorded")
        expect(r.stderr).toContain("nothing was opened")
        expect(r.stderr).toContain("openclaw gateway run")
        expect(r.stdout + r.stderr).not.toContain(TOKEN)
        expect(r.stdout).not.toContain("#code=")
      }
      await new Promise((res) => setTimeout(res, 300))
      expect(fs.existsSync(setup.opened)).toBe(false)
      expect(connections).toBe(0)
    } finally {
      squatter.close()
    }
  })

  it("dashboard opens nothing when the Gateway's answer holds no usable code, and prints none of it", async () => {
    // A server that signs anyone in and answers the mint with terminal escapes and an absurd expiry.
    const hostile = new WebSocketServer({ host: "127.0.0.1", port: 0 })
    hostile.on("connection", (ws) => {
      ws.send(JSON.stringify({ type: "event", event: "connect.challenge", payload: { nonce: "n", ts: Date.now() } }))
      ws.on("message", (d) => {
        const f = JSON.parse(String(d))
        const payload =
          f.method === "connect"
            ? {
                type: "hello-ok",
                protocol: 4,
                server: { version: "x", connId: "c" },
                features: { methods: [], events: [] },
                snapshot: {},
                auth: { method: "token", role: "operator", scopes: ["operator.admin"] },
                policy: { maxPayload: 1 << 20, maxBufferedBytes: 1 << 20, tickIntervalMs: 30_000 }
              }
            : { authMode: "token", code: "\u001b[2J\u001b]0;owned\u0007", expiresAt: 1e300 }
        ws.send(JSON.stringify({ type: "res", id: f.id, ok: true, payload }))
      })
    })
    await new Promise((r) => hostile.once("listening", r))
    try {
      const port = (hostile.address() as net.AddressInfo).port
      const setup = setUp()
      // Recorded as running (this test's own, live PID), so dashboard asks it.
      fs.writeFileSync(
        path.join(setup.dir, "gateway-runtime.json"),
        JSON.stringify({
          pid: process.pid,
          port,
          bind: "loopback",
          addresses: ["127.0.0.1"],
          url: `ws://127.0.0.1:${port}`,
          controlUiUrl: `http://127.0.0.1:${port}/`,
          healthUrl: `http://127.0.0.1:${port}/healthz`,
          authMode: "token",
          configPath: path.join(setup.dir, "openclaw.json"),
          startedAt: new Date().toISOString()
        }),
        { mode: 0o600 }
      )
      for (const args of [["dashboard"], ["dashboard", "--json"]]) {
        const r = await runCli(args, setup.env)
        expect(r.code, r.stdout + r.stderr).toBe(1)
        expect(r.stderr).toContain("without a usable sign-in code; nothing was opened")
        expect(r.stdout + r.stderr).not.toContain("\u001b")
        expect(r.stderr).not.toMatch(/RangeError|    at /)
      }
      expect(fs.existsSync(setup.opened)).toBe(false)
    } finally {
      hostile.close()
    }
  })

  it("dashboard whose Gateway is recorded but not answering opens nothing", async () => {
    const setup = setUp()
    const gw = await startGateway(["--port", "0"], setup.env)
    // SIGSTOP: the record and the process stay, the port answers nothing.
    gw.child.kill("SIGSTOP")
    try {
      const r = await runCli(["dashboard", "--port", String(gw.port)], { ...setup.env }, 30_000)
      expect(r.code).toBe(1)
      expect(r.stderr).toContain("Cannot get a sign-in link from the Gateway (nothing was opened)")
      expect(fs.existsSync(setup.opened)).toBe(false)
    } finally {
      gw.child.kill("SIGCONT")
      await gw.stop()
    }
  }, 60_000)

  it("the start-up banner: a one-time link on a terminal (it signs in), only the command on a pipe; never the token", async () => {
    const piped = setUp()
    const gw = await startGateway(["--port", "0"], piped.env)
    try {
      expect(gw.output()).toMatch(/\n {2}Sign in: {4}`openclaw dashboard`\n/)
      expect(gw.output()).not.toContain("#code=")
      expect(gw.output()).not.toContain(TOKEN)
    } finally {
      await gw.stop()
    }

    const onTty = setUp()
    // script(1) gives the Gateway a pseudo-terminal for stdout.
    const child = spawn("script", ["-qec", `${BIN} gateway run --port 0`, "/dev/null"], {
      env: onTty.env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true
    })
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    try {
      const deadline = Date.now() + 20_000
      while (!/Sign in:[^]*later: `openclaw dashboard`\)/.test(out) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100))
      const m = out.match(/Sign in: {4}(http:\/\/127\.0\.0\.1:\d+\/#code=[A-Za-z0-9_-]{32})\r?\n/)
      expect(m, out).not.toBeNull()
      expect(out).toContain("(one use, within 2 minutes; later: `openclaw dashboard`)")
      expect(out).not.toContain(TOKEN)
      const page = await pageAt(m![1]!)
      await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
      await page.context().close()
    } finally {
      process.kill(-child.pid!, "SIGTERM")
      await new Promise((r) => child.once("exit", r))
    }
  }, 60_000)
})
