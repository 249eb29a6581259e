/**
 * The doctor's step engine, shared by `openclaw doctor` (the path from this machine to a Gateway)
 * and the Gateway's `doctor` method (its own host checks). Steps run in order; the first failure
 * stops the walk and every later step is reported as skipped, so the first red line is the cause.
 */
import { Cause, Effect } from "effect"
import { forTerminal } from "../../protocol/client-text.js"

/** What a step saw. `ms` overrides the measured time (a step that reports a round trip made earlier). */
export type Outcome =
  | { readonly ok: true; readonly detail: string; readonly ms?: number }
  | { readonly ok: false; readonly detail: string; readonly fix: string; readonly ms?: number }
  | { readonly ok: null; readonly detail: string }

export interface StepResult {
  readonly id: string
  /** true passed, false failed, null skipped (does not apply, or an earlier step failed). */
  readonly ok: boolean | null
  readonly ms: number
  readonly detail: string
  readonly fix?: string
}

export interface Step<R = never> {
  readonly id: string
  readonly run: Effect.Effect<Outcome, never, R>
}

export interface DoctorReport {
  readonly ok: boolean
  readonly steps: ReadonlyArray<StepResult>
}

export const passed = (detail: string, ms?: number): Outcome =>
  ms === undefined ? { ok: true, detail } : { ok: true, detail, ms }
export const failed = (detail: string, fix: string, ms?: number): Outcome =>
  ms === undefined ? { ok: false, detail, fix } : { ok: false, detail, fix, ms }
export const skipped = (detail: string): Outcome => ({ ok: null, detail })

export interface RunOptions<R> {
  /** Called as each step finishes (or is skipped), so a terminal sees every line when it is known. */
  readonly onResult?: (result: StepResult) => Effect.Effect<void, never, R>
  /** A budget for the whole walk: a step still running when it is spent fails, and the rest are skipped. */
  readonly totalMs?: number
}

/** Runs `steps` in order, stopping at the first failure; a defect in a step is that step's failure. */
export const runSteps = <R>(
  steps: ReadonlyArray<Step<R>>,
  options: RunOptions<R> = {}
): Effect.Effect<DoctorReport, never, R> =>
  Effect.gen(function* () {
    const results: Array<StepResult> = []
    const report = (r: StepResult) =>
      Effect.zipRight(
        Effect.sync(() => results.push(r)),
        options.onResult === undefined ? Effect.void : options.onResult(r)
      )
    const begun = performance.now()
    let broken: string | undefined
    for (const step of steps) {
      if (broken !== undefined) {
        yield* report({ id: step.id, ok: null, ms: 0, detail: `not run: ${broken} failed` })
        continue
      }
      const started = performance.now()
      const budget = options.totalMs === undefined ? undefined : options.totalMs - (started - begun)
      const bounded =
        budget === undefined
          ? step.run
          : step.run.pipe(
              Effect.timeoutTo({
                duration: Math.max(0, Math.round(budget)),
                onSuccess: (o): Outcome => o,
                onTimeout: (): Outcome =>
                  failed(
                    `no answer before the whole run's --timeout of ${options.totalMs} ms was spent`,
                    "the link at this step is slow or silent; run again with a larger --timeout to see more"
                  )
              })
            )
      const outcome = yield* bounded.pipe(
        Effect.catchAllCause((cause) => {
          const e = Cause.squash(cause)
          return Effect.succeed(
            failed(
              `unexpected error: ${e instanceof Error ? e.message : String(e)}`,
              "this is a bug in openclaw doctor; please report it with the output of --json"
            )
          )
        })
      )
      const ms = "ms" in outcome && outcome.ms !== undefined ? outcome.ms : Math.round(performance.now() - started)
      yield* report({
        id: step.id,
        ok: outcome.ok,
        ms,
        detail: outcome.detail,
        ...(outcome.ok === false ? { fix: outcome.fix } : {})
      })
      if (outcome.ok === false) broken = step.id
    }
    return { ok: broken === undefined, steps: results }
  })

const MARK = { pass: "ok  ", fail: "FAIL", skip: "-   " } as const

/**
 * One step's line (mark, id padded to `width`, time, detail) and, when it failed, its fix
 * underneath. Details and fixes quote what the Gateway (or a process on its port) sent: one
 * visible line each.
 */
export const formatStep = (s: StepResult, width: number): string => {
  const mark = s.ok === true ? MARK.pass : s.ok === false ? MARK.fail : MARK.skip
  const time = s.ok === null ? "" : `${s.ms}ms`
  const line = `  ${mark} ${s.id.padEnd(width)} ${time.padStart(7)}  ${forTerminal(s.detail)}`
  return s.fix === undefined
    ? line
    : `${line}\n       ${" ".repeat(width)} ${"fix:".padStart(7)}  ${forTerminal(s.fix)}`
}

/** The step table: one line per step, the failing step's fix underneath. */
export const formatSteps = (steps: ReadonlyArray<StepResult>): string => {
  const width = Math.max(...steps.map((s) => s.id.length))
  return steps.map((s) => formatStep(s, width)).join("\n")
}
