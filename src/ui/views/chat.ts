/** The WebChat screen: sessions, the message list with streamed agent replies, send and abort. */
import { type GatewayConnection, RequestError, uuid } from "../connection.js"
import { h, replaceChildren, setAttribute, syncChildren } from "../dom.js"
import { render } from "../router.js"
import { main } from "../shell.js"
import { type ChatLine, state } from "../state.js"

const loadSessions = async () => {
  const r = await state.conn!.request("sessions.list")
  state.sessions = r?.sessions ?? []
}

/**
 * History loads under way, by session: the message list is aria-busy while the session it shows
 * has one (assistive technology waits for it; so do the UI tests).
 */
const historyLoads = new Map<string, number>()
const showBusy = () => chatMessages.setAttribute("aria-busy", String(historyLoads.has(state.session)))

/**
 * Replaces the lines with the session's history. A send or a streamed reply that arrived while the
 * history was on its way (right after a reconnect, say) stays unless the history already holds it;
 * the history of a session the user has left meanwhile is dropped.
 */
const loadHistory = async () => {
  const before = new Set(state.lines)
  const sessionKey = state.session
  historyLoads.set(sessionKey, (historyLoads.get(sessionKey) ?? 0) + 1)
  showBusy()
  const r = await state.conn!.request("chat.history", { sessionKey, limit: 200 }).finally(() => {
    const left = historyLoads.get(sessionKey)! - 1
    if (left === 0) historyLoads.delete(sessionKey)
    else historyLoads.set(sessionKey, left)
    showBusy()
  })
  // The user opened another session meanwhile: this history is not what the page shows.
  if (state.session !== sessionKey) return
  const history: typeof state.lines = (r?.messages ?? []).map((m: any) => ({
    id: m.id,
    role: m.role,
    text: m.text ?? m.content?.[0]?.text ?? "",
    runId: m.runId,
    source: m.source,
    state: m.aborted ? "aborted" : m.error ? "error" : "final"
  }))
  const inHistory = (l: (typeof history)[number]) =>
    history.some(
      (h) =>
        h.id === l.id || (l.runId !== undefined && h.runId === l.runId && (h.role === "user") === (l.role === "user"))
    )
  const arrived = state.lines.filter((l) => !before.has(l) && !inHistory(l))
  state.lines = [...history, ...arrived]
  state.activeRuns = new Set([
    ...(r?.activeRunIds ?? []),
    ...arrived.filter((l) => l.state === "streaming").map((l) => l.runId!)
  ])
}

export const onChat = (p: any) => {
  if (p === undefined || p === null) return
  if (p.sessionKey !== state.session) {
    if (state.view === "chat" && (p.state === "final" || p.state === "aborted")) void loadSessions().then(render)
    return
  }
  if (p.source === "send") {
    const m = p.message ?? {}
    if (!state.lines.some((l) => l.id === m.id))
      state.lines.push({ id: m.id ?? uuid(), role: "user", text: m.text ?? "", source: "send", state: "final" })
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
  // The idempotencyKey is the run id, so the history's copy of this message is known by it.
  const idempotencyKey = uuid()
  state.lines.push({ id: idempotencyKey, role: "user", text: message, runId: idempotencyKey, state: "final" })
  renderChatMessages()
  try {
    const r = await state.conn.request("chat.send", { sessionKey: state.session, message, idempotencyKey })
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
// Kept across redraws, like the message box: a view refresh must not wipe what the user is typing.
const newKey = h("input", { id: "new-session", placeholder: "new session key", maxlength: 200 })
const sendButton = h(
  "button",
  { id: "chat-send", className: "primary", onclick: () => void sendChat(chatInput) },
  "Send"
)
const abortButton = h("button", { id: "chat-abort", className: "danger", onclick: () => void abortChat() }, "Abort")

const emptyNote = h("p", { className: "muted empty" }, "No messages in this session yet. Say hello.")

/**
 * Each line's bubble, kept for as long as the line: a streamed delta rewrites its own bubble and
 * leaves the others in place, so a long chat is not rebuilt on every delta and a selection in an
 * earlier message survives the reply streaming in below it.
 */
const bubbles = new WeakMap<
  ChatLine,
  { readonly el: HTMLDivElement; readonly who: HTMLDivElement; readonly text: HTMLDivElement }
>()

const whoOf = (l: ChatLine): string =>
  (l.role === "user" ? (l.source === "send" ? "delivered (send)" : "you") : l.role === "error" ? "error" : "agent") +
  (l.state === "streaming" ? " · typing…" : l.state === "aborted" ? " · aborted" : "")

const bubbleOf = (l: ChatLine): HTMLDivElement => {
  let b = bubbles.get(l)
  if (b === undefined) {
    const who = h("div", { className: "who" })
    const text = h("div", { className: "text" })
    b = { el: h("div", {}, who, text), who, text }
    bubbles.set(l, b)
  }
  setAttribute(b.el, "class", `msg ${l.role} ${l.state ?? ""}`)
  setAttribute(b.el, "data-run", l.runId)
  setAttribute(b.el, "data-state", l.state)
  const who = whoOf(l)
  if (b.who.textContent !== who) b.who.textContent = who
  if (b.text.textContent !== l.text) b.text.textContent = l.text
  return b.el
}

const renderChatMessages = () => {
  const atBottom = chatMessages.scrollHeight - chatMessages.scrollTop - chatMessages.clientHeight < 40
  syncChildren(chatMessages, [
    ...(state.lines.length === 0 ? [emptyNote] : []),
    ...state.lines.map(bubbleOf),
    ...(state.chatError ? [h("p", { id: "chat-error", className: "error" }, state.chatError)] : [])
  ])
  if (atBottom) chatMessages.scrollTop = chatMessages.scrollHeight
  renderChatControls()
}

export const renderChatControls = () => {
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

export const renderChat = () => {
  // Redrawing moves the boxes, which takes the focus from them: the user typing goes on typing.
  const focused = document.activeElement
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
          {
            className: "row",
            onsubmit: (e: Event) => {
              e.preventDefault()
              const key = newKey.value.trim()
              newKey.value = ""
              if (key.length > 0) selectSession(key)
            }
          },
          newKey,
          h("button", { type: "submit" }, "Open")
        )
      ),
      h(
        "div",
        { className: "chat-main" },
        h(
          "div",
          { className: "chat-head" },
          h("h2", {}, "Session ", h("code", { id: "chat-session" }, state.session)),
          providerBadge()
        ),
        chatMessages,
        h(
          "div",
          { className: "composer" },
          chatInput,
          h("div", { className: "composer-buttons" }, sendButton, abortButton)
        )
      )
    )
  )
  renderSessionList()
  renderChatMessages()
  if (focused === chatInput || focused === newKey) (focused as HTMLElement).focus()
}

const providerBadge = () => {
  const agent = state.status?.agent
  return agent
    ? h(
        "span",
        { className: "badge", title: agent.label },
        agent.provider === "echo" ? "echo provider (built-in test default)" : agent.label
      )
    : null
}

export const loadChat = async (conn: GatewayConnection) => {
  state.status ??= await conn.request("status")
  await loadSessions()
  await loadHistory()
}
