// `openclaw health` through the managed SSH tunnel (gateway.remote.transport "ssh") against a
// real sshd, next to the same command reaching the Gateway directly, in the same run.
// Each tunnelled run pays for starting ssh, the SSH handshake and public-key login, the forward
// coming up, and closing the tunnel again. Returns null when sshd cannot run here.
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { freePort, sshdUnavailable, startSshd } from "../test/support/sshd-fixture.mjs"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const BIN = path.join(root, "bin/openclaw")
const TOKEN = "bench-tunnel-token-0123456789abcdef"

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const stats = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length })

const stateDir = (gateway) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-bench-tunnel-"))
  fs.writeFileSync(path.join(dir, "openclaw.json"), JSON.stringify({ gateway }))
  return { dir, env: { PATH: process.env.PATH, HOME: dir, OPENCLAW_STATE_DIR: dir } }
}

const startGateway = (port, env) =>
  new Promise((resolve, reject) => {
    const child = spawn(BIN, ["gateway", "run", "--port", String(port)], { env, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    const onData = (d) => {
      out += d
      if (/listening on /.test(out)) resolve(child)
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", (d) => (out += d))
    child.once("exit", (code) => reject(new Error(`gateway exited ${code}: ${out}`)))
  })

const stop = (child) =>
  new Promise((r) => (child.exitCode !== null ? r() : (child.once("exit", r), child.kill("SIGTERM"))))

const timeHealth = (env) => {
  const t = performance.now()
  execFileSync(BIN, ["health"], { env, stdio: "ignore", timeout: 30_000 })
  return (performance.now() - t) / 1000
}

export async function benchTunnel({ smoke = false } = {}) {
  if (sshdUnavailable() !== undefined) return null
  const n = smoke ? 2 : 10
  const sshd = await startSshd()
  const server = stateDir({ auth: { token: TOKEN } })
  const port = await freePort()
  let gateway
  try {
    gateway = await startGateway(port, server.env)
    const direct = stateDir({ mode: "remote", remote: { url: `ws://127.0.0.1:${port}`, token: TOKEN } })
    const tunnelled = stateDir({
      mode: "remote",
      remote: {
        transport: "ssh",
        token: TOKEN,
        sshTarget: sshd.sshTarget,
        sshIdentity: sshd.identity,
        sshKnownHostsFile: sshd.knownHostsFile,
        remotePort: port
      }
    })
    // Warm-up: the V8 code cache, the page cache for ssh and sshd.
    timeHealth(direct.env)
    timeHealth(tunnelled.env)
    const viaSsh = []
    const viaDirect = []
    for (let i = 0; i < n; i++) {
      viaDirect.push(timeHealth(direct.env))
      viaSsh.push(timeHealth(tunnelled.env))
    }
    for (const d of [direct, tunnelled]) fs.rmSync(d.dir, { recursive: true, force: true })
    return {
      name: "cli: health through ssh tunnel",
      value: stats(viaSsh),
      unit: "s",
      baselineName: "direct health",
      baseline: stats(viaDirect)
    }
  } finally {
    if (gateway) await stop(gateway)
    await sshd.stop()
    fs.rmSync(server.dir, { recursive: true, force: true })
  }
}

// `node bench/tunnel.mjs [--smoke]` runs it alone.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await benchTunnel({ smoke: process.argv.includes("--smoke") })
  console.log(result === null ? "skipped: sshd cannot run here" : JSON.stringify(result, null, 2))
}
