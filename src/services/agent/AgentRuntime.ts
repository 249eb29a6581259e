/**
 * AgentRuntime: runs the agent for a session with a pluggable provider and streams its reply as
 * `agent` and `chat` events. Providers: `echo` (built in, offline and deterministic: the default)
 * and `openai` (any OpenAI-compatible chat-completions endpoint with SSE streaming: OpenAI,
 * Ollama, llama.cpp server, vLLM). The API key is read from the environment variable named by
 * agent.provider.apiKeyEnv when a run starts; it is never stored, logged or sent to clients.
 *
 * The user's message is on disk before a run is acknowledged; the reply is on disk before the
 * final event and the final response go out.
 */
import { randomUUID } from "node:crypto"
import { Context, Data, Effect, Layer, Runtime } from "effect"
import type { AgentProviderSettings } from "../../config/settings.js"
import { abortableSleep as sleep } from "../../platform/sleep.js"
import { Gateway } from "../gateway/Gateway.js"
import { GatewayConfig } from "../config/GatewayConfig.js"
import { type MessageSource, type SessionMessage, Sessions, type SessionWriteError } from "../sessions/Sessions.js"

/** Why a provider could not produce a reply; the message says what to check. */
export class AgentError extends Data.TaggedError("AgentError")<{ readonly message: string }> {}

export interface ChatTurn {
  readonly role: "user" | "assistant"
  readonly content: string
}

export interface Provider {
  readonly kind: string
  /** What status and the UI show, e.g. "echo (built-in offline test provider)". */
  readonly label: string
  readonly model?: string
  /** Streams the reply to the conversation (last turn is the new user message) in chunks. */
  readonly stream: (turns: ReadonlyArray<ChatTurn>, signal: AbortSignal) => AsyncIterable<string>
}

/** Splits text into `parts` pieces at spaces (deterministic), keeping every character. */
export const splitIntoChunks = (text: string, parts: number): Array<string> => {
  const words = text.split(/(?<= )/)
  const per = Math.max(1, Math.ceil(words.length / parts))
  const chunks: Array<string> = []
  for (let i = 0; i < words.length; i += per) chunks.push(words.slice(i, i + per).join(""))
  return chunks
}

/** The built-in provider: replies "Echo: <your message>" in a few deltas, offline. */
export const echoProvider = (chunkDelayMs = 60): Provider => ({
  kind: "echo",
  label: "echo (built-in offline test provider: it repeats your message)",
  stream: async function* (turns, signal) {
    const last = turns[turns.length - 1]?.content ?? ""
    for (const chunk of splitIntoChunks(`Echo: ${last}`, 4)) {
      await sleep(chunkDelayMs, signal)
      if (signal.aborted) return
      yield chunk
    }
  }
})

const describeFetchError = (e: unknown): string => {
  const cause = (e as { cause?: NodeJS.ErrnoException }).cause
  return cause?.code ?? cause?.message ?? (e as Error).message ?? String(e)
}

