/**
 * The agent's model providers: `echo` (built in, offline and deterministic: the default) and
 * `openai` (any OpenAI-compatible chat-completions endpoint with SSE streaming: OpenAI, Ollama,
 * llama.cpp server, vLLM). A provider is a boundary: an async stream of text for a conversation,
 * ended by its AbortSignal. The API key is read from the environment variable named by
 * agent.provider.apiKeyEnv when a run starts; it is never stored, logged or sent to clients.
 */
import { Data, Redacted } from "effect"
import type { AgentProviderSettings } from "../../config/settings.js"
import { abortableSleep as sleep } from "../../platform/sleep.js"

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

/**
 * The built-in provider: replies "Echo: <your message>" in a few deltas, offline. Its pause
 * between deltas is its own pacing, like a model's network, so it is a timer, not the Clock.
 */
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
  /** Where apiKeyEnv is looked up when the settings carry no apiKey; none by default. */
  env: Readonly<Record<string, string | undefined>> = {}
): Provider => ({
  kind: "openai",
  label: `openai-compatible ${settings.model} at ${settings.baseUrl}`,
  model: settings.model,
  stream: async function* (turns, signal) {
    const key =
      settings.apiKey !== undefined
        ? Redacted.value(settings.apiKey)
        : settings.apiKeyEnv === undefined
          ? undefined
          : env[settings.apiKeyEnv]
    if (settings.apiKeyEnv !== undefined && (key === undefined || key.trim() === "")) {
      throw new AgentError({
        message: `agent.provider.apiKeyEnv names ${settings.apiKeyEnv}, but that environment variable is not set for the Gateway; set it where the Gateway runs and restart it (a config built in code sees only the env passed to GatewayConfig.layerConfig)`
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
