/**
 * The Control UI: overview, presence, pairing and WebChat over one WebSocket to the Gateway that
 * served this page. Plain TypeScript and DOM, bundled by esbuild (scripts/build.mjs).
 *
 * Credentials: `#token=...` in the address is taken once, stored (localStorage) and removed from
 * the address bar; a token in the query string is ignored and removed; a `gatewayUrl` in the
 * query string is only connected to after the user confirms it (the stored token would go there).
 */
import { ago, h, replaceChildren } from "./dom.js"
import { doctorCard } from "./doctor.js"
import { type ConnState, type Credentials, GatewayConnection, type HelloOk, RequestError, UI_VERSION, uuid } from "./connection.js"
import { activityState, addActivity, loadActivity, renderActivity } from "./activity.js"
import { type DeviceIdentity, forgetDeviceToken, loadDeviceToken, loadOrCreateIdentity, saveDeviceToken } from "./device-identity.js"
import { type DevicesContext, devicesState, loadDevices, renderDevices } from "./devices.js"

type View = "overview" | "presence" | "pairing" | "devices" | "activity" | "chat"

const AUTH_KEY = "openclaw.controlUi.auth"
const webchatOnly = /\/webchat\/?$/.test(location.pathname)
const mode = webchatOnly ? "webchat" : "ui"

/** The WebSocket on this page's own origin and path (works under any basePath and behind a proxy). */
const defaultUrl = (() => {
  const u = new URL(".", location.href)
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:"
  u.hash = ""
  u.search = ""
  return u.toString()
})()

const loadCredentials = (): Credentials => {
  try {
    const c = JSON.parse(localStorage.getItem(AUTH_KEY) ?? "null") as Credentials | null
    if (c && (c.kind === "token" || c.kind === "password") && typeof c.secret === "string" && c.secret.length > 0) return c
  } catch {
    // unreadable: fall through
  }
  return { kind: "none" }
}
const saveCredentials = (c: Credentials) => localStorage.setItem(AUTH_KEY, JSON.stringify(c))
/** This browser's device identity (none without WebCrypto Ed25519 on a secure page). */
let identity: DeviceIdentity | undefined
const forgetCredentials = () => localStorage.removeItem(AUTH_KEY)

const notices: Array<string> = []
let pendingGatewayUrl: string | undefined

/** Takes #token once, strips credentials from the query string, and notes a gatewayUrl to confirm. */
const readAddress = () => {
  const url = new URL(location.href)
  let changed = false
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ""))
  const fragToken = fragment.get("token")
  if (fragToken !== null && fragToken.length > 0) {
    saveCredentials({ kind: "token", secret: fragToken })
    url.hash = ""
    changed = true
  }
  for (const name of ["token", "password"]) {
    if (url.searchParams.has(name)) {
      url.searchParams.delete(name)
      changed = true
      notices.push(`A ${name} in the address's query string was ignored and removed: query strings end up in logs and history. Use the form below, or a #token=… link.`)
    }
  }
  const gw = url.searchParams.get("gatewayUrl")
  if (gw !== null) {
    url.searchParams.delete("gatewayUrl")
    changed = true
    if (gw !== defaultUrl) pendingGatewayUrl = gw
  }
  if (changed) history.replaceState(null, "", url.pathname + url.search + url.hash)
}

// ---------------------------------------------------------------- state

interface ChatLine {
  id: string
  role: "user" | "assistant" | "error"
  text: string
  runId?: string
  state?: "streaming" | "final" | "aborted" | "error"
  source?: string
}

const state = {
  view: (webchatOnly ? "chat" : (sessionStorage.getItem("openclaw.controlUi.view") as View | null) ?? "overview") as View,
  url: defaultUrl,
  conn: undefined as GatewayConnection | undefined,
  connState: { kind: "connecting", attempt: 0 } as ConnState,
  hello: undefined as HelloOk | undefined,
  status: undefined as any,
  healthMs: undefined as number | undefined,
  healthOk: undefined as boolean | undefined,
  presence: [] as Array<any>,
  pairing: undefined as { pending: Array<any>; paired: Array<any> } | undefined,
  pairingError: undefined as string | undefined,
  /** The paired node whose Remove button was pressed once and now asks to be confirmed. */
  confirmRemove: undefined as string | undefined,
  /** Open pairing requests, shown on the Pairing tab from any screen. */
  pendingCount: 0,
  sessions: [] as Array<any>,
  session: sessionStorage.getItem("openclaw.controlUi.session") ?? "main",
  lines: [] as Array<ChatLine>,
  chatError: undefined as string | undefined,
  activeRuns: new Set<string>(),
  /** The reason of the Gateway's last `shutdown` event, kept until this page is connected again. */
  shutdown: undefined as string | undefined
}

