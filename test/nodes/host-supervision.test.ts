/**
 * The node host's supervision under TestClock, through a fake connection boundary (and a fake SSH
 * link): backoff 1 s doubling to 30 s, started over after a stable connection, the silence
 * watchdog, pairing and rate-limit waits outside the backoff, fatal failures that stop it, and
 * each attempt's link closed before the next one opens.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Option, Schedule, TestClock } from "effect"
import { ClientFailure } from "../../src/client/rpc-client.js"
import type { NodeConnection, NodeConnector } from "../../src/services/node-host/connection.js"
import { type NodeHostOptions, type NodeLink, NodeLinkError, runNodeHost } from "../../src/services/node-host/host.js"
import { loadOrCreateIdentity } from "../../src/services/node-host/identity.js"
import type { HelloOk } from "../../src/protocol/frames.js"

/** What the fake Gateway does with one connect. */
type Step =
  | { readonly fail: ClientFailure }
  | {
      readonly tickMs: number
      readonly beatMs?: number
      readonly closeAfterMs?: number
      readonly code?: number
      readonly reason?: string
    }

const refused = { fail: new ClientFailure("unreachable", "connection refused: nothing is listening there") }

const hello = (tickIntervalMs: number) =>
  ({
    type: "hello-ok",
    protocol: 4,
    server: { version: "x", connId: "c" },
    features: { methods: [], events: [] },
    snapshot: {},
    auth: { method: "token", role: "node", scopes: [] },
    policy: { maxPayload: 1, maxBufferedBytes: 1, tickIntervalMs }
  }) satisfies HelloOk

/** A scripted Gateway: records the TestClock time and URL of every connect; beyond the script, nothing listens. */
const fakeGateway = (script: ReadonlyArray<Step>) => {
  const connects: Array<number> = []
  const urls: Array<string> = []
  const connector: NodeConnector = (options) =>
    Effect.gen(function* () {
      const clock = yield* Effect.clock
      connects.push(clock.unsafeCurrentTimeMillis())
      urls.push(options.url)
      const step = script[connects.length - 1] ?? refused
      if ("fail" in step) return yield* Effect.fail(step.fail)
      const closed = yield* Deferred.make<{ code: number; reason: string }>()
      const listeners: Array<() => void> = []
      yield* Effect.addFinalizer(() => Deferred.succeed(closed, { code: 1000, reason: "done" }))
      if (step.beatMs !== undefined) {
        yield* Effect.forkScoped(
          Effect.repeat(
            Effect.sync(() => listeners.forEach((f) => f())),
            Schedule.spaced(step.beatMs)
          )
        )
      }
      if (step.closeAfterMs !== undefined) {
        yield* Effect.forkScoped(
          Effect.delay(
            Deferred.succeed(closed, { code: step.code ?? 1006, reason: step.reason ?? "" }),
            step.closeAfterMs
          )
        )
      }
      return {
        hello: hello(step.tickMs),
        closed: Deferred.await(closed),
        onFrame: (f) => void listeners.push(f),
        terminate: () => Deferred.unsafeDone(closed, Exit.succeed({ code: 1006, reason: "" })),
        request: () => Promise.resolve({})
      } satisfies NodeConnection
    })
  return { connects, urls, connector }
}

const hostOptions = (
  connector: NodeConnector,
  lines: Array<string>,
  more: Partial<NodeHostOptions> = {}
): NodeHostOptions => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-supervision-"))
  return {
    url: "ws://gw.test:18789",
    token: "t",
    stateDir,
    identity: loadOrCreateIdentity(stateDir),
    displayName: "fake",
    log: (l) => void lines.push(l),
    connect: connector,
    ...more
  }
}

/** Moves TestClock forward in small steps so every woken fiber gets to run. */
const advance = (ms: number) =>
  Effect.gen(function* () {
    for (let t = 0; t < ms; t += 1_000) yield* TestClock.adjust("1 second")
  })

const gaps = (times: ReadonlyArray<number>) => times.slice(1).map((t, i) => t - times[i]!)

/** Nominal delay ± the policy's 20 % jitter, capped. */
const expectDelay = (actual: number | undefined, nominalMs: number, extraMs = 0) => {
  expect(actual).toBeGreaterThanOrEqual(extraMs + Math.min(30_000, nominalMs * 0.8))
  expect(actual).toBeLessThanOrEqual(extraMs + Math.min(30_000, nominalMs * 1.2))
}

