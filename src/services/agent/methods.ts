/**
 * The agent and chat methods of shared/protocol.md: agent (two-phase), agent.wait, chat.send,
 * chat.history, chat.abort, and send (sessions.list is in session-methods.ts) (a message into a session, no agent run).
 * Side-effecting methods take an idempotencyKey; read methods need operator.read, the others
 * operator.write.
 */
import { Effect, Layer, type Scope } from "effect"
import { AgentRuntime, type AgentRuntimeService, type RunResult } from "./AgentRuntime.js"
import {
  Gateway,
  type GatewayService,
  type GroupHandlers,
  IdempotencyCache,
  type MethodAlreadyRegistered,
  RpcError
} from "../gateway/api.js"
import { type SessionMessage, Sessions, type SessionsService, type SessionWriteError } from "../sessions/Sessions.js"
import { type AgentParams, AgentGroup } from "../../protocol/contracts/agent.js"
import { ourSessionKey } from "../sessions/keys.js"

export { DEFAULT_SESSION_KEY } from "../../protocol/params.js"

const unavailable = (e: SessionWriteError) => RpcError.unavailable(e.message)

/** A transcript entry as chat.history and chat events carry it (OpenClaw's content blocks, plus text). */
export const chatMessage = (m: SessionMessage) => ({
  id: m.id,
  role: m.role,
  content: [{ type: "text", text: m.text }],
  text: m.text,
  timestamp: m.ts,
  source: m.source,
  ...(m.runId === undefined ? {} : { runId: m.runId }),
  ...(m.aborted ? { aborted: true } : {}),
  ...(m.error === undefined ? {} : { error: m.error })
})

/** The final response of `agent` (and agent.wait's answer for a finished run). */
export const finalPayload = (r: RunResult) => ({
  status: r.status === "ok" ? "ok" : "error",
  runId: r.runId,
  summary: r.status === "ok" ? "completed" : r.status,
  result: {
    text: r.text,
    payloads: r.text.length > 0 ? [{ text: r.text }] : [],
    sessionKey: r.sessionKey,
    provider: r.provider,
    durationMs: r.endedAt - r.startedAt,
    ...(r.messageId === undefined ? {} : { messageId: r.messageId }),
    ...(r.status === "aborted" ? { aborted: true } : {})
  },
  ...(r.error === undefined ? {} : { error: r.error })
})

/** The handlers of AgentGroup (protocol/contracts/agent.ts: params, results, scopes). */
export const agentMethods = (
  gateway: GatewayService,
  runtime: AgentRuntimeService,
  sessions: SessionsService
): GroupHandlers<typeof AgentGroup> => {
  const idempotency = new IdempotencyCache()

  const startRun = (method: string, params: typeof AgentParams.Type, onAccepted?: (runId: string) => void) =>
    Effect.suspend(() => {
      const { message, idempotencyKey: key } = params
      const sessionKey = ourSessionKey(params.sessionKey)
      return idempotency.once(
        method,
        key,
        // OpenClaw's clients match chat events by run id, which they take to be their idempotencyKey.
        runtime
          .start(
            {
              sessionKey,
              message,
              source: method === "agent" ? "agent" : "chat",
              ...(method === "chat.send" ? { runId: key } : {})
            },
            onAccepted
          )
          .pipe(Effect.mapError(unavailable))
      )
    })

  return {
    agent: (params, ctx) =>
      Effect.gen(function* () {
        const accept = (runId: string) => ctx.accept({ status: "accepted", runId, acceptedAt: Date.now() })
        const { value: handle, first } = yield* startRun("agent", params, accept)
        // A repeat of the same idempotencyKey is acknowledged here and gets the first run's result.
        if (!first) accept(handle.runId)
        return finalPayload(yield* Effect.promise(() => handle.done))
      }),
    "agent.wait": ({ runId, timeoutMs }) =>
      Effect.gen(function* () {
        const run = runtime.run(runId)
        if (run === undefined) {
          return yield* Effect.fail(
            RpcError.invalidRequest(`unknown runId ${runId} (runs are kept for 10 minutes after they finish)`, {
              code: "RUN_NOT_FOUND"
            })
          )
        }
        const result = yield* Effect.promise(() => run.done).pipe(
          Effect.timeoutTo({ duration: timeoutMs, onTimeout: () => undefined, onSuccess: (r) => r })
        )
        return result === undefined ? { runId, status: "timeout" } : finalPayload(result)
      }),
    "chat.send": (params) =>
      Effect.map(startRun("chat.send", params), ({ value }) => ({
        runId: value.runId,
        status: "started",
        sessionKey: value.sessionKey,
        messageId: value.userMessage.id
      })),
    "chat.history": {
      sync: (params) => {
        const sessionKey = ourSessionKey(params.sessionKey)
        const messages = sessions.history(sessionKey, params.limit).map(chatMessage)
        return { sessionKey, messages, activeRunIds: runtime.activeRuns(sessionKey) }
      }
    },
    "chat.abort": {
      sync: (params) => {
        const runIds = runtime.abort(ourSessionKey(params.sessionKey), params.runId)
        return { ok: true, aborted: runIds.length > 0, runIds }
      }
    },
    send: (params) =>
      Effect.gen(function* () {
        const { message, idempotencyKey: key } = params
        const to = ourSessionKey(params.to)
        const { value } = yield* idempotency.once(
          "send",
          key,
          Effect.gen(function* () {
            const saved = yield* sessions
              .append({ sessionKey: to, role: "user", text: message, source: "send" })
              .pipe(Effect.mapError(unavailable))
            gateway.broadcast("chat", {
              runId: saved.id,
              sessionKey: to,
              seq: 1,
              state: "final",
              source: "send",
              message: chatMessage(saved)
            })
            return { messageId: saved.id, sessionKey: to, ts: saved.ts }
          })
        )
        return value
      })
  }
}

/** Registers the methods for as long as the caller's scope lives. */
export const registerAgentMethods = (
  gateway: GatewayService,
  runtime: AgentRuntimeService,
  sessions: SessionsService
): Effect.Effect<void, MethodAlreadyRegistered, Scope.Scope> =>
  gateway.registerGroup(AgentGroup, agentMethods(gateway, runtime, sessions))

/** The agent and chat methods, registered for as long as this layer lives (needs AgentRuntime). */
export const AgentMethods = {
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      yield* registerAgentMethods(yield* Gateway, yield* AgentRuntime, yield* Sessions)
    })
  )
}
