/**
 * Running a test's helper script as another user (nobody): a fresh clone lives under a 0700 temp
 * directory and Node 24 under its .compat/, neither of which another user may enter. So the
 * script is copied where anyone may read it, and run by a node binary anyone may execute.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

/** Every directory on the way lets others through, and the file itself lets them `bits` (1: x, 4: r). */
const othersMay = (file: string, bits: number): boolean => {
  try {
    if ((fs.statSync(file).mode & bits) !== bits) return false
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
      if ((fs.statSync(dir).mode & 0o001) === 0) return false
      if (dir === path.dirname(dir)) return true
    }
  } catch {
    return false
  }
}

/** This node when another user may run it, else the system's (/usr/bin/node, /usr/local/bin/node). */
export const nodeForOtherUsers = (): string =>
  [process.execPath, "/usr/bin/node", "/usr/local/bin/node"].find((n) => othersMay(n, 0o001)) ?? process.execPath

/**
 * A copy of test/support/<name> in a fresh world-readable directory, with `ws` beside it in
 * node_modules when the script needs it (ws has no dependencies of its own).
 */
export const readableCopy = (name: string, options: { withWs?: boolean } = {}): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-other-user-"))
  fs.chmodSync(dir, 0o755)
  const script = path.join(dir, name)
  fs.copyFileSync(path.join(__dirname, name), script)
  fs.chmodSync(script, 0o644)
  if (options.withWs) {
    const ws = path.join(dir, "node_modules", "ws")
    fs.cpSync(path.dirname(require.resolve("ws/package.json")), ws, { recursive: true })
    for (const d of [path.dirname(ws), ws]) fs.chmodSync(d, 0o755)
    // cpSync keeps modes; ws's files are 0644 in the package, but a umask may have tightened them.
    const open = (p: string): void => {
      for (const e of fs.readdirSync(p, { withFileTypes: true })) {
        const f = path.join(p, e.name)
        fs.chmodSync(f, e.isDirectory() ? 0o755 : 0o644)
        if (e.isDirectory()) open(f)
      }
    }
    open(ws)
  }
  return script
}
