/**
 * Pairing covers a node's commands and capabilities (security.md section 8), and pairing ids are
 * only strings: an in-process Gateway on a real loopback socket, nodes speaking the protocol by hand.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { defaultNodesSettings } from "../../src/config/settings.js"
import { authenticated, withGateway } from "../support/gateway.js"
import { newIdentity, nodeConnect, serveInvokes, writeIdentity } from "../support/node.js"

const stateDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "oc-surface-"))
// No auto-approval: these nodes are "another machine" even though they come from 127.0.0.1.
const nodes = { ...defaultNodesSettings(), pairing: { autoApproveLocal: false } }

describe("pairing covers commands and capabilities", () => {
  it("a paired node declaring more is held as a pending request for the difference, keeps its approved commands, and is routed the new one only after approval", async () => {
    const dir = stateDir()
    await withGateway({ stateDir: dir, nodes }, async (gw) => {
      const op = await authenticated(gw.url, { scopes: ["operator.admin", "operator.pairing"] })
      const id = newIdentity()
      // Paired with "echo" only.
      const first = await nodeConnect(gw.url, id, { commands: ["echo"], caps: [] })
      const asked = (await op.request("node.pair.list")).payload.pending[0]
      expect(asked).toMatchObject({ requestId: first.res.error.details.requestId, commands: ["echo"], caps: [] })
      expect(asked.upgrade).toBeUndefined()
      const approved = await op.request("node.pair.approve", { requestId: asked.requestId })
      expect(approved.payload).toMatchObject({ decision: "approved", commands: ["echo"], caps: [] })
      const paired = await nodeConnect(gw.url, id, { commands: ["echo"], caps: [] })
      expect(paired.res.ok).toBe(true)
      const deviceToken = paired.res.payload.auth.deviceToken as string
      paired.client.ws.close()
      await paired.client.waitClosed()

      // It comes back declaring browser.proxy and a browser cap: it gets in (with its device token) ...
      const back = await nodeConnect(gw.url, id, {
        commands: ["echo", "browser.proxy"],
        caps: ["browser"],
        auth: { deviceToken }
      })
      expect(back.res.ok).toBe(true)
      const seen = serveInvokes(back.client)
      // ... the operator hears of a request for what is new only ...
      const event = await op.waitFor(() =>
        op.frames.find((f) => f.event === "node.pair.requested" && f.payload.upgrade !== undefined)
      )
      expect(event.payload).toMatchObject({
        nodeId: id.deviceId,
        isRepair: true,
        upgrade: { commands: ["browser.proxy"], caps: ["browser"] },
        commands: ["echo", "browser.proxy"]
      })
      const listed = (await op.request("node.pair.list")).payload
      expect(listed.pending).toEqual([
        expect.objectContaining({
          requestId: event.payload.requestId,
          upgrade: { commands: ["browser.proxy"], caps: ["browser"] }
        })
      ])
      expect(listed.paired).toEqual([
        expect.objectContaining({ nodeId: id.deviceId, commands: ["echo"], caps: [], connected: true })
      ])
      const view = (await op.request("node.describe", { nodeId: id.deviceId })).payload
      expect(view).toMatchObject({
        commands: ["echo"],
        caps: [],
        pendingCommands: ["browser.proxy"],
        pendingCaps: ["browser"]
      })

      // ... its approved command still works; the new one is not routed: neither directly nor by browser.request.
      const echo = await op.request("node.invoke", {
        nodeId: id.deviceId,
        command: "echo",
        params: { a: 1 },
        idempotencyKey: "k1"
      })
      expect(echo.payload.payload).toEqual({ command: "echo", params: { a: 1 } })
      const direct = await op.request("node.invoke", {
        nodeId: id.deviceId,
        command: "browser.proxy",
        params: {},
        idempotencyKey: "k2"
      })
      expect(direct.error).toMatchObject({ code: "FORBIDDEN", details: { code: "COMMAND_NOT_APPROVED" } })
      const routed = await op.request("browser.request", { method: "GET", path: "/" })
      expect(routed.error.details.code).toBe("NO_BROWSER_NODE")
      expect(routed.error.message).toContain("1 node(s) wait for approval")
      expect(seen.map((s) => s.command)).toEqual(["echo"])

      // Approval adds the difference, keeps the pairing and its device token.
      const upgrade = await op.request("node.pair.approve", { requestId: event.payload.requestId })
      expect(upgrade.payload).toMatchObject({
        commands: ["echo", "browser.proxy"],
        caps: ["browser"],
        upgrade: { commands: ["browser.proxy"] }
      })
      const now = await op.request("browser.request", { method: "GET", path: "/" })
      expect(now.ok).toBe(true)
      expect(seen.map((s) => s.command)).toEqual(["echo", "browser.proxy"])
      expect((await op.request("node.describe", { nodeId: id.deviceId })).payload.pendingCommands).toBeUndefined()
      back.client.ws.close()
      await back.client.waitClosed()
      const again = await nodeConnect(gw.url, id, {
        commands: ["echo", "browser.proxy"],
        caps: ["browser"],
        auth: { deviceToken }
      })
      expect(again.res.ok).toBe(true)
      expect((await op.request("node.pair.list")).payload.pending).toEqual([])
    })
  }, 30_000)

  it("a rejected upgrade leaves the node with its approved commands; the approval survives a restart", async () => {
    const dir = stateDir()
    const id = newIdentity()
    await withGateway({ stateDir: dir, nodes }, async (gw) => {
      const op = await authenticated(gw.url, { scopes: ["operator.admin", "operator.pairing"] })
      const first = await nodeConnect(gw.url, id, { commands: ["echo"] })
      await op.request("node.pair.approve", { requestId: first.res.error.details.requestId })
      const more = await nodeConnect(gw.url, id, { commands: ["echo", "fail"] })
      expect(more.res.ok).toBe(true)
      const request = (await op.request("node.pair.list")).payload.pending[0]
      expect(request.upgrade).toEqual({ commands: ["fail"], caps: [] })
      expect((await op.request("node.pair.reject", { requestId: request.requestId })).ok).toBe(true)
      serveInvokes(more.client)
      expect((await op.request("node.invoke", { nodeId: id.deviceId, command: "echo", idempotencyKey: "a" })).ok).toBe(
        true
      )
      expect(
        (await op.request("node.invoke", { nodeId: id.deviceId, command: "fail", idempotencyKey: "b" })).error.details
          .code
      ).toBe("COMMAND_NOT_APPROVED")
    })
    const stored = JSON.parse(fs.readFileSync(path.join(dir, "devices", "paired.json"), "utf8"))
    expect(stored[id.deviceId]).toMatchObject({ commands: ["echo"], caps: ["browser"] })
    // A restarted Gateway knows the approved surface: still echo only, and it asks again for "fail".
    await withGateway({ stateDir: dir, nodes }, async (gw) => {
      const op = await authenticated(gw.url, { scopes: ["operator.admin", "operator.pairing"] })
      const back = await nodeConnect(gw.url, id, { commands: ["echo", "fail"] })
      expect(back.res.ok).toBe(true)
      expect((await op.request("node.describe", { nodeId: id.deviceId })).payload).toMatchObject({
        commands: ["echo"],
        pendingCommands: ["fail"]
      })
      expect((await op.request("node.pair.list")).payload.pending).toEqual([
        expect.objectContaining({ upgrade: { commands: ["fail"], caps: [] } })
      ])
    })
  }, 30_000)
})

describe("this machine's own node host (gateway.nodes.pairing.autoApproveLocal)", () => {
  it("declaring more is approved at once, as its first pairing was; another node's is not", async () => {
    const dir = stateDir()
    const own = newIdentity()
    writeIdentity(dir, own)
    await withGateway({ stateDir: dir }, async (gw) => {
      const op = await authenticated(gw.url, { scopes: ["operator.admin", "operator.pairing"] })
      const first = await nodeConnect(gw.url, own, { commands: ["echo"], caps: [] })
      expect(first.res.ok).toBe(true)
      first.client.ws.close()
      await first.client.waitClosed()
      const more = await nodeConnect(gw.url, own, { commands: ["echo", "fail"], caps: [] })
      expect(more.res.ok).toBe(true)
      expect((await op.request("node.pair.list")).payload.pending).toEqual([])
      serveInvokes(more.client)
      const failed = await op.request("node.invoke", { nodeId: own.deviceId, command: "fail", idempotencyKey: "f" })
      expect(failed.error.details.code).toBe("NODE_ERROR")
    })
  }, 30_000)
})

describe("pairing ids are only strings", () => {
  it.each(["__proto__", "constructor", "toString", "hasOwnProperty"])(
    "approving or rejecting request id %s is APPROVAL_NOT_FOUND and writes nothing",
    async (requestId) => {
      const dir = stateDir()
      await withGateway({ stateDir: dir, nodes }, async (gw) => {
        const op = await authenticated(gw.url, { scopes: ["operator.admin", "operator.pairing"] })
        const id = newIdentity()
        await nodeConnect(gw.url, id, { commands: ["echo"] })
        for (const method of ["node.pair.approve", "node.pair.reject", "device.pair.approve"]) {
          const res = await op.request(method, { requestId })
          expect(res.ok).toBe(false)
          expect(res.error.details.code).toBe("APPROVAL_NOT_FOUND")
        }
        const removed = await op.request("node.pair.remove", { nodeId: requestId })
        expect(removed.error.details.code).toBe("UNKNOWN_NODE")
        expect((await op.request("node.list")).payload.nodes).toEqual([])
        const paired = path.join(dir, "devices", "paired.json")
        expect(fs.existsSync(paired) ? fs.readFileSync(paired, "utf8") : "{}").not.toContain("undefined")
        // The real request is still there and still works.
        const list = (await op.request("node.pair.list")).payload
        expect(list.pending).toHaveLength(1)
        expect((await op.request("node.pair.approve", { requestId: list.pending[0].requestId })).ok).toBe(true)
        expect((await nodeConnect(gw.url, id, { commands: ["echo"] })).res.ok).toBe(true)
      })
    },
    30_000
  )
})
