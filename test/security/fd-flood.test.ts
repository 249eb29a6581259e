/**
 * Refused and timed-out sockets against the real `openclaw gateway run` (security.md section 8):
 * a socket the Gateway closes is gone after a short close grace, whatever the client does, and a
 * flood of refused connects under a lowered open-file limit leaves the owner a descriptor.
 * Figures are printed as "[figures] ..." lines; run with
 *   npx vitest run test/security/fd-flood.test.ts
 */
import type { ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { cliEnv, freePort, startGateway, tempStateDir } from "../support/cli.js"
import { authenticated } from "../support/gateway.js"
import { startFlooder } from "../support/flooder.js"

const TOKEN = "fd-flood-token-0123456789abcdef"
const FD_LIMIT = 256

const start = async (gateway: Record<string, unknown> = {}, launcher: ReadonlyArray<string> = []) => {
  const dir = tempStateDir()
  const port = await freePort()
  fs.writeFileSync(
    path.join(dir, "openclaw.json"),
    JSON.stringify({ gateway: { port, auth: { token: TOKEN }, ...gateway } })
  )
  const gw = await startGateway(["--verbose"], cliEnv(dir), 30_000, launcher)
  return { gw, url: `ws://127.0.0.1:${gw.port}` }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** One masked client text frame (payload under 126 bytes). */
const maskedFrame = (text: string) => {
  const payload = Buffer.from(text)
  const mask = randomBytes(4)
  return Buffer.concat([
    Buffer.from([0x81, 0x80 | payload.length]),
    mask,
    Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))
  ])
}

/**
 * A WebSocket opened by hand that never answers a close frame and never closes its end; it
 * resolves with how long after `from` (the connect frame, or the upgrade) the Gateway cut it.
 */
const stubbornSocket = async (port: number, connectFrame: string | undefined) => {
  const socket = net.connect({ host: "127.0.0.1", port })
  socket.on("error", () => {})
  let received = Buffer.alloc(0)
  socket.on("data", (d) => (received = Buffer.concat([received, d])))
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())))
  await new Promise((r) => socket.once("connect", r))
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n\r\n`
  )
  while (!received.includes("\r\n\r\n")) await sleep(10)
  expect(received.toString("latin1")).toMatch(/^HTTP\/1\.1 101/)
  const from = Date.now()
  if (connectFrame !== undefined) socket.write(maskedFrame(connectFrame))
  return { closedAfter: closed.then((at) => at - from), received: () => received }
}

const fdCount = (pid: number) => {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return -1
  }
}

/** GET /healthz; resolves with the round trip in ms, rejects after 3 s or on any error. */
const healthz = (port: number) =>
  new Promise<number>((resolve, reject) => {
    const t0 = Date.now()
    const req = http.get({ host: "127.0.0.1", port, path: "/healthz", agent: false, timeout: 3_000 }, (res) => {
      res.resume()
      res.on("end", () => (res.statusCode === 200 ? resolve(Date.now() - t0) : reject(new Error(`${res.statusCode}`))))
    })
    req.on("timeout", () => req.destroy(new Error("no answer within 3 s")))
    req.on("error", reject)
  })

describe("a socket the Gateway closes is gone after a short grace", { timeout: 60_000 }, () => {
  it("a refused connect whose client never answers the close frame is cut within seconds (ws alone waits 30 s); so is one closed at the handshake timeout", async () => {
    const g = await start({ handshakeTimeoutMs: 2_000 })
    try {
      const refused = await stubbornSocket(
        g.gw.port,
        JSON.stringify({ type: "req", id: "1", method: "connect", params: {} })
      )
      const silent = await stubbornSocket(g.gw.port, undefined)
      const [refusedMs, silentMs] = await Promise.all([refused.closedAfter, silent.closedAfter])
      console.log(
        `[figures] close grace: refused connect cut ${refusedMs} ms after its connect frame; silent WebSocket cut ${silentMs} ms after the upgrade (handshake timeout 2000 ms)`
      )
      expect(refused.received().toString("latin1")).toContain("invalid connect params")
      expect(refusedMs).toBeLessThan(5_000)
      expect(silent.received().toString("latin1")).toContain("handshake timeout")
      expect(silentMs).toBeLessThan(7_000)
    } finally {
      await g.gw.stop()
    }
  })
})

describe(`a flood of refused connects under a ${FD_LIMIT} open-file limit`, { timeout: 120_000 }, () => {
  const children: Array<ChildProcess> = []
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL")
  })

  const flood = (port: number, count: number) => startFlooder("refused-flood.mjs", port, count, "refused", children)

  it("refused connects that never answer the close frame: the Gateway's fds stay well inside the limit, the owner connects and /healthz answers throughout", async () => {
    const g = await start({}, ["prlimit", `--nofile=${FD_LIMIT}:${FD_LIMIT}`])
    const pid = g.gw.child.pid!
    try {
      expect(fs.readFileSync(`/proc/${pid}/limits`, "utf8")).toMatch(new RegExp(`Max open files\\s+${FD_LIMIT}\\s`))
      const baseline = fdCount(pid)
      const f = await flood(g.gw.port, 600)
      let peak = 0
      const sampler = setInterval(() => (peak = Math.max(peak, fdCount(pid))), 20)
      const healthTimes: Array<number> = []
      const healthFailures: Array<string> = []
      const connectTimes: Array<number> = []
      const connectFailures: Array<string> = []
      const until = Date.now() + 10_000
      const healthLoop = (async () => {
        while (Date.now() < until) {
          await healthz(g.gw.port).then(
            (ms) => healthTimes.push(ms),
            (e: Error) => healthFailures.push(e.message)
          )
          await sleep(200)
        }
      })()
      const ownerLoop = (async () => {
        while (Date.now() < until) {
          const t0 = Date.now()
          await authenticated(g.url, { auth: { token: TOKEN } }).then(
            (c) => {
              connectTimes.push(Date.now() - t0)
              c.ws.close()
            },
            (e: Error) => connectFailures.push(e.message)
          )
          await sleep(400)
        }
      })()
      await Promise.all([healthLoop, ownerLoop])
      clearInterval(sampler)
      const stats = f.stats()
      f.child.kill("SIGKILL")
      const max = (xs: ReadonlyArray<number>) => Math.max(0, ...xs)
      console.log(
        `[figures] refused-connect flood (600 at a time; ${stats}: opened, closed by the Gateway, live) under nofile ${FD_LIMIT}: Gateway fds baseline ${baseline}, peak ${peak}; owner connects ${connectTimes.length} ok (max ${max(connectTimes)} ms), ${connectFailures.length} failed; /healthz ${healthTimes.length} ok (max ${max(healthTimes)} ms), ${healthFailures.length} failed`
      )
      // The flood really ran: the Gateway refused and cut hundreds of sockets.
      expect(Number(stats.split(" ")[2] ?? 0)).toBeGreaterThan(500)
      expect(connectFailures).toEqual([])
      expect(healthFailures).toEqual([])
      expect(connectTimes.length).toBeGreaterThan(5)
      expect(max(connectTimes)).toBeLessThan(3_000)
      expect(peak).toBeLessThan(FD_LIMIT - 48)
      expect(g.gw.child.exitCode).toBeNull()
    } finally {
      await g.gw.stop()
    }
  })
})
