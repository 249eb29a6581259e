/**
 * The node's browser keeps at most MAX_TABS tabs: each is a renderer's memory on the node's machine,
 * so a Gateway (or a model driving it) cannot open them without end. Real headless Chromium.
 */
import * as fs from "node:fs"
import { afterAll, describe, expect, it } from "vitest"
import { BrowserController, MAX_TABS } from "../../src/services/node-host/browser.js"

const CHROMIUM = "/usr/bin/chromium"

describe.skipIf(!fs.existsSync(CHROMIUM))("node browser tab cap", { timeout: 120_000 }, () => {
  const browser = new BrowserController(CHROMIUM, true)
  afterAll(() => browser.close())
  const open = () =>
    browser.handle({ method: "POST", path: "/tabs/open", body: {} }, 30_000) as Promise<{ tabId: string }>

  it(`opens ${MAX_TABS} tabs, refuses the next with what to do, and opens again once one is closed`, async () => {
    const ids: Array<string> = []
    for (let i = 0; i < MAX_TABS; i++) ids.push((await open()).tabId)
    expect(new Set(ids).size).toBe(MAX_TABS)
    await expect(open()).rejects.toMatchObject({
      code: "INVALID_REQUEST",
      message: `${MAX_TABS} tabs are open on the node: close one first (\`openclaw browser close <tabId>\`)`
    })
    await browser.handle({ method: "POST", path: "/tabs/close", body: { tabId: ids[0] } }, 30_000)
    expect((await open()).tabId).not.toBe(ids[0])
    expect(await browser.handle({ method: "GET", path: "/" }, 30_000)).toMatchObject({ tabs: MAX_TABS })
  })
})
