/**
 * Scenario H on real processes: `openclaw devices` shows who is paired, `devices revoke` cuts a
 * node off within a second (and it cannot get back in), `gateway token rotate` changes the shared
 * token without a restart while a paired node stays connected, and every step lands in the audit
 * log exactly when it happens, without a single secret in it.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { authenticated, RawClient } from "../support/gateway.js"
import { newIdentity, type NodeConnectOptions, nodeConnect as connectNode, type TestIdentity } from "../support/node.js"

const TOKEN = "devices-e2e-token-0123456789abcdef"
const WRONG = "devices-e2e-wrong-guess-0123456789"

describe("devices, revocation, rotation and the audit log (scenario H)", { timeout: 120_000 }, () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  let gw: GatewayProcess
  let url: string
  const secrets = [TOKEN, WRONG]
  /** A node signing in with this file's shared token unless told otherwise. */
  const nodeConnect = (at: string, id: TestIdentity, o: NodeConnectOptions = {}) =>
    connectNode(at, id, { auth: { token: TOKEN }, ...o })
  const cli = (args: ReadonlyArray<string>) => runCli(args, env, 30_000)
  const auditFile = () => path.join(dir, "logs", "audit.jsonl")
  const entries = (): Array<any> =>
    fs
      .readFileSync(auditFile(), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  /** The events logged since `from` (an index into entries()). */
  const since = (from: number) =>
    entries()
      .slice(from)
      .map((e) => e.event)

  beforeAll(async () => {
    dir = tempStateDir()
    const port = await freePort()
    fs.writeFileSync(
      path.join(dir, "openclaw.json"),
      `// test config\n{\n  gateway: {\n    port: ${port},\n    auth: { token: "${TOKEN}" }, // the shared token\n  },\n}\n`,
      { mode: 0o600 }
    )
    env = cliEnv(dir)
    gw = await startGateway([], env)
    url = `ws://127.0.0.1:${gw.port}`
  })

  afterAll(async () => {
    await gw?.stop()
  })

  it("a node asks, is approved by prefix, is listed with where and when it was seen, then revoked: cut off within a second, and cannot get back in", async () => {
    expect(fs.statSync(auditFile()).mode & 0o777).toBe(0o600)
    expect(entries()[0]).toMatchObject({ event: "gateway.start" })
    const id = newIdentity()
    let mark = entries().length
    const asked = await nodeConnect(url, id, { displayName: "laptop-node" })
    expect(asked.res.error.details.code).toBe("PAIRING_REQUIRED")
    const requestId: string = asked.res.error.details.requestId
    await asked.client.waitClosed()
    expect(since(mark)).toEqual(["pair.requested"])
    expect(entries().at(-1)).toMatchObject({ deviceId: id.deviceId, role: "node", address: "127.0.0.1", requestId })

    const pending = JSON.parse((await cli(["devices", "list", "--json"])).stdout)
    expect(pending.pending).toEqual([
      expect.objectContaining({ requestId, deviceId: id.deviceId, role: "node", displayName: "laptop-node" })
    ])
    expect(pending.paired).toEqual([])

    mark = entries().length
    const approved = await cli(["devices", "approve", requestId.slice(0, 8)])
    expect(approved.stderr).toBe("")
    expect(approved.stdout).toContain("Approved laptop-node")
    // The CLI's own sign-in, then the approval.
    expect(since(mark)).toEqual(["auth.ok", "pair.approved"])

    const first = await nodeConnect(url, id, { displayName: "laptop-node" })
    expect(first.res.ok).toBe(true)
    const deviceToken: string = first.res.payload.auth.deviceToken
    secrets.push(deviceToken)
    first.client.ws.close()
    await first.client.waitClosed()
    const node = await nodeConnect(url, id, { auth: { deviceToken }, displayName: "laptop-node" })
    expect(node.res.ok).toBe(true)
    expect(node.res.payload.auth.method).toBe("device-token")

    const listed = JSON.parse((await cli(["devices", "list", "--json"])).stdout)
    expect(listed.paired).toEqual([
      expect.objectContaining({
        deviceId: id.deviceId,
        displayName: "laptop-node",
        role: "node",
        platform: "Linux",
        connected: true,
        lastAddress: "127.0.0.1",
        signsInWith: "device-token"
      })
    ])
    expect(typeof listed.paired[0].pairedAt).toBe("number")
    expect(Math.abs(listed.paired[0].lastSeenAt - Date.now())).toBeLessThan(5_000)
    const human = await cli(["devices", "list"])
    expect(human.stdout).toMatch(/laptop-node\s+node\s+Linux\s+\d+s ago\s+now\s+127\.0\.0\.1\s+device-token\s+yes/)

    expect((await cli(["devices", "rename", id.deviceId.slice(0, 6), "old laptop"])).stdout).toContain("Renamed")

    mark = entries().length
    const revoked = await cli(["devices", "revoke", "old laptop"])
    const revokedAt = Date.now()
    expect(revoked.stdout).toContain("its 1 live connection(s) were closed")
    const closed = await node.client.waitClosed(2_000)
    const cutOffMs = Date.now() - revokedAt
    expect(closed).toEqual({ code: 1008, reason: "device revoked" })
    expect(cutOffMs).toBeLessThan(1_000)
    console.log(`revoke -> node disconnected: ${cutOffMs} ms after the CLI returned (CLI run ${revoked.ms} ms)`)
    expect(since(mark)).toEqual(["auth.ok", "device.revoked"])
    expect(entries().at(-1)).toMatchObject({ deviceId: id.deviceId, displayName: "old laptop", closed: 1 })

    // Its device token is dead; with the shared token it is a stranger that must ask again.
    mark = entries().length
    const again = await nodeConnect(url, id, { auth: { deviceToken } })
    expect(again.res.error.details.code).toBe("AUTH_DEVICE_TOKEN_MISMATCH")
    const asks = await nodeConnect(url, id)
    expect(asks.res.error.details.code).toBe("PAIRING_REQUIRED")
    expect(since(mark)).toEqual(["auth.fail", "pair.requested"])
    expect(entries().at(-2)).toMatchObject({ code: "AUTH_DEVICE_TOKEN_MISMATCH", deviceId: id.deviceId })
    const after = JSON.parse((await cli(["devices", "list", "--json"])).stdout)
    expect(after.paired[0]).toMatchObject({
      deviceId: id.deviceId,
      revoked: true,
      connected: false,
      signsInWith: "revoked"
    })

    mark = entries().length
    await cli(["devices", "reject", asks.res.error.details.requestId])
    const removed = await cli(["devices", "remove", id.deviceId.slice(0, 8)])
    expect(removed.stdout).toContain("revoked and forgotten")
    expect(since(mark)).toEqual(["auth.ok", "pair.rejected", "auth.ok", "device.removed"])
    expect(JSON.parse((await cli(["devices", "list", "--json"])).stdout).paired).toEqual([])
  })

  it("gateway token rotate: the old token is refused and the new one accepted without a restart; token sessions are closed, a paired node stays", async () => {
    // A paired node on its device token, and an operator on the shared token.
    const id = newIdentity()
    const asked = await nodeConnect(url, id, { displayName: "stays" })
    await cli(["devices", "approve", asked.res.error.details.requestId])
    const paired = await nodeConnect(url, id, { displayName: "stays" })
    const deviceToken: string = paired.res.payload.auth.deviceToken
    secrets.push(deviceToken)
    paired.client.ws.close()
    const node = await nodeConnect(url, id, { auth: { deviceToken, token: TOKEN }, displayName: "stays" })
    expect(node.res.ok).toBe(true)
    const operator = await authenticated(url, { auth: { token: TOKEN } })
    // auth.ok is written just after hello-ok goes out: wait for the operator's before taking the mark.
    const signedIn = Date.now()
    while (
      !entries().some((e) => e.event === "auth.ok" && e.clientId === "test" && e.authMethod === "token") &&
      Date.now() - signedIn < 3_000
    )
      await new Promise((r) => setTimeout(r, 20))

    const mark = entries().length
    const rotated = await cli(["gateway", "token", "rotate"])
    expect(rotated.code).toBe(0)
    expect(rotated.stdout).toContain(`Rotated gateway.auth.token in ${path.join(dir, "openclaw.json")} (mode 0600).`)
    expect(rotated.stdout).toContain("openclaw gateway token show")
    expect(rotated.stdout + rotated.stderr).not.toContain(TOKEN)
    const text = fs.readFileSync(path.join(dir, "openclaw.json"), "utf8")
    expect(text).toContain("// test config")
    expect(text).toContain("// the shared token")
    expect(fs.statSync(path.join(dir, "openclaw.json")).mode & 0o777).toBe(0o600)
    const fresh = (await cli(["gateway", "token", "show"])).stdout.trim()
    secrets.push(fresh)
    expect(fresh).toMatch(/^[0-9a-f]{64}$/)
    expect(text).toContain(`"${fresh}"`)

    // The token session is closed; the node on its device token is not.
    expect(await operator.waitClosed(3_000)).toEqual({
      code: 1008,
      reason: "gateway token rotated: sign in with the new token"
    })
    const old = await RawClient.open(url)
    expect((await old.connect({ auth: { token: TOKEN } })).error.details.code).toBe("AUTH_TOKEN_MISMATCH")
    const now = await authenticated(url, { auth: { token: fresh } })
    now.ws.close()
    expect((await cli(["health"])).code).toBe(0)
    expect(node.client.closed).toBeUndefined()
    expect(JSON.parse((await cli(["devices", "list", "--json"])).stdout).paired).toEqual([
      expect.objectContaining({ deviceId: id.deviceId, connected: true })
    ])
    expect(gw.child.exitCode).toBeNull()
    expect(gw.output()).toContain("closed 1 connection(s) that signed in with the old one")
    const events = since(mark)
    expect(events.slice(0, 2)).toEqual(["token.rotated", "auth.fail"])
    expect(entries()[mark]).toMatchObject({ event: "token.rotated", what: "gateway.auth.token", closed: 1 })

    // Revoke to disconnect, measured on the wire: from the request leaving to the node's close frame.
    const admin = await authenticated(url, { auth: { token: fresh }, scopes: ["operator.pairing"] })
    const sent = performance.now()
    const answer = admin.request("device.token.revoke", { deviceId: id.deviceId })
    await node.client.waitClosed(1_000)
    const ms = performance.now() - sent
    expect((await answer).payload).toMatchObject({ revoked: true, closed: 1 })
    expect(ms).toBeLessThan(1_000)
    console.log(`device.token.revoke request -> node closed: ${ms.toFixed(1)} ms`)
    admin.ws.close()
  })

  it("audit: the CLI reads the log (--since, --json); no secret used in this file is in it; gateway.stop is the last entry", async () => {
    const bad = await RawClient.open(url)
    await bad.connect({ auth: { token: WRONG } })
    const human = await cli(["audit", "--since", "10m"])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(
      /auth\.fail\s+from=127\.0\.0\.1\s+client="test"\s+mode=test\s+role=operator\s+code=AUTH_TOKEN_MISMATCH/
    )
    expect(human.stdout).toMatch(/device\.revoked .*closed=1/)
    const json = (await cli(["audit", "--json"])).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
    expect(json.length).toBe(entries().length)
    expect((await cli(["audit", "--since", "yesterday-ish"])).code).toBe(2)
    await gw.stop()
    expect(entries().at(-1)).toMatchObject({ event: "gateway.stop" })
    const everything = fs
      .readdirSync(path.join(dir, "logs"))
      .map((f) => fs.readFileSync(path.join(dir, "logs", f), "utf8"))
      .join("\n")
    for (const s of secrets) expect(everything).not.toContain(s)
    for (const e of entries()) expect(Object.keys(e)).not.toContain("token")
  })

  it("a Gateway killed with SIGKILL in the middle of a line leaves a log that still reads, and the next run starts on a fresh line", async () => {
    const before = entries().length
    const again = await startGateway([], env)
    await again.stop("SIGKILL")
    // What a write cut short by the kill looks like.
    fs.appendFileSync(auditFile(), '{"ts":1795000000000,"event":"auth.ok","address":"127.0')
    const read = await cli(["audit", "--json"])
    expect(read.code).toBe(0)
    expect(
      read.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).event)
        .slice(before)
    ).toEqual(["gateway.start"])
    gw = await startGateway([], env)
    const after = (await cli(["audit", "--json"])).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).event)
    expect(after.slice(before)).toEqual(["gateway.start", "gateway.start"])
  })
})
