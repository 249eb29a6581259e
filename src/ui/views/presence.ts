/** The Presence screen: the operator clients and nodes connected to the Gateway now. */
import type { GatewayConnection } from "../connection.js"
import { ago, h, replaceChildren, stackable } from "../dom.js"
import { refresh } from "../router.js"
import { main } from "../shell.js"
import { state } from "../state.js"

export const renderPresence = () => {
  const own = state.hello?.server.connId
  const row = (p: any) =>
    h(
      "tr",
      { "data-client": p.client?.id, "data-mode": p.client?.mode },
      h(
        "td",
        {},
        p.client?.displayName ?? p.client?.id,
        p.connId === own ? h("span", { className: "badge" }, "this page") : null,
        typeof p.user?.login === "string"
          ? h("div", { className: "muted small", "data-field": "user" }, `Tailscale user ${p.user.login}`)
          : null
      ),
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
      : stackable(
          h(
            "table",
            { id, className: "table" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["Name", "Client id", "Mode", "Role", "Version", "From", "Connected for"].map((t) => h("th", {}, t))
              )
            ),
            h("tbody", {}, list.map(row))
          )
        )
  replaceChildren(
    main,
    h(
      "section",
      { id: "presence" },
      h(
        "div",
        { className: "view-head" },
        h("h2", {}, "Presence"),
        h("button", { id: "refresh", onclick: () => void refresh() }, "Refresh")
      ),
      h("h3", {}, "Operator clients"),
      table(
        "presence-table",
        state.presence.filter((p) => p.role !== "node"),
        "No operator clients."
      ),
      h("h3", {}, "Nodes"),
      table(
        "nodes-table",
        state.presence.filter((p) => p.role === "node"),
        "No nodes connected."
      )
    )
  )
}

export const loadPresence = async (conn: GatewayConnection) => {
  state.presence = await conn.request("system-presence")
}
