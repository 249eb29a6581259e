/**
 * ProcessRunner: the live layer against real programs (sh), and the test layer's argv scripts
 * with timeouts on TestClock.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Fiber, Option, Scope, TestClock } from "effect"
import { isAlive } from "../../src/platform/processes.js"
import { liveProcesses, ProcessRunner } from "../../src/platform/process-runner.js"
import { exits, mockProcesses } from "../support/harness.js"

const sh = (script: string) => ["sh", "-c", script]

describe("ProcessRunner (live)", () => {
  it.live("run: stdout on exit 0, with stdin given to the program", () =>
    Effect.gen(function* () {
      const out = yield* liveProcesses.run(sh("tr a-z A-Z"), { timeout: "5 seconds", stdin: "hello" })
      expect(out).toBe("HELLO")
    })
  )

  it.live("run: a non-zero exit keeps the code, stdout and stderr", () =>
    Effect.gen(function* () {
      const err = yield* Effect.flip(liveProcesses.run(sh("echo out; echo oops >&2; exit 3"), { timeout: "5 seconds" }))
      expect(err).toMatchObject({ _tag: "ProcessExitedNonZero", code: 3, stdout: "out\n", stderr: "oops\n" })
      expect(err.message).toBe("`sh -c echo out; echo oops >&2; exit 3` exited with code 3")
    })
  )

  it.live("run: a program killed by someone else is ProcessKilled with the signal", () =>
    Effect.gen(function* () {
      const err = yield* Effect.flip(liveProcesses.run(sh("kill -TERM $$"), { timeout: "5 seconds" }))
      expect(err).toMatchObject({ _tag: "ProcessKilled", signal: "SIGTERM" })
    })
  )

  it.live("run: a missing program is ProcessNotFound, before anything is spawned", () =>
    Effect.gen(function* () {
      const onPath = yield* Effect.flip(liveProcesses.run(["no-such-program-oc"], { timeout: "5 seconds" }))
      expect(onPath).toMatchObject({ _tag: "ProcessNotFound", reason: "not found on PATH" })
      const byPath = yield* Effect.flip(liveProcesses.run(["/nonexistent/prog"], { timeout: "5 seconds" }))
      expect(byPath).toMatchObject({ _tag: "ProcessNotFound", reason: "not an executable file" })
    })
  )

  it.live("run: the timeout kills the program", () =>
    Effect.gen(function* () {
      const pidFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "oc-proc-")), "pid")
      const started = Date.now()
      const err = yield* Effect.flip(
        liveProcesses.run(sh(`echo $$ > ${pidFile}; exec sleep 30`), { timeout: "300 millis" })
      )
      expect(err._tag).toBe("ProcessTimedOut")
      expect(err.message).toContain("did not finish within 300ms")
      expect(Date.now() - started).toBeLessThan(5_000)
      const pid = Number(fs.readFileSync(pidFile, "utf8"))
      // Node reaps the killed child a moment later (until then it is a zombie).
      for (let i = 0; i < 50 && isAlive(pid); i++) yield* Effect.sleep("20 millis")
      expect(isAlive(pid)).toBe(false)
    })
  )

  it.live("spawn: stderr lines while it runs, the exit when it ends, and closing the scope stops it", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const child = yield* Scope.extend(
        liveProcesses.spawn(sh("echo first >&2; echo second >&2; exec sleep 30")),
        scope
      )
      expect(isAlive(child.pid)).toBe(true)
      let lines: ReadonlyArray<string> = []
      for (let i = 0; i < 100 && lines.length < 2; i++) {
        yield* Effect.sleep("20 millis")
        lines = yield* child.stderrLines
      }
      expect(lines).toEqual(["first", "second"])
      yield* Scope.close(scope, Exit.void)
      const exit = yield* child.exit
      expect(exit).toMatchObject({ code: null, signal: "SIGTERM", stderr: "first\nsecond\n" })
      expect(isAlive(child.pid)).toBe(false)
    })
  )

  it.live("spawn: a child that ignores SIGTERM gets SIGKILL 2 s later, and the scope closes once it is gone", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const child = yield* Scope.extend(
        liveProcesses.spawn(sh("trap '' TERM; echo ready >&2; while :; do sleep 0.1; done")),
        scope
      )
      for (let i = 0; i < 100 && (yield* child.stderrLines).length === 0; i++) yield* Effect.sleep("20 millis")
      const started = Date.now()
      yield* Scope.close(scope, Exit.void)
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_900)
      expect(yield* child.exit).toMatchObject({ code: null, signal: "SIGKILL" })
    })
  )

  it.live("spawn: a program that exits reports its code and stderr", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const child = yield* liveProcesses.spawn(sh("echo bye >&2; exit 7"), { dieWithParent: true })
        expect(yield* child.exit).toMatchObject({ code: 7, signal: null, stderr: "bye\n" })
      })
    )
  )
})

describe("ProcessRunner.layerTest (mockProcesses)", () => {
  const script = (argv: ReadonlyArray<string>) =>
    argv[0] === "hangs" ? Effect.never : argv[0] === "ok" ? exits({ stdout: "fine" }) : undefined

  it.effect("a program that never answers times out at exactly the timeout (TestClock)", () =>
    Effect.gen(function* () {
      const processes = yield* ProcessRunner
      const fiber = yield* Effect.fork(processes.run(["hangs", "--json"], { timeout: "10 seconds" }))
      yield* TestClock.adjust(Duration.millis(9_999))
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust(Duration.millis(1))
      const err = yield* Effect.flip(Fiber.join(fiber))
      expect(err).toMatchObject({ _tag: "ProcessTimedOut", argv: ["hangs", "--json"] })
    }).pipe(Effect.provide(mockProcesses(script)))
  )

  it.effect("scripted answers go through the same exit-status rules as the live layer", () =>
    Effect.gen(function* () {
      const processes = yield* ProcessRunner
      expect(yield* processes.run(["ok"], { timeout: "1 second" })).toBe("fine")
    }).pipe(Effect.provide(mockProcesses(script)))
  )

  it.effect("an argv the test did not script dies naming itself (run and spawn)", () =>
    Effect.gen(function* () {
      const processes = yield* ProcessRunner
      const ran = yield* Effect.exit(processes.run(["tailscale", "whois", "100.64.0.1"], { timeout: "1 second" }))
      expect(Exit.isFailure(ran) && Cause.isDie(ran.cause)).toBe(true)
      expect(Cause.pretty((ran as Exit.Failure<never, never>).cause)).toContain(
        "`tailscale whois 100.64.0.1` was run, but the test's script does not answer it"
      )
      const spawned = yield* Effect.exit(Effect.scoped(processes.spawn(["ssh", "-N", "host"])))
      expect(Cause.pretty((spawned as Exit.Failure<never, never>).cause)).toContain("`ssh -N host` was run")
    }).pipe(Effect.provide(mockProcesses(script)))
  )
})
