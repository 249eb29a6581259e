/**
 * browser.proxy on the node host: one local Chromium, launched on first use through playwright-core
 * (loaded lazily, so the CLI stays fast), driven by small HTTP-like routes:
 *   GET  /                 status
 *   GET  /tabs             list tabs          POST /tabs/open {url}     POST /tabs/close {tabId}
 *   POST /navigate {url}   GET  /snapshot     POST /screenshot {fullPage?}
 *   POST /click {selector} POST /type {selector, text, submit?}
 * Every route takes an optional tabId (default: the active tab). Only http(s) and about:blank
 * URLs are opened, so a remote operator cannot read the laptop's files through file:// URLs.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { Browser, BrowserContext, Page, Response } from "playwright-core"
import type { ProxyFile } from "../../protocol/browser-proxy.js"
import { findOnPath, isExecutable } from "../../platform/executable.js"
import {
  blockedDestination,
  DEFAULT_NAVIGATION_POLICY,
  type NavigationPolicy,
  type SandboxDecision,
  sandboxForThisMachine
} from "./browser-policy.js"
import { BLOCKED_HEADER, type GuardProxy, startGuardProxy } from "./guard-proxy.js"

/**
 * Flags that work in containers and on servers. The sandbox is not among them: Playwright adds
 * --no-sandbox only when `chromiumSandbox` is false, which decideSandbox chooses (root, or no way
 * to sandbox on this machine).
 */
export const CHROMIUM_ARGS = [
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync"
]

const CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"]

/** nodeHost.browser.executablePath, else /usr/bin/chromium, else the first Chromium on PATH. */
export const findChromium = (
  configured: string | undefined,
  envPath = process.env.PATH ?? ""
): { path?: string; problem?: string } => {
  if (configured !== undefined) {
    return isExecutable(configured)
      ? { path: configured }
      : { problem: `nodeHost.browser.executablePath ${configured} is not an executable file` }
  }
  if (isExecutable("/usr/bin/chromium")) return { path: "/usr/bin/chromium" }
  const found = findOnPath(CANDIDATES, envPath)
  if (found !== undefined) return { path: found }
  return {
    problem: "no Chromium or Chrome found (looked at /usr/bin/chromium and PATH); set nodeHost.browser.executablePath"
  }
}

export class BrowserError extends Error {
  constructor(
    readonly code: string,
    message: string
  ) {
    super(message)
  }
}

export interface BrowserRequest {
  readonly method: string
  readonly path: string
  readonly query?: Record<string, unknown>
  readonly body?: Record<string, unknown>
}

/** Playwright messages carry a multi-line call log; the first line says what went wrong. */
const firstLine = (e: unknown) =>
  String((e as Error)?.message ?? e)
    .split("\n")[0]!
    .replace(/^[a-zA-Z.]+: /, "")

/** The scheme check (file:, chrome:, javascript:, data:, blob: ... are never opened). */
const checkUrl = (raw: unknown): string => {
  if (typeof raw !== "string" || raw.length === 0) throw new BrowserError("INVALID_REQUEST", "a url is required")
  if (raw === "about:blank") return raw
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    throw new BrowserError("INVALID_REQUEST", `not a URL: ${raw} (include the scheme, e.g. https://example.org)`)
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new BrowserError("INVALID_REQUEST", `only http(s) URLs are opened, got ${u.protocol}`)
  return u.toString()
}

/** Where a route's answer keeps the files that go in the envelope's `files`, not in the result. */
const FILES = Symbol("files")

/** OpenClaw's browser.proxy envelope: `{result, files?}`, the files taken out of the result. */
export const proxyEnvelope = (payload: unknown): { result: unknown; files?: ReadonlyArray<ProxyFile> } => {
  const files = (payload as { [FILES]?: ReadonlyArray<ProxyFile> } | undefined)?.[FILES]
  if (files === undefined) return { result: payload }
  const { [FILES]: _, ...result } = payload as Record<string | symbol, unknown>
  return { result, files }
}

/** What to do when playwright-core cannot be loaded (a damaged install: the package ships its own copy). */
export const PLAYWRIGHT_MISSING =
  "the node host's browser needs playwright-core, and this install of openclaw-gateway-effect has none (dist/vendor/playwright-core is missing): reinstall it with `npm install -g openclaw-gateway-effect`, or run `npm install playwright-core` next to it, or set nodeHost.browser.enabled to false"

