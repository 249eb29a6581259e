/** Headless Debian Chromium driven by playwright-core, with the flags that work on these machines. */
import * as fs from "node:fs"
import * as path from "node:path"
import type { Browser, Page } from "playwright-core"

export const CHROMIUM = "/usr/bin/chromium"
export const chromiumInstalled = fs.existsSync(CHROMIUM)

export const launchBrowser = async (
  extraArgs: ReadonlyArray<string> = []
): Promise<{ browser: Browser; close: () => Promise<void> }> => {
  const { chromium } = await import("playwright-core")
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
      "--disable-dev-shm-usage",
      ...extraArgs
    ]
    // playwright gives each launch a fresh temporary profile (its own --user-data-dir) and removes it on close.
  })
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => {})
    }
  }
}

export const RESULTS = path.resolve(__dirname, "../../test-results")

export const screenshot = async (page: Page, name: string) => {
  fs.mkdirSync(RESULTS, { recursive: true })
  await page.screenshot({ path: path.join(RESULTS, `${name}.png`), fullPage: true })
}
