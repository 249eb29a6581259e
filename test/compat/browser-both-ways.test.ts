/**
 * Browser control across the two implementations, through our Gateway: OpenClaw's `browser` CLI
 * driving our node host, and our `browser` CLI driving OpenClaw's node host. Each side reads the
 * other's answers (tabs, open, navigate, snapshot, screenshot with its file).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { compatInstalled, NODE24, OPENCLAW } from "../support/compat.js"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { allowLoopbackPages, type NodeHostProcess, startNodeHost } from "../support/node-host.js"

const TOKEN = "compat-browser-token-1a2b3c4d5e"
const PAGE = `<!doctype html><html><head><title>Compat page</title></head><body><h1>Hello across implementations</h1><p>marker-c0mp4t</p></body></html>`
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

const openclawEnv = (home: string, extra: Record<string, string> = {}) => ({
  PATH: `${path.dirname(NODE24)}:${process.env.PATH}`,
  HOME: home,
  OPENCLAW_STATE_DIR: path.join(home, ".openclaw"),
  OPENCLAW_NO_AUTO_UPDATE: "1",
  OPENCLAW_DISABLE_BONJOUR: "1",
  OPENCLAW_OFFLINE: "1",
  NO_COLOR: "1",
  ...extra
})

/** A private HOME with an OpenClaw config file. */
const openclawHome = (config: unknown) => {
  const home = tempStateDir()
  fs.mkdirSync(path.join(home, ".openclaw"))
  fs.writeFileSync(path.join(home, ".openclaw", "openclaw.json"), JSON.stringify(config))
  return home
}

