/**
 * ProcessRunner: the one boundary through which the Gateway runs other programs (`tailscale`,
 * `ssh`). Two operations: `run` runs a program to completion under a timeout on Effect's Clock, and
 * `spawn` starts a long-lived child bound to a Scope (closing the scope stops it). The live layer is
 * node:child_process; `layerTest` answers by argv from a script (the harness's mockProcesses), so
 * tests drive timeouts with TestClock and an argv nobody scripted dies naming itself.
 */
import { execFileSync, spawn as nodeSpawn } from "node:child_process"
import { Context, Data, Deferred, Duration, Effect, Fiber, Layer, Option, type Scope } from "effect"
import { findOnPath, isExecutable } from "./executable.js"

const show = (argv: ReadonlyArray<string>) => `\`${argv.join(" ")}\``

/** The program is not there or may not be executed. */
export class ProcessNotFound extends Data.TaggedError("ProcessNotFound")<{
  readonly argv: ReadonlyArray<string>
  readonly reason: string
}> {
  override get message() {
    return `cannot run ${show(this.argv)}: ${this.reason}`
  }
}

/** `run` gave up after its timeout (the child was killed). */
export class ProcessTimedOut extends Data.TaggedError("ProcessTimedOut")<{
  readonly argv: ReadonlyArray<string>
  readonly timeout: Duration.Duration
}> {
  override get message() {
    return `${show(this.argv)} did not finish within ${Duration.format(this.timeout)}`
  }
}

/** The program ran and exited with a code other than 0; stdout and the tail of stderr are kept for callers to classify. */
export class ProcessExitedNonZero extends Data.TaggedError("ProcessExitedNonZero")<{
  readonly argv: ReadonlyArray<string>
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}> {
  override get message() {
    return `${show(this.argv)} exited with code ${this.code}`
  }
}

/** The program ran and was stopped by a signal someone else sent. */
export class ProcessKilled extends Data.TaggedError("ProcessKilled")<{
  readonly argv: ReadonlyArray<string>
  readonly signal: string
  readonly stdout: string
  readonly stderr: string
}> {
  override get message() {
    return `${show(this.argv)} was stopped by ${this.signal}`
  }
}

export type ProcessError = ProcessNotFound | ProcessTimedOut | ProcessExitedNonZero | ProcessKilled

/** How a child ended: its exit code, or the signal that stopped it (code null). */
export interface ProcessExit {
  readonly code: number | null
  readonly signal: string | null
  readonly stdout: string
  /** The last STDERR_TAIL characters. */
  readonly stderr: string
}

export interface RunOptions {
  readonly timeout: Duration.DurationInput
  readonly stdin?: string
  readonly env?: NodeJS.ProcessEnv
}

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv
  /** Let the kernel stop the child when this process dies, even by SIGKILL (`setpriv --pdeathsig`, Linux). */
  readonly dieWithParent?: boolean
  /** Receives stdout as it arrives (UTF-8 text); without it stdout is discarded. */
  readonly onStdout?: (text: string) => void
}

/** A child started by `spawn`; it is stopped (SIGTERM, then SIGKILL) when the spawning scope closes. */
export interface LongLived {
  readonly pid: number
  /** Completes when the child exits (stdout is not kept: ""). */
  readonly exit: Effect.Effect<ProcessExit, ProcessNotFound>
  /** The lines of stderr so far (its last STDERR_TAIL characters). */
  readonly stderrLines: Effect.Effect<ReadonlyArray<string>>
}

export interface ProcessRunnerService {
  /** Runs `argv` to completion: stdout on exit 0, a ProcessError otherwise; the timeout kills it. */
  readonly run: (argv: ReadonlyArray<string>, options: RunOptions) => Effect.Effect<string, ProcessError>
  readonly spawn: (
    argv: ReadonlyArray<string>,
    options?: SpawnOptions
  ) => Effect.Effect<LongLived, ProcessNotFound, Scope.Scope>
}

/** What a backend provides; timeouts and exit-status errors are added on top, the same for live and test. */
export interface ProcessBackend {
  /** Runs to completion; interruption must stop the child. */
  readonly exec: (
    argv: ReadonlyArray<string>,
    options: Omit<RunOptions, "timeout">
  ) => Effect.Effect<ProcessExit, ProcessNotFound>
  readonly spawn: ProcessRunnerService["spawn"]
}

