/**
 * The ssh command line of SshTunnel: the target as configured (parsed and refused when ssh could
 * misread it), the argv built fresh for every start, and ssh's stderr classified into one-line
 * messages that say what to check (raw stderr is never passed on wholesale).
 */
import { Data } from "effect"
import { describePortHolder } from "./records.js"

export type SshHostKeyPolicy = "strict" | "openssh"

/** What gateway.remote.{sshTarget, sshIdentity, sshHostKeyPolicy, sshKnownHostsFile, remotePort} resolve to. */
export interface SshSpec {
  /** As configured, for messages: `user@host[:port]`. */
  readonly target: string
  /** `user@host` (or `host`) as given to ssh. */
  readonly destination: string
  readonly host: string
  readonly port: number | undefined
  readonly identity: string | undefined
  readonly hostKeyPolicy: SshHostKeyPolicy
  readonly knownHostsFile: string | undefined
  readonly remotePort: number
  /**
   * The state directory: each ssh is recorded in <stateDir>/ssh-tunnels/ so that a later start can
   * stop one whose owner was killed (see ssh-tunnel-records.ts). Without it nothing is recorded.
   */
  readonly stateDir?: string
}

export type SshFailureKind =
  | "host-key-changed"
  | "host-key-unknown"
  | "auth"
  | "refused"
  | "timeout"
  | "host-not-found"
  | "forward"
  | "local-port-in-use"
  | "spawn"
  | "exited"

export class SshTunnelError extends Data.TaggedError("SshTunnelError")<{
  readonly kind: SshFailureKind
  readonly message: string
}> {}

/**
 * ssh failures that another attempt will not fix, even after a tunnel was up: a host key that
 * changed (or is unknown) may be a man-in-the-middle, and a refused login will not fix itself;
 * retrying every 30 s would only hide them. Transient ones (refused, timeout, network) are retried.
 */
export const SSH_FATAL_AFTER_UP: ReadonlyArray<SshFailureKind> = ["host-key-changed", "host-key-unknown", "auth"]

export interface TunnelOptions {
  /** Fixed local port (`gateway tunnel --local-port`); default: a free one. */
  readonly localPort?: number
  /** Seconds; ssh's ConnectTimeout. */
  readonly connectTimeoutS?: number
  /** Seconds; ServerAliveInterval (with ServerAliveCountMax 2, a frozen link is noticed in ~3x this). */
  readonly serverAliveIntervalS?: number
}

/** Characters a shell, ssh's option parser or a config file could give meaning to. */
const UNSAFE_TARGET = /[^A-Za-z0-9._@:%+\-[\]]/

/**
 * Parses `user@host[:port]` (IPv6 as `user@[::1]:22`). Refuses a leading `-` (it would be an ssh
 * option), whitespace and shell metacharacters. Returns an error message naming `key` instead.
 */
export const parseSshTarget = (
  raw: string,
  key = "gateway.remote.sshTarget"
): { destination: string; host: string; port: number | undefined } | string => {
  const bad = (why: string) =>
    `${key}: ${why}, got ${JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw)} (expected user@host or user@host:port)`
  if (raw.length === 0) return bad("empty")
  if (raw.startsWith("-")) return bad("must not start with '-' (ssh would read it as an option)")
  if (UNSAFE_TARGET.test(raw)) return bad("must not contain whitespace, quotes or shell metacharacters")
  const at = raw.lastIndexOf("@")
  const user = at >= 0 ? raw.slice(0, at) : undefined
  const rest = at >= 0 ? raw.slice(at + 1) : raw
  if (user !== undefined && (user.length === 0 || user.includes("@")))
    return bad("the user name is empty or has an '@'")
  let host = rest
  let port: number | undefined
  const bracket = /^\[([0-9a-fA-F:.%A-Za-z]+)\](?::(\d+))?$/.exec(rest)
  if (bracket) {
    host = bracket[1]!
    port = bracket[2] === undefined ? undefined : Number(bracket[2])
  } else if (rest.includes("[") || rest.includes("]")) {
    return bad("brackets are only for an IPv6 address, as user@[::1]:22")
  } else if (rest.split(":").length === 2) {
    host = rest.split(":")[0]!
    port = Number(rest.split(":")[1])
  } else if (rest.includes(":")) {
    return bad("write an IPv6 address in brackets, as user@[::1]:22")
  }
  if (host.length === 0 || host.startsWith("-")) return bad("the host is empty or starts with '-'")
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535))
    return bad("the port must be between 1 and 65535")
  return { destination: user === undefined ? host : `${user}@${host}`, host, port }
}

