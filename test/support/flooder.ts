/** A flood script (test/support/*.mjs) in its own process, with room for its sockets (`ulimit -n` raised where allowed). */
import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"

export interface Flooder {
  readonly child: ChildProcess
  /** The script's last `stats ...` line. */
  readonly stats: () => string
}

/** Starts `script` against `port` with `count` sockets; resolves once its output contains `ready`. */
export const startFlooder = (
  script: string,
  port: number,
  count: number,
  ready: string,
  children: Array<ChildProcess>
): Promise<Flooder> =>
  new Promise((resolve, reject) => {
    const file = path.resolve(__dirname, script)
    const child = spawn(
      "bash",
      ["-c", `ulimit -n ${count + 256} 2>/dev/null || true; exec "${process.execPath}" "${file}" ${port} ${count}`],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    children.push(child)
    let out = ""
    child.stdout!.on("data", (d) => {
      out += d
      if (out.includes(ready))
        resolve({
          child,
          stats: () =>
            out
              .trim()
              .split("\n")
              .filter((l) => l.startsWith("stats"))
              .pop() ?? ""
        })
    })
    child.stderr!.on("data", (d) => (out += d))
    child.once("exit", (code) => reject(new Error(`flooder exited with ${code}: ${out}`)))
  })
