// Preloaded (`node -r bench/gc-probe.cjs ...`) into both servers of the crowd bench: on SIGWINCH it
// collects all garbage and writes process.memoryUsage() to $OPENCLAW_BENCH_PROBE_DIR/<pid>.json, so
// memory is read at the same point of the collector's cycle in both servers. The collector is
// reached only then (not with --expose-gc at start): a V8 flag set before bin/openclaw compiles
// its bundle would make V8 reject the bundle's code cache, and the server would not be the one
// users run.
"use strict"
const fs = require("node:fs")
const path = require("node:path")
let gc
process.on("SIGWINCH", () => {
  if (gc === undefined) {
    require("node:v8").setFlagsFromString("--expose-gc")
    gc = require("node:vm").runInNewContext("gc")
  }
  gc()
  gc()
  const file = path.join(process.env.OPENCLAW_BENCH_PROBE_DIR, `${process.pid}.json`)
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(process.memoryUsage()))
  fs.renameSync(`${file}.tmp`, file)
})
