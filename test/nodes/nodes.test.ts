/**
 * Device identity, pairing, node.invoke and browser.request routing against an in-process Gateway
 * on a real loopback socket, with nodes speaking the protocol by hand (test/support/node.ts).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { defaultNodesSettings } from "../../src/config/settings.js"
import type { GatewaySettings } from "../../src/services/config/GatewayConfig.js"
import { authenticated, RawClient, withGateway } from "../support/gateway.js"
import { newIdentity, nodeConnect, serveInvokes, writeIdentity } from "../support/node.js"

const stateDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "oc-nodes-"))
const nodesWith = (
  browser: Partial<GatewaySettings["nodes"]["browser"]> = {},
  autoApproveLocal = true
): GatewaySettings["nodes"] => ({
  pairing: { autoApproveLocal },
  browser: { ...defaultNodesSettings().browser, ...browser }
})

const admin = (url: string) => authenticated(url, { scopes: ["operator.admin"] })

/** Connects a node, approves its request as an operator, and connects it again (paired). */
const pairNode = async (url: string, operator: RawClient, id = newIdentity(), displayName = "test-node") => {
  const first = await nodeConnect(url, id, { displayName })
  expect(first.res.error.code).toBe("NOT_PAIRED")
  const approved = await operator.request("node.pair.approve", { requestId: first.res.error.details.requestId })
  expect(approved.ok).toBe(true)
  const again = await nodeConnect(url, id, { displayName })
  expect(again.res.ok).toBe(true)
  return { id, node: again.client, hello: again.res.payload }
}

describe("device identity", () => {
  it.each([
    ["a nonce that is not this connection's challenge", { nonce: () => "another-nonce" }, "DEVICE_AUTH_NONCE_MISMATCH"],
    ["signedAt 200 s in the past", { signedAt: Date.now() - 200_000 }, "DEVICE_AUTH_SIGNATURE_EXPIRED"],
    ["signedAt 200 s in the future", { signedAt: Date.now() + 200_000 }, "DEVICE_AUTH_SIGNATURE_EXPIRED"],
    ["a signature over another role", { signRole: "operator" }, "DEVICE_AUTH_SIGNATURE_INVALID"],
    ["an id that is not the key's hash", { deviceId: "ab".repeat(32) }, "DEVICE_AUTH_DEVICE_ID_MISMATCH"],
    ["a public key that is not 32 bytes", { publicKey: "AAAA" }, "DEVICE_AUTH_PUBLIC_KEY_INVALID"],
    ["no device at all", { omitDevice: true }, "DEVICE_AUTH_INVALID"]
  ] as const)("%s: INVALID_REQUEST %s, close 1008, no pairing request", async (_what, tamper, code) => {
    await withGateway({ stateDir: stateDir() }, async (gw) => {
      const { client, res } = await nodeConnect(gw.url, newIdentity(), tamper)
      expect(res.ok).toBe(false)
      expect(res.error.code).toBe("INVALID_REQUEST")
      expect(res.error.details.code).toBe(code)
      expect((await client.waitClosed()).code).toBe(1008)
      const op = await admin(gw.url)
      expect((await op.request("node.pair.list")).payload.pending).toEqual([])
    })
  })

  it("a valid identity with the wrong shared secret is refused before any pairing request", async () => {
    await withGateway({ stateDir: stateDir() }, async (gw) => {
      const { client, res } = await nodeConnect(gw.url, newIdentity(), { auth: { token: "wrong-token" } })
      expect(res.error.details.code).toBe("AUTH_TOKEN_MISMATCH")
      expect((await client.waitClosed()).code).toBe(1008)
      const op = await admin(gw.url)
      expect((await op.request("node.pair.list")).payload.pending).toEqual([])
    })
  })
})

