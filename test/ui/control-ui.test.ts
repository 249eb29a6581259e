/**
 * The Control UI in a real browser (headless Debian Chromium via playwright-core) against the real
 * Gateway process. Screenshots of each screen go to test-results/.
 */
import * as fs from "node:fs"
import { execFileSync } from "node:child_process"
import * as http from "node:http"
import * as https from "node:https"
import * as net from "node:net"
import * as path from "node:path"
import type { Browser, BrowserContext, Page } from "playwright-core"
import { Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { WebSocketServer } from "ws"
import { RpcClient } from "../../src/client/rpc-client.js"
import { testSettings } from "../../src/services/config/GatewayConfig.js"
import { cliEnv, freePort, type GatewayProcess, startGateway, tempStateDir } from "../support/cli.js"
import { slowModel } from "../support/fake-model.js"
import { TOKEN as IN_PROCESS_TOKEN, withGateway } from "../support/gateway.js"
import { chromiumInstalled, launchBrowser, screenshot } from "./browser.js"

if (!chromiumInstalled && process.env.CI)
  throw new Error("chromium missing: .ci/run installs it (apt-get install chromium)")

const TOKEN = "ui-test-token-7c3e9a1f5b2d4e6a"
const PROXY_HOST = "gateway.tailnet.test"

const httpGet = (url: string) =>
  new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = ""
        res.on("data", (d) => (body += d))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      })
      .on("error", reject)
  })