const hasMethod = (name: string) => state.hello?.features.methods.includes(name) ?? false

// ---------------------------------------------------------------- shell

const root = document.getElementById("app")!
const pill = h("span", { id: "conn-pill", className: "pill" })
const banner = h("div", { id: "banner", className: "banner", role: "status", hidden: true })
const nav = h("nav", { id: "nav", className: "nav" })
const main = h("main", { id: "main", className: "main" })
const noticeBox = h("div", { id: "notice", className: "notice", hidden: true })

const shell = () =>
  replaceChildren(
    root,
    h(
      "header",
      { className: "topbar" },
      h("div", { className: "brand" }, h("span", { className: "logo", "aria-hidden": "true" }), webchatOnly ? "OpenClaw WebChat" : "OpenClaw Gateway"),
      pill,
      h("div", { className: "spacer" }),
      h("button", { id: "forget", className: "ghost", onclick: () => (forgetCredentials(), forgetDeviceToken(), state.conn?.stop(), showLogin(undefined)) }, "Forget credentials")
    ),
    banner,
    noticeBox,
    h("div", { className: webchatOnly ? "layout single" : "layout" }, webchatOnly ? null : nav, main)
  )

const renderNav = () => {
  const items: Array<[View, string]> = [
    ["overview", "Overview"],
    ["presence", "Presence"],
    ["pairing", "Pairing"],
    ["devices", "Devices"],
    ["activity", "Activity"],
    ["chat", "WebChat"]
  ]
  replaceChildren(
    nav,
    items.map(([view, label]) =>
      h(
        "button",
        { className: view === state.view ? "tab active" : "tab", "data-view": view, onclick: () => go(view) },
        label,
        view === "pairing" && state.pendingCount > 0
          ? h("span", { id: "pairing-count", className: "badge", title: "pairing requests waiting for approval" }, String(state.pendingCount))
          : null
      )
    )
  )
}

const go = (view: View) => {
  state.view = view
  sessionStorage.setItem("openclaw.controlUi.view", view)
  renderNav()
  render()
  void refresh()
}

const renderNotices = () => {
  noticeBox.hidden = notices.length === 0
  replaceChildren(noticeBox, notices.map((n) => h("p", {}, n)))
}

let bannerTimer: number | undefined
const renderConnState = () => {
  const s = state.connState
  clearInterval(bannerTimer)
  pill.className = `pill ${s.kind}`
  pill.textContent = s.kind === "connected" ? "connected" : s.kind === "auth-failed" ? "not signed in" : s.kind === "waiting" ? "disconnected" : "connecting…"
  if (s.kind === "waiting") {
    const paint = () => {
      const secs = Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000))
      // A clean stop says why; the failed reconnects after it must not hide that.
      replaceChildren(
        banner,
        h("strong", {}, state.shutdown !== undefined ? `The Gateway shut down (${state.shutdown}). ` : s.everConnected ? "Connection to the Gateway lost. " : "Cannot connect to the Gateway. "),
        `${state.shutdown !== undefined ? "It is not back yet" : s.reason}. Reconnecting in ${secs}s… `,
        h("button", { className: "link", onclick: () => state.conn?.retryNow() }, "Retry now")
      )
    }
    paint()
    bannerTimer = window.setInterval(paint, 1000)
    banner.hidden = false
  } else if (s.kind === "connecting" && s.attempt > 1) {
    replaceChildren(banner, state.shutdown !== undefined ? `The Gateway shut down (${state.shutdown}). Reconnecting…` : "Reconnecting to the Gateway…")
    banner.hidden = false
  } else banner.hidden = true
}

// ---------------------------------------------------------------- connection

