/** Files only this user may read: the state directory's records, identities and pairing. */
import * as fs from "node:fs"
import * as path from "node:path"

/**
 * Writes `value` as JSON to `file` (mode 0600, its directory 0700), atomically: a temporary file
 * named by this process is renamed over it, so a reader never sees half a file.
 */
export const writePrivateJson = (file: string, value: unknown): void => {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + "\n", { mode: 0o600 })
  fs.renameSync(tmp, file)
}
