/**
 * Files only this user may read: the state directory's records, identities, pairing and sessions.
 * They are opened without following symlinks (O_NOFOLLOW) and must be regular files owned by this
 * user: a link planted in the state directory cannot make the Gateway read or write elsewhere.
 */
import * as fs from "node:fs"
import * as path from "node:path"

const { O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_WRONLY } = fs.constants

/** Why a state file was refused; the message names the file and what to do. */
export class UnsafeStateFile extends Error {
  readonly code = "UNSAFE_STATE_FILE"
}

const refuse = (file: string, why: string) =>
  new UnsafeStateFile(
    `refusing ${file}: ${why}; state files are never followed through links (move it away, or check who created it)`
  )

/** Turns ELOOP (the last component is a symlink) into a clear refusal. */
const explain = (file: string, e: unknown): unknown =>
  (e as NodeJS.ErrnoException).code === "ELOOP" ? refuse(file, "it is a symbolic link") : e

/** The open file must be a regular file owned by this user. */
const checkOpened = (file: string, st: fs.Stats) => {
  if (!st.isFile()) throw refuse(file, "it is not a regular file")
  const uid = process.getuid?.()
  if (uid !== undefined && st.uid !== uid)
    throw refuse(file, `it is owned by uid ${st.uid}, not this user (uid ${uid})`)
}

/** A state file's text, or undefined when there is none; throws UnsafeStateFile for a link or a foreign file. */
export const readPrivateText = (file: string): string | undefined => {
  let fd: number
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw explain(file, e)
  }
  try {
    checkOpened(file, fs.fstatSync(fd))
    return fs.readFileSync(fd, "utf8")
  } finally {
    fs.closeSync(fd)
  }
}

/** Opens a state file for appending (created 0600), refusing links and foreign files. */
export const openPrivateAppend = async (file: string): Promise<fs.promises.FileHandle> => {
  let handle: fs.promises.FileHandle
  try {
    handle = await fs.promises.open(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o600)
  } catch (e) {
    throw explain(file, e)
  }
  try {
    checkOpened(file, await handle.stat())
    return handle
  } catch (e) {
    await handle.close()
    throw e
  }
}

/**
 * Writes `value` as JSON to `file` (mode 0600, its directory 0700), atomically: a temporary file
 * named by this process is created anew (never through a link left at its name) and renamed over
 * it, so a reader never sees half a file, and a link at `file` is replaced, not followed.
 */
export const writePrivateJson = (file: string, value: unknown): void => {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.${process.pid}.tmp`
  fs.rmSync(tmp, { force: true })
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
  try {
    fs.writeFileSync(fd, JSON.stringify(value, null, 2) + "\n")
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
}
