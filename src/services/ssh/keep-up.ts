/**
 * Keeping one SSH tunnel up (`openclaw gateway tunnel`): open it, wait for ssh to exit, open it
 * again with the shared reconnect policy (platform/reconnect.ts) until a failure that another
 * attempt will not fix. Time runs on Effect's Clock, so tests drive the backoff with TestClock.
 */
import { Duration, Effect } from "effect"
import { reconnectPolicy } from "../../platform/reconnect.js"
import {
  SSH_FATAL_AFTER_UP,
  type SshFailureKind,
  type SshSpec,
  SshTunnelError,
  type TunnelOptions
} from "./ssh-command.js"
import { SshTunnel, type Tunnel } from "./SshTunnel.js"

/** Failures that another attempt will not fix before the first success (a setting to change). */
export const SSH_FATAL_BEFORE_UP: ReadonlyArray<SshFailureKind> = [
  ...SSH_FATAL_AFTER_UP,
  "local-port-in-use",
  "host-not-found",
  "spawn"
]

/** The tunnel's backoff: from 0.5 s, capped at 30 s, started over once it stayed up for 30 s. */
export const TUNNEL_RECONNECT = {
  initial: Duration.millis(500),
  max: Duration.seconds(30),
  stableAfter: Duration.seconds(30)
} as const

export interface KeepUpHooks<R> {
  /** Each time the tunnel is up; `again` from the second time on. */
  readonly onUp: (tunnel: Tunnel, again: boolean) => Effect.Effect<void, never, R>
  /** ssh ended (or could not start) and another attempt follows after `delay`. */
  readonly onDown: (reason: SshTunnelError, delay: Duration.Duration) => Effect.Effect<void, never, R>
}

/** How keeping the tunnel up ended: the failure retrying cannot fix, and whether it was ever up. */
export interface TunnelEnded {
  readonly reason: SshTunnelError
  readonly everUp: boolean
}

export const keepTunnelUp = <R>(
  spec: SshSpec,
  options: TunnelOptions,
  hooks: KeepUpHooks<R>
): Effect.Effect<TunnelEnded, never, SshTunnel | R> =>
  Effect.gen(function* () {
    const ssh = yield* SshTunnel
    let everUp = false
    // One run of the tunnel: it always ends in a failure (ssh exited, or could not start).
    const run: Effect.Effect<never, SshTunnelError, R> = Effect.scoped(
      Effect.gen(function* () {
        const tunnel = yield* ssh.open(spec, options)
        yield* hooks.onUp(tunnel, everUp)
        everUp = true
        return yield* Effect.fail(yield* tunnel.exited)
      })
    )
    /** Failures another attempt will not fix end it (fewer once the tunnel was up). */
    const retryable = (reason: SshTunnelError) =>
      !(everUp ? SSH_FATAL_AFTER_UP : SSH_FATAL_BEFORE_UP).includes(reason.kind)
    const reason = yield* Effect.flip(
      Effect.retry(run, reconnectPolicy<SshTunnelError, R>({ ...TUNNEL_RECONNECT, retryable, onRetry: hooks.onDown }))
    )
    return { reason, everUp }
  })
