/**
 * Credentials bound to what they were issued for, through a real `openclaw gateway run`: a node's
 * device token never signs in as an operator, an operator device's token never carries more than
 * the scopes granted when it was minted, records older versions wrote (no role, no scopes) are
 * read safely; and three smaller holes: a Host that only starts with a loopback address, a
 * --token-file other users can read, and an empty request prefix that approved "the only one".
 */
import * as fs from "node:fs"
import * as http from "node:http"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { newIdentity, type NodeConnectOptions, nodeConnect, type TestIdentity, writeIdentity } from "../support/node.js"

const TOKEN = "binding-e2e-token-0123456789abcdef"
const ALL_SCOPES = ["operator.read", "operator.write", "operator.admin", "operator.pairing", "operator.approvals"]

/** A browser-like operator device: signs its connect with its own key. */
const asOperator = (scopes: ReadonlyArray<string>, auth: Record<string, string>): NodeConnectOptions => ({
  role: "operator",
  scopes,
  auth,
  clientId: "openclaw-control-ui",
  clientMode: "webchat"
})

const writeConfig = (dir: string, port: number) =>
  fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway: { port, auth: { token: TOKEN } } }), {
    mode: 0o600
  })

/** A Gateway on its own state dir whose own node identity is `own` (paired on its first connect). */
const startOwn = async (dir: string, own: TestIdentity) => {
  writeConfig(dir, await freePort())
  writeIdentity(dir, own)
  const env = cliEnv(dir)
  const gw = await startGateway([], env)
  return { gw, env, url: `ws://127.0.0.1:${gw.port}` }
}

/** Connects, returns the answer and closes the socket. */
const once = async (url: string, id: TestIdentity, o: NodeConnectOptions) => {
  const { client, res } = await nodeConnect(url, id, o)
  client.ws.close()
  await client.waitClosed()
  return res
}

