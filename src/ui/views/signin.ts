/** Sign-in form, and the confirmation asked before connecting to a gatewayUrl from a link. */
import { loadCredentials, saveCredentials } from "../address.js"
import type { Credentials } from "../connection.js"
import { h, replaceChildren, withCode } from "../dom.js"
import { banner, main, nav, pill } from "../shell.js"
import { defaultUrl, state, webchatOnly } from "../state.js"

/** The secret kind of the Gateway that served this page (its <meta name="openclaw-auth">). */
export const servedAuthKind = (): "token" | "password" | undefined => {
  const mode = document.querySelector<HTMLMetaElement>('meta[name="openclaw-auth"]')?.content
  return mode === "token" || mode === "password" ? mode : undefined
}

const TOKEN_HELP =
  "The token is `gateway.auth.token` in the Gateway's config file (`openclaw gateway run` prints where that is); a password works too."
const PASSWORD_HELP =
  "This Gateway takes a password: `gateway.auth.password` in its config file, or `OPENCLAW_GATEWAY_PASSWORD` in its environment."

/** `connect` signs in with what the user entered. */
export const showLogin = (error: string | undefined, connect: (c: Credentials) => void) => {
  const current = loadCredentials()
  // The Gateway that served this page says which secret it takes; another Gateway (a gatewayUrl
  // link) does not, so what was stored for it decides.
  const served = state.url === defaultUrl ? servedAuthKind() : undefined
  let kind: "token" | "password" = (served ?? current.kind) === "password" ? "password" : "token"
  const secret = h("input", {
    id: "auth-secret",
    type: "password",
    autocomplete: "off",
    placeholder: `paste the gateway ${kind}`,
    required: true
  })
  const radio = (k: "token" | "password", label: string) =>
    h(
      "label",
      { className: "radio" },
      h("input", {
        type: "radio",
        name: "auth-kind",
        id: `auth-kind-${k}`,
        value: k,
        checked: kind === k,
        onchange: () => ((kind = k), (secret.placeholder = `paste the gateway ${k}`))
      }),
      label
    )
  const form = h(
    "form",
    {
      id: "login-form",
      className: "card login",
      onsubmit: (e: Event) => {
        e.preventDefault()
        if (secret.value.length === 0) return
        const c: Credentials = { kind, secret: secret.value }
        saveCredentials(c)
        connect(c)
      }
    },
    h("h2", {}, "Sign in to this Gateway"),
    // What went wrong first, then where a sign-in link comes from (for whoever opened the bare address).
    error ? h("p", { id: "auth-error", className: "error", role: "alert" }, ...withCode(error)) : null,
    h(
      "p",
      { id: "auth-where" },
      ...withCode(
        `Run \`openclaw dashboard\` on the Gateway's machine: it opens a one-time sign-in link. Or paste the Gateway's ${kind} below.`
      )
    ),
    h(
      "p",
      { className: "muted" },
      ...withCode(
        `${served === "password" ? PASSWORD_HELP : TOKEN_HELP} ${
          state.identity === undefined
            ? "It is kept in this browser's local storage."
            : "Used once: this browser then gets a device token of its own and forgets the secret. The Devices screen (or `openclaw devices revoke`) signs it out."
        }`
      )
    ),
    h("div", { className: "row" }, radio("token", "Token"), radio("password", "Password")),
    secret,
    h("div", { className: "row" }, h("button", { type: "submit", id: "auth-submit", className: "primary" }, "Connect")),
    h("p", { className: "muted small" }, `Gateway: ${state.url}`)
  )
  replaceChildren(main, form)
  pill.className = "pill auth-failed"
  pill.textContent = "not signed in"
  banner.hidden = true
  if (!webchatOnly) replaceChildren(nav)
  secret.focus()
}

/** `start` connects to the URL the user chose. */
export const showConfirm = (url: string, start: (url: string) => void) => {
  replaceChildren(
    main,
    h(
      "div",
      { id: "confirm-url", className: "card warn" },
      h("h2", {}, "Connect to another Gateway?"),
      h("p", {}, "This link asks the Control UI to connect to:"),
      h("p", {}, h("code", { id: "confirm-target" }, url)),
      h("p", {}, "Only continue if you trust that address: your stored token or password would be sent to it."),
      h(
        "div",
        { className: "row" },
        h("button", { id: "confirm-yes", className: "danger", onclick: () => start(url) }, "Connect to it"),
        h(
          "button",
          { id: "confirm-no", className: "primary", onclick: () => start(defaultUrl) },
          "Stay on this Gateway"
        )
      )
    )
  )
}