describe.skipIf(!compatInstalled || !fs.existsSync("/usr/bin/chromium"))(
  "browser control between OpenClaw and us, through our Gateway",
  () => {
    let site: http.Server
    let siteUrl: string
    let gw: GatewayProcess
    let gwState: string
    let cliHome: string

    const theirCli = (args: ReadonlyArray<string>) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(NODE24, [OPENCLAW, ...args], { env: openclawEnv(cliHome), timeout: 90_000 }, (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr })
        )
      })
    const ourCli = (args: ReadonlyArray<string>) => runCli(args, cliEnv(gwState), 60_000)

    beforeAll(async () => {
      site = http.createServer((_req, res) => {
        res.writeHead(200, { "Content-Type": "text/html" })
        res.end(PAGE)
      })
      await new Promise<void>((r) => site.listen(0, "127.0.0.1", r))
      siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`
      gwState = tempStateDir()
      const port = await freePort()
      fs.writeFileSync(
        path.join(gwState, "openclaw.json"),
        JSON.stringify({ gateway: { port, auth: { token: TOKEN } } }),
        { mode: 0o600 }
      )
      gw = await startGateway([], cliEnv(gwState))
      cliHome = openclawHome({ gateway: { mode: "remote", remote: { url: `ws://127.0.0.1:${port}`, token: TOKEN } } })
    }, 30_000)

    afterAll(async () => {
      await gw?.stop()
      site?.closeAllConnections()
      site?.close()
    })

    describe("OpenClaw's browser CLI with our node host", () => {
      let node: NodeHostProcess

      beforeAll(async () => {
        // The test's pages are on this machine's loopback, which the node host blocks by default.
        allowLoopbackPages(gwState)
        // Same state directory as the Gateway: this machine's own node host pairs automatically.
        node = startNodeHost(
          ["--url", `ws://127.0.0.1:${gw.port}`, "--token", TOKEN, "--display-name", "our-node"],
          cliEnv(gwState)
        )
        await node.waitFor(/offering browser\.proxy/)
      }, 60_000)

      afterAll(async () => {
        await node?.stop()
      })

      it("status prints OpenClaw's fields before the browser starts (it starts on first use)", async () => {
        const status = await theirCli(["browser", "status"])
        expect(status.code, status.stderr).toBe(0)
        expect(status.stdout).toMatch(
          /^profile: temporary\nenabled: true\nrunning: false\ntransport: cdp\ncdpPort: \(unset\)\ncdpUrl: pipe \(no remote debugging port\)\nbrowser: unknown\ndetectedBrowser: chromium\ndetectedPath: \/\S+\nheadless: true\n/m
        )
        expect(status.stdout).not.toContain("undefined")
      }, 90_000)

      it("open, tabs, navigate, snapshot and screenshot print OpenClaw's fields, not undefined", async () => {
        const open = await theirCli(["browser", "open", siteUrl])
        expect(open.code, open.stderr).toBe(0)
        expect(open.stdout).toMatch(
          new RegExp(`opened: ${siteUrl.replace(/[./]/g, "\\$&")}\\n(tab: tab-\\d+\\n)?id: tab-\\d+`)
        )
        const tabs = await theirCli(["browser", "tabs"])
        expect(tabs.code, tabs.stderr).toBe(0)
        expect(tabs.stdout).toMatch(
          /1\. Compat page \[tab: tab-\d+\]\n {3}http:\/\/127\.0\.0\.1:\d+\/\n {3}id: tab-\d+/
        )
        const nav = await theirCli(["browser", "navigate", `${siteUrl}?again=1`])
        expect(nav.code, nav.stderr).toBe(0)
        expect(nav.stdout).toContain(`navigated to ${siteUrl}?again=1`)
        const snap = await theirCli(["browser", "snapshot"])
        expect(snap.code, snap.stderr).toBe(0)
        expect(snap.stdout).toContain('heading "Hello across implementations"')
        const shot = await theirCli(["browser", "screenshot"])
        expect(shot.code, shot.stderr).toBe(0)
        // The Gateway saved the node's file, as OpenClaw's does, and the CLI prints where.
        const saved = shot.stdout.trim().split("\n").at(-1)!
        expect(saved.startsWith(path.join(gwState, "media", "browser"))).toBe(true)
        expect(fs.readFileSync(saved).subarray(0, 8)).toEqual(PNG_MAGIC)
        for (const r of [open, tabs, nav, snap, shot]) expect(r.stdout).not.toContain("undefined")
        const status = await theirCli(["browser", "status"])
        expect(status.stdout).toMatch(/\nrunning: true\n[^]*\nbrowser: chromium\n/)
        expect(status.stdout).not.toContain("undefined")
      }, 240_000)
    })

    describe("our browser CLI with OpenClaw's node host", () => {
      let theirs: ChildProcess
      let log = ""

      beforeAll(async () => {
        const home = openclawHome({
          browser: {
            executablePath: "/usr/bin/chromium",
            headless: true,
            noSandbox: true,
            ssrfPolicy: { dangerouslyAllowPrivateNetwork: true }
          }
        })
        theirs = spawn(
          NODE24,
          [OPENCLAW, "node", "run", "--host", "127.0.0.1", "--port", String(gw.port), "--display-name", "their-node"],
          {
            env: openclawEnv(home, { OPENCLAW_GATEWAY_TOKEN: TOKEN }),
            stdio: ["ignore", "pipe", "pipe"],
            detached: true
          }
        )
        theirs.stdout!.on("data", (d) => (log += d))
        theirs.stderr!.on("data", (d) => (log += d))
        const deadline = Date.now() + 120_000
        let requestId: string | undefined
        while (requestId === undefined) {
          if (Date.now() > deadline)
            throw new Error(`no pairing request from OpenClaw's node host:\n${log.slice(-3000)}`)
          await new Promise((r) => setTimeout(r, 1_000))
          requestId = JSON.parse((await ourCli(["nodes", "pending", "--json"])).stdout).pending[0]?.requestId
        }
        expect((await ourCli(["nodes", "approve", requestId])).code).toBe(0)
        while (
          !JSON.parse((await ourCli(["nodes", "list", "--json"])).stdout).nodes.some(
            (n: any) => n.connected && n.displayName === "their-node"
          )
        ) {
          if (Date.now() > deadline)
            throw new Error(`OpenClaw's node host did not connect after approval:\n${log.slice(-3000)}`)
          await new Promise((r) => setTimeout(r, 1_000))
        }
      }, 150_000)

      afterAll(() => {
        try {
          process.kill(-theirs.pid!, "SIGKILL")
        } catch {
          // Already gone.
        }
      })

      it("open, tabs, navigate, snapshot and screenshot read OpenClaw's answers", async () => {
        const open = await ourCli(["browser", "open", siteUrl, "--timeout", "60000"])
        expect(open.code, open.stderr + log.slice(-2000)).toBe(0)
        // OpenClaw's node answers as soon as the tab exists, before the page has its title.
        expect(open.stdout).toMatch(/^Opened \S+: (Compat page|\(untitled\)) http:\/\/127\.0\.0\.1:\d+\/\n$/)
        const tabs = await ourCli(["browser", "tabs"])
        expect(tabs.stdout).toContain("Compat page")
        const nav = await ourCli(["browser", "navigate", `${siteUrl}?again=1`])
        expect(nav.code, nav.stderr).toBe(0)
        expect(nav.stdout).toContain(`${siteUrl}?again=1`)
        const snap = await ourCli(["browser", "snapshot"])
        expect(snap.code, snap.stderr).toBe(0)
        expect(snap.stdout).toContain("Hello across implementations")
        const file = path.join(gwState, "theirs.png")
        const shot = await ourCli(["browser", "screenshot", "--out", file])
        expect(shot.code, shot.stderr).toBe(0)
        expect(fs.readFileSync(file).subarray(0, 8)).toEqual(PNG_MAGIC)
        for (const r of [open, tabs, nav, snap, shot]) expect(r.stdout).not.toContain("undefined")
      }, 240_000)
    })
  }
)
