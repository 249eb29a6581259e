/**
 * The one reconnect policy for everything that keeps a link up (the Tailscale route re-claim,
 * `gateway tunnel`, the node host): exponential from `initial`, jittered (±20 %), capped at `max`,
 * started over once the link stayed up for `stableAfter`, and stopped at once by a failure that
 * retrying cannot fix. Time goes through Effect's Clock and jitter through its Random, so tests
 * use TestClock.
 */
import { Duration, Effect, Random, Schedule, ScheduleDecision, ScheduleInterval } from "effect"

export interface ReconnectOptions<E, R = never> {
  readonly initial: Duration.DurationInput
  readonly max: Duration.DurationInput
  /** A link that stayed up this long starts the backoff over. */
  readonly stableAfter: Duration.DurationInput
  /** false: stop retrying (a changed host key, a refused login, ...). */
  readonly retryable?: (error: E) => boolean
  /** Runs before each wait, e.g. to log "down: <reason>; reconnecting in N s". */
  readonly onRetry?: (error: E, delay: Duration.Duration) => Effect.Effect<void, never, R>
}

interface State {
  readonly attempt: number
  /** When the previous wait ended (the link was reopened then). */
  readonly reopenedAt: number | undefined
}

/** A Schedule for `Effect.retry`; its output is the delay it chose. */
export const reconnectPolicy = <E, R = never>(
  options: ReconnectOptions<E, R>
): Schedule.Schedule<Duration.Duration, E, R> => {
  const initial = Duration.toMillis(options.initial)
  const max = Duration.toMillis(options.max)
  const stable = Duration.toMillis(options.stableAfter)
  return Schedule.makeWithState<State, E, Duration.Duration, R>(
    { attempt: 0, reopenedAt: undefined },
    (now, error, state) => {
      if (options.retryable !== undefined && !options.retryable(error)) {
        return Effect.succeed([state, Duration.zero, ScheduleDecision.done] as const)
      }
      const attempt = state.reopenedAt !== undefined && now - state.reopenedAt >= stable ? 0 : state.attempt
      return Effect.gen(function* () {
        const jitter = 0.8 + (yield* Random.next) * 0.4
        const delay = Duration.millis(Math.min(max, Math.round(Math.min(max, initial * 2 ** attempt) * jitter)))
        if (options.onRetry !== undefined) yield* options.onRetry(error, delay)
        const next = now + Duration.toMillis(delay)
        return [
          { attempt: attempt + 1, reopenedAt: next },
          delay,
          ScheduleDecision.continueWith(ScheduleInterval.after(next))
        ] as const
      })
    }
  )
}