describe("pairing", () => {
  it("unknown device: NOT_PAIRED with a requestId; operators with operator.pairing hear about it; approval lets it in with a device token", async () => {
    const dir = stateDir()
    await withGateway({ stateDir: dir }, async (gw) => {
      const pairer = await authenticated(gw.url, { scopes: ["operator.pairing"] })
      const reader = await authenticated(gw.url, { scopes: ["operator.read"] })
      const id = newIdentity()
      const first = await nodeConnect(gw.url, id, { displayName: "laptop" })
      expect(first.res.error).toMatchObject({
        code: "NOT_PAIRED",
        message: "pairing required",
        details: { code: "PAIRING_REQUIRED" }
      })
      expect((await first.client.waitClosed()).code).toBe(1008)
      const requestId = first.res.error.details.requestId
      const event = await pairer.event("node.pair.requested")
      expect(event.payload).toMatchObject({
        requestId,
        nodeId: id.deviceId,
        displayName: "laptop",
        platform: "Linux",
        remoteAddress: "127.0.0.1"
      })
      expect(event.payload.expiresAt - event.payload.requestedAt).toBe(5 * 60_000)
      await pairer.event("device.pair.requested")
      expect(reader.frames.some((f) => f.event === "node.pair.requested")).toBe(false)

      // The request is on disk, mode 0600, in a 0700 directory.
      const pendingFile = path.join(dir, "devices", "pending.json")
      expect(fs.statSync(pendingFile).mode & 0o777).toBe(0o600)
      expect(fs.statSync(path.join(dir, "devices")).mode & 0o777).toBe(0o700)
      expect(Object.keys(JSON.parse(fs.readFileSync(pendingFile, "utf8")))).toEqual([requestId])

      // Asking again keeps the same request.
      const second = await nodeConnect(gw.url, id, { displayName: "laptop" })
      expect(second.res.error.details.requestId).toBe(requestId)

      const list = (await pairer.request("node.pair.list")).payload
      expect(list.pending).toHaveLength(1)
      expect(list.pending[0]).toMatchObject({
        requestId,
        nodeId: id.deviceId,
        displayName: "laptop",
        platform: "Linux",
        remoteAddress: "127.0.0.1"
      })
      expect(list.paired).toEqual([])

      // operator.read cannot approve.
      const denied = await reader.request("node.pair.approve", { requestId })
      expect(denied.error).toMatchObject({ code: "FORBIDDEN", details: { code: "MISSING_SCOPE" } })

      const approved = await pairer.request("node.pair.approve", { requestId })
      expect(approved.payload).toMatchObject({ requestId, nodeId: id.deviceId, decision: "approved" })
      expect((await pairer.event("node.pair.resolved")).payload).toMatchObject({
        requestId,
        nodeId: id.deviceId,
        decision: "approved"
      })
      const again = await pairer.request("node.pair.approve", { requestId })
      expect(again.error.code).toBe("APPROVAL_NOT_FOUND")

      const ok = await nodeConnect(gw.url, id, { displayName: "laptop" })
      expect(ok.res.ok).toBe(true)
      expect(ok.res.payload.auth).toMatchObject({ role: "node", method: "token" })
      const deviceToken = ok.res.payload.auth.deviceToken
      expect(deviceToken).toMatch(/^[A-Za-z0-9_-]{40,}$/)
      // Only a digest of the token is stored.
      expect(fs.readFileSync(path.join(dir, "devices", "paired.json"), "utf8")).not.toContain(deviceToken)
      const paired = (await pairer.request("node.pair.list")).payload.paired
      expect(paired).toEqual([
        expect.objectContaining({ nodeId: id.deviceId, displayName: "laptop", platform: "Linux", connected: true })
      ])
      await ok.client.ws.close()

      // The device token alone is a credential; a wrong one is not.
      const byToken = await nodeConnect(gw.url, id, { auth: { deviceToken } })
      expect(byToken.res.payload.auth.method).toBe("device-token")
      expect(byToken.res.payload.auth.deviceToken).toBeUndefined()
      byToken.client.ws.close()
      const wrong = await nodeConnect(gw.url, id, { auth: { deviceToken: "x".repeat(43) } })
      expect(wrong.res.error.details.code).toBe("AUTH_DEVICE_TOKEN_MISMATCH")
      // Another device cannot use this device's token.
      const thief = await nodeConnect(gw.url, newIdentity(), { auth: { deviceToken } })
      expect(thief.res.error.details.code).toBe("AUTH_DEVICE_TOKEN_MISMATCH")
    })
  })

  it("reject drops the request; remove revokes pairing and the device token and disconnects the node", async () => {
    await withGateway({ stateDir: stateDir() }, async (gw) => {
      const op = await admin(gw.url)
      const stranger = await nodeConnect(gw.url, newIdentity())
      const requestId = stranger.res.error.details.requestId
      expect((await op.request("node.pair.reject", { requestId })).payload).toMatchObject({
        requestId,
        decision: "rejected"
      })
      expect((await op.event("node.pair.resolved")).payload.decision).toBe("rejected")
      expect((await op.request("node.pair.list")).payload.pending).toEqual([])

      const { id, node, hello } = await pairNode(gw.url, op)
      const removed = await op.request("node.remove", { nodeId: id.deviceId })
      expect(removed.payload).toMatchObject({ nodeId: id.deviceId, removed: true })
      expect((await node.waitClosed()).reason).toContain("node removed")
      const byToken = await nodeConnect(gw.url, id, { auth: { deviceToken: hello.auth.deviceToken } })
      expect(byToken.res.error.details.code).toBe("AUTH_DEVICE_TOKEN_MISMATCH")
      const bySecret = await nodeConnect(gw.url, id)
      expect(bySecret.res.error.code).toBe("NOT_PAIRED")
      expect((await op.request("node.remove", { nodeId: id.deviceId })).error.details.code).toBe("UNKNOWN_NODE")
    })
  })

  it("a rejected device is told so on its next connect (once, without a new request); asking after that opens a new one", async () => {
    await withGateway({ stateDir: stateDir() }, async (gw) => {
      const op = await admin(gw.url)
      const id = newIdentity()
      const first = await nodeConnect(gw.url, id)
      const requestId = first.res.error.details.requestId
      expect((await op.request("node.pair.reject", { requestId })).ok).toBe(true)
      const told = await nodeConnect(gw.url, id)
      expect(told.res.error.code).toBe("NOT_PAIRED")
      expect(told.res.error.message).toBe("pairing rejected by an operator")
      expect(told.res.error.details).toMatchObject({
        code: "PAIRING_REJECTED",
        reason: "rejected",
        requestId,
        pauseReconnect: true
      })
      expect(told.res.error.details.remediationHint).toContain("openclaw node run")
      expect((await op.request("node.pair.list")).payload.pending).toEqual([])
      const again = await nodeConnect(gw.url, id)
      expect(again.res.error.details.code).toBe("PAIRING_REQUIRED")
      expect(again.res.error.details.requestId).not.toBe(requestId)
      // Another device is not affected by this one's rejection.
      expect((await nodeConnect(gw.url, newIdentity())).res.error.details.code).toBe("PAIRING_REQUIRED")
    })
  })

  it("paired devices survive a Gateway restart", async () => {
    const dir = stateDir()
    const id = newIdentity()
    await withGateway({ stateDir: dir }, async (gw) => void (await pairNode(gw.url, await admin(gw.url), id)))
    await withGateway({ stateDir: dir }, async (gw) => {
      const { res } = await nodeConnect(gw.url, id)
      expect(res.ok).toBe(true)
      expect(fs.statSync(path.join(dir, "devices", "paired.json")).mode & 0o777).toBe(0o600)
    })
  })

  it("autoApproveLocal pairs only this machine's own node identity, on a direct loopback connection", async () => {
    const dir = stateDir()
    const own = newIdentity()
    writeIdentity(dir, own)
    await withGateway({ stateDir: dir }, async (gw) => {
      // Through a proxy (any forwarding header), even the own key must ask.
      const proxied = await nodeConnect(gw.url, own, { headers: { "X-Forwarded-For": "203.0.113.9" } })
      expect(proxied.res.error.code).toBe("NOT_PAIRED")
      // Another key on loopback (an SSH tunnel looks like this) must ask.
      const other = await nodeConnect(gw.url, newIdentity())
      expect(other.res.error.code).toBe("NOT_PAIRED")
      const direct = await nodeConnect(gw.url, own)
      expect(direct.res.ok).toBe(true)
    })
    const dir2 = stateDir()
    writeIdentity(dir2, own)
    await withGateway({ stateDir: dir2, nodes: nodesWith({}, false) }, async (gw) => {
      expect((await nodeConnect(gw.url, own)).res.error.code).toBe("NOT_PAIRED")
    })
  })
})

