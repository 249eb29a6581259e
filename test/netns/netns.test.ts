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
const setup = (tailnet: boolean) =>
  [
    "ip link set lo up",
    "ip link add ts0 type veth peer name ts1",
    tailnet ? "ip addr add 100.101.102.103/32 dev ts0" : "true",
    "ip addr add 10.77.0.2/32 dev ts1",
    "ip link set ts0 up",
    "ip link set ts1 up"
  ].join(" && ")

if (!canUnshare) console.warn("netns tests skipped: this machine does not allow `unshare --net` with veth pairs")

const run = (scenario: string, tailnet = true) =>
  JSON.parse(
    execFileSync("unshare", ["--net", "sh", "-c", `${setup(tailnet)} && exec "${process.execPath}" "${SCENARIO}" ${scenario}`], {
      encoding: "utf8",
      timeout: 60_000
    })
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
    const r = run("no-tailnet", false)
    expect(r.run.code).toBe(1)
    expect(r.run.out).toContain('gateway.bind is "tailnet" but this machine has no Tailscale address')
  }, 60_000)
})
