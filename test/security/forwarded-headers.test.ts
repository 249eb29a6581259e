/**
 * Forwarded headers are believed only from Tailscale Serve on this host, against the real
 * `openclaw gateway run` with Serve on: a loopback peer owned by root (as tailscaled is) is
 * trusted; the same headers from a process of another user (here `nobody`) are keyed on the
 * socket address and carry no identity. And the check itself (serve-peer.ts), with the peer's
 * owner and the trusted users injected. Run with
 *   npx vitest run test/security/forwarded-headers.test.ts
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import type * as net from "node:net"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fromServeProxy, type ServePeerCheck } from "../../src/services/gateway/serve-peer.js"
import { cliEnv, freePort, type GatewayProcess, startGateway, tempStateDir } from "../support/cli.js"
import { fakeTailscale, HOST as MAGIC_DNS } from "../support/tailscale.js"
import { nodeForOtherUsers, readableCopy } from "../support/other-user.js"

const TOKEN = "forwarded-token-0123456789abcdef"
const NOBODY = 65534

interface Attempt {
  readonly headers: Record<string, string>
  readonly auth?: Record<string, string>
}

const serveHeaders = (clientIp: string, extra: Record<string, string> = {}) => ({
  Host: MAGIC_DNS,
  "X-Forwarded-For": clientIp,
  "X-Forwarded-Proto": "https",
  "X-Forwarded-Host": MAGIC_DNS,
  ...extra
})

/** The connect answers to `attempts`, made one after another by a process running as `uid`. */
const connectAs = (uid: number, port: number, attempts: ReadonlyArray<Attempt>, script: string) =>
  new Promise<Array<any>>((resolve, reject) => {
    const child = spawn(nodeForOtherUsers(), [script, String(port), JSON.stringify(attempts)], {
      uid,
      gid: uid,
      cwd: path.dirname(script),
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (out += d))
    child.once("error", reject)
    child.once("exit", (code) =>
      code === 0
        ? resolve(
            out
              .trim()
              .split("\n")
              .map((l) => JSON.parse(l))
          )
        : reject(new Error(`connect script exited with ${code}: ${out}`))
    )
  })

const codeOf = (res: any) => (res.ok ? "ok" : (res.error?.details?.code ?? JSON.stringify(res)))

describe.skipIf(process.platform !== "linux" || process.getuid?.() !== 0)(
  "with Serve on, forwarded headers count only from a peer owned by root or tailscaled's user",
  { timeout: 60_000 },
  () => {
    let gw: GatewayProcess
    let script: string
    beforeAll(async () => {
      const dir = tempStateDir()
      script = readableCopy("forwarded-connect.mjs")
      const fake = fakeTailscale(dir, {
        dnsName: `${MAGIC_DNS}.`,
        whois: { "100.64.0.7": { login: "alice@example.com", name: "Alice" } }
      })
      const port = await freePort()
      fs.writeFileSync(
        path.join(dir, "openclaw.json"),
        JSON.stringify({
          gateway: {
            port,
            tailscale: { mode: "serve" },
            auth: {
              token: TOKEN,
              allowTailscale: true,
              rateLimit: { maxAttempts: 3, windowMs: 60_000, lockoutMs: 300_000 }
            }
          }
        })
      )
      gw = await startGateway(["--verbose"], cliEnv(dir, fake.env), 30_000)
    })
    afterAll(async () => void (await gw?.stop()))

    it("another user's forged X-Forwarded-For is keyed on loopback: made-up addresses do not buy more guesses, and a tailnet user is not locked out", async () => {
      const guesses = ["100.64.0.61", "100.64.0.62", "100.64.0.63", "100.64.0.64"].map((ip, i) => ({
        headers: serveHeaders(ip),
        auth: { token: `guess-${i}` }
      }))
      // Ten forged failures in a tailnet user's name, then that user through the real (root) peer.
      const forgedAsAlice = Array.from({ length: 4 }, (_, i) => ({
        headers: serveHeaders("100.64.0.7"),
        auth: { token: `alice-guess-${i}` }
      }))
      const untrusted = await connectAs(NOBODY, gw.port, [...guesses, ...forgedAsAlice], script)
      expect(untrusted.map(codeOf)).toEqual([
        "AUTH_TOKEN_MISMATCH",
        "AUTH_TOKEN_MISMATCH",
        "AUTH_TOKEN_MISMATCH",
        ...Array(5).fill("AUTH_RATE_LIMITED")
      ])
      // The lock-out is loopback's, not 100.64.0.7's: Alice through Serve (root-owned peer) gets in.
      const [alice] = await connectAs(
        0,
        gw.port,
        [{ headers: serveHeaders("100.64.0.7"), auth: { token: TOKEN } }],
        script
      )
      expect(codeOf(alice)).toBe("ok")
      expect(gw.output()).toContain("auth: 127.0.0.1 locked out")
    })

    it("another user's Tailscale-User-Login gets no identity (AUTH_TAILSCALE_PROXY_MISSING); the same headers from a root-owned peer are checked with whois and sign in", async () => {
      const asAlice = { headers: serveHeaders("100.64.0.7", { "Tailscale-User-Login": "alice@example.com" }) }
      const [forged] = await connectAs(NOBODY, gw.port, [asAlice], script)
      expect(codeOf(forged)).toBe("AUTH_TAILSCALE_PROXY_MISSING")
      expect(forged.error.message).toContain("tailscaled's user")
      const [real] = await connectAs(0, gw.port, [asAlice], script)
      expect(codeOf(real)).toBe("ok")
    })
  }
)

describe("fromServeProxy: the peer's owner decides (injected)", () => {
  const socket = (remoteAddress: string) =>
    ({ remoteAddress, remotePort: 40_000, localAddress: "127.0.0.1", localPort: 18_789 }) as net.Socket
  const check = (owner: number | "unknown" | undefined, trusted: ReadonlyArray<number> = [0]): ServePeerCheck => ({
    ownerOf: async () => owner,
    trustedUid: (uid) => trusted.includes(uid)
  })

  it("root or tailscaled's user: trusted; another user, or a peer no longer listed: not; no /proc: any loopback peer (today's rule); never a remote peer", async () => {
    expect(await fromServeProxy(check(0), socket("127.0.0.1"))).toBe(true)
    expect(await fromServeProxy(check(0), socket("::ffff:127.0.0.1"))).toBe(true)
    expect(await fromServeProxy(check(997, [0, 997]), socket("::1"))).toBe(true)
    expect(await fromServeProxy(check(1000), socket("127.0.0.1"))).toBe(false)
    expect(await fromServeProxy(check(undefined), socket("127.0.0.1"))).toBe(false)
    expect(await fromServeProxy(check("unknown"), socket("127.0.0.1"))).toBe(true)
    expect(await fromServeProxy(check(0), socket("100.64.0.7"))).toBe(false)
    expect(await fromServeProxy(check("unknown"), socket("192.0.2.1"))).toBe(false)
  })
})
