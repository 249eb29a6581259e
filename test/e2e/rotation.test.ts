/**
 * Rotation that tells the truth, on real processes: `gateway token rotate` changes the secret
 * where the running Gateway reads it (here its --token-file), says so only once the Gateway has
 * it in force, refuses (with the way to do it) a secret it cannot change (an environment
 * variable, a --token flag), says what happens with no Gateway running, and with
 * --sign-out-devices revokes the browser devices the old token minted.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import JSON5 from "json5"
import { afterEach, describe, expect, it } from "vitest"
import { cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { authenticated, connectParams, RawClient } from "../support/gateway.js"
import { newIdentity, signedDevice, type TestIdentity } from "../support/node.js"

const OLD = "rotation-e2e-old-token-0123456789abcdef"

/** A browser-like operator signing its connect with its own key: the shared token mints it a device token. */
const operatorDeviceConnect = async (url: string, id: TestIdentity, auth: Record<string, string>) => {
  const client = await RawClient.open(url)
  const nonce = (await client.event("connect.challenge")).payload.nonce as string
  const signedAt = Date.now()
  const scopes = ["operator.read"]
  const device = signedDevice(id, {
    deviceId: id.deviceId,
    clientId: "test",
    clientMode: "test",
    role: "operator",
    scopes,
    signedAt,
    token: auth.token ?? auth.deviceToken,
    nonce,
    platform: "linux",
    deviceFamily: undefined
  })
  const res = await client.connect(connectParams({ scopes, auth, device }))
  return { client, res }
}

const refusedCode = async (url: string, token: string) => {
  const c = await RawClient.open(url)
  await c.event("connect.challenge")
  const res = await c.connect({ auth: { token } })
  c.ws.close()
  return res.ok ? "accepted" : (res.error.details?.code as string)
}

