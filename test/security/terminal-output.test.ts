/**
 * The pieces behind "output nobody can forge", one by one: the sanitiser (every code point, split
 * sequences, JSON), the Tailscale login a header may name, the audit line, and what the audit
 * attributes to a Tailscale user.
 */
import type * as http from "node:http"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { formatEntry } from "../../src/cli/audit.js"
import { forTerminal, jsonForTerminal, textForTerminal } from "../../src/protocol/client-text.js"
import { connectingFields, connectionFields } from "../../src/services/audit-log/fields.js"
import { connectionInfoOf } from "../../src/services/gateway/clients.js"
import type { Connection } from "../../src/services/gateway/connection.js"
import { looksLikeLogin, proxyHeaders } from "../../src/platform/http-peer.js"
import { HOSTILE, HOSTILE_DELTAS, RAW_CONTROL } from "../support/hostile-gateway.js"

/** Every BMP code point but the surrogates, and a few astral ones (format characters among them). */
const EVERY_CHAR = (() => {
  let s = ""
  for (let c = 0; c <= 0xffff; c++) if (c < 0xd800 || c > 0xdfff) s += String.fromCharCode(c)
  return `${s}\u{e0001}\u{1f600}\u{1d173}`
})()

describe("the terminal sanitiser", () => {
  it("forTerminal and textForTerminal leave no raw control of any code point; forTerminal keeps it one line", () => {
    expect(RAW_CONTROL.test(forTerminal(EVERY_CHAR))).toBe(false)
    expect(RAW_CONTROL.test(textForTerminal(EVERY_CHAR))).toBe(false)
    expect(forTerminal(EVERY_CHAR)).not.toMatch(/[\n\r\u2028\u2029]/)
    expect(forTerminal(HOSTILE)).toBe(
      "kiosk\\e[1A\\e[2K\\e]52;c;ZXZpbA==\\x07\\e]0;title\\x07\\e]8;;https://evil/\\x07x\\x9b2J\\u202egpj.exe\\r\\nFAKE LINE\\e[2J"
    )
  })

  it("is idempotent: what it printed once prints the same again (nested use is harmless)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        expect(forTerminal(forTerminal(s))).toBe(forTerminal(s))
        expect(textForTerminal(textForTerminal(s))).toBe(textForTerminal(s))
      })
    )
  })

  it("textForTerminal per delta is the same as on the whole reply, wherever a sequence is split", () => {
    const whole = HOSTILE_DELTAS.join("") + HOSTILE
    for (let cut = 0; cut <= whole.length; cut++)
      expect(textForTerminal(whole.slice(0, cut)) + textForTerminal(whole.slice(cut))).toBe(textForTerminal(whole))
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary" })), (deltas) => {
        expect(deltas.map(textForTerminal).join("")).toBe(textForTerminal(deltas.join("")))
      })
    )
  })

  it("jsonForTerminal is the same JSON value with C1, bidi and format characters escaped", () => {
    const value = { name: EVERY_CHAR, list: [HOSTILE, 1, null] }
    const json = jsonForTerminal(value, 2)
    expect(RAW_CONTROL.test(json)).toBe(false)
    expect(JSON.parse(json)).toEqual(value)
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(JSON.parse(jsonForTerminal(v))).toEqual(JSON.parse(JSON.stringify(v)))
      })
    )
  })
})

const request = (headers: Record<string, string>): http.IncomingMessage =>
  ({ headers, socket: { remoteAddress: "127.0.0.1" } }) as unknown as http.IncomingMessage

describe("a Tailscale login from a header", () => {
  it("looks like user@domain, without whitespace, controls or format characters", () => {
    for (const ok of ["alice@example.com", "Jürgen@example.de", "bob@github", "carol+x@passkey"])
      expect(looksLikeLogin(ok)).toBe(true)
    for (const bad of [
      "alice",
      "@example.com",
      "alice@",
      "a@b@c",
      "alice @example.com",
      "alice@example.com\n2099-01-01 auth.ok",
      "alice@example.com\u001b[2K",
      "alice@exam\u202eple.com",
      "alice@example.com\u009b2J",
      '"alice"@example.com',
      `${"a".repeat(300)}@example.com`
    ])
      expect(looksLikeLogin(bad)).toBe(false)
  })

  it("an RFC 2047 word that decodes to anything else is dropped, not passed on", () => {
    const forged = proxyHeaders(
      request({ "tailscale-user-login": "=?utf-8?q?x=0A2099-01-01T00:00:00.000Z__auth.ok=1B[2K@x?=" })
    )
    expect(forged?.login).toBeUndefined()
    expect(proxyHeaders(request({ "tailscale-user-login": "=?utf-8?q?J=C3=BCrgen@example.de?=" }))?.login).toBe(
      "Jürgen@example.de"
    )
  })
})

describe("the audit trail", () => {
  it("names a Tailscale login only when whois confirmed it (a Tailscale sign-in), never a header's claim", () => {
    const conn = (identity?: { login: string }) =>
      ({
        peer: { remoteAddress: "127.0.0.1", proxy: { login: "mallory@example.com", forwardedFor: "203.0.113.9" } },
        client: { id: "cli", mode: "cli" },
        role: "operator",
        identity
      }) as unknown as Connection
    expect(connectionFields(connectionInfoOf(conn())).tailscaleLogin).toBeUndefined()
    expect(connectionFields(connectionInfoOf(conn({ login: "alice@example.com" }))).tailscaleLogin).toBe(
      "alice@example.com"
    )
    // A refused connect is named by what it asked for, with the same rule for logins.
    expect(connectingFields(conn(), "cli", "cli", "operator").tailscaleLogin).toBeUndefined()
    expect(connectingFields(conn({ login: "alice@example.com" }), "cli", "cli", "operator").tailscaleLogin).toBe(
      "alice@example.com"
    )
  })

  it("prints every client-chosen field quoted or bare only when it looks like an address, id or login", () => {
    const line = formatEntry({
      ts: 0,
      event: "auth.fail",
      address: "127.0.0.1",
      forwardedFor: "203.0.113.9\u009b2J",
      clientId: "owner\n2099",
      clientMode: "cli\u202e",
      role: "operator",
      code: "AUTH_TOKEN_MISMATCH",
      tailscaleLogin: "alice@example.com",
      displayName: HOSTILE
    })
    expect(RAW_CONTROL.test(line)).toBe(false)
    expect(line).not.toContain("\n")
    expect(line).toContain('forwarded="203.0.113.9\\u009b2J"')
    expect(line).toContain('client="owner\\n2099"')
    expect(line).toContain('mode="cli\\u202e"')
    expect(line).toContain("from=127.0.0.1")
    expect(line).toContain("tailscale=alice@example.com")
  })
})
