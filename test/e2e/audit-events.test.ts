/**
 * The audit events the devices test does not reach, on real processes: exposure.on/off around a
 * Tailscale Serve route (fake `tailscale`), a Serve sign-in with its Tailscale login and forwarded
 * address, auth.lockout exactly once, and a live password change in password mode.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { RawClient } from "../support/gateway.js"
import { fakeTailscale, HOST } from "../support/tailscale.js"

const TOKEN = "audit-events-token-0123456789abcdef"
const running: Array<GatewayProcess> = []
afterEach(async () => {
  for (const gw of running.splice(0)) await gw.stop("SIGKILL")
})

const readAudit = (dir: string): Array<any> =>
  fs
    .readFileSync(path.join(dir, "logs", "audit.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l))

const start = async (gateway: Record<string, unknown>, fake?: Parameters<typeof fakeTailscale>[1]) => {
  const dir = tempStateDir()
  const port = await freePort()
  fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway: { port, ...gateway } }), { mode: 0o600 })
  const f = fake === undefined ? undefined : fakeTailscale(dir, fake)
  const env = cliEnv(dir, f?.env ?? {})
  const gw = await startGateway([], env)
  running.push(gw)
  return { dir, port, env, gw, url: `ws://127.0.0.1:${port}` }
}

describe("audit events", { timeout: 90_000 }, () => {
  it("exposure.on when the Serve route is up, auth.ok with the Tailscale login and forwarded address, exposure.off then gateway.stop", async () => {
    const { dir, url, gw } = await start(
      { auth: { token: TOKEN }, tailscale: { mode: "serve", resetOnExit: true } },
      { whois: { "100.101.102.103": { login: "alice@example.com", name: "Alice" } } }
    )
    expect(readAudit(dir).map((e) => e.event)).toEqual(["gateway.start", "exposure.on"])
    expect(readAudit(dir)[1]).toMatchObject({ mode: "serve", url: `https://${HOST}/` })
    const c = await RawClient.open(url, {
      headers: {
        "Tailscale-User-Login": "alice@example.com",
        "Tailscale-User-Name": "Alice",
        "X-Forwarded-For": "100.101.102.103",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": HOST
      }
    })
    await c.event("connect.challenge")
    const res = await c.connect({ auth: undefined })
    expect(res.ok).toBe(true)
    // Written as the hello-ok goes out (this test reads from another process, so it may look a moment early).
    await expect
      .poll(() => readAudit(dir).at(-1))
      .toMatchObject({
        event: "auth.ok",
        address: "127.0.0.1",
        forwardedFor: "100.101.102.103",
        authMethod: "tailscale",
        tailscaleLogin: "alice@example.com"
      })
    c.ws.close()
    running.splice(running.indexOf(gw), 1)
    await gw.stop()
    expect(
      readAudit(dir)
        .slice(-2)
        .map((e) => e.event)
    ).toEqual(["exposure.off", "gateway.stop"])
  })

  it("auth.lockout is written once, when the lock-out starts; the refusals after it are auth.fail AUTH_RATE_LIMITED", async () => {
    const { dir, url, port } = await start({
      auth: { token: TOKEN, rateLimit: { maxAttempts: 3, windowMs: 60_000, lockoutMs: 60_000 } }
    })
    // A web page on loopback is not "local": it is locked out, not slowed down.
    const origin = `http://127.0.0.1:${port}`
    for (let i = 0; i < 5; i++) {
      const c = await RawClient.open(url, { origin })
      await c.connect({ auth: { token: `wrong-${i}-0123456789abcdef` } })
      c.ws.close()
    }
    const events = readAudit(dir).slice(1)
    expect(events.map((e) => `${e.event}:${e.code}`)).toEqual([
      "auth.fail:AUTH_TOKEN_MISMATCH",
      "auth.fail:AUTH_TOKEN_MISMATCH",
      "auth.fail:AUTH_TOKEN_MISMATCH",
      "auth.lockout:AUTH_TOKEN_MISMATCH",
      "auth.fail:AUTH_RATE_LIMITED",
      "auth.fail:AUTH_RATE_LIMITED"
    ])
    expect(events[3]).toMatchObject({ lockedOutMs: 60_000, address: "127.0.0.1" })
    expect(fs.readFileSync(path.join(dir, "logs", "audit.jsonl"), "utf8")).not.toContain("wrong-")
  })

  it("gateway password set: a Gateway in password mode switches to the new password without a restart", async () => {
    const OLD = "old-password-0123456789abcdef"
    const NEW = "new-password-fedcba9876543210"
    const { dir, url, env, gw } = await start({ auth: { mode: "password", password: OLD } })
    const signedIn = await RawClient.open(url)
    await signedIn.event("connect.challenge")
    expect((await signedIn.connect({ auth: { password: OLD } })).ok).toBe(true)
    const file = path.join(dir, "new-password.txt")
    fs.writeFileSync(file, `${NEW}\n`, { mode: 0o600 })
    const set = await runCli(["gateway", "password", "set", "--password-file", file], env)
    expect(set.code, set.stderr).toBe(0)
    expect(set.stdout).toContain("Set gateway.auth.password in")
    expect(set.stdout + set.stderr).not.toContain(OLD)
    expect(set.stdout).not.toContain(NEW)
    expect(await signedIn.waitClosed(3_000)).toEqual({
      code: 1008,
      reason: "gateway password rotated: sign in with the new password"
    })
    const old = await RawClient.open(url)
    expect((await old.connect({ auth: { password: OLD } })).error.details.code).toBe("AUTH_PASSWORD_MISMATCH")
    const fresh = await RawClient.open(url)
    expect((await fresh.connect({ auth: { password: NEW } })).ok).toBe(true)
    fresh.ws.close()
    expect(gw.child.exitCode).toBeNull()
    expect(readAudit(dir).find((e) => e.event === "token.rotated")).toMatchObject({
      what: "gateway.auth.password",
      closed: 1
    })
    const log = fs.readFileSync(path.join(dir, "logs", "audit.jsonl"), "utf8")
    for (const s of [OLD, NEW]) expect(log).not.toContain(s)
    // A short password is refused before anything is written.
    fs.writeFileSync(file, "short\n")
    const short = await runCli(["gateway", "password", "set", "--password-file", file], env)
    expect(short.code).toBe(2)
    expect(fs.readFileSync(path.join(dir, "openclaw.json"), "utf8")).toContain(NEW)
  })
})
