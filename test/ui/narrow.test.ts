/**
 * Every screen of the Control UI at phone width (375 px) and desktop width (1280 px), signed in,
 * against a real Gateway with enough on it to fill the tables: node hosts with long names (Devices,
 * Presence), failed sign-ins and an audit log from days ago (Activity, with a Tailscale sign-in).
 * The page never scrolls sideways; older Activity entries carry their date; the Tailscale user is
 * named. Screenshots: test-results/narrow-<width>-<screen>.png.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { newIdentity, nodeConnect } from "../support/node.js"
import { chromiumInstalled, launchBrowser, screenshot } from "./browser.js"

const TOKEN = "ui-narrow-token-5d1c8e2f7a9b3046"
const DAY = 86_400_000
const LONG_NAMES = [
  "build-server-in-the-basement-rack-number-two",
  "Marias-MacBook-Pro-with-a-very-long-hostname",
  "raspberry-pi-kitchen-display"
]
const SCREENS = ["overview", "presence", "pairing", "devices", "activity", "chat"] as const

/** How far the page itself scrolls sideways: its scroll width beyond the viewport. */
const pageWidth = (page: Page) => page.evaluate(() => document.scrollingElement!.scrollWidth)

describe.skipIf(!chromiumInstalled)("Control UI: every screen fits a phone", { timeout: 180_000 }, () => {
  let gw: GatewayProcess
  let env: NodeJS.ProcessEnv
  let base: string
  let browser: Browser
  let close: (() => Promise<void>) | undefined
  const nodes: Array<{ client: { ws: { close: () => void } } }> = []
  const oldTs = Date.now() - 3 * DAY

  beforeAll(async () => {
    const dir = tempStateDir()
    const port = await freePort()
    fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway: { port, auth: { token: TOKEN } } }), {
      mode: 0o600
    })
    // Entries from three days ago, as an earlier run of this Gateway would have written them.
    fs.mkdirSync(path.join(dir, "logs"), { recursive: true, mode: 0o700 })
    const old = [
      {
        ts: oldTs,
        event: "auth.ok",
        address: "100.101.102.103",
        forwardedFor: "100.64.0.7",
        clientId: "openclaw-control-ui",
        clientMode: "ui",
        role: "operator",
        authMethod: "tailscale",
        tailscaleLogin: "alice@example.com"
      },
      { ts: oldTs + 60_000, event: "auth.fail", address: "127.0.0.1", code: "AUTH_TOKEN_MISMATCH", role: "operator" }
    ]
    fs.writeFileSync(path.join(dir, "logs", "audit.jsonl"), old.map((e) => JSON.stringify(e)).join("\n") + "\n", {
      mode: 0o600
    })
    env = cliEnv(dir)
    gw = await startGateway([], env)
    base = `http://127.0.0.1:${port}/`
    const wsUrl = `ws://127.0.0.1:${port}/`
    // Node hosts with long names, paired and connected: rows on Devices and Presence.
    for (const name of LONG_NAMES) {
      const id = newIdentity()
      const asked = await nodeConnect(wsUrl, id, { auth: { token: TOKEN }, displayName: name })
      expect((await runCli(["devices", "approve", asked.res.error.details.requestId], env, 40_000)).code).toBe(0)
      const node = await nodeConnect(wsUrl, id, { auth: { token: TOKEN }, displayName: name })
      expect(node.res.ok).toBe(true)
      nodes.push(node)
    }
    // A node host still waiting for approval: a row with Approve / Reject on Pairing.
    const waiting = await nodeConnect(wsUrl, newIdentity(), {
      auth: { token: TOKEN },
      displayName: "a-new-node-host-asking-to-pair-with-a-long-name"
    })
    expect(waiting.res.error.details.requestId).toBeDefined()
    waiting.client.ws.close()
    // A failed sign-in today: an Activity entry without a date.
    await runCli(["health", "--url", wsUrl, "--token", "not-the-token-0000000000000000"], env)
    const launched = await launchBrowser()
    browser = launched.browser
    close = launched.close
  }, 150_000)

  afterAll(async () => {
    for (const n of nodes) n.client.ws.close()
    await close?.()
    await gw?.stop()
  })

  const signedIn = async (width: number, height: number) => {
    const page = await (await browser.newContext({ viewport: { width, height } })).newPage()
    await page.goto(`${base}#token=${TOKEN}`)
    await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
    return page
  }

  const visit = async (page: Page, screen: (typeof SCREENS)[number]) => {
    await page.click(`[data-view="${screen}"]`)
    const ready: Record<(typeof SCREENS)[number], string> = {
      overview: '[data-field="reachable"]:has-text("yes")',
      presence: `#nodes-table tr[data-client="node-host"]`,
      pairing: "#pairing-pending tr[data-request]",
      devices: `#devices-table tr:has-text("${LONG_NAMES[0]}")`,
      activity: '#activity-table tr[data-event="auth.fail"]',
      chat: "#chat-session"
    }
    await page.locator(ready[screen]).first().waitFor({ timeout: 15_000 })
  }

  it("at 375 px no screen scrolls sideways, the header keeps one line, the nav shows it scrolls", async () => {
    const page = await signedIn(375, 740)
    const widths: Record<string, number> = {}
    for (const screen of SCREENS) {
      await visit(page, screen)
      widths[screen] = await pageWidth(page)
      await screenshot(page, `narrow-375-${screen}`)
    }
    // One line: every item of the header on the same middle line, and the header no taller than one.
    const header = await page.locator(".topbar").evaluate((el) => {
      const middles = [...el.children].map((c) => {
        const r = c.getBoundingClientRect()
        return (r.top + r.bottom) / 2
      })
      return { spread: Math.max(...middles) - Math.min(...middles), height: el.getBoundingClientRect().height }
    })
    expect(header.spread).toBeLessThanOrEqual(2)
    expect(await page.locator("#forget").textContent()).toContain("Sign out")
    expect(await page.locator("#forget .narrow-only").isVisible()).toBe(true)
    expect(header.height).toBeLessThan(60)
    // The nav's tabs do not all fit: it says so, with a fading edge on the side where more tabs are.
    const navHint = () =>
      page.locator("#nav").evaluate((el) => ({
        overflows: el.scrollWidth > el.clientWidth,
        left: el.classList.contains("more-left"),
        right: el.classList.contains("more-right")
      }))
    // On WebChat (the last tab, scrolled into sight) the more tabs are to the left...
    await expect.poll(navHint).toEqual({ overflows: true, left: true, right: false })
    // ...and back on Overview, to the right.
    await visit(page, "overview")
    await expect.poll(navHint).toEqual({ overflows: true, left: false, right: true })
    expect(await page.locator(".nav.more-right").evaluate((el) => getComputedStyle(el).maskImage)).toContain("gradient")
    // Overview's Diagnose card, run: its table too.
    await page.click("#diagnose")
    await page.locator("#doctor-table").waitFor({ timeout: 15_000 })
    widths.diagnose = await pageWidth(page)
    await screenshot(page, "narrow-375-diagnose")
    console.log(`page scroll widths at 375 px: ${JSON.stringify(widths)}`)
    for (const screen of [...SCREENS, "diagnose"])
      expect({ screen, width: widths[screen] }).toEqual({ screen, width: 375 })
    await page.context().close()
  })

  it("older Activity entries show their date, today's only the time; the Tailscale user is named", async () => {
    const page = await signedIn(375, 740)
    await visit(page, "activity")
    const old = page.locator('#activity-table tr[data-event="auth.ok"]', {
      hasText: "via tailscale as alice@example.com"
    })
    const oldTime = await old.locator("td").first().textContent()
    const expected = new Date(oldTs).toLocaleDateString(undefined, { month: "short", day: "numeric" })
    expect(oldTime).toContain(expected)
    const today = await page
      .locator('#activity-table tr[data-event="auth.fail"]')
      .first()
      .locator("td")
      .first()
      .textContent()
    expect(today).not.toContain(expected)
    expect(today).toMatch(/^\d{1,2}:\d{2}/)
    await page.context().close()
  })

  it("a Tailscale sign-in names its user on Overview and Presence", async () => {
    // The Gateway under test signs in by token; what a Tailscale Serve sign-in adds to the hello
    // (auth.method "tailscale", the user on this page's own presence entry, as presence.ts sends it)
    // is written into the real Gateway's frames on their way to the page.
    const page = await (await browser.newContext({ viewport: { width: 375, height: 740 } })).newPage()
    let ownConnId: string | undefined
    const asTailscale = (entries: Array<any> | undefined) =>
      entries?.forEach((p) => p.connId === ownConnId && (p.user = { login: "alice@example.com", name: "Alice" }))
    await page.routeWebSocket(/.*/, (ws) => {
      const server = ws.connectToServer()
      server.onMessage((message) => {
        const frame = JSON.parse(String(message))
        if (frame.type === "res" && frame.payload?.type === "hello-ok") {
          ownConnId = frame.payload.server.connId
          frame.payload.auth.method = "tailscale"
          asTailscale(frame.payload.snapshot.presence)
        } else if (frame.type === "event" && frame.event === "presence") asTailscale(frame.payload?.presence)
        // system-presence's answer (the Presence screen's load) is the list itself.
        else if (frame.type === "res" && Array.isArray(frame.payload)) asTailscale(frame.payload)
        ws.send(JSON.stringify(frame))
      })
    })
    await page.goto(`${base}#token=${TOKEN}`)
    await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
    await visit(page, "overview")
    await page
      .locator('[data-field="auth-method"]', { hasText: "operator via tailscale as alice@example.com" })
      .waitFor({ timeout: 5_000 })
    await visit(page, "presence")
    expect(await page.locator('#presence-table [data-field="user"]').textContent()).toBe(
      "Tailscale user alice@example.com"
    )
    await page.context().close()
  })

  it("the sign-in form: one centred column at 1280 px (at least 320 px wide), the whole width at 375 px", async () => {
    for (const [width, height] of [
      [1280, 800],
      [375, 740]
    ] as const) {
      const page = await (await browser.newContext({ viewport: { width, height } })).newPage()
      await page.goto(base)
      await page.locator("#login-form").waitFor({ timeout: 15_000 })
      const box = (await page.locator("#login-form").boundingBox())!
      expect(await pageWidth(page)).toBe(width)
      if (width === 1280) {
        expect(box.width).toBeGreaterThanOrEqual(320)
        // Centred: the same space on either side, give or take a pixel.
        expect(Math.abs(box.x - (width - box.x - box.width))).toBeLessThanOrEqual(2)
      } else expect(box.width).toBeGreaterThanOrEqual(width - 40)
      // Signed out: no account action in the header.
      expect(await page.locator("#forget").isVisible()).toBe(false)
      // This Gateway takes a token: the form says so.
      expect(await page.locator("#auth-kind-token").isChecked()).toBe(true)
      await screenshot(page, `narrow-${width}-signin`)
      await page.context().close()
    }
  })

  it("at 1280 px, and at 768 px (a tablet, beside the nav column), every screen fits too", async () => {
    for (const width of [1280, 768]) {
      const page = await signedIn(width, 800)
      for (const screen of SCREENS) {
        await visit(page, screen)
        expect({ width, screen, scrolls: await pageWidth(page) }).toEqual({ width, screen, scrolls: width })
        await screenshot(page, `narrow-${width}-${screen}`)
      }
      await page.context().close()
    }
  })
})

