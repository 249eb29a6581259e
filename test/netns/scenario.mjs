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
// A second address in 100.64.0.0/10 that is NOT this node's tailnet address (a carrier-grade NAT
// WAN address), on the interface Node lists first; set up by netns.test.ts for the tailnet-* scenarios.
const CGNAT = "100.88.0.1"
const FAKE_TAILSCALE = path.resolve(BIN, "../../test/support/fake-tailscale")

/** PATH with the fake tailscale reporting `ips` for this node (state file in stateDir), or without any tailscale. */
const envWith = (stateDir, ips) => {
  const env = { PATH: process.env.PATH, HOME: stateDir, OPENCLAW_STATE_DIR: stateDir }
  if (ips === undefined) return env
  const binDir = path.join(stateDir, "bin")
  fs.mkdirSync(binDir, { recursive: true })
  fs.symlinkSync(FAKE_TAILSCALE, path.join(binDir, "tailscale"))
  fs.writeFileSync(path.join(stateDir, "fake-tailscale.json"), JSON.stringify({ ips }))
  return {
    ...env,
    PATH: `${binDir}:${process.env.PATH}`,
    FAKE_TAILSCALE_STATE: path.join(stateDir, "fake-tailscale.json")
  }
}

const startGateway = (stateDir, gateway, env = envWith(stateDir)) =>
  new Promise((resolve, reject) => {
    fs.writeFileSync(
      path.join(stateDir, "openclaw.json"),
      JSON.stringify({ gateway: { auth: { token: TOKEN }, ...gateway } })
    )
    const child = spawn(BIN, ["gateway", "run"], { env, stdio: ["ignore", "pipe", "pipe"] })
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
        ws.send(
          JSON.stringify({
            type: "req",
            id: "c",
            method: "connect",
            params: {
              minProtocol: 4,
              maxProtocol: 4,
              client: { id: "netns", version: "1", platform: "linux", mode: "test" },
              auth: { token }
            }
          })
        )
      } else if (f.type === "res") {
        ws.close()
        resolve(f.ok ? { ok: true, peer: f.payload.snapshot.presence.at(-1)?.host } : { code: f.error.details?.code })
      }
    })
  })

const cli = (stateDir, args, env = envWith(stateDir)) => {
  try {
    return { code: 0, out: execFileSync(BIN, args, { env, encoding: "utf8", stdio: "pipe" }) }
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
  for (let i = 0; i < 11; i++)
    result.bruteForce.push((await tryConnect(`ws://${TAILNET}:18789`, `guess-${i}`, REMOTE)).code)
  result.rightTokenFromLockedAddress = await tryConnect(`ws://${TAILNET}:18789`, TOKEN, REMOTE)
  result.otherAddressDuringLockout = await tryConnect(`ws://${TAILNET}:18789`, TOKEN, TAILNET)
  await stop(gw.child)
} else if (scenario === "lan") {
  const gw = await startGateway(stateDir, { bind: "lan", port: 18790 })
  result.listening = gw.out().match(/listening on (\S+)/)[1]
  result.bindLine = gw.out().match(/Bind:\s+(.*)/)[1]
  result.lanLines = gw
    .out()
    .split("\n")
    .filter((l) => /^ {2}(From LAN: | {11})\s*wss?:\/\//.test(l))
    .map((l) => l.trim())
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
  fs.writeFileSync(
    path.join(stateDir, "openclaw.json"),
    JSON.stringify({ gateway: { bind: "tailnet", auth: { token: TOKEN } } })
  )
  result.run = cli(stateDir, ["gateway", "run"])
} else if (scenario === "tailnet-reported") {
  // Tailscale says this node is 100.101.102.103 (its IPv6 address listed first, and not on any
  // interface here); 100.88.0.1 is in the range too but is not ours.
  const env = envWith(stateDir, ["fd7a:115c:a1e0::9", TAILNET])
  const gw = await startGateway(stateDir, { bind: "tailnet", port: 18792 }, env)
  result.listening = gw.out().match(/listening on (\S+)/)[1]
  result.out = gw.out()
  result.onReported = await tryConnect(`ws://${TAILNET}:18792`, TOKEN, REMOTE)
  result.onCgnat = await tryConnect(`ws://${CGNAT}:18792`, TOKEN, REMOTE)
  await stop(gw.child)
} else if (scenario === "tailnet-no-cli") {
  // No tailscale CLI: the range scan, and a log line that says so.
  const gw = await startGateway(stateDir, { bind: "tailnet", port: 18793 })
  await new Promise((r) => setTimeout(r, 100))
  result.listening = gw.out().match(/listening on (\S+)/)[1]
  result.out = gw.out()
  await stop(gw.child)
} else if (scenario === "tailnet-not-held") {
  // Tailscale reports an address no interface holds (userspace networking): an error, not the range scan.
  fs.writeFileSync(
    path.join(stateDir, "openclaw.json"),
    JSON.stringify({ gateway: { bind: "tailnet", port: 18794, auth: { token: TOKEN } } })
  )
  result.run = cli(stateDir, ["gateway", "run"], envWith(stateDir, ["100.99.99.99"]))
} else if (scenario === "lan-weak") {
  fs.writeFileSync(
    path.join(stateDir, "openclaw.json"),
    JSON.stringify({ gateway: { bind: "lan", port: 18795, auth: { token: TOKEN } } })
  )
  result.run = cli(stateDir, ["gateway", "run", "--token", "abc"])
} else if (scenario === "auto-weak") {
  // Loopback cannot be bound here (netns.test.ts removed its addresses), so "auto" would fall back to every interface.
  fs.writeFileSync(
    path.join(stateDir, "openclaw.json"),
    JSON.stringify({ gateway: { bind: "auto", port: 18796, auth: { token: "short-token" } } })
  )
  result.run = cli(stateDir, ["gateway", "run"])
  result.onRemote = await tryConnect(`ws://${REMOTE}:18796`, TOKEN)
} else if (scenario === "auto-strong") {
  const gw = await startGateway(stateDir, { bind: "auto", port: 18797 })
  result.listening = gw.out().match(/listening on (\S+)/)[1]
  result.out = gw.out()
  result.onRemote = await tryConnect(`ws://${REMOTE}:18797`, TOKEN)
  await stop(gw.child)
}
fs.rmSync(stateDir, { recursive: true, force: true })
console.log(JSON.stringify(result))