describe("node.invoke", () => {
  it("round trip, declared commands only, idempotency keys, timeouts, node errors", async () => {
    await withGateway({ stateDir: stateDir() }, async (gw) => {
      const op = await admin(gw.url)
      const { id, node } = await pairNode(gw.url, op)
      const seen = serveInvokes(node)

      const listed = (await op.request("node.list")).payload.nodes
      expect(listed).toEqual([
        expect.objectContaining({
          nodeId: id.deviceId,
          connected: true,
          paired: true,
          commands: ["browser.proxy", "echo", "slow", "fail"],
          caps: ["browser"]
        })
      ])
      expect((await op.request("node.describe", { nodeId: id.deviceId.slice(0, 10) })).payload.nodeId).toBe(id.deviceId)
      expect((await op.request("node.describe", { nodeId: "test-node" })).payload.nodeId).toBe(id.deviceId)

      const r = await op.request("node.invoke", {
        nodeId: id.deviceId,
        command: "echo",
        params: { a: 1 },
        idempotencyKey: "k1"
      })
      expect(r.payload).toEqual({
        ok: true,
        nodeId: id.deviceId,
        command: "echo",
        payload: { command: "echo", params: { a: 1 } }
      })
      expect(seen[0]).toMatchObject({ nodeId: id.deviceId, command: "echo", paramsJSON: '{"a":1}', timeoutMs: 30_000 })
      expect(typeof seen[0].id).toBe("string")

      // The same key: the first answer, without asking the node again.
      const repeat = await op.request("node.invoke", {
        nodeId: id.deviceId,
        command: "echo",
        params: { a: 2 },
        idempotencyKey: "k1"
      })
      expect(repeat.payload.payload.params).toEqual({ a: 1 })
      expect(seen).toHaveLength(1)

      const undeclared = await op.request("node.invoke", {
        nodeId: id.deviceId,
        command: "system.run",
        idempotencyKey: "k2"
      })
      expect(undeclared.error).toMatchObject({ code: "INVALID_REQUEST", details: { code: "COMMAND_NOT_DECLARED" } })
      const noKey = await op.request("node.invoke", { nodeId: id.deviceId, command: "echo" })
      expect(noKey.error.message).toContain("idempotencyKey")

      const failed = await op.request("node.invoke", { nodeId: id.deviceId, command: "fail", idempotencyKey: "k-fail" })
      expect(failed.error).toMatchObject({
        code: "INVALID_REQUEST",
        message: "nope",
        details: { code: "NODE_ERROR", command: "fail" }
      })

      const started = Date.now()
      const slow = await op.request("node.invoke", {
        nodeId: id.deviceId,
        command: "slow",
        timeoutMs: 300,
        idempotencyKey: "k3"
      })
      expect(slow.error).toMatchObject({ code: "UNAVAILABLE", details: { code: "TIMEOUT" } })
      expect(Date.now() - started).toBeLessThan(3_000)

      // A node cannot answer for invokes it was not sent; operators cannot call node methods.
      expect(
        (await op.request("node.invoke.result", { id: seen[0].id, nodeId: id.deviceId, ok: true })).error.details.code
      ).toBe("ROLE_NOT_ALLOWED")
    })
  })

  it("a node that disconnects fails its pending invokes at once; then NOT_CONNECTED", async () => {
    await withGateway({ stateDir: stateDir() }, async (gw) => {
      const op = await admin(gw.url)
      const { id, node } = await pairNode(gw.url, op)
      const seen = serveInvokes(node)
      const reqId = "slow-1"
      op.send({
        type: "req",
        id: reqId,
        method: "node.invoke",
        params: { nodeId: id.deviceId, command: "slow", idempotencyKey: "k-slow", timeoutMs: 60_000 }
      })
      await node.waitFor(() => seen.length > 0 || undefined)
      const dropped = Date.now()
      node.ws.terminate()
      const res = await op.response(reqId)
      // Answered on the disconnect, not by the 60 s invoke timeout (the bound is loose: CI is loaded).
      expect(Date.now() - dropped).toBeLessThan(15_000)
      expect(res.error).toMatchObject({ code: "UNAVAILABLE", details: { code: "NODE_DISCONNECTED" } })
      expect(res.error.message).toContain("disconnected while running slow")
      const after = await op.request("node.invoke", { nodeId: id.deviceId, command: "echo", idempotencyKey: "k-after" })
      expect(after.error.details.code).toBe("NOT_CONNECTED")
      const unknown = await op.request("node.invoke", {
        nodeId: "f".repeat(64),
        command: "echo",
        idempotencyKey: "k-u"
      })
      expect(unknown.error.details.code).toBe("UNKNOWN_NODE")
    })
  })

  it("a node whose link died silently (no pong) is dropped and its invokes fail without waiting for the timeout", async () => {
    await withGateway({ stateDir: stateDir(), tickIntervalMs: 600 }, async (gw) => {
      const op = await admin(gw.url)
      const { id, node } = await pairNode(gw.url, op)
      const seen = serveInvokes(node)
      // A sleeping laptop: the socket stays open but nothing answers, not even pings.
      node.ws.pause()
      op.send({
        type: "req",
        id: "asleep",
        method: "node.invoke",
        params: { nodeId: id.deviceId, command: "echo", idempotencyKey: "k-asleep", timeoutMs: 20_000 }
      })
      const started = Date.now()
      const res = await op.response("asleep")
      expect(res.error.details.code).toBe("NODE_DISCONNECTED")
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(seen).toHaveLength(0)
      expect((await op.request("node.list")).payload.nodes[0].connected).toBe(false)
    })
  })

  it("with the default tick, a node that falls silent during a call is dropped within seconds, not at the next 15 s ping round", async () => {
    await withGateway({ stateDir: stateDir() }, async (gw) => {
      const op = await admin(gw.url)
      const { id, node } = await pairNode(gw.url, op)
      serveInvokes(node)
      const ok = await op.request("node.invoke", {
        nodeId: id.deviceId,
        command: "echo",
        idempotencyKey: "k-awake",
        params: { x: 1 }
      })
      expect(ok.ok).toBe(true)
      // The laptop goes to sleep: the socket stays open, nothing answers, not even pings.
      node.ws.pause()
      op.send({
        type: "req",
        id: "asleep",
        method: "node.invoke",
        params: { nodeId: id.deviceId, command: "echo", idempotencyKey: "k-asleep", timeoutMs: 30_000 }
      })
      const started = Date.now()
      const res = await op.waitFor(() => op.frames.find((f) => f.type === "res" && f.id === "asleep"), 40_000)
      expect(res.error.details.code).toBe("NODE_DISCONNECTED")
      expect(res.error.message).toContain("disconnected while running echo")
      expect(Date.now() - started).toBeLessThan(12_000)
    })
  }, 45_000)

  it("an unpaired node cannot be invoked: it never joins", async () => {
    await withGateway({ stateDir: stateDir() }, async (gw) => {
      const op = await admin(gw.url)
      const id = newIdentity()
      await nodeConnect(gw.url, id)
      expect((await op.request("node.list")).payload.nodes).toEqual([])
      const r = await op.request("node.invoke", { nodeId: id.deviceId, command: "echo", idempotencyKey: "k" })
      expect(r.error.details.code).toBe("UNKNOWN_NODE")
      const b = await op.request("browser.request", { method: "GET", path: "/" })
      expect(b.error.details.code).toBe("NO_BROWSER_NODE")
      expect(b.error.message).toContain("1 node(s) wait for approval")
    })
  })
})

