/**
 * The Overview's Diagnose button in headless Chromium against a real Gateway process: it runs the
 * `doctor` method and shows the same table as `openclaw doctor`, the failing step's fix underneath.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DOCTOR_CACHE_MS } from "../../src/services/doctor/methods.js"
import { cliEnv, freePort, type GatewayProcess, startGateway, tempStateDir } from "../support/cli.js"
import { chromiumInstalled, launchBrowser, screenshot } from "./browser.js"

const TOKEN = "ui-doctor-token-5f1c2a9e7b3d4c6e"

describe.skipIf(!chromiumInstalled)("Control UI: Diagnose", { timeout: 60_000 }, () => {
  let gw: GatewayProcess
  let stateDir: string
  let browser: Browser
  let close: (() => Promise<void>) | undefined

  beforeAll(async () => {
    stateDir = tempStateDir()
    fs.writeFileSync(
      path.join(stateDir, "openclaw.json"),
      JSON.stringify({ gateway: { port: await freePort(), auth: { token: TOKEN } } }),
      { mode: 0o600 }
    )
    gw = await startGateway([], cliEnv(stateDir))
    const launched = await launchBrowser()
    browser = launched.browser
    close = launched.close
  }, 60_000)
  afterAll(async () => {
    await close?.()
    await gw?.stop()
  })

  it("shows the Gateway-side checks, and a failing one with its fix", async () => {
    const page = await browser.newPage()
    await page.goto(`http://127.0.0.1:${gw.port}/#token=${TOKEN}`)
    await page.locator("#diagnose").click({ timeout: 15_000 })
    await expect
      .poll(() => page.locator("#doctor-summary").textContent(), { timeout: 15_000 })
      .toBe("All checks passed.")
    const rows = page.locator("#doctor-table tbody tr[data-step]")
    expect(
      await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute("data-step"), tr.getAttribute("data-ok")]))
    ).toEqual([
      ["process", "true"],
      ["state", "true"],
      ["exposure", "true"],
      ["audit", "true"]
    ])
    expect(await page.locator('tr[data-step="process"]').textContent()).toContain(
      `PID ${gw.child.pid} is alive and listens on port ${gw.port}`
    )
    await screenshot(page, "doctor-01-healthy")

    fs.chmodSync(stateDir, 0o755)
    // Diagnoses within DOCTOR_CACHE_MS share one run (no client can make another wait).
    await new Promise((r) => setTimeout(r, DOCTOR_CACHE_MS))
    try {
      await page.locator("#diagnose").click()
      await expect
        .poll(() => page.locator("#doctor-summary").textContent(), { timeout: 15_000 })
        .toBe("Stopped at state: fix it and diagnose again.")
      expect(await page.locator('tr[data-step="state"]').getAttribute("data-ok")).toBe("false")
      expect(await page.locator('tr[data-fix="state"]').textContent()).toContain(`chmod 700 ${stateDir}`)
      expect(await page.locator('tr[data-step="exposure"]').getAttribute("data-ok")).toBe("null")
      // The result survives the Overview's periodic re-render.
      await page.locator("#refresh").click()
      expect(await page.locator('tr[data-fix="state"]').count()).toBe(1)
      await screenshot(page, "doctor-02-state-open")
    } finally {
      fs.chmodSync(stateDir, 0o700)
    }
    expect(await page.content()).not.toContain(TOKEN)
  })
})
