/**
 * Records of the ssh processes SshTunnel started (<stateDir>/ssh-tunnels/<localPort>.json, 0600),
 * so that an ssh left behind by an owner killed with SIGKILL is stopped by the next tunnel, and a
 * port held by a live tunnel is named in the "port in use" message.
 *
 * An ssh is stopped only when the record proves it is ours and orphaned: the PID is alive with the
 * recorded start time, its command line is ssh with the recorded `-L` forward and destination, and
 * the owner that recorded it is gone. Anything unproven is left alone.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { writePrivateJson } from "../../platform/private-file.js"
import { argvOf, isAlive, listenerOnPort, startTicks } from "../../platform/processes.js"

export interface TunnelRecord {
  readonly sshPid: number
  readonly sshStart: string | undefined
  readonly ownerPid: number
  readonly ownerStart: string | undefined
  readonly localPort: number
  /** The `-L` argument: 127.0.0.1:<local>:127.0.0.1:<remote>. */
  readonly forward: string
  readonly destination: string
  readonly since: number
}

export const tunnelRecordsDir = (stateDir: string) => path.join(stateDir, "ssh-tunnels")
const recordFile = (stateDir: string, localPort: number) => path.join(tunnelRecordsDir(stateDir), `${localPort}.json`)

export const writeTunnelRecord = (stateDir: string, record: TunnelRecord): void => {
  try {
    writePrivateJson(recordFile(stateDir, record.localPort), record)
  } catch {
    // Best effort: without a record only the automatic clean-up is lost.
  }
}

/** Removes the record for `localPort` if it still describes `sshPid` (a newer tunnel may own it now). */
export const removeTunnelRecord = (stateDir: string, localPort: number, sshPid: number): void => {
  const file = recordFile(stateDir, localPort)
  const current = readRecord(file)
  if (current === undefined || current.sshPid === sshPid) fs.rmSync(file, { force: true })
}

const readRecord = (file: string): TunnelRecord | undefined => {
  try {
    const stat = fs.lstatSync(file)
    if (!stat.isFile()) return undefined
    const r = JSON.parse(fs.readFileSync(file, "utf8")) as TunnelRecord
    return Number.isInteger(r.sshPid) &&
      Number.isInteger(r.ownerPid) &&
      Number.isInteger(r.localPort) &&
      typeof r.forward === "string" &&
      typeof r.destination === "string"
      ? r
      : undefined
  } catch {
    return undefined
  }
}

export const readTunnelRecords = (stateDir: string): Array<TunnelRecord> => {
  let names: Array<string>
  try {
    names = fs.readdirSync(tunnelRecordsDir(stateDir)).filter((n) => /^\d+\.json$/.test(n))
  } catch {
    return []
  }
  return names.flatMap((n) => readRecord(path.join(tunnelRecordsDir(stateDir), n)) ?? [])
}

const sameProcess = (pid: number, start: string | undefined) =>
  isAlive(pid) && (start === undefined || startTicks(pid) === start)

/** The recorded ssh is still running as that ssh: same process, ssh, our forward and destination. */
export const isRecordedSsh = (r: TunnelRecord): boolean => {
  if (!sameProcess(r.sshPid, r.sshStart)) return false
  const argv = argvOf(r.sshPid)
  if (argv === undefined || path.basename(argv[0] ?? "") !== "ssh") return false
  const l = argv.indexOf("-L")
  return l >= 0 && argv[l + 1] === r.forward && argv.at(-1) === r.destination
}

export type RecordState = "orphaned" | "owned" | "gone"

/** orphaned: our ssh outlived its owner (safe to stop); owned: its owner still runs; gone: nothing to do. */
export const recordState = (r: TunnelRecord): RecordState => {
  if (!isRecordedSsh(r)) return "gone"
  return sameProcess(r.ownerPid, r.ownerStart) ? "owned" : "orphaned"
}

const stopProcess = (pid: number) =>
  Effect.gen(function* () {
    try {
      process.kill(pid, "SIGTERM")
    } catch {
      return
    }
    for (let i = 0; i < 40 && isAlive(pid); i++) yield* Effect.sleep("50 millis")
    if (isAlive(pid)) {
      try {
        process.kill(pid, "SIGKILL")
      } catch {
        // exited meanwhile
      }
      for (let i = 0; i < 20 && isAlive(pid); i++) yield* Effect.sleep("50 millis")
    }
  })

/**
 * Stops every orphaned ssh recorded in `stateDir` and drops records that describe nothing; returns
 * one line per ssh stopped, for the caller to show.
 */
export const reapOrphanedTunnels = (stateDir: string): Effect.Effect<Array<string>> =>
  Effect.gen(function* () {
    const stopped: Array<string> = []
    for (const r of readTunnelRecords(stateDir)) {
      const state = recordState(r)
      if (state === "owned") continue
      if (state === "orphaned") {
        yield* stopProcess(r.sshPid)
        stopped.push(
          `stopped ssh (PID ${r.sshPid}) left on 127.0.0.1:${r.localPort} by an earlier openclaw process (PID ${r.ownerPid}) that no longer runs`
        )
      }
      removeTunnelRecord(stateDir, r.localPort, r.sshPid)
    }
    return stopped
  })

/**
 * Who holds `port`, for the "port in use" message: a recorded tunnel and its owner, or the
 * listening process's name and PID (never its arguments, which may hold secrets).
 */
export const describePortHolder = (port: number, stateDir: string | undefined): string | undefined => {
  const holder = listenerOnPort(port)
  if (holder === undefined) return undefined
  if (holder.pid === undefined)
    return holder.uid !== undefined && holder.uid !== process.getuid?.()
      ? `a process of another user (uid ${holder.uid})`
      : undefined
  const record =
    stateDir === undefined
      ? undefined
      : readTunnelRecords(stateDir).find((r) => r.sshPid === holder.pid && r.localPort === port)
  if (record !== undefined && recordState(record) === "owned") {
    return `ssh (PID ${holder.pid}), the SSH tunnel to ${record.destination} of openclaw PID ${record.ownerPid}, which is still running`
  }
  // Split on spaces too: a Gateway replaces its title (so ps shows no secret) with "openclaw gateway run".
  const words = (argvOf(holder.pid) ?? []).flatMap((a) => a.split(" "))
  const openclawGateway = words.slice(0, 3).some((a) => path.basename(a) === "openclaw") && words.includes("gateway")
  return `${holder.name === undefined ? "a process" : JSON.stringify(holder.name)} (PID ${holder.pid}${openclawGateway ? ", an openclaw Gateway" : ""})`
}
