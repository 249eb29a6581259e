/**
 * AgentRuntime: runs the agent for a session with a pluggable provider (providers.ts: `echo`, the
 * default, and `openai`) and streams its reply as `agent` and `chat` events. Finished runs are
 * kept for agent.wait for 10 minutes of the Effect Clock.
 *
 * The user's message is on disk before a run is acknowledged; the reply is on disk before the
 * final event and the final response go out.
 */
import { randomUUID } from "node:crypto"
import { Context, Effect, FiberSet, Layer, Runtime } from "effect"
import { AgentError, type ChatTurn, type Provider, providerFor } from "./providers.js"
import { Gateway } from "../gateway/api.js"
import { GatewayConfig } from "../config/GatewayConfig.js"
import { type MessageSource, type SessionMessage, Sessions, type SessionWriteError } from "../sessions/Sessions.js"

export {
  AgentError,
  type ChatTurn,
  echoProvider,
  openaiProvider,
  type Provider,
  providerFor,
  splitIntoChunks
} from "./providers.js"

export type RunStatus = "ok" | "error" | "aborted"

export interface RunResult {
  readonly runId: string
  readonly sessionKey: string
  readonly status: RunStatus
  readonly text: string
  readonly error?: string
  readonly messageId?: string
  readonly provider: string
  readonly startedAt: number
  readonly endedAt: number
}

export interface RunHandle {
  readonly runId: string
  readonly sessionKey: string
  readonly userMessage: SessionMessage
  readonly done: Promise<RunResult>
}

interface Run {
  readonly runId: string
  readonly sessionKey: string
  readonly controller: AbortController
  readonly done: Promise<RunResult>
  result: RunResult | undefined
}

export interface AgentRuntimeService {
  readonly provider: Provider
  /**
   * Persists the user's message, then calls `onAccepted` (so the caller can acknowledge) and
   * starts streaming the reply. Fails only when the message cannot be written.
   */
  readonly start: (
    input: {
      readonly sessionKey: string
      readonly message: string
      readonly source: MessageSource
      readonly runId?: string
    },
    onAccepted?: (runId: string) => void
  ) => Effect.Effect<RunHandle, SessionWriteError>
  /** The run's result, or undefined when it is unknown (never started, or forgotten after 10 min). */
  readonly run: (
    runId: string
  ) => { readonly done: Promise<RunResult>; readonly result: RunResult | undefined } | undefined
  /** Aborts the session's running runs (or just `runId`); returns the ids it aborted. */
  readonly abort: (sessionKey: string, runId?: string) => ReadonlyArray<string>
  readonly activeRuns: (sessionKey?: string) => ReadonlyArray<string>
}

/** Finished runs are kept this long for agent.wait. */
export const KEEP_FINISHED_MS = 10 * 60_000
/** The conversation sent to a provider: the last N turns. */
const MAX_TURNS = 50

