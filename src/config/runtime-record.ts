/**
 * The runtime record: what a running `openclaw gateway run` tells the local CLI about itself
 * (PID, port, bind, URLs, TLS fingerprint, start time), in <stateDir>/gateway-runtime.json (0600).
 * Written once the Gateway listens and removed when it stops; a record whose process is gone is
 * ignored, so a Gateway killed with SIGKILL never misleads the next command. It holds no secret.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Either, Schema } from "effect"
import { writePrivateJson } from "../platform/private-file.js"
import { decodeStateText } from "../platform/state-json.js"

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
  /** With --token-file or --password-file: that file's absolute path, where `token rotate` writes. */
  readonly secretFile?: string
  /**
   * How many times the secret in force was replaced without a restart (0 at start), and since
   * when the current one is in force: `token rotate` waits for the count to grow before it says
   * the new secret works. A counter and a time, so the record reveals nothing about the secret.
   */
  readonly secretGeneration?: number
  readonly secretSince?: string
  readonly configPath: string
  readonly startedAt: string
}

export const runtimeRecordPath = (stateDir: string) => path.join(stateDir, "gateway-runtime.json")

export const writeRuntimeRecord = (stateDir: string, record: RuntimeRecord): void =>
  writePrivateJson(runtimeRecordPath(stateDir), record)

/**
 * Changes fields of this process's own record (a record of another PID, or none, is left alone).
 * Merged into the JSON as it is on disk, so fields this version does not know survive.
 */
export const updateRuntimeRecord = (
  stateDir: string,
  change: Partial<RuntimeRecord>,
  pid: number = process.pid
): boolean => {
  const file = runtimeRecordPath(stateDir)
  if (readRecordFile(file)?.pid !== pid) return false
  const raw: unknown = JSON.parse(fs.readFileSync(file, "utf8"))
  writePrivateJson(file, { ...(raw as object), ...change })
  return true
}

/** Removes the record if it is this process's own (a second Gateway that failed to start must not remove the first one's). */
export const removeRuntimeRecord = (stateDir: string, pid: number = process.pid): void => {
  const file = runtimeRecordPath(stateDir)
  if (readRecordFile(file)?.pid === pid) fs.rmSync(file, { force: true })
}

/**
 * kill(pid, 0) succeeds only for a live process this user may signal; the Gateway runs as this
 * user. A zombie (killed, not yet reaped: common in containers whose PID 1 does not reap) passes
 * kill(pid, 0) too, so on Linux its state in /proc says it is gone.
 */
export const isProcessAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return !/^\d+ \(.*\) [ZX] /s.test(stat)
  } catch {
    return true
  }
}

/** The record on disk; fields a newer version adds are ignored. */
export const RuntimeRecordJson = Schema.Struct({
  pid: Schema.Int.pipe(Schema.positive()),
  port: Schema.Int.pipe(Schema.between(1, 65535)),
  bind: Schema.String,
  addresses: Schema.Array(Schema.String),
  url: Schema.String.pipe(Schema.pattern(/^wss?:\/\//)),
  controlUiUrl: Schema.optional(Schema.String),
  healthUrl: Schema.String,
  tlsFingerprint: Schema.optional(Schema.String),
  tlsCertPath: Schema.optional(Schema.String),
  authMode: Schema.String,
  secretSource: Schema.optional(Schema.String),
  secretFile: Schema.optional(Schema.String),
  secretGeneration: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  secretSince: Schema.optional(Schema.String),
  configPath: Schema.String,
  startedAt: Schema.String
})

/**
 * The record in `file`: undefined when there is none, else the record or what is wrong with it
 * (a link, not JSON, or which fields). Readers ignore a record they cannot use: the next Gateway
 * start replaces it, and a guess would send the CLI to the wrong port.
 */
export const readRuntimeRecordFile = (file: string): Either.Either<RuntimeRecord, string> | undefined => {
  let text: string
  try {
    // Never through a symlink (shared/security.md section 8).
    const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0))
    try {
      text = fs.readFileSync(fd, "utf8")
    } finally {
      fs.closeSync(fd)
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return code === "ENOENT"
      ? undefined
      : Either.left(code === "ELOOP" ? "is a symbolic link" : `cannot be read (${code})`)
  }
  return decodeStateText(RuntimeRecordJson, text)
}

const readRecordFile = (file: string): RuntimeRecord | undefined => {
  const read = readRuntimeRecordFile(file)
  return read === undefined ? undefined : Either.getOrUndefined(read)
}

/** The record of a Gateway that is running now, or undefined (none, unreadable, or its process is gone). */
export const readRuntimeRecord = (
  stateDir: string,
  alive: (pid: number) => boolean = isProcessAlive
): RuntimeRecord | undefined => {
  const record = readRecordFile(runtimeRecordPath(stateDir))
  return record !== undefined && alive(record.pid) ? record : undefined
}
