/** The in-process Gateway with TLS: wss with the pin, the pending-socket accounting, and the TLS handshake timeout. */
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { connect } from "../../src/client/GatewayClient.js"
import { TOKEN, withGateway } from "../support/gateway.js"

const tlsSettings = (handshakeTimeoutMs = 10_000) => ({
  stateDir: fs.mkdtempSync(path.join(os.tmpdir(), "oc-tls-")),
  handshakeTimeoutMs,
  tls: { enabled: true, autoGenerate: true }
})

describe("Gateway with TLS (in-process)", () => {
  it("wss:// with the pin answers; the status names the fingerprint", async () => {
    await withGateway(tlsSettings(), async (gw) => {
      expect(gw.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/)
      expect(gw.tls?.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
      const health = await Effect.runPromise(
        Effect.scoped(
          Effect.flatMap(connect({ url: gw.url, token: TOKEN, tlsFingerprint: gw.tls!.fingerprint }), (c) =>
            c.request("status")
          )
        )
      )
      expect(health).toMatchObject({ tls: { enabled: true, fingerprint: gw.tls!.fingerprint } })
    })
  })

  it("a TCP client that never starts the TLS handshake is cut after the handshake timeout", async () => {
    await withGateway(tlsSettings(600), async (gw) => {
      const socket = net.connect(gw.listeners.port, "127.0.0.1")
      const started = Date.now()
      await new Promise<void>((resolve) => socket.once("close", () => resolve()))
      const ms = Date.now() - started
      expect(ms).toBeGreaterThanOrEqual(500)
      expect(ms).toBeLessThan(5_000)
    })
  })

  it("an unreadable own certificate stops the start, naming the setting", async () => {
    const err = await withGateway(
      {
        ...tlsSettings(),
        tls: { enabled: true, autoGenerate: false, certPath: "/nonexistent/c.pem", keyPath: "/nonexistent/k.pem" }
      },
      async () => "started"
    ).catch((e) => e)
    expect(String(err.message ?? err)).toContain(
      "cannot read gateway.tls.certPath /nonexistent/c.pem: no such file (ENOENT); point gateway.tls.certPath and gateway.tls.keyPath at readable PEM files"
    )
  })
})
