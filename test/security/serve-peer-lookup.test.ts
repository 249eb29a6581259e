/**
 * Whether forwarded headers count is told from the owner of the loopback peer's socket, read from
 * /proc/net/tcp{,6}. Each read makes the kernel walk its whole socket hash (about 10 ms for both
 * tables on a machine with much memory), so it must not block the event loop, and a burst of
 * upgrades must not cost one read each: any local process can send such headers. Here the reads
 * are held back until the test lets them go, on the in-process Gateway. Run with
 *   npx vitest run test/security/serve-peer-lookup.test.ts
 */
import * as fs from "node:fs"
import * as net from "node:net"
import { afterEach, describe, expect, it, vi } from "vitest"
import { authenticated, withGateway } from "../support/gateway.js"

const BURST = 30

/** A WebSocket upgrade with Tailscale Serve's forwarded headers; resolves with the status line. */
const forwardedUpgrade = (port: number) =>
  new Promise<string>((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () =>
      socket.write(
        [
          "GET / HTTP/1.1",
          `Host: 127.0.0.1:${port}`,
          "Upgrade: websocket",
          "Connection: Upgrade",
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
          "Sec-WebSocket-Version: 13",
          "X-Forwarded-For: 203.0.113.9",
          "X-Forwarded-Proto: https",
          "",
          ""
        ].join("\r\n")
      )
    )
    socket.once("data", (d) => {
      resolve(d.toString("latin1").split("\r\n")[0]!)
      socket.destroy()
    })
    socket.once("error", () => resolve("error"))
    socket.once("close", () => resolve("closed"))
  })

afterEach(() => {
  vi.restoreAllMocks()
})

describe.skipIf(process.platform !== "linux")("the Serve peer lookup under a burst of forwarded upgrades", () => {
  it("reads the tables off the event loop, once for the whole burst, while other clients are answered", async () => {
    const realReadFile = fs.promises.readFile
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    const tableReads: Array<string> = []
    let firstRead!: () => void
    const started = new Promise<void>((r) => (firstRead = r))
    vi.spyOn(fs.promises, "readFile").mockImplementation((async (file: any, options: any) => {
      if (String(file).startsWith("/proc/net/tcp")) {
        tableReads.push(String(file))
        firstRead()
        await held
      }
      return realReadFile(file, options)
    }) as typeof fs.promises.readFile)

    await withGateway({ port: 0 }, async (gw) => {
      const port = Number(new URL(gw.url).port)
      const client = await authenticated(gw.url)
      const first = forwardedUpgrade(port)
      const readBegan = await Promise.race([
        started.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))
      ])
      expect(readBegan, "no read of /proc/net/tcp off the event loop within 5 s").toBe(true)
      const rest = Array.from({ length: BURST - 1 }, () => forwardedUpgrade(port))
      // While the read is held: the Gateway answers calls and plain upgrades.
      expect((await client.request("health")).ok).toBe(true)
      const plain = await authenticated(gw.url)
      expect((await plain.request("health")).ok).toBe(true)
      // Every upgrade of the burst has reached the Gateway and waits for a read.
      await new Promise((r) => setTimeout(r, 300))
      release()
      const answers = await Promise.all([first, ...rest])
      expect(answers.every((a) => a === "HTTP/1.1 101 Switching Protocols")).toBe(true)
      // The first read, and one more shared by every upgrade that came while it ran.
      expect(tableReads.length).toBeLessThanOrEqual(4)
      client.ws.close()
      plain.ws.close()
    })
  })
})
