/**
 * Bind modes on real interfaces: each scenario runs in a private network namespace (root, or
 * rootless with user namespaces) holding a veth pair with a Tailscale-range address and a
 * non-loopback "remote" address, so no address on the machine itself is touched.
 */
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { canUnshare } from "../support/netns.js"

const SCENARIO = path.join(__dirname, "scenario.mjs")
interface Setup {
  /** This node's tailnet address 100.101.102.103 on ts0 (default true). */
  readonly tailnet?: boolean
  /** 100.88.0.1, in Tailscale's range but not this node's (a carrier-grade NAT WAN address), on ts1, which Node lists first. */
  readonly cgnat?: boolean
  /** Remove 127.0.0.1 and ::1, so that binding loopback fails with EADDRNOTAVAIL ("auto" falls back). */
  readonly noLoopback?: boolean
}
const setup = ({ tailnet = true, cgnat = false, noLoopback = false }: Setup) =>
  [
    "ip link set lo up",
    "ip link add ts0 type veth peer name ts1",
    tailnet ? "ip addr add 100.101.102.103/32 dev ts0" : "true",
    "ip addr add 10.77.0.2/32 dev ts1",
    cgnat ? "ip addr add 100.88.0.1/32 dev ts1" : "true",
    "ip link set ts0 up",
    "ip link set ts1 up",
    noLoopback ? "ip addr del 127.0.0.1/8 dev lo && (ip -6 addr del ::1/128 dev lo || true)" : "true"
  ].join(" && ")

if (!canUnshare) console.warn("netns tests skipped: this machine does not allow `unshare --net` with veth pairs")

const run = (scenario: string, options: Setup = {}) =>
  JSON.parse(
    execFileSync(
      "unshare",
      ["--net", "sh", "-c", `${setup(options)} && exec "${process.execPath}" "${SCENARIO}" ${scenario}`],
      {
        encoding: "utf8",
        timeout: 60_000
      }
    )
  )

describe.skipIf(!canUnshare)("bind modes in a network namespace", () => {
  it("tailnet: binds only the Tailscale address; loopback does not answer; the local CLI follows; brute force is locked out by attempt 11", () => {
    const r = run("tailnet")
    expect(r.listening).toBe("ws://100.101.102.103:18789")
    expect(r.fromRemote).toEqual({ ok: true, peer: "10.77.0.2" })
    expect(r.loopback.error).toBe("ECONNREFUSED")
    expect(r.cliHealth.code).toBe(0)
    // The running Gateway's runtime record gives the CLI the Tailscale address it bound.
    expect(r.cliStatus.out).toMatch(/ws:\/\/100\.101\.102\.103:18789 \(running Gateway, PID \d+, port 18789\)/)
    expect(r.bruteForce).toEqual([...Array(10).fill("AUTH_TOKEN_MISMATCH"), "AUTH_RATE_LIMITED"])
    expect(r.rightTokenFromLockedAddress).toEqual({ code: "AUTH_RATE_LIMITED" })
    expect(r.otherAddressDuringLockout.ok).toBe(true)
  }, 60_000)

  it("lan: every interface answers", () => {
    const r = run("lan")
    expect(r.bindLine).toMatch(/^lan \(0\.0\.0\.0/)
    // The addresses another machine should use, LAN first, the tailnet one marked.
    expect(r.lanLines).toEqual([
      "From LAN:   ws://10.77.0.2:18790  (Control UI http://10.77.0.2:18790/)",
      "ws://100.101.102.103:18790  (Control UI http://100.101.102.103:18790/) via Tailscale"
    ])
    expect(r.viaTailnet).toEqual({ ok: true, peer: "10.77.0.2" })
    expect(r.viaLoopback.ok).toBe(true)
  }, 60_000)

  it("custom: only customBindHost answers, and the local CLI targets it", () => {
    const r = run("custom")
    expect(r.listening).toBe("ws://10.77.0.2:18791")
    expect(r.onCustom.ok).toBe(true)
    expect(r.onTailnet.error).toBe("ECONNREFUSED")
    expect(r.cliHealth.code).toBe(0)
  }, 60_000)

  it("tailnet with no Tailscale address: a clear error, not a fallback", () => {
    const r = run("no-tailnet", { tailnet: false })
    expect(r.run.code).toBe(1)
    expect(r.run.out).toContain('gateway.bind is "tailnet" but this machine has no Tailscale address')
  }, 60_000)

  it("tailnet binds the address `tailscale status` reports for this node (IPv4 first), not another 100.64.0.0/10 address", () => {
    const r = run("tailnet-reported", { cgnat: true })
    expect(r.listening).toBe("ws://100.101.102.103:18792")
    expect(r.onReported).toEqual({ ok: true, peer: "10.77.0.2" })
    expect(r.onCgnat.error).toBe("ECONNREFUSED")
    expect(r.out).not.toContain("range")
  }, 60_000)

  it("tailnet without the tailscale CLI falls back to the range scan and says so", () => {
    const r = run("tailnet-no-cli", { cgnat: true })
    expect(r.listening).toBe("ws://100.88.0.1:18793")
    expect(r.out).toContain('warning: gateway.bind "tailnet": the tailscale CLI was not found')
    expect(r.out).toContain("install the tailscale CLI")
  }, 60_000)

  it("tailnet: an address Tailscale reports but no interface holds is an error, not the range scan", () => {
    const r = run("tailnet-not-held")
    expect(r.run.code).toBe(1)
    expect(r.run.out).toContain("Tailscale reports 100.99.99.99 for this node, but no network interface here holds it")
  }, 60_000)

  it("lan refuses a short token with exit 78 and says how to make one", () => {
    const r = run("lan-weak")
    expect(r.run.code).toBe(78)
    expect(r.run.out).toContain(
      'the token from --token is 3 characters, too short (at least 24) for gateway.bind "lan"'
    )
    expect(r.run.out).toContain("openssl rand -hex 24")
  }, 60_000)

  it("auto that would fall back to every interface refuses a weak token (exit 78); with a strong one it binds and lists the LAN address", () => {
    const weak = run("auto-weak", { noLoopback: true })
    expect(weak.run.code).toBe(78)
    expect(weak.run.out).toContain(
      'the token from gateway.auth.token is 11 characters, too short (at least 24) for gateway.bind "auto", which fell back to every interface'
    )
    expect(weak.onRemote.error).toBe("ECONNREFUSED")
    const strong = run("auto-strong", { noLoopback: true })
    expect(strong.out).toContain('gateway.bind "auto": loopback could not be bound')
    expect(strong.out).toContain("From LAN:   ws://10.77.0.2:18797")
    expect(strong.onRemote).toEqual({ ok: true, peer: "10.77.0.2" })
  }, 60_000)
})
