/**
 * `openclaw gateway agent --message TEXT [--session KEY] [--json]`: runs the agent and streams its
 * reply to the terminal as the `chat` deltas arrive; `openclaw gateway send --to KEY --message TEXT`
 * delivers a message into a session without running the agent.
 */
import { randomUUID } from "node:crypto"
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import type { EventFrame } from "../client/GatewayClient.js"
import { clientOptions, printJson, withGateway } from "./client.js"
import { fail } from "./exit.js"
import { writeError, writeText } from "./output.js"

const WRITE = ["operator.read", "operator.write"]
/** A model may take a while: the reply is awaited this long (--timeout is for connecting). */
const AGENT_REPLY_TIMEOUT_MS = 10 * 60_000

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

export const agentCommand = Command.make(
  "agent",
  {
    ...clientOptions,
    message: Options.text("message").pipe(Options.withAlias("m"), Options.withDescription("What to say to the agent")),
    session: sessionOption
  },
  (flags) => {
    let runId: string | undefined
    let printed = ""
    const early: Array<EventFrame> = []
    const onChat = (event: EventFrame) => {
      const p = event.payload as { runId?: string; state?: string; delta?: string }
      if (p?.runId !== runId || p.state !== "delta" || typeof p.delta !== "string") return
      printed += p.delta
      writeText(p.delta)
    }
    const onEvent = (event: EventFrame) => {
      if (flags.json || event.event !== "chat") return
      if (runId === undefined) early.push(event)
      else onChat(event)
    }
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
          const final = (yield* conn
            .request("agent", params, {
              expectFinal: true,
              timeoutMs: Math.max(flags.timeout, AGENT_REPLY_TIMEOUT_MS),
              onAccepted: (payload) => {
                runId = (payload as { runId?: string }).runId
                for (const e of early.splice(0)) onChat(e)
              }
            })
            .pipe(
              // Ctrl-C stops the run on the Gateway too (the partial reply stays in the session, marked aborted).
              Effect.onInterrupt(() =>
                runId === undefined
                  ? Effect.void
                  : conn
                      .request("chat.abort", { sessionKey: params.sessionKey ?? "main", runId }, { timeoutMs: 2_000 })
                      .pipe(
                        Effect.andThen(Effect.sync(() => writeError(`\nAborted the run ${runId}.\n`))),
                        Effect.ignore
                      )
              )
            )) as FinalPayload
          if (flags.json) yield* printJson(final)
          else {
            const text = final.result?.text ?? ""
            // Deltas missed (or none sent): print what is left of the final text.
            if (text !== printed) writeText(text.startsWith(printed) ? text.slice(printed.length) : `\n${text}`)
            if (printed.length > 0 || text.length > 0) yield* Console.log("")
          }
          return final
        }),
      onEvent
    ).pipe(
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