describe("node host supervision (TestClock)", () => {
  it.effect("retries an unreachable Gateway 1 s doubling to 30 s, and only when the clock moves", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const gw = fakeGateway([])
      const fiber = yield* Effect.fork(runNodeHost(hostOptions(gw.connector, lines)))
      yield* TestClock.adjust("700 millis")
      expect(gw.connects).toEqual([0])
      yield* advance(150_000)
      const delays = gaps(gw.connects)
      ;[1, 2, 4, 8, 16, 30, 30, 30].forEach((s, i) => expectDelay(delays[i], s * 1000))
      expect(lines[0]).toMatch(
        /^cannot reach the Gateway at ws:\/\/gw\.test:18789: connection refused: nothing is listening there; retrying in 1 s$/
      )
      expect(lines.every((l) => l.startsWith("cannot reach the Gateway at ws://gw.test:18789: "))).toBe(true)
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* Fiber.interrupt(fiber)
    })
  )

  it.effect("a stable connection starts the backoff over; a silent one is dropped after two tick intervals", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const gw = fakeGateway([
        refused,
        refused,
        refused,
        // up 40 s with frames every 500 ms, then the Gateway restarts
        { tickMs: 1_000, beatMs: 500, closeAfterMs: 40_000, code: 1012, reason: "service restart" },
        // up, but nothing ever arrives: the watchdog (checks every 500 ms) drops it once 2 s passed
        { tickMs: 1_000 }
      ])
      const fiber = yield* Effect.fork(runNodeHost(hostOptions(gw.connector, lines)))
      yield* advance(60_000)
      const delays = gaps(gw.connects)
      expectDelay(delays[0], 1_000)
      expectDelay(delays[1], 2_000)
      expectDelay(delays[2], 4_000)
      // 40 s up, then back to the initial delay
      expectDelay(delays[3], 1_000, 40_000)
      // 2.5 s up (not stable), then the next step of the backoff
      expectDelay(delays[4], 2_000, 2_500)
      expect(lines.filter((l) => !l.startsWith("cannot reach"))).toEqual([
        expect.stringMatching(
          /^connected to ws:\/\/gw\.test:18789 as node [0-9a-f]{12} \(fake\); offering no commands \(no browser found\)$/
        ),
        "connection to the Gateway lost (1012: service restart); reconnecting in 1 s",
        expect.stringMatching(/^reconnected to ws:\/\/gw\.test:18789 as node /),
        "connection to the Gateway lost (1006); reconnecting in 2 s"
      ])
      yield* Fiber.interrupt(fiber)
    })
  )

  it.effect("pairing and rate-limit waits retry outside the backoff; a replaced connection stops the host", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const pairing = {
        fail: new ClientFailure("pairing", "pairing required", "PAIRING_REQUIRED", {
          code: "NOT_PAIRED",
          message: "pairing required",
          details: { code: "PAIRING_REQUIRED", requestId: "r1" }
        })
      }
      const limited = {
        fail: new ClientFailure(
          "auth",
          "unauthorized: too many failed attempts from 127.0.0.1; try again in 7 s",
          "AUTH_RATE_LIMITED",
          { code: "UNAUTHORIZED", message: "", retryAfterMs: 7_000 }
        )
      }
      const gw = fakeGateway([
        pairing,
        pairing,
        pairing,
        limited,
        { tickMs: 30_000, closeAfterMs: 1_000, code: 1008, reason: "replaced by a newer connection" }
      ])
      const fiber = yield* Effect.fork(runNodeHost(hostOptions(gw.connector, lines, { pairingRetryMs: 3_000 })))
      yield* advance(20_000)
      expect(gw.connects).toEqual([0, 3_000, 6_000, 9_000, 16_000])
      expect(lines.filter((l) => l.startsWith("waiting for approval"))).toEqual([
        "waiting for approval: requestId r1 (on the Gateway host: openclaw nodes approve r1)"
      ])
      expect(lines).toContain(
        "unauthorized: too many failed attempts from 127.0.0.1; try again in 7 s; retrying in 7 s"
      )
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toEqual(
        Option.some(
          expect.objectContaining({
            _tag: "NodeHostFatal",
            message: expect.stringContaining("replaced this one; run one node host per state directory")
          })
        )
      )
    })
  )

  it.effect(
    "each attempt opens its own link and closes it before the wait; a link that goes down drops the connection",
    () =>
      Effect.gen(function* () {
        const lines: Array<string> = []
        const events: Array<string> = []
        const gw = fakeGateway([{ tickMs: 30_000 }, { tickMs: 30_000 }])
        let opens = 0
        const openLink = Effect.gen(function* () {
          const n = ++opens
          const clock = yield* Effect.clock
          const at = () => clock.unsafeCurrentTimeMillis()
          if (n === 1) return yield* new NodeLinkError({ message: "ssh to me@gw: connection refused" })
          events.push(`open ${n} at ${at()}`)
          yield* Effect.addFinalizer(() => Effect.sync(() => events.push(`close ${n} at ${at()}`)))
          const down = yield* Deferred.make<string>()
          // the first tunnel's ssh dies after 5 s
          if (n === 2)
            yield* Effect.forkScoped(
              Effect.delay(Deferred.succeed(down, "ssh to me@gw exited (code 255)"), "5 seconds")
            )
          return {
            url: `ws://127.0.0.1:${40_000 + n}`,
            via: `through the SSH tunnel to me@gw (ssh pid ${n})`,
            down: Deferred.await(down)
          } satisfies NodeLink
        })
        const fiber = yield* Effect.fork(runNodeHost(hostOptions(gw.connector, lines, { openLink })))
        yield* advance(10_000)
        expect(lines[0]).toBe(
          "cannot open the SSH tunnel to the Gateway: ssh to me@gw: connection refused; retrying in 1 s"
        )
        expect(lines[1]).toMatch(
          /^connected to ws:\/\/gw\.test:18789 through the SSH tunnel to me@gw \(ssh pid 2\) as node /
        )
        expect(lines[2]).toBe(
          "connection to the Gateway lost (SSH tunnel down: ssh to me@gw exited (code 255)); reconnecting in 2 s"
        )
        expect(gw.urls).toEqual(["ws://127.0.0.1:40002", "ws://127.0.0.1:40003"])
        const [open2, close2, open3] = events.map((e) => Number(e.split(" at ")[1]))
        expect(events.map((e) => e.split(" at ")[0])).toEqual(["open 2", "close 2", "open 3"])
        expect(close2! - open2!).toBe(5_000)
        expectDelay(open3! - close2!, 2_000)
        // Interrupting the host closes the open link.
        yield* Fiber.interrupt(fiber)
        expect(events.at(-1)).toMatch(/^close 3 at /)
      })
  )
})
