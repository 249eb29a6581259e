/**
 * `openclaw browser ...`: drive the browser of a node host through the Gateway (browser.request,
 * operator.admin). Reads our node host's answers and OpenClaw's. Screenshots travel base64 in the
 * answer's `files`; this command writes them to disk.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import type { GatewayClientError } from "../client/GatewayClient.js"
import { forTerminal as t } from "../protocol/client-text.js"
import { clientOptions, withGateway } from "./client.js"
import { printJson } from "./output.js"
import { fail } from "./exit.js"
import { timeoutFlag } from "./flags.js"

const options = {
  ...clientOptions,
  timeout: timeoutFlag().pipe(
    Options.withDescription("Timeout in milliseconds (default 30000)"),
    Options.withDefault(30_000)
  ),
  tab: Options.text("tab").pipe(Options.withDescription("Tab id (default: the active tab)"), Options.optional)
}
type Flags = { readonly [K in keyof typeof options]: (typeof options)[K] extends Options.Options<infer A> ? A : never }

const request = <A>(
  flags: Flags,
  what: string,
  method: "GET" | "POST" | "DELETE",
  path: string,
  body: Record<string, unknown>,
  show: (payload: any) => Effect.Effect<A, GatewayClientError | import("./exit.js").ExitWith>
) =>
  withGateway(flags, ["operator.admin"], what, (conn) =>
    Effect.gen(function* () {
      const tab = Option.getOrUndefined(flags.tab)
      const payload = yield* conn.request(
        "browser.request",
        // targetId: OpenClaw's node hosts name tabs so.
        {
          method,
          path,
          body: tab === undefined ? body : { ...body, tabId: tab, targetId: tab },
          timeoutMs: flags.timeout
        },
        // The Gateway answers (TIMEOUT) before this client gives up.
        { timeoutMs: flags.timeout + 5_000 }
      )
      return yield* (flags.json ? printJson(payload) : show(payload)) as Effect.Effect<unknown, GatewayClientError>
    })
  )

/** A tab in our answers (`tabId`) or OpenClaw's (`targetId`). */
interface TabView {
  readonly tabId?: string
  readonly targetId?: string
  readonly url?: string
  readonly title?: string
  readonly active?: boolean
}
/** Ids, titles and URLs come from the node's browser (a page chooses its title): one line each, visible (`t`). */
const tabIdOf = (tab: TabView) => t(tab.tabId ?? tab.targetId ?? "?")
const titleOf = (tab: { title?: string }) => (tab.title ? t(tab.title) : "(untitled)")
const urlOf = (tab: { url?: string }) => t(tab.url ?? "")
const tabLine = (tab: TabView) => `${tab.active ? "*" : " "} ${tabIdOf(tab)}  ${titleOf(tab)}  ${urlOf(tab)}`
/** The tab an open/navigate/click answer is about: ours under `tab`, OpenClaw's at the top level. */
const tabOf = (p: TabView & { tab?: TabView }): TabView => p.tab ?? p

const status = Command.make("status", options, (flags) =>
  request(flags, "Browser status failed", "GET", "/", {}, (s) =>
    Console.log(
      [
        `Browser: ${s.running ? `running${s.version ? ` (Chromium ${t(String(s.version))})` : ""}` : "not started (starts on first use)"}`,
        `  Executable: ${t(String(s.executablePath))}${s.headless ? " (headless)" : ""}`,
        `  Tabs:       ${t(String(s.tabs))}${s.activeTab ? ` (active ${t(String(s.activeTab))})` : ""}`,
        // The node decides its sandbox; a node that does not say (OpenClaw's) gets no line.
        ...(typeof s.sandbox === "boolean"
          ? [`  Sandbox:    ${s.sandbox ? "on" : "OFF"}${s.sandboxWhy ? ` (${t(String(s.sandboxWhy))})` : ""}`]
          : [])
      ].join("\n")
    )
  )
).pipe(Command.withDescription("Show the node's browser"))

const tabs = Command.make("tabs", options, (flags) =>
  request(flags, "Listing tabs failed", "GET", "/tabs", {}, (p: { tabs?: Array<TabView> }) =>
    Console.log(p.tabs === undefined || p.tabs.length === 0 ? "No tabs open." : p.tabs.map(tabLine).join("\n"))
  )
).pipe(Command.withDescription("List the browser's tabs"))

const close = Command.make(
  "close",
  {
    ...options,
    tabId: Args.text({ name: "tabId" }).pipe(Args.withDescription("Tab id from `openclaw browser tabs`"), Args.optional)
  },
  (flags) =>
    request(
      flags,
      "Closing the tab failed",
      "POST",
      "/tabs/close",
      Option.isSome(flags.tabId) ? { tabId: flags.tabId.value } : {},
      (p) => Console.log(`Closed ${t(String(p.closed))}; ${t(String(p.tabs))} tab(s) left.`)
    )
).pipe(Command.withDescription("Close a tab (default: the active one)"))

