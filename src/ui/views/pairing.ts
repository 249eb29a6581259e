/** The Pairing screen: node pairing requests to approve or reject, paired nodes to remove, and the tab's badge. */
import type { GatewayConnection } from "../connection.js"
import { ago, h, replaceChildren, stackable } from "../dom.js"
import { refresh, render, renderNav } from "../router.js"
import { main } from "../shell.js"
import { hasMethod, state } from "../state.js"

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

/** What a request would approve: for an already paired node only what is new. */
const pairingAsks = (p: any): string => {
  const list = (xs: unknown) => (Array.isArray(xs) && xs.length > 0 ? xs.join(", ") : "none")
  return p.upgrade
    ? `Paired; asks for more: commands ${list(p.upgrade.commands)}, caps ${list(p.upgrade.caps)}`
    : `Commands ${list(p.commands)}, caps ${list(p.caps)}`
}

/** A request whose expiresAt has passed is gone on the Gateway too: it leaves the list on the page's own clock. */
const livePending = (): Array<any> =>
  (state.pairing?.pending ?? []).filter((p: any) => typeof p.expiresAt !== "number" || p.expiresAt > Date.now())

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
          h(
            "button",
            { className: "danger", "data-action": "confirm-remove", onclick: () => void removeNode(p.nodeId) },
            "Yes, remove"
          ),
          h("button", { "data-action": "cancel-remove", onclick: rerender(undefined) }, "Cancel")
        )
      : h("button", { className: "danger", "data-action": "remove", onclick: rerender(p.nodeId) }, "Remove")
  )
}

export const renderPairing = () => {
  if (!hasMethod("node.pair.list")) {
    return replaceChildren(
      main,
      h(
        "section",
        { id: "pairing" },
        h("h2", {}, "Pairing"),
        h(
          "p",
          { id: "pairing-unavailable", className: "card muted" },
          "Pairing is not available on this Gateway: it does not offer node.pair.list. Nodes and devices cannot be approved from here."
        )
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
      h(
        "div",
        { className: "view-head" },
        h("h2", {}, "Pairing"),
        h("button", { id: "refresh", onclick: () => void refresh() }, "Refresh")
      ),
      state.pairingError ? h("p", { className: "error" }, state.pairingError) : null,
      h("h3", {}, "Pending requests"),
      pending.length === 0
        ? h("p", { className: "muted", id: "pairing-pending" }, "No pending requests.")
        : stackable(
            h(
              "table",
              { className: "table", id: "pairing-pending" },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  ["Node", "Platform", "From", "Requested", "Expires in", ""].map((t) => h("th", {}, t))
                )
              ),
              h(
                "tbody",
                {},
                pending.map((p: any) =>
                  h(
                    "tr",
                    { "data-request": p.requestId },
                    h(
                      "td",
                      {},
                      p.displayName ?? p.nodeId,
                      h("div", { className: "muted small" }, p.nodeId),
                      h("div", { className: "small", "data-field": "asks" }, pairingAsks(p))
                    ),
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
                        h(
                          "button",
                          {
                            className: "primary",
                            onclick: () => void resolvePairing("node.pair.approve", p.requestId)
                          },
                          "Approve"
                        ),
                        h(
                          "button",
                          { className: "danger", onclick: () => void resolvePairing("node.pair.reject", p.requestId) },
                          "Reject"
                        )
                      )
                    )
                  )
                )
              )
            )
          ),
      h("h3", {}, "Paired nodes"),
      paired.length === 0
        ? h("p", { className: "muted" }, "No paired nodes.")
        : stackable(
            h(
              "table",
              { className: "table", id: "pairing-paired" },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  ["Node", "Platform", "Paired", "Connected", ""].map((t) => h("th", {}, t))
                )
              ),
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
  )
}

export const loadPairing = async (conn: GatewayConnection) => {
  if (hasMethod("node.pair.list")) {
    state.pairing = await conn.request("node.pair.list")
    state.pairingError = undefined
    setPendingCount(livePending().length)
  }
}

const setPendingCount = (n: number) => {
  if (n === state.pendingCount) return
  state.pendingCount = n
  renderNav()
}

export const refreshPendingCount = async () => {
  if (!hasMethod("node.pair.list") || state.conn === undefined) return
  try {
    const r = await state.conn.request("node.pair.list")
    setPendingCount(r?.pending?.length ?? 0)
  } catch {
    // Not allowed or not connected: no count.
  }
}
