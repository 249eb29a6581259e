/**
 * `openclaw gateway tunnel` stopped at many instants of its start-up (TERM, INT, HUP from ssh's
 * spawn until after the tunnel is up) against a real sshd: afterwards no ssh of ours is left, the
 * local port is free, and neither the tunnel's state file nor an ssh record remains.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BIN, cliEnv, freePort, tempStateDir } from "../support/cli.js"
import { type Sshd, sshClientPids, sshdUnavailable, startSshd } from "../support/sshd.js"

const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.createServer()
    s.once("error", () => resolve(false))
    s.listen({ host: "127.0.0.1", port, exclusive: true }, () => s.close(() => resolve(true)))
  })

describe.skipIf(sshdUnavailable() !== undefined)("gateway tunnel: a stop during start-up", () => {
  let sshd: Sshd
  beforeAll(async () => {
    sshd = await startSshd()
  })
  afterAll(async () => {
    await sshd?.stop()
  })

  it("leaves no ssh, no listener and no record, at 15 instants after ssh's spawn", { timeout: 180_000 }, async () => {
    const left: Array<string> = []
    const remotePort = await freePort()
    for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const)
      for (const delayMs of [0, 60, 150, 300, 800]) {
        const dir = tempStateDir()
        fs.writeFileSync(
          path.join(dir, "openclaw.json"),
          JSON.stringify({
            gateway: {
              mode: "remote",
              remote: {
                transport: "ssh",
                token: "tunnel-stop-token-0123456789abcdef",
                sshTarget: sshd.sshTarget,
                sshIdentity: sshd.identity,
                sshKnownHostsFile: sshd.knownHostsFile,
                remotePort
              }
            }
          })
        )
        const localPort = await freePort()
        const child = spawn(BIN, ["gateway", "tunnel", "--local-port", String(localPort)], {
          env: cliEnv(dir),
          stdio: ["ignore", "pipe", "pipe"]
        })
        let out = ""
        child.stdout.on("data", (d) => (out += d))
        child.stderr.on("data", (d) => (out += d))
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
        // Counted from ssh's spawn: between it and the forward accepting is where a release could be missed.
        const deadline = Date.now() + 10_000
        while ((await sshClientPids(`${localPort}:127.0.0.1:${remotePort}`)).length === 0) {
          if (Date.now() > deadline || child.exitCode !== null) throw new Error(`ssh never started:\n${out}`)
          await new Promise((r) => setTimeout(r, 5))
        }
        await new Promise((r) => setTimeout(r, delayMs))
        child.kill(signal)
        await exited
        const label = `${signal} +${delayMs}ms (${/tunnel up/.test(out) ? "after" : "before"} up)`
        const ssh = await sshClientPids(`${localPort}:127.0.0.1:${remotePort}`)
        if (ssh.length > 0) left.push(`${label}: ssh ${ssh.join(",")} still runs`)
        if (!(await portIsFree(localPort))) left.push(`${label}: port ${localPort} still held`)
        if (fs.existsSync(path.join(dir, "gateway", "tunnel.json"))) left.push(`${label}: tunnel.json left`)
        const records = fs.existsSync(path.join(dir, "ssh-tunnels"))
          ? fs.readdirSync(path.join(dir, "ssh-tunnels"))
          : []
        if (records.length > 0) left.push(`${label}: ssh records ${records.join(",")} left`)
      }
    expect(left).toEqual([])
  })
})
