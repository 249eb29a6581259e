/**
 * bin/openclaw's V8 code cache serves both the Gateway and short commands: `gateway run` tunes a
 * V8 flag, and a cache V8 sees under other flags is rejected (and was then rewritten, for the other
 * kind of process to reject in turn). Run on a copy of bin/ and dist/, so that no other test's
 * process writes the cache meanwhile.
 */
import { execFileSync, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { expect, it } from "vitest"
import { cliEnv, tempStateDir } from "../support/cli.js"

const root = path.resolve(__dirname, "../..")

it("a Gateway start and the commands around it all use one code cache: none rejects and rewrites it", async () => {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), "oc-cache-"))
  fs.cpSync(path.join(root, "bin"), path.join(copy, "bin"), { recursive: true })
  fs.cpSync(path.join(root, "dist"), path.join(copy, "dist"), { recursive: true })
  fs.symlinkSync(path.join(root, "node_modules"), path.join(copy, "node_modules"))
  const bin = path.join(copy, "bin/openclaw")
  const cache = path.join(copy, "dist/main.cjs.cache")
  const env = cliEnv(tempStateDir())
  const digest = () => createHash("sha256").update(fs.readFileSync(cache)).digest("hex")
  try {
    // A cache made by a short command on this node (the build's may be another node's).
    fs.rmSync(cache, { force: true })
    execFileSync(bin, ["--version"], { env })
    const made = digest()
    execFileSync(bin, ["--version"], { env })
    expect(digest(), "a second short command accepted it").toBe(made)

    const gateway = spawn(bin, ["gateway", "run", "--port", "0"], { env, stdio: ["ignore", "pipe", "inherit"] })
    const exited = new Promise((resolve) => gateway.once("exit", resolve))
    await new Promise<void>((resolve, reject) => {
      let out = ""
      gateway.stdout!.on("data", (d) => {
        out += d
        if (/listening on ws:\/\//.test(out)) resolve()
      })
      void exited.then(() => reject(new Error(`gateway exited:\n${out}`)))
    })
    gateway.kill("SIGTERM")
    await exited
    expect(digest(), "the Gateway left it as it was").toBe(made)

    execFileSync(bin, ["--version"], { env })
    expect(digest(), "a short command after the Gateway accepted it").toBe(made)
  } finally {
    fs.rmSync(copy, { recursive: true, force: true })
  }
}, 60_000)
