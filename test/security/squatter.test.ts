/**
 * No token to a port squatter: with no Gateway running, another local user's program listening on
 * gateway.port must not receive gateway.auth.token from the CLI. The squatter really runs as
 * another user (nobody, through setpriv), so the check reads a real foreign owner from
 * /proc/net/tcp; the decision itself is also tested with the owners given.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { foreignListener, isLoopbackHost } from "../../src/client/listener-owner.js"
import { cliEnv, freePort, runCli, tempStateDir } from "../support/cli.js"
import { startNodeHost } from "../support/node-host.js"
import { nodeForOtherUsers, readableCopy } from "../support/other-user.js"

const SECRET = "squatter-test-token-9f8e7d6c5b4a39281706"
const asRoot = typeof process.getuid === "function" && process.getuid() === 0
const canSwitchUser = asRoot && fs.existsSync("/usr/bin/setpriv") && fs.existsSync("/proc/net/tcp")

describe.skipIf(!canSwitchUser)("a port squatter of another user (real process as nobody)", { timeout: 60_000 }, () => {
  let squatter: ChildProcess
  let port: number
  let received = ""
  let env: NodeJS.ProcessEnv
  let stateDir: string

  beforeAll(async () => {
    port = await freePort()
    squatter = spawn(
      "setpriv",
      [
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        nodeForOtherUsers(),
        readableCopy("squatter.cjs", { withWs: true }),
        String(port)
      ],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    squatter.stdout!.on("data", (d) => (received += d))
    squatter.stderr!.on("data", (d) => (received += d))
    const deadline = Date.now() + 10_000
    while (!received.includes("listening") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(received).toContain("listening")
    stateDir = tempStateDir()
    fs.writeFileSync(
      path.join(stateDir, "openclaw.json"),
      JSON.stringify({ gateway: { port, auth: { token: SECRET } } }),
      { mode: 0o600 }
    )
    env = cliEnv(stateDir)
  })
  afterAll(() => {
    squatter?.kill("SIGKILL")
  })

  it("`openclaw health` refuses, naming the owner, and the squatter never sees a connection", async () => {
    const r = await runCli(["health"], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`port ${port} on this machine is held by another user's process (user nobody, uid 65534`)
    expect(r.stderr).toContain("so the credential was not sent")
    expect(r.stderr).toContain("Hint: `openclaw gateway run --port 0`")
    expect(r.stderr).not.toMatch(/^\s+at /m)
    expect(received).not.toContain("connection")
    expect(received).not.toContain(SECRET)
  })

  it("`gateway agent`, `status` and `doctor` keep the token too", async () => {
    const agent = await runCli(["gateway", "agent", "-m", "hi"], env)
    expect(agent.code).toBe(1)
    expect(agent.stderr).toContain("held by another user's process")
    const status = await runCli(["status", "--json"], env)
    expect(status.stdout + status.stderr).toContain("held by another user's process")
    // The squatter answers /healthz and the upgrade like a Gateway: the doctor stops before its connect.
    const doctor = await runCli(["doctor"], env, 30_000)
    expect(doctor.code).toBe(1)
    expect(doctor.stdout).toMatch(/FAIL challenge .*held by another user's process \(user nobody/)
    expect(received).not.toContain(SECRET)
  })

  it("the node host keeps its token too, and says why it cannot connect", async () => {
    const before = received.length
    const node = startNodeHost(["--url", `ws://127.0.0.1:${port}`, "--token", SECRET], cliEnv(tempStateDir()))
    try {
      await node.waitFor(/held by another user's process \(user nobody, uid 65534/)
    } finally {
      await node.stop()
    }
    expect(received.slice(before)).not.toContain("connection")
    expect(received).not.toContain(SECRET)
  })

  it("an explicit --url with --token to that loopback port is refused as well", async () => {
    const r = await runCli(["health", "--url", `ws://127.0.0.1:${port}`, "--token", SECRET], cliEnv(tempStateDir()))
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("held by another user's process")
    expect(received).not.toContain(SECRET)
  })
})

describe("who may receive a secret on a loopback port (the decision)", () => {
  const base = { uid: 1000, userName: (uid: number) => (uid === 0 ? "root" : uid === 1001 ? "mallory" : undefined) }

  it("only loopback hosts are checked", () => {
    expect(isLoopbackHost("127.0.0.1")).toBe(true)
    expect(isLoopbackHost("127.8.9.10")).toBe(true)
    expect(isLoopbackHost("[::1]")).toBe(true)
    expect(isLoopbackHost("localhost")).toBe(true)
    expect(isLoopbackHost("::ffff:127.0.0.1")).toBe(true)
    expect(isLoopbackHost("192.168.1.2")).toBe(false)
    expect(isLoopbackHost("gw.example.ts.net")).toBe(false)
    // A non-loopback URL is never looked at, whoever listens on its port here.
    expect(foreignListener("ws://192.168.1.2:18789", { ...base, owners: () => [1001] })).toBeUndefined()
  })

  it("this user's listener, nobody, or no /proc: the secret may go", () => {
    expect(foreignListener("ws://127.0.0.1:18789", { ...base, owners: () => [1000, 1000] })).toBeUndefined()
    expect(foreignListener("ws://127.0.0.1:18789", { ...base, owners: () => [] })).toBeUndefined()
    expect(foreignListener("ws://127.0.0.1:18789", { ...base, owners: () => undefined })).toBeUndefined()
    // No uids on this platform (Windows): today's behaviour.
    expect(foreignListener("ws://127.0.0.1:18789", { uid: undefined, owners: () => [1001] })).toBeUndefined()
  })

  it("another user's listener is refused, named, with the PID when it can be seen", () => {
    const why = foreignListener("ws://localhost:18789", {
      ...base,
      owners: () => [1001],
      describe: () => ({ pid: 4242, name: "nc", uid: 1001 })
    })
    expect(why).toContain(
      "port 18789 on this machine is held by another user's process (user mallory, uid 1001, PID 4242 (nc))"
    )
    // One of ours and one of theirs on the same port (127.0.0.1 and ::1): still refused.
    expect(
      foreignListener("ws://[::1]:18789", { ...base, owners: () => [1000, 1001], describe: () => undefined })
    ).toContain("(user mallory, uid 1001)")
  })

  it("root's listener only when it is the Gateway our runtime record names, or with an explicit --url", () => {
    const root = { ...base, owners: () => [0], describe: () => undefined }
    expect(foreignListener("ws://127.0.0.1:18789", root)).toContain("(user root, uid 0)")
    expect(foreignListener("ws://127.0.0.1:18789", { ...root, recordedPid: 77, holds: () => true })).toBeUndefined()
    expect(foreignListener("ws://127.0.0.1:18789", { ...root, recordedPid: 77, holds: () => false })).toContain("uid 0")
    // A container's published port (root's docker-proxy): refused with the way through, which is allowed.
    expect(foreignListener("ws://127.0.0.1:18789", root)).toContain("pass --url ws://127.0.0.1:18789 with --token")
    expect(foreignListener("ws://127.0.0.1:18789", { ...root, trustRoot: true })).toBeUndefined()
    expect(foreignListener("ws://127.0.0.1:18789", { ...base, owners: () => [1001], trustRoot: true })).toContain(
      "uid 1001"
    )
  })
})