const connect = (credentials: Credentials) => {
  state.conn?.stop()
  const conn = new GatewayConnection({
    url: state.url,
    credentials,
    mode,
    ...(identity === undefined
      ? {}
      : {
          identity,
          deviceToken: () => loadDeviceToken(state.url, identity!.deviceId),
          // From now on this browser signs in with its own device token and no longer keeps the shared secret.
          onDeviceToken: (token: string) => (saveDeviceToken(state.url, identity!.deviceId, token), forgetCredentials())
        }),
    onState: (s) => {
      state.connState = s
      renderConnState()
      renderChatControls()
      if (s.kind === "connected") {
        state.shutdown = undefined
        state.hello = s.hello
        state.presence = [...((s.hello.snapshot.presence as Array<any>) ?? [])]
        if (!webchatOnly) renderNav()
        render()
        void refresh()
        if (!webchatOnly && state.view !== "pairing") void refreshPendingCount()
      } else if (s.kind === "auth-failed") {
        state.hello = undefined
        if (s.error.details?.code === "AUTH_DEVICE_TOKEN_MISMATCH") {
          forgetDeviceToken()
          return showLogin("This browser was signed out: its device was revoked or removed on the Gateway. Sign in again with the Gateway's token or password.")
        }
        showLogin(s.error.details?.code?.endsWith("_MISSING") && credentials.kind === "none" ? undefined : s.error.message)
      } else if (state.view === "overview" && main.querySelector("#overview") !== null) {
        // "Reachable" must not keep saying yes while the page is disconnected.
        renderOverview()
      }
    },
    onEvent
  })
  state.conn = conn
  conn.start()
}

const onEvent = (event: string, payload: any) => {
  switch (event) {
    case "presence":
      state.presence = payload?.presence ?? []
      if (state.view === "presence") render()
      // A node connecting or leaving changes the paired list's "Connected" column.
      else if (state.view === "pairing" || state.view === "devices") void refresh()
      return
    case "chat":
      return onChat(payload)
    case "audit":
      addActivity(payload)
      if (state.view === "activity") render()
      else if (state.view === "devices" && /^(device|pair)\./.test(payload?.event ?? "")) void refresh()
      return
    case "device.pair.resolved":
      if (state.view === "devices") void refresh()
      return
    case "node.pair.requested":
    case "node.pair.resolved":
      if (state.view === "pairing") void refresh()
      else if (!webchatOnly) void refreshPendingCount()
      return
    case "shutdown":
      state.shutdown = typeof payload?.reason === "string" && payload.reason.length > 0 ? payload.reason : "no reason given"
      replaceChildren(banner, `The Gateway is shutting down (${state.shutdown}); this page will reconnect when it is back.`)
      banner.hidden = false
      return
  }
}

// ---------------------------------------------------------------- login and confirmation

const showLogin = (error: string | undefined) => {
  const current = loadCredentials()
  let kind: "token" | "password" = current.kind === "password" ? "password" : "token"
  const secret = h("input", { id: "auth-secret", type: "password", autocomplete: "off", placeholder: "paste the gateway token", required: true })
  const radio = (k: "token" | "password", label: string) =>
    h(
      "label",
      { className: "radio" },
      h("input", { type: "radio", name: "auth-kind", id: `auth-kind-${k}`, value: k, checked: kind === k, onchange: () => ((kind = k), (secret.placeholder = `paste the gateway ${k}`)) }),
      label
    )
  const form = h(
    "form",
    {
      id: "login-form",
      className: "card login",
      onsubmit: (e: Event) => {
        e.preventDefault()
        if (secret.value.length === 0) return
        const c: Credentials = { kind, secret: secret.value }
        saveCredentials(c)
        connect(c)
      }
    },
    h("h2", {}, "Sign in to this Gateway"),
    h(
      "p",
      { className: "muted" },
      identity === undefined
        ? "Use the Gateway's token (gateway.auth.token in its config file; `openclaw gateway run` prints where that is) or its password. It is kept in this browser's local storage."
        : "Use the Gateway's token (gateway.auth.token in its config file; `openclaw gateway run` prints where that is) or its password, once: this browser then gets a device token of its own and forgets the secret. The Devices screen (or `openclaw devices revoke`) signs it out."
    ),
    error ? h("p", { id: "auth-error", className: "error", role: "alert" }, error) : null,
    h("div", { className: "row" }, radio("token", "Token"), radio("password", "Password")),
    secret,
    h("div", { className: "row" }, h("button", { type: "submit", id: "auth-submit", className: "primary" }, "Connect")),
    h("p", { className: "muted small" }, `Gateway: ${state.url}`)
  )
  replaceChildren(main, form)
  pill.className = "pill auth-failed"
  pill.textContent = "not signed in"
  banner.hidden = true
  if (!webchatOnly) replaceChildren(nav)
  secret.focus()
}

const showConfirm = (url: string) => {
  replaceChildren(
    main,
    h(
      "div",
      { id: "confirm-url", className: "card warn" },
      h("h2", {}, "Connect to another Gateway?"),
      h("p", {}, "This link asks the Control UI to connect to:"),
      h("p", {}, h("code", { id: "confirm-target" }, url)),
      h("p", {}, "Only continue if you trust that address: your stored token or password would be sent to it."),
      h(
        "div",
        { className: "row" },
        h("button", { id: "confirm-yes", className: "danger", onclick: () => start(url) }, "Connect to it"),
        h("button", { id: "confirm-no", className: "primary", onclick: () => start(defaultUrl) }, "Stay on this Gateway")
      )
    )
  )
}

