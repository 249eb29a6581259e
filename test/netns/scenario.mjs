// Runs inside a private network namespace (see test/netns/netns.test.ts), where this machine has a
// Tailscale-range address (100.101.102.103) and a second, "remote" address (10.77.0.2) on a veth
// pair. Starts real Gateways with bin/openclaw and prints one JSON object of observations.
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import WebSocket from "ws"

const BIN = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), "../../bin/openclaw")
const TAILNET = "100.101.102.103"
const REMOTE = "10.77.0.2"
const TOKEN = "netns-token-0123456789abcdef"

const startGateway = (stateDir, gateway) =>
  new Promise((resolve, reject) => {
    fs.writeFileSync(path.join(stateDir, "openclaw.json"), JSON.stringify({ gateway: { auth: { token: TOKEN }, ...gateway } }))
    const child = spawn(BIN, ["gateway", "run"], { env: { PATH: process.env.PATH, HOME: stateDir, OPENCLAW_STATE_DIR: stateDir }, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    child.stdout.on("data", (d) => {
      out += d
      if (/listening on/.test(out)) setTimeout(() => resolve({ child, out: () => out }), 50)
    })
    child.stderr.on("data", (d) => (out += d))
    child.once("exit", (code) => reject(new Error(`exit ${code}: ${out}`)))
  })

const stop = (child) => new Promise((r) => (child.once("exit", r), child.kill("SIGTERM")))

/** Connects (optionally from a given source address) and returns the connect response or the error. */
const tryConnect = (url, token, localAddress) =>
  new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress })
    ws.on("error", (e) => resolve({ error: e.code ?? e.message }))
    ws.on("message", (d) => {
      const f = JSON.parse(d.toString())
      if (f.event === "connect.challenge") {
        ws.send(JSON.stringify({ type: "req", id: "c", method: "connect", params: { minProtocol: 4, maxProtocol: 4, client: { id: "netns", version: "1", platform: "linux", mode: "test" }, auth: { token } } }))
      } else if (f.type === "res") {
        ws.close()
        resolve(f.ok ? { ok: true, peer: f.payload.snapshot.presence.at(-1)?.host } : { code: f.error.details?.code })
      }
    })
  })

const cli = (stateDir, args) => {
  try {
    return { code: 0, out: execFileSync(BIN, args, { env: { PATH: process.env.PATH, HOME: stateDir, OPENCLAW_STATE_DIR: stateDir }, encoding: "utf8", stdio: "pipe" }) }
  } catch (e) {
    return { code: e.status, out: `${e.stdout}${e.stderr}` }
  }
}

const scenario = process.argv[2]
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-netns-"))
const result = {}

if (scenario === "tailnet") {
  const gw = await startGateway(stateDir, { bind: "tailnet", port: 18789 })
  result.listening = gw.out().match(/listening on (\S+)/)[1]
  result.fromRemote = await tryConnect(`ws://${TAILNET}:18789`, TOKEN, REMOTE)
  result.loopback = await tryConnect("ws://127.0.0.1:18789", TOKEN)
  result.cliHealth = cli(stateDir, ["health"])
  result.cliStatus = cli(stateDir, ["status"])
  // Brute force from the remote address: locked out by attempt 11; another address still gets in.
  result.bruteForce = []
  for (let i = 0; i < 11; i++) result.bruteForce.push((await tryConnect(`ws://${TAILNET}:18789`, `guess-${i}`, REMOTE)).code)
  result.rightTokenFromLockedAddress = await tryConnect(`ws://${TAILNET}:18789`, TOKEN, REMOTE)
  result.otherAddressDuringLockout = await tryConnect(`ws://${TAILNET}:18789`, TOKEN, TAILNET)
  await stop(gw.child)
} else if (scenario === "lan") {
  const gw = await startGateway(stateDir, { bind: "lan", port: 18790 })
  result.listening = gw.out().match(/listening on (\S+)/)[1]
  result.bindLine = gw.out().match(/Bind:\s+(.*)/)[1]
  result.viaTailnet = await tryConnect(`ws://${TAILNET}:18790`, TOKEN, REMOTE)
  result.viaLoopback = await tryConnect("ws://127.0.0.1:18790", TOKEN)
  await stop(gw.child)
} else if (scenario === "custom") {
  const gw = await startGateway(stateDir, { bind: "custom", customBindHost: REMOTE, port: 18791 })
  result.listening = gw.out().match(/listening on (\S+)/)[1]
  result.onCustom = await tryConnect(`ws://${REMOTE}:18791`, TOKEN)
  result.onTailnet = await tryConnect(`ws://${TAILNET}:18791`, TOKEN)
  result.cliHealth = cli(stateDir, ["health"])
  await stop(gw.child)
} else if (scenario === "no-tailnet") {
  // Run with the Tailscale address removed: a clear error, never a fallback.
  fs.writeFileSync(path.join(stateDir, "openclaw.json"), JSON.stringify({ gateway: { bind: "tailnet", auth: { token: TOKEN } } }))
  result.run = cli(stateDir, ["gateway", "run"])
}
fs.rmSync(stateDir, { recursive: true, force: true })
console.log(JSON.stringify(result))
