/** Finding executables (tailscale, chromium) without running them. */
import * as fs from "node:fs"
import * as path from "node:path"

export const isExecutable = (file: string): boolean => {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/** The first of `names` found in a directory of `envPath` (directories in order, then names). */
export const findOnPath = (names: ReadonlyArray<string>, envPath: string | undefined): string | undefined => {
  for (const dir of (envPath ?? "").split(path.delimiter)) {
    if (dir.length === 0) continue
    for (const name of names) {
      const candidate = path.join(dir, name)
      if (isExecutable(candidate)) return candidate
    }
  }
  return undefined
}
