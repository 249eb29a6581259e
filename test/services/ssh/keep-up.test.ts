/**
 * keepTunnelUp (`openclaw gateway tunnel`) over a scripted SshTunnel on TestClock: each reopen
 * comes exactly after the delay the shared reconnect policy chose, the backoff starts over after
 * a stable period, and failures another attempt cannot fix end it.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect } from "effect"
import { keepTunnelUp } from "../../../src/services/ssh/keep-up.js"
import { type SshFailureKind, type SshSpec, SshTunnelError } from "../../../src/services/ssh/SshTunnel.js"
import { mockSsh } from "../../support/harness.js"
import { onTestClock } from "../../support/test-clock.js"

const spec: SshSpec = {
  target: "alice@gw.example",
  destination: "alice@gw.example",
  host: "gw.example",
  port: undefined,
  identity: undefined,
  hostKeyPolicy: "openssh",
  knownHostsFile: undefined,
  remotePort: 18789
}

/** One open: it fails at once, or the tunnel is up for `upForMs` and then ssh exits with `kind`. */
type Attempt = { readonly fails: SshFailureKind } | { readonly upForMs: number; readonly exits: SshFailureKind }

const failure = (kind: SshFailureKind) => new SshTunnelError({ kind, message: `ssh: ${kind}` })

/** Runs keepTunnelUp over the attempts, recording when each open, up and down happened (Clock ms). */
const keepUp = (attempts: ReadonlyArray<Attempt>) => {
  const opens: Array<number> = []
  const ups: Array<{ at: number; again: boolean }> = []
  const downs: Array<{ at: number; kind: string; delayMs: number }> = []
  const ssh = mockSsh({
    open: () =>
      Effect.gen(function* () {
        opens.push(yield* Clock.currentTimeMillis)
        const a = attempts[opens.length - 1]
        if (a === undefined) return yield* Effect.dieMessage("more opens than the test scripted")
        if ("fails" in a) return yield* failure(a.fails)
        return {
          localPort: 18789,
          pid: 5_000_000 + opens.length,
          spec,
          exited: Effect.as(Effect.sleep(Duration.millis(a.upForMs)), failure(a.exits)),
          cleanedUp: []
        }
      })
  })
  return onTestClock(
    keepTunnelUp(
      spec,
      {},
      {
        onUp: (_tunnel, again) => Effect.map(Clock.currentTimeMillis, (at) => void ups.push({ at, again })),
        onDown: (reason, delay) =>
          Effect.map(Clock.currentTimeMillis, (at) => {
            downs.push({ at, kind: reason.kind, delayMs: Duration.toMillis(delay) })
          })
      }
    )
  ).pipe(
    Effect.provide(ssh),
    Effect.map((ended) => ({ ended, opens, ups, downs }))
  )
}

describe("keepTunnelUp", () => {
  it.effect("reopens exactly after each delay of the shared backoff (0.5 s, doubling, ±20 %)", () =>
    Effect.gen(function* () {
      const { ended, opens, ups, downs } = yield* keepUp([
        { upForMs: 1_000, exits: "exited" },
        { fails: "timeout" },
        { fails: "refused" },
        { upForMs: 1_000, exits: "host-key-changed" }
      ])
      expect(ended.everUp).toBe(true)
      expect(ended.reason.kind).toBe("host-key-changed")
      expect(downs.map((d) => d.kind)).toEqual(["exited", "timeout", "refused"])
      downs.forEach((d, i) => {
        expect(d.delayMs).toBeGreaterThanOrEqual(500 * 2 ** i * 0.8)
        expect(d.delayMs).toBeLessThanOrEqual(500 * 2 ** i * 1.2)
        // The next open comes exactly when the announced delay is over.
        expect(opens[i + 1]).toBe(d.at + d.delayMs)
      })
      expect(downs[0]!.at).toBe(1_000)
      expect(ups.map((u) => u.again)).toEqual([false, true])
    })
  )

  it.effect("a tunnel that stayed up for the stable period (30 s) starts the backoff over", () =>
    Effect.gen(function* () {
      const { downs } = yield* keepUp([
        { fails: "timeout" },
        { fails: "timeout" },
        { fails: "timeout" },
        { upForMs: 31_000, exits: "exited" },
        { fails: "auth" }
      ])
      expect(downs[2]!.delayMs).toBeGreaterThanOrEqual(1_600)
      expect(downs[3]!.delayMs).toBeLessThanOrEqual(600)
    })
  )

  it.effect("before it was ever up, a setting to fix (host not found, port in use, no ssh) ends it at once", () =>
    Effect.gen(function* () {
      for (const kind of ["host-not-found", "local-port-in-use", "spawn", "auth"] as const) {
        const { ended, opens, downs } = yield* keepUp([{ fails: kind }])
        expect(ended).toMatchObject({ everUp: false, reason: { kind } })
        expect(opens).toEqual([0])
        expect(downs).toEqual([])
      }
    })
  )

  it.effect("once it was up, a refused login ends it; a port in use is retried", () =>
    Effect.gen(function* () {
      const { ended, downs } = yield* keepUp([
        { upForMs: 5_000, exits: "local-port-in-use" },
        { upForMs: 5_000, exits: "auth" }
      ])
      expect(downs.map((d) => d.kind)).toEqual(["local-port-in-use"])
      expect(ended).toMatchObject({ everUp: true, reason: { kind: "auth" } })
    })
  )
})
