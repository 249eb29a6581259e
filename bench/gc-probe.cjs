// Preloaded (`node --expose-gc -r bench/gc-probe.cjs ...`) into both servers of the crowd bench:
// on SIGWINCH it collects all garbage and writes process.memoryUsage() to $OPENCLAW_BENCH_PROBE_DIR/<pid>.json,
// so memory is read at the same point of the collector's cycle in both servers.
"use strict"
const fs = require("node:fs")
const path = require("node:path")
process.on("SIGWINCH", () => {
  global.gc()
  global.gc()
  const file = path.join(process.env.OPENCLAW_BENCH_PROBE_DIR, `${process.pid}.json`)
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(process.memoryUsage()))
  fs.renameSync(`${file}.tmp`, file)
})