describe("browser.request routing", () => {
  it("auto: the one browser node; several: an error naming them; manual: the named one; off: refused", async () => {
    const dir = stateDir()
    await withGateway({ stateDir: dir }, async (gw) => {
      const op = await admin(gw.url)
      const a = await pairNode(gw.url, op, newIdentity(), "alpha")
      serveInvokes(a.node)
      const r = await op.request("browser.request", {
        method: "POST",
        path: "/navigate",
        body: { url: "https://example.org" }
      })
      expect(r.payload).toEqual({
        command: "browser.proxy",
        params: { method: "POST", path: "/navigate", body: { url: "https://example.org" } }
      })
      const b = await pairNode(gw.url, op, newIdentity(), "beta")
      serveInvokes(b.node)
      const several = await op.request("browser.request", { method: "GET", path: "/" })
      expect(several.error).toMatchObject({ code: "INVALID_REQUEST", details: { code: "MULTIPLE_BROWSER_NODES" } })
      expect(several.error.message).toContain("alpha")
      expect(several.error.message).toContain("beta")
      const writer = await authenticated(gw.url, { scopes: ["operator.write", "operator.pairing"] })
      expect((await writer.request("browser.request", { method: "GET", path: "/" })).error.message).toBe(
        "missing scope: operator.admin"
      )
      // Nor can operator.write reach the browser (or any node command) through node.invoke.
      const invoke = await writer.request("node.invoke", {
        nodeId: "alpha",
        command: "browser.proxy",
        params: { method: "GET", path: "/" },
        idempotencyKey: "w"
      })
      expect(invoke.error.message).toBe("missing scope: operator.admin")
      // Any other command needs operator.write only, as in OpenClaw (its `nodes invoke` asks for no more).
      const which = await writer.request("node.invoke", {
        nodeId: "alpha",
        command: "echo",
        params: { x: 1 },
        idempotencyKey: "w2"
      })
      expect(which.error).toBeUndefined()
      expect(which.payload).toMatchObject({ ok: true, command: "echo", payload: { command: "echo", params: { x: 1 } } })
      for (const command of ["fs.listDir", "terminal.upload", "browser.proxy.upload.v1"]) {
        expect(
          (await writer.request("node.invoke", { nodeId: "alpha", command, idempotencyKey: `w-${command}` })).error
            .message
        ).toBe("missing scope: operator.admin")
      }
      const reader = await authenticated(gw.url, { scopes: ["operator.read"] })
      expect(
        (await reader.request("node.invoke", { nodeId: "alpha", command: "echo", idempotencyKey: "r" })).error.message
      ).toBe("missing scope: operator.write")
    })
    await withGateway({ stateDir: dir, nodes: nodesWith({ mode: "manual", node: "beta" }) }, async (gw) => {
      const op = await admin(gw.url)
      const missing = await op.request("browser.request", { method: "GET", path: "/" })
      // beta is still paired from the first run, but not connected.
      expect(missing.error).toMatchObject({ code: "UNAVAILABLE", details: { code: "NOT_CONNECTED" } })
      expect(missing.error.message).toContain("paired but not connected")
    })
    await withGateway({ stateDir: stateDir(), nodes: nodesWith({ mode: "off" }) }, async (gw) => {
      const op = await admin(gw.url)
      const off = await op.request("browser.request", { method: "GET", path: "/" })
      expect(off.error).toMatchObject({ code: "FORBIDDEN", details: { code: "BROWSER_DISABLED" } })
    })
  })

  it("manual mode routes to the named node even when several are connected", async () => {
    await withGateway({ stateDir: stateDir(), nodes: nodesWith({ mode: "manual", node: "beta" }) }, async (gw) => {
      const op = await admin(gw.url)
      const a = await pairNode(gw.url, op, newIdentity(), "alpha")
      const b = await pairNode(gw.url, op, newIdentity(), "beta")
      const seenA = serveInvokes(a.node)
      const seenB = serveInvokes(b.node)
      expect((await op.request("browser.request", { method: "GET", path: "/tabs" })).ok).toBe(true)
      expect(seenB).toHaveLength(1)
      expect(seenA).toHaveLength(0)
    })
  })

  it("an operator that came through Funnel is refused unless allowFunnel", async () => {
    const funnel = { headers: { "Tailscale-Funnel-Request": "?1" } }
    for (const allowFunnel of [false, true]) {
      await withGateway({ stateDir: stateDir(), nodes: nodesWith({ allowFunnel }) }, async (gw) => {
        const op = await admin(gw.url)
        serveInvokes((await pairNode(gw.url, op)).node)
        const viaFunnel = await RawClient.open(gw.url, funnel)
        await viaFunnel.event("connect.challenge")
        expect((await viaFunnel.connect({ scopes: ["operator.admin"] })).ok).toBe(true)
        const r = await viaFunnel.request("browser.request", { method: "GET", path: "/" })
        if (allowFunnel) expect(r.ok).toBe(true)
        else expect(r.error).toMatchObject({ code: "FORBIDDEN", details: { code: "BROWSER_FUNNEL_REFUSED" } })
        // node.invoke of browser.proxy is browser control too.
        const direct = await viaFunnel.request("node.invoke", {
          nodeId: "test-node",
          command: "browser.proxy",
          params: { method: "GET", path: "/" },
          idempotencyKey: `f-${allowFunnel}`
        })
        if (allowFunnel) expect(direct.ok).toBe(true)
        else expect(direct.error.details.code).toBe("BROWSER_FUNNEL_REFUSED")
        // The same request without Funnel is fine either way.
        expect((await op.request("browser.request", { method: "GET", path: "/" })).ok).toBe(true)
      })
    }
  })
})
