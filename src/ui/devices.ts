/**
 * The Devices screen: every paired device (node hosts and browsers), when and where each was last
 * seen, how it signs in, whether it is connected; rename, revoke (its token stops working and its
 * connections close), remove, and "Revoke all others" for when a secret may have leaked.
 */
import { ago, h, stackable, withCode } from "./dom.js"

export interface DevicesContext {
  readonly request: (method: string, params?: unknown) => Promise<any>
  /** This browser's own device id, marked and spared by "Revoke all others". */
  readonly ownDeviceId: string | undefined
  readonly rerender: () => void
}

export const devicesState = {
  list: undefined as { pending: Array<any>; paired: Array<any> } | undefined,
  error: undefined as string | undefined,
  notice: undefined as string | undefined,
  /** "<action>:<deviceId>" awaiting "Yes", or "others". */
  confirm: undefined as string | undefined,
  renaming: undefined as string | undefined,
  /**
   * The name field while renaming: the same element across re-renders (a presence event, a refresh),
   * so what is typed, the caret and the focus survive them.
   */
  nameField: undefined as HTMLInputElement | undefined
}

const startRenaming = (ctx: DevicesContext, d: any) => {
  devicesState.renaming = d.deviceId
  const field = h("input", { className: "rename", value: d.displayName ?? "", maxlength: 64, "aria-label": "New name" })
  devicesState.nameField = field
  ctx.rerender()
  field.focus()
}

const stopRenaming = () => {
  devicesState.renaming = undefined
  devicesState.nameField = undefined
}

export const loadDevices = async (ctx: DevicesContext) => {
  devicesState.list = await ctx.request("device.pair.list")
  devicesState.error = undefined
}

const act = async (ctx: DevicesContext, run: () => Promise<string>) => {
  devicesState.confirm = undefined
  stopRenaming()
  try {
    devicesState.notice = await run()
    devicesState.error = undefined
  } catch (e) {
    devicesState.error = (e as Error).message
  }
  try {
    await loadDevices(ctx)
  } catch {
    // This page may just have revoked itself.
  }
  ctx.rerender()
}

const nameOf = (d: any) => d.displayName ?? d.deviceId.slice(0, 12)

const revokeOthers = (ctx: DevicesContext) =>
  act(ctx, async () => {
    const others = (devicesState.list?.paired ?? []).filter((d) => d.deviceId !== ctx.ownDeviceId && !d.revoked)
    for (const d of others) await ctx.request("device.token.revoke", { deviceId: d.deviceId })
    return `Revoked ${others.length} device(s); only this browser keeps its access. If the shared token may have leaked, rotate it too: \`openclaw gateway token rotate\`.`
  })

const confirmRow = (ctx: DevicesContext, question: string, yes: string, run: () => Promise<unknown>) =>
  h(
    "div",
    { className: "actions" },
    h("span", { className: "muted small" }, question),
    h("button", { className: "danger", "data-action": "confirm", onclick: () => void run() }, yes),
    h(
      "button",
      { "data-action": "cancel", onclick: () => ((devicesState.confirm = undefined), ctx.rerender()) },
      "Cancel"
    )
  )

const actionsCell = (ctx: DevicesContext, d: any) => {
  const c = devicesState.confirm
  if (c === `revoke:${d.deviceId}`) {
    return confirmRow(ctx, `Revoke ${nameOf(d)}?`, "Yes, revoke", () =>
      act(
        ctx,
        async () => (await ctx.request("device.token.revoke", { deviceId: d.deviceId }), `Revoked ${nameOf(d)}.`)
      )
    )
  }
  if (c === `remove:${d.deviceId}`) {
    return confirmRow(ctx, `Remove ${nameOf(d)}?`, "Yes, remove", () =>
      act(ctx, async () => (await ctx.request("device.pair.remove", { deviceId: d.deviceId }), `Removed ${nameOf(d)}.`))
    )
  }
  const input = devicesState.nameField
  if (devicesState.renaming === d.deviceId && input) {
    return h(
      "form",
      {
        className: "actions",
        onsubmit: (e: Event) => {
          e.preventDefault()
          const name = input.value.trim()
          if (name)
            void act(
              ctx,
              async () => (
                await ctx.request("device.rename", { deviceId: d.deviceId, displayName: name }),
                `Renamed to ${name}.`
              )
            )
        }
      },
      input,
      h("button", { type: "submit", className: "primary", "data-action": "save-name" }, "Save"),
      h("button", { type: "button", onclick: () => (stopRenaming(), ctx.rerender()) }, "Cancel")
    )
  }
  const ask = (what: string) => () => ((devicesState.confirm = `${what}:${d.deviceId}`), ctx.rerender())
  return h(
    "div",
    { className: "actions" },
    h("button", { "data-action": "rename", onclick: () => startRenaming(ctx, d) }, "Rename"),
    d.revoked ? null : h("button", { className: "danger", "data-action": "revoke", onclick: ask("revoke") }, "Revoke"),
    h("button", { className: "danger", "data-action": "remove", onclick: ask("remove") }, "Remove")
  )
}

