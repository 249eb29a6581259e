/**
 * `openclaw gateway agent --message TEXT [--session KEY] [--json]`: runs the agent and streams its
 * reply to the terminal as the `chat` deltas arrive; `openclaw gateway send --to KEY --message TEXT`
 * delivers a message into a session without running the agent.
 */
import { randomUUID } from "node:crypto"
import { Command, Options } from "@effect/cli"
import { Console, Deferred, Effect, Exit, FiberId, Option } from "effect"
import { type EventFrame, GatewayClientError } from "../client/GatewayClient.js"
import { ClientFailure } from "../client/failure.js"
import { chatDelta, ReplyStream } from "./agent-stream.js"
import { clientOptions, printJson, withGateway } from "./client.js"
import { fail } from "./exit.js"
import { timeoutFlag } from "./flags.js"
import { writeError, writeText } from "./output.js"

const WRITE = ["operator.read", "operator.write"]
/** A model may take a while: the whole run is awaited this long by default (--run-timeout). */
export const AGENT_RUN_TIMEOUT_MS = 10 * 60_000
/**
 * The Gateway ticks every tickIntervalMs (30 s) while a model thinks quietly, so silence is judged
 * over at least two ticks; a Gateway cannot stretch that past two minutes with a long tick.
 */
const MAX_TICK_MS = 60_000

const sessionOption = Options.text("session").pipe(
  Options.withDescription("Session key (default: main)"),
  Options.optional
)

interface FinalPayload {
  readonly status?: string
  readonly runId?: string
  readonly error?: string
  readonly result?: { readonly text?: string; readonly aborted?: boolean }
}

/** How long a silent Gateway is waited for: --timeout, but never less than two of its ticks. */
export const silenceLimitMs = (timeoutMs: number, tickIntervalMs: number | undefined): number =>
  Math.max(timeoutMs, 2 * Math.min(Math.max(tickIntervalMs ?? 30_000, 0), MAX_TICK_MS))

/** Waits (at most 10 s: the reader may be gone) until stdout has handed on what it queued. */
const stdoutDrained = Effect.async<void>((resume) => {
  if (process.stdout.writableLength === 0) return resume(Effect.void)
  const done = () => {
    clearTimeout(timer)
    process.stdout.off("drain", done)
    resume(Effect.void)
  }
  const timer = setTimeout(done, 10_000)
  process.stdout.once("drain", done)
})

export const agentCommand = Command.make(
  "agent",
  {
    ...clientOptions,
    message: Options.text("message").pipe(Options.withAlias("m"), Options.withDescription("What to say to the agent")),
    session: sessionOption,
    runTimeout: timeoutFlag("run-timeout").pipe(
      Options.withDescription("Give up on the whole run after this many ms (default 600000)"),
      Options.withDefault(AGENT_RUN_TIMEOUT_MS)
    )
  },
  (flags) => {
    // The reply's cap passed: the request is interrupted (which aborts the run on the Gateway).
    const tooLong = Deferred.unsafeMake<never, GatewayClientError>(FiberId.none)
    const reply = new ReplyStream(
      (text) => writeText(text),
      (chars) =>
        Deferred.unsafeDone(
          tooLong,
          Exit.fail(
            new GatewayClientError({
              kind: "protocol",
              code: "REPLY_TOO_LONG",
              message: `the agent's reply passed ${chars} characters without ending; the CLI stopped reading it and aborted the run`
            })
          )
        )
    )
    const onEvent = (event: EventFrame) => {
      if (flags.json || event.event !== "chat") return
      const d = chatDelta(event.payload)
      if (d !== undefined) reply.delta(d)
    }
    let runId: string | undefined
    return withGateway(
      flags,
      WRITE,
      "Gateway agent failed",
      (conn) =>
        Effect.gen(function* () {
          const params = {
            message: flags.message,
            ...(Option.isSome(flags.session) ? { sessionKey: flags.session.value } : {}),
            idempotencyKey: randomUUID()
          }
          const silenceMs = silenceLimitMs(flags.timeout, conn.hello.policy?.tickIntervalMs)
          const run = conn.request("agent", params, {
            expectFinal: true,
            timeoutMs: flags.runTimeout,
            idleTimeoutMs: silenceMs,
            timeoutFailure: (which, ms) =>
              which === "idle"
                ? new ClientFailure(
                    "timeout",
                    `the Gateway sent nothing for ${ms} ms during the agent run (--timeout, at least two of its ${conn.hello.policy?.tickIntervalMs ?? 30_000} ms ticks)`,
                    "AGENT_SILENT"
                  )
                : new ClientFailure(
                    "timeout",
                    `the agent run did not finish within ${ms} ms (--run-timeout)`,
                    "AGENT_RUN_TIMEOUT"
                  ),
            onAccepted: (payload) => {
              const id = (payload as { runId?: unknown } | undefined)?.runId
              runId ??= typeof id === "string" ? id : undefined
              reply.accepted(runId)
            }
          })
          // Ctrl-C, or a reply past its cap, stops the run on the Gateway too (the partial reply stays in the session, marked aborted).
          const abortRun = Effect.suspend(() =>
            runId === undefined
              ? Effect.void
              : conn
                  .request("chat.abort", { sessionKey: params.sessionKey ?? "main", runId }, { timeoutMs: 2_000 })
                  .pipe(Effect.andThen(Effect.sync(() => writeError(`\nAborted the run ${runId}.\n`))), Effect.ignore)
          )
          const answer: unknown = yield* Effect.raceFirst(run, Deferred.await(tooLong)).pipe(
            Effect.onInterrupt(() => abortRun),
            Effect.tapError((e) => (e.code === "REPLY_TOO_LONG" ? abortRun : Effect.void))
          )
          const final: FinalPayload = typeof answer === "object" && answer !== null ? answer : {}
          if (flags.json) yield* printJson(final)
          else {
            const text = typeof final.result?.text === "string" ? final.result.text : ""
            // Deltas missed (or none sent): print what is left of the final text.
            const rest = reply.rest(text)
            if (rest.length > 0) writeText(rest)
            if (reply.wroteAnything || text.length > 0) yield* Console.log("")
          }
          return final
        }),
      onEvent
    ).pipe(
      // Written to a pipe, the reply may still be queued: it reaches the reader before the exit.
      Effect.ensuring(stdoutDrained),
      Effect.flatMap((final) =>
        final.status === "ok"
          ? Effect.void
          : fail(
              1,
              `The agent run ${final.runId ?? ""} ${final.result?.aborted ? "was aborted" : "failed"}: ${final.error ?? "no reason given"}`
            )
      )
    )
  }
).pipe(Command.withDescription("Ask the agent and stream its reply as it arrives (operator.write)"))

export const sendCommand = Command.make(
  "send",
  {
    ...clientOptions,
    to: Options.text("to").pipe(Options.withDescription("Session key to deliver into")),
    message: Options.text("message").pipe(Options.withAlias("m"), Options.withDescription("The message"))
  },
  (flags) =>
    withGateway(flags, WRITE, "Gateway send failed", (conn) =>
      Effect.gen(function* () {
        const result = (yield* conn.request(
          "send",
          { to: flags.to, message: flags.message, idempotencyKey: randomUUID() },
          { timeoutMs: flags.timeout }
        )) as {
          messageId?: string
        }
        if (flags.json) return yield* printJson(result)
        yield* Console.log(
          `Delivered to session ${flags.to} (message ${result.messageId ?? "?"}); the agent was not run.`
        )
      })
    )
).pipe(Command.withDescription("Deliver a message into a session without running the agent (operator.write)"))