describe("device tokens are bound to their role, device and scopes", { timeout: 120_000 }, () => {
  let dir: string
  let gw: GatewayProcess
  let env: NodeJS.ProcessEnv
  let url: string
  const own = newIdentity()

  beforeAll(async () => {
    dir = tempStateDir()
    ;({ gw, env, url } = await startOwn(dir, own))
  })
  afterAll(async () => {
    await gw?.stop()
  })

  it("a paired node's device token never signs in as an operator (no operator.admin, no chat.history)", async () => {
    const paired = await once(url, own, { auth: { token: TOKEN } })
    expect(paired.ok).toBe(true)
    const deviceToken: string = paired.payload.auth.deviceToken
    expect(deviceToken).toBeTruthy()

    const { client, res } = await nodeConnect(url, own, {
      ...asOperator(["operator.admin"], { deviceToken }),
      clientId: "cli",
      clientMode: "cli"
    })
    if (res.ok) {
      // Today's hole, spelt out: what such a connection could do.
      const history = await client.request("chat.history", { sessionKey: "main" })
      client.ws.close()
      expect.fail(
        `a node's device token signed in as ${JSON.stringify(res.payload.auth)}; chat.history ok=${history.ok}`
      )
    }
    expect(res.error.details.code).toBe("AUTH_DEVICE_TOKEN_MISMATCH")
    expect(res.error.message).toContain("issued to a node and signs in only as one, not as an operator")
    expect(res.error.message).not.toContain(deviceToken)
    await client.waitClosed()

    // The same token still signs the node in, as a node.
    const node = await once(url, own, { auth: { deviceToken } })
    expect(node.ok).toBe(true)
    expect(node.payload.auth).toMatchObject({ method: "device-token", role: "node", scopes: [] })
  })

  it("an operator device's token carries the scopes granted when it was minted, never what it asks for later", async () => {
    const browser = newIdentity()
    const signIn = await once(url, browser, asOperator(["operator.read"], { token: TOKEN }))
    expect(signIn.ok).toBe(true)
    expect(signIn.payload.auth.scopes).toEqual(["operator.read"])
    const deviceToken: string = signIn.payload.auth.deviceToken

    const { client, res } = await nodeConnect(url, browser, asOperator(ALL_SCOPES, { deviceToken }))
    expect(res.ok).toBe(true)
    expect(res.payload.auth).toMatchObject({ method: "device-token", role: "operator", scopes: ["operator.read"] })
    expect((await client.request("health")).ok).toBe(true)
    const pairList = await client.request("node.pair.list", {})
    expect(pairList.ok).toBe(false)
    expect(pairList.error.details.code).toBe("MISSING_SCOPE")
    client.ws.close()
    await client.waitClosed()

    // The owner presenting the shared token along with it asks for what it likes, as without one.
    const both = await once(url, browser, asOperator(ALL_SCOPES, { token: TOKEN, deviceToken }))
    expect(both.payload.auth).toMatchObject({ method: "device-token", scopes: ALL_SCOPES })
    // A wrong one alongside changes nothing.
    const wrong = await once(url, browser, asOperator(ALL_SCOPES, { token: `${TOKEN}x`, deviceToken }))
    expect(wrong.payload.auth).toMatchObject({ method: "device-token", scopes: ["operator.read"] })

    // Nor does it sign in as a node.
    const asNode = await once(url, browser, { auth: { deviceToken } })
    expect(asNode.ok).toBe(false)
    expect(asNode.error.message).toContain("issued to an operator")

    // The owner (shared token) still gets what it asks for; the token minted then carries it.
    const owner = await once(url, browser, asOperator(["operator.admin"], { token: TOKEN }))
    expect(owner.payload.auth.scopes).toEqual(["operator.admin"])
    const admin = await once(
      url,
      browser,
      asOperator(["operator.admin"], { deviceToken: owner.payload.auth.deviceToken })
    )
    expect(admin.payload.auth).toMatchObject({ method: "device-token", scopes: ["operator.admin"] })
  })

  it("an operator device's shared-secret sign-in never re-pairs a node's identity as an operator", async () => {
    const res = await once(url, own, asOperator(["operator.read"], { token: TOKEN }))
    // The owner is let in with the shared secret, but gets no device token for a node's identity.
    expect(res.ok).toBe(true)
    expect(res.payload.auth.deviceToken).toBeUndefined()
    const listed = JSON.parse((await runCli(["devices", "list", "--json"], env, 30_000)).stdout)
    expect(listed.paired.find((d: any) => d.deviceId === own.deviceId)).toMatchObject({ role: "node" })
  })

  it("Host [::1].evil.example is not a loopback name: refused like any other (DNS rebinding guard)", async () => {
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.get({ host: "127.0.0.1", port: gw.port, path: "/", headers: { Host: host } }, (res) => {
          res.resume()
          resolve(res.statusCode!)
        })
        req.on("error", reject)
      })
    expect(await status(`[::1]:${gw.port}`)).not.toBe(403)
    for (const host of ["[::1].evil.example", `[::1].evil.example:${gw.port}`, "[::1]x", "127.0.0.1:80.evil.example"])
      expect(await status(host), host).toBe(403)
  })

  it('an empty or short request prefix approves nothing (devices approve "", nodes approve "")', async () => {
    const stranger = newIdentity()
    const asked = await once(url, stranger, { auth: { token: TOKEN }, displayName: "stranger" })
    expect(asked.error.details.code).toBe("PAIRING_REQUIRED")
    const requestId: string = asked.error.details.requestId
    for (const args of [
      ["devices", "approve", ""],
      ["devices", "approve", requestId.slice(0, 4)],
      ["devices", "reject", ""],
      ["nodes", "approve", ""],
      ["nodes", "approve", " "],
      ["nodes", "reject", requestId.slice(0, 3)]
    ]) {
      const r = await runCli(args, env, 30_000)
      expect(r.code, args.join(" ")).not.toBe(0)
      expect(r.stderr, args.join(" ")).toMatch(
        /too short: give the whole request id,? (or )?at least its first 8 characters/
      )
    }
    const listed = JSON.parse((await runCli(["devices", "list", "--json"], env, 30_000)).stdout)
    expect(listed.pending.map((r: any) => r.requestId)).toEqual([requestId])
    expect(listed.paired.find((d: any) => d.deviceId === stranger.deviceId)).toBeUndefined()
    // The whole id still works.
    expect((await runCli(["devices", "reject", requestId], env, 30_000)).code).toBe(0)
  })
})