const devicesContext: DevicesContext = {
  request: (method, params) => (state.conn === undefined ? Promise.reject(new Error("not connected")) : state.conn.request(method, params)),
  get ownDeviceId() {
    return identity?.deviceId
  },
  rerender: () => render()
}

const start = (url: string) => {
  let valid = true
  try {
    valid = ["ws:", "wss:"].includes(new URL(url).protocol)
  } catch {
    valid = false
  }
  if (!valid) {
    notices.push(`Ignored gatewayUrl ${url}: it is not a ws:// or wss:// URL.`)
    renderNotices()
    url = defaultUrl
  }
  state.url = url
  pendingGatewayUrl = undefined
  replaceChildren(main, h("p", { className: "muted" }, "Connecting…"))
  void loadOrCreateIdentity().then((id) => {
    identity = id
    connect(loadCredentials())
  })
}

// ---------------------------------------------------------------- data

const refresh = async () => {
  const conn = state.conn
  if (conn === undefined || !conn.connected) return
  try {
    if (state.view === "overview") {
      const t0 = performance.now()
      const health = await conn.request("health")
      state.healthMs = Math.round(performance.now() - t0)
      state.healthOk = health?.ok !== false
      state.status = await conn.request("status")
    } else if (state.view === "presence") {
      state.presence = await conn.request("system-presence")
    } else if (state.view === "pairing") {
      if (hasMethod("node.pair.list")) {
        state.pairing = await conn.request("node.pair.list")
        state.pairingError = undefined
        setPendingCount(livePending().length)
      }
    } else if (state.view === "devices") {
      await loadDevices(devicesContext)
    } else if (state.view === "activity") {
      await loadActivity((m, p) => conn.request(m, p))
    } else if (state.view === "chat") {
      state.status ??= await conn.request("status")
      await loadSessions()
      await loadHistory()
    }
  } catch (e) {
    if (state.view === "pairing") state.pairingError = (e as Error).message
    else if (state.view === "devices") devicesState.error = (e as Error).message
    else if (state.view === "activity") activityState.error = (e as Error).message
    else if (state.view === "chat") state.chatError = (e as Error).message
  }
  render()
}

const setPendingCount = (n: number) => {
  if (n === state.pendingCount) return
  state.pendingCount = n
  renderNav()
}

const refreshPendingCount = async () => {
  if (!hasMethod("node.pair.list") || state.conn === undefined) return
  try {
    const r = await state.conn.request("node.pair.list")
    setPendingCount(r?.pending?.length ?? 0)
  } catch {
    // Not allowed or not connected: no count.
  }
}

const loadSessions = async () => {
  const r = await state.conn!.request("sessions.list")
  state.sessions = r?.sessions ?? []
}

const loadHistory = async () => {
  const r = await state.conn!.request("chat.history", { sessionKey: state.session, limit: 200 })
  state.lines = (r?.messages ?? []).map((m: any) => ({
    id: m.id,
    role: m.role,
    text: m.text ?? m.content?.[0]?.text ?? "",
    runId: m.runId,
    source: m.source,
    state: m.aborted ? "aborted" : m.error ? "error" : "final"
  }))
  state.activeRuns = new Set(r?.activeRunIds ?? [])
}

// ---------------------------------------------------------------- chat

const onChat = (p: any) => {
  if (p === undefined || p === null) return
  if (p.sessionKey !== state.session) {
    if (state.view === "chat" && (p.state === "final" || p.state === "aborted")) void loadSessions().then(render)
    return
  }
  if (p.source === "send") {
    const m = p.message ?? {}
    if (!state.lines.some((l) => l.id === m.id)) state.lines.push({ id: m.id ?? uuid(), role: "user", text: m.text ?? "", source: "send", state: "final" })
  } else {
    let line = state.lines.find((l) => l.role !== "user" && l.runId === p.runId)
    if (line === undefined) {
      line = { id: uuid(), role: "assistant", text: "", runId: p.runId, state: "streaming" }
      state.lines.push(line)
    }
    const text = p.deltaText ?? p.message?.text ?? p.message?.content?.[0]?.text
    if (typeof text === "string") line.text = text
    if (p.state === "delta") {
      line.state = "streaming"
      state.activeRuns.add(p.runId)
    } else {
      state.activeRuns.delete(p.runId)
      line.state = p.state === "final" ? "final" : p.state === "aborted" ? "aborted" : "error"
      if (p.state === "error") {
        line.role = "error"
        line.text = p.errorMessage ?? "the agent run failed"
      }
      if (p.message?.id) line.id = p.message.id
    }
  }
  if (state.view === "chat") renderChatMessages()
  if (p.state !== "delta" && state.view === "chat") void loadSessions().then(renderSessionList)
}

