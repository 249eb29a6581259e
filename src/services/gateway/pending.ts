/**
 * The pre-auth pool: sockets that have not authenticated yet, capped per address and in total,
 * so a flood of idle connections cannot exhaust file descriptors (security.md section 8).
 *
 * Fair admission: a full pool evicts rather than refuses. Behind an SSH tunnel or Tailscale Serve
 * every client arrives from 127.0.0.1, so refusing newcomers would lock the owner out; instead
 * the pool drops the oldest socket that has made the least progress (silent, then sent bytes,
 * then WebSocket open) and never one that has sent its connect frame. A client that completes
 * its handshake promptly therefore always gets in, whatever the flood.
 *
 * Eviction spares sockets younger than graceMs, so a client accepted in the same burst as a flood
 * has its first bytes read before it is judged, and it goes in small steps (evictPerStep every
 * stepMs): a flood that reconnects whatever is closed then arrives as a trickle, not in waves that
 * queue a real client's connect behind thousands of others in the kernel's accept queue.
 */
import * as fs from "node:fs"

/** The soft limit on open files (Linux /proc/self/limits), or undefined where it cannot be read. */
const openFileLimit = (): number | undefined => {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync("/proc/self/limits", "utf8"))
    return m === null ? undefined : Number(m[1])
  } catch {
    return undefined
  }
}

/** Young silent sockets may fill at most half the file descriptors (the rest: clients, files, children). */
const hardTotalFor = (fdLimit: number | undefined) => Math.max(64, Math.min(4096, Math.floor((fdLimit ?? 8192) / 2)))

export const PENDING_LIMITS = {
  perAddress: 64,
  total: 512,
  /** Past this many, the oldest least-advanced socket goes at once, young or not (file descriptors). */
  hardTotal: hardTotalFor(openFileLimit()),
  /** How long a new socket is spared. */
  graceMs: 1_000,
  stepMs: 20,
  evictPerStep: 64
} as const

export type PendingLimits = { readonly [K in keyof typeof PENDING_LIMITS]: number }

/** How far a socket has come: lower is evicted first; NEVER_EVICT once its connect frame arrived. */
export const NEVER_EVICT = 3

interface Entry {
  readonly address: string
  readonly at: number
}

export class PendingPool<T> {
  private readonly entries = new Map<T, Entry>()
  private readonly byAddress = new Map<string, Set<T>>()
  private timer: NodeJS.Timeout | undefined

  constructor(
    /** 0 silent, 1 sent bytes, 2 WebSocket open, NEVER_EVICT connect sent. */
    private readonly progress: (item: T) => number,
    /** Drops the socket; the pool has already forgotten it. */
    private readonly evict: (item: T) => void,
    private readonly limits: PendingLimits = PENDING_LIMITS,
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

  /** The oldest of the least advanced sockets admitted before `bornBefore`, never one past its connect. */
  private victim(items: Iterable<T>, bornBefore: number): T | undefined {
    let best: T | undefined
    let bestProgress = NEVER_EVICT
    for (const item of items) {
      // Admission order: everything after the first young socket is younger still.
      if (this.entries.get(item)!.at > bornBefore) break
      const p = this.progress(item)
      if (p < bestProgress) {
        best = item
        bestProgress = p
        if (p === 0) break
      }
    }
    return best
  }

  private drop(item: T): void {
    this.release(item)
    this.evict(item)
  }
}
