/**
 * Which view is shown: the nav tabs, `go`, and `render`/`refresh` of the current view. Views are
 * registered by app.ts, so a view can call render/refresh without importing app.ts (no cycle).
 */
import type { GatewayConnection } from "./connection.js"
import { h, replaceChildren } from "./dom.js"
import { hintNavOverflow, nav } from "./shell.js"
import { state, type View } from "./state.js"

export interface ViewModule {
  /** Draws the view into main (only called once signed in). */
  readonly render: () => void
  /** Fetches what the view shows; its failure goes to `fail`. */
  readonly load: (conn: GatewayConnection) => Promise<void>
  readonly fail?: (message: string) => void
}

const views = {} as Record<View, ViewModule>
export const registerViews = (all: Record<View, ViewModule>) => Object.assign(views, all)

export const render = () => {
  if (state.hello === undefined) return
  views[state.view].render()
}

export const refresh = async () => {
  const conn = state.conn
  if (conn === undefined || !conn.connected) return
  try {
    await views[state.view].load(conn)
  } catch (e) {
    views[state.view].fail?.((e as Error).message)
  }
  render()
}

export const renderNav = () => {
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
          ? h(
              "span",
              { id: "pairing-count", className: "badge", title: "pairing requests waiting for approval" },
              String(state.pendingCount)
            )
          : null
      )
    )
  )
  hintNavOverflow()
}

export const go = (view: View) => {
  state.view = view
  sessionStorage.setItem("openclaw.controlUi.view", view)
  renderNav()
  // On a phone the nav scrolls: the chosen tab comes into sight.
  nav.querySelector(".tab.active")?.scrollIntoView({ block: "nearest", inline: "nearest" })
  render()
  void refresh()
}