export const STDERR_TAIL = 16_384
const STDOUT_MAX = 4 * 1024 * 1024

export const fromBackend = (backend: ProcessBackend): ProcessRunnerService => ({
  run: (argv, options) => {
    const timeout = Duration.decode(options.timeout)
    return backend.exec(argv, options).pipe(
      Effect.timeoutFail({ duration: timeout, onTimeout: () => new ProcessTimedOut({ argv, timeout }) }),
      Effect.flatMap((exit): Effect.Effect<string, ProcessError> => {
        if (exit.code === 0) return Effect.succeed(exit.stdout)
        const { stdout, stderr } = exit
        return exit.code === null
          ? Effect.fail(new ProcessKilled({ argv, signal: exit.signal ?? "a signal", stdout, stderr }))
          : Effect.fail(new ProcessExitedNonZero({ argv, code: exit.code, stdout, stderr }))
      })
    )
  },
  spawn: backend.spawn
})

const keepTail = (acc: string, chunk: string, max: number) => {
  const s = acc + chunk
  return s.length > max ? s.slice(s.length - max) : s
}

/**
 * Checks that argv[0] would run (spawn's ENOENT arrives late and says little); the child still
 * gets argv[0] as given, so it sees the name it was called by (`ssh`, not `/usr/bin/ssh`).
 */
const locate = (argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv): Effect.Effect<string, ProcessNotFound> => {
  const program = argv[0] ?? ""
  const file = program.includes("/") ? (isExecutable(program) ? program : undefined) : findOnPath([program], env.PATH)
  return file !== undefined
    ? Effect.succeed(file)
    : Effect.fail(
        new ProcessNotFound({ argv, reason: program.includes("/") ? "not an executable file" : "not found on PATH" })
      )
}

let pdeathsig: boolean | undefined
/** util-linux `setpriv` with --pdeathsig (Linux): lets the kernel stop a child when its owner dies, even by SIGKILL. */
const setprivPath = (env: NodeJS.ProcessEnv): string | undefined => {
  if (process.platform !== "linux") return undefined
  const found = findOnPath(["setpriv"], env.PATH)
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

const exec: ProcessBackend["exec"] = (argv, options) =>
  Effect.suspend(() => {
    const env = options.env ?? process.env
    return Effect.flatMap(locate(argv, env), () =>
      Effect.async<ProcessExit, ProcessNotFound>((resume) => {
        const child = nodeSpawn(argv[0]!, argv.slice(1), { env, stdio: ["pipe", "pipe", "pipe"], windowsHide: true })
        let stdout = ""
        let stderr = ""
        child.stdout.setEncoding("utf8").on("data", (d: string) => {
          stdout += d
          if (stdout.length > STDOUT_MAX) child.kill("SIGKILL")
        })
        child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = keepTail(stderr, d, STDERR_TAIL)))
        // A child that cannot start emits "error" and may still emit "close": the first one counts.
        let ended = false
        const end = (result: Effect.Effect<ProcessExit, ProcessNotFound>) => {
          if (ended) return
          ended = true
          resume(result)
        }
        child.once("error", (e) => end(Effect.fail(new ProcessNotFound({ argv, reason: e.message }))))
        child.once("close", (code, signal) => end(Effect.succeed({ code, signal, stdout, stderr })))
        child.stdin.on("error", () => {})
        child.stdin.end(options.stdin ?? "")
        return Effect.sync(() => void child.kill("SIGKILL"))
      })
    )
  })