/** The complete argv after `ssh`, built fresh for every start. */
export const sshArgs = (spec: SshSpec, localPort: number, options: TunnelOptions = {}): Array<string> => [
  "-N",
  "-o",
  "BatchMode=yes",
  "-o",
  "ExitOnForwardFailure=yes",
  "-o",
  `ServerAliveInterval=${options.serverAliveIntervalS ?? 5}`,
  "-o",
  "ServerAliveCountMax=2",
  "-o",
  `ConnectTimeout=${options.connectTimeoutS ?? 10}`,
  ...(spec.hostKeyPolicy === "strict" ? ["-o", "StrictHostKeyChecking=yes"] : []),
  ...(spec.knownHostsFile !== undefined ? ["-o", `UserKnownHostsFile=${spec.knownHostsFile}`] : []),
  ...(spec.identity !== undefined ? ["-o", "IdentitiesOnly=yes", "-i", spec.identity] : []),
  ...(spec.port !== undefined ? ["-p", String(spec.port)] : []),
  "-L",
  `127.0.0.1:${localPort}:127.0.0.1:${spec.remotePort}`,
  "--",
  spec.destination
]

/** Names the holder when this user can see it (ssh-tunnel-records.ts); otherwise says what it may be. */
export const localPortInUse = (localPort: number, stateDir?: string) => {
  const holder = describePortHolder(localPort, stateDir)
  return holder === undefined
    ? `local port ${localPort} is already in use on 127.0.0.1: choose another with --local-port (a local Gateway may be using it)`
    : `local port ${localPort} is already in use on 127.0.0.1 by ${holder}: choose another with --local-port, or stop that process`
}

export const hostLabel = (spec: SshSpec) => (spec.port === undefined ? spec.host : `${spec.host} port ${spec.port}`)

/** One line per failure, saying what to check. `stderr` is read, never echoed whole. */
export const classifySshFailure = (
  stderr: string,
  exitCode: number | null,
  spec: SshSpec,
  localPort: number,
  signal?: string | null
): SshTunnelError => {
  const make = (kind: SshFailureKind, message: string) => new SshTunnelError({ kind, message })
  // The fix commands must touch the file ssh actually reads: gateway.remote.sshKnownHostsFile when set.
  const own = spec.knownHostsFile
  const known = own === undefined ? "~/.ssh/known_hosts" : `${own} (gateway.remote.sshKnownHostsFile)`
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/.test(stderr)) {
    return make(
      "host-key-changed",
      `the SSH host key of ${hostLabel(spec)} does not match the one in ${known}: if the server's key really changed, check its new fingerprint out of band and replace the entry (ssh-keygen ${own === undefined ? "" : `-f ${own} `}-R ${spec.port ? `"[${spec.host}]:${spec.port}"` : spec.host}); otherwise someone may be intercepting the connection`
    )
  }
  if (/Host key verification failed|No \S+ host key is known/.test(stderr)) {
    return make(
      "host-key-unknown",
      `the SSH host key of ${hostLabel(spec)} is not in ${known}${spec.hostKeyPolicy === "strict" ? ' and gateway.remote.sshHostKeyPolicy is "strict"' : ""}: connect once with \`ssh ${own === undefined ? "" : `-o UserKnownHostsFile=${own} `}${spec.port ? `-p ${spec.port} ` : ""}${spec.destination}\` and verify the fingerprint, or add the key to ${own ?? known}`
    )
  }
  if (/Permission denied \(/.test(stderr)) {
    return make(
      "auth",
      `the SSH server ${hostLabel(spec)} refused the login for ${spec.destination}: check gateway.remote.sshIdentity${spec.identity ? ` (${spec.identity})` : ""} is a key without a passphrase prompt (or loaded in ssh-agent) whose public key is in that user's ~/.ssh/authorized_keys`
    )
  }
  if (/Identity file .* not accessible|Load key .*: (No such file|Permission denied)/.test(stderr)) {
    return make("auth", `ssh cannot read the identity file ${spec.identity ?? ""}: check gateway.remote.sshIdentity`)
  }
  if (/Could not resolve hostname/.test(stderr)) {
    return make(
      "host-not-found",
      `the SSH host ${spec.host} was not found: check the host name in gateway.remote.sshTarget`
    )
  }
  if (/Connection refused/.test(stderr) && /connect to host/.test(stderr)) {
    return make(
      "refused",
      `nothing accepts SSH connections at ${hostLabel(spec)}: check the host and port in gateway.remote.sshTarget and that sshd runs there`
    )
  }
  if (/Connection timed out|Operation timed out|No route to host|Network is unreachable/.test(stderr)) {
    return make(
      "timeout",
      `no SSH connection to ${hostLabel(spec)} (timed out or unreachable): check the network and gateway.remote.sshTarget`
    )
  }
  if (/cannot listen to port|Address already in use|Could not request local forwarding/.test(stderr)) {
    return make("local-port-in-use", localPortInUse(localPort, spec.stateDir))
  }
  if (/forwarding failed|administratively prohibited/.test(stderr)) {
    return make(
      "forward",
      `the SSH server ${hostLabel(spec)} refused the port forward: check AllowTcpForwarding in its sshd_config`
    )
  }
  const last = stderr
    .trim()
    .split("\n")
    .filter((l) => !/^Warning: Permanently added/.test(l))
    .pop()
    ?.trim()
    .slice(0, 160)
  const how = exitCode === null ? `was stopped by ${signal ?? "a signal"}` : `exited (code ${exitCode})`
  return make("exited", `ssh to ${hostLabel(spec)} ${how}${last ? `: ${last}` : ""}`)
}
