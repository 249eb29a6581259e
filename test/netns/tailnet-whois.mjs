// Runs inside a private network namespace (see test/netns/tailnet-whois.test.ts) where this machine
// has the Tailscale address 100.101.102.103 and "other tailnet devices" 100.64.0.7 (alice),
// 100.64.0.9 (a tagged server) and 100.64.0.99 (unknown to whois). Starts a real Gateway with
// bind "tailnet" and allowTailscale, the fake tailscale on PATH, and prints one JSON object.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import WebSocket from "ws"

const here = import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname)
const BIN = path.resolve(here, "../../bin/openclaw")
const FAKE = path.resolve(here, "../support/fake-tailscale")
const TOKEN = "netns-whois-token-0123456789"

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-netns-whois-"))
const binDir = path.join(stateDir, "bin")
fs.mkdirSync(binDir)
fs.symlinkSync(FAKE, path.join(binDir, "tailscale"))
const stateFile = path.join(stateDir, "fake-tailscale.json")
fs.writeFileSync(
  stateFile,
  JSON.stringify({
    whois: { "100.64.0.7": { login: "alice@example.com", name: "Alice" }, "100.64.0.9": { tags: ["tag:server"] } }
  })
)
fs.writeFileSync(
  path.join(stateDir, "openclaw.json"),
  JSON.stringify({ gateway: { bind: "tailnet", port: 18789, auth: { token: TOKEN, allowTailscale: true } } })
)

const env = {
  PATH: `${binDir}:${process.env.PATH}`,
  HOME: stateDir,
  OPENCLAW_STATE_DIR: stateDir,
  FAKE_TAILSCALE_STATE: stateFile
}
const child = spawn(BIN, ["gateway", "run"], { env, stdio: ["ignore", "pipe", "pipe"] })
let out = ""
child.stderr.on("data", (d) => (out += d))
await new Promise((resolve, reject) => {
  child.stdout.on("data", (d) => {
    out += d
    if (/listening on/.test(out)) resolve()
  })
  child.once("exit", (code) => reject(new Error(`exit ${code}: ${out}`)))
})

const tryConnect = (localAddress, { token, role = "operator", headers } = {}) =>
  new Promise((resolve) => {
    const ws = new WebSocket("ws://100.101.102.103:18789", { localAddress, headers })
    ws.on("error", (e) => resolve({ error: e.code ?? e.message }))
    ws.on("message", (d) => {
      const f = JSON.parse(d.toString())
      if (f.event === "connect.challenge") {
        const client =
          role === "node"
            ? { id: "node-host", version: "1", platform: "linux", mode: "node" }
            : { id: "netns", version: "1", platform: "linux", mode: "test" }
        ws.send(
          JSON.stringify({
            type: "req",
            id: "c",
            method: "connect",
            params: { minProtocol: 4, maxProtocol: 4, client, role, ...(token ? { auth: { token } } : {}) }
          })
        )
      } else if (f.type === "res") {
        ws.close()
        const me = f.ok ? f.payload.snapshot.presence.find((p) => p.connId === f.payload.server.connId) : undefined
        resolve(
          f.ok ? { ok: true, method: f.payload.auth.method, user: me?.user?.login } : { code: f.error.details?.code }
        )
      }
    })
  })

const result = {
  alice: await tryConnect("100.64.0.7"),
  tagged: await tryConnect("100.64.0.9"),
  unknown: await tryConnect("100.64.0.99"),
  aliceAsNode: await tryConnect("100.64.0.7", { role: "node" }),
  aliceWithToken: await tryConnect("100.64.0.7", { token: TOKEN }),
  forgedHeaders: await tryConnect("100.64.0.99", {
    headers: {
      "Tailscale-User-Login": "alice@example.com",
      "X-Forwarded-For": "100.64.0.7",
      "X-Forwarded-Proto": "https",
      "X-Forwarded-Host": "gw.tail1234.ts.net"
    }
  }),
  whoisCalls: (JSON.parse(fs.readFileSync(stateFile, "utf8")).calls ?? [])
    .filter((c) => c[0] === "whois")
    .map((c) => c.at(-1))
}
await new Promise((r) => (child.once("exit", r), child.kill("SIGTERM")))
process.stdout.write(JSON.stringify(result))
