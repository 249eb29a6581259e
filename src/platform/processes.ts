/**
 * Facts about other processes, read from /proc (Linux); elsewhere every answer is "unknown", so
 * callers must treat undefined as "cannot prove anything".
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Start time in clock ticks since boot (/proc/PID/stat field 22): with the PID, it names one process. */
export const startTicks = (pid: number): string | undefined => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    // Fields after the command name, which is in parentheses and may itself hold spaces.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]
  } catch {
    return undefined
  }
}

export const argvOf = (pid: number): Array<string> | undefined => {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
    if (argv.at(-1) === "") argv.pop()
    return argv
  } catch {
    return undefined
  }
}

/** The program's name: argv[0] without its directory (comm is the thread name: "MainThread" for Node 24). */
export const nameOf = (pid: number): string | undefined => {
  const first = argvOf(pid)?.[0]
  if (first !== undefined && first.length > 0) return first.slice(first.lastIndexOf("/") + 1)
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim()
  } catch {
    return undefined
  }
}

export interface PortListener {
  /** Undefined when the socket belongs to a process this user may not inspect. */
  readonly pid: number | undefined
  readonly name: string | undefined
  readonly uid: number | undefined
}

/** Sockets (as fd links read, `socket:[inode]`, with their owner uids) listening on TCP `port`, from /proc/net/tcp{,6}; undefined without /proc. */
const listeningSockets = (port: number): Array<{ link: string; uid: number }> | undefined => {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0")
  let sawTable = false
  const found: Array<{ link: string; uid: number }> = []
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string
    try {
      text = fs.readFileSync(table, "utf8")
    } catch {
      continue
    }
    sawTable = true
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/)
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode; st 0A is LISTEN.
      if (f.length < 10 || f[3] !== "0A" || !f[1]!.endsWith(`:${hexPort}`)) continue
      found.push({ link: `socket:[${f[9]!}]`, uid: Number(f[7]) })
    }
  }
  return sawTable ? found : undefined
}

/** Whether `pid` has one of `links` open (undefined: its fds cannot be read). */
const holdsOneOf = (pid: string, links: ReadonlySet<string>): boolean | undefined => {
  let fds: Array<string>
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`)
  } catch {
    return undefined
  }
  for (const fd of fds) {
    try {
      if (links.has(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))) return true
    } catch {
      // closed meanwhile
    }
  }
  return false
}

const allPids = (): Array<string> => {
  try {
    return fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))
  } catch {
    return []
  }
}

/** `ss -ltnpH` where /proc/net is not readable: `users:(("ssh",pid=123,fd=4))`. */
const fromSs = (port: number): PortListener | undefined => {
  try {
    const out = execFileSync("ss", ["-ltnpH", `sport = :${port}`], {
      encoding: "utf8",
      timeout: 2_000,
      stdio: ["ignore", "pipe", "ignore"]
    })
    const m = /users:\(\("([^"]*)",pid=(\d+)/.exec(out)
    return m ? { pid: Number(m[2]), name: m[1], uid: undefined } : undefined
  } catch {
    return undefined
  }
}

/** The uids owning the sockets that listen on TCP `port` (any address), without scanning processes; undefined without /proc. */
export const listenerUids = (port: number): ReadonlyArray<number> | undefined =>
  listeningSockets(port)?.map((s) => s.uid)

/** Who listens on TCP `port` on this machine, as far as this user can tell. */
export const listenerOnPort = (port: number): PortListener | undefined => {
  const sockets = listeningSockets(port)
  if (sockets === undefined) return fromSs(port)
  if (sockets.length === 0) return undefined
  const links = new Set(sockets.map((s) => s.link))
  const pid = allPids().find((p) => holdsOneOf(p, links) === true)
  return pid === undefined
    ? { pid: undefined, name: undefined, uid: sockets[0]!.uid }
    : { pid: Number(pid), name: nameOf(Number(pid)), uid: sockets[0]!.uid }
}

/**
 * PIDs holding a socket that listens on `port`: `likely` if it does (checked first: scanning every
 * process costs hundreds of ms on a busy machine), else those among the rest whose fds we may
 * read. Undefined when it cannot be told (no /proc).
 */
export const portHolders = (port: number, likely?: number): ReadonlyArray<number> | undefined => {
  const sockets = listeningSockets(port)
  if (sockets === undefined) return undefined
  const links = new Set(sockets.map((s) => s.link))
  if (likely !== undefined && holdsOneOf(String(likely), links) === true) return [likely]
  return allPids()
    .filter((pid) => holdsOneOf(pid, links) === true)
    .map(Number)
}

/** The user name of `uid` from /etc/passwd, or undefined (no such entry, no file). */
export const userNameOf = (uid: number): string | undefined => {
  try {
    for (const line of fs.readFileSync("/etc/passwd", "utf8").split("\n")) {
      const [name, , id] = line.split(":")
      if (id !== undefined && id !== "" && Number(id) === uid && name !== undefined && name !== "") return name
    }
  } catch {
    // No passwd file: the uid alone names the owner.
  }
  return undefined
}
