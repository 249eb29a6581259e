/**
 * The agent and chat methods of shared/protocol.md: agent (two-phase), agent.wait, chat.send,
 * chat.history, chat.abort, and send (sessions.list is in session-methods.ts) (a message into a session, no agent run).
 * Side-effecting methods take an idempotencyKey; read methods need operator.read, the others
 * operator.write.
 */
import { Effect, Layer, type Scope } from "effect"
import { AgentRuntime, type AgentRuntimeService, type RunResult } from "./AgentRuntime.js"
import { Gateway, type GatewayService } from "../gateway/Gateway.js"
import {
  invalidSessionKey,
  type SessionMessage,
  Sessions,
  type SessionsService,
  type SessionWriteError
} from "../sessions/Sessions.js"
import { isRecord } from "../../protocol/frames.js"
import { IdempotencyCache, idempotencyKeyOf } from "../gateway/idempotency.js"
import { ourSessionKey } from "../sessions/keys.js"
import { type MethodDef, RpcError } from "../gateway/rpc.js"

export const DEFAULT_SESSION_KEY = "main"
const MAX_MESSAGE_CHARS = 200_000
const MAX_WAIT_MS = 10 * 60_000

const paramsOf = (method: string, params: unknown): Record<string, unknown> => {
  if (params === undefined) return {}
  if (!isRecord(params)) throw RpcError.invalidRequest(`${method}: params must be an object`)
  return params
}

const textParam = (method: string, params: Record<string, unknown>, name: string): string => {
  const v = params[name]
  if (typeof v !== "string" || v.trim().length === 0)
    throw RpcError.invalidRequest(`${method} needs params.${name} (a non-empty string)`)
  if (v.length > MAX_MESSAGE_CHARS)
    throw RpcError.invalidRequest(`${method}: params.${name} is longer than ${MAX_MESSAGE_CHARS} characters`)
  return v
}

const sessionKeyParam = (
  method: string,
  params: Record<string, unknown>,
  name = "sessionKey",
  required = false
): string => {
  const v = params[name]
  if (v === undefined && !required) return DEFAULT_SESSION_KEY
  if (typeof v !== "string")
    throw RpcError.invalidRequest(`${method} needs params.${name} (a session key such as "${DEFAULT_SESSION_KEY}")`)
  const problem = invalidSessionKey(v)
  if (problem !== undefined) throw RpcError.invalidRequest(`${method}: params.${name} ${problem}`)
  return ourSessionKey(v)
}

const intParam = (params: Record<string, unknown>, name: string, fallback: number, max: number): number => {
  const v = params[name]
  if (v === undefined) return fallback
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
    throw RpcError.invalidRequest(`params.${name} must be a non-negative integer`)
  return Math.min(v, max)
}

/** Parses params synchronously; a thrown RpcError becomes the method's failure. */
const parsed = <A>(f: () => A): Effect.Effect<A, RpcError> =>
  Effect.try({ try: f, catch: (e) => (e instanceof RpcError ? e : RpcError.invalidRequest(String(e))) })

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

export const agentMethods = (
  gateway: GatewayService,
  runtime: AgentRuntimeService,
  sessions: SessionsService
): Record<string, MethodDef> => {
  const idempotency = new IdempotencyCache()

  const startRun = (method: string, params: unknown, onAccepted?: (runId: string) => void) =>
    Effect.gen(function* () {
      const { message, sessionKey, key } = yield* parsed(() => {
        const p = paramsOf(method, params)
        return {
          message: textParam(method, p, "message"),
          sessionKey: sessionKeyParam(method, p),
          key: idempotencyKeyOf(method, p)
        }
      })
      return yield* idempotency.once(
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
    agent: {
      requires: "operator.write",
      handler: (params, ctx) =>
        Effect.gen(function* () {
          const accept = (runId: string) => ctx.accept({ status: "accepted", runId, acceptedAt: Date.now() })
          const { value: handle, first } = yield* startRun("agent", params, accept)
          // A repeat of the same idempotencyKey is acknowledged here and gets the first run's result.
          if (!first) accept(handle.runId)
          return finalPayload(yield* Effect.promise(() => handle.done))
        })
    },
    "agent.wait": {
      requires: "operator.read",
      handler: (params) =>
        Effect.gen(function* () {
          const { runId, timeoutMs } = yield* parsed(() => {
            const p = paramsOf("agent.wait", params)
            if (typeof p.runId !== "string" || p.runId.length === 0)
              throw RpcError.invalidRequest("agent.wait needs params.runId (from agent or chat.send)")
            return { runId: p.runId, timeoutMs: intParam(p, "timeoutMs", 30_000, MAX_WAIT_MS) }
          })
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
        })
    },
    "chat.send": {
      requires: "operator.write",
      handler: (params) =>
        Effect.map(startRun("chat.send", params), ({ value }) => ({
          runId: value.runId,
          status: "started",
          sessionKey: value.sessionKey,
          messageId: value.userMessage.id
        }))
    },
    "chat.history": {
      requires: "operator.read",
      sync: (params) => {
        const p = paramsOf("chat.history", params)
        const sessionKey = sessionKeyParam("chat.history", p)
        const messages = sessions.history(sessionKey, intParam(p, "limit", 200, 1000)).map(chatMessage)
        return { sessionKey, messages, activeRunIds: runtime.activeRuns(sessionKey) }
      }
    },
    "chat.abort": {
      requires: "operator.write",
      sync: (params) => {
        const p = paramsOf("chat.abort", params)
        const sessionKey = sessionKeyParam("chat.abort", p)
        if (p.runId !== undefined && typeof p.runId !== "string")
          throw RpcError.invalidRequest("chat.abort: params.runId must be a string")
        const runIds = runtime.abort(sessionKey, p.runId as string | undefined)
        return { ok: true, aborted: runIds.length > 0, runIds }
      }
    },
    send: {
      requires: "operator.write",
      handler: (params) =>
        Effect.gen(function* () {
          const { to, message, key } = yield* parsed(() => {
            const p = paramsOf("send", params)
            return {
              to: sessionKeyParam("send", p, "to", true),
              message: textParam("send", p, "message"),
              key: idempotencyKeyOf("send", p)
            }
          })
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
}

/** Registers the methods for as long as the caller's scope lives. */
export const registerAgentMethods = (
  gateway: GatewayService,
  runtime: AgentRuntimeService,
  sessions: SessionsService
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.forEach(
    Object.entries(agentMethods(gateway, runtime, sessions)),
    ([name, def]) => gateway.registerMethod(name, def),
    { discard: true }
  )

/** The agent and chat methods, registered for as long as this layer lives (needs AgentRuntime). */
export const AgentMethods = {
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      yield* registerAgentMethods(yield* Gateway, yield* AgentRuntime, yield* Sessions)
    })
  )
}
