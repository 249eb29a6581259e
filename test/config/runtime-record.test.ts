/** The runtime record read back with Schema: what is wrong is named; newer fields are ignored; a bad record is never used. */
import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { Either } from "effect"
import {
  readRuntimeRecord,
  readRuntimeRecordFile,
  runtimeRecordPath,
  writeRuntimeRecord
} from "../../src/config/runtime-record.js"
import { tempStateDir } from "../support/cli.js"

const record = {
  pid: process.pid,
  port: 41300,
  bind: "loopback",
  addresses: ["127.0.0.1"],
  url: "ws://127.0.0.1:41300",
  healthUrl: "http://127.0.0.1:41300/healthz",
  authMode: "token",
  configPath: "/state/openclaw.json",
  startedAt: "2026-11-29T12:00:00.000Z"
}

describe("runtime record file", () => {
  it("fields a newer version wrote are ignored; a missing file is no record", () => {
    const stateDir = tempStateDir()
    expect(readRuntimeRecordFile(runtimeRecordPath(stateDir))).toBeUndefined()
    writeRuntimeRecord(stateDir, { ...record, ...{ features: { v5: true }, hostname: "box" } })
    expect(readRuntimeRecord(stateDir)).toEqual(record)
  })

  it("wrong-typed fields are named, without their values, and the record is not used", () => {
    const stateDir = tempStateDir()
    fs.writeFileSync(
      runtimeRecordPath(stateDir),
      JSON.stringify({ ...record, port: "41300", url: "http://127.0.0.1:41300", addresses: undefined })
    )
    expect(readRuntimeRecordFile(runtimeRecordPath(stateDir))).toEqual(
      Either.left(
        "port: expected number; addresses: is missing; url: expected a string matching the pattern ^wss?:\\/\\/"
      )
    )
    expect(readRuntimeRecord(stateDir)).toBeUndefined()
  })

  it("a truncated record says so and is not used", () => {
    const stateDir = tempStateDir()
    writeRuntimeRecord(stateDir, record)
    const file = runtimeRecordPath(stateDir)
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").slice(0, 50))
    expect(readRuntimeRecordFile(file)).toEqual(
      Either.left("is not valid JSON: it ends mid-value (cut short by a crash or a full disk?)")
    )
    expect(readRuntimeRecord(stateDir)).toBeUndefined()
  })
})
