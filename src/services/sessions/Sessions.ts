/**
 * Sessions: conversation transcripts keyed by sessionKey, persisted as append-only JSONL under
 * `<stateDir>/sessions/` (one file per session). Every append is written and fsync'ed before it
 * resolves, so an answer that was acknowledged survives a crash or restart. On start the files
 * are read back; a torn last line (a write cut short) is skipped with a warning, never a crash.
 * A stateDir that is not an absolute path (the in-memory test settings) keeps sessions in memory.
 */
import { createHash, randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Clock, Context, Data, Effect, Either, Layer, Schema } from "effect"
import { openPrivateAppend, readPrivateText, UnsafeStateFile } from "../../platform/private-file.js"
import { decodeStateText } from "../../platform/state-json.js"
import { GatewayConfig } from "../config/GatewayConfig.js"

export type MessageRole = "user" | "assistant"
export type MessageSource = "chat" | "agent" | "send"

export interface SessionMessage {
  readonly id: string
  readonly sessionKey: string
  readonly role: MessageRole
  readonly text: string
  readonly ts: number
  readonly source: MessageSource
  readonly runId?: string
  /** The run was aborted; `text` is what had streamed so far. */
  readonly aborted?: boolean
  /** The run failed; `text` is what had streamed so far. */
  readonly error?: string
}

export interface SessionSummary {
  readonly key: string
  readonly messageCount: number
  readonly createdAt: number
  readonly updatedAt: number
  readonly lastMessage?: { readonly role: MessageRole; readonly text: string; readonly ts: number }
}

export class SessionWriteError extends Data.TaggedError("SessionWriteError")<{ readonly message: string }> {}

export interface SessionsService {
  /** Where transcripts live, or undefined when they are kept in memory only. */
  readonly dir: string | undefined
  /** Appends a message; resolves only after it is on disk. */
  readonly append: (
    message: Omit<SessionMessage, "id" | "ts"> & { readonly id?: string }
  ) => Effect.Effect<SessionMessage, SessionWriteError>
  readonly history: (sessionKey: string, limit?: number) => ReadonlyArray<SessionMessage>
  readonly list: () => ReadonlyArray<SessionSummary>
  /** Hears every message once it is stored; returns the function that stops listening. */
  readonly onAppend: (listener: (message: SessionMessage) => void) => () => void
}

// The rules are the wire's (session keys arrive in method params): src/protocol/params.ts.
export { invalidSessionKey, MAX_SESSION_KEY_LENGTH } from "../../protocol/params.js"

/** Longest percent-encoded key used as a file name as it is (file names stop at 255 bytes). */
const MAX_PLAIN_NAME = 200

/**
 * The session's file: its key percent-encoded, or for a key whose encoding is too long for a file
 * name (200 non-ASCII characters encode to 1800 bytes) a readable prefix and a hash of the key,
 * joined by a "." (which never appears in an encoded key, so the two kinds of name never meet).
 */
const fileFor = (dir: string, key: string) => {
  const encoded = encodeURIComponent(key).replace(/\./g, "%2E")
  const name =
    encoded.length <= MAX_PLAIN_NAME
      ? encoded
      : `${encoded.slice(0, 120)}.${createHash("sha256").update(key).digest("hex").slice(0, 32)}`
  return path.join(dir, `${name}.jsonl`)
}

/** A key from a file name, for a file that holds no message (its key is in every message). */
const keyOfFile = (name: string): string => {
  try {
    return decodeURIComponent(name.slice(0, -".jsonl".length))
  } catch {
    return name.slice(0, -".jsonl".length)
  }
}

/** A line of a transcript; fields a newer version added are ignored. */
export const SessionMessageJson = Schema.Struct({
  id: Schema.String,
  sessionKey: Schema.String,
  role: Schema.Literal("user", "assistant"),
  text: Schema.String,
  ts: Schema.Number,
  source: Schema.Literal("chat", "agent", "send"),
  runId: Schema.optional(Schema.String),
  aborted: Schema.optional(Schema.Boolean),
  error: Schema.optional(Schema.String)
})
const decodeMessage: (line: string) => Either.Either<SessionMessage, string> = (line) =>
  decodeStateText(SessionMessageJson, line)

interface LoadedFile {
  readonly messages: Array<SessionMessage>
  readonly warnings: Array<string>
  /** The file does not end with a newline (a torn tail): the next append starts a fresh line. */
  readonly needsNewline: boolean
}

