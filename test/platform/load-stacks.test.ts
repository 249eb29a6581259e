/**
 * platform/load-stacks.ts: while the CLI's modules load, stacks carry function names only (effect's
 * start-up check reads names; locations would cost a scan of the whole bundle), and once the CLI
 * has loaded, errors have their usual stacks again.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { BIN } from "../support/cli.js"

describe("stacks while the CLI loads", () => {
  it("name each function without a location, and restoreStacks puts back what was there", async () => {
    const before = Object.getOwnPropertyDescriptor(Error, "prepareStackTrace")
    const { restoreStacks } = await import("../../src/platform/load-stacks.js")
    // The shape of effect's check (effect/Utils): is this frame in the stack?
    const probe = { effect_internal_function: (body: () => string | undefined) => body() }
    const stack = probe.effect_internal_function(() => new Error("probe").stack)
    expect(stack).toContain("at effect_internal_function")
    expect(stack).not.toMatch(/:\d+:\d+/)
    restoreStacks()
    expect(Object.getOwnPropertyDescriptor(Error, "prepareStackTrace")).toEqual(before)
    expect(new Error("after").stack).toMatch(/load-stacks\.test\.ts:\d+:\d+/)
  })

  it("the built CLI: an error made after start-up has file, line and column", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-stacks-"))
    const preload = path.join(dir, "stack-at-exit.cjs")
    fs.writeFileSync(preload, 'process.on("exit", () => process.stderr.write(new Error("at exit").stack))\n')
    const run = spawnSync(process.execPath, ["-r", preload, BIN, "--version"], { encoding: "utf8" })
    fs.rmSync(dir, { recursive: true, force: true })
    expect(run.status).toBe(0)
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
    expect(run.stderr).toMatch(/stack-at-exit\.cjs:1:\d+/)
  })
})