const sendChat = async (input: HTMLTextAreaElement) => {
  const message = input.value.trim()
  if (message.length === 0 || state.conn === undefined) return
  input.value = ""
  state.chatError = undefined
  state.lines.push({ id: uuid(), role: "user", text: message, state: "final" })
  renderChatMessages()
  try {
    const r = await state.conn.request("chat.send", { sessionKey: state.session, message, idempotencyKey: uuid() })
    state.activeRuns.add(r.runId)
    renderChatControls()
  } catch (e) {
    state.chatError = e instanceof RequestError ? e.error.message : String(e)
    renderChatMessages()
  }
}

const abortChat = async () => {
  try {
    await state.conn?.request("chat.abort", { sessionKey: state.session })
  } catch (e) {
    state.chatError = (e as Error).message
    renderChatMessages()
  }
}

const chatMessages = h("div", { id: "chat-messages", className: "messages", "aria-live": "polite" })
const sessionList = h("ul", { id: "session-list", className: "sessions" })
const chatInput = h("textarea", {
  id: "chat-input",
  rows: 3,
  placeholder: "Message the agent (Enter sends, Shift+Enter for a new line)",
  onkeydown: (e: KeyboardEvent) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault()
      void sendChat(chatInput)
    }
  }
})
const sendButton = h("button", { id: "chat-send", className: "primary", onclick: () => void sendChat(chatInput) }, "Send")
const abortButton = h("button", { id: "chat-abort", className: "danger", onclick: () => void abortChat() }, "Abort")

const renderChatMessages = () => {
  const atBottom = chatMessages.scrollHeight - chatMessages.scrollTop - chatMessages.clientHeight < 40
  replaceChildren(
    chatMessages,
    state.lines.length === 0 ? h("p", { className: "muted empty" }, "No messages in this session yet. Say hello.") : null,
    state.lines.map((l) =>
      h(
        "div",
        { className: `msg ${l.role} ${l.state ?? ""}`, "data-run": l.runId, "data-state": l.state },
        h("div", { className: "who" }, l.role === "user" ? (l.source === "send" ? "delivered (send)" : "you") : l.role === "error" ? "error" : "agent", l.state === "streaming" ? " · typing…" : l.state === "aborted" ? " · aborted" : ""),
        h("div", { className: "text" }, l.text)
      )
    ),
    state.chatError ? h("p", { id: "chat-error", className: "error" }, state.chatError) : null
  )
  if (atBottom) chatMessages.scrollTop = chatMessages.scrollHeight
  renderChatControls()
}

const renderChatControls = () => {
  abortButton.hidden = state.activeRuns.size === 0
  sendButton.disabled = !(state.conn?.connected ?? false)
}

const renderSessionList = () => {
  const keys = new Set(state.sessions.map((s) => s.key))
  const all = keys.has(state.session) ? state.sessions : [{ key: state.session, messageCount: 0 }, ...state.sessions]
  replaceChildren(
    sessionList,
    all.map((s) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            className: s.key === state.session ? "session active" : "session",
            "data-session": s.key,
            onclick: () => selectSession(s.key)
          },
          h("span", { className: "key" }, s.key),
          h("span", { className: "count" }, `${s.messageCount}`),
          s.lastMessage ? h("span", { className: "preview" }, s.lastMessage.text) : null
        )
      )
    )
  )
}

const selectSession = (key: string) => {
  state.session = key
  sessionStorage.setItem("openclaw.controlUi.session", key)
  state.lines = []
  state.chatError = undefined
  renderChat()
  void loadHistory().then(renderChatMessages, (e) => ((state.chatError = (e as Error).message), renderChatMessages()))
}

const renderChat = () => {
  const newKey = h("input", { id: "new-session", placeholder: "new session key", maxlength: 200 })
  replaceChildren(
    main,
    h(
      "section",
      { id: "chat", className: "chat" },
      h(
        "aside",
        { className: "chat-side" },
        h("h3", {}, "Sessions"),
        sessionList,
        h(
          "form",
          { className: "row", onsubmit: (e: Event) => (e.preventDefault(), newKey.value.trim() && selectSession(newKey.value.trim())) },
          newKey,
          h("button", { type: "submit" }, "Open")
        )
      ),
      h(
        "div",
        { className: "chat-main" },
        h("div", { className: "chat-head" }, h("h2", {}, "Session ", h("code", { id: "chat-session" }, state.session)), providerBadge()),
        chatMessages,
        h("div", { className: "composer" }, chatInput, h("div", { className: "composer-buttons" }, sendButton, abortButton))
      )
    )
  )
  renderSessionList()
  renderChatMessages()
}

