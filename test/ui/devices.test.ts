/**
 * The browser as an operator device, in real headless Chromium against a real Gateway process:
 * one sign-in with the shared token gives the page a WebCrypto Ed25519 identity (IndexedDB) and a
 * device token, after which it no longer keeps the token; the Devices screen lists it with a node
 * host, renames and revokes ("Revoke all others"); the Activity screen shows the audit log live;
 * `openclaw devices revoke` signs the browser out. Screenshots: docs/devices.png, docs/activity.png.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { newIdentity, nodeConnect } from "../support/node.js"
import { chromiumInstalled, launchBrowser } from "./browser.js"

if (!chromiumInstalled && process.env.CI)
  throw new Error("chromium missing: .ci/run installs it (apt-get install chromium)")

const TOKEN = "ui-devices-token-7c2e9a1b3d5f4680"
const DOCS = path.resolve(__dirname, "../../docs")

describe.skipIf(!chromiumInstalled)(
  "Control UI: the browser as a device, Devices and Activity screens",
  { timeout: 120_000 },
  () => {
    let gw: GatewayProcess
    let env: NodeJS.ProcessEnv
    let url: string
    let browser: Browser
    let closeBrowser: (() => Promise<void>) | undefined
    let page: Page
    const cli = (args: ReadonlyArray<string>) => runCli(args, env, 40_000)
    const storage = () =>
      page.evaluate(() => ({
        auth: localStorage.getItem("openclaw.controlUi.auth"),
        device: localStorage.getItem("openclaw.controlUi.deviceToken")
      }))

    beforeAll(async () => {
      const dir = tempStateDir()
      const port = await freePort()
      fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway: { port, auth: { token: TOKEN } } }), {
        mode: 0o600
      })
      env = cliEnv(dir)
      gw = await startGateway([], env)
      url = `http://127.0.0.1:${port}/`
      const launched = await launchBrowser()
      browser = launched.browser
      closeBrowser = launched.close
      page = await (await browser.newContext({ viewport: { width: 1280, height: 760 } })).newPage()
    }, 60_000)

    afterAll(async () => {
      await closeBrowser?.()
      await gw?.stop()
    })

    it("one sign-in with the token: the page gets a device token and forgets the token; a reload signs in with the device token", async () => {
      await page.goto(url)
      await page.locator("#login-form").waitFor({ timeout: 15_000 })
      await page.fill("#auth-secret", TOKEN)
      await page.click("#auth-submit")
      await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
      await expect.poll(storage, { timeout: 5_000 }).toMatchObject({ auth: null })
      const stored = await storage()
      expect(stored.device).not.toContain(TOKEN)
      expect(JSON.parse(stored.device!).token).toMatch(/^[A-Za-z0-9_-]{43}$/)
      await page.reload()
      await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
      await page
        .locator('[data-field="auth-method"]', { hasText: "operator via device-token" })
        .waitFor({ timeout: 10_000 })
      const html = await page.content()
      expect(html).not.toContain(TOKEN)
    })

    it("Devices lists this browser and a node host; rename; Revoke all others cuts the node off; Activity shows it live", async () => {
      // A node host paired through the CLI, connected on its device token.
      const id = newIdentity()
      const wsUrl = url.replace("http", "ws")
      const asked = await nodeConnect(wsUrl, id, { auth: { token: TOKEN }, displayName: "studio-mac" })
      await cli(["devices", "approve", asked.res.error.details.requestId])
      const first = await nodeConnect(wsUrl, id, { auth: { token: TOKEN }, displayName: "studio-mac" })
      first.client.ws.close()
      const node = await nodeConnect(wsUrl, id, {
        auth: { deviceToken: first.res.payload.auth.deviceToken },
        displayName: "studio-mac"
      })
      expect(node.res.ok).toBe(true)

      await page.click('[data-view="devices"]')
      const own = page.locator('#devices-table tr[data-role="operator"]')
      await own.locator(".badge", { hasText: "this browser" }).waitFor({ timeout: 10_000 })
      expect(await own.locator('[data-field="signs-in-with"]').textContent()).toBe("device-token")
      expect(await own.locator('[data-field="connected"]').textContent()).toBe("yes")
      const nodeRow = page.locator(`#devices-table tr[data-device="${id.deviceId}"]`)
      await nodeRow.waitFor()
      await own.locator('[data-action="rename"]').click()
      // A live event re-renders the screen mid-edit: the field keeps its focus and selection, so
      // typing still replaces the old name (it used to land nowhere, or after "Control UI").
      await own.locator("input.rename").selectText()
      const marked = await own.evaluate((row) => ((row as any).drawnBefore = true))
      expect(marked).toBe(true)
      expect((await runCli(["health", "--url", wsUrl, "--token", TOKEN], env)).code).toBe(0)
      await expect.poll(() => own.evaluate((row) => (row as any).drawnBefore ?? false), { timeout: 10_000 }).toBe(false)
      await page.keyboard.type("my laptop browser")
      await own.locator('[data-action="save-name"]').click()
      await own.locator("td", { hasText: "my laptop browser" }).first().waitFor({ timeout: 5_000 })
      fs.mkdirSync(DOCS, { recursive: true })
      await page.screenshot({ path: path.join(DOCS, "devices.png") })

      await page.click("#revoke-others")
      await page.click('[data-action="confirm"]')
      const closed = await node.client.waitClosed(3_000)
      expect(closed).toEqual({ code: 1008, reason: "device revoked" })
      await nodeRow.locator('[data-field="signs-in-with"]', { hasText: "revoked" }).waitFor({ timeout: 5_000 })
      expect(await own.locator('[data-field="signs-in-with"]').textContent()).toBe("device-token")

      await page.click('[data-view="activity"]')
      await page.locator('#activity-table tr[data-event="device.revoked"]').first().waitFor({ timeout: 10_000 })
      // Live: a failed sign-in elsewhere appears without a refresh.
      const bad = await runCli(["health", "--url", wsUrl, "--token", "not-the-token-0000000000000000"], env)
      expect(bad.code).toBe(1)
      await page
        .locator('#activity-table tr[data-event="auth.fail"]', { hasText: "AUTH_TOKEN_MISMATCH" })
        .first()
        .waitFor({ timeout: 5_000 })
      await page.screenshot({ path: path.join(DOCS, "activity.png") })
    })

    it("openclaw devices revoke signs that browser out at once; it cannot get back in without the token", async () => {
      const list = JSON.parse((await cli(["devices", "list", "--json"])).stdout)
      const mine = list.paired.find((d: any) => d.role === "operator")
      expect(mine).toMatchObject({ displayName: "my laptop browser", connected: true, clientId: "openclaw-control-ui" })
      const started = Date.now()
      const revoked = await cli(["devices", "revoke", "my laptop browser"])
      expect(revoked.code).toBe(0)
      await page.locator("#auth-error", { hasText: "This browser was signed out" }).waitFor({ timeout: 3_000 })
      console.log(
        `browser signed out ${Date.now() - started} ms after \`devices revoke\` started (CLI run ${revoked.ms} ms)`
      )
      expect(await storage()).toEqual({ auth: null, device: null })
      await page.reload()
      await page.locator("#login-form").waitFor({ timeout: 10_000 })
      expect(await page.locator("#conn-pill").textContent()).toBe("not signed in")
    })
  }
)
