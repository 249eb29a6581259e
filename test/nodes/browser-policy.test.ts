/**
 * The node host's browser against pages that aim at the node's own machine: through a real Gateway,
 * node host and headless Chromium, http://127.0.0.1:<port> (and a redirect or an image to
 * localhost) is refused by default with a clear error and loaded with
 * nodeHost.browser.ssrfPolicy.dangerouslyAllowPrivateNetwork; `node run` says whether Chromium's
 * sandbox is on and why. Tests run as root, where the sandbox stays off: the decision itself is
 * tested directly.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  blockedAddress,
  blockedDestination,
  decideSandbox,
  DEFAULT_NAVIGATION_POLICY
} from "../../src/services/node-host/browser-policy.js"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { allowLoopbackPages, type NodeHostProcess, startNodeHost } from "../support/node-host.js"

const TOKEN = "browser-policy-token-0a1b2c3d4e5f6a7b"

describe("Chromium's sandbox: on wherever it works", () => {
  const linux = { platform: "linux" as const, sysctl: () => undefined, setuidHelper: false }

  it("an ordinary user on Linux with user namespaces keeps it", () => {
    expect(decideSandbox({ ...linux, uid: 1000 })).toEqual({ sandbox: true, why: "user namespaces" })
    expect(decideSandbox({ ...linux, uid: 1000, sysctl: () => "1" }).sandbox).toBe(true)
  })

  it("root: off, saying so and what keeps it", () => {
    const d = decideSandbox({ ...linux, uid: 0 })
    expect(d.sandbox).toBe(false)
    expect(d.why).toContain("running as root")
    expect(d.why).toContain("run the node host as an ordinary user")
  })

  it("no user namespaces: off, unless the setuid helper is there", () => {
    const closed = (file: string) => (file.endsWith("unprivileged_userns_clone") ? "0" : undefined)
    const off = decideSandbox({ ...linux, uid: 1000, sysctl: closed })
    expect(off).toMatchObject({ sandbox: false })
    expect(off.why).toContain("kernel.unprivileged_userns_clone is 0")
    expect(decideSandbox({ ...linux, uid: 1000, sysctl: closed, setuidHelper: true })).toEqual({
      sandbox: true,
      why: "the setuid chrome-sandbox helper"
    })
    const noNs = decideSandbox({ ...linux, uid: 1000, sysctl: (f) => (f.endsWith("max_user_namespaces") ? "0" : "1") })
    expect(noNs.why).toContain("user.max_user_namespaces is 0")
  })

  it("macOS and Windows keep Chromium's own", () => {
    expect(decideSandbox({ ...linux, platform: "darwin", uid: 501 }).sandbox).toBe(true)
    expect(decideSandbox({ ...linux, platform: "win32", uid: undefined }).sandbox).toBe(true)
  })
})

describe("the node machine's own addresses", () => {
  it("loopback, unspecified, link-local and metadata addresses are blocked in every spelling", () => {
    for (const a of [
      "127.0.0.1",
      "127.255.0.9",
      "0.0.0.0",
      "169.254.169.254",
      "169.254.1.1",
      "::1",
      "[::1]",
      "::",
      "fe80::1",
      "febf::1",
      "fd00:ec2::254",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:a9fe:a9fe",
      "::7f00:1"
    ])
      expect([a, blockedAddress(a)]).toEqual([a, expect.any(String)])
    for (const a of ["93.184.216.34", "10.0.0.5", "192.168.1.10", "2606:4700::1111", "fd00:ec2::253", "fec0::1"])
      expect([a, blockedAddress(a)]).toEqual([a, undefined])
    expect(blockedAddress("169.254.169.254")).toContain("link-local")
    expect(blockedAddress("fd00:ec2::254")).toContain("metadata")
  })

  it("host names are resolved before deciding; the settings allow them", async () => {
    const resolve = async (host: string) =>
      host === "metadata.internal"
        ? ["169.254.169.254"]
        : host === "sneaky.example"
          ? ["93.184.216.34", "::1"]
          : ["93.184.216.34"]
    const check = (url: string, policy = DEFAULT_NAVIGATION_POLICY) => blockedDestination(new URL(url), policy, resolve)
    expect(await check("http://metadata.internal/latest/meta-data/")).toContain(
      "metadata.internal resolves to 169.254.169.254, a link-local address"
    )
    expect(await check("https://sneaky.example/")).toContain("resolves to ::1")
    expect(await check("https://example.org/")).toBeUndefined()
    expect(await check("http://localhost:9222/json")).toContain("localhost:9222 is a loopback name")
    expect(await check("http://app.localhost/")).toContain("loopback name")
    // The URL parser's spellings of 127.0.0.1 end up as 127.0.0.1.
    expect(await check("http://2130706433/")).toContain("127.0.0.1 is a loopback address")
    expect(await check("http://0x7f.1/")).toContain("a loopback address")
    expect(await check("http://[::ffff:127.0.0.1]/")).toContain("a loopback address")
    expect(await check("http://127.0.0.1/")).toContain("nodeHost.browser.ssrfPolicy.dangerouslyAllowPrivateNetwork")
    const allowed = { dangerouslyAllowPrivateNetwork: true, allowedHostnames: [] }
    expect(await check("http://169.254.169.254/", allowed)).toBeUndefined()
    expect(
      await check("http://metadata.internal/", {
        dangerouslyAllowPrivateNetwork: false,
        allowedHostnames: ["Metadata.Internal"]
      })
    ).toBeUndefined()
    // A name that does not resolve is left to the browser (which will not reach it either).
    expect(
      await blockedDestination(new URL("http://nowhere.invalid/"), DEFAULT_NAVIGATION_POLICY, () =>
        Promise.reject(new Error("ENOTFOUND"))
      )
    ).toBeUndefined()
  })
})

describe.skipIf(!fs.existsSync("/usr/bin/chromium"))(
  "a real node host and Chromium (loopback pages)",
  { timeout: 120_000 },
  () => {
    let gwState: string
    let gwEnv: NodeJS.ProcessEnv
    let gw: GatewayProcess | undefined
    let node: NodeHostProcess | undefined
    let site: http.Server
    let sitePort: number
    const served: Array<string> = []
    const cli = (args: ReadonlyArray<string>) => runCli(args, gwEnv, 60_000)

    const startNode = async (policy?: Record<string, unknown>) => {
      await node?.stop()
      const file = path.join(gwState, "openclaw.json")
      const config = JSON.parse(fs.readFileSync(file, "utf8"))
      delete config.nodeHost
      fs.writeFileSync(file, JSON.stringify(config), { mode: 0o600 })
      if (policy !== undefined) allowLoopbackPages(gwState, policy)
      // Same state directory as the Gateway: this machine's own node host pairs at once.
      node = startNodeHost(
        ["--url", `ws://127.0.0.1:${gw!.port}`, "--token", TOKEN, "--display-name", "guarded"],
        gwEnv
      )
      await node.waitFor(/offering browser\.proxy/, 0, 40_000)
    }

    beforeAll(async () => {
      site = http.createServer((req, res) => {
        served.push(req.url ?? "")
        if (req.url === "/redirect") {
          res.writeHead(302, { Location: `http://localhost:${sitePort}/secret` })
          return res.end()
        }
        res.writeHead(200, { "Content-Type": "text/html" })
        res.end(
          req.url === "/with-image"
            ? `<!doctype html><title>Image page</title><img src="http://localhost:${sitePort}/pixel">`
            : "<!doctype html><title>Loopback page</title><h1>internal admin</h1>"
        )
      })
      await new Promise<void>((r) => site.listen(0, "127.0.0.1", r))
      sitePort = (site.address() as AddressInfo).port
      gwState = tempStateDir()
      fs.writeFileSync(
        path.join(gwState, "openclaw.json"),
        JSON.stringify({ gateway: { port: await freePort(), auth: { token: TOKEN } } }),
        { mode: 0o600 }
      )
      gwEnv = cliEnv(gwState)
      gw = await startGateway([], gwEnv)
    })

    afterAll(async () => {
      await node?.stop()
      await gw?.stop()
      site.closeAllConnections()
      await new Promise((r) => site.close(r))
    })

    it("by default: the banner says sandbox off (root) and loopback blocked; 127.0.0.1 is refused and never requested", async () => {
      await startNode()
      expect(node!.output()).toContain(
        "[node] browser sandbox: off (running as root, where Chromium cannot use its sandbox; run the node host as an ordinary user to keep it)"
      )
      expect(node!.output()).toContain(
        "[node] browser blocks this machine's loopback, link-local and metadata addresses"
      )
      const open = await cli(["browser", "open", `http://127.0.0.1:${sitePort}/admin`])
      expect(open.code).toBe(1)
      expect(open.stderr).toContain(`127.0.0.1:${sitePort} is a loopback address of the node's machine`)
      expect(open.stderr).toContain("nodeHost.browser.ssrfPolicy.dangerouslyAllowPrivateNetwork")
      const nav = await cli(["browser", "navigate", "http://[::1]:9/"])
      expect(nav.code).toBe(1)
      expect(nav.stderr).toContain("[::1]:9 is an unspecified or loopback address")
      // The existing refusals stay.
      const file = await cli(["browser", "navigate", "file:///etc/passwd"])
      expect(file.stderr).toContain("only http(s) URLs are opened")
      expect(served).toEqual([])
    })

    it("one allowed host: a redirect from it to localhost, and an image from localhost, are stopped in the browser", async () => {
      await startNode({ allowedHostnames: ["127.0.0.1"] })
      expect(node!.output()).toContain("except 127.0.0.1 (nodeHost.browser.ssrfPolicy)")
      const redirect = await cli(["browser", "open", `http://127.0.0.1:${sitePort}/redirect`])
      expect(redirect.code).toBe(1)
      expect(redirect.stderr).toContain(`localhost:${sitePort} is a loopback name`)
      const page = await cli(["browser", "open", `http://127.0.0.1:${sitePort}/with-image`])
      expect(page.code).toBe(0)
      expect(page.stdout).toContain("Image page")
      expect(served.filter((u) => u !== "/favicon.ico")).toEqual(["/redirect", "/with-image"])
    })

    it("with dangerouslyAllowPrivateNetwork the same page loads", async () => {
      await startNode({ dangerouslyAllowPrivateNetwork: true })
      expect(node!.output()).toContain("browser may load this machine's loopback")
      const open = await cli(["browser", "open", `http://127.0.0.1:${sitePort}/admin`])
      expect(open.stderr).toBe("")
      expect(open.code).toBe(0)
      expect(open.stdout).toContain("Loopback page")
      const status = await cli(["browser", "status", "--json"])
      expect(JSON.parse(status.stdout)).toMatchObject({ sandbox: false })
    })
  }
)
