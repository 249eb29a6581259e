/**
 * SshTunnel: the one place that runs `ssh`. A tunnel is a scoped resource: `ssh -N -L
 * 127.0.0.1:<local>:127.0.0.1:<remotePort>` is started with a fresh argv (ssh keeps the FIRST
 * value of each -o, so nothing is ever appended to override), the forward is probed until it
 * accepts, and the process is stopped when the scope closes. ssh's failures are classified into
 * one-line messages that say what to check; raw stderr is never passed on wholesale.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as net from "node:net"
import * as path from "node:path"
import { Cause, Context, Data, Deferred, Effect, ExecutionStrategy, Layer, Scope } from "effect"
import { findOnPath, isExecutable } from "../../platform/executable.js"
import { startTicks } from "../../platform/processes.js"
import { describePortHolder, reapOrphanedTunnels, removeTunnelRecord, writeTunnelRecord } from "./records.js"

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

export interface Tunnel {
  readonly localPort: number
  readonly pid: number
  readonly spec: SshSpec
  /** Completes when ssh exits, with the classified reason. */
  readonly exited: Effect.Effect<SshTunnelError>
  /** One line per orphaned ssh of an earlier owner that this open stopped (for the caller to show). */
  readonly cleanedUp: ReadonlyArray<string>
}

export interface SshTunnelService {
  readonly open: (spec: SshSpec, options?: TunnelOptions) => Effect.Effect<Tunnel, SshTunnelError, Scope.Scope>
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
const localPortInUse = (localPort: number, stateDir?: string) => {
  const holder = describePortHolder(localPort, stateDir)
  return holder === undefined
    ? `local port ${localPort} is already in use on 127.0.0.1: choose another with --local-port (a local Gateway may be using it)`
    : `local port ${localPort} is already in use on 127.0.0.1 by ${holder}: choose another with --local-port, or stop that process`
}

const hostLabel = (spec: SshSpec) => (spec.port === undefined ? spec.host : `${spec.host} port ${spec.port}`)

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

/** A port that was free on 127.0.0.1 a moment ago. */
export const freeLocalPort = () =>
  Effect.async<number, SshTunnelError>((resume) => {
    const server = net.createServer()
    server.once("error", (e) =>
      resume(Effect.fail(new SshTunnelError({ kind: "spawn", message: `cannot find a free local port: ${e.message}` })))
    )
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resume(Effect.succeed(port)))
    })
  })

const probe = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port })
    s.once("connect", () => {
      s.destroy()
      resolve(true)
    })
    s.once("error", () => resolve(false))
  })

const stopChild = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    const kill = setTimeout(() => child.kill("SIGKILL"), 2_000)
    child.once("exit", () => {
      clearTimeout(kill)
      resume(Effect.void)
    })
    child.kill("SIGTERM")
  })

let pdeathsig: boolean | undefined
/** util-linux `setpriv` with --pdeathsig (Linux): lets the kernel stop ssh when its owner dies, even by SIGKILL. */
const setprivPath = (): string | undefined => {
  if (process.platform !== "linux") return undefined
  const found = findOnPath(["setpriv"], process.env.PATH)
  if (found === undefined) return undefined
  if (pdeathsig === undefined) {
    try {
      pdeathsig = execFileSync(found, ["--help"], {
        encoding: "utf8",
        timeout: 2_000,
        stdio: ["ignore", "pipe", "ignore"]
      }).includes("--pdeathsig")
    } catch {
      pdeathsig = false
    }
  }
  return pdeathsig ? found : undefined
}

/** ssh, under `setpriv --pdeathsig SIGTERM` where it exists and ssh is installed (else spawn reports ENOENT itself). */
const spawnSsh = (binary: string, args: Array<string>) => {
  const setpriv = setprivPath()
  const sshExists = path.isAbsolute(binary)
    ? isExecutable(binary)
    : findOnPath([binary], process.env.PATH) !== undefined
  return setpriv !== undefined && sshExists
    ? spawn(setpriv, ["--pdeathsig", "SIGTERM", "--", binary, ...args], { stdio: ["ignore", "ignore", "pipe"] })
    : spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] })
}