/** Reads one transcript; bad lines are skipped and reported, a torn last line specially. */
export const readTranscript = (file: string): LoadedFile => {
  const text = readPrivateText(file) ?? ""
  const lines = text.split("\n")
  const messages: Array<SessionMessage> = []
  const warnings: Array<string> = []
  lines.forEach((line, i) => {
    if (line.trim().length === 0) return
    const last = i === lines.length - 1
    const message = decodeMessage(line)
    if (Either.isRight(message)) return void messages.push(message.right)
    warnings.push(
      last
        ? `${file}: skipped a torn last line (${Buffer.byteLength(line)} bytes, a write that was cut short); the ${messages.length} message(s) before it are kept`
        : `${file}: skipped line ${i + 1}, which is not a session message (${message.left}); the other lines are kept (remove that line while the Gateway is stopped to silence this)`
    )
  })
  return { messages, warnings, needsNewline: text.length > 0 && !text.endsWith("\n") }
}

const appendDurably = async (file: string, line: string): Promise<void> => {
  // Never through a symlink planted at the session's name (see platform/private-file.ts).
  const handle = await openPrivateAppend(file)
  try {
    await handle.write(line)
    await handle.datasync()
  } finally {
    await handle.close()
  }
}

export const make = Effect.gen(function* () {
  const settings = yield* GatewayConfig
  const dir = path.isAbsolute(settings.stateDir) ? path.join(settings.stateDir, "sessions") : undefined
  const sessions = new Map<string, Array<SessionMessage>>()
  const torn = new Set<string>()
  /** Appends to one file are chained so lines land in the order they were made. */
  const queues = new Map<string, Promise<void>>()
  const appendListeners = new Set<(message: SessionMessage) => void>()

  if (dir !== undefined && fs.existsSync(dir)) {
    for (const name of fs
      .readdirSync(dir)
      .filter((n) => n.endsWith(".jsonl"))
      .sort()) {
      const file = path.join(dir, name)
      let loaded: LoadedFile
      try {
        loaded = readTranscript(file)
      } catch (e) {
        const why = e instanceof UnsafeStateFile ? e.message : ((e as NodeJS.ErrnoException).code ?? String(e))
        yield* Effect.logWarning(`cannot read session file ${file}: ${why}; that session starts empty`)
        continue
      }
      for (const w of loaded.warnings) yield* Effect.logWarning(w)
      if (loaded.needsNewline) torn.add(file)
      const key = loaded.messages[0]?.sessionKey ?? keyOfFile(name)
      sessions.set(key, loaded.messages)
    }
  }

  const append: SessionsService["append"] = (input) =>
    Effect.gen(function* () {
      const message: SessionMessage = { ...input, id: input.id ?? randomUUID(), ts: yield* Clock.currentTimeMillis }
      if (dir !== undefined) {
        const file = fileFor(dir, message.sessionKey)
        const line = `${torn.delete(file) ? "\n" : ""}${JSON.stringify(message)}\n`
        const previous = queues.get(file) ?? Promise.resolve()
        const write = previous.then(async () => {
          await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 })
          await appendDurably(file, line)
        })
        const settled = write.catch(() => {})
        queues.set(file, settled)
        void settled.then(() => queues.get(file) === settled && queues.delete(file))
        yield* Effect.tryPromise({
          try: () => write,
          catch: (e) =>
            new SessionWriteError({
              message:
                e instanceof UnsafeStateFile
                  ? `cannot write session file: ${e.message}`
                  : `cannot write session file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)} (check that the state directory ${settings.stateDir} is writable, or set OPENCLAW_STATE_DIR)`
            })
        }).pipe(Effect.tapError((e) => Effect.logError(e.message)))
      }
      const list = sessions.get(message.sessionKey)
      if (list === undefined) sessions.set(message.sessionKey, [message])
      else list.push(message)
      for (const l of appendListeners) l(message)
      return message
    })

  const history = (sessionKey: string, limit?: number) => {
    const all = sessions.get(sessionKey) ?? []
    return limit === undefined || limit >= all.length ? [...all] : all.slice(all.length - limit)
  }

  const list = (): Array<SessionSummary> =>
    [...sessions]
      .map(([key, messages]) => {
        const last = messages[messages.length - 1]
        return {
          key,
          messageCount: messages.length,
          createdAt: messages[0]?.ts ?? 0,
          updatedAt: last?.ts ?? 0,
          ...(last === undefined
            ? {}
            : { lastMessage: { role: last.role, text: last.text.slice(0, 160), ts: last.ts } })
        }
      })
      .sort((a, b) => b.updatedAt - a.updatedAt)

  const onAppend = (listener: (message: SessionMessage) => void) => {
    appendListeners.add(listener)
    return () => void appendListeners.delete(listener)
  }

  return { dir, append, history, list, onAppend } satisfies SessionsService
})

export class Sessions extends Context.Tag("openclaw/Sessions")<Sessions, SessionsService>() {
  /** Needs GatewayConfig (stateDir). */
  static layer = Layer.effect(Sessions, make)
}
