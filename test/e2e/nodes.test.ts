/**
 * Journey E on real processes: a Gateway, a node host with its own state dir (the "laptop") and
 * its headless Chromium, the CLI, and a web page served by this test, all on loopback.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { RpcClient } from "../../src/client/rpc-client.js"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { allowLoopbackPages, type NodeHostProcess, startNodeHost } from "../support/node-host.js"

const TOKEN = "e2e-nodes-token-0123456789abcdef"
const PAGE = `<!doctype html><html><head><title>Node test page</title></head><body>
<h1 id="h">Hello from the test server</h1><p>Paragraph with marker-7f3a.</p>
<input id="q" aria-label="Query"><button id="go" onclick="document.getElementById('h').textContent = 'Typed: ' + document.getElementById('q').value">Go</button>
</body></html>`

describe.skipIf(!fs.existsSync("/usr/bin/chromium"))("browser control through a node host (journey E)", () => {
  let gwState: string
  let gwEnv: NodeJS.ProcessEnv
  let nodeEnv: NodeJS.ProcessEnv
  let port: number
  let gw: GatewayProcess | undefined
  let node: NodeHostProcess | undefined
  let site: http.Server
  let siteUrl: string
  let slowRequested: () => void = () => {}
  const slowResponses: Array<http.ServerResponse> = []

  const cli = (args: ReadonlyArray<string>, timeoutMs = 40_000) => runCli(args, gwEnv, timeoutMs)
  const nodeArgs = () => ["--url", `ws://127.0.0.1:${port}`, "--token", TOKEN, "--display-name", "laptop"]
  const operator = () => RpcClient.connect({ url: `ws://127.0.0.1:${port}`, token: TOKEN, scopes: ["operator.admin"] })

  beforeAll(async () => {
    site = http.createServer((req, res) => {
      if (req.url === "/slow") {
        slowResponses.push(res)
        slowRequested()
        return
      }
      res.writeHead(200, { "Content-Type": "text/html" })
      res.end(PAGE)
    })
    await new Promise<void>((r) => site.listen(0, "127.0.0.1", r))
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`
    gwState = tempStateDir()
    port = await freePort()
    fs.writeFileSync(
      path.join(gwState, "openclaw.json"),
      JSON.stringify({ gateway: { port, auth: { token: TOKEN } } }),
      { mode: 0o600 }
    )
    gwEnv = cliEnv(gwState)
    nodeEnv = cliEnv(tempStateDir())
    // The test's pages are on this machine's loopback, which the node host blocks by default.
    allowLoopbackPages(nodeEnv.OPENCLAW_STATE_DIR!)
    gw = await startGateway([], gwEnv)
  })

  afterAll(async () => {
    await node?.stop()
    await gw?.stop()
    for (const res of slowResponses) res.destroy()
    site.closeAllConnections()
    await new Promise((r) => site.close(r))
  })

  it("an unpaired node waits for approval and cannot be used; the operator approves it through the CLI", async () => {
    node = startNodeHost(nodeArgs(), nodeEnv)
    const [, requestId] = await node.waitFor(/waiting for approval: requestId ([0-9a-f-]{36})/)
    const identityFile = path.join(nodeEnv.OPENCLAW_STATE_DIR!, "identity", "device.json")
    expect(fs.statSync(identityFile).mode & 0o777).toBe(0o600)
    expect(node.output()).not.toContain(TOKEN)

    const pending = await cli(["nodes", "pending"])
    expect(pending.code).toBe(0)
    expect(pending.stdout).toContain(requestId)
    expect(pending.stdout).toContain("laptop")

    const refused = await cli(["browser", "status"])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("no browser-capable node is connected")
    expect(refused.stderr).toContain("1 node(s) wait for approval")

    const from = node.output().length
    const approved = await cli(["nodes", "approve", requestId!])
    expect(approved.code).toBe(0)
    expect(approved.stdout).toContain("Approved node laptop")
    await node.waitFor(
      /connected to ws:\/\/127\.0\.0\.1:\d+ as node [0-9a-f]{12} \(laptop\); offering browser\.proxy/,
      from
    )

    const list = await cli(["nodes", "list", "--json"])
    const nodes = JSON.parse(list.stdout).nodes
    expect(nodes).toEqual([
      expect.objectContaining({
        displayName: "laptop",
        connected: true,
        paired: true,
        commands: ["browser.proxy"],
        caps: ["browser"]
      })
    ])
    const describeOut = await cli(["nodes", "describe", "laptop"])
    expect(describeOut.stdout).toContain("Commands:  browser.proxy")
  }, 60_000)

  it("open a page, snapshot it, type and click, screenshot it", async () => {
    const open = await cli(["browser", "open", `${siteUrl}/`])
    expect(open.stderr).toBe("")
    expect(open.stdout).toMatch(/^Opened tab-\d+: Node test page http:\/\/127\.0\.0\.1:\d+\/\n$/)

    const snap = await cli(["browser", "snapshot"])
    expect(snap.code).toBe(0)
    expect(snap.stdout).toContain("Hello from the test server")
    expect(snap.stdout).toContain("marker-7f3a")
    expect(snap.stdout).toContain('heading "Hello from the test server" [level=1]')
    expect(snap.stdout).toContain('button "Go"')

    expect((await cli(["browser", "type", "#q", "typed text"])).code).toBe(0)
    expect((await cli(["browser", "click", "#go"])).code).toBe(0)
    const after = await cli(["browser", "snapshot", "--json"])
    expect(JSON.parse(after.stdout).text).toContain("Typed: typed text")

    const missing = await cli(["browser", "click", "#nope", "--timeout", "4000"])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("Click failed")
    // The node's browser answered: the hint points there, not at the Gateway's log.
    expect(missing.stderr).toContain("Hint: this came from the browser on the node host")
    expect(missing.stderr).not.toContain("check the Gateway's log")

    const file = path.join(gwState, "page.png")
    const shot = await cli(["browser", "screenshot", "--out", file])
    expect(shot.code).toBe(0)
    const png = fs.readFileSync(file)
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    expect(png.readUInt32BE(16)).toBe(1280)
    expect(png.readUInt32BE(20)).toBe(800)
    expect(png.length).toBeGreaterThan(2_000)
    expect(shot.stdout).toContain(`Saved ${png.length} bytes (PNG)`)
    const nowhere = await cli(["browser", "screenshot", "--out", path.join(gwState, "no-such-dir", "page.png")])
    expect(nowhere.code).toBe(1)
    expect(nowhere.stderr).toContain(
      `the directory ${path.join(gwState, "no-such-dir")} does not exist; create it, or pass another --out`
    )

    const tabs = await cli(["browser", "tabs"])
    expect(tabs.stdout).toMatch(/\* tab-\d+ {2}Node test page/)
    const second = (await cli(["browser", "open", "about:blank"])).stdout.match(/Opened (tab-\d+)/)![1]
    const closed = await cli(["browser", "close", second!])
    expect(closed.stdout).toBe(`Closed ${second}; 1 tab(s) left.\n`)
    const fileUrl = await cli(["browser", "navigate", "file:///etc/passwd"])
    expect(fileUrl.code).toBe(1)
    expect(fileUrl.stderr).toContain("only http(s) URLs are opened")
  }, 90_000)

  it("screenshot round trip latency through the node (median of 10)", async () => {
    const op = await operator()
    try {
      const times: Array<number> = []
      for (let i = 0; i < 10; i++) {
        const started = performance.now()
        const r = (await op.request(
          "browser.request",
          { method: "POST", path: "/screenshot", body: {} },
          { timeoutMs: 30_000 }
        )) as { bytes: number; path: string; files: Array<{ base64: string }> }
        times.push(performance.now() - started)
        expect(Buffer.from(r.files[0]!.base64, "base64").length).toBe(r.bytes)
        // As OpenClaw's Gateway: the file is saved on the Gateway host and the answer names it.
        expect(r.path).toMatch(new RegExp(`^${path.join(gwState, "media", "browser")}/[0-9a-f-]{36}\\.png$`))
        expect(fs.statSync(r.path).size).toBe(r.bytes)
        expect(fs.statSync(r.path).mode & 0o777).toBe(0o600)
      }
      times.sort((a, b) => a - b)
      const median = (times[4]! + times[5]!) / 2
      console.log(
        `screenshot round trip through the node: median ${median.toFixed(1)} ms, min ${times[0]!.toFixed(1)} ms, max ${times[9]!.toFixed(1)} ms (n=10)`
      )
      expect(median).toBeLessThan(5_000)
    } finally {
      await op.close()
    }
  }, 90_000)

  it("the node dies mid-invoke: the caller gets the error at once; a restarted node is still paired", async () => {
    const op = await operator()
    try {
      const requested = new Promise<void>((r) => (slowRequested = r))
      const call = op.request(
        "browser.request",
        { method: "POST", path: "/navigate", body: { url: `${siteUrl}/slow` }, timeoutMs: 60_000 },
        { timeoutMs: 70_000 }
      )
      const outcome = call.then(
        () => undefined,
        (e) => e
      )
      await requested
      const killed = performance.now()
      await node!.crash()
      const error = await outcome
      const ms = performance.now() - killed
      expect(error?.code).toBe("NODE_DISCONNECTED")
      expect(error?.message).toContain("disconnected while running browser.proxy")
      expect(ms).toBeLessThan(2_000)
    } finally {
      await op.close()
      await node!.stop()
    }
    node = startNodeHost(nodeArgs(), nodeEnv)
    await node.waitFor(/connected to .* \(laptop\)/)
    expect(node.output()).not.toContain("waiting for approval")
  }, 60_000)

  it("the node reconnects by itself when the Gateway restarts, still paired", async () => {
    const from = node!.output().length
    const stopped = await gw!.stop()
    expect(stopped.code).toBe(0)
    await node!.waitFor(/connection to the Gateway lost \(1012: service restart\); reconnecting in \d+ s/, from)
    gw = await startGateway([], gwEnv)
    await node!.waitFor(/reconnected to ws:\/\/127\.0\.0\.1:\d+ as node [0-9a-f]{12} \(laptop\)/, from, 40_000)
    expect(node!.output().slice(from)).not.toContain("waiting for approval")
    const status = await cli(["browser", "status"])
    expect(status.code).toBe(0)
    expect(status.stdout).toContain("not started (starts on first use)")
    // The node's sandbox decision is shown, with why.
    expect(status.stdout).toMatch(/ {2}Sandbox: {4}(on|OFF) \(.+\)/)
  }, 60_000)

  it("remove revokes: the node is disconnected and must ask again; browser commands say no node is connected", async () => {
    const list = JSON.parse((await cli(["nodes", "list", "--json"])).stdout).nodes
    const from = node!.output().length
    const removed = await cli(["nodes", "remove", list[0].nodeId])
    expect(removed.code).toBe(0)
    expect(removed.stdout).toContain("revoked")
    const [, requestId] = await node!.waitFor(/waiting for approval: requestId ([0-9a-f-]{36})/, from)
    expect(node!.output().slice(from)).toContain("removed this node")
    expect((await cli(["nodes", "pending"])).stdout).toContain(requestId)
    const status = await cli(["browser", "status"])
    expect(status.code).toBe(1)
    expect(status.stderr).toContain("no browser-capable node is connected")
    expect(status.stderr).toContain("Hint: on the machine with the browser run `openclaw node run")
    const rejected = await cli(["nodes", "reject", requestId!])
    expect(rejected.code).toBe(0)
    expect(rejected.stdout).toContain(`Rejected pairing request ${requestId}`)
    expect(rejected.stdout).toContain("told on its next retry and stops asking")
    // The node host stops, saying why, rather than asking again every few seconds.
    expect(await node!.exited).toBe(1)
    expect(node!.output()).toContain("an operator rejected this node's pairing request")
    expect(JSON.parse((await cli(["nodes", "pending", "--json"])).stdout).pending).toEqual([])
    const gone = await cli(["nodes", "approve", requestId!])
    expect(gone.code).toBe(1)
    expect(gone.stderr).toContain(`no pending pairing request ${requestId}`)
  }, 60_000)
})

describe("node host and nodes/browser CLI errors", () => {
  it("a wrong token stops the node host with the setting to fix; --url without a credential is refused; --help works", async () => {
    const gwState = tempStateDir()
    const port = await freePort()
    fs.writeFileSync(
      path.join(gwState, "openclaw.json"),
      JSON.stringify({ gateway: { port, auth: { token: TOKEN } } }),
      { mode: 0o600 }
    )
    const gw = await startGateway([], cliEnv(gwState))
    try {
      const env = cliEnv(tempStateDir())
      const wrong = await runCli(
        ["node", "run", "--url", `ws://127.0.0.1:${port}`, "--token", "wrong-token-value"],
        env
      )
      expect(wrong.code).toBe(1)
      expect(wrong.stderr).toContain(
        "node host stopped: unauthorized: gateway token mismatch (pass the Gateway's gateway.auth.token to `openclaw node run --token`)"
      )
      expect(wrong.stderr + wrong.stdout).not.toContain("wrong-token-value")
      const bare = await runCli(["node", "run", "--url", `ws://127.0.0.1:${port}`], env)
      expect(bare.code).toBe(78)
      expect(bare.stderr).toContain("gateway url override requires explicit credentials")
      const off = await runCli(["browser", "status", "--url", `ws://127.0.0.1:${port}`, "--token", TOKEN], env)
      expect(off.code).toBe(1)
      expect(off.stderr).toContain("no browser-capable node is connected")
    } finally {
      await gw.stop()
    }
    for (const args of [
      ["node", "run", "--help"],
      ["nodes", "--help"],
      ["nodes", "approve", "--help"],
      ["browser", "--help"],
      ["browser", "screenshot", "--help"]
    ]) {
      const r = await runCli(args, cliEnv(tempStateDir()))
      expect(r.code, args.join(" ")).toBe(0)
      expect(r.stdout).toContain("Usage: openclaw")
    }
  }, 60_000)
})

describe("a node host over wss:// with a pinned certificate", () => {
  it("pairs through the pinned connection; a wrong pin stops it before anything is sent", async () => {
    const gwState = tempStateDir()
    const port = await freePort()
    fs.writeFileSync(
      path.join(gwState, "openclaw.json"),
      JSON.stringify({ gateway: { port, auth: { token: TOKEN }, tls: { enabled: true } } }),
      { mode: 0o600 }
    )
    const gwEnv = cliEnv(gwState)
    const gw = await startGateway([], gwEnv)
    let node: NodeHostProcess | undefined
    try {
      const fp = gw.output().match(/certificate sha256 ([0-9A-F:]{95})/)![1]!
      const url = `wss://127.0.0.1:${port}`
      const wrongPin = fp.replace(/^../, fp.startsWith("00") ? "11" : "00")
      const refused = await runCli(
        ["node", "run", "--url", url, "--token", TOKEN, "--tls-fingerprint", wrongPin],
        cliEnv(tempStateDir())
      )
      expect(refused.code).toBe(1)
      expect(refused.stderr).toContain(`expected sha256 ${wrongPin}, the server presented ${fp}; nothing was sent`)
      expect(refused.stderr).toContain("TLS pin: --tls-fingerprint")
      const pending = JSON.parse((await runCli(["nodes", "pending", "--json"], gwEnv)).stdout).pending
      expect(pending).toEqual([])

      node = startNodeHost(
        ["--url", url, "--token", TOKEN, "--tls-fingerprint", fp, "--display-name", "pinned"],
        cliEnv(tempStateDir())
      )
      const [, requestId] = await node.waitFor(/waiting for approval: requestId ([0-9a-f-]{36})/)
      expect((await runCli(["nodes", "approve", requestId!], gwEnv)).code).toBe(0)
      await node.waitFor(/connected to wss:\/\/127\.0\.0\.1:\d+ as node [0-9a-f]{12} \(pinned\)/)
    } finally {
      await node?.stop()
      await gw.stop()
    }
  }, 60_000)
})
