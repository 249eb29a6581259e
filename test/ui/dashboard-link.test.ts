/**
 * `openclaw dashboard` and the Control UI together: the one-time link the CLI prints signs a
 * browser in, also in a tab that already shows the UI (only the hash changes, so there is no
 * reload), and the code leaves the address bar.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliEnv, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { chromiumInstalled, launchBrowser } from "./browser.js"

const TOKEN = "dashboard-link-token-5e1f0c9a7b3d"

describe.skipIf(!chromiumInstalled)("the dashboard link in the Control UI", () => {
  let gw: GatewayProcess
  let env: NodeJS.ProcessEnv
  let browser: Browser
  let closeBrowser: (() => Promise<void>) | undefined

  beforeAll(async () => {
    const stateDir = tempStateDir()
    // Port 0: only the runtime record tells the CLI where this Gateway listens.
    fs.writeFileSync(path.join(stateDir, "openclaw.json"), JSON.stringify({ gateway: { auth: { token: TOKEN } } }))
    env = cliEnv(stateDir)
    gw = await startGateway(["--port", "0"], env)
    const launched = await launchBrowser()
    browser = launched.browser
    closeBrowser = launched.close
  }, 60_000)

  afterAll(async () => {
    await closeBrowser?.()
    await gw?.stop()
  })

  it("a #code= link opened in a tab already showing the sign-in form signs in without a reload and leaves the address bar", async () => {
    const r = await runCli(["dashboard", "--json"], env)
    expect(r.code, r.stderr).toBe(0)
    const { url, controlUiUrl } = JSON.parse(r.stdout)
    expect(controlUiUrl).toBe(`http://127.0.0.1:${gw.port}/`)
    expect(url).toMatch(new RegExp(`^${controlUiUrl}#code=[A-Za-z0-9_-]{32}$`))

    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      await page.goto(controlUiUrl)
      await page.locator("#login-form").waitFor({ timeout: 15_000 })
      await page.evaluate(() => ((window as any).__sameDocument = true))
      await page.goto(url)
      await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
      // Same document (no reload), and the code is gone from the address bar.
      expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true)
      expect(page.url()).toBe(controlUiUrl)
      // Signed in with the link's code, the page became a device of its own: it keeps the device
      // token the Gateway issued, never the shared token or the code (see "Operator devices" in the README).
      const stored = await page.waitForFunction(
        () => localStorage.getItem("openclaw.controlUi.deviceToken"),
        undefined,
        { timeout: 10_000 }
      )
      expect(await stored.jsonValue()).toBeTruthy()
      const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }))
      expect(storage).not.toContain(TOKEN)
      expect(storage).not.toContain(url.split("#code=")[1])
    } finally {
      await context.close()
    }
  }, 60_000)
})