/**
 * The CLI's own copy of playwright-core (dist/vendor/, copied there by scripts/build.mjs without
 * its trace viewer and types): not a dependency, so that an app embedding the library does not
 * install 14 MB it never uses, while `npm install -g` still gives a node host with a browser.
 * Else (the sources, under test) the installed package.
 */
const loadInstalled = async (): Promise<unknown> => {
  // require, not import(): the CLI bundle runs in a vm.Script (code cache), where dynamic import()
  // is unavailable; tests run the ES module source, where require may be absent.
  if (typeof require === "function") {
    const vendored = path.join(__dirname, "vendor", "playwright-core")
    return require(fs.existsSync(vendored) ? vendored : "playwright-core")
  }
  return import("playwright-core")
}

/** playwright-core, loaded on first use (it is most of the node host's start-up otherwise). */
export const loadPlaywright = async (
  load: () => Promise<unknown> = loadInstalled
): Promise<typeof import("playwright-core")> => {
  try {
    return (await load()) as typeof import("playwright-core")
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND")
      throw new BrowserError("UNAVAILABLE", PLAYWRIGHT_MISSING)
    throw e
  }
}

/** Tabs open at once on the node's browser. */
export const MAX_TABS = 32

export interface BrowserOptions {
  /** Default: decided for this machine (sandboxForThisMachine). */
  readonly sandbox?: SandboxDecision
  /** nodeHost.browser.ssrfPolicy; default: the node machine's own addresses blocked. */
  readonly policy?: NavigationPolicy
  /** A line for the node host's log (the sandbox turned off at launch, say). */
  readonly note?: (line: string) => void
}

export class BrowserController {
  private browser: Browser | undefined
  private context: BrowserContext | undefined
  private launching: Promise<BrowserContext> | undefined
  private readonly tabs = new Map<string, Page>()
  private active: string | undefined
  private nextId = 1
  /** What the running browser has: the decision for this machine, until a launch had to turn it off. */
  sandbox: SandboxDecision
  readonly policy: NavigationPolicy
  /** Every request goes through it unless dangerouslyAllowPrivateNetwork (see guard-proxy.ts). */
  private proxy: GuardProxy | undefined

  constructor(
    readonly executablePath: string,
    readonly headless: boolean,
    private readonly options: BrowserOptions = {}
  ) {
    this.sandbox = options.sandbox ?? sandboxForThisMachine(executablePath)
    this.policy = options.policy ?? DEFAULT_NAVIGATION_POLICY
  }

  /** Refuses a URL by scheme, then by where its host resolves (see browser-policy.ts). */
  private async checkNavigation(raw: unknown): Promise<string> {
    const url = checkUrl(raw)
    if (url === "about:blank") return url
    const why = await blockedDestination(new URL(url), this.policy)
    if (why !== undefined) throw new BrowserError("INVALID_REQUEST", why)
    return url
  }

  /** goto; a hop the guard proxy refused (a redirect to a blocked address) is named as the error. */
  private async goto(page: Page, url: string, timeout: number): Promise<void> {
    this.proxy?.clearBlocked()
    let response: Response | null
    try {
      response = await page.goto(url, { timeout, waitUntil: "load" })
    } catch (e) {
      // An https:// hop the proxy refused fails the tunnel.
      const why = this.proxy?.lastBlocked()
      if (why !== undefined && /ERR_TUNNEL_CONNECTION_FAILED/.test(String((e as Error)?.message)))
        throw new BrowserError("INVALID_REQUEST", why)
      throw e
    }
    // An http:// hop the proxy refused is its 403 page: the tab shows nothing of it.
    if (response?.headers()[BLOCKED_HEADER] !== undefined) {
      const why = this.proxy?.lastBlocked() ?? "the node host refused that address"
      await page.goto("about:blank").catch(() => {})
      throw new BrowserError("INVALID_REQUEST", why)
    }
  }