export const make = (provider: Provider) =>
  Effect.gen(function* () {
    const gateway = yield* Gateway
    const sessions = yield* Sessions
    /** Forgets finished runs after KEEP_FINISHED_MS: sleeping fibers, interrupted when the layer closes. */
    const forgetLater = yield* FiberSet.runtime(yield* FiberSet.make())<never>()
    const runs = new Map<string, Run>()

    /**
     * Runs stream from promise callbacks, outside any fiber: they log, write and read the clock
     * through the runtime of whoever started them (its logger, clock and tracer), not the layer's.
     */
    const execute = async (
      run: Run,
      signal: AbortSignal,
      caller: Runtime.Runtime<never>,
      now: () => number
    ): Promise<RunResult> => {
      const { runId, sessionKey } = run
      const startedAt = now()
      let seq = 0
      const emit = (chat: Record<string, unknown> | undefined, agent: Record<string, unknown>) => {
        seq += 1
        gateway.broadcast("agent", { runId, sessionKey, seq, ts: now(), ...agent })
        if (chat !== undefined) gateway.broadcast("chat", { runId, sessionKey, seq, ...chat })
      }
      emit(undefined, { stream: "lifecycle", data: { phase: "start", provider: provider.kind } })
      const turns: Array<ChatTurn> = sessions
        .history(sessionKey, MAX_TURNS)
        .map((m) => ({ role: m.role, content: m.text }))
      let text = ""
      let error: string | undefined
      try {
        for await (const delta of provider.stream(turns, signal)) {
          if (signal.aborted) break
          text += delta
          emit(
            {
              state: "delta",
              delta,
              deltaText: text,
              replace: true,
              message: { role: "assistant", content: [{ type: "text", text }] }
            },
            { stream: "assistant", data: { text, delta } }
          )
        }
      } catch (e) {
        error = e instanceof AgentError ? e.message : `the agent provider failed: ${String(e)}`
      }
      const status: RunStatus = signal.aborted ? "aborted" : error !== undefined ? "error" : "ok"
      let saved: SessionMessage | undefined
      if (status === "ok" || text.length > 0) {
        const write = sessions.append({
          sessionKey,
          role: "assistant",
          text,
          source: "agent",
          runId,
          ...(status === "aborted" ? { aborted: true } : {}),
          ...(error === undefined ? {} : { error })
        })
        const exit = await Runtime.runPromiseExit(caller)(write)
        if (exit._tag === "Success") saved = exit.value
        else if (status === "ok") error = `the reply could not be saved: ${exit.cause.toString()}`
      }
      const finalStatus: RunStatus = status === "ok" && saved === undefined ? "error" : status
      const result: RunResult = {
        runId,
        sessionKey,
        status: finalStatus,
        text,
        provider: provider.kind,
        startedAt,
        endedAt: now(),
        ...(error === undefined ? {} : { error }),
        ...(saved === undefined ? {} : { messageId: saved.id })
      }
      const message = {
        role: "assistant",
        content: [{ type: "text", text }],
        text,
        timestamp: result.endedAt,
        ...(saved ? { id: saved.id } : {})
      }
      if (finalStatus === "ok") emit({ state: "final", message }, { stream: "lifecycle", data: { phase: "end", text } })
      else if (finalStatus === "aborted")
        emit({ state: "aborted", message }, { stream: "lifecycle", data: { phase: "aborted", text } })
      else
        emit(
          { state: "error", errorMessage: error, ...(text ? { message } : {}) },
          { stream: "lifecycle", data: { phase: "error", error } }
        )
      if (error !== undefined)
        Runtime.runSync(caller)(Effect.logWarning(`agent run ${runId} (session ${sessionKey}) failed: ${error}`))
      return result
    }

    const start: AgentRuntimeService["start"] = (input, onAccepted) =>
      Effect.gen(function* () {
        // A caller-chosen run id (chat.send's idempotencyKey, as OpenClaw's clients expect) unless it is taken.
        const runId = input.runId !== undefined && !runs.has(input.runId) ? input.runId : randomUUID()
        const userMessage = yield* sessions.append({
          sessionKey: input.sessionKey,
          role: "user",
          text: input.message,
          source: input.source,
          runId
        })
        const controller = new AbortController()
        const caller = yield* Effect.runtime<never>()
        const clock = yield* Effect.clock
        const now = () => clock.unsafeCurrentTimeMillis()
        let resolveDone!: (r: RunResult) => void
        const run: Run = {
          runId,
          sessionKey: input.sessionKey,
          controller,
          done: new Promise<RunResult>((r) => (resolveDone = r)),
          result: undefined
        }
        runs.set(runId, run)
        onAccepted?.(runId)
        const startedAt = now()
        // A bug in a run must not become an unhandled rejection (the process would end) or leave
        // callers waiting on `done` for ever: it ends the run with an error, logged with its stack.
        void execute(run, controller.signal, caller, now)
          .catch((e: unknown): RunResult => {
            Runtime.runSync(caller)(
              Effect.logWarning(
                `agent run ${runId} failed unexpectedly: ${e instanceof Error ? (e.stack ?? e.message) : typeof e}`
              )
            )
            // Nothing of the provider is read here: it may be what failed.
            return {
              runId,
              sessionKey: input.sessionKey,
              status: "error",
              text: "",
              provider: "unknown",
              startedAt,
              endedAt: now(),
              error: "internal error in the agent run"
            }
          })
          .then((result) => {
            run.result = result
            resolveDone(result)
            forgetLater(Effect.andThen(Effect.sleep(KEEP_FINISHED_MS), () => runs.delete(runId)))
          })
        return { runId, sessionKey: input.sessionKey, userMessage, done: run.done }
      })

    const activeRuns = (sessionKey?: string) =>
      [...runs.values()]
        .filter((r) => r.result === undefined && (sessionKey === undefined || r.sessionKey === sessionKey))
        .map((r) => r.runId)

    const abort = (sessionKey: string, runId?: string) => {
      const ids = activeRuns(sessionKey).filter((id) => runId === undefined || id === runId)
      for (const id of ids) runs.get(id)!.controller.abort()
      return ids
    }

    // Release: stop every run and let it record what it had (at most 2 s), before the Gateway closes sockets.
    yield* Effect.addFinalizer(() => {
      const running = [...runs.values()].filter((r) => r.result === undefined)
      for (const r of running) r.controller.abort()
      return running.length === 0
        ? Effect.void
        : Effect.promise(() => Promise.all(running.map((r) => r.done))).pipe(Effect.timeoutOption("2 seconds"))
    })

    const service: AgentRuntimeService = {
      provider,
      start,
      run: (runId) => {
        const r = runs.get(runId)
        return r === undefined ? undefined : { done: r.done, result: r.result }
      },
      abort,
      activeRuns
    }
    yield* gateway.addStatusSection("agent", () => ({
      provider: provider.kind,
      label: provider.label,
      ...(provider.model === undefined ? {} : { model: provider.model }),
      activeRuns: activeRuns().length,
      sessions: sessions.list().length,
      persistence: sessions.dir === undefined ? "memory" : "jsonl"
    }))
    return service
  })

export class AgentRuntime extends Context.Tag("openclaw/AgentRuntime")<AgentRuntime, AgentRuntimeService>() {
  /** The provider of agent.provider; needs Gateway, Sessions and GatewayConfig (its methods: AgentMethods, SessionMethods). */
  static layer = Layer.scoped(
    AgentRuntime,
    Effect.flatMap(GatewayConfig, (settings) => make(providerFor(settings.agent.provider)))
  )

  /** A given provider (tests, embedders with their own model client). */
  static layerWith = (provider: Provider) => Layer.scoped(AgentRuntime, make(provider))
}
