/** Runs the real, built CLI (bin/openclaw) as child processes with a private state directory. */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

export const BIN = path.resolve(__dirname, "../../bin/openclaw")

export const tempStateDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "oc-e2e-"))

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer().listen({ host: "127.0.0.1", port: 0 }, () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
    s.on("error", reject)
  })

/** A clean environment: only what the CLI needs, so the developer's own config never leaks in. */
export const cliEnv = (stateDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: stateDir,
  OPENCLAW_STATE_DIR: stateDir,
  ...extra
})

export interface RunResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

export const runCli = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, timeoutMs = 15_000) =>
  new Promise<RunResult>((resolve) => {
    const started = Date.now()
    execFile(BIN, args, { env, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : null) : 0
      resolve({ code, stdout, stderr, ms: Date.now() - started })
    })
  })

export interface GatewayProcess {
  readonly child: ChildProcess
  readonly port: number
  readonly output: () => string
  /** Sends a signal and resolves with the exit code and how long the exit took. */
  readonly stop: (signal?: NodeJS.Signals) => Promise<{ code: number | null; ms: number }>
}

/**
 * Starts `openclaw gateway run` and waits for its `listening on` line. `launcher` runs it through
 * a program that execs it (`prlimit --nofile=256:256`): the child's PID is still the Gateway's.
 */
export const startGateway = async (
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  timeoutMs = 15_000,
  launcher: ReadonlyArray<string> = []
): Promise<GatewayProcess> => {
  const argv = [...launcher, BIN, "gateway", "run", ...args]
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] })
  let out = ""
  child.stdout!.on("data", (d) => (out += d))
  child.stderr!.on("data", (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${out}`)), timeoutMs)
    const check = () => {
      const m = out.match(/listening on wss?:\/\/[^\s]+:(\d+) \(PID \d+\)/)
      if (m) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    }
    child.stdout!.on("data", check)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`gateway exited with ${code}:\n${out}`))
    })
  })
  return {
    child,
    port,
    output: () => out,
    stop: async (signal = "SIGTERM") => {
      const started = Date.now()
      if (child.exitCode === null) child.kill(signal)
      const code = await exited
      return { code, ms: Date.now() - started }
    }
  }
}
