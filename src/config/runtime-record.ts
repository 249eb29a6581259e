/**
 * The runtime record: what a running `openclaw gateway run` tells the local CLI about itself
 * (PID, port, bind, URLs, TLS fingerprint, start time), in <stateDir>/gateway-runtime.json (0600).
 * Written once the Gateway listens and removed when it stops; a record whose process is gone is
 * ignored, so a Gateway killed with SIGKILL never misleads the next command. It holds no secret.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { writePrivateJson } from "../platform/private-file.js"

export interface RuntimeRecord {
  readonly pid: number
  readonly port: number
  /** gateway.bind as configured, and the addresses actually bound. */
  readonly bind: string
  readonly addresses: ReadonlyArray<string>
  /** The WebSocket URL a client on this machine uses (the tailnet or custom address when loopback is not bound). */
  readonly url: string
  readonly controlUiUrl?: string
  readonly healthUrl: string
  /** SHA-256 of the certificate served (uppercase colon hex), with TLS on. */
  readonly tlsFingerprint?: string
  readonly tlsCertPath?: string
  /** Auth mode and where its secret came from ("--token", "gateway.auth.token" ...), never the secret. */
  readonly authMode: string
  readonly secretSource?: string
  readonly configPath: string
  readonly startedAt: string
}

export const runtimeRecordPath = (stateDir: string) => path.join(stateDir, "gateway-runtime.json")

export const writeRuntimeRecord = (stateDir: string, record: RuntimeRecord): void =>
  writePrivateJson(runtimeRecordPath(stateDir), record)

/** Removes the record if it is this process's own (a second Gateway that failed to start must not remove the first one's). */
export const removeRuntimeRecord = (stateDir: string, pid: number = process.pid): void => {
  const file = runtimeRecordPath(stateDir)
  if (readRecordFile(file)?.pid === pid) fs.rmSync(file, { force: true })
}

/** kill(pid, 0) succeeds only for a live process this user may signal; the Gateway runs as this user. */
export const isProcessAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const isPort = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 65535

const readRecordFile = (file: string): RuntimeRecord | undefined => {
  let text: string
  try {
    // Never through a symlink (shared/security.md section 8).
    const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0))
    try {
      text = fs.readFileSync(fd, "utf8")
    } finally {
      fs.closeSync(fd)
    }
    const r = JSON.parse(text) as Partial<RuntimeRecord> | null
    if (r === null || typeof r !== "object") return undefined
    if (!Number.isInteger(r.pid) || (r.pid as number) <= 0 || !isPort(r.port)) return undefined
    if (typeof r.url !== "string" || !/^wss?:\/\//.test(r.url) || typeof r.configPath !== "string") return undefined
    return r as RuntimeRecord
  } catch {
    return undefined
  }
}

/** The record of a Gateway that is running now, or undefined (none, unreadable, or its process is gone). */
export const readRuntimeRecord = (
  stateDir: string,
  alive: (pid: number) => boolean = isProcessAlive
): RuntimeRecord | undefined => {
  const record = readRecordFile(runtimeRecordPath(stateDir))
  return record !== undefined && alive(record.pid) ? record : undefined
}
