/**
 * Credentials from the address bar and local storage: `#code=...` (a one-time sign-in code) is taken
 * once, kept in memory for one connect and removed from the address; `#token=...` is taken once,
 * stored and removed from the address; a token in the query string is ignored and removed; a `gatewayUrl` in the query
 * string is only noted, to be confirmed by the user (the stored token would go there).
 */
import type { Credentials } from "./connection.js"
import { defaultUrl } from "./state.js"

const AUTH_KEY = "openclaw.controlUi.auth"

export const loadCredentials = (): Credentials => {
  try {
    const c = JSON.parse(localStorage.getItem(AUTH_KEY) ?? "null") as Credentials | null
    if (c && (c.kind === "token" || c.kind === "password") && typeof c.secret === "string" && c.secret.length > 0)
      return c
  } catch {
    // unreadable: fall through
  }
  return { kind: "none" }
}
export const saveCredentials = (c: Credentials) => localStorage.setItem(AUTH_KEY, JSON.stringify(c))
export const forgetCredentials = () => localStorage.removeItem(AUTH_KEY)

/** Messages shown above the views (see shell.ts). */
export const notices: Array<string> = []
export const address = {
  pendingGatewayUrl: undefined as string | undefined,
  /** From a `#code=` link: used by the next connect only, never stored. */
  signInCode: undefined as string | undefined
}

/** Takes #code or #token once, strips credentials from the query string, and notes a gatewayUrl to confirm. */
export const readAddress = () => {
  const url = new URL(location.href)
  let changed = false
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ""))
  const fragCode = fragment.get("code")
  if (fragCode !== null) {
    if (fragCode.length > 0) address.signInCode = fragCode
    url.hash = ""
    changed = true
  }
  const fragToken = fragment.get("token")
  if (fragToken !== null && fragToken.length > 0) {
    saveCredentials({ kind: "token", secret: fragToken })
    url.hash = ""
    changed = true
  }
  for (const name of ["token", "password"]) {
    if (url.searchParams.has(name)) {
      url.searchParams.delete(name)
      changed = true
      notices.push(
        `A ${name} in the address's query string was ignored and removed: query strings end up in logs and history. Use the form below, or a #token=… link.`
      )
    }
  }
  const gw = url.searchParams.get("gatewayUrl")
  if (gw !== null) {
    url.searchParams.delete("gatewayUrl")
    changed = true
    if (gw !== defaultUrl) address.pendingGatewayUrl = gw
  }
  if (changed) history.replaceState(null, "", url.pathname + url.search + url.hash)
}
