/** This process's open-file limit, which bounds how many sockets it may hold at once. */
import * as fs from "node:fs"

/** The soft limit on open files (Linux: "Max open files" in /proc/self/limits); undefined where it cannot be read. */
export const openFileLimit = (): number | undefined => {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync("/proc/self/limits", "utf8"))
    return m === null ? undefined : Number(m[1])
  } catch {
    return undefined
  }
}