const spawn: ProcessBackend["spawn"] = (argv, options = {}) =>
  Effect.gen(function* () {
    const env = options.env ?? process.env
    yield* locate(argv, env)
    const setpriv = options.dieWithParent ? setprivPath(env) : undefined
    const exited = yield* Deferred.make<ProcessExit, ProcessNotFound>()
    let stderr = ""
    const stdio = ["ignore", options.onStdout ? "pipe" : "ignore", "pipe"] as const
    const child = yield* Effect.acquireRelease(
      Effect.try({
        try: () =>
          setpriv === undefined
            ? nodeSpawn(argv[0]!, argv.slice(1), { env, stdio: [...stdio] })
            : nodeSpawn(setpriv, ["--pdeathsig", "SIGTERM", "--", ...argv], { env, stdio: [...stdio] }),
        catch: (e) => new ProcessNotFound({ argv, reason: (e as Error).message })
      }),
      // SIGTERM, then SIGKILL if it is still there 2 s later; done once it is gone.
      (c) => {
        const gone = Effect.ignore(Deferred.await(exited))
        return c.pid === undefined || c.exitCode !== null || c.signalCode !== null
          ? Effect.void
          : Effect.sync(() => c.kill("SIGTERM")).pipe(
              // Finalizers are uninterruptible: the wait must be made interruptible for the timeout to end it.
              Effect.zipRight(Effect.timeout(Effect.interruptible(gone), "2 seconds")),
              Effect.catchAll(() =>
                Effect.zipRight(
                  Effect.sync(() => c.kill("SIGKILL")),
                  gone
                )
              )
            )
      }
    )
    // Safety net: a program that exits without running finalizers still takes its child with it.
    const onExit = () => child.kill("SIGTERM")
    process.once("exit", onExit)
    yield* Effect.addFinalizer(() => Effect.sync(() => process.off("exit", onExit)))
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr = keepTail(stderr, d, STDERR_TAIL)))
    if (options.onStdout) child.stdout!.setEncoding("utf8").on("data", options.onStdout)
    child.once("error", (e) =>
      Deferred.unsafeDone(exited, Effect.fail(new ProcessNotFound({ argv, reason: e.message })))
    )
    child.once("close", (code, signal) =>
      Deferred.unsafeDone(exited, Effect.succeed({ code, signal, stdout: "", stderr }))
    )
    // No PID: it did not start, and "error" says why.
    if (child.pid === undefined)
      return yield* Effect.flatMap(Deferred.await(exited), () =>
        Effect.fail(new ProcessNotFound({ argv, reason: "it did not start" }))
      )
    return {
      pid: child.pid,
      exit: Deferred.await(exited),
      stderrLines: Effect.sync(() => stderr.split("\n").filter((l) => l.length > 0))
    } satisfies LongLived
  })

/** node:child_process behind the boundary (also for callers outside a Layer, such as `tailscale` in doctor). */
export const liveProcesses: ProcessRunnerService = fromBackend({ exec, spawn })

/**
 * A scripted program for `layerTest`: for `run`, the effect is the program running to completion;
 * for `spawn`, its lifetime (forked at spawn, interrupted when the scope closes). E.g.
 * `exits({ stdout: "{}" })`, `Effect.never` (hangs), `Effect.as(Effect.sleep("2 seconds"), ...)`.
 */
export type ScriptedProcess = Effect.Effect<ProcessExit, ProcessNotFound>

/** A program that exits at once with `code` (default 0). */
export const exits = (
  result: { readonly code?: number; readonly signal?: string; readonly stdout?: string; readonly stderr?: string } = {}
): ScriptedProcess =>
  Effect.succeed({
    code: result.signal !== undefined ? null : (result.code ?? 0),
    signal: result.signal ?? null,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? ""
  })

const unscripted = (argv: ReadonlyArray<string>) =>
  Effect.dieMessage(`ProcessRunner: ${show(argv)} was run, but the test's script does not answer it`)

export class ProcessRunner extends Context.Tag("openclaw/ProcessRunner")<ProcessRunner, ProcessRunnerService>() {
  static layer = Layer.succeed(ProcessRunner, liveProcesses)

  /** Answers by argv from `script`; an argv it returns undefined for dies naming itself. */
  static layerTest = (script: (argv: ReadonlyArray<string>) => ScriptedProcess | undefined) => {
    // Above any real PID (Linux's pid_max is at most 2^22), so nothing real is ever signalled by mistake.
    let nextPid = 5_000_000
    return Layer.succeed(
      ProcessRunner,
      fromBackend({
        exec: (argv) => Effect.suspend(() => script(argv) ?? unscripted(argv)),
        spawn: (argv) =>
          Effect.gen(function* () {
            const program = script(argv)
            if (program === undefined) return yield* unscripted(argv)
            const fiber = yield* Effect.forkScoped(program)
            return {
              pid: nextPid++,
              exit: Fiber.join(fiber),
              stderrLines: Effect.map(Fiber.poll(fiber), (done) =>
                Option.match(done, {
                  onNone: () => [],
                  onSome: (exit) =>
                    exit._tag === "Success" ? exit.value.stderr.split("\n").filter((l) => l.length > 0) : []
                })
              )
            } satisfies LongLived
          })
      })
    )
  }
}
