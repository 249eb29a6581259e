/** The step engine: order, stop at the first failure, a defect is that step's failure, the table's layout. */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { failed, formatSteps, passed, runSteps, skipped } from "../../src/services/doctor/steps.js"

describe("doctor step engine", () => {
  it("runs steps in order, skips everything after the first failure, and turns a defect into a failure", async () => {
    const ran: Array<string> = []
    const step = (id: string, run: Effect.Effect<ReturnType<typeof passed>>) => ({
      id,
      run: Effect.tap(
        Effect.sync(() => ran.push(id)),
        () => Effect.void
      ).pipe(Effect.zipRight(run))
    })
    const report = await Effect.runPromise(
      runSteps([
        step("a", Effect.succeed(passed("fine", 7))),
        step("b", Effect.succeed(skipped("n/a"))),
        step("c", Effect.die(new Error("boom"))),
        step("d", Effect.succeed(failed("never", "never")))
      ])
    )
    expect(ran).toEqual(["a", "b", "c"])
    expect(report.ok).toBe(false)
    expect(report.steps).toEqual([
      { id: "a", ok: true, ms: 7, detail: "fine" },
      { id: "b", ok: null, ms: expect.any(Number), detail: "n/a" },
      {
        id: "c",
        ok: false,
        ms: expect.any(Number),
        detail: "unexpected error: boom",
        fix: "this is a bug in openclaw doctor; please report it with the output of --json"
      },
      { id: "d", ok: null, ms: 0, detail: "not run: c failed" }
    ])
    expect(formatSteps(report.steps).split("\n")).toEqual([
      "  ok   a     7ms  fine",
      expect.stringMatching(/^  -    b +n\/a$/),
      expect.stringMatching(/^  FAIL c +\d+ms  unexpected error: boom$/),
      "            fix:  this is a bug in openclaw doctor; please report it with the output of --json",
      expect.stringMatching(/^  -    d +not run: c failed$/)
    ])
  })

  it("reports each result as it is known, and a budget for the whole walk ends a silent step with the real time", async () => {
    const seen: Array<string> = []
    const started = performance.now()
    const report = await Effect.runPromise(
      runSteps(
        [
          { id: "quick", run: Effect.succeed(passed("fine")) },
          { id: "slow", run: Effect.as(Effect.sleep("300 millis"), passed("slow but fine")) },
          { id: "silent", run: Effect.as(Effect.never, passed("never")) },
          { id: "after", run: Effect.succeed(passed("never")) }
        ],
        {
          totalMs: 600,
          onResult: (r) => Effect.sync(() => seen.push(`${r.id}@${Math.round(performance.now() - started)}`))
        }
      )
    )
    const took = performance.now() - started
    expect(took).toBeLessThan(600 + 1_000)
    expect(seen.map((s) => s.split("@")[0])).toEqual(["quick", "slow", "silent", "after"])
    // "slow" was reported when it ended, not when the walk did.
    expect(Number(seen[1]!.split("@")[1])).toBeLessThan(took - 150)
    const silent = report.steps[2]!
    expect(silent.ok).toBe(false)
    expect(silent.detail).toContain("--timeout of 600 ms")
    expect(silent.ms).toBeGreaterThanOrEqual(250)
    expect(silent.ms).toBeLessThan(600 + 1_000)
  })
})