describe.skipIf(!chromiumInstalled)("Control UI: a Gateway in password mode", { timeout: 90_000 }, () => {
  const PASSWORD = "a-long-enough-gateway-password-for-this-test"
  let gw: GatewayProcess
  let base: string
  let browser: Browser
  let close: (() => Promise<void>) | undefined

  beforeAll(async () => {
    const dir = tempStateDir()
    const port = await freePort()
    fs.writeFileSync(
      path.join(dir, "openclaw.json"),
      JSON.stringify({ gateway: { port, auth: { mode: "password", password: PASSWORD } } }),
      { mode: 0o600 }
    )
    gw = await startGateway([], cliEnv(dir))
    base = `http://127.0.0.1:${port}/`
    const launched = await launchBrowser()
    browser = launched.browser
    close = launched.close
  }, 60_000)

  afterAll(async () => {
    await close?.()
    await gw?.stop()
  })

  it("the sign-in form opens on Password (the page never holds the password itself), and signs in with it", async () => {
    const page = await (await browser.newContext({ viewport: { width: 375, height: 740 } })).newPage()
    await page.goto(base)
    await page.locator("#login-form").waitFor({ timeout: 15_000 })
    expect(await page.locator("#auth-kind-password").isChecked()).toBe(true)
    expect(await page.locator("#auth-secret").getAttribute("placeholder")).toBe("paste the gateway password")
    expect(await page.locator("#auth-where").textContent()).toContain("Or paste the Gateway's password below.")
    expect(await page.content()).not.toContain(PASSWORD)
    await screenshot(page, "narrow-375-signin-password")
    await page.fill("#auth-secret", PASSWORD)
    await page.click("#auth-submit")
    await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
    await page.context().close()
  })
})
