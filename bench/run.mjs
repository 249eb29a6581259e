// `npm run bench`: each figure next to a baseline measured in the same run, written to
// bench/results.json. `--smoke` runs tiny counts only to prove every benchmark works (CI).
// `--only rpc,cli,start,crowd,tunnel` runs just those benchmarks (crowd: memory per client,
// idle RSS and fan-out), e.g. to iterate on one figure; results then go to bench/results.only.json.
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import WebSocket from "ws"
import { benchTunnel } from "./tunnel.mjs"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const BIN = path.join(root, "bin/openclaw")
const smoke = process.argv.includes("--smoke")
const BENCHES = ["rpc", "cli", "start", "crowd", "audit", "tunnel"]
const onlyAt = process.argv.indexOf("--only")
const only = onlyAt < 0 ? BENCHES : (process.argv[onlyAt + 1] ?? "").split(",").filter(Boolean)
for (const name of only)
  if (!BENCHES.includes(name)) throw new Error(`--only: unknown benchmark ${name} (known: ${BENCHES.join(", ")})`)
const runs = (name) => only.includes(name)
const N = smoke
  ? {
      rpc: 200,
      pipelined: 640,
      clients: 20,
      callsEach: 5,
      latency: 50,
      cli: 2,
      start: 2,
      crowd: 50,
      fanout: 2,
      audit: 500
    }
  : {
      rpc: 5000,
      pipelined: 64_000,
      clients: 200,
      callsEach: 50,
      latency: 500,
      cli: 10,
      start: 5,
      crowd: 1000,
      fanout: 9,
      audit: 50_000
    }
const TOKEN = "bench-token-0123456789abcdef"

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const stats = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length })
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
/**
 * Ours and the baseline measured in alternating rounds: each side's median and spread, and the
 * median of the rounds' own ratios, which a shared machine's slow moments (they hit both halves
 * of a round alike) move least.
 */
const pairedStats = (ours, baseline) => ({
  ours: stats(ours),
  baseline: stats(baseline),
  ratio: median(ours.map((o, i) => o / baseline[i]))
})

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-bench-"))
fs.writeFileSync(path.join(stateDir, "openclaw.json"), JSON.stringify({ gateway: { auth: { token: TOKEN } } }))
const env = { PATH: process.env.PATH, HOME: stateDir, OPENCLAW_STATE_DIR: stateDir }

/** Spawns a server and resolves with its ws URL once it prints `listening on ...`. */
const startServer = (cmd, args, extraEnv = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (d) => {
      out += d
      const m = out.match(/listening on (wss?:\/\/\S+)/)
      if (m) resolve({ child, url: m[1] })
    })
    child.once("exit", (code) => reject(new Error(`${cmd} exited ${code}: ${out}`)))
  })

const stop = (child) =>
  new Promise((r) => (child.exitCode !== null ? r() : (child.once("exit", r), child.kill("SIGTERM"))))

/** An authenticated raw client: the same frames against either server; `onEvent` sees every event frame's text. */
const openClient = (url, onEvent = () => {}) =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    const waiting = new Map()
    ws.on("error", reject)
    ws.on("message", (d) => {
      const f = JSON.parse(d.toString())
      if (f.type === "event" && f.event === "connect.challenge") {
        ws.send(
          JSON.stringify({
            type: "req",
            id: "c",
            method: "connect",
            params: {
              minProtocol: 4,
              maxProtocol: 4,
              client: { id: "bench", version: "1", platform: "linux", mode: "test" },
              scopes: ["operator.write"],
              auth: { token: TOKEN }
            }
          })
        )
      } else if (f.type === "res" && f.id === "c") {
        if (f.ok) resolve({ ws, call })
        else reject(new Error(JSON.stringify(f.error)))
      } else if (f.type === "res") {
        waiting.get(f.id)?.(f)
        waiting.delete(f.id)
      } else if (f.type === "event") {
        onEvent(f)
      }
    })
    let n = 0
    const call = (method, params) =>
      new Promise((res) => {
        const id = String(++n)
        waiting.set(id, res)
        ws.send(JSON.stringify({ type: "req", id, method, params }))
      })
  })