const providerBadge = () => {
  const agent = state.status?.agent
  return agent ? h("span", { className: "badge", title: agent.label }, agent.provider === "echo" ? "echo provider (built-in test default)" : agent.label) : null
}

// ---------------------------------------------------------------- overview, presence, pairing

const kv = (label: string, value: Node | string, field?: string) => h("div", { className: "kv" }, h("dt", {}, label), h("dd", { "data-field": field }, value))

const reachability = (): string => {
  const c = state.connState
  if (c.kind !== "connected") {
    if (state.shutdown !== undefined) return `no: the Gateway shut down (${state.shutdown})`
    return c.kind === "waiting" ? `no: ${c.reason}` : "connecting…"
  }
  return state.healthOk === undefined ? "checking…" : state.healthOk ? `yes (health ${state.healthMs} ms)` : "answers, but health is NOT OK"
}

/** AB:CD:...: a line may break only between bytes, never inside one (each byte is one span). */
const fingerprintCode = (fp: string) =>
  h("code", { className: "fingerprint" }, "sha256 ", fp.split(":").flatMap((b, i, all) => [h("span", { className: "byte" }, i < all.length - 1 ? `${b}:` : b), h("wbr")]))

const renderOverview = () => {
  const s = state.status ?? {}
  const hello = state.hello
  const exposure = s.exposure
  const urls = exposure ? [exposure.url, exposure.wsUrl].filter(Boolean) : []
  replaceChildren(
    main,
    h(
      "section",
      { id: "overview" },
      h("div", { className: "view-head" }, h("h2", {}, "Overview"), h("button", { id: "refresh", onclick: () => void refresh() }, "Refresh")),
      h(
        "div",
        { className: "grid" },
        h(
          "dl",
          { className: "card" },
          h("h3", {}, "Reachability"),
          kv("Reachable", reachability(), "reachable"),
          kv("WebSocket", state.url, "url"),
          kv("Signed in as", hello ? `${hello.auth.role} via ${hello.auth.method}` : "—", "auth-method"),
          kv("Scopes", hello ? hello.auth.scopes.join(", ") : "—", "scopes")
        ),
        h(
          "dl",
          { className: "card" },
          h("h3", {}, "Gateway"),
          kv("Version", `${s.version ?? hello?.server.version ?? "?"} (protocol ${hello?.protocol ?? "?"})`, "version"),
          kv("Uptime", s.uptimeMs === undefined ? "—" : ago(s.uptimeMs), "uptime"),
          kv("Bind", s.bind ? `${s.bind.mode}${s.bind.effectiveMode && s.bind.effectiveMode !== s.bind.mode ? ` → ${s.bind.effectiveMode}` : ""} on ${(s.bind.addresses ?? []).join(", ")} port ${s.bind.port}` : "not reported", "bind"),
          kv("Auth", s.auth ? `${s.auth.mode}${s.auth.secretSource ? ` (from ${s.auth.secretSource})` : ""}${s.auth.allowTailscale ? ", Tailscale identity allowed" : ""}` : hello?.snapshot.authMode ?? "—", "auth"),
          kv("Clients", s.clients === undefined ? "—" : `${s.clients} operator(s), ${s.nodes ?? 0} node(s)`, "clients")
        ),
        h(
          "dl",
          { className: "card" },
          h("h3", {}, "Exposure"),
          kv("Tailscale", !exposure || exposure.mode === "off" ? "off (not exposed beyond the bind)" : `${exposure.mode}: ${exposure.state}`, "exposure"),
          urls.length > 0 ? kv("URLs", h("span", {}, urls.map((u: string) => h("div", {}, h("code", {}, u)))), "exposure-urls") : null,
          exposure?.reason ? kv("Reason", exposure.reason, "exposure-reason") : null,
          kv("TLS", s.tls?.enabled ? "on" : "off", "tls"),
          s.tls?.fingerprint ? kv("Fingerprint", fingerprintCode(s.tls.fingerprint), "tls-fingerprint") : null
        ),
        h(
          "dl",
          { className: "card" },
          h("h3", {}, "Agent"),
          kv("Provider", s.agent ? (s.agent.provider === "echo" ? `${s.agent.label} — the default` : s.agent.label) : "—", "agent-provider"),
          kv("Sessions", s.agent ? `${s.agent.sessions} (${s.agent.persistence === "jsonl" ? "saved on the Gateway host" : "in memory"})` : "—", "agent-sessions"),
          kv("Running", s.agent ? String(s.agent.activeRuns) : "—", "agent-runs")
        )
      ),
      hasMethod("doctor") ? diagnose : null,
      h("p", { className: "muted small" }, `Control UI ${UI_VERSION}`)
    )
  )
}

