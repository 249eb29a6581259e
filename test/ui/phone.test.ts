/**
 * The Control UI at phone width (375 px) against a real TLS Gateway: nothing wraps mid-word or
 * mid-byte, a clean shutdown stays explained while the page reconnects, and a wrong token says
 * what the user can actually do. Screenshots go to test-results/phone-*.png.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, startGateway, tempStateDir } from "../support/cli.js"
import { chromiumInstalled, launchBrowser, screenshot } from "./browser.js"

const TOKEN = "ui-phone-token-2b7e4f9a1c3d5e60"

/** How many line boxes an element's text occupies (1: it did not wrap). */
const lineCount = (page: Page, selector: string) =>
  page.locator(selector).evaluate((el) => new Set([...el.getClientRects()].map((r) => Math.round(r.top))).size)

describe.skipIf(!chromiumInstalled)("Control UI at phone width", { timeout: 90_000 }, () => {
  let gw: GatewayProcess
  let env: NodeJS.ProcessEnv
  let base: string
  let browser: Browser
  let close: (() => Promise<void>) | undefined

  beforeAll(async () => {
    const dir = tempStateDir()
    const port = await freePort()
    fs.writeFileSync(
      path.join(dir, "openclaw.json"),
      JSON.stringify({ gateway: { port, auth: { token: TOKEN }, tls: { enabled: true } } })
    )
    env = cliEnv(dir)
    gw = await startGateway([], env)
    base = `https://127.0.0.1:${port}`
    const launched = await launchBrowser()
    browser = launched.browser
    close = launched.close
  }, 60_000)

  afterAll(async () => {
    await close?.()
    await gw?.stop()
  })

  const phonePage = async (hash = `#token=${TOKEN}`) => {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, ignoreHTTPSErrors: true })
    const page = await context.newPage()
    await page.goto(`${base}/${hash}`)
    return page
  }

  it("the TLS fingerprint wraps between bytes, never inside one, and fits the screen", async () => {
    const page = await phonePage()
    await page.locator('[data-field="reachable"]', { hasText: "yes" }).waitFor({ timeout: 15_000 })
    await page.locator('[data-field="tls-fingerprint"] .byte').first().waitFor({ timeout: 15_000 })
    const text = await page.locator('[data-field="tls-fingerprint"]').textContent()
    expect(text).toMatch(/^sha256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    // It does wrap at this width (so the check below means something), and every byte is on one line.
    const lines = await page
      .locator('[data-field="tls-fingerprint"] .byte')
      .evaluateAll((spans) => new Set(spans.map((s) => Math.round(s.getBoundingClientRect().top))).size)
    expect(lines).toBeGreaterThan(1)
    const split = await page
      .locator('[data-field="tls-fingerprint"] .byte')
      .evaluateAll((spans) =>
        spans
          .filter((s) => new Set([...s.getClientRects()].map((r) => Math.round(r.top))).size > 1)
          .map((s) => s.textContent)
      )
    expect(split).toEqual([])
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    await screenshot(page, "phone-overview")
    await page.context().close()
  })

  it('the session name stays whole ("main", not "ma / in"); a key too long for a line still fits the screen', async () => {
    const page = await phonePage()
    await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
    await page.click('[data-view="chat"]')
    await page.locator("#chat-session", { hasText: "main" }).waitFor()
    await page.locator(".chat-head .badge").waitFor()
    // Polled: a re-render between finding the element and measuring it measures a detached one (0 lines).
    await expect.poll(() => lineCount(page, "#chat-session"), { timeout: 5_000 }).toBe(1)
    await screenshot(page, "phone-chat")
    const long = "a-session-key-that-is-far-too-long-for-one-line-on-a-phone-screen"
    await page.fill("#new-session", long)
    await page.click('form.row button[type="submit"]')
    await page.locator("#chat-session", { hasText: long }).waitFor()
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    await page.context().close()
  })

  it("a wrong token points at the sign-in link from `openclaw dashboard` or the token field, not at settings that do not exist", async () => {
    const page = await phonePage("#token=not-the-right-token-at-all")
    const error = page.locator("#auth-error")
    await error.waitFor({ timeout: 15_000 })
    const message = await error.textContent()
    expect(message).toContain("unauthorized: gateway token mismatch")
    expect(message).toContain("openclaw dashboard")
    // Commands are shown as code, not with literal backticks.
    expect(await error.locator("code", { hasText: "openclaw dashboard" }).count()).toBe(1)
    expect(message).not.toContain("`")
    expect(message).toContain("token field")
    expect(message).not.toContain("settings")
    expect(await page.locator("#auth-secret").count()).toBe(1)
    await screenshot(page, "phone-wrong-token")
    await page.context().close()
  })

  it("after a clean shutdown the banner keeps its reason through failed reconnects, and Overview says not reachable", async () => {
    const page = await phonePage()
    await page.locator('[data-field="reachable"]', { hasText: "yes" }).waitFor({ timeout: 15_000 })
    await gw.stop("SIGTERM")
    // Past the first failed reconnect (the port is closed now), the reason is still the shutdown's.
    await page.locator("#banner", { hasText: "It is not back yet" }).waitFor({ timeout: 15_000 })
    await page.waitForTimeout(2_500)
    expect(await page.locator("#banner").textContent()).toContain("The Gateway shut down (gateway stopping)")
    expect(await page.locator('[data-field="reachable"]').textContent()).toBe(
      "no: the Gateway shut down (gateway stopping)"
    )
    await screenshot(page, "phone-after-shutdown")
    gw = await startGateway([], env)
    await page.locator("#conn-pill.connected").waitFor({ timeout: 45_000 })
    expect(await page.locator("#banner").isHidden()).toBe(true)
    await page.locator('[data-field="reachable"]', { hasText: "yes" }).waitFor({ timeout: 15_000 })
    await page.context().close()
  })
})
