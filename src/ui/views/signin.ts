/** Sign-in form, and the confirmation asked before connecting to a gatewayUrl from a link. */
import { loadCredentials, saveCredentials } from "../address.js"
import type { Credentials } from "../connection.js"
import { h, replaceChildren } from "../dom.js"
import { banner, main, nav, pill } from "../shell.js"
import { defaultUrl, state, webchatOnly } from "../state.js"

/** Text with `commands` in backticks shown as code (as text nodes and <code> elements, never HTML). */
export const withCode = (text: string): Array<Node | string> =>
  text.split(/`([^`]+)`/).map((part, i) => (i % 2 === 1 ? h("code", {}, part) : part))

/** `connect` signs in with what the user entered. */
export const showLogin = (error: string | undefined, connect: (c: Credentials) => void) => {
  const current = loadCredentials()
  let kind: "token" | "password" = current.kind === "password" ? "password" : "token"
  const secret = h("input", {
    id: "auth-secret",
    type: "password",
    autocomplete: "off",
    placeholder: "paste the gateway token",
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
        "Run `openclaw dashboard` on the Gateway's machine: it opens a one-time sign-in link. Or paste the Gateway's token below."
      )
    ),
    h(
      "p",
      { className: "muted" },
      ...withCode(
        state.identity === undefined
          ? "The token is `gateway.auth.token` in the Gateway's config file (`openclaw gateway run` prints where that is); a password works too. It is kept in this browser's local storage."
          : "The token is `gateway.auth.token` in the Gateway's config file (`openclaw gateway run` prints where that is); a password works too. Used once: this browser then gets a device token of its own and forgets the secret. The Devices screen (or `openclaw devices revoke`) signs it out."
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
