/**
 * LogBuffer: the Gateway's own recent log lines, kept in memory (bounded by count and bytes) so
 * that operators can read them over the wire with `logs.tail` (OpenClaw's `openclaw logs` and the
 * Control UI's Logs screen). Its layer adds a logger, so every Effect log line of the services built
 * above it lands here as well as wherever the program's own logger writes it.
 */
import { Context, Effect, Layer, Logger, type LogLevel } from "effect"

export interface LogLine {
  /** Position of the line: logs.tail's cursor is the next one to read. */
  readonly seq: number
  readonly time: number
  readonly level: string
  readonly message: string
}

export interface TailOptions {
  readonly cursor?: number
  readonly limit?: number
  readonly maxBytes?: number
}

export interface LogBufferService {
  readonly append: (level: string, message: string) => void
  /** Lines after `cursor` (all kept lines when absent), the newest `limit` of them within `maxBytes`. */
  readonly tail: (options: TailOptions) => {
    readonly lines: ReadonlyArray<LogLine>
    readonly cursor: number
    readonly truncated: boolean
    readonly reset: boolean
  }
}

export const MAX_LINES = 2_000
export const MAX_BYTES = 1024 * 1024
/** One line never keeps more than this. */
const MAX_LINE_CHARS = 4_000

/**
 * A log line is usually built by concatenation, which V8 keeps as a tree of pieces (about 250 bytes
 * more per line); converting it to a number makes V8 copy it into one flat string first.
 */
const flat = (s: string): string => {
  Number(s)
  return s
}

export const makeLogBuffer = (maxLines = MAX_LINES, maxBytes = MAX_BYTES): LogBufferService => {
  const lines: Array<LogLine> = []
  let bytes = 0
  let next = 1
  const append = (level: string, message: string) => {
    const text = flat(message.length > MAX_LINE_CHARS ? `${message.slice(0, MAX_LINE_CHARS)}…` : message)
    lines.push({ seq: next++, time: Date.now(), level, message: text })
    bytes += text.length
    while (lines.length > maxLines || bytes > maxBytes) bytes -= lines.shift()!.message.length
  }
  const tail: LogBufferService["tail"] = ({ cursor, limit = 200, maxBytes: wanted = 256 * 1024 }) => {
    const first = lines[0]?.seq ?? next
    // A cursor from before the oldest kept line (or from another Gateway process) starts over.
    const reset = cursor !== undefined && (cursor < first - 1 || cursor >= next)
    const from = cursor === undefined || reset ? 0 : lines.findIndex((l) => l.seq > cursor)
    const after = from < 0 ? [] : lines.slice(from)
    const picked: Array<LogLine> = []
    let used = 0
    for (let i = after.length - 1; i >= 0 && picked.length < limit; i--) {
      used += after[i]!.message.length + 64
      if (used > wanted && picked.length > 0) break
      picked.unshift(after[i]!)
    }
    return { lines: picked, cursor: next - 1, truncated: picked.length < after.length, reset }
  }
  return { append, tail }
}

const levelName = (level: LogLevel.LogLevel) => level.label

export class LogBuffer extends Context.Tag("openclaw/LogBuffer")<LogBuffer, LogBufferService>() {
  /** A fresh buffer, and a logger that feeds it for everything built on top of this layer. */
  static layer = Layer.unwrapEffect(
    Effect.sync(() => {
      const buffer = makeLogBuffer()
      const logger = Logger.make(({ logLevel, message }) => {
        buffer.append(levelName(logLevel), Array.isArray(message) ? message.map(String).join(" ") : String(message))
      })
      return Layer.merge(Layer.succeed(LogBuffer, buffer), Logger.add(logger))
    })
  )
}
