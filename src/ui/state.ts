/** The Control UI's one shared state: which view is shown, the connection, and what the Gateway last told us. */
import type { ConnState, GatewayConnection, HelloOk } from "./connection.js"
import type { DeviceIdentity } from "./device-identity.js"

export type View = "overview" | "presence" | "pairing" | "devices" | "activity" | "chat"

export const webchatOnly = /\/webchat\/?$/.test(location.pathname)
export const mode = webchatOnly ? "webchat" : "ui"

/** The WebSocket on this page's own origin and path (works under any basePath and behind a proxy). */
export const defaultUrl = (() => {
  const u = new URL(".", location.href)
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:"
  u.hash = ""
  u.search = ""
  return u.toString()
})()

export interface ChatLine {
  id: string
  role: "user" | "assistant" | "error"
  text: string
  runId?: string
  state?: "streaming" | "final" | "aborted" | "error"
  source?: string
}

export const state = {
  view: (webchatOnly
    ? "chat"
    : ((sessionStorage.getItem("openclaw.controlUi.view") as View | null) ?? "overview")) as View,
  url: defaultUrl,
  /** This browser's device identity (none without WebCrypto Ed25519 on a secure page). */
  identity: undefined as DeviceIdentity | undefined,
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

export const hasMethod = (name: string) => state.hello?.features.methods.includes(name) ?? false
