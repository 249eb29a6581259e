/**
 * Session methods in the shapes OpenClaw's own clients (Control UI, TUI) read: sessions.list with
 * `defaults`, sessions.describe, chat.startup, and sessions.subscribe/unsubscribe (subscribers hear
 * `sessions.changed` whenever a session gets a message). Our single agent is OpenClaw's `main`.
 */
import { Effect, Layer, type Scope, Stream } from "effect"
import { AgentRuntime, type AgentRuntimeService } from "./AgentRuntime.js"
import { Gateway, type GatewayService, type GroupHandlers, type MethodAlreadyRegistered } from "../gateway/api.js"
import { Sessions, type SessionsService, type SessionSummary } from "../sessions/Sessions.js"
import { DEFAULT_SESSION_KEY } from "../../protocol/params.js"
import { SessionGroup } from "../../protocol/contracts/sessions.js"
import { chatMessage } from "./methods.js"
import { AGENT_ID, ourSessionKey } from "../sessions/keys.js"

/** The runtime facts OpenClaw's clients show next to a session: provider, model, no thinking levels. */
export const sessionDefaults = (runtime: AgentRuntimeService) => ({
  modelProvider: runtime.provider.kind,
  model: runtime.provider.model ?? runtime.provider.kind,
  contextTokens: null,
  agentRuntime: {
    id: "openclaw-gateway-effect",
    cloudPlacementSupported: false,
    devicePlacementSupported: false,
    source: "implicit"
  },
  thinkingLevels: [],
  thinkingOptions: [],
  thinkingDefault: "off",
  modelSelectionTarget: "session"
})

/** One session as a row: our own fields (key, messageCount, ...) plus the ones OpenClaw's rows have. */
const sessionRow = (runtime: AgentRuntimeService, s: SessionSummary) => {
  const active = runtime.activeRuns(s.key)
  return {
    ...s,
    agentId: AGENT_ID,
    kind: "direct",
    sessionId: s.key,
    displayName: s.key,
    ...(s.lastMessage === undefined
      ? {}
      : { derivedTitle: s.lastMessage.text.slice(0, 60), lastMessagePreview: s.lastMessage.text }),
    modelProvider: runtime.provider.kind,
    model: runtime.provider.model ?? runtime.provider.kind,
    status: active.length > 0 ? "running" : "idle",
    hasActiveRun: active.length > 0,
    activeRunIds: active
  }
}

const emptySummary = (key: string): SessionSummary => ({ key, messageCount: 0, createdAt: 0, updatedAt: 0 })

export const sessionMethods = (
  runtime: AgentRuntimeService,
  sessions: SessionsService,
  subscribers: Set<string>
): GroupHandlers<typeof SessionGroup> => {
  const rowFor = (key: string) => {
    const found = sessions.list().find((s) => s.key === key)
    return found === undefined ? undefined : sessionRow(runtime, found)
  }
  const list = () => {
    const rows = sessions.list().map((s) => sessionRow(runtime, s))
    return {
      ts: Date.now(),
      path: sessions.dir ?? "(memory)",
      count: rows.length,
      totalCount: rows.length,
      hasMore: false,
      nextOffset: null,
      defaults: sessionDefaults(runtime),
      sessions: rows
    }
  }
  const subscribe = (ctx: { caller: { connId: string } }) => void subscribers.add(ctx.caller.connId)

  return {
    "sessions.list": { sync: list },
    "sessions.subscribe": {
      sync: (params, ctx) => {
        subscribe(ctx)
        return Object.keys(params).length === 0 ? { subscribed: true } : { subscribed: true, list: list() }
      }
    },
    "sessions.unsubscribe": {
      sync: (_params, ctx) => {
        subscribers.delete(ctx.caller.connId)
        return { subscribed: false }
      }
    },
    // Session events already reach every operator; this records the interest and answers as OpenClaw does.
    "sessions.messages.subscribe": {
      sync: (params, ctx) => {
        subscribe(ctx)
        return { subscribed: true, key: ourSessionKey(params.key) }
      }
    },
    "sessions.messages.unsubscribe": { sync: (params) => ({ subscribed: false, key: ourSessionKey(params.key) }) },
    "sessions.describe": {
      sync: (params) => {
        const key = ourSessionKey(params.key)
        const row = rowFor(key) ?? (key === DEFAULT_SESSION_KEY ? sessionRow(runtime, emptySummary(key)) : undefined)
        return { session: row ?? null }
      }
    },
    "chat.startup": {
      sync: (params, ctx) => {
        const requested = params.sessionKey ?? DEFAULT_SESSION_KEY
        const key = ourSessionKey(requested)
        subscribe(ctx)
        const sessionInfo = rowFor(key) ?? sessionRow(runtime, emptySummary(key))
        return {
          sessionKey: requested,
          sessionId: key,
          messages: sessions.history(key, params.limit).map(chatMessage),
          defaults: sessionDefaults(runtime),
          sessionInfo,
          thinkingLevel: "off",
          verboseLevel: "off",
          ...(params.sessionKey === undefined ? { resolution: { ok: true, key: requested, agentId: AGENT_ID } } : {})
        }
      }
    }
  }
}

/** Registers the methods and pushes `sessions.changed` to subscribers, for as long as the scope lives. */
export const registerSessionMethods = (
  gateway: GatewayService,
  runtime: AgentRuntimeService,
  sessions: SessionsService
): Effect.Effect<void, MethodAlreadyRegistered, Scope.Scope> =>
  Effect.gen(function* () {
    const subscribers = new Set<string>()
    const events = yield* gateway.connectionEvents
    yield* Effect.forkScoped(
      Stream.runForEach(events, (e) => Effect.sync(() => e._tag === "Left" && subscribers.delete(e.connection.connId)))
    )
    yield* Effect.acquireRelease(
      Effect.sync(() =>
        sessions.onAppend((m) => {
          if (subscribers.size === 0) return
          // As OpenClaw's: a run's stored prompt is its "start", its stored reply its "end" (clients then
          // reconcile what they streamed with the transcript); a message without a run is a "message".
          const phase =
            m.runId === undefined ? "message" : m.role === "user" ? "start" : m.error === undefined ? "end" : "error"
          const event = {
            sessionKey: m.sessionKey,
            agentId: AGENT_ID,
            phase,
            ...(m.runId === undefined ? {} : { runId: m.runId }),
            ts: m.ts
          }
          gateway.broadcast("sessions.changed", event, (c) => subscribers.has(c.connId))
        })
      ),
      (stop) => Effect.sync(stop)
    )
    yield* gateway.registerGroup(SessionGroup, sessionMethods(runtime, sessions, subscribers))
  })

/** The session methods OpenClaw's clients use, registered for as long as this layer lives. */
export const SessionMethods = {
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      yield* registerSessionMethods(yield* Gateway, yield* AgentRuntime, yield* Sessions)
    })
  )
}
