/** The page's one connection to the Gateway: what its state changes and events do to the views. */
import { addActivity } from "./activity.js"
import { address, forgetCredentials, loadCredentials, notices } from "./address.js"
import { type Credentials, GatewayConnection } from "./connection.js"
import { forgetDeviceToken, loadDeviceToken, loadOrCreateIdentity, saveDeviceToken } from "./device-identity.js"
import { h, replaceChildren } from "./dom.js"
import { refresh, render, renderNav } from "./router.js"
import { banner, main, renderConnState, renderNotices } from "./shell.js"
import { defaultUrl, mode, state, webchatOnly } from "./state.js"
import { onChat, renderChatControls } from "./views/chat.js"
import { renderOverview } from "./views/overview.js"
import { refreshPendingCount } from "./views/pairing.js"
import { servedAuthKind, showLogin } from "./views/signin.js"

/** The code of a `#code=` link, handed out once (and a notice where the page cannot use it). */
export const takeSignInCode = (): string | undefined => {
  const code = address.signInCode
  address.signInCode = undefined
  if (code !== undefined && state.identity === undefined) {
    notices.push(
      "This sign-in link needs a page that can keep a key of its own (https, or http on localhost): open the Control UI that way, or sign in with the Gateway's token."
    )
    renderNotices()
    return undefined
  }
  return code
}

export const connect = (credentials: Credentials, signInCode?: string) => {
  state.conn?.stop()
  const conn = new GatewayConnection({
    url: state.url,
    credentials,
    ...(signInCode === undefined ? {} : { signInCode }),
    mode,
    ...(state.identity === undefined
      ? {}
      : {
          identity: state.identity,
          deviceToken: () => loadDeviceToken(state.url, state.identity!.deviceId),
          // From now on this browser signs in with its own device token and no longer keeps the shared secret.
          onDeviceToken: (token: string) => (
            saveDeviceToken(state.url, state.identity!.deviceId, token),
            forgetCredentials()
          )
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
        if (s.error.details?.code === "AUTH_SIGN_IN_CODE_INVALID") {
          // The same link opened twice in a browser that the first opening signed in: it has its own token.
          if (state.identity !== undefined && loadDeviceToken(state.url, state.identity.deviceId) !== undefined) {
            notices.push(
              "This sign-in link was already used or expired; this browser signed in with its own device token instead."
            )
            renderNotices()
            return connect(credentials)
          }
          return showLogin(
            `This sign-in link was already used or expired: run \`openclaw dashboard\` again on the Gateway's machine for a new one, or paste the Gateway's ${servedAuthKind() ?? "token or password"} below.`,
            connect
          )
        }
        if (s.error.details?.code === "AUTH_DEVICE_TOKEN_MISMATCH") {
          forgetDeviceToken()
          return showLogin(
            "This browser was signed out: its device was revoked or removed on the Gateway. Sign in again with the Gateway's token or password.",
            connect
          )
        }
        showLogin(
          s.error.details?.code?.endsWith("_MISSING") && credentials.kind === "none" ? undefined : s.error.message,
          connect
        )
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

/**
 * "Forget credentials": this page signs out now. The connection stops without a state change of
 * its own, so the page drops what it knew of the Gateway here: nothing of it stays on screen or
 * comes back with the next tick's redraw.
 */
export const signOut = () => {
  forgetCredentials()
  forgetDeviceToken()
  state.conn?.stop()
  state.conn = undefined
  state.hello = undefined
  state.connState = { kind: "auth-failed", error: { code: "INVALID_REQUEST", message: "signed out" } }
  renderConnState()
  showLogin(undefined, connect)
}

export const onEvent = (event: string, payload: any) => {
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
      state.shutdown =
        typeof payload?.reason === "string" && payload.reason.length > 0 ? payload.reason : "no reason given"
      replaceChildren(
        banner,
        `The Gateway is shutting down (${state.shutdown}); this page will reconnect when it is back.`
      )
      banner.hidden = false
      return
  }
}

export const start = (url: string) => {
  let valid: boolean
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
  address.pendingGatewayUrl = undefined
  replaceChildren(main, h("p", { className: "muted" }, "Connecting…"))
  void loadOrCreateIdentity().then((id) => {
    state.identity = id
    // A code is for the Gateway that served this page: never handed to another one (gatewayUrl).
    const code = takeSignInCode()
    connect(loadCredentials(), url === defaultUrl ? code : undefined)
  })
}