describe("gateway token rotate tells the truth", { timeout: 120_000 }, () => {
  let gw: GatewayProcess | undefined
  afterEach(async () => {
    await gw?.stop()
    gw = undefined
  })

  /** A state dir with a config that has a port and no secret (the Gateway takes it from elsewhere). */
  const setup = async (config?: (port: number) => string) => {
    const dir = tempStateDir()
    const port = await freePort()
    const configPath = path.join(dir, "openclaw.json")
    fs.writeFileSync(configPath, config?.(port) ?? `// hand-written\n{\n  gateway: { port: ${port} },\n}\n`, {
      mode: 0o600
    })
    return { dir, port, configPath, env: cliEnv(dir), url: `ws://127.0.0.1:${port}` }
  }

  it("--token-file: the new token is written to that file (0600), and the CLI says it is in force only when the old one is refused and the new one accepted; --sign-out-devices revokes the device the old token minted", async () => {
    const { dir, configPath, env, url } = await setup()
    const tokenFile = path.join(dir, "gateway.token")
    fs.writeFileSync(tokenFile, `${OLD}\n`, { mode: 0o600 })
    const configBefore = fs.readFileSync(configPath, "utf8")
    gw = await startGateway(["--token-file", tokenFile], env)
    const operator = await authenticated(url, { auth: { token: OLD } })

    const rotated = await runCli(["gateway", "token", "rotate"], env)
    // Checked at once when the CLI returns: what it says must already hold.
    const oldAfter = await refusedCode(url, OLD)
    const fresh = fs.readFileSync(tokenFile, "utf8").trim()
    const freshAfter = await refusedCode(url, fresh)
    // The leaked token no longer gets in (today's bug: rotate wrote the config file, not the token file).
    expect(oldAfter).toBe("AUTH_TOKEN_MISMATCH")
    expect(freshAfter).toBe("accepted")
    expect(rotated.stderr).toBe("")
    expect(rotated.code).toBe(0)
    expect(rotated.stdout).toContain(`Wrote the new token to ${tokenFile}`)
    expect(rotated.stdout).toContain("confirmed the new token is in force: the old one is refused")
    expect(fresh).toMatch(/^[0-9a-f]{64}$/)
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600)
    expect(fs.readFileSync(configPath, "utf8")).toBe(configBefore)
    expect(rotated.stdout + rotated.stderr).not.toContain(OLD)
    expect(rotated.stdout + rotated.stderr).not.toContain(fresh)
    expect(rotated.stdout).toContain("--sign-out-devices")
    expect((await runCli(["gateway", "token", "show"], env)).stdout.trim()).toBe(fresh)
    expect(await operator.waitClosed(3_000)).toMatchObject({ code: 1008 })
    const record = JSON.parse(fs.readFileSync(path.join(dir, "gateway-runtime.json"), "utf8"))
    expect(record).toMatchObject({ secretSource: "--token-file", secretFile: tokenFile, secretGeneration: 1 })
    expect(JSON.stringify(record)).not.toContain(fresh)
    console.log(`token rotate (--token-file) confirmed in ${rotated.ms} ms`)

    // A device identity minted with the token in force (a leaked one, say) outlives a plain rotation...
    const leaked = newIdentity()
    const minted = await operatorDeviceConnect(url, leaked, { token: fresh })
    expect(minted.res.ok).toBe(true)
    const deviceToken: string = minted.res.payload.auth.deviceToken
    expect(deviceToken).toBeTruthy()
    minted.client.ws.close()
    const onDevice = await operatorDeviceConnect(url, leaked, { deviceToken })
    expect(onDevice.res.ok).toBe(true)

    // ...but not one with --sign-out-devices: revoked, its live connection closed, its token refused.
    const signedOut = await runCli(["gateway", "token", "rotate", "--sign-out-devices"], env)
    expect(signedOut.stderr).toBe("")
    expect(signedOut.code).toBe(0)
    expect(signedOut.stdout).toContain("Signed out 1 browser/operator device(s)")
    expect(signedOut.stdout).toContain(leaked.deviceId.slice(0, 12))
    expect(await onDevice.client.waitClosed(3_000)).toMatchObject({ code: 1008 })
    const again = await operatorDeviceConnect(url, leaked, { deviceToken })
    expect(again.res.ok).toBe(false)
    again.client.ws.close()
    const newest = fs.readFileSync(tokenFile, "utf8").trim()
    expect(newest).not.toBe(fresh)
    expect(await refusedCode(url, fresh)).toBe("AUTH_TOKEN_MISMATCH")
    expect(await refusedCode(url, newest)).toBe("accepted")
    const devices = JSON.parse((await runCli(["devices", "list", "--json", "--token", newest], env)).stdout)
    expect(devices.paired).toEqual([expect.objectContaining({ deviceId: leaked.deviceId, revoked: true })])
  })

  it("a Gateway that does not pick the new token up (stopped with SIGSTOP) is reported as such, with a restart to do, and no success", async () => {
    const { dir, env, url } = await setup()
    const tokenFile = path.join(dir, "gateway.token")
    fs.writeFileSync(tokenFile, `${OLD}\n`, { mode: 0o600 })
    gw = await startGateway(["--token-file", tokenFile], env)
    gw.child.kill("SIGSTOP")
    let rotated
    try {
      rotated = await runCli(["gateway", "token", "rotate"], env, 30_000)
    } finally {
      gw.child.kill("SIGCONT")
    }
    expect(rotated.code).toBe(1)
    expect(rotated.stdout).toBe("")
    expect(rotated.stderr).toContain(`Wrote the new token to ${tokenFile}`)
    expect(rotated.stderr).toContain(`did not confirm within 5 s`)
    expect(rotated.stderr).toContain("restart it")
    expect(rotated.stderr).not.toContain("confirmed the new token")
    // Once it runs again it reads the file it was told about.
    const fresh = fs.readFileSync(tokenFile, "utf8").trim()
    const deadline = Date.now() + 5_000
    while ((await refusedCode(url, fresh)) !== "accepted" && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100))
    expect(await refusedCode(url, OLD)).toBe("AUTH_TOKEN_MISMATCH")
  })

  it("password set on a Gateway started with --password-file writes that file and is confirmed", async () => {
    const { dir, configPath, env, url } = await setup()
    const passwordFile = path.join(dir, "gateway.password")
    fs.writeFileSync(passwordFile, "old-password-0123456789-abcdef\n", { mode: 0o600 })
    const configBefore = fs.readFileSync(configPath, "utf8")
    gw = await startGateway(["--auth", "password", "--password-file", passwordFile], env)
    const set = await runCli(["gateway", "password", "set"], env)
    expect(set.stderr).toBe("")
    expect(set.code).toBe(0)
    expect(set.stdout).toContain(`Wrote the new password to ${passwordFile}`)
    expect(set.stdout).toContain("confirmed the new password is in force")
    const fresh = fs.readFileSync(passwordFile, "utf8").trim()
    expect(fresh).not.toBe("old-password-0123456789-abcdef")
    expect(fs.statSync(passwordFile).mode & 0o777).toBe(0o600)
    expect(fs.readFileSync(configPath, "utf8")).toBe(configBefore)
    const c = await RawClient.open(url)
    await c.event("connect.challenge")
    expect((await c.connect({ auth: { password: fresh } })).ok).toBe(true)
    c.ws.close()
  })

  it("a token from OPENCLAW_GATEWAY_TOKEN or --token is refused with how to rotate it, and nothing changes", async () => {
    const { configPath, env, url } = await setup()
    const configBefore = fs.readFileSync(configPath, "utf8")
    gw = await startGateway([], { ...env, OPENCLAW_GATEWAY_TOKEN: OLD })
    const fromEnv = await runCli(["gateway", "token", "rotate"], env)
    expect(fromEnv.code).toBe(78)
    expect(fromEnv.stdout).toBe("")
    expect(fromEnv.stderr).toContain("takes its token from OPENCLAW_GATEWAY_TOKEN in its environment")
    expect(fromEnv.stderr).toContain("set OPENCLAW_GATEWAY_TOKEN to a new value where the Gateway is started")
    expect(fromEnv.stderr).toContain("restart the Gateway")
    expect(fromEnv.stderr).toContain("Nothing was changed.")
    expect(fromEnv.stderr).not.toContain(OLD)
    const shown = await runCli(["gateway", "token", "show"], env)
    expect(shown.code).toBe(1)
    expect(shown.stderr).toContain("takes its token from OPENCLAW_GATEWAY_TOKEN")
    expect(fs.readFileSync(configPath, "utf8")).toBe(configBefore)
    expect(await refusedCode(url, OLD)).toBe("accepted")
    await gw.stop()

    gw = await startGateway(["--token", OLD], env)
    const fromFlag = await runCli(["gateway", "token", "rotate"], env)
    expect(fromFlag.code).toBe(78)
    expect(fromFlag.stderr).toContain("with --token on its command line")
    expect(fromFlag.stderr).toContain("restart the Gateway with --token-file FILE")
    expect(fs.readFileSync(configPath, "utf8")).toBe(configBefore)
    expect(await refusedCode(url, OLD)).toBe("accepted")
  })

  it("no Gateway running, a hand-written config without a token: the token is created (not 'rotated'), comments kept, in force at the next start", async () => {
    const { configPath, env, url } = await setup(
      (port) => `// my Gateway\n{\n  gateway: {\n    port: ${port}, // fixed port\n  },\n}\n`
    )
    // The Gateway refuses this config and names the one command that makes a token.
    const noSecret = await runCli(["gateway", "run"], env)
    expect(noSecret.code).toBe(78)
    expect(noSecret.stderr).toContain("no token is set: run `openclaw gateway token rotate` to write a random one")
    const refused = await runCli(["gateway", "token", "rotate", "--sign-out-devices"], env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("none runs here")
    expect(refused.stderr).toContain("Nothing was changed.")

    const created = await runCli(["gateway", "token", "rotate"], env)
    expect(created.stderr).toBe("")
    expect(created.code).toBe(0)
    expect(created.stdout).toContain(`Created gateway.auth.token in ${configPath} (mode 0600).`)
    expect(created.stdout).toContain("No Gateway runs here: the new token is in force when the Gateway next starts")
    expect(created.stdout).toContain("There was no token before, so there was nothing to sign out.")
    expect(created.stdout).not.toMatch(/Rotated|signed out\./)
    const text = fs.readFileSync(configPath, "utf8")
    expect(text).toContain("// my Gateway")
    expect(text).toContain("// fixed port")
    expect(fs.statSync(configPath).mode & 0o777).toBe(0o600)
    const token: string = JSON5.parse(text).gateway.auth.token
    expect(token).toMatch(/^[0-9a-f]{64}$/)
    expect(created.stdout).not.toContain(token)

    gw = await startGateway([], env)
    expect(await refusedCode(url, token)).toBe("accepted")
  })
})