/** Runs the Gateway's `doctor` checks; made once so the result survives re-renders. */
const diagnose = doctorCard(() => state.conn!.request("doctor"))

const renderPresence = () => {
  const own = state.hello?.server.connId
  const row = (p: any) =>
    h(
      "tr",
      { "data-client": p.client?.id, "data-mode": p.client?.mode },
      h("td", {}, p.client?.displayName ?? p.client?.id, p.connId === own ? h("span", { className: "badge" }, "this page") : null),
      h("td", {}, p.client?.id ?? "?"),
      h("td", {}, p.client?.mode ?? "?"),
      h("td", {}, p.role),
      h("td", {}, p.client?.version ?? ""),
      h("td", {}, p.host ?? ""),
      h("td", {}, p.since ? ago(Date.now() - p.since) : "")
    )
  const table = (id: string, list: Array<any>, empty: string) =>
    list.length === 0
      ? h("p", { className: "muted", id }, empty)
      : h(
          "table",
          { id, className: "table" },
          h("thead", {}, h("tr", {}, ["Name", "Client id", "Mode", "Role", "Version", "From", "Connected for"].map((t) => h("th", {}, t)))),
          h("tbody", {}, list.map(row))
        )
  replaceChildren(
    main,
    h(
      "section",
      { id: "presence" },
      h("div", { className: "view-head" }, h("h2", {}, "Presence"), h("button", { id: "refresh", onclick: () => void refresh() }, "Refresh")),
      h("h3", {}, "Operator clients"),
      table("presence-table", state.presence.filter((p) => p.role !== "node"), "No operator clients."),
      h("h3", {}, "Nodes"),
      table("nodes-table", state.presence.filter((p) => p.role === "node"), "No nodes connected.")
    )
  )
}

const resolvePairing = async (method: "node.pair.approve" | "node.pair.reject", requestId: string) => {
  try {
    await state.conn?.request(method, { requestId })
    state.pairingError = undefined
  } catch (e) {
    state.pairingError = (e as Error).message
  }
  await refresh()
}

const removeNode = async (nodeId: string) => {
  state.confirmRemove = undefined
  try {
    await state.conn?.request("node.pair.remove", { nodeId })
    state.pairingError = undefined
  } catch (e) {
    state.pairingError = (e as Error).message
  }
  await refresh()
}

/** A request whose expiresAt has passed is gone on the Gateway too: it leaves the list on the page's own clock. */
/** What a request would approve: for an already paired node only what is new. */
const pairingAsks = (p: any): string => {
  const list = (xs: unknown) => (Array.isArray(xs) && xs.length > 0 ? xs.join(", ") : "none")
  return p.upgrade
    ? `Paired; asks for more: commands ${list(p.upgrade.commands)}, caps ${list(p.upgrade.caps)}`
    : `Commands ${list(p.commands)}, caps ${list(p.caps)}`
}

const livePending = (): Array<any> => (state.pairing?.pending ?? []).filter((p: any) => typeof p.expiresAt !== "number" || p.expiresAt > Date.now())

const removeCell = (p: any) => {
  if (!hasMethod("node.pair.remove")) return h("td", {})
  const name = p.displayName ?? p.nodeId
  const rerender = (nodeId: string | undefined) => () => {
    state.confirmRemove = nodeId
    render()
  }
  return h(
    "td",
    {},
    state.confirmRemove === p.nodeId
      ? h(
          "div",
          { className: "actions" },
          h("span", { className: "muted small" }, `Remove ${name}?`),
          h("button", { className: "danger", "data-action": "confirm-remove", onclick: () => void removeNode(p.nodeId) }, "Yes, remove"),
          h("button", { "data-action": "cancel-remove", onclick: rerender(undefined) }, "Cancel")
        )
      : h("button", { className: "danger", "data-action": "remove", onclick: rerender(p.nodeId) }, "Remove")
  )
}

