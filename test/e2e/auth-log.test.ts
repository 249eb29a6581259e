/**
 * What `openclaw gateway run` logs about refused connects: with --verbose one line per refusal
 * (address, client, role, failure code), without it only one warning per rate-limit lock-out;
 * never the credential that was offered.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { RawClient } from "../support/gateway.js"

const TOKEN = "right-token-0123456789abcdef"
const WRONG = "wrong-guess-9f8e7d6c5b4a3210"

const gatewayEnv = () => {
  const dir = tempStateDir()
  fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway: { auth: { token: TOKEN } } }))
  return cliEnv(dir)
}

const waitFor = async (what: string, check: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe("gateway run: refused connects in the log", { timeout: 60_000 }, () => {
  let gw: GatewayProcess | undefined
  afterEach(async () => {
    await gw?.stop()
    gw = undefined
  })

  it("--verbose: a wrong token logs one line with the address, client, role and AUTH_TOKEN_MISMATCH; the token itself appears nowhere", async () => {
    const env = gatewayEnv()
    gw = await startGateway(["--port", String(await freePort()), "--verbose"], env)
    const url = `ws://127.0.0.1:${gw.port}`
    const r = await runCli(["health", "--url", url, "--token", WRONG], env)
    expect(r.code).toBe(1)
    await waitFor(`the refusal line:\n${gw.output()}`, () => /refused connect from/.test(gw!.output()))
    const lines = gw
      .output()
      .split("\n")
      .filter((l) => l.includes("refused connect from"))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/refused connect from 127\.0\.0\.1: "[^"]+" \("[^"]+", operator\): AUTH_TOKEN_MISMATCH/)
    // A node without a device identity: its own code, its role.
    const node = await RawClient.open(url)
    const res = await node.connect({
      role: "node",
      client: { id: "node-x", version: "1", platform: "linux", mode: "node" },
      auth: { token: TOKEN }
    })
    expect(res.ok).toBe(false)
    await waitFor(`the node's refusal line:\n${gw.output()}`, () =>
      /"node-x" \("node", node\): DEVICE_/.test(gw!.output())
    )
    node.ws.close()
    await gw.stop()
    for (const text of [gw.output(), r.stdout, r.stderr]) expect(text).not.toContain(WRONG)
  })

  it("without --verbose: no line per attempt, one warning when an address is locked out", async () => {
    const env = gatewayEnv()
    gw = await startGateway(["--port", String(await freePort())], env)
    const url = `ws://127.0.0.1:${gw.port}`
    const r = await runCli(["health", "--url", url, "--token", WRONG], env)
    expect(r.code).toBe(1)
    // A browser page on loopback (Origin header) is not exempt from the lock-out: its own 10 misses lock it
    // out (the CLI's miss above counts for the CLI, a client of its own); 3 more attempts are refused as
    // rate limited, with no further warning.
    const origin = url.replace("ws://", "http://")
    const codes: Array<string> = []
    for (let i = 0; i < 13; i++) {
      const c = await RawClient.open(url, { origin })
      codes.push((await c.connect({ auth: { token: `${WRONG}-${i}` } })).error.details.code)
      c.ws.close()
    }
    expect(codes).toEqual([...Array(10).fill("AUTH_TOKEN_MISMATCH"), ...Array(3).fill("AUTH_RATE_LIMITED")])
    await waitFor(`the lock-out warning:\n${gw.output()}`, () => /locked out/.test(gw!.output()))
    await gw.stop()
    const out = gw.output()
    expect(out).not.toContain("refused connect")
    const warnings = out.split("\n").filter((l) => l.includes("locked out"))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(
      /auth: 127\.0\.0\.1 locked out for 300 s after 10 failed attempts \(last: AUTH_TOKEN_MISMATCH\)/
    )
    expect(out).not.toContain(WRONG)
  })
})