/** Starts ssh once on `localPort` and waits for the forward to accept (or ssh to fail). */
const startOnce = (binary: string, spec: SshSpec, localPort: number, options: TunnelOptions) =>
  Effect.gen(function* () {
    // Readiness is "the local port accepts": if something (e.g. a local Gateway on 18789) already
    // listens there, that probe would succeed against it while ssh fails to bind. Refuse first.
    if (yield* Effect.promise(() => probe(localPort))) {
      return yield* new SshTunnelError({ kind: "local-port-in-use", message: localPortInUse(localPort, spec.stateDir) })
    }
    const exitedDeferred = yield* Deferred.make<SshTunnelError>()
    const args = sshArgs(spec, localPort, options)
    const stateDir = spec.stateDir
    const child = yield* Effect.acquireRelease(
      Effect.try({
        try: () => {
          const c = spawnSsh(binary, args)
          if (stateDir !== undefined && c.pid !== undefined) {
            writeTunnelRecord(stateDir, {
              sshPid: c.pid,
              sshStart: startTicks(c.pid),
              ownerPid: process.pid,
              ownerStart: startTicks(process.pid),
              localPort,
              forward: args[args.indexOf("-L") + 1]!,
              destination: spec.destination,
              since: Date.now()
            })
          }
          return c
        },
        catch: (e) => new SshTunnelError({ kind: "spawn", message: `cannot run ssh: ${(e as Error).message}` })
      }),
      // The record goes only once ssh is gone.
      (c) =>
        Effect.zipRight(
          stopChild(c),
          Effect.sync(
            () => stateDir !== undefined && c.pid !== undefined && removeTunnelRecord(stateDir, localPort, c.pid)
          )
        )
    )
    // Safety net: a CLI that exits without running finalizers still takes its ssh with it.
    const onExit = () => child.kill("SIGTERM")
    process.once("exit", onExit)
    yield* Effect.addFinalizer(() => Effect.sync(() => process.off("exit", onExit)))
    let stderr = ""
    child.stderr!.on("data", (d) => {
      if (stderr.length < 16_384) stderr += d
    })
    child.once("error", (e: NodeJS.ErrnoException) =>
      Deferred.unsafeDone(
        exitedDeferred,
        Effect.succeed(
          new SshTunnelError({
            kind: "spawn",
            message:
              e.code === "ENOENT"
                ? "ssh is not installed (apt-get install openssh-client)"
                : `cannot run ssh: ${e.message}`
          })
        )
      )
    )
    child.once("close", (code, signal) =>
      Deferred.unsafeDone(exitedDeferred, Effect.succeed(classifySshFailure(stderr, code, spec, localPort, signal)))
    )

    const budgetMs = ((options.connectTimeoutS ?? 10) + 5) * 1000
    const deadline = Date.now() + budgetMs
    while (true) {
      if (yield* Deferred.isDone(exitedDeferred)) return yield* Effect.flip(Deferred.await(exitedDeferred))
      if (yield* Effect.promise(() => probe(localPort))) break
      if (Date.now() > deadline) {
        return yield* new SshTunnelError({
          kind: "timeout",
          message: `the SSH tunnel to ${hostLabel(spec)} did not come up within ${budgetMs / 1000} s: check gateway.remote.sshTarget and the network`
        })
      }
      yield* Effect.sleep("50 millis")
    }
    return { localPort, pid: child.pid!, spec, exited: Deferred.await(exitedDeferred), cleanedUp: [] } satisfies Tunnel
  })

export const makeSshTunnel = (binary = "ssh"): SshTunnelService => ({
  open: (spec, options = {}) =>
    Effect.gen(function* () {
      const outer = yield* Effect.scope
      // An ssh whose owner was killed (SIGKILL, a crash) may still hold its port: stop the ones provably ours.
      const cleanedUp = spec.stateDir === undefined ? [] : yield* reapOrphanedTunnels(spec.stateDir)
      // A free port can be taken between the check and ssh's bind: then try another (not for a fixed port).
      for (let attempt = 1; ; attempt++) {
        const localPort = options.localPort ?? (yield* freeLocalPort())
        // Each attempt in its own child scope, closed at once on failure: a failed attempt leaves no ssh behind.
        const child = yield* Scope.fork(outer, ExecutionStrategy.sequential)
        const result = yield* Effect.exit(startOnce(binary, spec, localPort, options).pipe(Scope.extend(child)))
        if (result._tag === "Success") return { ...result.value, cleanedUp }
        yield* Scope.close(child, result)
        const failure = Cause.failureOption(result.cause)
        if (failure._tag === "None") return yield* Effect.failCause(result.cause)
        if (failure.value.kind !== "local-port-in-use" || options.localPort !== undefined || attempt >= 3)
          return yield* failure.value
      }
    }).pipe(Effect.withSpan("SshTunnel.open"))
})

export class SshTunnel extends Context.Tag("openclaw/SshTunnel")<SshTunnel, SshTunnelService>() {
  /** Runs the `ssh` on PATH. */
  static layer = Layer.succeed(SshTunnel, makeSshTunnel())
  /** Another ssh binary (e.g. a wrapper), or a fake service for tests and embedders. */
  static layerTest = (service: SshTunnelService | string) =>
    Layer.succeed(SshTunnel, typeof service === "string" ? makeSshTunnel(service) : service)
}