const urlArg = Args.text({ name: "url" })

const open = Command.make("open", { ...options, page: urlArg }, (flags) =>
  request(flags, "Opening the page failed", "POST", "/tabs/open", { url: flags.page }, (p) => {
    const tab = tabOf(p)
    return Console.log(`Opened ${tabIdOf(tab)}: ${titleOf(tab)} ${urlOf(tab)}`)
  })
).pipe(Command.withDescription("Open a URL in a new tab"))

const navigate = Command.make("navigate", { ...options, page: urlArg }, (flags) =>
  request(flags, "Navigation failed", "POST", "/navigate", { url: flags.page }, (p) => {
    const tab = tabOf(p)
    return Console.log(`${tabIdOf(tab)}: ${titleOf(tab)} ${urlOf(tab)}`)
  })
).pipe(Command.withDescription("Load a URL in the active tab"))

const snapshot = Command.make("snapshot", options, (flags) =>
  request(flags, "Snapshot failed", "GET", "/snapshot", {}, (p) =>
    // Ours has text and accessibility; OpenClaw's node hosts send the tree as `snapshot` only.
    Console.log(
      [
        `# ${titleOf(p)}  ${urlOf(p)}`,
        ...(typeof p.text === "string" ? ["", p.text] : []),
        "",
        "## Accessibility tree",
        p.accessibility ?? p.snapshot ?? ""
      ].join("\n")
    )
  )
).pipe(Command.withDescription("Print the page's text and accessibility tree"))

const screenshot = Command.make(
  "screenshot",
  {
    ...options,
    out: Options.text("out").pipe(Options.withDescription("PNG file to write")),
    fullPage: Options.boolean("full-page").pipe(
      Options.withDescription("Capture the whole page, not just the viewport")
    )
  },
  (flags) =>
    request(
      flags,
      "Screenshot failed",
      "POST",
      "/screenshot",
      { fullPage: flags.fullPage },
      (p: { data?: string; files?: Array<{ base64: string }>; url: string }) => {
        // The bytes come in `files` (OpenClaw's envelope, passed on by the Gateway), or as `data` from older node hosts.
        const base64 = p.files?.[0]?.base64 ?? p.data
        if (base64 === undefined) return fail(1, "Screenshot failed: the node's answer carried no image")
        return Effect.try({
          try: () => {
            const bytes = Buffer.from(base64, "base64")
            fs.writeFileSync(flags.out, bytes)
            return bytes.length
          },
          catch: (e) => e as NodeJS.ErrnoException
        }).pipe(
          Effect.flatMap((bytes) => Console.log(`Saved ${bytes} bytes (PNG) of ${urlOf(p)} to ${flags.out}`)),
          Effect.catchAll((e) =>
            fail(
              1,
              `cannot write ${flags.out}: ${
                e.code === "ENOENT"
                  ? `the directory ${path.dirname(path.resolve(flags.out))} does not exist; create it, or pass another --out`
                  : e.code === "EACCES" || e.code === "EPERM"
                    ? "permission denied; pass an --out you can write to"
                    : e.code === "EISDIR"
                      ? "it is a directory; pass a file name such as page.png"
                      : (e.code ?? e.message)
              }`
            )
          )
        )
      }
    ).pipe(Effect.map(() => undefined))
).pipe(Command.withDescription("Save a PNG screenshot of the active tab"))

const selectorArg = Args.text({ name: "selector" }).pipe(
  Args.withDescription("CSS or Playwright selector, e.g. 'text=Sign in' or '#q'")
)

const click = Command.make("click", { ...options, selector: selectorArg }, (flags) =>
  request(flags, "Click failed", "POST", "/click", { selector: flags.selector }, (p) =>
    Console.log(`Clicked ${flags.selector} (${urlOf(tabOf(p))})`)
  )
).pipe(Command.withDescription("Click an element"))

const type = Command.make(
  "type",
  {
    ...options,
    selector: selectorArg,
    text: Args.text({ name: "text" }),
    submit: Options.boolean("submit").pipe(Options.withDescription("Press Enter afterwards"))
  },
  (flags) =>
    request(
      flags,
      "Typing failed",
      "POST",
      "/type",
      { selector: flags.selector, text: flags.text, submit: flags.submit },
      (p) => Console.log(`Typed into ${flags.selector} (${urlOf(tabOf(p))})`)
    )
).pipe(Command.withDescription("Fill an input with text"))

export const browserCommand = Command.make("browser").pipe(
  Command.withDescription("Drive the browser of a paired node host through the Gateway (operator.admin)"),
  Command.withSubcommands([status, tabs, open, close, navigate, snapshot, screenshot, click, type])
)
