/**
 * A node host on the "laptop" reaching the Gateway through an SSH tunnel (`openclaw gateway tunnel`
 * against a real sshd): the tunnel arrives on the Gateway as loopback, yet the node is not
 * auto-approved (its key is not the Gateway machine's own); after approval it works through the
 * tunnel, and it reconnects when the tunnel's ssh is killed and comes back.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BIN, cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { type NodeHostProcess, startNodeHost } from "../support/node-host.js"
import { type Sshd, sshClientPids, sshdUnavailable, startSshd } from "../support/sshd.js"

const RTOKEN = "remote-node-token-0123456789abcdef"

describe.skipIf(sshdUnavailable() !== undefined)("a node host through an SSH tunnel", { timeout: 90_000 }, () => {
  let sshd: Sshd
  let gw: GatewayProcess
  let serverEnv: NodeJS.ProcessEnv
  let laptopEnv: NodeJS.ProcessEnv
  let tunnel: ReturnType<typeof spawn> | undefined
  let tunnelOut = ""
  let node: NodeHostProcess | undefined
  let sshNode: NodeHostProcess | undefined
  let laptopConfig: unknown

  const waitFor = async (what: string, check: () => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs
    while (!check()) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}\ntunnel:\n${tunnelOut}\nnode:\n${node?.output()}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  beforeAll(async () => {
    sshd = await startSshd()
    const serverDir = tempStateDir()
    fs.writeFileSync(
      path.join(serverDir, "openclaw.json"),
      JSON.stringify({ gateway: { port: await freePort(), auth: { token: RTOKEN } } })
    )
    serverEnv = cliEnv(serverDir)
    gw = await startGateway([], serverEnv)
    const laptopDir = tempStateDir()
    laptopConfig = {
      gateway: {
        mode: "remote",
        remote: {
          transport: "ssh",
          token: RTOKEN,
          sshTarget: sshd.sshTarget,
          sshIdentity: sshd.identity,
          sshKnownHostsFile: sshd.knownHostsFile,
          remotePort: gw.port
        }
      }
    }
    fs.writeFileSync(path.join(laptopDir, "openclaw.json"), JSON.stringify(laptopConfig))
    laptopEnv = cliEnv(laptopDir)
  })

  afterAll(async () => {
    await sshNode?.stop()
    await node?.stop()
    if (tunnel !== undefined && tunnel.exitCode === null) {
      const exited = new Promise((r) => tunnel!.once("exit", r))
      tunnel.kill("SIGTERM")
      await exited
    }
    await gw?.stop()
    await sshd?.stop()
  })

  it("waits for approval (a tunnel is not local), then serves browser.request through the tunnel and survives a tunnel restart", async () => {
    const localPort = await freePort()
    tunnel = spawn(BIN, ["gateway", "tunnel", "--local-port", String(localPort)], {
      env: laptopEnv,
      stdio: ["ignore", "pipe", "pipe"]
    })
    tunnel.stdout!.on("data", (d) => (tunnelOut += d))
    tunnel.stderr!.on("data", (d) => (tunnelOut += d))
    await waitFor("the tunnel", () => /tunnel up: /.test(tunnelOut))

    node = startNodeHost(
      ["--url", `ws://127.0.0.1:${localPort}`, "--token", RTOKEN, "--display-name", "laptop"],
      laptopEnv
    )
    const [, requestId] = await node.waitFor(/waiting for approval: requestId ([0-9a-f-]{36})/)
    const pending = JSON.parse((await runCli(["nodes", "pending", "--json"], serverEnv)).stdout).pending
    // Through the tunnel the node arrives from loopback, and is still not approved automatically.
    expect(pending).toEqual([expect.objectContaining({ requestId, displayName: "laptop", remoteAddress: "127.0.0.1" })])
    expect((await runCli(["nodes", "approve", requestId!], serverEnv)).code).toBe(0)
    await node.waitFor(/connected to ws:\/\/127\.0\.0\.1:\d+ as node [0-9a-f]{12} \(laptop\)/)

    const status = await runCli(["browser", "status"], serverEnv, 30_000)
    expect(status.stderr).toBe("")
    expect(status.stdout).toContain("Browser: not started")

    const sshPid = Number(/\(ssh pid (\d+)\)/.exec(tunnelOut)![1])
    const from = node.output().length
    process.kill(sshPid, "SIGKILL")
    await node.waitFor(/connection to the Gateway lost/, from)
    await waitFor("the tunnel to come back", () => /tunnel up again: /.test(tunnelOut))
    await node.waitFor(/reconnected to ws:\/\/127\.0\.0\.1:\d+ as node [0-9a-f]{12} \(laptop\)/, from, 45_000)
    expect(node.output().slice(from)).not.toContain("waiting for approval")
    expect((await runCli(["browser", "status"], serverEnv, 30_000)).code).toBe(0)
  })

  it('with gateway.remote.transport "ssh" and no --url, opens its own SSH tunnel per connection, reopens it after ssh dies, and leaves no ssh behind', async () => {
    // Only one browser node may be connected for `browser status` to pick it.
    await node?.stop()
    node = undefined
    const laptop2Dir = tempStateDir()
    fs.writeFileSync(path.join(laptop2Dir, "openclaw.json"), JSON.stringify(laptopConfig))
    const laptop2Env = cliEnv(laptop2Dir)
    // ssh processes to this sshd that are not the node host's (the `gateway tunnel` of the test above).
    const before = new Set(await sshClientPids(`-p ${sshd.port}`))

    sshNode = startNodeHost(["--display-name", "laptop-ssh"], laptop2Env)
    const [, requestId] = await sshNode.waitFor(/waiting for approval: requestId ([0-9a-f-]{36})/, 0, 30_000)
    expect(sshNode.output()).not.toContain("gateway tunnel")
    expect((await runCli(["nodes", "approve", requestId!], serverEnv)).code).toBe(0)
    const connected = new RegExp(
      `connected to ws://127\\.0\\.0\\.1:${gw.port} through the SSH tunnel to ${sshd.sshTarget.replace(/\./g, "\\.")} \\(ssh pid (\\d+)\\) as node [0-9a-f]{12} \\(laptop-ssh\\)`
    )
    const [, firstPid] = await sshNode.waitFor(connected, 0, 30_000)
    // The ssh named in the log is a live ssh to this sshd.
    expect(await sshClientPids(`-p ${sshd.port}`)).toContain(Number(firstPid))

    const list = JSON.parse((await runCli(["nodes", "list", "--json"], serverEnv)).stdout).nodes
    expect(list).toEqual(
      expect.arrayContaining([expect.objectContaining({ displayName: "laptop-ssh", connected: true, paired: true })])
    )
    const status = await runCli(["browser", "status"], serverEnv, 30_000)
    expect(status.stderr).toBe("")
    expect(status.stdout).toContain("Browser: not started")

    // Kill its ssh: the host notices at once, reopens a tunnel (a new ssh) and reconnects without re-pairing.
    const from = sshNode.output().length
    process.kill(Number(firstPid), "SIGKILL")
    await sshNode.waitFor(
      /connection to the Gateway lost \(SSH tunnel down: ssh to 127\.0\.0\.1 port \d+ was stopped by SIGKILL\)/,
      from
    )
    const [, secondPid] = await sshNode.waitFor(new RegExp(`re${connected.source}`), from, 45_000)
    expect(Number(secondPid)).not.toBe(Number(firstPid))
    expect(sshNode.output().slice(from)).not.toContain("waiting for approval")
    expect((await runCli(["browser", "status"], serverEnv, 30_000)).code).toBe(0)

    // SIGTERM: the node host exits cleanly and takes its ssh with it.
    sshNode.child.kill("SIGTERM")
    expect(await Promise.race([sshNode.exited, new Promise((r) => setTimeout(() => r("still running"), 10_000))])).toBe(
      0
    )
    const left = (await sshClientPids(`-p ${sshd.port}`)).filter((pid) => !before.has(pid))
    expect(left).toEqual([])
  })

  it("kill -9 of a node host with transport ssh: its ssh does not outlive it", async () => {
    const dir = tempStateDir()
    fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify(laptopConfig))
    const before = new Set(await sshClientPids(`-p ${sshd.port}`))
    const host = startNodeHost(["--display-name", "killed"], cliEnv(dir))
    try {
      // Waiting for approval means it is connected through its own tunnel.
      await host.waitFor(/waiting for approval/, 0, 30_000)
      const mine = (await sshClientPids(`-p ${sshd.port}`)).filter((pid) => !before.has(pid))
      expect(mine).toHaveLength(1)
      host.child.kill("SIGKILL")
      await host.exited
      const deadline = Date.now() + 5_000
      while ((await sshClientPids(`-p ${sshd.port}`)).includes(mine[0]!) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50))
      expect(await sshClientPids(`-p ${sshd.port}`)).not.toContain(mine[0])
    } finally {
      await host.stop()
    }
  })

  it("stops with exit 1 and the one-line SSH message when the SSH host key does not match, and leaves no ssh behind", async () => {
    const dir = tempStateDir()
    const config = laptopConfig as { gateway: { remote: Record<string, unknown> } }
    fs.writeFileSync(
      path.join(dir, "openclaw.json"),
      JSON.stringify({
        gateway: {
          ...config.gateway,
          remote: { ...config.gateway.remote, sshKnownHostsFile: sshd.wrongKnownHostsFile() }
        }
      })
    )
    const before = new Set(await sshClientPids(`-p ${sshd.port}`))
    const host = startNodeHost(["--display-name", "wrong-key"], cliEnv(dir))
    try {
      expect(await Promise.race([host.exited, new Promise((r) => setTimeout(() => r("still running"), 20_000))])).toBe(
        1
      )
      expect(host.output()).toMatch(
        /node host stopped: cannot open the SSH tunnel: the SSH host key of 127\.0\.0\.1 port \d+ does not match the one in /
      )
      expect(host.output()).not.toContain("retrying")
      expect((await sshClientPids(`-p ${sshd.port}`)).filter((pid) => !before.has(pid))).toEqual([])
    } finally {
      await host.stop()
    }
  })
})
