/**
 * Tailnet bind with allowTailscale: the Gateway asks `tailscale whois` about the real TCP peer
 * (a tailnet address no header can forge) instead of trusting headers. Runs in a private network
 * namespace with tailnet-range addresses on a veth pair, and the fake tailscale on PATH.
 */
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { canUnshare } from "../support/netns.js"

const SCENARIO = path.join(__dirname, "tailnet-whois.mjs")
const setup = [
  "ip link set lo up",
  "ip link add ts0 type veth peer name ts1",
  // The Gateway's own address goes on ts1, which Node lists first (Binder takes the first one).
  "ip addr add 100.101.102.103/32 dev ts1",
  "ip addr add 100.64.0.7/32 dev ts0",
  "ip addr add 100.64.0.9/32 dev ts0",
  "ip addr add 100.64.0.99/32 dev ts0",
  "ip link set ts0 up",
  "ip link set ts1 up"
].join(" && ")

describe.skipIf(!canUnshare)("tailnet bind: whois of the TCP peer identifies the operator", () => {
  it("a tailnet user connects without a token; tagged, unknown, nodes and forged headers are refused with their codes", () => {
    const r = JSON.parse(
      execFileSync("unshare", ["--net", "sh", "-c", `${setup} && exec "${process.execPath}" "${SCENARIO}"`], {
        encoding: "utf8",
        timeout: 60_000
      })
    )
    expect(r.alice).toEqual({ ok: true, method: "tailscale", user: "alice@example.com" })
    expect(r.tagged).toEqual({ code: "AUTH_TAILSCALE_IDENTITY_MISSING" })
    expect(r.unknown).toEqual({ code: "AUTH_TAILSCALE_WHOIS_FAILED" })
    expect(r.aliceAsNode).toEqual({ code: "AUTH_TOKEN_MISSING" })
    expect(r.aliceWithToken).toMatchObject({ ok: true, method: "token" })
    // Headers from a non-loopback peer are never identity, and do not trigger a whois of the header address.
    expect(r.forgedHeaders).toEqual({ code: "AUTH_TAILSCALE_PROXY_MISSING" })
    expect(r.whoisCalls).toEqual(["100.64.0.7", "100.64.0.9", "100.64.0.99"])
  }, 60_000)
})
