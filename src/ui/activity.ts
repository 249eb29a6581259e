/**
 * The Activity screen: the Gateway's audit log (audit.tail, operator.admin), newest first, with
 * new entries arriving live (event "audit"): sign-ins, failures, lock-outs, pairing, revocations,
 * token rotations and exposure changes.
 */
import { h, stackable, when, withCode } from "./dom.js"

const MAX_SHOWN = 500

export const activityState = {
  entries: [] as Array<any>,
  error: undefined as string | undefined,
  loaded: false
}

export const loadActivity = async (request: (method: string, params?: unknown) => Promise<any>) => {
  const r = await request("audit.tail", { limit: 200 })
  activityState.entries = [...(r?.entries ?? [])].reverse()
  activityState.error = undefined
  activityState.loaded = true
}

/** A live entry from the "audit" event. */
export const addActivity = (entry: any) => {
  if (entry === null || typeof entry !== "object") return
  activityState.entries.unshift(entry)
  if (activityState.entries.length > MAX_SHOWN) activityState.entries.length = MAX_SHOWN
}

const KIND: Record<string, string> = {
  "auth.fail": "bad",
  "auth.lockout": "bad",
  "device.revoked": "warn",
  "device.removed": "warn",
  "token.rotated": "warn",
  "pair.rejected": "warn",
  "exposure.on": "warn"
}

const detail = (e: any): string =>
  [
    e.code,
    // The Tailscale user by name: "via tailscale" alone says nothing of who.
    e.authMethod
      ? `via ${e.authMethod}${e.tailscaleLogin ? ` as ${e.tailscaleLogin}` : ""}`
      : e.tailscaleLogin
        ? `tailscale user ${e.tailscaleLogin}`
        : undefined,
    e.deviceId ? `device ${String(e.deviceId).slice(0, 12)}` : undefined,
    e.displayName ? `“${e.displayName}”` : undefined,
    e.closed !== undefined ? `${e.closed} connection(s) closed` : undefined,
    e.by ? `by ${e.by}` : undefined,
    e.lockedOutMs ? `locked out ${Math.round(e.lockedOutMs / 1000)} s` : undefined,
    e.event?.startsWith("exposure") || e.event === "token.rotated" ? e.mode : undefined,
    e.url,
    e.reason
  ]
    .filter(Boolean)
    .join(" · ")

export const renderActivity = (reload: () => void): HTMLElement =>
  h(
    "section",
    { id: "activity" },
    h(
      "div",
      { className: "view-head" },
      h("h2", {}, "Activity"),
      h("button", { id: "refresh", onclick: reload }, "Refresh")
    ),
    h(
      "p",
      { className: "muted" },
      ...withCode(
        "Who signed in, who failed, who paired, who was cut off: the Gateway's audit log (also `openclaw audit` on the Gateway host). Never a secret, never a chat."
      )
    ),
    activityState.error ? h("p", { className: "error", id: "activity-error" }, activityState.error) : null,
    activityState.entries.length === 0
      ? h(
          "p",
          { className: "muted", id: "activity-empty" },
          activityState.loaded ? "Nothing recorded yet." : "Loading…"
        )
      : stackable(
          h(
            "table",
            { className: "table", id: "activity-table" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["Time", "Event", "From", "Client", "Role", "Details"].map((t) => h("th", {}, t))
              )
            ),
            h(
              "tbody",
              {},
              activityState.entries.map((e) =>
                h(
                  "tr",
                  { "data-event": e.event, className: KIND[e.event] ?? "" },
                  h("td", { className: "nowrap" }, when(e.ts)),
                  h("td", {}, h("code", {}, e.event)),
                  h("td", {}, [e.address, e.forwardedFor ? ` (for ${e.forwardedFor})` : ""].filter(Boolean).join("")),
                  h("td", {}, e.clientId ? `${e.clientId}${e.clientMode ? ` (${e.clientMode})` : ""}` : ""),
                  h("td", {}, e.role ?? ""),
                  h("td", {}, detail(e))
                )
              )
            )
          )
        )
  )
