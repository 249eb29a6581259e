/** `openclaw node run` as a child process (its own process group, so its Chromium is cleaned up too). */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { BIN } from "./cli.js"

export interface NodeHostProcess {
  readonly child: ChildProcess
  readonly output: () => string
  /** Waits for `pattern` in the output written after character `from` (default: anywhere). */
  readonly waitFor: (pattern: RegExp, from?: number, timeoutMs?: number) => Promise<RegExpMatchArray>
  readonly exited: Promise<number | null>
  /** SIGTERM, wait; then SIGKILL the whole group (Chromium included). */
  readonly stop: () => Promise<number | null>
  /** SIGKILL the node host process alone (a crash), leaving cleanup to stop(). */
  readonly crash: () => Promise<void>
}

export const startNodeHost = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): NodeHostProcess => {
  const child = spawn(BIN, ["node", "run", ...args], { env, stdio: ["ignore", "pipe", "pipe"], detached: true })
  let out = ""
  const waiters = new Set<() => void>()
  const onData = (d: Buffer) => {
    out += d.toString()
    for (const w of [...waiters]) w()
  }
  child.stdout!.on("data", onData)
  child.stderr!.on("data", onData)
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  const killGroup = () => {
    try {
      process.kill(-child.pid!, "SIGKILL")
    } catch {
      // Already gone.
    }
  }
  return {
    child,
    output: () => out,
    exited,
    waitFor: (pattern, from = 0, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = out.slice(from).match(pattern)
          if (m) {
            waiters.delete(check)
            clearTimeout(timer)
            resolve(m)
          }
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`node host output never matched ${pattern}:\n${out}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
      const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 5_000))])
      killGroup()
      return code
    },
    crash: async () => {
      child.kill("SIGKILL")
      await exited
    }
  }
}

/**
 * Lets the node host whose state directory is `stateDir` load pages from this machine's loopback
 * (tests serve their pages on 127.0.0.1, which the node host blocks by default): merges
 * nodeHost.browser.ssrfPolicy into that directory's openclaw.json.
 */
export const allowLoopbackPages = (
  stateDir: string,
  policy: Record<string, unknown> = { dangerouslyAllowPrivateNetwork: true }
) => {
  const file = path.join(stateDir, "openclaw.json")
  const config = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {}
  config.nodeHost = { ...config.nodeHost, browser: { ...config.nodeHost?.browser, ssrfPolicy: policy } }
  fs.writeFileSync(file, JSON.stringify(config), { mode: 0o600 })
}
