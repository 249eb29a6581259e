/** playwright-core (the CLI's own copy in dist/vendor/) is loaded on first use; its absence says what to install. */
import { describe, expect, it } from "vitest"
import { BrowserError, loadPlaywright, PLAYWRIGHT_MISSING } from "../../../src/services/node-host/browser.js"

const notFound = (code: string) => Object.assign(new Error("Cannot find module 'playwright-core'"), { code })

describe("loading playwright-core", () => {
  it("when it is not installed, fails with BrowserError UNAVAILABLE naming the install command", async () => {
    for (const code of ["MODULE_NOT_FOUND", "ERR_MODULE_NOT_FOUND"]) {
      const error = await loadPlaywright(() => Promise.reject(notFound(code))).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(BrowserError)
      expect((error as BrowserError).code).toBe("UNAVAILABLE")
      expect((error as BrowserError).message).toBe(PLAYWRIGHT_MISSING)
    }
    expect(PLAYWRIGHT_MISSING).toContain("`npm install -g openclaw-gateway-effect`")
    expect(PLAYWRIGHT_MISSING).toContain("npm install playwright-core")
  })

  it("loads the installed one, and passes other failures through", async () => {
    expect(typeof (await loadPlaywright()).chromium.launch).toBe("function")
    const other = new Error("boom")
    await expect(loadPlaywright(() => Promise.reject(other))).rejects.toBe(other)
  })
})
