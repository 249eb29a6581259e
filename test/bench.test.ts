/** CI runs a smoke version of the benchmarks: it proves each works, it does not judge the budget. */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { expect, it } from "vitest"

it("npm run bench works (smoke counts) and writes every figure with its baseline", () => {
  const root = path.resolve(__dirname, "..")
  execFileSync(process.execPath, [path.join(root, "bench/run.mjs"), "--smoke"], {
    cwd: root,
    stdio: "pipe",
    timeout: 60_000
  })
  const { results, smoke } = JSON.parse(fs.readFileSync(path.join(root, "bench/results.smoke.json"), "utf8"))
  expect(smoke).toBe(true)
  expect(results.map((r: any) => r.name)).toEqual([
    "rpc sequential health",
    "rpc pipelined health (64 in flight)",
    "rpc 20 clients x 5 calls",
    "server CPU per call",
    "health under forwarded upgrades",
    "cli: gateway call health",
    "gateway start to /healthz",
    "memory (RSS) per idle client (50)",
    "JS heap per idle client (50)",
    "idle gateway RSS",
    "fan-out to 50 clients",
    "audit write per event",
    "cli: health through ssh tunnel"
  ])
  for (const r of results) {
    expect(r.baseline, r.name).toBeDefined()
    const value = typeof r.value === "number" ? r.value : r.value.median
    // The smoke run's calls take a tick or two of CPU (10 ms each): zero is a fair reading, so
    // neither the figure nor its ratio can be judged here.
    if (r.name === "server CPU per call") {
      expect(value, r.name).toBeGreaterThanOrEqual(0)
      continue
    }
    // Memory per client at smoke counts (50 clients, under 1 MiB in all) is smaller than the RSS the
    // collector gives back meanwhile, so it can come out negative or zero; the full run (1000) judges it.
    if (r.name.startsWith("memory (RSS) per idle client")) {
      expect(Number.isFinite(value), r.name).toBe(true)
      continue
    }
    expect(Number.isFinite(r.ratio), `${r.name}: ratio ${r.ratio}`).toBe(true)
    expect(value, r.name).toBeGreaterThan(0)
  }
}, 90_000)