const renderPairing = () => {
  if (!hasMethod("node.pair.list")) {
    return replaceChildren(
      main,
      h(
        "section",
        { id: "pairing" },
        h("h2", {}, "Pairing"),
        h("p", { id: "pairing-unavailable", className: "card muted" }, "Pairing is not available on this Gateway: it does not offer node.pair.list. Nodes and devices cannot be approved from here.")
      )
    )
  }
  const pending = livePending()
  const paired = state.pairing?.paired ?? []
  replaceChildren(
    main,
    h(
      "section",
      { id: "pairing" },
      h("div", { className: "view-head" }, h("h2", {}, "Pairing"), h("button", { id: "refresh", onclick: () => void refresh() }, "Refresh")),
      state.pairingError ? h("p", { className: "error" }, state.pairingError) : null,
      h("h3", {}, "Pending requests"),
      pending.length === 0
        ? h("p", { className: "muted", id: "pairing-pending" }, "No pending requests.")
        : h(
            "table",
            { className: "table", id: "pairing-pending" },
            h("thead", {}, h("tr", {}, ["Node", "Platform", "From", "Requested", "Expires in", ""].map((t) => h("th", {}, t)))),
            h(
              "tbody",
              {},
              pending.map((p: any) =>
                h(
                  "tr",
                  { "data-request": p.requestId },
                  h("td", {}, p.displayName ?? p.nodeId, h("div", { className: "muted small" }, p.nodeId), h("div", { className: "small", "data-field": "asks" }, pairingAsks(p))),
                  h("td", {}, p.platform ?? ""),
                  h("td", {}, p.remoteAddress ?? ""),
                  h("td", {}, p.requestedAt ? `${ago(Date.now() - p.requestedAt)} ago` : ""),
                  h("td", {}, p.expiresAt ? ago(p.expiresAt - Date.now()) : ""),
                  h(
                    "td",
                    {},
                    h(
                      "div",
                      { className: "actions" },
                      h("button", { className: "primary", onclick: () => void resolvePairing("node.pair.approve", p.requestId) }, "Approve"),
                      h("button", { className: "danger", onclick: () => void resolvePairing("node.pair.reject", p.requestId) }, "Reject")
                    )
                  )
                )
              )
            )
          ),
      h("h3", {}, "Paired nodes"),
      paired.length === 0
        ? h("p", { className: "muted" }, "No paired nodes.")
        : h(
            "table",
            { className: "table", id: "pairing-paired" },
            h("thead", {}, h("tr", {}, ["Node", "Platform", "Paired", "Connected", ""].map((t) => h("th", {}, t)))),
            h(
              "tbody",
              {},
              paired.map((p: any) =>
                h(
                  "tr",
                  { "data-node": p.nodeId },
                  h("td", {}, p.displayName ?? p.nodeId, h("div", { className: "muted small" }, p.nodeId)),
                  h("td", {}, p.platform ?? ""),
                  h("td", {}, p.pairedAt ? `${ago(Date.now() - p.pairedAt)} ago` : ""),
                  h("td", { "data-field": "connected" }, p.connected ? "yes" : "no"),
                  removeCell(p)
                )
              )
            )
          )
    )
  )
}

const render = () => {
  if (state.hello === undefined) return
  switch (state.view) {
    case "overview":
      return renderOverview()
    case "presence":
      return renderPresence()
    case "pairing":
      return renderPairing()
    case "devices":
      return replaceChildren(main, renderDevices(devicesContext))
    case "activity":
      return replaceChildren(main, renderActivity(() => void refresh()))
    case "chat":
      return renderChat()
  }
}

// ---------------------------------------------------------------- boot

shell()
readAddress()
renderNotices()
if (!webchatOnly) renderNav()
// Overview's uptime, "connected for" columns and the pairing countdowns tick along.
window.setInterval(() => {
  const pairingTicks = state.view === "pairing" && (state.pairing?.pending.length ?? 0) > 0
  if (state.hello !== undefined && (pairingTicks || state.view === "presence" || (state.view === "overview" && state.status))) {
    if (state.view === "overview" && state.status) state.status.uptimeMs += 1000
    render()
  }
}, 1000)
window.setInterval(() => state.view === "overview" && void refresh(), 15_000)
if (pendingGatewayUrl !== undefined) showConfirm(pendingGatewayUrl)
else start(defaultUrl)
// A #token= link (`openclaw dashboard`) opened in a tab that already shows the UI changes only the
// hash, with no reload: take it as on load, and sign in with it at once.
window.addEventListener("hashchange", () => {
  if (!/(^#|&)token=./.test(location.hash)) return
  readAddress()
  if (pendingGatewayUrl === undefined) connect(loadCredentials())
})