const sequential = async (url, count) => {
  const c = await openClient(url)
  for (let i = 0; i < Math.min(200, count); i++) await c.call("health") // warm-up
  const t = performance.now()
  for (let i = 0; i < count; i++) await c.call("health")
  const perSec = count / ((performance.now() - t) / 1000)
  c.ws.close()
  return perSec
}

const pipelined = async (url, count, inFlight = 64) => {
  const c = await openClient(url)
  const t = performance.now()
  let sent = 0
  const lane = async () => {
    while (sent < count) {
      sent++
      await c.call("health")
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane))
  const perSec = count / ((performance.now() - t) / 1000)
  c.ws.close()
  return perSec
}

/** `clients` connected clients (opened in batches of 50, under the per-address pre-auth cap) each making `calls` sequential calls at once. */
const manyClients = async (url, clients, calls) => {
  const crowd = []
  for (let i = 0; i < clients; i += 50)
    crowd.push(...(await Promise.all(Array.from({ length: Math.min(50, clients - i) }, () => openClient(url)))))
  // The Gateway announces the joins as one coalesced presence event 250 ms after the last: a
  // cost of connecting, not of calls, and the bare server has none, so the calls start after it.
  await sleep(400)
  const t = performance.now()
  await Promise.all(
    crowd.map(async (c) => {
      for (let i = 0; i < calls; i++) await c.call("health")
    })
  )
  const perSec = (clients * calls) / ((performance.now() - t) / 1000)
  for (const c of crowd) c.ws.close()
  return perSec
}

/** The median round trip of `count` sequential health calls, in ms. */
const healthLatency = async (url, count) => {
  const c = await openClient(url)
  const took = []
  for (let i = 0; i < count; i++) {
    const t = performance.now()
    await c.call("health")
    took.push(performance.now() - t)
  }
  c.ws.close()
  return median(took)
}

/**
 * WebSocket upgrades carrying Tailscale Serve's forwarded headers from loopback, four at a time,
 * until the returned function is called: what any local process can send. The Gateway asks
 * /proc/net/tcp who owns each one's peer (serve-peer.ts); that read must not stall other clients.
 */
