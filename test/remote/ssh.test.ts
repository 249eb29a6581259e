/**
 * gateway.remote.transport "ssh" against a real OpenSSH server: a Gateway on one loopback port
 * stands for the remote host, Debian's sshd on another; the real CLI opens and closes the tunnel.
 */
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BIN, cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"
import { type Sshd, sshClientPids, sshdUnavailable, sshSpecFor, startSshd } from "../support/sshd.js"

const RTOKEN = "remote-token-0123456789abcdef"

const laptop = (remote: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
  const dir = tempStateDir()
  fs.writeFileSync(
    path.join(dir, "openclaw.json"),
    JSON.stringify({ gateway: { mode: "remote", remote: { transport: "ssh", token: RTOKEN, ...remote }, ...extra } })
  )
  return cliEnv(dir)
}

const waitFor = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe.skipIf(sshdUnavailable() !== undefined)("transport ssh through a real sshd", { timeout: 60_000 }, () => {
  let sshd: Sshd
  let gw: GatewayProcess
  let env: NodeJS.ProcessEnv
  let good: Record<string, unknown>

  beforeAll(async () => {
    sshd = await startSshd()
    const serverDir = tempStateDir()
    fs.writeFileSync(path.join(serverDir, "openclaw.json"), JSON.stringify({ gateway: { auth: { token: RTOKEN } } }))
    gw = await startGateway(["--port", String(await freePort())], cliEnv(serverDir))
    good = {
      sshTarget: sshd.sshTarget,
      sshIdentity: sshd.identity,
      sshKnownHostsFile: sshd.knownHostsFile,
      remotePort: gw.port
    }
    env = laptop(good)
  })
  afterAll(async () => {
    await gw?.stop()
    await sshd?.stop()
  })

  it("health, status and call go through the tunnel, and the ssh process is gone afterwards", async () => {
    const logins = () => (sshd.log().match(/Accepted publickey/g) ?? []).length
    const before = logins()
    const health = await runCli(["health"], env)
    expect(health.stderr).toBe("")
    expect(health.code).toBe(0)
    expect(health.stdout).toMatch(/^Gateway Health\nOK \(\d+ms\)\n$/)
    expect(logins()).toBe(before + 1)
    expect(await sshClientPids(`-p ${sshd.port}`)).toEqual([])

    const call = await runCli(["gateway", "call", "status", "--json"], env)
    expect(call.code).toBe(0)
    expect(JSON.parse(call.stdout).bind.port).toBe(gw.port)

    const status = await runCli(["status"], env)
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(
      new RegExp(
        `Transport:\\s+ssh ${sshd.sshTarget.replace(/\./g, "\\.")} -> 127\\.0\\.0\\.1:${gw.port} \\(host keys: strict\\); tunnel up on 127\\.0\\.0\\.1:\\d+`
      )
    )
    expect(status.stdout).toContain(`(through an SSH tunnel)`)
    const json = JSON.parse((await runCli(["gateway", "status", "--json"], env)).stdout)
    expect(json).toMatchObject({
      reachable: true,
      transport: { kind: "ssh", sshTarget: sshd.sshTarget, remotePort: gw.port, tunnel: { state: "up" } }
    })
    expect(logins()).toBe(before + 4)
    expect(await sshClientPids(`-p ${sshd.port}`)).toEqual([])
    expect(status.stdout + call.stdout).not.toContain(RTOKEN)
  })

  it("a changed host key is reported as such, in one line, without ssh's banner", async () => {
    const r = await runCli(["health"], laptop({ ...good, sshKnownHostsFile: sshd.wrongKnownHostsFile() }))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /SSH tunnel failed: the SSH host key of 127\.0\.0\.1 port \d+ does not match the one in .*known_hosts\.wrong/
    )
    expect(r.stderr).not.toContain("@@@@")
    expect(r.stderr).toContain(`Gateway target: ws://127.0.0.1:${gw.port} on ${sshd.sshTarget} (through an SSH tunnel)`)
    expect(await sshClientPids(`-p ${sshd.port}`)).toEqual([])
  })

  it("an unknown host key, a refused key, and a refused connection each say what to check", async () => {
    const empty = path.join(tempStateDir(), "known_hosts")
    fs.writeFileSync(empty, "")
    const unknown = await runCli(["health"], laptop({ ...good, sshKnownHostsFile: empty }))
    expect(unknown.code).toBe(1)
    // The advice names gateway.remote.sshKnownHostsFile, and its command records the key there (not in ~/.ssh/known_hosts).
    expect(unknown.stderr).toContain(
      `is not in ${empty} (gateway.remote.sshKnownHostsFile) and gateway.remote.sshHostKeyPolicy is "strict"`
    )
    expect(unknown.stderr).toContain(
      `connect once with \`ssh -o UserKnownHostsFile=${empty} -p ${sshd.port} ${sshd.user}@127.0.0.1\``
    )
    expect(unknown.stderr).not.toContain("~/.ssh/known_hosts")

    const refusedKey = await runCli(["status"], laptop({ ...good, sshIdentity: sshd.strangerIdentity() }))
    expect(refusedKey.code).toBe(1)
    expect(refusedKey.stderr).toContain(
      `refused the login for ${sshd.user}@127.0.0.1: check gateway.remote.sshIdentity`
    )

    const closed = await freePort()
    const refused = await runCli(["health"], laptop({ ...good, sshTarget: `${sshd.user}@127.0.0.1:${closed}` }))
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`nothing accepts SSH connections at 127.0.0.1 port ${closed}`)
  })

  it("the tunnel is up but no Gateway answers on remotePort: the message says so", async () => {
    const r = await runCli(["health"], laptop({ ...good, remotePort: await freePort() }))
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/the SSH tunnel to .* is up, but nothing answered on 127\.0\.0\.1:\d+ there/)
    expect(r.stderr).toContain("Hint: start the Gateway on 127.0.0.1")
  })

  it("a wrong token through the tunnel: the hint names gateway.remote.token and the server's gateway.auth.token", async () => {
    const r = await runCli(["health"], laptop({ ...good, token: "wrong-token-0123456789" }))
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("set gateway.remote.token (or pass --token) to the Gateway host's gateway.auth.token")
    expect(r.stderr).not.toContain("wrong-token-0123456789")
    expect(await sshClientPids(`-p ${sshd.port}`)).toEqual([])
  })

  it("unsafe sshTarget values and a missing sshTarget are config errors (exit 78) naming the key", async () => {
    for (const target of [
      "-oProxyCommand=touch /tmp/x",
      "root@host;id",
      "root@host name",
      "root@$(id)",
      "me@host:99999"
    ]) {
      const r = await runCli(["health"], laptop({ ...good, sshTarget: target }))
      expect(r.code, target).toBe(78)
      expect(r.stderr, target).toContain("gateway.remote.sshTarget:")
    }
    const missing = await runCli(["health"], laptop({ remotePort: gw.port }))
    expect(missing.code).toBe(78)
    expect(missing.stderr).toContain('gateway.remote.transport is "ssh" but gateway.remote.sshTarget is not set')
    // `gateway tunnel` on a laptop set up for a direct URL (transport not "ssh"): name what it needs, not a transport it does not use.
    const dir = tempStateDir()
    fs.writeFileSync(
      path.join(dir, "openclaw.json"),
      JSON.stringify({ gateway: { mode: "remote", remote: { url: "wss://gw.example:18789", token: RTOKEN } } })
    )
    const tunnel = await runCli(["gateway", "tunnel"], cliEnv(dir))
    expect(tunnel.code).toBe(78)
    expect(tunnel.stderr).toContain("`openclaw gateway tunnel` needs gateway.remote.sshTarget")
    expect(tunnel.stderr).not.toContain('transport is "ssh"')
  })

  it("gateway tunnel: prints the local URLs, survives a killed ssh, shows in status, and releases everything on SIGTERM", async () => {
    const localPort = await freePort()
    // Without a tunnel that stays up, dashboard has no address for the browser: it says what to run.
    const noTunnel = await runCli(["dashboard", "--json"], env, 25_000)
    expect(noTunnel.code).toBe(1)
    expect(JSON.parse(noTunnel.stdout)).toMatchObject({ ok: false, error: { kind: "ssh-tunnel" } })
    expect(noTunnel.stderr).toContain("no `openclaw gateway tunnel` is up: run it in another terminal")
    const child = spawn(BIN, ["gateway", "tunnel", "--local-port", String(localPort)], {
      env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    child.stdout!.on("data", (d) => (out += d))
    child.stderr!.on("data", (d) => (out += d))
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
    try {
      await waitFor(`tunnel up:\n${out}`, () => /tunnel up: /.test(out))
      expect(out).toContain(`WebSocket:  ws://127.0.0.1:${localPort}`)
      expect(out).toContain(`Control UI: http://127.0.0.1:${localPort}/`)
      expect(out).toContain("Gateway:    answers (/healthz OK)")
      const health = await runCli(["health", "--url", `ws://127.0.0.1:${localPort}`, "--token", RTOKEN], env)
      expect(health.code).toBe(0)
      const status = await runCli(["status"], env)
      expect(status.stdout).toMatch(
        new RegExp(`Tunnel:\\s+\`openclaw gateway tunnel\` \\(PID ${child.pid}\\) up on 127\\.0\\.0\\.1:${localPort}`)
      )
      // dashboard mints a code through its own tunnel and points the browser at the running one.
      const dashboard = await runCli(["dashboard", "--json"], env, 25_000)
      expect(dashboard.stderr).toBe("")
      expect(dashboard.code).toBe(0)
      expect(JSON.parse(dashboard.stdout).url).toMatch(
        new RegExp(`^http://127\\.0\\.0\\.1:${localPort}/#code=[\\w-]{16,}$`)
      )
      expect(dashboard.stdout).not.toContain(RTOKEN)

      const sshPid = Number(/\(ssh pid (\d+)\)/.exec(out)![1])
      // ssh's command line: our options, the key file path, never the token.
      const argv = fs.readFileSync(`/proc/${sshPid}/cmdline`, "utf8").split("\0")
      expect(argv.slice(0, 6)).toEqual(["ssh", "-N", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes"])
      expect(argv).toContain(`127.0.0.1:${localPort}:127.0.0.1:${gw.port}`)
      expect(argv.join(" ")).not.toContain(RTOKEN)
      process.kill(sshPid, "SIGKILL")
      await waitFor(
        `tunnel down + up again:\n${out}`,
        () => /tunnel down: .*reconnecting in/.test(out) && /tunnel up again: /.test(out)
      )
      const again = await runCli(["health", "--url", `ws://127.0.0.1:${localPort}`, "--token", RTOKEN], env)
      expect(again.code).toBe(0)
      const newPid = Number(/tunnel up again: .*\(ssh pid (\d+)\)/.exec(out)![1])
      expect(newPid).not.toBe(sshPid)
      expect(await sshClientPids(`-p ${sshd.port}`)).toEqual([newPid])
    } finally {
      child.kill("SIGTERM")
    }
    expect(await exited).toBe(0)
    expect(out).toContain("tunnel closed")
    expect(await sshClientPids(`-p ${sshd.port}`)).toEqual([])
    expect(fs.existsSync(path.join(env.OPENCLAW_STATE_DIR!, "gateway", "tunnel.json"))).toBe(false)
  })

  it("gateway tunnel on a local port that is already taken (e.g. by the laptop's own Gateway) says so, and never claims the tunnel is up", async () => {
    const net = await import("node:net")
    // Something already listens on the chosen local port: ssh cannot bind it, and a probe of the port
    // would reach that listener instead of the tunnel.
    const squatter = net.createServer((s) => s.destroy()).listen(0, "127.0.0.1")
    await new Promise((r) => squatter.once("listening", r))
    const taken = (squatter.address() as { port: number }).port
    try {
      const r = await runCli(["gateway", "tunnel", "--local-port", String(taken)], env, 25_000)
      expect(r.stdout).not.toContain("tunnel up")
      expect(r.code).toBe(1)
      // The holder is named (this test process), not guessed.
      expect(r.stderr).toMatch(
        new RegExp(
          `Cannot open the SSH tunnel: local port ${taken} is already in use on 127\\.0\\.0\\.1 by "[^"]+" \\(PID ${process.pid}\\): choose another with --local-port, or stop that process`
        )
      )
      expect(await sshClientPids(`-p ${sshd.port}`)).toEqual([])
      // The usual case: this machine's own Gateway (here the one standing for the remote host) on that port.
      const own = await runCli(["gateway", "tunnel", "--local-port", String(gw.port)], env, 25_000)
      expect(own.code).toBe(1)
      expect(own.stderr).toContain(
        `local port ${gw.port} is already in use on 127.0.0.1 by "openclaw gateway run" (PID ${gw.child.pid}, an openclaw Gateway)`
      )
    } finally {
      squatter.close()
    }
  })

  it("gateway tunnel: a host key that changes (or a login refused) after the tunnel was up stops it with exit 1, no retry loop", async () => {
    for (const change of ["host-key", "login"] as const) {
      // The tunnel's own copies, so swapping them touches no other test.
      const dir = tempStateDir()
      const knownHosts = path.join(dir, "known_hosts")
      fs.copyFileSync(sshd.knownHostsFile, knownHosts)
      const identity = path.join(dir, "id")
      fs.copyFileSync(sshd.identity, identity)
      fs.chmodSync(identity, 0o600)
      const tunnelEnv = laptop({ ...good, sshKnownHostsFile: knownHosts, sshIdentity: identity })
      const child = spawn(BIN, ["gateway", "tunnel", "--local-port", String(await freePort())], {
        env: tunnelEnv,
        stdio: ["ignore", "pipe", "pipe"]
      })
      let out = ""
      let err = ""
      child.stdout!.on("data", (d) => (out += d))
      child.stderr!.on("data", (d) => (err += d))
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
      try {
        await waitFor(`tunnel up:\n${out}${err}`, () => /tunnel up: /.test(out))
        const sshPid = Number(/\(ssh pid (\d+)\)/.exec(out)![1])
        if (change === "host-key") fs.copyFileSync(sshd.wrongKnownHostsFile(), knownHosts)
        else fs.copyFileSync(sshd.strangerIdentity(), identity)
        process.kill(sshPid, "SIGKILL")
        const code = await Promise.race([
          exited,
          new Promise<"still running">((r) => setTimeout(() => r("still running"), 30_000))
        ])
        expect(code, `${change}:\n${out}${err}`).toBe(1)
      } finally {
        child.kill("SIGTERM")
      }
      const lines = err.trim().split("\n")
      expect(lines, err).toHaveLength(1)
      if (change === "host-key") {
        expect(err).toContain(
          "Stopped the SSH tunnel (the SSH host key changed since the tunnel was opened; not retrying): the SSH host key of 127.0.0.1 port"
        )
        expect(err).toContain(`does not match the one in ${knownHosts} (gateway.remote.sshKnownHostsFile)`)
        expect(err).toContain(`ssh-keygen -f ${knownHosts} -R "[127.0.0.1]:${sshd.port}"`)
        expect(err).toContain("check its new fingerprint out of band")
        expect(err).not.toContain("@@@@")
      } else {
        expect(err).toContain(
          `Stopped the SSH tunnel (the SSH login was refused on reconnect; not retrying): the SSH server 127.0.0.1 port ${sshd.port} refused the login`
        )
      }
      // The kill itself is reported as down once; the refused reconnect is never retried.
      expect((out.match(/tunnel up/g) ?? []).length).toBe(1)
      expect(out).toContain("tunnel closed")
      expect(await sshClientPids(`-p ${sshd.port}`)).toEqual([])
      expect(fs.existsSync(path.join(tunnelEnv.OPENCLAW_STATE_DIR!, "gateway", "tunnel.json"))).toBe(false)
    }
  })

  /** Starts `gateway tunnel` on `localPort` and waits for "tunnel up". */
  const startTunnel = async (tunnelEnv: NodeJS.ProcessEnv, localPort: number) => {
    const child = spawn(BIN, ["gateway", "tunnel", "--local-port", String(localPort)], {
      env: tunnelEnv,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    child.stdout!.on("data", (d) => (out += d))
    child.stderr!.on("data", (d) => (out += d))
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
    await waitFor(`tunnel up:\n${out}`, () => /tunnel up: /.test(out) || child.exitCode !== null)
    const sshPid = Number(/\(ssh pid (\d+)\)/.exec(out)?.[1])
    return { child, sshPid, out: () => out, exited }
  }
  const healthVia = (localPort: number, tunnelEnv: NodeJS.ProcessEnv) =>
    runCli(["health", "--url", `ws://127.0.0.1:${localPort}`, "--token", RTOKEN], tunnelEnv)

  it("kill -9 of gateway tunnel: its ssh dies with it (setpriv --pdeathsig), and the next gateway tunnel on that port comes up", async () => {
    const tunnelEnv = laptop(good)
    const localPort = await freePort()
    const first = await startTunnel(tunnelEnv, localPort)
    expect(first.sshPid).toBeGreaterThan(0)
    const record = JSON.parse(
      fs.readFileSync(path.join(tunnelEnv.OPENCLAW_STATE_DIR!, "ssh-tunnels", `${localPort}.json`), "utf8")
    )
    expect(record).toMatchObject({
      sshPid: first.sshPid,
      ownerPid: first.child.pid,
      localPort,
      forward: `127.0.0.1:${localPort}:127.0.0.1:${gw.port}`,
      destination: `${sshd.user}@127.0.0.1`
    })
    expect(fs.statSync(path.join(tunnelEnv.OPENCLAW_STATE_DIR!, "ssh-tunnels", `${localPort}.json`)).mode & 0o777).toBe(
      0o600
    )
    first.child.kill("SIGKILL")
    await first.exited
    await waitFor(
      "the orphaned ssh to die with its owner",
      async () => !(await sshClientPids(`-p ${sshd.port}`)).includes(first.sshPid),
      5_000
    )
    const second = await startTunnel(tunnelEnv, localPort)
    try {
      expect(second.out()).toContain(`tunnel up: 127.0.0.1:${localPort}`)
      expect((await healthVia(localPort, tunnelEnv)).code).toBe(0)
    } finally {
      second.child.kill("SIGTERM")
    }
    expect(await second.exited).toBe(0)
    expect(fs.existsSync(path.join(tunnelEnv.OPENCLAW_STATE_DIR!, "ssh-tunnels", `${localPort}.json`))).toBe(false)
  })

  it("without setpriv, an ssh left by a killed gateway tunnel is stopped by the next one (which says so); a live tunnel is named, never stopped", async () => {
    // A PATH with node and ssh but no setpriv: ssh outlives its SIGKILLed owner, as on macOS.
    const bin = fs.mkdtempSync(path.join(tempStateDir(), "bin-"))
    fs.symlinkSync(process.execPath, path.join(bin, "node"))
    fs.symlinkSync(execFileSync("sh", ["-c", "command -v ssh"], { encoding: "utf8" }).trim(), path.join(bin, "ssh"))
    const tunnelEnv = { ...laptop(good), PATH: bin }
    const localPort = await freePort()
    const first = await startTunnel(tunnelEnv, localPort)
    first.child.kill("SIGKILL")
    await first.exited
    await new Promise((r) => setTimeout(r, 500))
    expect(await sshClientPids(`-p ${sshd.port}`)).toContain(first.sshPid)

    const second = await startTunnel(tunnelEnv, localPort)
    try {
      expect(second.out()).toContain(
        `stopped ssh (PID ${first.sshPid}) left on 127.0.0.1:${localPort} by an earlier openclaw process (PID ${first.child.pid}) that no longer runs`
      )
      expect(second.out()).toContain(`tunnel up: 127.0.0.1:${localPort}`)
      expect(await sshClientPids(`-p ${sshd.port}`)).toEqual([second.sshPid])
      expect((await healthVia(localPort, tunnelEnv)).code).toBe(0)

      // A third on the same port while the second runs: the holder is named, and nothing is stopped.
      const third = await runCli(["gateway", "tunnel", "--local-port", String(localPort)], tunnelEnv, 25_000)
      expect(third.code).toBe(1)
      expect(third.stderr).toContain(
        `local port ${localPort} is already in use on 127.0.0.1 by ssh (PID ${second.sshPid}), the SSH tunnel to ${sshd.user}@127.0.0.1 of openclaw PID ${second.child.pid}, which is still running`
      )
      expect(await sshClientPids(`-p ${sshd.port}`)).toEqual([second.sshPid])
    } finally {
      second.child.kill("SIGTERM")
    }
    expect(await second.exited).toBe(0)
  })

  it("a record that no longer describes our ssh (PID reused by another program) is dropped, and that process is left alone", async () => {
    const stateDir = tempStateDir()
    const localPort = await freePort()
    // A live process that is not ssh, recorded with a dead owner.
    const other = spawn("sleep", ["30"], { stdio: "ignore" })
    const dead = spawn("true")
    await new Promise((r) => dead.once("exit", r))
    fs.mkdirSync(path.join(stateDir, "ssh-tunnels"), { recursive: true })
    const record = path.join(stateDir, "ssh-tunnels", `${localPort}.json`)
    fs.writeFileSync(
      record,
      JSON.stringify({
        sshPid: other.pid,
        ownerPid: dead.pid,
        localPort,
        forward: `127.0.0.1:${localPort}:127.0.0.1:${gw.port}`,
        destination: `${sshd.user}@127.0.0.1`,
        since: 0
      })
    )
    try {
      const { Effect } = await import("effect")
      const { reapOrphanedTunnels } = await import("../../src/services/ssh/records.js")
      expect(await Effect.runPromise(reapOrphanedTunnels(stateDir))).toEqual([])
      expect(other.exitCode).toBe(null)
      expect(other.signalCode).toBe(null)
      expect(fs.existsSync(record)).toBe(false)
    } finally {
      other.kill()
    }
  })

  it("gateway tunnel with a changed host key ends at once with the reason", async () => {
    const r = await runCli(
      ["gateway", "tunnel", "--local-port", String(await freePort())],
      laptop({ ...good, sshKnownHostsFile: sshd.wrongKnownHostsFile() })
    )
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("Cannot open the SSH tunnel: the SSH host key of 127.0.0.1")
  })
})

describe.skipIf(sshdUnavailable() !== undefined)(
  "SshTunnel service (in-process) with the sshd fixture",
  { timeout: 60_000 },
  () => {
    it("opens a forward to a port on the server's loopback, and closing the scope stops ssh", async () => {
      const { Effect } = await import("effect")
      const net = await import("node:net")
      const { SshTunnel } = await import("../../src/services/ssh/SshTunnel.js")
      const sshd = await startSshd()
      const echo = net.createServer((s) => s.pipe(s)).listen(0, "127.0.0.1")
      try {
        await new Promise((r) => echo.once("listening", r))
        const remotePort = (echo.address() as { port: number }).port
        const program = Effect.scoped(
          Effect.gen(function* () {
            const tunnel = yield* (yield* SshTunnel).open(sshSpecFor(sshd, remotePort))
            const reply = yield* Effect.promise(
              () =>
                new Promise<string>((resolve) => {
                  const c = net.connect(tunnel.localPort, "127.0.0.1", () => c.write("ping"))
                  c.once("data", (d) => {
                    c.destroy()
                    resolve(d.toString())
                  })
                })
            )
            return { reply, pid: tunnel.pid }
          })
        ).pipe(Effect.provide(SshTunnel.layer))
        const { reply, pid } = await Effect.runPromise(program)
        expect(reply).toBe("ping")
        expect(await sshClientPids(`-p ${sshd.port}`)).not.toContain(pid)
      } finally {
        echo.close()
        await sshd.stop()
      }
    })
  }
)