/** An OpenAI-compatible `POST {baseUrl}/chat/completions` with `stream: true`, read as SSE. */
export const openaiProvider = (
  settings: Extract<AgentProviderSettings, { kind: "openai" }>,
  env: NodeJS.ProcessEnv = process.env
): Provider => ({
  kind: "openai",
  label: `openai-compatible ${settings.model} at ${settings.baseUrl}`,
  model: settings.model,
  stream: async function* (turns, signal) {
    const key = settings.apiKeyEnv === undefined ? undefined : env[settings.apiKeyEnv]
    if (settings.apiKeyEnv !== undefined && (key === undefined || key.trim() === "")) {
      throw new AgentError({
        message: `agent.provider.apiKeyEnv names ${settings.apiKeyEnv}, but that environment variable is not set for the Gateway; set it where the Gateway runs and restart it`
      })
    }
    const redact = (s: string) => (key ? s.split(key).join("***") : s)
    const url = `${settings.baseUrl}/chat/completions`
    let res: Response
    try {
      res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "text/event-stream",
          ...(key ? { authorization: `Bearer ${key}` } : {})
        },
        body: JSON.stringify({
          model: settings.model,
          stream: true,
          messages: turns.map((t) => ({ role: t.role, content: t.content }))
        }),
        signal
      })
    } catch (e) {
      if (signal.aborted) return
      throw new AgentError({
        message: `cannot reach the agent provider at ${url}: ${redact(describeFetchError(e))} (check agent.provider.baseUrl and that the server is running)`
      })
    }
    if (!res.ok) {
      const body = redact((await res.text().catch(() => "")).slice(0, 500))
      let detail = body
      try {
        detail = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? body
      } catch {
        // not JSON: keep the text
      }
      const hint =
        res.status === 401 || res.status === 403
          ? ` (check the API key in ${settings.apiKeyEnv ?? "the variable named by agent.provider.apiKeyEnv"})`
          : res.status === 404
            ? " (check agent.provider.baseUrl, which should end in /v1 for most servers, and agent.provider.model)"
            : ""
      throw new AgentError({
        message: `the agent provider answered HTTP ${res.status}${detail ? `: ${detail.trim()}` : ""}${hint}`
      })
    }
    if (res.body === null) throw new AgentError({ message: "the agent provider sent an empty response" })
    const decoder = new TextDecoder()
    let buffer = ""
    try {
      for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(bytes, { stream: true })
        let newline: number
        while ((newline = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, "")
          buffer = buffer.slice(newline + 1)
          if (!line.startsWith("data:")) continue
          const data = line.slice(5).trim()
          if (data === "[DONE]") return
          let json: { choices?: Array<{ delta?: { content?: unknown } }>; error?: { message?: string } }
          try {
            json = JSON.parse(data)
          } catch {
            continue
          }
          if (json.error !== undefined)
            throw new AgentError({
              message: `the agent provider reported an error: ${redact(json.error.message ?? "unknown")}`
            })
          const content = json.choices?.[0]?.delta?.content
          if (typeof content === "string" && content.length > 0) yield content
        }
      }
    } catch (e) {
      if (signal.aborted) return
      if (e instanceof AgentError) throw e
      throw new AgentError({ message: `the agent provider's stream broke off: ${redact(describeFetchError(e))}` })
    }
  }
})

export const providerFor = (settings: AgentProviderSettings): Provider =>
  settings.kind === "openai" ? openaiProvider(settings) : echoProvider()

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
const KEEP_FINISHED_MS = 10 * 60_000
/** The conversation sent to a provider: the last N turns. */
const MAX_TURNS = 50

export const make = (provider: Provider) =>
  Effect.gen(function* () {
    const gateway = yield* Gateway
    const sessions = yield* Sessions
    const effectRuntime = yield* Effect.runtime<never>()
    const runs = new Map<string, Run>()

    const execute = async (run: Run, signal: AbortSignal): Promise<RunResult> => {
      const { runId, sessionKey } = run
      const startedAt = Date.now()
      let seq = 0
      const emit = (chat: Record<string, unknown> | undefined, agent: Record<string, unknown>) => {
        seq += 1
        gateway.broadcast("agent", { runId, sessionKey, seq, ts: Date.now(), ...agent })
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
        const exit = await Effect.runPromiseExit(write)
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
        endedAt: Date.now(),
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
        Runtime.runSync(effectRuntime)(Effect.logWarning(`agent run ${runId} (session ${sessionKey}) failed: ${error}`))
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
        const startedAt = Date.now()
        // A bug in a run must not become an unhandled rejection (the process would end) or leave
        // callers waiting on `done` for ever: it ends the run with an error, logged with its stack.
        void execute(run, controller.signal)
          .catch((e: unknown): RunResult => {
            Runtime.runSync(effectRuntime)(
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
              endedAt: Date.now(),
              error: "internal error in the agent run"
            }
          })
          .then((result) => {
            run.result = result
            resolveDone(result)
            setTimeout(() => runs.delete(runId), KEEP_FINISHED_MS).unref()
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

    // Release: stop every run and let it record what it had, before the Gateway closes sockets.
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => {
        const running = [...runs.values()].filter((r) => r.result === undefined)
        for (const r of running) r.controller.abort()
        if (running.length === 0) return Promise.resolve()
        // At most 2 s; the timer must not keep an embedding program alive once the runs are done.
        let timer: ReturnType<typeof setTimeout> | undefined
        return Promise.race([
          Promise.all(running.map((r) => r.done)),
          new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))
        ]).finally(() => clearTimeout(timer))
      })
    )

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
