/** The page frame every view lives in: top bar with the connection pill, banner, notices, nav and main. */
import { h, replaceChildren } from "./dom.js"
import { notices } from "./address.js"
import { state, webchatOnly } from "./state.js"

export const root = document.getElementById("app")!
export const pill = h("span", { id: "conn-pill", className: "pill" })
export const banner = h("div", { id: "banner", className: "banner", role: "status", hidden: true })
export const nav = h("nav", { id: "nav", className: "nav" })
export const main = h("main", { id: "main", className: "main" })
const noticeBox = h("div", { id: "notice", className: "notice", hidden: true })

export const shell = (onForget: () => void) =>
  replaceChildren(
    root,
    h(
      "header",
      { className: "topbar" },
      h(
        "div",
        { className: "brand" },
        h("span", { className: "logo", "aria-hidden": "true" }),
        // A phone shows only "OpenClaw", so the header keeps one line (styles.css).
        h("span", {}, "OpenClaw", h("span", { className: "brand-rest" }, webchatOnly ? " WebChat" : " Gateway"))
      ),
      pill,
      h("div", { className: "spacer" }),
      // A phone says it shorter, so the header keeps one line.
      h(
        "button",
        { id: "forget", className: "ghost", title: "Forget credentials", hidden: true, onclick: onForget },
        h("span", { className: "wide-only" }, "Forget credentials"),
        h("span", { className: "narrow-only" }, "Sign out")
      )
    ),
    banner,
    noticeBox,
    h("div", { className: webchatOnly ? "layout single" : "layout" }, webchatOnly ? null : nav, main)
  )

/** Marks the nav's edges beyond which more tabs are scrolled out of sight (styles.css fades them). */
export const hintNavOverflow = () => {
  const hidden = nav.scrollWidth - nav.clientWidth
  nav.classList.toggle("more-left", hidden > 1 && nav.scrollLeft > 1)
  nav.classList.toggle("more-right", hidden > 1 && nav.scrollLeft < hidden - 1)
}
nav.addEventListener("scroll", hintNavOverflow, { passive: true })
window.addEventListener("resize", hintNavOverflow)

export const renderNotices = () => {
  noticeBox.hidden = notices.length === 0
  replaceChildren(
    noticeBox,
    notices.map((n) => h("p", {}, n))
  )
}

let bannerTimer: number | undefined
export const renderConnState = () => {
  const s = state.connState
  clearInterval(bannerTimer)
  // An account action only once signed in (still there while a signed-in page reconnects).
  const forget = document.getElementById("forget")
  if (forget !== null) forget.hidden = s.kind !== "connected" && state.hello === undefined
  pill.className = `pill ${s.kind}`
  pill.textContent =
    s.kind === "connected"
      ? "connected"
      : s.kind === "auth-failed"
        ? "not signed in"
        : s.kind === "waiting"
          ? "disconnected"
          : "connecting…"
  if (s.kind === "waiting") {
    const paint = () => {
      const secs = Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000))
      // A clean stop says why; the failed reconnects after it must not hide that.
      replaceChildren(
        banner,
        h(
          "strong",
          {},
          state.shutdown !== undefined
            ? `The Gateway shut down (${state.shutdown}). `
            : s.everConnected
              ? "Connection to the Gateway lost. "
              : "Cannot connect to the Gateway. "
        ),
        `${state.shutdown !== undefined ? "It is not back yet" : s.reason}. Reconnecting in ${secs}s… `,
        h("button", { className: "link", onclick: () => state.conn?.retryNow() }, "Retry now")
      )
    }
    paint()
    bannerTimer = window.setInterval(paint, 1000)
    banner.hidden = false
  } else if (s.kind === "connecting" && s.attempt > 1) {
    replaceChildren(
      banner,
      state.shutdown !== undefined
        ? `The Gateway shut down (${state.shutdown}). Reconnecting…`
        : "Reconnecting to the Gateway…"
    )
    banner.hidden = false
  } else banner.hidden = true
}
