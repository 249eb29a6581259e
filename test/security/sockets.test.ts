/**
 * Hostile sockets against the real `openclaw gateway run` (security.md section 8): stage
 * deadlines, fair admission under a flood, the pre-auth frame limit on the wire and the memory it
 * saves, the Host allow-list (DNS rebinding), and rate limits keyed on who is asking.
 * Figures are printed as "[figures] ..." lines; run with
 *   npx vitest run test/security/sockets.test.ts
 */
import type { ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import * as tls from "node:tls"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, startGateway, tempStateDir } from "../support/cli.js"
import { authenticated, RawClient } from "../support/gateway.js"
import { fakeTailscale, HOST as MAGIC_DNS } from "../support/tailscale.js"
import { startFlooder } from "../support/flooder.js"

const TOKEN = "sockets-token-0123456789abcdef"

const start = async (
  gateway: Record<string, unknown> = {},
  extraEnv: Record<string, string> = {},
  dir = tempStateDir()
) => {
  const port = await freePort()
  fs.writeFileSync(
    path.join(dir, "openclaw.json"),
    JSON.stringify({ gateway: { port, auth: { token: TOKEN }, ...gateway } })
  )
  const env = cliEnv(dir, extraEnv)
  const gw = await startGateway(["--verbose"], env, 30_000)
  return { gw, env, dir, url: `ws://127.0.0.1:${gw.port}` }
}

const params = (overrides: Record<string, unknown> = {}) => ({ auth: { token: TOKEN }, ...overrides })

/** A raw TCP client that records what it receives and when it was closed. */
const rawSocket = (port: number, options: { tls?: boolean; localAddress?: string } = {}) => {
  const started = Date.now()
  let received = Buffer.alloc(0)
  let closedAt: number | undefined
  const socket: net.Socket = options.tls
    ? tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false })
    : net.connect({ host: "127.0.0.1", port, ...(options.localAddress ? { localAddress: options.localAddress } : {}) })
  socket.on("data", (d) => (received = Buffer.concat([received, d])))
  socket.on("error", () => {})
  const closed = new Promise<number>((resolve) => socket.on("close", () => resolve((closedAt = Date.now()) - started)))
  return {
    socket,
    closed,
    received: () => received,
    text: () => received.toString("latin1"),
    isClosed: () => closedAt !== undefined
  }
}

/** Writes `chunks` one every `everyMs` until the socket closes. */
const trickle = (socket: net.Socket, first: string, everyMs = 500) => {
  socket.write(first)
  let n = 0
  const timer = setInterval(
    () => (socket.writable ? socket.write(`X-Slow-${n++}: a\r\n`) : clearInterval(timer)),
    everyMs
  )
  socket.on("close", () => clearInterval(timer))
}

const UPGRADE = (host: string, extra = "") =>
  `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n${extra}`

/** Close frames the server sent on a raw WebSocket: [code, reason]. */
const closeFrames = (data: Buffer): Array<[number, string]> => {
  const head = data.indexOf("\r\n\r\n")
  const out: Array<[number, string]> = []
  let at = head < 0 ? data.length : head + 4
  while (at + 2 <= data.length) {
    const opcode = data[at]! & 0x0f
    let len = data[at + 1]! & 0x7f
    let off = at + 2
    if (len === 126) {
      len = data.readUInt16BE(off)
      off += 2
    } else if (len === 127) {
      len = Number(data.readBigUInt64BE(off))
      off += 8
    }
    if (off + len > data.length) break
    if (opcode === 0x8) out.push([data.readUInt16BE(off), data.subarray(off + 2, off + len).toString("utf8")])
    at = off + len
  }
  return out
}

