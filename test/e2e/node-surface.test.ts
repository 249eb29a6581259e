/**
 * Pairing covers a node's command surface, on real processes: a Gateway, a node host (`openclaw
 * node run`, its own state dir) paired without a browser, then restarted with one. Its new
 * browser.proxy waits for an operator (`nodes pending`, the Control UI in headless Chromium) and
 * is not routed until approved.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { type NodeHostProcess, startNodeHost } from "../support/node-host.js"
import { launchBrowser, screenshot } from "../ui/browser.js"

const TOKEN = "e2e-surface-token-0123456789abcdef"

describe.skipIf(!fs.existsSync("/usr/bin/chromium"))("a paired node host that later offers its browser", () => {
  let gw: GatewayProcess | undefined
  let node: NodeHostProcess | undefined
  afterAll(async () => {
    await node?.stop()
    await gw?.stop()
  })

  it("is held as a pending request for browser.proxy, is not routed browser commands, and is once approved", async () => {
    const gwState = tempStateDir()
    const port = await freePort()
    fs.writeFileSync(
      path.join(gwState, "openclaw.json"),
      JSON.stringify({ gateway: { port, auth: { token: TOKEN } } }),
      { mode: 0o600 }
    )
    const gwEnv = cliEnv(gwState)
    const cli = (args: ReadonlyArray<string>) => runCli(args, gwEnv, 40_000)
    gw = await startGateway([], gwEnv)

    const nodeState = tempStateDir()
    const nodeConfig = (enabled: boolean) =>
      fs.writeFileSync(
        path.join(nodeState, "openclaw.json"),
        JSON.stringify({ nodeHost: { browser: { enabled, executablePath: "/usr/bin/chromium" } } }),
        { mode: 0o600 }
      )
    const nodeArgs = ["--url", `ws://127.0.0.1:${port}`, "--token", TOKEN, "--display-name", "laptop"]

    // Paired while it offers nothing.
    nodeConfig(false)
    node = startNodeHost(nodeArgs, cliEnv(nodeState))
    const [, first] = await node.waitFor(/waiting for approval: requestId ([0-9a-f-]{36})/)
    const pendingFirst = await cli(["nodes", "pending"])
    expect(pendingFirst.stdout).toContain("commands: none; caps: none")
    expect((await cli(["nodes", "approve", first!])).stdout).toContain("with commands: none; caps: none")
    await node.waitFor(/connected to .* \(laptop\); offering no commands/)
    await node.stop()

    // Back with its browser: it connects (still paired), and asks for the difference.
    nodeConfig(true)
    node = startNodeHost(nodeArgs, cliEnv(nodeState))
    await node.waitFor(/connected to .* \(laptop\); offering browser\.proxy/)
    const pending = await cli(["nodes", "pending"])
    expect(pending.code).toBe(0)
    const [, requestId] = pending.stdout.match(/ {2}([0-9a-f-]{36}) {2}node laptop/)!
    expect(pending.stdout).toContain("already paired, asks for more: commands browser.proxy; caps browser")
    expect(gw.output()).toContain(
      `now declares command "browser.proxy", cap "browser" beyond its approval; not routed until approved: \`openclaw nodes approve ${requestId}\``
    )

    // The Control UI's pending list says the same.
    const { browser, close } = await launchBrowser()
    try {
      const page = await (await browser.newContext()).newPage()
      await page.goto(`http://127.0.0.1:${port}/#token=${TOKEN}`)
      await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
      await page.click('[data-view="pairing"]')
      const asks = page.locator(`#pairing-pending tr[data-request="${requestId}"] [data-field="asks"]`)
      await asks.waitFor({ timeout: 10_000 })
      expect(await asks.textContent()).toBe("Paired; asks for more: commands browser.proxy, caps browser")
      await screenshot(page, "pairing-upgrade-request")
    } finally {
      await close()
    }

    const list = await cli(["nodes", "list"])
    expect(list.stdout).toContain("commands: none; caps: none")
    expect(list.stdout).toContain("awaiting approval (not routed): commands: browser.proxy; caps: browser")
    const refused = await cli(["browser", "status"])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("no browser-capable node is connected")
    expect(refused.stderr).toContain("1 node(s) wait for approval")
    const direct = await cli([
      "gateway",
      "call",
      "node.invoke",
      "--params",
      JSON.stringify({
        nodeId: "laptop",
        command: "browser.proxy",
        params: { method: "GET", path: "/" },
        idempotencyKey: "e2e-1"
      })
    ])
    expect(direct.code).toBe(1)
    expect(direct.stderr).toContain("declares browser.proxy but it was not approved for it")

    const approved = await cli(["nodes", "approve", requestId!])
    expect(approved.stdout).toContain("for more: it may now be routed commands: browser.proxy; caps: browser.")
    const status = await cli(["browser", "status"])
    expect(status.code).toBe(0)
    expect(status.stdout).toContain("not started (starts on first use)")
    expect((await cli(["nodes", "describe", "laptop"])).stdout).toContain("Commands:  browser.proxy")
    expect((await cli(["nodes", "pending"])).stdout).toContain("No pending pairing requests.")
  }, 90_000)
})