  private launch(): Promise<BrowserContext> {
    if (this.context !== undefined) return Promise.resolve(this.context)
    this.launching ??= (async () => {
      try {
        const { chromium } = await loadPlaywright()
        if (!this.policy.dangerouslyAllowPrivateNetwork) this.proxy ??= await startGuardProxy(this.policy)
        // <-loopback>: Chromium would otherwise send loopback requests around the proxy.
        const args =
          this.proxy === undefined
            ? CHROMIUM_ARGS
            : [...CHROMIUM_ARGS, `--proxy-server=${this.proxy.url}`, "--proxy-bypass-list=<-loopback>"]
        const launch = (sandbox: boolean) =>
          chromium.launch({
            executablePath: this.executablePath,
            headless: this.headless,
            args,
            chromiumSandbox: sandbox,
            timeout: 30_000
          })
        let browser: Browser
        try {
          browser = await launch(this.sandbox.sandbox)
        } catch (e) {
          // The checks said it would work, and Chromium disagrees (a container's seccomp, say).
          if (!this.sandbox.sandbox || !/sandbox/i.test(String((e as Error)?.message))) throw e
          const why = `Chromium could not start its sandbox here: ${firstLine(e).slice(0, 200)}`
          this.options.note?.(`browser sandbox: off (${why})`)
          browser = await launch(false)
          this.sandbox = { sandbox: false, why }
        }
        browser.on("disconnected", () => this.reset())
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
        this.browser = browser
        this.context = context
        return context
      } catch (e) {
        if (e instanceof BrowserError) throw e
        throw new BrowserError("UNAVAILABLE", `cannot start ${this.executablePath}: ${firstLine(e)}`)
      } finally {
        this.launching = undefined
      }
    })()
    return this.launching
  }

  private reset() {
    this.browser = undefined
    this.context = undefined
    this.tabs.clear()
    this.active = undefined
  }

  private async newTab(): Promise<[string, Page]> {
    // Each tab is a renderer's memory on this machine: the Gateway cannot open them without end.
    if (this.tabs.size >= MAX_TABS)
      throw new BrowserError(
        "INVALID_REQUEST",
        `${MAX_TABS} tabs are open on the node: close one first (\`openclaw browser close <tabId>\`)`
      )
    const context = await this.launch()
    const page = await context.newPage()
    const id = `tab-${this.nextId++}`
    this.tabs.set(id, page)
    page.on("close", () => {
      this.tabs.delete(id)
      if (this.active === id) this.active = [...this.tabs.keys()].at(-1)
    })
    this.active = id
    return [id, page]
  }

  /** `tabId` (ours) or `targetId` (OpenClaw's name for the same thing). */
  private tab(tabId: unknown): [string, Page] {
    const id = typeof tabId === "string" && tabId.length > 0 ? tabId : this.active
    const page = id === undefined ? undefined : this.tabs.get(id)
    if (id === undefined || page === undefined) {
      throw new BrowserError(
        "INVALID_REQUEST",
        id === undefined
          ? "no tab is open: open one with `openclaw browser open <url>`"
          : `no tab ${id} (list them with \`openclaw browser tabs\`)`
      )
    }
    return [id, page]
  }

  private async describe(id: string, page: Page) {
    // targetId and type: the fields OpenClaw's browser answers carry, so its CLI reads ours.
    return {
      tabId: id,
      targetId: id,
      url: page.url(),
      title: await page.title().catch(() => ""),
      type: "page",
      active: id === this.active
    }
  }

  /** Ours (tabs, activeTab, version), and OpenClaw's fields, which its `browser status` prints. */
  async status() {
    const running = this.context !== undefined
    // OpenClaw's name for the browser family, from the executable's name.
    const name = this.executablePath.split("/").at(-1) ?? ""
    const kind = name.includes("chrome") ? "chrome" : name.includes("brave") ? "brave" : "chromium"
    return {
      enabled: true,
      // Playwright starts one browser with a fresh temporary profile, and speaks CDP to it over a
      // pipe: there is no debugging port to report.
      profile: "temporary",
      transport: "cdp",
      running,
      cdpReady: running,
      cdpPort: null,
      cdpUrl: "pipe (no remote debugging port)",
      chosenBrowser: running ? kind : null,
      detectedBrowser: kind,
      detectedExecutablePath: this.executablePath,
      userDataDir: null,
      // OpenClaw's default profile colour: its CLI prints one for every profile.
      color: "#FF4500",
      executablePath: this.executablePath,
      headless: this.headless,
      sandbox: this.sandbox.sandbox,
      sandboxWhy: this.sandbox.why,
      tabs: this.tabs.size,
      ...(this.active === undefined ? {} : { activeTab: this.active }),
      ...(this.browser === undefined ? {} : { version: this.browser.version() })
    }
  }