/** Opens a raw WebSocket (no library: nothing is buffered on our side) and waits for the 101. */
const rawWebSocket = async (port: number) => {
  const c = rawSocket(port)
  await new Promise<void>((resolve) => c.socket.once("connect", () => resolve()))
  c.socket.write(`${UPGRADE(`127.0.0.1:${port}`)}\r\n`)
  const deadline = Date.now() + 20_000
  while (!c.text().includes("\r\n\r\n")) {
    if (Date.now() > deadline || c.isClosed()) throw new Error(`no upgrade: ${c.text().slice(0, 200)}`)
    await new Promise((r) => setTimeout(r, 10))
  }
  expect(c.text()).toMatch(/^HTTP\/1\.1 101/)
  return c
}

/** Sends one masked text frame header announcing `length` bytes, then streams up to `send` bytes of it. */
const sendHugeFrame = async (socket: net.Socket, length: number, send: number) => {
  const header = Buffer.alloc(14)
  header[0] = 0x81
  header[1] = 0x80 | 127
  header.writeBigUInt64BE(BigInt(length), 2)
  randomBytes(4).copy(header, 10)
  socket.write(header)
  const chunk = Buffer.alloc(1024 * 1024, 0x20)
  for (let sent = 0; sent < send && socket.writable; sent += chunk.length) {
    if (!socket.write(chunk.subarray(0, Math.min(chunk.length, send - sent)))) {
      await new Promise<void>((resolve) => {
        socket.once("drain", resolve)
        socket.once("close", resolve)
      })
    }
  }
}

