/**
 * The fuzzer's side of the wire: sockets that check every frame the Gateway sends is well-formed,
 * the run's budget and seed from the environment, and the record of recent inputs for a report.
 */
import WebSocket from "ws"
import { connectParams } from "../support/gateway.js"

/** FUZZ_SECONDS: the whole fuzzer's time budget (split between the stages); FUZZ_RUNS: a run count instead; FUZZ_SEED: replay. */
export const fuzzConfig = () => {
  const seconds = Number(process.env.FUZZ_SECONDS ?? 100)
  const runs = process.env.FUZZ_RUNS === undefined ? undefined : Number(process.env.FUZZ_RUNS)
  const seed =
    process.env.FUZZ_SEED === undefined
      ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
      : Number(process.env.FUZZ_SEED)
  return { seconds, runs, seed }
}

/** What is wrong with a frame from the Gateway, or undefined when it is well-formed (shared/protocol.md). */
export const frameProblem = (f: unknown): string | undefined => {
  if (typeof f !== "object" || f === null || Array.isArray(f)) return "not a JSON object"
  const o = f as Record<string, unknown>
  if (o.type === "event")
    return typeof o.event === "string" && (o.seq === undefined || Number.isInteger(o.seq))
      ? undefined
      : "event without a string event name"
  if (o.type !== "res") return `unknown frame type ${JSON.stringify(o.type)}`
  if (typeof o.id !== "string" || o.id.length === 0) return "res without an id"
  if (typeof o.ok !== "boolean") return "res without a boolean ok"
  if (o.ok) return o.error === undefined ? undefined : "ok res with an error"
  const e = o.error as Record<string, unknown> | undefined
  if (
    typeof e !== "object" ||
    e === null ||
    typeof e.code !== "string" ||
    e.code.length === 0 ||
    typeof e.message !== "string"
  )
    return "error res without error {code, message}"
  if (e.retryAfterMs !== undefined && typeof e.retryAfterMs !== "number") return "retryAfterMs is not a number"
  // The guard's answer to an unexpected exception: the process survived, but it is a bug all the same.
  if (/^internal error in /.test(e.message)) return `unexpected error in the Gateway: ${e.message}`
  return undefined
}

/** Close codes a Gateway may use (shared/protocol.md, and 1003/1007 from the WebSocket layer for binary or invalid UTF-8). */
export const CLOSE_CODES = new Set([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1012])

/** A raw socket that records every frame, and every problem with one, instead of throwing. */
export class FuzzSocket {
  readonly frames: Array<Record<string, any>> = []
  readonly problems: Array<string> = []
  closed: { code: number; reason: string } | undefined
  /** Hears every well-formed frame (a node answering invokes). */
  onFrame: ((frame: Record<string, any>) => void) | undefined
  private waiters: Array<() => void> = []

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      const text = data.toString()
      let frame: unknown
      try {
        frame = JSON.parse(text)
      } catch {
        this.problems.push(`${isBinary ? "binary" : "text"} frame that is not JSON: ${text.slice(0, 200)}`)
        return this.wake()
      }
      const problem = isBinary ? "a binary frame" : frameProblem(frame)
      if (problem !== undefined) this.problems.push(`${problem}: ${text.slice(0, 300)}`)
      // Kept even with a problem (an "internal error" answer is still the answer awaited).
      if (typeof frame === "object" && frame !== null) {
        this.frames.push(frame as Record<string, any>)
        this.onFrame?.(frame as Record<string, any>)
      }
      this.wake()
    })
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() }
      if (!CLOSE_CODES.has(code)) this.problems.push(`closed with code ${code} (${reason.toString()})`)
      this.wake()
    })
    ws.on("error", () => {})
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<FuzzSocket> {
    const socket = new FuzzSocket(new WebSocket(url, { maxPayload: 64 * 1024 * 1024, headers }))
    return new Promise((resolve, reject) => {
      socket.ws.once("open", () => resolve(socket))
      socket.ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
      socket.ws.once("error", reject)
    })
  }

  /** Adopts a socket something else opened (its other message listeners are removed). */
  static adopt(ws: WebSocket): FuzzSocket {
    ws.removeAllListeners("message")
    return new FuzzSocket(ws)
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN
  }

  private wake() {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  /** Resolves with `predicate`'s value once it holds, or undefined after timeoutMs (never throws). */
  waitFor<T>(predicate: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs)
      const check = () => {
        const v = predicate()
        if (v !== undefined) {
          clearTimeout(timer)
          resolve(v)
        } else this.waiters.push(check)
      }
      check()
    })
  }

  response(id: string, timeoutMs: number) {
    return this.waitFor(() => this.frames.find((f) => f.type === "res" && f.id === id), timeoutMs)
  }

  send(message: string | { bytes: Uint8Array; binary: boolean }) {
    if (!this.open) return
    if (typeof message === "string") this.ws.send(message)
    else this.ws.send(message.bytes, { binary: message.binary })
  }

  /** Forgets frames already checked, so a long-lived socket does not grow. */
  drain() {
    this.frames.length = 0
  }

  close() {
    this.ws.terminate()
  }
}

/** An authenticated operator with every scope. */
export const fuzzOperator = async (url: string): Promise<FuzzSocket> => {
  const s = await FuzzSocket.open(url)
  s.send(
    JSON.stringify({
      type: "req",
      id: "connect",
      method: "connect",
      params: connectParams({ scopes: ["operator.admin"] })
    })
  )
  const res = await s.response("connect", 10_000)
  if (res?.ok !== true) throw new Error(`operator connect failed: ${JSON.stringify(res ?? s.problems)}`)
  return s
}

/** Replaces the placeholders of methods.ts ("$nodeId", ...) with live values, anywhere in a text. */
export const fillPlaceholders = (text: string, values: Readonly<Record<string, string>>): string =>
  text.replace(/"\$(nodeId|runId|requestId|invokeId)"/g, (whole, name: string) =>
    values[name] === undefined ? whole : JSON.stringify(values[name])
  )

/** The last few inputs, for the failure report (a crash may come from an earlier input's after-effects). */
export class RecentInputs {
  private readonly items: Array<string> = []
  add(label: string, text: string) {
    this.items.push(`${label}: ${text.length > 600 ? `${text.slice(0, 600)}... (${text.length} chars)` : text}`)
    if (this.items.length > 6) this.items.shift()
  }
  toString() {
    return this.items.join("\n")
  }
}