describe("pairing records written by older versions", { timeout: 120_000 }, () => {
  it("no role: the node keeps its token as a node only; an operator without recorded scopes must sign in again", async () => {
    const dir = tempStateDir()
    const own = newIdentity()
    const browser = newIdentity()
    let { gw, url } = await startOwn(dir, own)
    let nodeToken: string
    let browserToken: string
    try {
      nodeToken = (await once(url, own, { auth: { token: TOKEN } })).payload.auth.deviceToken
      browserToken = (await once(url, browser, asOperator(ALL_SCOPES, { token: TOKEN }))).payload.auth.deviceToken
    } finally {
      await gw.stop()
    }
    // As an older version wrote them: no role, no scopes.
    const file = path.join(dir, "devices", "paired.json")
    const records = JSON.parse(fs.readFileSync(file, "utf8"))
    for (const r of Object.values(records) as Array<Record<string, unknown>>) {
      delete r.role
      delete r.scopes
    }
    fs.writeFileSync(file, JSON.stringify(records), { mode: 0o600 })

    ;({ gw, url } = await startOwn(dir, own))
    try {
      expect(gw.output()).not.toMatch(/ignored \d+ of its paired devices/)
      const node = await once(url, own, { auth: { deviceToken: nodeToken } })
      expect(node.ok).toBe(true)
      expect(node.payload.auth.role).toBe("node")
      const escalate = await once(url, own, asOperator(["operator.admin"], { deviceToken: nodeToken }))
      expect(escalate.ok).toBe(false)

      const old = await once(url, browser, asOperator(ALL_SCOPES, { deviceToken: browserToken }))
      expect(old.ok).toBe(false)
      expect(old.error.details.code).toBe("AUTH_DEVICE_TOKEN_MISMATCH")
      expect(old.error.message).toContain(
        "was paired by an older version that did not record its scopes; sign in once with the Gateway's token"
      )
      // Signing in again with the shared token pairs it anew, with the scopes granted now.
      const again = await once(url, browser, asOperator(["operator.read"], { token: TOKEN }))
      const fresh = await once(url, browser, asOperator(ALL_SCOPES, { deviceToken: again.payload.auth.deviceToken }))
      expect(fresh.payload.auth).toMatchObject({ method: "device-token", scopes: ["operator.read"] })
    } finally {
      await gw.stop()
    }
  })
})

describe("secret files other users can read", { timeout: 60_000 }, () => {
  it("gateway run --token-file on a 0644 file refuses to start and gives the chmod", async () => {
    const dir = tempStateDir()
    const file = path.join(dir, "gateway token")
    fs.writeFileSync(file, `${TOKEN}\n`)
    fs.chmodSync(file, 0o644)
    const r = await runCli(
      ["gateway", "run", "--port", String(await freePort()), "--token-file", file],
      cliEnv(dir),
      10_000
    )
    expect(r.code).toBe(78)
    expect(r.stderr).toContain(`--token-file: ${file} is open to every local user (mode 0644)`)
    expect(r.stderr).toContain(`chmod 600 '${file}'`)
    expect(r.stderr).not.toContain(TOKEN)
    expect(r.stderr).not.toMatch(/\n\s+at /)

    fs.chmodSync(file, 0o640)
    const password = path.join(dir, "pw")
    fs.writeFileSync(password, "a-long-enough-password-0123456789\n", { mode: 0o640 })
    const g = await runCli(
      ["gateway", "run", "--port", String(await freePort()), "--auth", "password", "--password-file", password],
      cliEnv(dir),
      10_000
    )
    expect(g.code).toBe(78)
    expect(g.stderr).toContain(`is open to its group (mode 0640)`)
    expect(g.stderr).toContain(`chmod 600 ${password}`)
  })
})
