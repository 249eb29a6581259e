/**
 * SshTunnel: the one place that runs `ssh` (through the ProcessRunner boundary). A tunnel is a
 * scoped resource: `ssh -N -L 127.0.0.1:<local>:127.0.0.1:<remotePort>` is started with a fresh
 * argv (ssh-command.ts), the forward is probed until it accepts, and the process is stopped when
 * the scope closes. ssh runs under `setpriv --pdeathsig` where it exists, so it dies with its owner.
 */
import * as net from "node:net"
import { Cause, Clock, Context, Deferred, Effect, ExecutionStrategy, Layer, Scope } from "effect"
import { liveProcesses, ProcessRunner, type ProcessRunnerService } from "../../platform/process-runner.js"
import { startTicks } from "../../platform/processes.js"
import { reapOrphanedTunnels, removeTunnelRecord, writeTunnelRecord } from "./records.js"
import {
  classifySshFailure,
  hostLabel,
  localPortInUse,
  type SshSpec,
  sshArgs,
  SshTunnelError,
  type TunnelOptions
} from "./ssh-command.js"

export {
  classifySshFailure,
  parseSshTarget,
  SSH_FATAL_AFTER_UP,
  type SshFailureKind,
  type SshHostKeyPolicy,
  type SshSpec,
  sshArgs,
  SshTunnelError,
  type TunnelOptions
} from "./ssh-command.js"

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
  Effect.async<boolean>((resume) => {
    const s = net.connect({ host: "127.0.0.1", port })
    s.once("connect", () => {
      s.destroy()
      resume(Effect.succeed(true))
    })
    s.once("error", () => resume(Effect.succeed(false)))
    return Effect.sync(() => s.destroy())
  })

const notInstalled = (reason: string) =>
  new SshTunnelError({
    kind: "spawn",
    message: /not found|ENOENT/.test(reason)
      ? "ssh is not installed (apt-get install openssh-client)"
      : `cannot run ssh: ${reason}`
  })

/** Starts ssh once on `localPort` and waits for the forward to accept (or ssh to fail). */
const startOnce = (
  processes: ProcessRunnerService,
  binary: string,
  spec: SshSpec,
  localPort: number,
  options: TunnelOptions
) =>
  Effect.gen(function* () {
    // Readiness is "the local port accepts": if something (e.g. a local Gateway on 18789) already
    // listens there, that probe would succeed against it while ssh fails to bind. Refuse first.
    if (yield* probe(localPort)) {
      return yield* new SshTunnelError({ kind: "local-port-in-use", message: localPortInUse(localPort, spec.stateDir) })
    }
    const args = sshArgs(spec, localPort, options)
    const stateDir = spec.stateDir
    // Added before the spawn, so it runs after ssh is stopped: the record goes only once ssh is gone.
    let recorded: number | undefined
    yield* Effect.addFinalizer(() =>
      Effect.sync(
        () => stateDir !== undefined && recorded !== undefined && removeTunnelRecord(stateDir, localPort, recorded)
      )
    )
    const child = yield* processes
      .spawn([binary, ...args], { dieWithParent: true })
      .pipe(Effect.mapError((e) => notInstalled(e.reason)))
    if (stateDir !== undefined) {
      recorded = child.pid
      writeTunnelRecord(stateDir, {
        sshPid: child.pid,
        sshStart: startTicks(child.pid),
        ownerPid: process.pid,
        ownerStart: startTicks(process.pid),
        localPort,
        forward: args[args.indexOf("-L") + 1]!,
        destination: spec.destination,
        since: yield* Clock.currentTimeMillis
      })
    }
    const exited = yield* Deferred.make<SshTunnelError>()
    yield* Effect.forkScoped(
      child.exit.pipe(
        Effect.map((e) => classifySshFailure(e.stderr, e.code, spec, localPort, e.signal)),
        Effect.catchAll((e) => Effect.succeed(notInstalled(e.reason))),
        Effect.intoDeferred(exited)
      )
    )

    const budgetMs = ((options.connectTimeoutS ?? 10) + 5) * 1000
    const deadline = (yield* Clock.currentTimeMillis) + budgetMs
    while (true) {
      if (yield* Deferred.isDone(exited)) return yield* Effect.flip(Deferred.await(exited))
      if (yield* probe(localPort)) break
      if ((yield* Clock.currentTimeMillis) > deadline) {
        return yield* new SshTunnelError({
          kind: "timeout",
          message: `the SSH tunnel to ${hostLabel(spec)} did not come up within ${budgetMs / 1000} s: check gateway.remote.sshTarget and the network`
        })
      }
      yield* Effect.sleep("50 millis")
    }
    return { localPort, pid: child.pid, spec, exited: Deferred.await(exited), cleanedUp: [] } satisfies Tunnel
  })

/** SshTunnel over a ProcessRunner (the live one, or a test's mockProcesses). */
export const makeSshTunnelWith = (processes: ProcessRunnerService, binary = "ssh"): SshTunnelService => ({
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
        const result = yield* Effect.exit(
          startOnce(processes, binary, spec, localPort, options).pipe(Scope.extend(child))
        )
        if (result._tag === "Success") return { ...result.value, cleanedUp }
        yield* Scope.close(child, result)
        const failure = Cause.failureOption(result.cause)
        if (failure._tag === "None") return yield* Effect.failCause(result.cause)
        if (failure.value.kind !== "local-port-in-use" || options.localPort !== undefined || attempt >= 3)
          return yield* failure.value
      }
    }).pipe(Effect.withSpan("SshTunnel.open"))
})

/** Runs the given ssh binary (default: `ssh` on PATH) as a real process. */
export const makeSshTunnel = (binary = "ssh"): SshTunnelService => makeSshTunnelWith(liveProcesses, binary)

export class SshTunnel extends Context.Tag("openclaw/SshTunnel")<SshTunnel, SshTunnelService>() {
  /** Runs the `ssh` on PATH. */
  static layer = Layer.succeed(SshTunnel, makeSshTunnel())
  /** Runs `ssh` (or `binary`) through the ProcessRunner it is given, e.g. the harness's mockProcesses. */
  static layerProcesses = (binary = "ssh") =>
    Layer.effect(
      SshTunnel,
      Effect.map(ProcessRunner, (processes) => makeSshTunnelWith(processes, binary))
    )
  /** Another ssh binary (e.g. a wrapper), or a fake service for tests and embedders. */
  static layerTest = (service: SshTunnelService | string) =>
    Layer.succeed(SshTunnel, typeof service === "string" ? makeSshTunnel(service) : service)
}