export const renderDevices = (ctx: DevicesContext): HTMLElement => {
  const list = devicesState.list
  const paired = list?.paired ?? []
  const others = paired.filter((d) => d.deviceId !== ctx.ownDeviceId && !d.revoked)
  const now = Date.now()
  return h(
    "section",
    { id: "devices" },
    h(
      "div",
      { className: "view-head" },
      h("h2", {}, "Devices"),
      h(
        "div",
        { className: "actions" },
        devicesState.confirm === "others"
          ? confirmRow(ctx, `Revoke ${others.length} other device(s)?`, "Yes, revoke all others", () =>
              revokeOthers(ctx)
            )
          : h(
              "button",
              {
                id: "revoke-others",
                className: "danger",
                disabled: others.length === 0,
                onclick: () => ((devicesState.confirm = "others"), ctx.rerender())
              },
              "Revoke all others"
            ),
        h("button", { id: "refresh", onclick: () => void act(ctx, async () => "") }, "Refresh")
      )
    ),
    h(
      "p",
      { className: "muted" },
      "Everything that can sign in with a device token: node hosts and browsers. Revoking one stops its token at once and closes its connections; it must pair (a node) or sign in with the shared secret (a browser) again."
    ),
    devicesState.error ? h("p", { className: "error", id: "devices-error" }, devicesState.error) : null,
    devicesState.notice
      ? h("p", { className: "notice-line", id: "devices-notice" }, ...withCode(devicesState.notice))
      : null,
    list !== undefined && list.pending.length > 0
      ? h("p", { className: "muted" }, `${list.pending.length} pairing request(s) wait on the Pairing screen.`)
      : null,
    paired.length === 0
      ? h("p", { className: "muted", id: "devices-empty" }, list === undefined ? "Loading…" : "No paired devices.")
      : stackable(
          h(
            "table",
            { className: "table", id: "devices-table" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["Device", "Role", "Platform", "Paired", "Last seen", "From", "Signs in with", "Connected", ""].map(
                  (t) => h("th", {}, t)
                )
              )
            ),
            h(
              "tbody",
              {},
              paired.map((d) =>
                h(
                  "tr",
                  { "data-device": d.deviceId, "data-role": d.role, className: d.revoked ? "revoked" : "" },
                  h(
                    "td",
                    {},
                    nameOf(d),
                    d.deviceId === ctx.ownDeviceId ? h("span", { className: "badge" }, "this browser") : null,
                    h("div", { className: "muted small" }, d.deviceId.slice(0, 16))
                  ),
                  h("td", {}, d.role),
                  h("td", {}, d.platform ?? ""),
                  h("td", {}, `${ago(now - d.pairedAt)} ago`),
                  h("td", {}, d.connected ? "now" : d.lastSeenAt ? `${ago(now - d.lastSeenAt)} ago` : "never"),
                  h("td", {}, d.lastAddress ?? ""),
                  h("td", { "data-field": "signs-in-with" }, d.signsInWith),
                  h("td", { "data-field": "connected" }, d.connected ? "yes" : "no"),
                  h("td", {}, actionsCell(ctx, d))
                )
              )
            )
          )
        )
  )
}
