/**
 * The Control UI: overview, presence, pairing, devices, activity and WebChat over one WebSocket to
 * the Gateway that served this page. Plain TypeScript and DOM, bundled by esbuild
 * (scripts/build.mjs); this entry wires the views (views/, devices.ts, activity.ts) to the router and
 * starts the connection (session.ts).
 *
 * Credentials: `#code=...` (a one-time sign-in code from `openclaw dashboard`) is taken once and
 * exchanged in the next connect for this browser's own device token; `#token=...` is taken once, stored (localStorage) and removed from
 * the address bar; a token in the query string is ignored and removed; a `gatewayUrl` in the
 * query string is only connected to after the user confirms it (the stored token would go there).
 */
import { activityState, loadActivity, renderActivity } from "./activity.js"
import { address, loadCredentials, readAddress } from "./address.js"
import { type DevicesContext, devicesState, loadDevices, renderDevices } from "./devices.js"
import { redraw, replaceChildren } from "./dom.js"
import { refresh, registerViews, render, renderNav } from "./router.js"
import { connect, signOut, start, takeSignInCode } from "./session.js"
import { main, renderNotices, shell } from "./shell.js"
import { defaultUrl, state, webchatOnly } from "./state.js"
import { loadChat, renderChat } from "./views/chat.js"
import { loadOverview, renderOverview } from "./views/overview.js"
import { loadPairing, renderPairing } from "./views/pairing.js"
import { loadPresence, renderPresence } from "./views/presence.js"
import { showConfirm } from "./views/signin.js"

const devicesContext: DevicesContext = {
  request: (method, params) =>
    state.conn === undefined ? Promise.reject(new Error("not connected")) : state.conn.request(method, params),
  get ownDeviceId() {
    return state.identity?.deviceId
  },
  rerender: () => render()
}

registerViews({
  overview: { render: renderOverview, load: loadOverview },
  presence: { render: renderPresence, load: loadPresence },
  pairing: { render: renderPairing, load: loadPairing, fail: (m) => (state.pairingError = m) },
  devices: {
    render: () => redraw(main, () => renderDevices(devicesContext)),
    load: () => loadDevices(devicesContext),
    fail: (m) => (devicesState.error = m)
  },
  activity: {
    render: () =>
      replaceChildren(
        main,
        renderActivity(() => void refresh())
      ),
    load: (conn) => loadActivity((m, p) => conn.request(m, p)),
    fail: (m) => (activityState.error = m)
  },
  chat: { render: renderChat, load: loadChat, fail: (m) => (state.chatError = m) }
})

// ---------------------------------------------------------------- boot

shell(signOut)
readAddress()
renderNotices()
if (!webchatOnly) renderNav()
// Overview's uptime, "connected for" columns and the pairing countdowns tick along.
window.setInterval(() => {
  const pairingTicks = state.view === "pairing" && (state.pairing?.pending.length ?? 0) > 0
  if (
    state.hello !== undefined &&
    (pairingTicks || state.view === "presence" || (state.view === "overview" && state.status))
  ) {
    if (state.view === "overview" && state.status) state.status.uptimeMs += 1000
    render()
  }
}, 1000)
window.setInterval(() => state.view === "overview" && void refresh(), 15_000)
if (address.pendingGatewayUrl !== undefined) showConfirm(address.pendingGatewayUrl, start)
else start(defaultUrl)
// A #code= link (`openclaw dashboard`) or #token= link opened in a tab that already shows the UI
// changes only the hash, with no reload: take it as on load, and sign in with it at once.
window.addEventListener("hashchange", () => {
  if (!/(^#|&)(token|code)=./.test(location.hash)) return
  readAddress()
  if (address.pendingGatewayUrl !== undefined) return
  // A code is for the Gateway that served this page, not one chosen by a gatewayUrl link.
  const code = takeSignInCode()
  connect(loadCredentials(), state.url === defaultUrl ? code : undefined)
})
