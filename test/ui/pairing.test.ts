/**
 * Journey E through the Control UI's pairing screen, on real processes: the Gateway, two node hosts
 * (each with its own state dir, like two laptops, and its own headless Chromium), the CLI, and the
 * UI in headless Chromium. Screenshots go to test-results/.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { allowLoopbackPages, type NodeHostProcess, startNodeHost } from "../support/node-host.js"
import { chromiumInstalled, launchBrowser, screenshot } from "./browser.js"

if (!chromiumInstalled && process.env.CI)
  throw new Error("chromium missing: .ci/run installs it (apt-get install chromium)")

const TOKEN = "ui-pairing-token-5e1b7d3c9a0f2468"

describe.skipIf(!chromiumInstalled)("Control UI pairing with real node hosts", { timeout: 90_000 }, () => {
  let gw: GatewayProcess
  let gwEnv: NodeJS.ProcessEnv
  let port: number
  let browser: Browser
  let closeBrowser: (() => Promise<void>) | undefined
  let page: Page
  let site: http.Server
  let siteUrl: string
  const nodes: Array<NodeHostProcess> = []

  const cli = (args: ReadonlyArray<string>) => runCli(args, gwEnv, 40_000)
  const startNode = (name: string, stateDir = tempStateDir()) => {
    // The test's page is on this machine's loopback, which the node host blocks by default.
    allowLoopbackPages(stateDir)
    const node = startNodeHost(
      ["--url", `ws://127.0.0.1:${port}`, "--token", TOKEN, "--display-name", name],
      cliEnv(stateDir)
    )
    nodes.push(node)
    return node
  }

  beforeAll(async () => {
    site = http.createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" })
      res.end("<!doctype html><title>Laptop page</title><h1>Seen through the paired node</h1>")
    })
    await new Promise<void>((r) => site.listen(0, "127.0.0.1", r))
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`
    const stateDir = tempStateDir()
    port = await freePort()
    fs.writeFileSync(
      path.join(stateDir, "openclaw.json"),
      JSON.stringify({ gateway: { port, auth: { token: TOKEN } } }),
      { mode: 0o600 }
    )
    gwEnv = cliEnv(stateDir)
    gw = await startGateway([], gwEnv)
    const launched = await launchBrowser()
    browser = launched.browser
    closeBrowser = launched.close
    page = await (await browser.newContext({ viewport: { width: 1200, height: 780 } })).newPage()
    await page.goto(`http://127.0.0.1:${port}/#token=${TOKEN}`)
    await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
    await page.click('[data-view="pairing"]')
    await page.locator("#pairing-pending", { hasText: "No pending requests." }).waitFor({ timeout: 10_000 })
  }, 60_000)

  afterAll(async () => {
    await closeBrowser?.()
    for (const n of nodes) await n.stop()
    await gw?.stop()
    site?.closeAllConnections()
    await new Promise((r) => site?.close(r))
  })

  it("a node's request appears live, Approve lets it connect, the paired list and presence show it, and the browser works", async () => {
    // The operator is looking at another screen: the Pairing tab counts the waiting request.
    await page.click('[data-view="overview"]')
    const laptopState = tempStateDir()
    const node = startNode("laptop", laptopState)
    const [, requestId] = await node.waitFor(/waiting for approval: requestId ([0-9a-f-]{36})/)
    await page.locator('[data-view="pairing"] #pairing-count', { hasText: "1" }).waitFor({ timeout: 10_000 })
    await screenshot(page, "pairing-00-tab-count")
    await page.click('[data-view="pairing"]')
    // No reload, no Refresh click: node.pair.requested brings it in.
    const row = page.locator(`#pairing-pending tr[data-request="${requestId}"]`)
    await row.waitFor({ timeout: 10_000 })
    expect(await row.textContent()).toContain("laptop")
    // What approving would allow: the commands and capabilities the node declared.
    expect(await row.locator('[data-field="asks"]').textContent()).toBe("Commands browser.proxy, caps browser")
    expect(await row.textContent()).toContain("127.0.0.1")
    expect(await row.textContent()).toContain("linux")
    await screenshot(page, "pairing-01-request")

    const from = node.output().length
    await row.locator("button", { hasText: "Approve" }).click()
    await node.waitFor(
      /connected to ws:\/\/127\.0\.0\.1:\d+ as node [0-9a-f]{12} \(laptop\); offering browser\.proxy/,
      from
    )
    await page.locator("#pairing-pending", { hasText: "No pending requests." }).waitFor({ timeout: 10_000 })
    expect(await page.locator("#pairing-count").count()).toBe(0)
    // The paired list follows the node's connection by itself.
    const paired = page.locator("#pairing-paired tr", { hasText: "laptop" })
    await paired.locator('[data-field="connected"]', { hasText: "yes" }).waitFor({ timeout: 10_000 })
    await screenshot(page, "pairing-02-approved")

    await page.click('[data-view="presence"]')
    await page
      .locator('#nodes-table tr[data-client="node-host"][data-mode="node"]', { hasText: "laptop" })
      .waitFor({ timeout: 10_000 })
    await screenshot(page, "pairing-03-presence")

    const open = await cli(["browser", "open", siteUrl])
    expect(open.stderr).toBe("")
    const snap = await cli(["browser", "snapshot"])
    expect(snap.code).toBe(0)
    expect(snap.stdout).toContain("Seen through the paired node")

    // The node goes away: the paired list says so without a reload.
    await page.click('[data-view="pairing"]')
    await paired.locator('[data-field="connected"]', { hasText: "yes" }).waitFor({ timeout: 10_000 })
    await node.stop()
    await paired.locator('[data-field="connected"]', { hasText: "no" }).waitFor({ timeout: 10_000 })

    // It comes back, and the operator removes it: a confirm step, then it leaves the paired list and
    // the node host (disconnected by the Gateway) has to ask to be paired again.
    const back = startNode("laptop", laptopState)
    await paired.locator('[data-field="connected"]', { hasText: "yes" }).waitFor({ timeout: 15_000 })
    const nodeId = await paired.getAttribute("data-node")
    expect(nodeId).toBeTruthy()
    const fromBack = back.output().length
    await paired.locator('button[data-action="remove"]').click()
    await paired.locator('button[data-action="cancel-remove"]').click()
    await paired.locator('button[data-action="remove"]').click()
    expect(JSON.stringify(JSON.parse((await cli(["nodes", "list", "--json"])).stdout))).toContain(nodeId!)
    await screenshot(page, "pairing-05-confirm-remove")
    await paired.locator('button[data-action="confirm-remove"]').click()
    await paired.waitFor({ state: "detached", timeout: 10_000 })
    await back.waitFor(/asking to be paired again/, fromBack)
    const [, again] = await back.waitFor(/waiting for approval: requestId ([0-9a-f-]{36})/, fromBack)
    const list = await cli(["nodes", "list", "--json"])
    expect(list.code).toBe(0)
    expect(list.stdout).not.toContain(nodeId!)
    // The fresh request shows up; reject it so the next test starts with an empty list.
    const fresh = page.locator(`#pairing-pending tr[data-request="${again}"]`)
    await fresh.waitFor({ timeout: 10_000 })
    await screenshot(page, "pairing-06-removed")
    await fresh.locator("button", { hasText: "Reject" }).click()
    await page.locator("#pairing-pending", { hasText: "No pending requests." }).waitFor({ timeout: 10_000 })
  })

  it("Reject: the request goes away and stays away, and the node host stops saying it was rejected", async () => {
    const strangerState = tempStateDir()
    const node = startNode("stranger", strangerState)
    const [, requestId] = await node.waitFor(/waiting for approval: requestId ([0-9a-f-]{36})/)
    const row = page.locator(`#pairing-pending tr[data-request="${requestId}"]`)
    await row.waitFor({ timeout: 10_000 })
    await row.locator("button", { hasText: "Reject" }).click()
    const code = await Promise.race([
      node.exited,
      new Promise<"running">((r) => setTimeout(() => r("running"), 20_000))
    ])
    expect(code, node.output()).toBe(1)
    expect(node.output()).toContain("an operator rejected this node's pairing request")
    expect(node.output()).toContain("openclaw node run")
    expect(node.output()).not.toContain(TOKEN)
    expect(node.output()).not.toMatch(/\n\s+at /)
    await page.locator("#pairing-pending", { hasText: "No pending requests." }).waitFor({ timeout: 10_000 })
    expect(JSON.parse((await cli(["nodes", "pending", "--json"])).stdout).pending).toEqual([])
    expect(await page.locator("#pairing-paired", { hasText: "stranger" }).count()).toBe(0)
    await screenshot(page, "pairing-04-rejected")

    // Asking again is a deliberate act on the node's machine: a fresh request appears.
    const again = startNode("stranger", strangerState)
    const [, second] = await again.waitFor(/waiting for approval: requestId ([0-9a-f-]{36})/)
    expect(second).not.toBe(requestId)
    await page.locator(`#pairing-pending tr[data-request="${second}"]`).waitFor({ timeout: 10_000 })
  })

  it("a pending request whose expiresAt passes leaves the list on the page's own clock, with no server round trip", async () => {
    const node = startNode("sleepy")
    const [, requestId] = await node.waitFor(/waiting for approval: requestId ([0-9a-f-]{36})/)
    const pending = JSON.parse((await cli(["nodes", "pending", "--json"])).stdout).pending as Array<{
      requestId: string
      expiresAt: number
    }>
    const expiresAt = pending.find((p) => p.requestId === requestId)!.expiresAt
    expect(expiresAt).toBeGreaterThan(Date.now())
    // A page whose clock playwright controls (the Gateway's clock is untouched): jump past expiresAt.
    const context = await browser.newContext({ viewport: { width: 1200, height: 780 } })
    try {
      const p2 = await context.newPage()
      await p2.clock.install()
      await p2.goto(`http://127.0.0.1:${port}/#token=${TOKEN}`)
      await p2.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
      await p2.click('[data-view="pairing"]')
      const row = p2.locator(`#pairing-pending tr[data-request="${requestId}"]`)
      await row.waitFor({ timeout: 10_000 })
      const before = await row.textContent()
      await p2.clock.setSystemTime(expiresAt - 3_000)
      // The countdown ticks instead of staying frozen.
      await p2.waitForFunction((prev) => document.querySelector(`#pairing-pending tr`)?.textContent !== prev, before, {
        timeout: 10_000
      })
      await p2.clock.setSystemTime(expiresAt + 1_000)
      await row.waitFor({ state: "detached", timeout: 10_000 })
      await p2.locator("#pairing-pending", { hasText: "No pending requests." }).waitFor({ timeout: 10_000 })
      // The Gateway still has it (its clock has not reached expiresAt): the page decided by itself.
      expect((await cli(["nodes", "pending", "--json"])).stdout).toContain(requestId)
    } finally {
      await context.close().catch(() => {})
      await node.stop()
    }
  })
})