  async handle(req: BrowserRequest, timeoutMs: number): Promise<unknown> {
    const given = { ...(req.query ?? {}), ...(req.body ?? {}) }
    const args = given.tabId === undefined && given.targetId !== undefined ? { ...given, tabId: given.targetId } : given
    const budget = Math.max(1_000, timeoutMs - 1_000)
    const route = `${req.method.toUpperCase()} ${req.path.replace(/\/+$/, "") || "/"}`
    try {
      switch (route) {
        case "GET /":
        case "GET /status":
          return await this.status()
        case "GET /tabs":
          return {
            running: this.context !== undefined,
            tabs: await Promise.all([...this.tabs].map(([id, page]) => this.describe(id, page)))
          }
        case "POST /tabs/open":
        case "POST /tabs": {
          const url = args.url === undefined ? "about:blank" : await this.checkNavigation(args.url)
          const [id, page] = await this.newTab()
          await this.goto(page, url, budget)
          // OpenClaw answers the new tab itself; ours is under `tab`.
          const tab = await this.describe(id, page)
          return { ...tab, tab }
        }
        case "POST /tabs/close": {
          const [id, page] = this.tab(args.tabId)
          await page.close()
          return { closed: id, tabs: this.tabs.size }
        }
        case "POST /navigate": {
          const url = await this.checkNavigation(args.url)
          const [id, page] =
            this.tabs.size === 0 && args.tabId === undefined ? await this.newTab() : this.tab(args.tabId)
          await this.goto(page, url, budget)
          this.active = id
          return { ok: true, targetId: id, url: page.url(), tab: await this.describe(id, page) }
        }
        case "GET /snapshot":
        case "POST /snapshot": {
          const [id, page] = this.tab(args.tabId)
          const text = await page
            .locator("body")
            .innerText({ timeout: budget })
            .catch(() => "")
          const accessibility = await page.locator("body").ariaSnapshot({ timeout: budget })
          // format "ai" + snapshot: OpenClaw's shape (its CLI prints `snapshot`).
          return {
            ok: true,
            format: "ai",
            targetId: id,
            tabId: id,
            url: page.url(),
            title: await page.title(),
            text,
            accessibility,
            snapshot: accessibility
          }
        }
        case "GET /screenshot":
        case "POST /screenshot": {
          const [id, page] = this.tab(args.tabId)
          const png = await page.screenshot({ type: "png", fullPage: args.fullPage === true, timeout: budget })
          // As OpenClaw's: the result names the image by `path`, and its bytes travel beside the
          // result in the browser.proxy envelope's `files` (see proxyEnvelope).
          const file = `screenshot-${id}-${Date.now()}.png`
          return {
            ok: true,
            path: file,
            targetId: id,
            tabId: id,
            url: page.url(),
            mimeType: "image/png",
            bytes: png.length,
            [FILES]: [{ path: file, base64: png.toString("base64"), mimeType: "image/png" }]
          }
        }
        case "POST /click": {
          const [id, page] = this.tab(args.tabId)
          if (typeof args.selector !== "string") throw new BrowserError("INVALID_REQUEST", "click needs a selector")
          await page.click(args.selector, { timeout: Math.min(budget, 10_000) })
          return { ok: true, tab: await this.describe(id, page) }
        }
        case "POST /type": {
          const [id, page] = this.tab(args.tabId)
          if (typeof args.selector !== "string" || typeof args.text !== "string")
            throw new BrowserError("INVALID_REQUEST", "type needs a selector and text")
          await page.fill(args.selector, args.text, { timeout: Math.min(budget, 10_000) })
          if (args.submit === true) await page.press(args.selector, "Enter")
          return { ok: true, tab: await this.describe(id, page) }
        }
        default:
          if (req.method.toUpperCase() === "DELETE" && req.path.startsWith("/tabs/")) {
            const [id, page] = this.tab(decodeURIComponent(req.path.slice("/tabs/".length)))
            await page.close()
            return { closed: id, tabs: this.tabs.size }
          }
          throw new BrowserError(
            "INVALID_REQUEST",
            `unknown browser route ${route} (routes: GET /, GET /tabs, POST /tabs/open, POST /tabs/close, POST /navigate, GET /snapshot, POST /screenshot, POST /click, POST /type)`
          )
      }
    } catch (e) {
      if (e instanceof BrowserError) throw e
      throw new BrowserError("UNAVAILABLE", `${route} failed: ${firstLine(e)}`)
    }
  }

  async close(): Promise<void> {
    const browser = this.browser
    this.reset()
    await browser?.close().catch(() => {})
    await this.proxy?.close()
    this.proxy = undefined
  }
}
