/**
 * Facts about other processes, read from /proc (Linux); elsewhere every answer is "unknown", so
 * callers must treat undefined as "cannot prove anything".
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"

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

/** One row of /proc/net/tcp or tcp6: a TCP socket on this machine. */
interface TcpRow {
  readonly local: Endpoint
  readonly remote: Endpoint
  /** Kernel state in hex: 0A is LISTEN, 01 ESTABLISHED. */
  readonly state: string
  /** The owner of the socket (the uid that created it). */
  readonly uid: number
  readonly inode: string
}

/** An address (IPv4 dotted, or IPv6 as eight full groups; IPv4-mapped IPv6 as IPv4) and a port. */
export interface Endpoint {
  readonly address: string
  readonly port: number
}

/** A /proc/net address: each 32-bit word as the kernel stores it (host byte order, little-endian on x86 and arm). */
const procAddress = (hex: string): string => {
  const bytes = Buffer.from(hex, "hex")
  if (os.endianness() === "LE") for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse()
  if (bytes.length === 4) return [...bytes].join(".")
  const mapped = bytes.subarray(0, 12).equals(Buffer.from("00000000000000000000ffff", "hex"))
  if (mapped) return [...bytes.subarray(12)].join(".")
  return Array.from({ length: 8 }, (_, i) =>
    bytes
      .readUInt16BE(i * 2)
      .toString(16)
      .padStart(4, "0")
  ).join(":")
}

/** An address as Node reports it, in procAddress's form ("::1" becomes eight groups; "::ffff:127.0.0.1" 127.0.0.1). */
export const endpointAddress = (address: string): string => {
  const a = address.toLowerCase()
  if (net.isIPv4(a)) return a
  if (a.startsWith("::ffff:") && net.isIPv4(a.slice(7))) return a.slice(7)
  const [head = "", tail] = a.split("::")
  const groups = (part: string) => (part === "" ? [] : part.split(":"))
  const left = groups(head)
  const right = tail === undefined ? [] : groups(tail)
  const middle = Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0")
  return [...left, ...middle, ...right].map((g) => g.padStart(4, "0")).join(":")
}

/** A port as /proc/net/tcp writes it after an address: ":1F90". */
const hexPort = (port: number) => `:${port.toString(16).toUpperCase().padStart(4, "0")}`

const TCP_TABLES = ["/proc/net/tcp", "/proc/net/tcp6"]

/** The texts of /proc/net/tcp and tcp6 (undefined: that one could not be read). */
type TcpTables = ReadonlyArray<string | undefined>

const readTcpTables = (): TcpTables =>
  TCP_TABLES.map((table) => {
    try {
      return fs.readFileSync(table, "utf8")
    } catch {
      return undefined
    }
  })

let tablesReading: Promise<TcpTables> | undefined
let tablesQueued: Promise<TcpTables> | undefined

/**
 * The tables read off the event loop, by a read that began after this call. Each read makes the
 * kernel walk its whole socket hash, 5 ms per table on a 24 GiB machine with 30 sockets listed, so
 * whoever asks meanwhile shares the next read: however many ask, one read runs at a time.
 */
const freshTcpTables = (): Promise<TcpTables> => {
  if (tablesReading === undefined) {
    tablesReading = Promise.all(
      TCP_TABLES.map((table) => fs.promises.readFile(table, "utf8").catch(() => undefined))
    ).finally(() => {
      tablesReading = undefined
    })
    return tablesReading
  }
  // The read under way may have begun before the caller's socket existed.
  tablesQueued ??= tablesReading.then(() => {
    tablesQueued = undefined
    return freshTcpTables()
  })
  return tablesQueued
}

/**
 * The TCP sockets of this machine's network namespace whose line holds `mentions` and whose
 * fields pass `keep`, both checked before anything is decoded (a busy machine lists tens of
 * thousands); undefined without /proc.
 */
const tcpSockets = (
  mentions: string,
  keep: (fields: ReadonlyArray<string>) => boolean,
  tables: TcpTables = readTcpTables()
): Array<TcpRow> | undefined => {
  if (tables.every((text) => text === undefined)) return undefined
  const rows: Array<TcpRow> = []
  for (const text of tables) {
    for (const line of text?.split("\n").slice(1) ?? []) {
      if (!line.includes(mentions)) continue
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/)
      if (f.length < 10 || !keep(f)) continue
      const endpoint = (field: string): Endpoint => {
        const [address = "", port = ""] = field.split(":")
        return { address: procAddress(address), port: parseInt(port, 16) }
      }
      rows.push({ local: endpoint(f[1]!), remote: endpoint(f[2]!), state: f[3]!, uid: Number(f[7]), inode: f[9]! })
    }
  }
  return rows
}

/** Sockets (as fd links read, `socket:[inode]`, with their owner uids) listening on TCP `port`; undefined without /proc. */
const listeningSockets = (port: number): Array<{ link: string; uid: number }> | undefined =>
  tcpSockets(hexPort(port), (f) => f[3] === "0A" && f[1]!.endsWith(hexPort(port)))?.map((row) => ({
    link: `socket:[${row.inode}]`,
    uid: row.uid
  }))

/**
 * Who owns the other end of a TCP connection on this machine: the uid of the socket at `peer`
 * connected to `own` (our side). "unknown" without /proc (not Linux); undefined when no such
 * socket is listed (gone meanwhile), or when two are and their owners differ. Read without
 * blocking: a Gateway asks for every upgrade that carries forwarded headers.
 */
export const tcpPeerOwner = async (peer: Endpoint, own: Endpoint): Promise<number | "unknown" | undefined> => {
  const [peerPort, ownPort] = [hexPort(peer.port), hexPort(own.port)]
  const rows = tcpSockets(peerPort, (f) => f[1]!.endsWith(peerPort) && f[2]!.endsWith(ownPort), await freshTcpTables())
  if (rows === undefined) return "unknown"
  const [peerAddress, ownAddress] = [endpointAddress(peer.address), endpointAddress(own.address)]
  const owners = new Set(
    rows.filter((r) => r.local.address === peerAddress && r.remote.address === ownAddress).map((r) => r.uid)
  )
  return owners.size === 1 ? [...owners][0] : undefined
}

/** The real uid a process runs as (/proc/PID/status), or undefined. */
export const uidOf = (pid: number): number | undefined => {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))
    return m === null ? undefined : Number(m[1])
  } catch {
    return undefined
  }
}

/** PIDs of the processes whose program is `name` (nameOf), as far as this user can see. */
export const pidsNamed = (name: string): Array<number> =>
  allPids()
    .map(Number)
    .filter((pid) => nameOf(pid) === name)

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