describe.skipIf(!chromiumInstalled)("Control UI in Chromium", { timeout: 60_000 }, () => {
  let gw: GatewayProcess
  let env: NodeJS.ProcessEnv
  let port: number
  let base: string
  let browser: Browser
  let closeBrowser: (() => Promise<void>) | undefined
  const contexts: Array<BrowserContext> = []
  const extraServers: Array<{ close: () => void }> = []

  beforeAll(async () => {
    const stateDir = tempStateDir()
    port = await freePort()
    // The reverse-proxy test reaches the Gateway by PROXY_HOST, a name it only knows from allowedOrigins (DNS-rebinding guard).
    fs.writeFileSync(
      path.join(stateDir, "openclaw.json"),
      JSON.stringify({
        gateway: { port, auth: { token: TOKEN }, controlUi: { allowedOrigins: [`https://${PROXY_HOST}`] } }
      })
    )
    env = cliEnv(stateDir)
    gw = await startGateway([], env)
    base = `http://127.0.0.1:${port}`
    // A tailnet-like name for the reverse-proxy test (Tailscale Serve serves https://<machine>.<tailnet>.ts.net/).
    const launched = await launchBrowser([`--host-resolver-rules=MAP ${PROXY_HOST} 127.0.0.1`])
    browser = launched.browser
    closeBrowser = launched.close
  }, 60_000)

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {})
    await closeBrowser?.()
    for (const s of extraServers) s.close()
    await gw?.stop()
  })

  const newPage = async (options: { ignoreHTTPSErrors?: boolean } = {}): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 780 }, ...options })
    contexts.push(context)
    return context.newPage()
  }

  /** A page signed in through a #token link. */
  const signedIn = async (pathname = "/") => {
    const page = await newPage()
    await page.goto(`${base}${pathname}#token=${TOKEN}`)
    await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
    return page
  }

  it("serves every asset with the security headers and a CSP without inline script", async () => {
    const index = await httpGet(`${base}/`)
    expect(index.status).toBe(200)
    const scripts = [...index.body.matchAll(/<script([^>]*)>/g)].map((m) => m[1]!)
    expect(scripts.every((attrs) => /src="\.\/app\.js"/.test(attrs))).toBe(true)
    for (const asset of ["/", "/index.html", "/app.js", "/app.css", "/webchat"]) {
      const res = await httpGet(`${base}${asset}`)
      expect(res.status, asset).toBe(200)
      expect(res.headers["referrer-policy"]).toBe("no-referrer")
      expect(res.headers["x-frame-options"]).toBe("DENY")
      expect(res.headers["x-content-type-options"]).toBe("nosniff")
      const csp = res.headers["content-security-policy"] as string
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).toMatch(/script-src 'self'(;|$)/)
      expect(csp).toContain("default-src 'self'")
    }
    expect((await httpGet(`${base}/app.js`)).headers["content-type"]).toContain("javascript")
    expect((await httpGet(`${base}/../config`)).status).toBe(404)
    expect((await httpGet(`${base}/openclaw.json`)).status).toBe(404)
  })

  it("has an icon: the page loads with no failed request (no /favicon.ico 404), and the icon gets the security headers", async () => {
    const page = await newPage()
    const failed: Array<string> = []
    page.on("requestfailed", (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`))
    page.on("response", (r) => void (r.status() >= 400 && failed.push(`${r.url()} ${r.status()}`)))
    await page.goto(`${base}/#token=${TOKEN}`)
    await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
    const icon = await page.locator('link[rel="icon"]').getAttribute("href")
    expect(icon).toBe("./favicon.svg")
    // Let the browser fetch the icon, then check nothing failed.
    await page.waitForLoadState("networkidle")
    expect(failed).toEqual([])
    for (const asset of ["/favicon.svg", "/favicon.ico"]) {
      const res = await httpGet(`${base}${asset}`)
      expect(res.status, asset).toBe(200)
      expect(res.headers["content-type"]).toBe("image/svg+xml")
      expect(res.body).toContain("<svg")
      expect(res.headers["x-content-type-options"]).toBe("nosniff")
      expect(res.headers["content-security-policy"]).toContain("img-src 'self'")
    }
  })

  it("refuses a wrong token with the Gateway's own message, and removes #token from the address bar", async () => {
    const page = await newPage()
    await page.goto(`${base}/#token=not-the-right-token`)
    const error = page.locator("#auth-error")
    await error.waitFor({ timeout: 15_000 })
    expect(await error.textContent()).toContain("unauthorized: gateway token mismatch")
    expect(page.url()).toBe(`${base}/`)
    expect(await page.locator("#conn-pill").textContent()).toBe("not signed in")
    await screenshot(page, "01-login-wrong-token")
  })

  it("ignores a token in the query string and removes it", async () => {
    const page = await newPage()
    await page.goto(`${base}/?token=${TOKEN}`)
    await page.locator("#login-form").waitFor({ timeout: 15_000 })
    expect(page.url()).toBe(`${base}/`)
    expect(await page.locator("#notice").textContent()).toContain("query string was ignored")
    expect(await page.locator("#auth-error").count()).toBe(0)
    // Signing in through the form works.
    await page.fill("#auth-secret", TOKEN)
    await page.click("#auth-submit")
    await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
  })

  it("connects with the right token and shows health, version, bind, auth and the agent provider", async () => {
    const page = await signedIn()
    expect(page.url()).toBe(`${base}/`)
    await page.locator('[data-field="reachable"]', { hasText: "yes (health" }).waitFor({ timeout: 10_000 })
    expect(await page.locator('[data-field="bind"]').textContent()).toContain(`loopback on 127.0.0.1`)
    expect(await page.locator('[data-field="bind"]').textContent()).toContain(`port ${port}`)
    expect(await page.locator('[data-field="auth"]').textContent()).toContain("token (from gateway.auth.token)")
    expect(await page.locator('[data-field="auth-method"]').textContent()).toBe("operator via token")
    expect(await page.locator('[data-field="agent-provider"]').textContent()).toMatch(/^echo .*the default$/)
    expect(await page.locator('[data-field="exposure"]').textContent()).toContain("off")
    expect(await page.locator('[data-field="version"]').textContent()).toMatch(/\(protocol 4\)/)
    await screenshot(page, "02-overview")
    // The next visit signs in with this browser's own device token; the shared token is not kept (nor in the URL).
    expect(await page.evaluate(() => localStorage.getItem("openclaw.controlUi.auth"))).toBeNull()
    expect(await page.evaluate(() => localStorage.getItem("openclaw.controlUi.deviceToken"))).toMatch(
      /"token":"[A-Za-z0-9_-]{43}"/
    )
  })

  it("shows presence: this page as openclaw-control-ui (ui), a WebChat page as webchat", async () => {
    const chatPage = await signedIn("/webchat")
    const page = await signedIn()
    await page.click('[data-view="presence"]')
    await page
      .locator('#presence-table tr[data-client="openclaw-control-ui"][data-mode="ui"]')
      .first()
      .waitFor({ timeout: 10_000 })
    await page
      .locator('#presence-table tr[data-client="openclaw-control-ui"][data-mode="webchat"]')
      .first()
      .waitFor({ timeout: 10_000 })
    expect(await page.locator("#presence-table .badge", { hasText: "this page" }).count()).toBe(1)
    await screenshot(page, "03-presence")
    await chatPage.close()
  })

  it("pairing: says when this Gateway has no pairing methods, else lists requests", async () => {
    const probe = await RpcClient.connect({ url: `ws://127.0.0.1:${port}`, token: TOKEN })
    const offersPairing = probe.hello.features.methods.includes("node.pair.list")
    await probe.close()
    const page = await signedIn()
    await page.click('[data-view="pairing"]')
    if (offersPairing) await page.locator("#pairing-pending").waitFor({ timeout: 10_000 })
    else
      expect(await page.locator("#pairing-unavailable").textContent()).toContain(
        "Pairing is not available on this Gateway"
      )
    await screenshot(page, "04-pairing")
  })

  it("WebChat: sends a message and shows the echo reply streaming in, then final; history survives a reload", async () => {
    const page = await signedIn()
    await page.click('[data-view="chat"]')
    await page.locator("#chat-input").waitFor()
    // Record every text the assistant bubble shows, to prove the reply arrives in pieces.
    await page.evaluate(() => {
      const seen: Array<string> = []
      ;(window as any).__seen = seen
      new MutationObserver(() => {
        for (const el of document.querySelectorAll("#chat-messages .msg.assistant .text")) {
          const t = el.textContent ?? ""
          if (seen[seen.length - 1] !== t) seen.push(t)
        }
      }).observe(document.getElementById("chat-messages")!, { childList: true, subtree: true, characterData: true })
    })
    await page.fill("#chat-input", "hello from the browser, how are you today")
    await page.press("#chat-input", "Enter")
    const final = page.locator('#chat-messages .msg.assistant[data-state="final"]', {
      hasText: "Echo: hello from the browser, how are you today"
    })
    // Generous: in CI this file runs beside the fuzzer and the socket floods.
    await final.waitFor({ timeout: 30_000 })
    const seen: Array<string> = await page.evaluate(() => (window as any).__seen)
    const partial = seen.filter((t) => t.length > 0 && t !== "Echo: hello from the browser, how are you today")
    expect(partial.length).toBeGreaterThan(0)
    expect("Echo: hello from the browser, how are you today".startsWith(partial[0]!)).toBe(true)
    expect(await page.locator("#chat-messages .msg.user", { hasText: "hello from the browser" }).count()).toBe(1)
    await screenshot(page, "05-webchat")
    await page.reload()
    await page
      .locator('#chat-messages .msg.assistant[data-state="final"]', { hasText: "Echo: hello from the browser" })
      .waitFor({ timeout: 30_000 })
    expect(await page.locator('#session-list [data-session="main"]').count()).toBe(1)
  }, 60_000)

  it("a page served from another localhost port cannot open the Gateway's WebSocket", async () => {
    const otherPort = await freePort()
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" })
      res.end(`<!doctype html><script>
        const ws = new WebSocket("ws://127.0.0.1:${port}/");
        window.result = new Promise((resolve) => {
          ws.onopen = () => resolve("open");
          ws.onerror = () => resolve("error");
          ws.onclose = (e) => resolve("closed " + e.code);
        });
      </script>`)
    })
    await new Promise<void>((resolve) => server.listen(otherPort, "127.0.0.1", resolve))
    extraServers.push(server)
    const page = await newPage()
    await page.goto(`http://127.0.0.1:${otherPort}/`)
    const result = await page.evaluate(() => (window as any).result)
    expect(result).not.toBe("open")
    // localhost vs 127.0.0.1 is another origin too.
    await page.goto(`http://localhost:${otherPort}/`)
    expect(await page.evaluate(() => (window as any).result)).not.toBe("open")
  })

  it("never connects to a gatewayUrl from the address without the user confirming", async () => {
    const fakePort = await freePort()
    let connections = 0
    const fake = new WebSocketServer({ host: "127.0.0.1", port: fakePort })
    fake.on("connection", (ws) => {
      connections += 1
      ws.close()
    })
    extraServers.push(fake)
    const page = await newPage()
    await page.goto(`${base}/#token=${TOKEN}`)
    await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
    await page.goto(`${base}/?gatewayUrl=${encodeURIComponent(`ws://127.0.0.1:${fakePort}/`)}`)
    await page.locator("#confirm-url").waitFor({ timeout: 10_000 })
    expect(await page.locator("#confirm-target").textContent()).toBe(`ws://127.0.0.1:${fakePort}/`)
    await page.waitForTimeout(1_500)
    expect(connections).toBe(0)
    await screenshot(page, "06-confirm-gateway-url")
    await page.click("#confirm-no")
    await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
    expect(connections).toBe(0)
  })

  it("survives a Gateway restart: shows the banner, reconnects with backoff, and chats again", async () => {
    const page = await signedIn()
    await page.click('[data-view="chat"]')
    await page.locator("#chat-input").waitFor()
    await page.fill("#chat-input", "before the restart")
    await page.press("#chat-input", "Enter")
    const before = page.locator('#chat-messages .msg.assistant[data-state="final"]', {
      hasText: "Echo: before the restart"
    })
    await before.waitFor({ timeout: 30_000 })
    await gw.stop()
    await page.locator("#banner", { hasText: "Reconnecting" }).waitFor({ timeout: 15_000 })
    expect(await page.locator("#conn-pill").textContent()).toMatch(/disconnected|connecting/)
    await screenshot(page, "07-reconnecting")
    gw = await startGateway([], env)
    await page.locator("#conn-pill.connected").waitFor({ timeout: 45_000 })
    expect(await page.locator("#banner").isHidden()).toBe(true)
    // The session's history came back from disk: away to another session and back loads it anew.
    await page.fill("#new-session", "after-the-restart")
    await page.press("#new-session", "Enter")
    await page.locator("#chat-session", { hasText: "after-the-restart" }).waitFor()
    expect(await before.count()).toBe(0)
    await page.click('#session-list [data-session="main"]')
    await before.waitFor({ timeout: 30_000 })
    await page.fill("#chat-input", "still there?")
    await page.press("#chat-input", "Enter")
    await page
      .locator('#chat-messages .msg.assistant[data-state="final"]', { hasText: "Echo: still there?" })
      .waitFor({ timeout: 15_000 })
  }, 90_000)

  /**
   * A signed-in page on WebChat whose chat.history answers can be held back: `hold()` holds the
   * next one, and resolves with the function that lets it through.
   */
  const chatWithHeldHistory = async () => {
    const page = await newPage()
    // The first chat.history request after hold() is answered only when the test says so;
    // any other request (a second load of the same view) goes through.
    let holding: ((release: () => void) => void) | undefined
    let heldId: string | undefined
    await page.routeWebSocket(/.*/, (ws) => {
      const server = ws.connectToServer()
      ws.onMessage((message) => {
        const frame = JSON.parse(String(message))
        if (holding !== undefined && heldId === undefined && frame.method === "chat.history") heldId = frame.id
        server.send(message)
      })
      server.onMessage((message) => {
        const frame = JSON.parse(String(message))
        if (frame.type === "res" && frame.id === heldId && holding !== undefined) {
          const resolve = holding
          holding = undefined
          heldId = undefined
          resolve(() => ws.send(message))
        } else ws.send(message)
      })
    })
    await page.goto(`${base}/#token=${TOKEN}`)
    await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
    await page.click('[data-view="chat"]')
    await page.locator("#chat-input").waitFor()
    const hold = () =>
      new Promise<() => void>((resolve) => {
        heldId = undefined
        holding = resolve
      })
    const openSession = async (key: string) => {
      await page.fill("#new-session", key)
      await page.press("#new-session", "Enter")
      await page.locator("#chat-session", { hasText: key }).waitFor()
    }
    const send = async (text: string) => {
      await page.fill("#chat-input", text)
      await page.press("#chat-input", "Enter")
      const reply = page.locator('#chat-messages .msg.assistant[data-state="final"]', { hasText: `Echo: ${text}` })
      await reply.waitFor({ timeout: 15_000 })
      return reply
    }
    return { page, hold, openSession, send }
  }

  it("a message sent while the history is still loading (right after a reconnect) keeps its reply on screen", async () => {
    // The history's answer is held back until the reply to a message sent meanwhile has arrived,
    // so it lacks both: what the page shows must still have them, once each.
    const { page, hold, openSession, send } = await chatWithHeldHistory()
    const held = hold()
    await openSession("held-history")
    const release = await held
    const reply = await send("sent before the history came")
    // Once the late history is in, look.
    release()
    await page.locator('#chat-messages[aria-busy="false"]').waitFor({ timeout: 10_000 })
    expect(await page.locator("#chat-messages .msg.user", { hasText: "sent before the history came" }).count()).toBe(1)
    expect(await reply.count()).toBe(1)
  }, 60_000)

  it("what the user types survives a redraw of WebChat (the one after its data has loaded), focus and all", async () => {
    const { page, hold } = await chatWithHeldHistory()
    // Back to WebChat with its history held: the view is drawn now and again once the history comes.
    await page.click('[data-view="overview"]')
    const held = hold()
    await page.click('[data-view="chat"]')
    const release = await held
    await page.fill("#chat-input", "a message not sent yet")
    await page.fill("#new-session", "half-typed")
    await page.evaluate(() => {
      ;(window as any).__redrawn = false
      new MutationObserver(() => ((window as any).__redrawn = true)).observe(document.getElementById("main")!, {
        childList: true
      })
    })
    release()
    await expect.poll(() => page.evaluate(() => (window as any).__redrawn), { timeout: 10_000 }).toBe(true)
    expect(await page.inputValue("#chat-input")).toBe("a message not sent yet")
    expect(await page.inputValue("#new-session")).toBe("half-typed")
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("new-session")
    await page.keyboard.press("Enter")
    await page.locator("#chat-session", { hasText: "half-typed" }).waitFor()
    expect(await page.inputValue("#new-session")).toBe("")
  })

  it("a session's history that comes after the user opened another session is not shown in it", async () => {
    const { page, hold, openSession, send } = await chatWithHeldHistory()
    await openSession("first-session")
    const reply = await send("only in the first session")
    const held = hold()
    await page.click('#session-list [data-session="first-session"]')
    const release = await held
    await openSession("second-session")
    release()
    // Nothing to wait for when the page rightly ignores it: give it the time a wrong redraw takes.
    await page.waitForTimeout(500)
    expect(await page.locator("#chat-session").textContent()).toBe("second-session")
    expect(await page.locator("#chat-messages .msg").count()).toBe(0)
    expect(await reply.count()).toBe(0)
  }, 60_000)

  it("works under a basePath: /x redirects to /x/, assets and the WebSocket resolve under it", () =>
    withGateway({ controlUi: { enabled: true, basePath: "/x", allowedOrigins: [] } }, async (inProcess) => {
      const httpBase = inProcess.url.replace("ws://", "http://")
      expect((await httpGet(`${httpBase}/`)).status).toBe(404)
      const page = await newPage()
      await page.goto(`${httpBase}/x#token=${IN_PROCESS_TOKEN}`)
      await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
      expect(page.url()).toBe(`${httpBase}/x/`)
      await page.locator('[data-field="reachable"]', { hasText: "yes" }).waitFor({ timeout: 10_000 })
      await page.close()
    }))

  it("works behind an https reverse proxy under a path prefix (like Tailscale Serve): assets and a same-origin wss://", async () => {
    const dir = tempStateDir()
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        `/CN=${PROXY_HOST}`
      ],
      { stdio: "ignore" }
    )
    const prefix = "/oc"
    const strip = (url: string | undefined) => (url ?? "/").slice(prefix.length) || "/"
    const forwarded = (req: http.IncomingMessage) => ({
      ...req.headers,
      "x-forwarded-proto": "https",
      "x-forwarded-host": req.headers.host!,
      "x-forwarded-for": "100.64.0.7"
    })
    let upgrades: Array<string> = []
    const proxy = https.createServer(
      { key: fs.readFileSync(path.join(dir, "key.pem")), cert: fs.readFileSync(path.join(dir, "cert.pem")) },
      (req, res) => {
        if (!req.url?.startsWith(`${prefix}/`) && req.url !== prefix) return void res.writeHead(404).end()
        const upstream = http.request(
          { host: "127.0.0.1", port: gw.port, path: strip(req.url), method: req.method, headers: forwarded(req) },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers)
            r.pipe(res)
          }
        )
        upstream.on("error", (e) => res.writeHead(502).end(String(e)))
        req.pipe(upstream)
      }
    )
    proxy.on("upgrade", (req, client: net.Socket, head) => {
      upgrades.push(req.url ?? "")
      const upstream = net.connect(gw.port, "127.0.0.1", () => {
        const headers = Object.entries(forwarded(req))
          .map(([k, v]) => `${k}: ${v}`)
          .join("\r\n")
        upstream.write(`GET ${strip(req.url)} HTTP/1.1\r\n${headers}\r\n\r\n`)
        upstream.write(head)
        upstream.pipe(client)
        client.pipe(upstream)
      })
      upstream.on("error", () => client.destroy())
      client.on("error", () => upstream.destroy())
    })
    const proxyPort = await freePort()
    await new Promise<void>((resolve) => proxy.listen(proxyPort, "127.0.0.1", resolve))
    extraServers.push({ close: () => proxy.close() })
    const page = await newPage({ ignoreHTTPSErrors: true })
    await page.goto(`https://${PROXY_HOST}:${proxyPort}${prefix}/#token=${TOKEN}`)
    await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
    expect(upgrades).toEqual([`${prefix}/`])
    expect(await page.locator('[data-field="url"]').textContent()).toBe(`wss://${PROXY_HOST}:${proxyPort}${prefix}/`)
    await page.click('[data-view="presence"]')
    // Through the proxy the client is remote: presence shows the forwarded connection.
    await page.locator('#presence-table tr[data-client="openclaw-control-ui"]').first().waitFor({ timeout: 10_000 })
    upgrades = []
    await page.close()
    expect(gw.child.exitCode, gw.output()).toBeNull()
  })

  /**
   * WebChat on an in-process Gateway whose model (an OpenAI-compatible SSE endpoint) streams
   * `words` slowly; `body` gets the page once it is connected, with `message` sent and the reply
   * streaming (its first word shown).
   */
  const whileStreaming = async (
    words: ReadonlyArray<string>,
    delayMs: number,
    message: string,
    body: (page: Page) => Promise<void>
  ) => {
    const model = await slowModel(words, delayMs)
    extraServers.push(model)
    await withGateway(
      { agent: { provider: { kind: "openai", baseUrl: model.baseUrl, model: "slow-model", apiKeyEnv: undefined } } },
      async (inProcess) => {
        const page = await newPage()
        await page.goto(`${inProcess.url.replace("ws://", "http://")}/webchat#token=${IN_PROCESS_TOKEN}`)
        await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
        await page.fill("#chat-input", message)
        await page.click("#chat-send")
        await page
          .locator('#chat-messages .msg.assistant[data-state="streaming"]', { hasText: words[0]!.trim() })
          .waitFor({ timeout: 10_000 })
        await body(page)
        await page.close()
      }
    )
  }

  it("WebChat: a streaming reply rewrites only its own message: a selection in an earlier one survives", () =>
    whileStreaming(["One ", "two ", "three ", "four ", "five."], 300, "select me while it streams", async (page) => {
      // The user selects their own message (to copy it) while the reply is still coming.
      await page.evaluate(() => {
        const text = document.querySelector("#chat-messages .msg.user .text")!
        const range = document.createRange()
        range.selectNodeContents(text)
        getSelection()!.removeAllRanges()
        getSelection()!.addRange(range)
        ;(text.parentElement as any).__before = true
      })
      await page
        .locator('#chat-messages .msg.assistant[data-state="final"]', { hasText: "One two three four five." })
        .waitFor({ timeout: 15_000 })
      const after = await page.evaluate(() => ({
        selected: String(getSelection()),
        sameElement: (document.querySelector("#chat-messages .msg.user") as any).__before === true
      }))
      expect(after).toEqual({ selected: "select me while it streams", sameElement: true })
    }))

  it("WebChat: Abort stops a streaming reply and keeps what had arrived", () =>
    whileStreaming(
      ["This ", "reply ", "takes ", "a ", "long ", "time ", "to ", "finish."],
      700,
      "tell me a long story",
      async (page) => {
        await page.locator("#chat-abort").click()
        const aborted = page.locator('#chat-messages .msg.assistant[data-state="aborted"]')
        await aborted.waitFor({ timeout: 10_000 })
        expect((await aborted.textContent())!).toContain("This ")
        expect((await aborted.textContent())!).not.toContain("finish.")
        expect(await page.locator("#chat-abort").isHidden()).toBe(true)
        await screenshot(page, "08-webchat-aborted")
      }
    ))

  it("password auth: the form signs in with a password; a wrong one shows the Gateway's message", () =>
    withGateway(
      {
        auth: {
          ...testSettings().auth,
          mode: "password",
          token: undefined,
          password: Redacted.make("correct horse battery"),
          secretSource: "test"
        }
      },
      async (inProcess) => {
        const page = await newPage()
        await page.goto(inProcess.url.replace("ws://", "http://") + "/")
        // No stored credential: the page tries without one, then asks, without an error.
        await page.locator("#login-form").waitFor({ timeout: 15_000 })
        expect(await page.locator("#auth-error").count()).toBe(0)
        await page.check("#auth-kind-password")
        await page.fill("#auth-secret", "wrong horse")
        await page.click("#auth-submit")
        await page
          .locator("#auth-error", { hasText: "unauthorized: gateway password mismatch" })
          .waitFor({ timeout: 10_000 })
        await page.check("#auth-kind-password")
        await page.fill("#auth-secret", "correct horse battery")
        await page.click("#auth-submit")
        await page.locator("#conn-pill.connected").waitFor({ timeout: 15_000 })
        expect(await page.locator('[data-field="auth-method"]').textContent()).toBe("operator via password")
        await page.click("#forget")
        await page.locator("#login-form").waitFor()
        expect(await page.evaluate(() => localStorage.getItem("openclaw.controlUi.auth"))).toBeNull()
        // Signed out for good: the overview's once-a-second redraw does not bring the Gateway back.
        await page.waitForTimeout(1_500)
        expect(await page.locator("#login-form").isVisible()).toBe(true)
        expect(await page.locator("#conn-pill").textContent()).toBe("not signed in")
        await page.close()
      }
    ))
})
