/**
 * The pre-auth pool: sockets that have not authenticated yet, capped per address and in total,
 * so a flood of idle connections cannot exhaust file descriptors (security.md section 8).
 *
 * Fair admission: a full pool evicts rather than refuses. Behind an SSH tunnel or Tailscale Serve
 * every client arrives from 127.0.0.1, so refusing newcomers would lock the owner out; instead
 * the pool drops first a socket nothing more will come of (its connect refused, its handshake
 * timed out, closing), then the one that has gone longest without progress (accepted, first
 * bytes, TLS done, request head, WebSocket open, connect frame: each step counts). No socket is
 * exempt, so no client can pin descriptors, and a socket just accepted in a burst is not judged
 * before its bytes are read; a client that completes its handshake promptly always gets in.
 *
 * Eviction spares sockets younger than graceMs, so a client accepted in the same burst as a flood
 * has its first bytes read before it is judged, and it goes in small steps (evictPerStep every
 * stepMs): a flood that reconnects whatever is closed then arrives as a trickle, not in waves that
 * queue a real client's connect behind thousands of others in the kernel's accept queue.
 *
 * The caps come from the open-file limit read at start (pendingLimitsFor): the pool holds at most
 * half of the descriptors, so the owner's connect, /healthz and the Gateway's own files always
 * find one.
 */

/** Assumed where the limit cannot be read (macOS's default soft limit). */
const DEFAULT_FD_LIMIT = 256

export interface PendingLimits {
  readonly perAddress: number
  /** Over this many, the oldest least-advanced sockets go in steps, sparing young ones. */
  readonly total: number
  /** At this many, the oldest least-advanced socket goes at once, young or not (file descriptors). */
  readonly hardTotal: number
  /** How long a new socket is spared. */
  readonly graceMs: number
  readonly stepMs: number
  readonly evictPerStep: number
}

/**
 * The pool's caps for an open-file soft limit (undefined: unknown): at most half of it (4096 at
 * most); young sockets are trimmed down to half of that again, and never above 512.
 */
export const pendingLimitsFor = (fdLimit: number | undefined): PendingLimits => {
  const hardTotal = Math.max(32, Math.min(4096, Math.floor((fdLimit ?? DEFAULT_FD_LIMIT) / 2)))
  const total = Math.min(512, Math.floor(hardTotal / 2))
  return { perAddress: Math.min(64, total), total, hardTotal, graceMs: 1_000, stepMs: 20, evictPerStep: 64 }
}

/** What `lastProgress` says of a socket nothing more will come of: it goes before any other. */
export const SPENT = -Infinity

interface Entry {
  readonly address: string
  readonly at: number
}

export class PendingPool<T> {
  private readonly entries = new Map<T, Entry>()
  private readonly byAddress = new Map<string, Set<T>>()
  private timer: NodeJS.Timeout | undefined

  constructor(
    /** When the socket last moved a step on (ms), or SPENT: the lowest is evicted first. */
    private readonly lastProgress: (item: T) => number,
    /** Drops the socket; the pool has already forgotten it. */
    private readonly evict: (item: T) => void,
    private readonly limits: PendingLimits,
    private readonly now: () => number = Date.now
  ) {}

  /** Counts the socket in; over a cap, schedules eviction of others (never refuses it). */
  admit(item: T, address: string): void {
    if (this.entries.size >= this.limits.hardTotal) {
      const victim = this.victim(this.entries.keys(), Infinity)
      if (victim !== undefined) this.drop(victim)
    }
    const at = this.now()
    this.entries.set(item, { address, at })
    let set = this.byAddress.get(address)
    if (set === undefined) this.byAddress.set(address, (set = new Set()))
    set.add(item)
    if (set.size > this.limits.perAddress || this.entries.size > this.limits.total) this.scheduleTrim()
  }

  release(item: T): void {
    const entry = this.entries.get(item)
    if (entry === undefined) return
    this.entries.delete(item)
    const set = this.byAddress.get(entry.address)!
    set.delete(item)
    if (set.size === 0) this.byAddress.delete(entry.address)
  }

  has(item: T): boolean {
    return this.entries.has(item)
  }

  get size(): number {
    return this.entries.size
  }

  sizeOf(address: string): number {
    return this.byAddress.get(address)?.size ?? 0
  }

  /** Stops the trim timer (shutdown). */
  close(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private scheduleTrim(): void {
    if (this.timer !== undefined) return
    this.timer = setTimeout(() => this.trim(), this.limits.stepMs)
    this.timer.unref()
  }

  /** One step towards every cap holding, sparing young sockets; schedules the next while any cap is passed. */
  trim(): void {
    this.timer = undefined
    const bornBefore = this.now() - this.limits.graceMs
    let budget = this.limits.evictPerStep
    for (const set of [...this.byAddress.values()]) {
      while (set.size > this.limits.perAddress && budget > 0) {
        const victim = this.victim(set.values(), bornBefore)
        if (victim === undefined) break
        this.drop(victim)
        budget--
      }
    }
    while (this.entries.size > this.limits.total && budget > 0) {
      const victim = this.victim(this.entries.keys(), bornBefore)
      if (victim === undefined) break
      this.drop(victim)
      budget--
    }
    if (
      this.entries.size > this.limits.total ||
      [...this.byAddress.values()].some((set) => set.size > this.limits.perAddress)
    )
      this.scheduleTrim()
  }

  /** Among sockets admitted before `bornBefore`: a spent one, else the one longest without progress. */
  private victim(items: Iterable<T>, bornBefore: number): T | undefined {
    let best: T | undefined
    let bestProgress = Infinity
    for (const item of items) {
      // Admission order: everything after the first young socket is younger still.
      if (this.entries.get(item)!.at > bornBefore) break
      const p = this.lastProgress(item)
      if (p < bestProgress) {
        best = item
        bestProgress = p
        if (p === SPENT) break
      }
    }
    return best
  }

  private drop(item: T): void {
    this.release(item)
    this.evict(item)
  }
}