const forwardedFlood = (port) => {
  let on = true
  const upgrade = () =>
    new Promise((done) => {
      const s = net.connect(port, "127.0.0.1", () =>
        s.write(
          `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
            "X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n\r\n"
        )
      )
      s.once("data", () => s.destroy())
      s.once("error", done)
      s.once("close", done)
    })
  const lanes = Array.from({ length: 4 }, async () => {
    while (on) await upgrade()
  })
  return () => ((on = false), Promise.all(lanes))
}

const timeCommand = (cmd, args, extraEnv = {}) => {
  const t = performance.now()
  execFileSync(cmd, args, { env: { ...env, ...extraEnv }, stdio: "ignore" })
  return (performance.now() - t) / 1000
}

const waitHealthz = (port) =>
  new Promise((resolve) => {
    const attempt = () =>
      http
        .get({ host: "127.0.0.1", port, path: "/healthz" }, (res) => {
          res.resume()
          if (res.statusCode === 200) resolve()
          else setTimeout(attempt, 5)
        })
        .on("error", () => setTimeout(attempt, 5))
    attempt()
  })

const freePort = () =>
  new Promise((resolve) => {
    const s = http.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })

/** Seconds from spawn to /healthz answering 200, then stops it. */
const startToHealthz = async (cmd, args) => {
  const port = await freePort()
  const t = performance.now()
  const child = spawn(cmd, [...args, ...(cmd === BIN ? ["--port", String(port)] : [String(port)])], {
    env,
    stdio: "ignore"
  })
  await waitHealthz(port)
  const s = (performance.now() - t) / 1000
  await stop(child)
  return s
}

/** CPU time (user + system) a process has used, from /proc (clock ticks of 10 ms). */
const cpuMs = (pid) => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")
  return (Number(fields[11]) + Number(fields[12])) * 10
}

const results = []
/** `ratio`: when the figure was measured in rounds, the median of each round's ratio (see pairedStats). */
const record = (
  name,
  value,
  unit,
  baselineName,
  baseline,
  budget,
  ratio = baseline ? (typeof value === "object" ? value.median / baseline.median : value / baseline) : undefined
) => {
  results.push({ name, value, unit, baselineName, baseline, ratio, budget })
  const fmt = (v) =>
    v === undefined
      ? "-"
      : typeof v === "object"
        ? `${v.median.toFixed(3)} (min ${v.min.toFixed(3)}, max ${v.max.toFixed(3)})`
        : v.toFixed(unit === "calls/s" ? 0 : 3)
  console.log(
    `${name.padEnd(34)} ${fmt(value)} ${unit}   baseline ${baselineName}: ${fmt(baseline)} ${unit}   ratio ${ratio === undefined ? "-" : ratio.toFixed(2)}   budget ${budget}`
  )
}

// 1. RPC round trips, against a bare ws server in the same run (alternating, best of 3 each).
if (runs("rpc") || runs("cli")) {
  const ours = await startServer(BIN, ["gateway", "run", "--port", "0"])
  const bare = await startServer(process.execPath, [path.join(root, "bench/bare-server.mjs")])
  const seq = { ours: [], bare: [] }
  const pipe = { ours: [], bare: [] }
  const many = { ours: [], bare: [] }
  const cpuPerCall = { ours: [], bare: [] }
  for (let round = 0; runs("rpc") && round < (smoke ? 1 : 5); round++) {
    // Who goes first alternates too: the second of a pair runs on a warmer (or more tired) client.
    const pair = round % 2 === 0 ? ["bare", "ours"] : ["ours", "bare"]
    const url = { ours: ours.url, bare: bare.url }
    const pid = { ours: ours.child.pid, bare: bare.child.pid }
    for (const side of pair) {
      const cpu = cpuMs(pid[side])
      seq[side].push(await sequential(url[side], N.rpc))
      pipe[side].push(await pipelined(url[side], N.pipelined))
      many[side].push(await manyClients(url[side], N.clients, N.callsEach))
      const calls = N.rpc + Math.min(200, N.rpc) + N.pipelined + N.clients * N.callsEach
      cpuPerCall[side].push(((cpuMs(pid[side]) - cpu) * 1000) / calls)
    }
  }
  if (runs("rpc")) {
    for (const [name, { ours: o, bare: b }] of [
      ["rpc sequential health", seq],
      ["rpc pipelined health (64 in flight)", pipe],
      [`rpc ${N.clients} clients x ${N.callsEach} calls`, many]
    ]) {
      const p = pairedStats(o, b)
      record(name, p.ours, "calls/s", "bare ws server", p.baseline, ">= 1x (median of the rounds' ratios)", p.ratio)
    }
    // What a call costs the server, from its CPU time over the three patterns: the throughput
    // figures also hold the client's and the kernel's share, and swing most with the machine.
    const cpu = pairedStats(cpuPerCall.ours, cpuPerCall.bare)
    record("server CPU per call", cpu.ours, "us", "bare ws server", cpu.baseline, "(no budget)", cpu.ratio)
  }
  const port = new URL(ours.url).port
  // What a flood of forwarded upgrades (any local process can send one) does to a client's calls,
  // next to the same calls without it, in alternating rounds.
  if (runs("rpc")) {
    const quiet = []
    const flooded = []
    for (let round = 0; round < (smoke ? 1 : 3); round++) {
      quiet.push(await healthLatency(ours.url, N.latency))
      const stopFlood = forwardedFlood(Number(port))
      await sleep(100)
      flooded.push(await healthLatency(ours.url, N.latency))
      await stopFlood()
    }
    const p = pairedStats(flooded, quiet)
    record(
      "health under forwarded upgrades",
      p.ours,
      "ms",
      "health alone",
      p.baseline,
      "<= 2x (median round trip)",
      p.ratio
    )
  }
  // 2. CLI cold start: a whole `openclaw gateway call health` process.
  const cli = []
  const bareNode = []
  for (let i = 0; runs("cli") && i < N.cli; i++) {
    bareNode.push(timeCommand(process.execPath, ["-e", "0"]))
    cli.push(timeCommand(BIN, ["gateway", "call", "health"], { OPENCLAW_GATEWAY_PORT: port }))
  }
  if (runs("cli"))
    record(
      "cli: gateway call health",
      stats(cli),
      "s",
      "node -e 0",
      stats(bareNode),
      "median <= 0.25 s; target <= 2x",
      pairedStats(cli, bareNode).ratio
    )
  await stop(ours.child)
  await stop(bare.child)
}

// 3. Gateway start: process start to /healthz answering, next to a bare node http server.
if (runs("start")) {
  const bareServer = `require("http").createServer((q,s)=>s.end("ok")).listen(Number(process.argv[1]),"127.0.0.1")`
  const ours = []
  const bare = []
  for (let i = 0; i < N.start; i++) {
    bare.push(await startToHealthz(process.execPath, ["-e", bareServer]))
    ours.push(await startToHealthz(BIN, ["gateway", "run"]))
  }
  record("gateway start to /healthz", stats(ours), "s", "bare node http server", stats(bare), "median <= 0.5 s")
}

// 4 and 5. Many idle authenticated clients: memory each adds, and how long a chat event takes to
// reach the last of them (a `send` broadcast), next to the bare ws server doing the same. Memory
// is read after a full collection in both servers (bench/gc-probe.cjs): the resident set (what the
// machine gives) and the JS heap in use (what the connections keep).
const probeDir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-bench-probe-"))
const PROBE = ["-r", path.join(root, "bench/gc-probe.cjs")]
const memoryOf = async (child) => {
  const file = path.join(probeDir, `${child.pid}.json`)
  fs.rmSync(file, { force: true })
  child.kill("SIGWINCH")
  while (!fs.existsSync(file)) await sleep(10)
  return JSON.parse(fs.readFileSync(file, "utf8"))
}

const crowdBench = async (server, count, rounds) => {
  // Warm up first: the first clients' allocations make the collector give back the server's
  // start-up garbage, which would otherwise be counted against (or for) the crowd.
  const warm = await Promise.all(Array.from({ length: 10 }, () => openClient(server.url)))
  for (const c of warm) c.ws.terminate()
  await sleep(1_000)
  const idle = await memoryOf(server.child)
  let waitingFor = undefined
  const arrived = () => {
    if (waitingFor !== undefined && --waitingFor.left === 0) waitingFor.done(performance.now())
  }
  const crowd = []
  // In batches, so the unauthenticated-socket cap (per address) never drops a bench client.
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, () =>
      openClient(server.url, (f) => f.event === "chat" && arrived())
    )
    crowd.push(...(await Promise.all(batch)))
  }
  await sleep(1_000)
  const loaded = await memoryOf(server.child)
  const sender = await openClient(server.url)
  const fanout = []
  for (let round = 0; round < rounds; round++) {
    const done = new Promise((resolve) => (waitingFor = { left: count, done: resolve }))
    const t = performance.now()
    const res = await sender.call("send", {
      to: "bench",
      message: `fan-out ${round}`,
      idempotencyKey: `bench-${Date.now()}-${round}`
    })
    if (!res.ok) throw new Error(`send failed: ${JSON.stringify(res.error)}`)
    fanout.push((await done) - t)
    await sleep(50)
  }
  for (const c of [...crowd, sender]) c.ws.terminate()
  return {
    idleKiB: idle.rss / 1024,
    perConnKiB: (loaded.rss - idle.rss) / 1024 / count,
    heapPerConnKiB: (loaded.heapUsed - idle.heapUsed) / 1024 / count,
    fanout
  }
}

if (runs("crowd")) {
  // Fresh servers each round, ours and the bare one alternating.
  const o = []
  const b = []
  for (let round = 0; round < (smoke ? 1 : 3); round++) {
    for (const [args, into] of [
      [[...PROBE, BIN, "gateway", "run", "--port", "0"], o],
      [[...PROBE, path.join(root, "bench/bare-server.mjs")], b]
    ]) {
      const server = await startServer(process.execPath, args, { OPENCLAW_BENCH_PROBE_DIR: probeDir })
      into.push(await crowdBench(server, N.crowd, N.fanout))
      await stop(server.child)
    }
  }
  for (const [name, unit, figure, budget] of [
    [`memory (RSS) per idle client (${N.crowd})`, "KiB", (r) => r.perConnKiB, "<= 20 KiB and <= 1.5x"],
    [`JS heap per idle client (${N.crowd})`, "KiB", (r) => r.heapPerConnKiB, "(no budget: what the connections keep)"],
    ["idle gateway RSS", "MiB", (r) => r.idleKiB / 1024, "<= 80 MB"]
  ]) {
    const p = pairedStats(o.map(figure), b.map(figure))
    record(name, p.ours, unit, "bare ws server", p.baseline, budget, p.ratio)
  }
  // Every round's fan-out times together.
  const fanout = { ours: stats(o.flatMap((r) => r.fanout)), bare: stats(b.flatMap((r) => r.fanout)) }
  record(
    `fan-out to ${N.crowd} clients`,
    fanout.ours,
    "ms",
    "bare ws server",
    fanout.bare,
    "<= 50 ms",
    fanout.ours.median / fanout.bare.median
  )
}

// 6. One audit log entry (an auth.ok with its fields) against a plain fs.appendFileSync of the same
// line, both to a file in the same directory; best of 3 alternating rounds, microseconds per entry.
if (runs("audit")) {
  const { makeFileAudit } = await import(path.join(root, "dist/index.mjs"))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-bench-audit-"))
  const fields = {
    address: "127.0.0.1",
    clientId: "openclaw-control-ui",
    clientMode: "ui",
    role: "operator",
    authMethod: "device-token",
    deviceId: "29e16e817fac22b3a1c0d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5"
  }
  const line = `${JSON.stringify({ ts: Date.now(), event: "auth.ok", ...fields })}\n`
  const ours = []
  const plain = []
  for (let round = 0; round < 3; round++) {
    const plainFile = path.join(dir, `plain-${round}.jsonl`)
    let t = performance.now()
    for (let i = 0; i < N.audit; i++) fs.appendFileSync(plainFile, line, { mode: 0o600 })
    plain.push(((performance.now() - t) * 1000) / N.audit)
    // Large enough that this run measures appends, not rotation.
    const audit = makeFileAudit(path.join(dir, `audit-${round}.jsonl`), { maxBytes: 1 << 30 })
    t = performance.now()
    for (let i = 0; i < N.audit; i++) audit.record("auth.ok", fields)
    ours.push(((performance.now() - t) * 1000) / N.audit)
    audit.close()
  }
  fs.rmSync(dir, { recursive: true, force: true })
  record(
    "audit write per event",
    Math.min(...ours),
    "us",
    "fs.appendFileSync of the line",
    Math.min(...plain),
    "<= 20 us (and about appendFileSync)"
  )
}

// 7. `openclaw health` through the managed SSH tunnel against the same command direct (needs sshd).
if (runs("tunnel")) {
  const t = await benchTunnel({ smoke })
  if (t === null)
    console.log("cli: health through ssh tunnel      skipped: no sshd on this machine (apt-get install openssh-server)")
  else record(t.name, t.value, t.unit, t.baselineName, t.baseline, "(no budget: the cost of a tunnel per command)")
}

const resultsFile = path.join(
  root,
  onlyAt >= 0 ? "bench/results.only.json" : smoke ? "bench/results.smoke.json" : "bench/results.json"
)
fs.writeFileSync(
  resultsFile,
  JSON.stringify(
    { date: new Date().toISOString(), smoke, only, node: process.version, cpus: os.cpus().length, results },
    null,
    2
  ) + "\n"
)
fs.rmSync(stateDir, { recursive: true, force: true })
fs.rmSync(probeDir, { recursive: true, force: true })
console.log(
  `\nwrote ${path.relative(root, resultsFile)}${smoke ? " (smoke run: counts too small for real figures)" : ""}`
)
await sleep(0)
