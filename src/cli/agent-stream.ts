/**
 * The agent's reply as `gateway agent` streams it, in bounded memory whatever the Gateway sends:
 * deltas are written as they arrive and only counted and hashed (to tell at the end whether the
 * final text continues what was printed), the chat events that come before the run is accepted
 * wait in a small queue, and a reply that never ends is stopped at a cap.
 */
import { createHash, type Hash } from "node:crypto"

/** Chat events kept while the run's id is not known yet: its first deltas, or another run's. */
export const EARLY_EVENTS_MAX = 256
export const EARLY_CHARS_MAX = 1024 * 1024
/**
 * Longer than this, a reply is not one: the final answer (one frame) could not carry it, so the
 * stream is stopped and the run aborted.
 */
export const REPLY_MAX_CHARS = 8 * 1024 * 1024

export interface ChatDelta {
  readonly runId: string
  readonly delta: string
}

/** A chat event's delta, or undefined for anything else. */
export const chatDelta = (payload: unknown): ChatDelta | undefined => {
  const p = payload as { runId?: unknown; state?: unknown; delta?: unknown } | undefined
  return typeof p?.runId === "string" && p.state === "delta" && typeof p.delta === "string"
    ? { runId: p.runId, delta: p.delta }
    : undefined
}

export class ReplyStream {
  private runId: string | undefined
  private early: Array<ChatDelta> | "overflowed" = []
  private earlyChars = 0
  private streamedChars = 0
  private printedChars = 0
  private readonly printed: Hash = createHash("sha256")
  /** Its first deltas were dropped with the early queue: nothing is printed before the final text. */
  private quiet = false
  private stopped = false

  constructor(
    private readonly write: (text: string) => void,
    /** Called once when the reply passes REPLY_MAX_CHARS. */
    private readonly onTooLong: (chars: number) => void
  ) {}

  /** A chat delta from the Gateway (any run's). */
  delta(d: ChatDelta): void {
    if (this.stopped) return
    if (this.runId === undefined) return this.hold(d)
    if (d.runId !== this.runId) return
    this.streamedChars += d.delta.length
    if (this.streamedChars > REPLY_MAX_CHARS) {
      this.stopped = true
      return this.onTooLong(REPLY_MAX_CHARS)
    }
    if (this.quiet) return
    this.printedChars += d.delta.length
    this.printed.update(d.delta)
    this.write(d.delta)
  }

  /** The first accepted answer names the run; a second one cannot rename it. */
  accepted(runId: string | undefined): void {
    if (this.runId !== undefined || runId === undefined) return
    this.runId = runId
    const held = this.early
    this.early = []
    if (held === "overflowed") this.quiet = true
    else for (const d of held) this.delta(d)
  }

  /**
   * The part of the final text not printed yet. If a delta was missed, what was printed is not a
   * prefix of the final text: the whole text is printed again on its own line.
   */
  rest(finalText: string): string {
    if (this.printedChars === 0 || finalText.length === 0) return finalText
    const prefix = finalText.slice(0, this.printedChars)
    if (
      finalText.length >= this.printedChars &&
      createHash("sha256").update(prefix).digest("hex") === this.printed.copy().digest("hex")
    )
      return finalText.slice(this.printedChars)
    return `\n${finalText}`
  }

  get wroteAnything(): boolean {
    return this.printedChars > 0
  }

  /** Past the queue's bounds early events are dropped, and the final text is printed instead. */
  private hold(d: ChatDelta): void {
    if (this.early === "overflowed") return
    this.earlyChars += d.delta.length
    if (this.early.length >= EARLY_EVENTS_MAX || this.earlyChars > EARLY_CHARS_MAX) this.early = "overflowed"
    else this.early.push(d)
  }
}