const rssMiB = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))
  return m === null ? 0 : Number(m[1]) / 1024
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("every stage has a deadline", { timeout: 60_000 }, () => {
  let g: Awaited<ReturnType<typeof start>>
  beforeAll(async () => void (g = await start()))
  afterAll(async () => void (await g?.gw.stop()))

  it("a silent TCP socket is cut (first byte: 5 s); a trickled HTTP head, WebSocket upgrade head or keep-alive head gets 408 and is cut within 15 s", async () => {
    const silent = rawSocket(g.gw.port)
    const http = rawSocket(g.gw.port)
    trickle(http.socket, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${g.gw.port}\r\n`)
    const upgrade = rawSocket(g.gw.port)
    trickle(upgrade.socket, UPGRADE(`127.0.0.1:${g.gw.port}`))
    const keepAlive = rawSocket(g.gw.port)
    keepAlive.socket.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${g.gw.port}\r\n\r\n`)
    await new Promise((r) => keepAlive.socket.once("data", r))
    trickle(keepAlive.socket, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${g.gw.port}\r\n`)
    const [silentMs, httpMs, upgradeMs, keepAliveMs] = await Promise.all([
      silent.closed,
      http.closed,
      upgrade.closed,
      keepAlive.closed
    ])
    console.log(
      `[figures] deadlines: silent socket cut after ${silentMs} ms; trickled heads cut after ${httpMs} (HTTP), ${upgradeMs} (upgrade), ${keepAliveMs} ms (keep-alive)`
    )
    expect(silentMs).toBeLessThan(9_000)
    expect(silent.received().length).toBe(0)
    for (const [c, ms] of [
      [http, httpMs],
      [upgrade, upgradeMs]
    ] as const) {
      expect(ms).toBeLessThan(15_000)
      expect(c.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout/)
      expect(c.text()).toContain("gateway.handshakeTimeoutMs")
    }
    expect(keepAliveMs).toBeLessThan(16_000)
    expect(keepAlive.text()).toMatch(/^HTTP\/1\.1 200[\s\S]*HTTP\/1\.1 408 Request Timeout/)
    // The Gateway still serves.
    ;(await authenticated(g.url, params())).ws.close()
  })

  it("with TLS: a stalled TLS handshake and a silent TLS session are cut too", async () => {
    const t = await start({ tls: { enabled: true } })
    try {
      const partialHello = rawSocket(t.gw.port)
      partialHello.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]))
      const session = rawSocket(t.gw.port, { tls: true })
      await new Promise((r) => session.socket.once("secureConnect", r))
      const [helloMs, sessionMs] = await Promise.all([partialHello.closed, session.closed])
      console.log(
        `[figures] deadlines (TLS): stalled handshake cut after ${helloMs} ms, silent TLS session after ${sessionMs} ms`
      )
      expect(helloMs).toBeLessThan(15_000)
      expect(sessionMs).toBeLessThan(15_000)
      expect(session.text()).toMatch(/^HTTP\/1\.1 408/)
    } finally {
      await t.gw.stop()
    }
  })
})

describe("fair admission under a flood", { timeout: 120_000 }, () => {
  const children: Array<ChildProcess> = []
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL")
  })

  const flood = (port: number, count: number) => startFlooder("flood.mjs", port, count, "open ", children)

  it("2,000 idle sockets from 127.0.0.1, reopened as fast as they are closed: a real client connects within 1 s in each of 20 tries", async () => {
    const g = await start()
    try {
      const f = await flood(g.gw.port, 2_000)
      // A sustained flood: every one of the 2,000 has been closed and reopened twice. (A client that
      // arrives with the very first burst of 2,000 connects queues behind them in the kernel.)
      const closedSoFar = () => Number(f.stats().split(" ")[2] ?? 0)
      for (const until = Date.now() + 30_000; closedSoFar() < 4_000 && Date.now() < until;) await sleep(100)
      expect(closedSoFar()).toBeGreaterThanOrEqual(4_000)
      const times: Array<number> = []
      for (let i = 0; i < 20; i++) {
        const t0 = Date.now()
        const c = await authenticated(g.url, params())
        times.push(Date.now() - t0)
        c.ws.close()
        await sleep(100)
      }
      const stats = f.stats()
      f.child.kill("SIGKILL")
      const sorted = [...times].sort((a, b) => a - b)
      console.log(
        `[figures] flood of 2000 idle sockets (${stats}: opened, closed by the Gateway, live): connect times ms ${times.join(",")}; median ${sorted[10]}, max ${sorted[19]}`
      )
      expect(sorted[19]).toBeLessThan(1_000)
      expect(g.gw.output()).toContain("too many unauthenticated connections")
      expect(g.gw.child.exitCode).toBeNull()
    } finally {
      await g.gw.stop()
    }
  })
})

describe("the pre-auth frame limit is enforced on the wire", { timeout: 120_000 }, () => {
  let g: Awaited<ReturnType<typeof start>>
  beforeAll(async () => void (g = await start()))
  afterAll(async () => void (await g?.gw.stop()))

  it("a frame announcing 20 MiB before auth is refused from its header (1009 'preauth payload too large'); after auth a 2 MiB request is served", async () => {
    const c = await rawWebSocket(g.gw.port)
    // Only 256 KiB of the 20 MiB are sent: the answer cannot wait for the rest.
    await sendHugeFrame(c.socket, 20 * 1024 * 1024, 256 * 1024)
    const deadline = Date.now() + 10_000
    while (closeFrames(c.received()).length === 0 && Date.now() < deadline) await sleep(20)
    expect(closeFrames(c.received())).toEqual([[1009, "preauth payload too large"]])
    c.socket.destroy()
    const client = await authenticated(g.url, params())
    const big = await client.request("health", { padding: "x".repeat(2 * 1024 * 1024) })
    expect(big.ok).toBe(true)
    client.ws.close()
  })

  it("32 unauthenticated clients each sending a 20 MiB frame: peak and settled RSS of the Gateway stay bounded", async () => {
    const pid = g.gw.child.pid!
    // Warm up (a few real connects) before the baseline.
    for (let i = 0; i < 3; i++) (await authenticated(g.url, params())).ws.close()
    await sleep(500)
    const baseline = rssMiB(pid)
    let peak = baseline
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20)
    const clients = await Promise.all(Array.from({ length: 32 }, () => rawWebSocket(g.gw.port)))
    const t0 = Date.now()
    await Promise.all(clients.map((c) => sendHugeFrame(c.socket, 20 * 1024 * 1024, 20 * 1024 * 1024)))
    const refused = clients.filter((c) => closeFrames(c.received()).some(([code]) => code === 1009)).length
    for (const c of clients) c.socket.destroy()
    const sentMs = Date.now() - t0
    await sleep(5_000)
    clearInterval(sampler)
    const settled = rssMiB(pid)
    console.log(
      `[figures] 32 x 20 MiB pre-auth frames: RSS baseline ${baseline.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB, settled ${settled.toFixed(0)} MiB (5 s after); ${refused}/32 saw 1009 before they finished sending (${sentMs} ms)`
    )
    expect(refused).toBe(32)
    expect(peak - baseline).toBeLessThan(64)
    expect(settled - baseline).toBeLessThan(32)
    ;(await authenticated(g.url, params())).ws.close()
  })
})

describe("Host allow-list before the upgrade and for the Control UI (DNS rebinding)", { timeout: 60_000 }, () => {
  let g: Awaited<ReturnType<typeof start>>
  let fake: ReturnType<typeof fakeTailscale>
  beforeAll(async () => {
    const dir = tempStateDir()
    fake = fakeTailscale(dir, { dnsName: `${MAGIC_DNS}.` })
    g = await start(
      { controlUi: { allowedOrigins: ["https://ui.example.com"] }, tailscale: { mode: "serve" } },
      fake.env,
      dir
    )
  })
  afterAll(async () => void (await g?.gw.stop()))

  const get = async (host: string, pathname = "/") => {
    const c = rawSocket(g.gw.port)
    c.socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
    await c.closed
    return c.text()
  }
  const browserUpgrade = (host: string, origin: string, headers: Record<string, string> = {}) =>
    RawClient.open(g.url, { headers: { Host: host, ...headers }, origin })

  it("the Control UI is served for own names only; another name gets 403 naming gateway.controlUi.allowedOrigins; /health answers any", async () => {
    for (const host of [
      `127.0.0.1:${g.gw.port}`,
      `localhost:${g.gw.port}`,
      `[::1]:${g.gw.port}`,
      "ui.example.com",
      MAGIC_DNS
    ]) {
      expect(await get(host), host).toMatch(/^HTTP\/1\.1 200/)
    }
    const refused = await get(`rebind.attacker.example:${g.gw.port}`)
    expect(refused).toMatch(/^HTTP\/1\.1 403/)
    expect(refused).toContain("gateway.controlUi.allowedOrigins")
    expect(refused).toContain("rebind.attacker.example")
    expect(await get(`rebind.attacker.example:${g.gw.port}`, "/health")).toMatch(/^HTTP\/1\.1 200/)
  })

  it("a browser upgrade whose Host is an attacker's name is refused (403), even with the matching Origin; own names and the MagicDNS name pass", async () => {
    const evil = `rebind.attacker.example:${g.gw.port}`
    await expect(browserUpgrade(evil, `http://${evil}`)).rejects.toThrow("HTTP 403")
    await expect(
      browserUpgrade("other.tail9999.ts.net", "https://other.tail9999.ts.net", {
        "X-Forwarded-For": "100.64.0.9",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "other.tail9999.ts.net"
      })
    ).rejects.toThrow("HTTP 403")
    const own = await browserUpgrade(`127.0.0.1:${g.gw.port}`, `http://127.0.0.1:${g.gw.port}`)
    const serve = await browserUpgrade(MAGIC_DNS, `https://${MAGIC_DNS}`, {
      "X-Forwarded-For": "100.64.0.9",
      "X-Forwarded-Proto": "https",
      "X-Forwarded-Host": MAGIC_DNS
    })
    await own.event("connect.challenge")
    await serve.event("connect.challenge")
    own.ws.close()
    serve.ws.close()
    // Not a browser (no Origin): the Host is the client's own choice and is not checked.
    ;(await authenticated(g.url, params())).ws.close()
  })
})

describe("rate limits keyed on who is asking", { timeout: 90_000 }, () => {
  let g: Awaited<ReturnType<typeof start>>
  beforeAll(async () => {
    const dir = tempStateDir()
    const fake = fakeTailscale(dir, { dnsName: `${MAGIC_DNS}.` })
    g = await start(
      {
        tailscale: { mode: "serve" },
        auth: {
          token: TOKEN,
          allowTailscale: false,
          rateLimit: { maxAttempts: 3, windowMs: 60_000, lockoutMs: 300_000 }
        },
        handshakeTimeoutMs: 3_000
      },
      fake.env,
      dir
    )
  })
  afterAll(async () => void (await g?.gw.stop()))

  /** A connect as Tailscale Serve forwards it: loopback peer with X-Forwarded-For/-Proto/-Host. */
  const viaServe = async (clientIp: string, token: string) => {
    const c = await RawClient.open(g.url, {
      headers: {
        Host: MAGIC_DNS,
        "X-Forwarded-For": clientIp,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": MAGIC_DNS
      }
    })
    await c.event("connect.challenge")
    const res = await c.connect(params({ auth: { token } }))
    c.ws.close()
    return res
  }
  const direct = async (token: string, options: { origin?: string; localAddress?: string } = {}) => {
    const c = await RawClient.open(g.url, options)
    await c.event("connect.challenge")
    const res = await c.connect(params({ auth: { token } }))
    c.ws.close()
    return res
  }

  it("a brute force through the Serve proxy locks out only that client: the owner's direct client and other Serve users get in; their success does not wipe its lock-out", async () => {
    const codes: Array<string> = []
    for (let i = 0; i < 4; i++) codes.push((await viaServe("100.64.0.66", `guess-${i}`)).error.details.code)
    expect(codes).toEqual(["AUTH_TOKEN_MISMATCH", "AUTH_TOKEN_MISMATCH", "AUTH_TOKEN_MISMATCH", "AUTH_RATE_LIMITED"])
    expect((await direct(TOKEN)).ok).toBe(true)
    expect((await viaServe("100.64.0.5", TOKEN)).ok).toBe(true)
    expect((await viaServe("100.64.0.66", TOKEN)).error.details.code).toBe("AUTH_RATE_LIMITED")
  })

  it("127.0.0.0/8 counts as one: a browser page locked out on 127.0.0.1 is locked out on 127.0.0.2 too; the local CLI's success does not wipe that", async () => {
    const origin = `http://127.0.0.1:${g.gw.port}`
    for (let i = 0; i < 3; i++)
      expect((await direct(`guess-${i}`, { origin })).error.details.code).toBe("AUTH_TOKEN_MISMATCH")
    expect((await direct(TOKEN, { origin, localAddress: "127.0.0.2" })).error.details.code).toBe("AUTH_RATE_LIMITED")
    expect((await direct(TOKEN)).ok).toBe(true)
    expect((await direct(TOKEN, { origin })).error.details.code).toBe("AUTH_RATE_LIMITED")
  })

  it("after a local brute force the owner's right token still connects: the escalating delay stays below the handshake timeout (3 s here)", async () => {
    // Wrong guesses from this machine, in parallel as an attacker would: delays 250 ms doubling.
    for (let round = 0; round < 3; round++)
      await Promise.all(Array.from({ length: 4 }, (_, i) => direct(`local-guess-${round}-${i}`).catch(() => undefined)))
    const t0 = Date.now()
    const res = await direct(TOKEN)
    const ms = Date.now() - t0
    console.log(
      `[figures] owner's connect after 12 wrong local guesses: ${ms} ms (handshake timeout 3000 ms, delay cap 1500 ms)`
    )
    expect(res.ok).toBe(true)
    expect(ms).toBeLessThan(3_000)
    expect(g.gw.child.exitCode).toBeNull()
  })
})

export type { GatewayProcess }
